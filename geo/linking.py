"""Linking geometries to the hub centre, budget district and legal dong they belong to.

All functions are vectorised: they take an array of geometries and answer for
all of them at once with STRtree queries and array operations. Measurements
are made in EPSG:5179 (metres); inputs and outputs are in EPSG:4326.

Rules
-----
- Nearest hub: straight-line distance in metres from the geometry (its
  nearest point, not its centroid) to the hub point; ties go to the smaller
  code.
- Budget district and legal dong: the polygon with the largest overlap
  (area for polygons, length for lines, number of contained points for
  points), ties to the smaller code; every touched polygon is reported with
  its share of the overlap. A geometry touching no polygon (it may lie in a
  hairline gap or just outside the city, within the validation tolerance)
  goes to the nearest polygon with share 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import to_metric


@dataclass(frozen=True)
class PolygonLayer:
    """Polygons prepared for overlap queries, sorted by code, in EPSG:5179."""

    codes: np.ndarray
    names: np.ndarray
    geoms_m: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def from_frame(cls, gdf: gpd.GeoDataFrame, code_col: str, name_col: str = "name") -> "PolygonLayer":
        """Build from a GeoDataFrame in EPSG:4326 with a code and a name column."""
        _require_wgs84(gdf)
        gdf = gdf.sort_values(code_col).reset_index(drop=True)
        geoms_m = np.asarray(to_metric(gdf.geometry.values), dtype=object)
        shapely.prepare(geoms_m)
        return cls(
            codes=gdf[code_col].astype(str).to_numpy(),
            names=gdf[name_col].astype(str).to_numpy(),
            geoms_m=geoms_m,
            tree=shapely.STRtree(geoms_m),
        )


@dataclass(frozen=True)
class PointLayer:
    """Points (hub centres) prepared for nearest queries, sorted by code, in EPSG:5179."""

    codes: np.ndarray
    names: np.ndarray
    geoms_m: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def from_frame(cls, gdf: gpd.GeoDataFrame, code_col: str = "code", name_col: str = "name") -> "PointLayer":
        """Build from a GeoDataFrame of points in EPSG:4326."""
        _require_wgs84(gdf)
        if len(gdf) == 0:
            raise ValueError("no points to link to (is any centre designated a hub?)")
        gdf = gdf.sort_values(code_col).reset_index(drop=True)
        geoms_m = np.asarray(to_metric(gdf.geometry.values), dtype=object)
        return cls(
            codes=gdf[code_col].astype(str).to_numpy(),
            names=gdf[name_col].astype(str).to_numpy(),
            geoms_m=geoms_m,
            tree=shapely.STRtree(geoms_m),
        )


@dataclass(frozen=True)
class Gazetteer:
    """Everything a geometry is linked to: hub points, district and legal-dong polygons."""

    hubs: PointLayer
    districts: PolygonLayer
    legal_dongs: PolygonLayer


def build_gazetteer(hubs: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, legal_dongs: gpd.GeoDataFrame) -> Gazetteer:
    """Prepare the reference layers once (projection and spatial indexes).

    Parameters
    ----------
    hubs : GeoDataFrame
        Hub centres, columns ``code``, ``name``, Point geometry, EPSG:4326.
    districts : GeoDataFrame
        Budget districts, columns ``adm_code``, ``name``, polygons, EPSG:4326.
    legal_dongs : GeoDataFrame
        Legal dongs, columns ``code``, ``name``, polygons, EPSG:4326.
    """
    return Gazetteer(
        hubs=PointLayer.from_frame(hubs, "code", "name"),
        districts=PolygonLayer.from_frame(districts, "adm_code", "name"),
        legal_dongs=PolygonLayer.from_frame(legal_dongs, "code", "name"),
    )


def _require_wgs84(gdf: gpd.GeoDataFrame) -> None:
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise ValueError("reference layers must be GeoDataFrames in EPSG:4326")


def nearest_points_index(geoms_m: np.ndarray, layer: PointLayer) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest point of ``layer`` for each geometry, and the distance in metres.

    ``geoms_m`` must be in EPSG:5179. The distance is from the geometry's
    nearest point (0 when the geometry covers the hub). Ties go to the
    smaller code (the layer is sorted by code).
    """
    geoms_m = np.asarray(geoms_m, dtype=object)
    (gi, pi), dist = layer.tree.query_nearest(geoms_m, return_distance=True, all_matches=True)
    # Among equidistant matches keep the smallest layer index (= smallest code).
    order = np.lexsort((pi, dist, gi))
    gi, pi, dist = gi[order], pi[order], dist[order]
    first = np.ones(len(gi), dtype=bool)
    first[1:] = gi[1:] != gi[:-1]
    idx = np.full(len(geoms_m), -1, dtype=np.int64)
    out_dist = np.full(len(geoms_m), np.nan)
    idx[gi[first]] = pi[first]
    out_dist[gi[first]] = dist[first]
    return idx, out_dist


@dataclass(frozen=True)
class Overlaps:
    """Largest-overlap result: primary polygon per geometry, plus every touched polygon with its share."""

    primary: np.ndarray  # layer index per geometry
    pair_geom: np.ndarray  # geometry index of each touched (geometry, polygon) pair
    pair_poly: np.ndarray  # layer index of each pair
    pair_share: np.ndarray  # share of the geometry's overlap in that polygon (sums to 1 per geometry)


