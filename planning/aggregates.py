"""The planners' review set counted per administrative dong and per H3 hexagon.

Both tables start from :func:`planning.review.review_frame` (planners and
admins only, the same filter as the review table, clusters and density
rasters) and place every proposal once, at its representative point
(:func:`geo.rasterize.representative_xy`: a point itself, the middle of a line
by length, a point inside a polygon) - the same point the density rasters
count it at. Proposals per 1,000 voters use the 2022 eligible voters of the
administrative dongs (the budget districts in the store).

Privacy (issue 8): these tables are the planners' and admins' only (they
count hidden proposals too); anonymous visitors, residents and centre staff
are refused (``role_required`` / ``sign_in_required``), so no small-cell
suppression is applied here. A public choropleth would have to drop dongs and
hexagons of fewer than :func:`planning.privacy.privacy_k` distinct residents
first (:func:`planning.privacy.suppress_small_groups`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geo.boundaries import city_outline_metric
from geo.crs import STORAGE_CRS, metric_to_lonlat, to_metric, to_storage
from geo.errors import Refusal
from geo.hexagons import cell_polygons, cells_covering, cells_for_points, check_resolution
from geo.rasterize import representative_xy
from planning.auth import Actor
from planning.errors import InvalidInput
from planning.geography import districts_frame
from planning.heatmap import require_reviewer
from planning.review import ReviewFilter, review_frame

if TYPE_CHECKING:
    from store import Store

#: Columns of :func:`by_dong` (plus ``geometry``).
DONG_COLUMNS = ("code", "name", "gu", "voters", "proposals", "supports", "per_1000", "approximate")
#: Columns of :func:`by_hexagon` (plus ``geometry``).
HEXAGON_COLUMNS = ("h3", "proposals", "supports", "voters_est", "per_1000")


def representative_lonlat(geoms_lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Representative points (found in metres, see :func:`geo.rasterize.representative_xy`) as lon/lat arrays, with the kept mask."""
    geoms = np.asarray(geoms_lonlat, dtype=object).ravel()
    if len(geoms) == 0:
        return np.empty(0), np.empty(0), np.zeros(0, dtype=bool)
    xs, ys, kept = representative_xy(to_metric(geoms))
    lon, lat = metric_to_lonlat(xs, ys)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), kept


def district_of_points(xs: np.ndarray, ys: np.ndarray, codes: np.ndarray, polygons_m: np.ndarray) -> np.ndarray:
    """The district code of each EPSG:5179 point: the polygon holding it (on a shared edge, the smaller code), else the nearest.

    Proposals may lie up to 50 m outside the city outline (drawing
    tolerance); those go to the nearest district, so every point gets one.
    """
    n = len(xs)
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    pts = shapely.points(xs, ys)
    tree = shapely.STRtree(polygons_m)
    pi, di = tree.query(pts, predicate="intersects")
    codes = np.asarray(codes, dtype=object)
    best: dict[int, str] = {}
    for p, d in zip(pi.tolist(), di.tolist()):
        c = codes[d]
        if p not in best or c < best[p]:
            best[p] = c
    missing = [i for i in range(n) if i not in best]
    if missing:
        mi, md = tree.query_nearest(pts[missing], all_matches=True)
        for p, d in zip(mi.tolist(), md.tolist()):
            i = missing[p]
            c = codes[d]
            if i not in best or c < best[i]:
                best[i] = c
    for i, c in best.items():
        out[i] = c
    return out


