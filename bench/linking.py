"""Benchmark 1: link N proposals to their hub, budget district and legal dong.

Ours: :func:`geo.linking.link_geometries` with ``with_shares=False`` (the bulk
path: the seeding and the ``link`` CLI), on a gazetteer built once, as
``planning.geography.gazetteer`` keeps it.

Baseline: plain geopandas, as one would first write it. Proposals projected
to EPSG:5179 with ``to_crs``; ``sjoin_nearest`` to the hubs; ``sjoin`` with
the budget districts and with the legal dongs (``predicate="intersects"``),
keeping each proposal's first match in code order (``sjoin`` lists matches
in spatial-index order; ordering them by code gives the same tie rule as
ours, for the few points inside two overlapping NGII polygons). Reference layers are projected and
sorted by code once, outside the timing, like the gazetteer.

The baseline answers a simpler question for lines and polygons: *a* district
the shape touches, not the one it overlaps most (ours measures the length or
area inside every touched polygon). For points both questions are the same,
so the point results are checked equal (hub, district and legal dong). Points
in the hairline gaps between the NGII legal-dong polygons touch no legal dong:
the baseline leaves them unmatched, ours gives them the nearest dong; they
are counted apart and not compared. For lines and polygons the row reports
how often the two answers differ.

With ``scale.db == "postgis"`` each size also gets an ``ours vs PostGIS``
row (:mod:`bench.postgis_linking`): the same proposals loaded into a
throwaway PostGIS database and linked by one SQL query (KNN ``<->`` in a
``LATERAL`` join for the hub, ``ST_Intersects`` joins keeping the largest
overlap for district and legal dong), with the same rules as ours, so that every
geometry is checked equal. Loading is timed apart from the query. Without a
reachable server these rows carry no figures, ``check`` None and a note.
"""
from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from bench.database import DatabaseUnavailable, throwaway_database
from bench.generate import POINT, generate_geometries
from bench.postgis_linking import DISTANCE_TOL_M, PostgisLinker, ReferenceLayers, compare_postgis
from bench.rows import make_row
from bench.scales import Scale, get_scale
from bench.timing import best_of
from geo.boundaries import approximate_districts, legal_dongs
from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.linking import Gazetteer, build_gazetteer, link_geometries
from planning.centres import initial_centres