def overlap_measures(geoms_m: np.ndarray, polys_m: np.ndarray) -> np.ndarray:
    """Element-wise overlap measure of geometry ``i`` with polygon ``i`` (metres).

    Area of the intersection for polygonal geometries, length for lines, number
    of contained points for (multi)points. Pairs where the geometry lies within
    the polygon skip the intersection and take the geometry's own measure.
    """
    geoms_m = np.asarray(geoms_m, dtype=object)
    polys_m = np.asarray(polys_m, dtype=object)
    dims = shapely.get_dimensions(geoms_m)
    measure = np.zeros(len(geoms_m))
    # contains(polygon, geometry), not within(geometry, polygon): GEOS uses the prepared polygon only as the first argument
    inside = shapely.contains(polys_m, geoms_m)
    single = shapely.get_type_id(geoms_m) == 0  # a lone Point counts 1 when it touches the polygon
    measure[single] = shapely.intersects(polys_m[single], geoms_m[single]).astype(float)
    pts = (dims == 0) & ~single
    if pts.any():
        sub = shapely.intersection(geoms_m[pts], polys_m[pts])
        counts = shapely.get_num_geometries(sub).astype(float)
        # a lone Point intersection counts 1; an empty result counts 0
        counts[shapely.is_empty(sub)] = 0.0
        measure[pts] = counts
    for dim, fn in ((1, shapely.length), (2, shapely.area)):
        sel = dims == dim
        if not sel.any():
            continue
        whole = sel & inside
        measure[whole] = fn(geoms_m[whole])
        part = sel & ~inside
        if part.any():
            measure[part] = fn(shapely.intersection(geoms_m[part], polys_m[part]))
    return measure


def largest_overlap(geoms_m: np.ndarray, layer: PolygonLayer) -> Overlaps:
    """For each geometry (EPSG:5179), the polygon of ``layer`` it overlaps most, ties to the smaller code."""
    geoms_m = np.asarray(geoms_m, dtype=object)
    n = len(geoms_m)
    gi, pi = layer.tree.query(geoms_m, predicate="intersects")
    measure = overlap_measures(geoms_m[gi], layer.geoms_m[pi])
    keep = measure > 0
    gi, pi, measure = gi[keep], pi[keep], measure[keep]
    # Geometries that touch nothing with positive measure: nearest polygon, share 1.
    has = np.zeros(n, dtype=bool)
    has[gi] = True
    orphans = np.flatnonzero(~has)
    if len(orphans):
        (oi, opi), odist = layer.tree.query_nearest(geoms_m[orphans], return_distance=True, all_matches=True)
        order = np.lexsort((opi, odist, oi))
        oi, opi = oi[order], opi[order]
        first = np.ones(len(oi), dtype=bool)
        first[1:] = oi[1:] != oi[:-1]
        gi = np.concatenate([gi, orphans[oi[first]]])
        pi = np.concatenate([pi, opi[first]])
        measure = np.concatenate([measure, np.ones(first.sum())])
    totals = np.bincount(gi, weights=measure, minlength=n)
    share = measure / totals[gi]
    # Sort by geometry, then largest measure, then smallest code; the first per geometry is primary.
    order = np.lexsort((pi, -measure, gi))
    gi, pi, share = gi[order], pi[order], share[order]
    first = np.ones(len(gi), dtype=bool)
    first[1:] = gi[1:] != gi[:-1]
    primary = np.full(n, -1, dtype=np.int64)
    primary[gi[first]] = pi[first]
    return Overlaps(primary=primary, pair_geom=gi, pair_poly=pi, pair_share=share)


def link_geometries(geoms: np.ndarray | list[BaseGeometry], gazetteer: Gazetteer, with_shares: bool = True) -> pd.DataFrame:
    """Link geometries (EPSG:4326) to their hub, budget district and legal dong.

    Parameters
    ----------
    geoms : array of shapely geometries, lon/lat
        Validated geometries (see :func:`geo.validation.validate_drawn_geometry`).
    gazetteer : Gazetteer
        Reference layers from :func:`build_gazetteer`.
    with_shares : bool
        Also build the ``district_shares`` column (a dict code → share per
        row); skip it for bulk work where only the primary links matter.

    Returns
    -------
    DataFrame
        One row per geometry, in input order: ``hub_code``, ``hub_name``,
        ``hub_distance_m``, ``district_code``, ``district_name``,
        ``legal_dong_code``, ``legal_dong_name`` and, with ``with_shares``,
        ``district_shares``.
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms_m = np.asarray(to_metric(geoms), dtype=object) if len(geoms) else geoms
    hub_idx, hub_dist = nearest_points_index(geoms_m, gazetteer.hubs)
    dist = largest_overlap(geoms_m, gazetteer.districts)
    legal = largest_overlap(geoms_m, gazetteer.legal_dongs)
    frame = pd.DataFrame(
        {
            "hub_code": gazetteer.hubs.codes[hub_idx] if len(geoms) else [],
            "hub_name": gazetteer.hubs.names[hub_idx] if len(geoms) else [],
            "hub_distance_m": hub_dist,
            "district_code": gazetteer.districts.codes[dist.primary] if len(geoms) else [],
            "district_name": gazetteer.districts.names[dist.primary] if len(geoms) else [],
            "legal_dong_code": gazetteer.legal_dongs.codes[legal.primary] if len(geoms) else [],
            "legal_dong_name": gazetteer.legal_dongs.names[legal.primary] if len(geoms) else [],
        }
    )
    if with_shares:
        shares: list[dict[str, float]] = [{} for _ in range(len(geoms))]
        codes = gazetteer.districts.codes
        for g, p, s in zip(dist.pair_geom.tolist(), dist.pair_poly.tolist(), dist.pair_share.tolist()):
            shares[g][str(codes[p])] = round(float(s), 6)
        frame["district_shares"] = shares
    return frame
