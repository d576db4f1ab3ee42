"""Linking on PostGIS: the same proposals linked by SQL, for the ``ours vs PostGIS`` rows of benchmark 1.

The baseline is what one would write on PostGIS with the data in the
database: the reference layers (hubs, budget districts, legal dongs) and the
proposals in EPSG:5179 geometry columns with GIST indexes, and one query

* nearest hub: ``CROSS JOIN LATERAL (... ORDER BY h.geom <-> p.geom, h.code
  LIMIT 1)`` (KNN; since PostgreSQL 9.5 / PostGIS 2.2 ``<->`` is the true
  distance, checked against ``ST_Distance`` after each run);
* budget district and legal dong: the polygons joined to the proposals
  with ``ST_Intersects``, ``DISTINCT ON`` the proposal ordered by the
  overlap measure of
  :mod:`geo.linking` (area of ``ST_Intersection`` for polygons, length for
  lines, 1 for a point; the geometry's own area or length when the polygon
  contains it) descending, then code; a geometry with no positive overlap
  goes to the nearest polygon (``<->``, ties to the smaller code).

Every rule is the one of :func:`geo.linking.link_geometries`, so the answers
are compared **for every geometry**: hub code, district code, legal-dong code
and hub distance (to 1e-3 m). Both sides get bit-identical coordinates: the
proposals and the reference layers are projected to EPSG:5179 in Python by
:func:`geo.crs.to_metric` (what our linker does) and copied as EWKB, so that
a difference can only come from the computation. A difference is accepted
only as a *tie*: the two chosen polygons (or hubs) have the same overlap
measure (or distance), recomputed with shapely, to within
:data:`TIE_REL` relative / :data:`TIE_ABS` absolute. PostGIS 3.3 here links
GEOS 3.11 and shapely GEOS 3.14, whose overlay results may differ in the
last bits; for points and for polygons and lines inside one polygon, the
measures are exactly equal and ties go to the smaller code on both sides.

Loading (projection, EWKB, ``COPY``, GIST index, ``ANALYZE``) is timed
separately from the query; the query time includes fetching the result to
Python arrays (``COPY (query) TO STDOUT`` read by pandas). The session turns
PostgreSQL's JIT off (it spends about a second compiling this query, more
than it saves at 10,000-1,000,000 rows) and raises ``work_mem`` to 64 MB
(the ``DISTINCT ON`` sorts spill to disk at the 4 MB default); parallel
query is left as the server has it.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import METRIC_EPSG, to_metric

#: Two overlap measures (m or m²) or distances (m) are a tie when they differ by at most this much relatively ...
TIE_REL = 1e-9
#: ... or absolutely.
TIE_ABS = 1e-9
#: Hub distances must agree to this many metres.
DISTANCE_TOL_M = 1e-3
#: At most this many differing rows are examined for ties; beyond, the check fails anyway.
MAX_EXPLAINED = 10_000
COPY_CHUNK = 50_000

#: Session settings of the baseline (see the module docstring).
SESSION_SETTINGS = ("SET jit = off", "SET work_mem = '64MB'")
REFERENCE_TABLES = ("link_hubs", "link_districts", "link_legal_dongs")


def _measure_sql(poly: str) -> str:
    """The overlap measure of ``p.geom`` with ``{poly}.geom``, as in :func:`geo.linking.overlap_measures`."""
    return f"""CASE
          WHEN GeometryType(p.geom) = 'POINT' THEN 1.0
          WHEN ST_Dimension(p.geom) = 0 THEN ST_NumGeometries(ST_Intersection(p.geom, {poly}.geom))
          WHEN ST_Contains({poly}.geom, p.geom) THEN
            CASE ST_Dimension(p.geom) WHEN 1 THEN ST_Length(p.geom) ELSE ST_Area(p.geom) END
          WHEN ST_Dimension(p.geom) = 1 THEN ST_Length(ST_Intersection(p.geom, {poly}.geom))
          ELSE ST_Area(ST_Intersection(p.geom, {poly}.geom))
        END"""


def _largest_overlap_sql(polygons: str, table: str) -> str:
    """Per proposal touching a polygon of ``polygons``: the one with the largest measure (``m``), ties to the smaller code."""
    return f"""SELECT DISTINCT ON (id) id, code, m
    FROM (
        SELECT p.id, g.code, {_measure_sql("g")} AS m
        FROM {polygons} g
        JOIN {table} p ON ST_Intersects(g.geom, p.geom)
    ) touched
    ORDER BY id, m DESC, code"""


def link_sql(table: str) -> str:
    """The linking query over the proposals in ``table`` (``id``, ``geom``): one row per proposal, any order.

    The overlaps are joins driven by the polygons (``ST_Intersects`` through
    the proposals' GIST index, then ``DISTINCT ON`` the largest measure):
    consecutive rows share a polygon, which PostGIS then prepares once. The
    same rule as a ``LEFT JOIN LATERAL`` per proposal gives the same answers
    2-4 times slower (measured at 5,000 and 50,000 proposals).
    """
    return f"""
WITH dx AS ({_largest_overlap_sql("link_districts", table)}),
     lx AS ({_largest_overlap_sql("link_legal_dongs", table)})
SELECT p.id,
       hub.code AS hub_code,
       hub.dist AS hub_distance_m,
       CASE WHEN dx.m > 0 THEN dx.code
            ELSE (SELECT d.code FROM link_districts d ORDER BY d.geom <-> p.geom, d.code LIMIT 1) END AS district_code,
       CASE WHEN lx.m > 0 THEN lx.code
            ELSE (SELECT l.code FROM link_legal_dongs l ORDER BY l.geom <-> p.geom, l.code LIMIT 1) END AS legal_dong_code
FROM {table} p
CROSS JOIN LATERAL (
    SELECT h.code, h.geom <-> p.geom AS dist
    FROM link_hubs h
    ORDER BY h.geom <-> p.geom, h.code
    LIMIT 1
) hub
LEFT JOIN dx ON dx.id = p.id
LEFT JOIN lx ON lx.id = p.id
"""


def distance_check_sql(table: str) -> str:
    """Largest gap between ``<->`` and ``ST_Distance`` to each proposal's nearest hub (0 when ``<->`` is exact)."""
    return f"""
SELECT COALESCE(max(abs(n.knn - ST_Distance(n.geom, p.geom))), 0)
FROM {table} p
CROSS JOIN LATERAL (
    SELECT h.geom, h.geom <-> p.geom AS knn FROM link_hubs h ORDER BY h.geom <-> p.geom, h.code LIMIT 1
) n
"""


def psycopg_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq connection string for psycopg."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class MetricLayer:
    """A reference layer sorted by code, in EPSG:5179 (as :func:`geo.linking.build_gazetteer` projects it)."""

    codes: np.ndarray
    geoms_m: np.ndarray

    @classmethod
    def from_frame(cls, gdf: gpd.GeoDataFrame, code_col: str) -> MetricLayer:
        """Sort by ``code_col`` and project with :func:`geo.crs.to_metric`."""
        gdf = gdf.sort_values(code_col).reset_index(drop=True)
        return cls(codes=gdf[code_col].astype(str).to_numpy(), geoms_m=np.asarray(to_metric(gdf.geometry.values), dtype=object))

    def geom(self, code: str) -> Any:
        """The polygon (or point) of ``code``, or None when the layer has no such code."""
        i = int(np.searchsorted(self.codes, code))
        return self.geoms_m[i] if i < len(self.codes) and self.codes[i] == code else None


@dataclass(frozen=True)
class ReferenceLayers:
    """Hubs, budget districts and legal dongs in EPSG:5179, sorted by code."""

    hubs: MetricLayer
    districts: MetricLayer
    legal_dongs: MetricLayer

    @classmethod
    def from_frames(cls, hubs: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, legal: gpd.GeoDataFrame) -> ReferenceLayers:
        """From the frames of :func:`bench.linking.reference_layers` (EPSG:4326)."""
        return cls(
            hubs=MetricLayer.from_frame(hubs, "code"),
            districts=MetricLayer.from_frame(districts, "adm_code"),
            legal_dongs=MetricLayer.from_frame(legal, "code"),
        )


def _ewkb_lines(ids: np.ndarray, geoms_m: np.ndarray) -> list[str]:
    """``id<TAB>hex EWKB (SRID 5179)`` lines for ``COPY ... FROM STDIN`` (text format)."""
    wkb = shapely.to_wkb(shapely.set_srid(geoms_m, METRIC_EPSG), hex=True, include_srid=True, byte_order=1)
    return [f"{i}\t{w}\n" for i, w in zip(ids.tolist(), wkb.tolist())]


def _copy(cur: Any, table: str, columns: str, lines: list[str]) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(lines), COPY_CHUNK):
            copy.write("".join(lines[start : start + COPY_CHUNK]).encode("ascii"))