def reference_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Hubs (``code``, ``name``), approximate budget districts and legal dongs, EPSG:4326.

    The hubs are the shipped designation (``data/hubs.csv``), the districts the
    Voronoi cells used until official boundaries are imported: what a fresh
    install links to.
    """
    centres = initial_centres()
    hubs = centres[centres["is_hub"]][["code", "name", "geometry"]].reset_index(drop=True)
    return hubs, approximate_districts(), legal_dongs()


class GeopandasBaseline:
    """The plain-geopandas linker: reference layers projected and sorted by code once."""

    def __init__(self, hubs: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, legal: gpd.GeoDataFrame) -> None:
        self.hubs = hubs.sort_values("code").reset_index(drop=True)[["code", "geometry"]].to_crs(METRIC_CRS)
        d = districts.sort_values("adm_code").reset_index(drop=True)
        self.districts = d[["adm_code", "geometry"]].rename(columns={"adm_code": "district_code"}).to_crs(METRIC_CRS)
        lg = legal.sort_values("code").reset_index(drop=True)
        self.legal = lg[["code", "geometry"]].rename(columns={"code": "legal_dong_code"}).to_crs(METRIC_CRS)

    def link(self, geoms: np.ndarray) -> pd.DataFrame:
        """``hub_code``, ``hub_distance_m``, ``district_code``, ``legal_dong_code`` per geometry (NaN: no match).

        Also ``multiple_legal``: the geometry touched more than one legal dong.
        """
        gdf = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS)).to_crs(METRIC_CRS)
        hub = _first_match(gpd.sjoin_nearest(gdf, self.hubs, how="left", distance_col="hub_distance_m"), gdf.index)
        dist = _first_match(gpd.sjoin(gdf, self.districts, how="left", predicate="intersects"), gdf.index)
        joined = gpd.sjoin(gdf, self.legal, how="left", predicate="intersects")
        legal = _first_match(joined, gdf.index)
        return pd.DataFrame(
            {
                "hub_code": hub["code"].to_numpy(),
                "hub_distance_m": hub["hub_distance_m"].to_numpy(),
                "district_code": dist["district_code"].to_numpy(),
                "legal_dong_code": legal["legal_dong_code"].to_numpy(),
                "multiple_legal": np.bincount(joined.index.to_numpy(), minlength=len(gdf)) > 1,
            }
        )


def _first_match(joined: gpd.GeoDataFrame, index: pd.Index) -> gpd.GeoDataFrame:
    """One row per input geometry: its first match in code order (the right frames are sorted by code).

    ``sjoin`` lists a geometry's matches in spatial-index order, so "first" is
    made deterministic here, with the same tie rule as ours (smaller code).
    """
    right = joined["index_right"].to_numpy(dtype=float)
    order = np.lexsort((np.nan_to_num(right, nan=-1.0), joined.index.to_numpy()))
    joined = joined.iloc[order]
    return joined[~joined.index.duplicated(keep="first")].reindex(index)


def compare(ours: pd.DataFrame, base: pd.DataFrame, kinds: np.ndarray) -> dict[str, Any]:
    """Point results equal? And how often lines/polygons differ (the baseline's simpler question)."""
    pts = kinds == POINT
    matched = pts & base["district_code"].notna().to_numpy() & base["legal_dong_code"].notna().to_numpy()
    cols = ("hub_code", "district_code", "legal_dong_code")
    equal = np.ones(len(ours), dtype=bool)
    for c in cols:
        equal &= ours[c].to_numpy(dtype=object) == base[c].to_numpy(dtype=object)
    shapes = ~pts
    overlapping = pts & base["multiple_legal"].to_numpy()
    differ = {
        c: float(np.mean(ours[c].to_numpy(dtype=object)[shapes] != base[c].to_numpy(dtype=object)[shapes])) if shapes.any() else 0.0
        for c in cols
    }
    return {
        "points": int(pts.sum()),
        "points_compared": int(matched.sum()),
        "points_equal": int((equal & matched).sum()),
        "points_unmatched_by_baseline": int((pts & ~matched).sum()),
        "points_in_two_legal_dongs": int(overlapping.sum()),
        "lines_polygons": int(shapes.sum()),
        "lines_polygons_differ_share": differ,
        "points_ok": bool((equal | ~matched)[pts].all()),
    }


CASE = "50% points, 25% lines, 25% polygons"
POSTGIS_CASE = "vs PostGIS: KNN <-> LATERAL, ST_Intersects join"


def bench_linking(scale: str | Scale = "quick", gazetteer: Gazetteer | None = None) -> list[dict[str, Any]]:
    """Time our linker against the geopandas baseline (and PostGIS) for each of the scale's ``linking_sizes``.

    Returns one ``time_s`` row per size against geopandas (``check``: the
    point results agree), with the comparison details and the generation
    time in ``details``; with ``scale.db == "postgis"`` also one row per size
    against PostGIS (``check``: every geometry linked equally, ties apart;
    None when the server cannot be reached).
    """
    sc = get_scale(scale)
    hubs, districts, legal = reference_layers()
    built = best_of(lambda: gazetteer or build_gazetteer(hubs, districts, legal), repeats=1)
    gaz = built.result
    baseline = GeopandasBaseline(hubs, districts, legal)
    rows = []
    largest = max(sc.linking_sizes, default=0)
    gen = best_of(lambda: generate_geometries(largest), repeats=1)
    with ExitStack() as stack:
        linker, unavailable = None, None
        if sc.db == "postgis" and sc.linking_sizes:
            linker, unavailable = _open_postgis(stack, hubs, districts, legal)
        for n in sc.linking_sizes:
            geoms, kinds = gen.result.geoms[:n], gen.result.kinds[:n]  # a prefix of an i.i.d. sample is one too
            ours = best_of(lambda: link_geometries(geoms, gaz, with_shares=False), sc.repeats, sc.budget_s)
            base = best_of(lambda: baseline.link(geoms), sc.repeats, sc.budget_s)
            cmp = compare(ours.result, base.result, kinds)
            rows.append(
                make_row(
                    "linking",
                    CASE,
                    sc.name,
                    n,
                    "time_s",
                    "s",
                    ours.best_s,
                    base.best_s,
                    check=cmp.pop("points_ok"),
                    runs=len(ours.runs_s),
                    details={
                        **cmp,
                        "ours_runs_s": ours.runs_s,
                        "baseline_runs_s": base.runs_s,
                        "ours_us_per_geometry": 1e6 * ours.best_s / max(n, 1),
                        "baseline_us_per_geometry": 1e6 * base.best_s / max(n, 1),
                        "generate_s_for_largest": gen.best_s,
                        "gazetteer_build_s": built.best_s,
                    },
                )
            )
            if sc.db == "postgis":
                rows.append(_postgis_row(sc, n, geoms, kinds, ours, linker, unavailable))
    return rows


def _open_postgis(
    stack: ExitStack, hubs: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, legal: gpd.GeoDataFrame
) -> tuple[PostgisLinker | None, str | None]:
    """A throwaway PostGIS database with the reference layers loaded, closed and dropped by ``stack``.

    Returns ``(linker, None)``, or ``(None, reason)`` when PostgreSQL or
    PostGIS cannot be used.
    """
    import psycopg

    try:
        url = stack.enter_context(throwaway_database("postgis"))
        linker = PostgisLinker(url, ReferenceLayers.from_frames(hubs, districts, legal))
    except (DatabaseUnavailable, psycopg.OperationalError) as err:
        return None, f"PostGIS unavailable, rows skipped: {err}"
    stack.callback(linker.close)
    return linker, None


def _postgis_row(sc: Scale, n: int, geoms: np.ndarray, kinds: np.ndarray, ours: Any, linker: PostgisLinker | None, unavailable: str | None) -> dict[str, Any]:
    """The ``ours vs PostGIS`` row of one size: load, query (best of the scale's repeats), compare every geometry."""
    if linker is None:
        return make_row("linking", POSTGIS_CASE, sc.name, n, "time_s", "s", ours.best_s, None, check=None,
                        runs=len(ours.runs_s), details={"note": unavailable})
    table = f"link_proposals_{n}"
    loaded = linker.load(table, geoms)
    try:
        pg = best_of(lambda: linker.link(table, n), sc.repeats, sc.budget_s)
        gap = linker.distance_gap(table)
        plan = linker.plan(table)
    finally:
        linker.drop(table)
    cmp = compare_postgis(ours.result, pg.result, geoms, kinds, linker.layers)
    ok = cmp.pop("ok") and gap <= DISTANCE_TOL_M
    return make_row(
        "linking",
        POSTGIS_CASE,
        sc.name,
        n,
        "time_s",
        "s",
        ours.best_s,
        pg.best_s,
        check=ok,
        runs=len(ours.runs_s),
        details={
            "database": linker.versions(),
            "load": loaded,
            "load_s": loaded["load_s"],
            "query_s": pg.best_s,
            "query_runs_s": pg.runs_s,
            "ours_runs_s": ours.runs_s,
            "query_us_per_geometry": 1e6 * pg.best_s / max(n, 1),
            "knn_vs_st_distance_max_abs_m": gap,
            "plan": plan,
            "settings": linker.settings(),
            **cmp,
        },
    )