def by_dong(store: Store, actor: Actor | int | None, review_filter: ReviewFilter | None = None) -> gpd.GeoDataFrame:
    """Proposals of the review set per administrative dong (budget district).

    Parameters
    ----------
    store : Store
    actor : Actor or id
        A planner or admin (:class:`~planning.errors.NotAllowed` otherwise).
    review_filter : ReviewFilter, optional

    Returns
    -------
    geopandas.GeoDataFrame
        One row per stored district (all 44, zero where nothing was
        proposed), sorted by code, EPSG:4326, columns :data:`DONG_COLUMNS`:
        ``code``, ``name``, ``gu``, ``voters`` (2022 eligible voters),
        ``proposals`` (proposals whose representative point lies in the
        dong; they sum to the size of the review set), ``supports`` (their
        supports), ``per_1000`` (``proposals * 1000 / voters``, NaN without
        voters), ``approximate`` (the polygon is an approximate cell).

    Notes
    -----
    A proposal counts in the dong that holds its representative point, not
    in the dong it overlaps most (the ``district_code`` it was linked to for
    the budget), so a long line or a large polygon counts where the density
    raster counts it. A point on the edge of two dongs counts in the one
    with the smaller code; a point outside every polygon (the 50 m drawing
    tolerance) in the nearest.
    """
    frame = review_frame(store, actor, review_filter)  # checks the role
    d = districts_frame(store).sort_values("adm_code").reset_index(drop=True)
    codes = d["adm_code"].to_numpy(dtype=object)
    polys_m = np.asarray(to_metric(d.geometry.to_numpy()), dtype=object)
    xs, ys, kept = representative_xy(to_metric(np.asarray(frame.geometry.to_numpy(), dtype=object))) if len(frame) else (
        np.empty(0), np.empty(0), np.zeros(0, dtype=bool))
    where = district_of_points(xs, ys, codes, polys_m)
    supports = frame["supports"].to_numpy(dtype=np.int64)[kept] if len(frame) else np.empty(0, dtype=np.int64)
    counted = pd.DataFrame({"code": where, "supports": supports})
    grouped = counted.groupby("code").agg(proposals=("code", "size"), supports=("supports", "sum"))
    proposals = grouped["proposals"].reindex(codes, fill_value=0).to_numpy(dtype=np.int64)
    sup = grouped["supports"].reindex(codes, fill_value=0).to_numpy(dtype=np.int64)
    voters = d["voters"].to_numpy(dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_1000 = np.where(voters > 0, proposals * 1000.0 / np.where(voters > 0, voters, 1), np.nan)
    out = pd.DataFrame(
        {
            "code": codes,
            "name": d["name"].to_numpy(dtype=object),
            "gu": d["gu"].to_numpy(dtype=object),
            "voters": voters,
            "proposals": proposals,
            "supports": sup,
            "per_1000": per_1000,
            "approximate": d["approximate"].to_numpy(dtype=bool),
        }
    )
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(d.geometry.to_numpy(), crs=STORAGE_CRS), crs=STORAGE_CRS)


def _as_invalid(e: Refusal) -> InvalidInput:
    return InvalidInput(e.code, e.ko, e.en)


def apportioned_voters(hex_polys_m: np.ndarray, district_polys_m: np.ndarray, voters: np.ndarray) -> np.ndarray:
    """Voters of each hexagon, sharing each district's voters by area: ``sum_d voters_d * area(hex & d) / area(d)``.

    All geometry in EPSG:5179. Assumes voters are spread evenly over their
    district (the finest count there is); a hexagon outside every district
    gets 0.
    """
    hex_polys_m = np.asarray(hex_polys_m, dtype=object)
    out = np.zeros(len(hex_polys_m))
    if len(hex_polys_m) == 0:
        return out
    district_polys_m = np.asarray(district_polys_m, dtype=object)
    areas = shapely.area(district_polys_m)
    tree = shapely.STRtree(district_polys_m)
    hi, di = tree.query(hex_polys_m, predicate="intersects")
    if len(hi):
        inter = shapely.area(shapely.intersection(hex_polys_m[hi], district_polys_m[di]))
        share = np.where(areas[di] > 0, inter / np.where(areas[di] > 0, areas[di], 1), 0.0)
        np.add.at(out, hi, np.asarray(voters, dtype=np.float64)[di] * share)
    return out