class PostgisLinker:
    """The PostGIS baseline on one database: reference layers loaded once, proposals per table.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of an empty database with PostGIS
        (:func:`bench.database.throwaway_database`).
    layers : ReferenceLayers
        What the proposals are linked to, already in EPSG:5179.
    """

    def __init__(self, url: str, layers: ReferenceLayers) -> None:
        import psycopg

        self.conn = psycopg.connect(psycopg_url(url), autocommit=True)
        self.layers = layers
        with self.conn.cursor() as cur:
            for setting in SESSION_SETTINGS:
                cur.execute(setting)
            for table, layer in zip(REFERENCE_TABLES, (layers.hubs, layers.districts, layers.legal_dongs)):
                cur.execute(f"DROP TABLE IF EXISTS {table}")
                cur.execute(f'CREATE TABLE {table} (code text COLLATE "C" PRIMARY KEY, geom geometry(Geometry, {METRIC_EPSG}) NOT NULL)')
                _copy(cur, table, "code, geom", _ewkb_lines(layer.codes, layer.geoms_m))
                cur.execute(f"CREATE INDEX ON {table} USING gist (geom)")
                cur.execute(f"ANALYZE {table}")

    def settings(self) -> dict[str, str]:
        """The server settings that shape the query: JIT, work_mem, parallel workers."""
        with self.conn.cursor() as cur:
            names = ("jit", "work_mem", "max_parallel_workers_per_gather")
            out = {}
            for name in names:
                cur.execute(f"SHOW {name}")
                out[name] = str(cur.fetchone()[0])
        return out

    def versions(self) -> str:
        """``PostgreSQL 15.x, PostGIS 3.x (GEOS 3.x)``."""
        with self.conn.cursor() as cur:
            cur.execute("SHOW server_version")
            pg = str(cur.fetchone()[0]).split()[0]
            cur.execute("SELECT postgis_lib_version(), postgis_geos_version()")
            postgis, geos = cur.fetchone()
        return f"PostgreSQL {pg}, PostGIS {postgis} (GEOS {str(geos).split('-')[0]})"

    def load(self, table: str, geoms: np.ndarray) -> dict[str, float]:
        """Create ``table`` (``id`` = position, ``geom`` in EPSG:5179) from lon/lat ``geoms``; returns the timings in seconds.

        Steps timed: ``project_s`` (to EPSG:5179 in Python, as ours does),
        ``encode_s`` (hex EWKB lines), ``copy_s``, ``index_s`` (GIST and
        primary key), ``analyze_s``, and their sum ``load_s``.
        """
        t = {"project_s": time.perf_counter()}
        geoms_m = np.asarray(to_metric(np.asarray(geoms, dtype=object)), dtype=object)
        t["encode_s"] = time.perf_counter()
        lines = _ewkb_lines(np.arange(len(geoms_m)), geoms_m)
        t["copy_s"] = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"CREATE TABLE {table} (id bigint NOT NULL, geom geometry(Geometry, {METRIC_EPSG}) NOT NULL)")
            _copy(cur, table, "id, geom", lines)
            t["index_s"] = time.perf_counter()
            cur.execute(f"CREATE INDEX ON {table} USING gist (geom)")
            cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
            t["analyze_s"] = time.perf_counter()
            cur.execute(f"ANALYZE {table}")
        end = time.perf_counter()
        steps = list(t.items()) + [("end", end)]
        out = {name: steps[i + 1][1] - start for i, (name, start) in enumerate(steps[:-1])}
        out["load_s"] = end - t["project_s"]
        return out

    def link(self, table: str, n: int) -> pd.DataFrame:
        """Run :func:`link_sql` on ``table`` and fetch it; one row per proposal, in ``id`` order.

        Columns ``hub_code``, ``hub_distance_m``, ``district_code``,
        ``legal_dong_code``.
        """
        buf = io.BytesIO()
        with self.conn.cursor() as cur, cur.copy(f"COPY ({link_sql(table)}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buf.write(chunk)
        buf.seek(0)
        got = pd.read_csv(
            buf,
            header=None,
            names=["id", "hub_code", "hub_distance_m", "district_code", "legal_dong_code"],
            dtype={"id": np.int64, "hub_code": str, "hub_distance_m": np.float64, "district_code": str, "legal_dong_code": str},
            keep_default_na=False,
            na_values=[""],
        )
        ids = got["id"].to_numpy()
        if len(ids) != n or not np.array_equal(np.sort(ids), np.arange(n)):
            raise RuntimeError(f"the PostGIS query returned {len(ids)} rows for {n} proposals")
        order = np.argsort(ids)
        return got.iloc[order].drop(columns="id").reset_index(drop=True)

    def distance_gap(self, table: str) -> float:
        """Largest ``|<-> - ST_Distance|`` to the nearest hub over ``table`` (metres)."""
        with self.conn.cursor() as cur:
            cur.execute(distance_check_sql(table))
            return float(cur.fetchone()[0])

    def plan(self, table: str) -> str:
        """The top of the query plan (``EXPLAIN``, not run): e.g. whether it is parallel."""
        with self.conn.cursor() as cur:
            cur.execute(f"EXPLAIN {link_sql(table)}")
            lines = [str(r[0]) for r in cur.fetchall()]
        workers = [ln.strip() for ln in lines if "Workers Planned" in ln]
        return lines[0].strip() + (f"; {workers[0]}" if workers else "")

    def drop(self, table: str) -> None:
        """Drop a proposals table."""
        with self.conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")

    def close(self) -> None:
        """Close the connection (the database itself is dropped by its owner)."""
        self.conn.close()


def _measure(geom_m: Any, poly_m: Any) -> float:
    """Overlap measure of one geometry with one polygon (EPSG:5179), the rule of :mod:`geo.linking`."""
    if not shapely.intersects(poly_m, geom_m):
        return 0.0
    dim = shapely.get_dimensions(geom_m)
    if shapely.get_type_id(geom_m) == 0:
        return 1.0
    inter = shapely.intersection(geom_m, poly_m)
    if dim == 0:
        return 0.0 if shapely.is_empty(inter) else float(shapely.get_num_geometries(inter))
    return float(shapely.length(inter) if dim == 1 else shapely.area(inter))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(TIE_ABS, TIE_REL * max(abs(a), abs(b)))


def _polygon_tie(geom_m: Any, layer: MetricLayer, code_a: str, code_b: str) -> bool:
    """Do two polygons overlap ``geom_m`` equally (or, touching it with no measure, lie equally near)?"""
    pa, pb = layer.geom(code_a), layer.geom(code_b)
    if pa is None or pb is None:
        return False
    ma, mb = _measure(geom_m, pa), _measure(geom_m, pb)
    if ma > 0 or mb > 0:
        return _close(ma, mb)
    return _close(float(shapely.distance(geom_m, pa)), float(shapely.distance(geom_m, pb)))


def _hub_tie(geom_m: Any, layer: MetricLayer, code_a: str, code_b: str) -> bool:
    """Are two hubs equally near ``geom_m``?"""
    ha, hb = layer.geom(code_a), layer.geom(code_b)
    if ha is None or hb is None:
        return False
    return _close(float(shapely.distance(geom_m, ha)), float(shapely.distance(geom_m, hb)))


def compare_postgis(
    ours: pd.DataFrame, pg: pd.DataFrame, geoms: np.ndarray, kinds: np.ndarray, layers: ReferenceLayers
) -> dict[str, Any]:
    """Compare our links with PostGIS's for every geometry; differences count only as ties.

    Parameters
    ----------
    ours, pg : DataFrame
        Links in input order with ``hub_code``, ``hub_distance_m``,
        ``district_code``, ``legal_dong_code``.
    geoms : array of shapely geometries
        The linked geometries, lon/lat (to recompute measures of differing rows).
    kinds : array of int
        :data:`bench.generate.POINT`, ``LINE`` or ``POLYGON`` per geometry.
    layers : ReferenceLayers
        The reference layers both sides linked to.

    Returns
    -------
    dict
        ``differ`` (per column: rows whose codes differ), ``differ_by_kind``,
        ``ties`` (per column: differing rows explained as ties),
        ``unexplained``, ``hub_distance_max_abs_diff_m``,
        ``hub_distance_over_tol`` and ``ok``: no difference beyond ties and
        every hub distance within :data:`DISTANCE_TOL_M`.
    """
    n = len(ours)
    if len(pg) != n:
        return {"rows_ours": n, "rows_postgis": len(pg), "ok": False}
    cols = {"hub_code": layers.hubs, "district_code": layers.districts, "legal_dong_code": layers.legal_dongs}
    kind_names = {0: "points", 1: "lines", 2: "polygons"}
    differ: dict[str, int] = {}
    differ_by_kind: dict[str, dict[str, int]] = {}
    ties: dict[str, int] = {}
    unexplained: dict[str, int] = {}
    examples: list[dict[str, Any]] = []
    geoms = np.asarray(geoms, dtype=object)
    for col, layer in cols.items():
        a = ours[col].to_numpy(dtype=object).astype(str)
        b = pg[col].to_numpy(dtype=object).astype(str)
        rows = np.flatnonzero(a != b)
        differ[col] = len(rows)
        differ_by_kind[col] = {name: int(np.sum(kinds[rows] == k)) for k, name in kind_names.items()}
        if len(rows) > MAX_EXPLAINED:
            ties[col] = 0
            unexplained[col] = len(rows)
            continue
        rows_m = np.asarray(to_metric(geoms[rows]), dtype=object) if len(rows) else rows
        is_tie = _hub_tie if col == "hub_code" else _polygon_tie
        tie = [is_tie(g, layer, x, y) for g, x, y in zip(rows_m, a[rows], b[rows])]
        ties[col] = int(sum(tie))
        unexplained[col] = int(len(rows) - sum(tie))
        for r, t in zip(rows.tolist(), tie):
            if len(examples) < 5:
                examples.append({"row": r, "column": col, "ours": a[r], "postgis": b[r], "tie": bool(t), "kind": kind_names.get(int(kinds[r]))})
    da = ours["hub_distance_m"].to_numpy(dtype=float)
    db = pg["hub_distance_m"].to_numpy(dtype=float)
    gap = np.abs(da - db)
    gap = np.where(np.isnan(da) & np.isnan(db), 0.0, gap)
    worst = float(np.nanmax(np.where(np.isnan(gap), np.inf, gap))) if n else 0.0
    over = int(np.sum(~(gap <= DISTANCE_TOL_M)))
    return {
        "rows_compared": n,
        "differ": differ,
        "differ_by_kind": differ_by_kind,
        "ties": ties,
        "unexplained": unexplained,
        "examples": examples,
        "hub_distance_max_abs_diff_m": worst,
        "hub_distance_over_tol": over,
        "ok": over == 0 and not any(unexplained.values()),
    }