def by_hexagon(
    store: Store,
    actor: Actor | int | None,
    review_filter: ReviewFilter | None = None,
    resolution: int = 8,
    *,
    include_empty: bool = False,
) -> gpd.GeoDataFrame:
    """Proposals of the review set per H3 hexagon.

    Parameters
    ----------
    store : Store
    actor : Actor or id
        A planner or admin (:class:`~planning.errors.NotAllowed` otherwise).
    review_filter : ReviewFilter, optional
    resolution : int
        H3 resolution, 5 .. 10 (8: cells of about 0.5 km² at Goyang's latitude).
    include_empty : bool
        Also the hexagons without proposals that cover the city (every
        hexagon meeting the outline), so that a choropleth shows zeros.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, sorted by cell, columns :data:`HEXAGON_COLUMNS`: ``h3``
        (cell id), ``proposals`` (proposals whose representative point lies in
        the cell; they sum to the size of the review set), ``supports``,
        ``voters_est`` (estimated voters, :func:`apportioned_voters`) and
        ``per_1000`` (``proposals * 1000 / voters_est``, NaN where no voters
        were apportioned).

    Notes
    -----
    Voters are only counted per dong, so a hexagon's voters are estimated by
    sharing each dong's voters by the area of the dong the hexagon covers
    (as if people lived evenly over the dong, parks and rivers included).
    Hexagons on the city edge get only the voters of their part inside the
    city, so a proposal there can give a high ``per_1000`` from few
    voters; read those cells with care.

    Raises
    ------
    InvalidInput
        ``bad_resolution``.
    """
    require_reviewer(store, actor)  # the role first, then the parameters
    try:
        res = check_resolution(resolution)
    except Refusal as e:
        raise _as_invalid(e) from None
    frame = review_frame(store, actor, review_filter)
    lon, lat, kept = representative_lonlat(np.asarray(frame.geometry.to_numpy(), dtype=object))
    cells = cells_for_points(lon, lat, res) if len(lon) else np.empty(0, dtype=object)
    supports = frame["supports"].to_numpy(dtype=np.int64)[kept] if len(frame) else np.empty(0, dtype=np.int64)
    counted = pd.DataFrame({"h3": cells, "supports": supports})
    grouped = counted.groupby("h3").agg(proposals=("h3", "size"), supports=("supports", "sum"))
    all_cells = set(grouped.index)
    if include_empty:
        # Every cell meeting the city: cells whose centre lies in the outline grown by a cell's circumradius.
        reach = h3.average_hexagon_edge_length(res, "m") * 1.25
        all_cells.update(cells_covering(to_storage(city_outline_metric().buffer(reach)), res))
    ordered = sorted(all_cells)
    proposals = grouped["proposals"].reindex(ordered, fill_value=0).to_numpy(dtype=np.int64)
    sup = grouped["supports"].reindex(ordered, fill_value=0).to_numpy(dtype=np.int64)
    polys = cell_polygons(ordered)
    d = districts_frame(store)
    voters_est = apportioned_voters(
        np.asarray(to_metric(polys), dtype=object) if len(polys) else polys,
        np.asarray(to_metric(d.geometry.to_numpy()), dtype=object),
        d["voters"].to_numpy(dtype=np.float64),
    )
    if include_empty:  # the grown outline reaches a little too far: drop empty cells that meet no district
        keep = (proposals > 0) | (voters_est > 0)
        ordered = [c for c, k in zip(ordered, keep) if k]
        proposals, sup, voters_est, polys = proposals[keep], sup[keep], voters_est[keep], polys[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_1000 = np.where(voters_est > 0, proposals * 1000.0 / np.where(voters_est > 0, voters_est, 1), np.nan)
    out = pd.DataFrame(
        {"h3": pd.array(ordered, dtype=object), "proposals": proposals, "supports": sup, "voters_est": voters_est, "per_1000": per_1000}
    )
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(polys, crs=STORAGE_CRS), crs=STORAGE_CRS)
