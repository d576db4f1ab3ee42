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

Speed
-----
:func:`link_geometries` gives exactly these answers faster than the plain
implementation (kept as ``_link_exact``, and as :func:`nearest_points_index`
and :func:`largest_overlap`): it works on projected coordinate arrays in
chunks on a thread pool, proves most answers without GEOS overlays (lookup
grids of :mod:`geo.interior`, segment measures of :mod:`geo.overlap`, hubs by
GEOS's own distance formula in numpy) and sends whatever it cannot prove, with
margins far above rounding, the exact way. See :func:`_link_chunk`.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import lonlat_to_metric_local, to_metric
from geo.interior import InteriorGrid, build_interior_grid
from geo.overlap import LayerEdges, measure_overlaps

INTERIOR_CELL_M = 20.0  # cell of the interior lookup grids
HUB_MARGIN_M = 1e-3  # a shape this close to a hub Voronoi edge goes the exact way


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
    """Everything a geometry is linked to: hub points, district and legal-dong polygons.

    The grids and edge sets (built by :func:`build_gazetteer`) serve the fast
    path of :func:`link_geometries`; without them it links the plain way.
    """

    hubs: PointLayer
    districts: PolygonLayer
    legal_dongs: PolygonLayer
    district_grid: InteriorGrid | None = field(default=None, repr=False)
    legal_grid: InteriorGrid | None = field(default=None, repr=False)
    district_edges: LayerEdges | None = field(default=None, repr=False)
    legal_edges: LayerEdges | None = field(default=None, repr=False)


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
    d = PolygonLayer.from_frame(districts, "adm_code", "name")
    lg = PolygonLayer.from_frame(legal_dongs, "code", "name")
    return Gazetteer(
        hubs=PointLayer.from_frame(hubs, "code", "name"),
        districts=d,
        legal_dongs=lg,
        district_grid=build_interior_grid(d.geoms_m, INTERIOR_CELL_M) if len(d.codes) else None,
        legal_grid=build_interior_grid(lg.geoms_m, INTERIOR_CELL_M) if len(lg.codes) else None,
        district_edges=LayerEdges.from_polygons(d.geoms_m) if len(d.codes) else None,
        legal_edges=LayerEdges.from_polygons(lg.geoms_m) if len(lg.codes) else None,
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
    if len(geoms) == 0 or gazetteer.district_grid is None or gazetteer.legal_grid is None or gazetteer.district_edges is None or gazetteer.legal_edges is None:
        return _link_exact(geoms, gazetteer, with_shares)
    n = len(geoms)
    workers = os.cpu_count() or 1
    k = 1 if n < 2 * MIN_CHUNK or workers == 1 else max(workers, -(-n // TARGET_CHUNK))
    bounds = np.linspace(0, n, k + 1).astype(int)
    ranges = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    if k == 1:
        parts = [_link_chunk(geoms, gazetteer, with_shares)]
    elif not THREADS:
        parts = [_link_chunk(geoms[a:b], gazetteer, with_shares) for a, b in ranges]
    else:
        private: dict[int, Gazetteer] = {}

        def run(r: tuple[int, int]) -> _ChunkLinks:
            # GEOS prepared geometries build their indexes lazily, which is not
            # thread-safe: each worker thread links against its own copy.
            me = threading.get_ident()
            if me not in private:
                private[me] = _private_copy(gazetteer)
            return _link_chunk(geoms[r[0] : r[1]], private[me], with_shares)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(run, ranges))
    offsets = [a for a, _ in ranges]
    hub_idx = np.concatenate([p.hub_idx for p in parts])
    hub_dist = np.concatenate([p.hub_dist for p in parts])
    d_primary = np.concatenate([p.district.primary for p in parts])
    l_primary = np.concatenate([p.legal_primary for p in parts])
    hubs, districts, legal = gazetteer.hubs, gazetteer.districts, gazetteer.legal_dongs
    frame = pd.DataFrame(
        {
            "hub_code": _take(hubs.codes, hub_idx),
            "hub_name": _take(hubs.names, hub_idx),
            "hub_distance_m": hub_dist,
            "district_code": _take(districts.codes, d_primary),
            "district_name": _take(districts.names, d_primary),
            "legal_dong_code": _take(legal.codes, l_primary),
            "legal_dong_name": _take(legal.names, l_primary),
        }
    )
    if with_shares:
        pair_geom = np.concatenate([p.district.pair_geom + off for p, off in zip(parts, offsets)])
        pair_poly = np.concatenate([p.district.pair_poly for p in parts])
        pair_share = np.concatenate([p.district.pair_share for p in parts])
        frame["district_shares"] = _shares_column(n, pair_geom, pair_poly, pair_share, districts.codes)
    return frame


MIN_CHUNK = 20_000  # below twice this many geometries, link_geometries uses no threads
THREADS = True  # run the chunks on a thread pool (else one after the other)
TARGET_CHUNK = 50_000  # geometries per thread task (smaller tasks keep the arrays in cache)


def _take(values: np.ndarray, idx: np.ndarray):
    """``values[idx]`` as the pandas array a DataFrame would make of it, converting only ``values``.

    Converting a million numpy strings to pandas' string dtype is slow; taking
    from the converted layer (a few dozen strings) is not. Index -1 takes the
    last value, as numpy indexing does.
    """
    return pd.Series(values).array.take(idx)


def _private_copy(gz: Gazetteer) -> Gazetteer:
    """The gazetteer with its own GEOS objects (cloned, prepared, indexed), sharing the arrays."""

    def clone(geoms: np.ndarray) -> np.ndarray:
        out = np.asarray(shapely.from_wkb(shapely.to_wkb(geoms, output_dimension=3, include_srid=False, flavor="iso")), dtype=object)
        return out

    def poly(layer: PolygonLayer) -> PolygonLayer:
        g = clone(layer.geoms_m)
        shapely.prepare(g)
        return PolygonLayer(codes=layer.codes, names=layer.names, geoms_m=g, tree=shapely.STRtree(g))

    hub_g = clone(gz.hubs.geoms_m)
    hubs = PointLayer(codes=gz.hubs.codes, names=gz.hubs.names, geoms_m=hub_g, tree=shapely.STRtree(hub_g))
    return Gazetteer(
        hubs=hubs,
        districts=poly(gz.districts),
        legal_dongs=poly(gz.legal_dongs),
        district_grid=gz.district_grid,
        legal_grid=gz.legal_grid,
        district_edges=gz.district_edges.private_copy() if gz.district_edges is not None else None,
        legal_edges=gz.legal_edges.private_copy() if gz.legal_edges is not None else None,
    )


def _shares_column(n: int, pair_geom: np.ndarray, pair_poly: np.ndarray, pair_share: np.ndarray, codes: np.ndarray) -> list[dict[str, float]]:
    """One ``{code: share}`` dict per geometry, pairs in the given order, shares rounded to 6 decimals."""
    shares: list[dict[str, float]] = [{} for _ in range(n)]
    code_str = [str(c) for c in codes]
    for g, p, s in zip(pair_geom.tolist(), pair_poly.tolist(), pair_share.tolist()):
        shares[g][code_str[p]] = round(s, 6)
    return shares


def _link_exact(geoms: np.ndarray, gazetteer: Gazetteer, with_shares: bool) -> pd.DataFrame:
    """The reference implementation of :func:`link_geometries`: every geometry the exact way."""
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


@dataclass(frozen=True)
class _ChunkLinks:
    hub_idx: np.ndarray
    hub_dist: np.ndarray
    district: Overlaps
    legal_primary: np.ndarray


def _link_chunk(geoms: np.ndarray, gz: Gazetteer, with_shares: bool) -> _ChunkLinks:
    """Link one chunk of geometries (EPSG:4326); safe to run in a worker thread.

    Shortcuts (each proven to give the exact rule's answer, else the geometry goes
    the exact way, :func:`nearest_points_index` / :func:`largest_overlap` on its
    projected geometry):

    * hub of a point: brute force over the hubs in numpy, with GEOS's formula
      (bit-identical distances); near-ties go the exact way;
    * hub of a line or hole-free polygon whose bounding disc lies inside one hub's
      Voronoi cell (margin :data:`HUB_MARGIN_M`): that hub, distance by GEOS's
      point-to-segment formula over the shape's segments; a polygon whose
      bounding box holds the hub goes the exact way (the hub may be inside);
    * hub of a line or hole-free polygon near a Voronoi edge: the same formula
      for every hub, argmin (the smaller code first); near-ties (1e-6 m) and
      polygons whose box holds a hub go the exact way;
    * district / legal dong of a geometry whose bounding disc, or whose every
      segment, lies inside one polygon and clear of every boundary
      (:class:`geo.interior.InteriorGrid`; a polygon must not hold a whole ring
      of the layer): that polygon, share 1;
    * of a point near a boundary: every polygon it intersects
      (``shapely.intersects_xy``), 1 each, as :func:`overlap_measures` counts;
    * of a line or hole-free polygon across boundaries: lengths and areas from
      the segments (:func:`geo.overlap.measure_overlaps`), unless uncertain.
    """
    n = len(geoms)
    tid = shapely.get_type_id(geoms)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    x, y = lonlat_to_metric_local(coords[:, 0], coords[:, 1])
    ncoord = np.bincount(owner, minlength=n)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(ncoord, out=start[1:])
    has = ncoord > 0
    firsts = start[:-1][has]
    minx = np.full(n, np.nan)
    maxx = np.full(n, np.nan)
    miny = np.full(n, np.nan)
    maxy = np.full(n, np.nan)
    if len(firsts):
        minx[has] = np.minimum.reduceat(x, firsts)
        maxx[has] = np.maximum.reduceat(x, firsts)
        miny[has] = np.minimum.reduceat(y, firsts)
        maxy[has] = np.maximum.reduceat(y, firsts)
    cx = (minx + maxx) / 2
    cy = (miny + maxy) / 2
    radius = 0.5 * np.hypot(maxx - minx, maxy - miny) * (1 + 1e-12) + 1e-6

    holes = shapely.get_num_interior_rings(geoms) > 0
    hub_idx, hub_dist, hub_exact = _hubs_fast(gz.hubs, tid, holes, has, x, y, owner, start, cx, cy, radius, minx, miny, maxx, maxy)
    measurable = has & (((tid == 1) & (ncoord >= 2)) | ((tid == 3) & ~holes & (ncoord >= 4)))
    is_poly = tid == 3
    district = _LayerPass(gz.districts, gz.district_grid, gz.district_edges, cx, cy, radius)
    legal = _LayerPass(gz.legal_dongs, gz.legal_grid, gz.legal_edges, cx, cy, radius)
    is_point = (tid == 0) & has
    for lp in (district, legal):
        lp.points(x, y, start, is_point)
        lp.measure(x, y, start, ncoord, (minx, miny, maxx, maxy), measurable, is_poly, with_shares)
    need = hub_exact | district.exact | legal.exact
    sub = np.flatnonzero(need)
    sub_m = np.asarray(geoms[sub], dtype=object).copy()
    if len(sub):
        shapely.set_coordinates(sub_m, np.column_stack([x, y])[need[owner]])
    pos = np.full(n, -1, dtype=np.int64)
    pos[sub] = np.arange(len(sub))

    hx = np.flatnonzero(hub_exact)
    if len(hx):
        hub_idx[hx], hub_dist[hx] = nearest_points_index(sub_m[pos[hx]], gz.hubs)
    d_over = district.finish(sub_m, pos)
    l_over = legal.finish(sub_m, pos)
    return _ChunkLinks(hub_idx=hub_idx, hub_dist=hub_dist, district=d_over, legal_primary=l_over.primary)


class _LayerPass:
    """One polygon layer's links for a chunk: grid, then segment measures, then exact overlays."""

    def __init__(self, layer: PolygonLayer, grid: InteriorGrid, edges: LayerEdges, cx, cy, radius) -> None:
        self.layer, self.grid, self.edges = layer, grid, edges
        self.label = grid.lookup(cx, cy, radius)
        self.exact = self.label < 0
        self.pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        known = np.flatnonzero(self.label >= 0)
        self.primary = self.label.copy()
        self.pairs.append((known, self.label[known], np.ones(len(known))))

    def points(self, x, y, start, is_point) -> None:
        """Points the grid left open: every polygon they intersect (``intersects_xy``), share 1/k each.

        That is :func:`overlap_measures`' rule for a lone point (1 per touched polygon);
        points touching none (gaps, outside) stay for the exact path (nearest polygon).
        """
        pts = np.flatnonzero(self.exact & is_point)
        if not len(pts):
            return
        px, py = x[start[pts]], y[start[pts]]
        which, cand = self.grid.candidates(px, py)
        hit = shapely.intersects_xy(self.layer.geoms_m[cand], px[which], py[which])
        which, cand = which[hit], cand[hit]
        order = np.lexsort((cand, which))
        which, cand = which[order], cand[order]
        count = np.bincount(which, minlength=len(pts))
        first = np.ones(len(which), dtype=bool)
        first[1:] = which[1:] != which[:-1]
        done = count > 0
        self.primary[pts[which[first]]] = cand[first]
        self.exact[pts[done]] = False
        self.pairs.append((pts[which], cand, 1.0 / count[which]))

    def measure(self, x, y, start, ncoord, bbox, measurable, is_poly, with_shares: bool) -> None:
        """Measure the lines and hole-free polygons the grid left open, in numpy."""
        todo = np.flatnonzero(self.exact & measurable)
        if not len(todo):
            return
        # a shape whose every segment is clear of the boundaries lies inside one polygon,
        # unless (a polygon) it holds a whole ring of the layer
        lab = self.grid.lookup_path(x, y, start[todo], ncoord[todo])
        poly = is_poly[todo] & (lab >= 0)
        if poly.any():
            p = todo[poly]
            lab[np.flatnonzero(poly)[self.edges.rings_within(*(v[p] for v in bbox))]] = -1
        done = todo[lab >= 0]
        self.primary[done] = lab[lab >= 0]
        self.exact[done] = False
        self.pairs.append((done, lab[lab >= 0], np.ones(len(done))))
        todo = todo[lab < 0]
        if not len(todo):
            return
        res = measure_overlaps(
            x, y, start[todo], ncoord[todo], is_poly[todo], self.layer.geoms_m, self.edges, self.grid, check_rounding=with_shares
        )
        done = todo[res.certain]
        self.primary[done] = res.primary[res.certain]
        self.exact[done] = False
        self.pairs.append((todo[res.pair_geom], res.pair_poly, res.pair_share))

    def finish(self, sub_m: np.ndarray, pos: np.ndarray) -> Overlaps:
        """Overlay the rest exactly and gather every pair, grouped by geometry."""
        rest = np.flatnonzero(self.exact)
        if len(rest):
            exact = largest_overlap(sub_m[pos[rest]], self.layer)
            self.primary[rest] = exact.primary
            self.pairs.append((rest[exact.pair_geom], exact.pair_poly, exact.pair_share))
        gi = np.concatenate([p[0] for p in self.pairs])
        order = np.argsort(gi, kind="stable")
        return Overlaps(
            primary=self.primary,
            pair_geom=gi[order],
            pair_poly=np.concatenate([p[1] for p in self.pairs]).astype(np.int64)[order],
            pair_share=np.concatenate([p[2] for p in self.pairs])[order],
        )




def _point_segment_distance(px, py, ax, ay, bx, by) -> np.ndarray:
    """GEOS's ``Distance::pointToSegment``, vectorised, with the same operations in the same order."""
    dxab = bx - ax
    dyab = by - ay
    len2 = dxab * dxab + dyab * dyab
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ((px - ax) * dxab + (py - ay) * dyab) / len2
        s = ((ay - py) * dxab - (ax - px) * dyab) / len2
        d_mid = np.abs(s) * np.sqrt(len2)
    dxa, dya = px - ax, py - ay
    dxb, dyb = px - bx, py - by
    d_a = np.sqrt(dxa * dxa + dya * dya)
    d_b = np.sqrt(dxb * dxb + dyb * dyb)
    same = (ax == bx) & (ay == by)
    return np.where(same | (r <= 0.0), d_a, np.where(r >= 1.0, d_b, d_mid))


def _hubs_fast(hubs: PointLayer, tid, holes, has, x, y, owner, start, cx, cy, radius, minx, miny, maxx, maxy):
    """Nearest hub by the shortcuts of :func:`_link_chunk`; returns index, distance and the mask left to do exactly."""
    n = len(tid)
    hxy = shapely.get_coordinates(hubs.geoms_m)
    hx, hy = hxy[:, 0], hxy[:, 1]
    idx = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    exact = np.ones(n, dtype=bool)

    # points: brute force (a Point has exactly one coordinate)
    pts = np.flatnonzero((tid == 0) & has)
    if len(pts):
        px, py = x[start[pts]], y[start[pts]]
        dx = px[:, None] - hx[None, :]
        dy = py[:, None] - hy[None, :]
        d = np.sqrt(dx * dx + dy * dy)
        best = d.argmin(axis=1)
        dmin = d[np.arange(len(pts)), best]
        d[np.arange(len(pts)), best] = np.inf
        clear = d.min(axis=1) - dmin > 1e-6 if len(hx) > 1 else np.ones(len(pts), dtype=bool)
        ok = pts[clear]
        idx[ok] = best[clear]
        dist[ok] = dmin[clear]
        exact[ok] = False

    # lines and hole-free polygons inside one Voronoi cell
    shapes = (tid == 1) & has
    poly = (tid == 3) & has & ~holes
    cand = np.flatnonzero(shapes | poly)
    if len(cand) and len(hx):
        dx = cx[cand, None] - hx[None, :]
        dy = cy[cand, None] - hy[None, :]
        d2 = dx * dx + dy * dy
        h = d2.argmin(axis=1)
        hhx, hhy = hx[h], hy[h]
        sep = np.sqrt((hhx[:, None] - hx[None, :]) ** 2 + (hhy[:, None] - hy[None, :]) ** 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            to_bisector = (d2 - d2[np.arange(len(cand)), h][:, None]) / (2 * sep)
        to_bisector[np.arange(len(cand)), h] = np.inf
        inside = to_bisector.min(axis=1) > radius[cand] + HUB_MARGIN_M
        # a polygon may contain its hub: then the distance is 0, leave it to GEOS
        hub_in_box = (hhx >= minx[cand]) & (hhx <= maxx[cand]) & (hhy >= miny[cand]) & (hhy <= maxy[cand])
        inside &= ~(poly[cand] & hub_in_box)
        ok = cand[inside]
        hub_of = np.full(n, -1, dtype=np.int64)
        hub_of[ok] = h[inside]
        # segments: consecutive coordinates of the same geometry (hole-free polygons: one closed ring)
        seg = np.flatnonzero((owner[:-1] == owner[1:]) & (hub_of[owner[:-1]] >= 0))
        if len(seg):
            g = owner[seg]
            hseg = hub_of[g]
            dseg = _point_segment_distance(hx[hseg], hy[hseg], x[seg], y[seg], x[seg + 1], y[seg + 1])
            # segments are grouped by geometry, in order
            gstart = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
            dmin = np.minimum.reduceat(dseg, gstart)
            gg = g[gstart]
            idx[gg] = hub_of[gg]
            dist[gg] = dmin
            exact[gg] = False
        # the others (near a Voronoi edge): every hub, unless a polygon's box holds a hub
        any_hub_in_box = (
            (hx[None, :] >= minx[cand, None]) & (hx[None, :] <= maxx[cand, None]) & (hy[None, :] >= miny[cand, None]) & (hy[None, :] <= maxy[cand, None])
        ).any(axis=1)
        rest = cand[~inside & ~(poly[cand] & any_hub_in_box)]
        todo = np.zeros(n, dtype=bool)
        todo[rest] = True
        seg = np.flatnonzero((owner[:-1] == owner[1:]) & todo[owner[:-1]])
        if len(seg):
            g = owner[seg]
            dseg = _point_segment_distance(hx[None, :], hy[None, :], x[seg, None], y[seg, None], x[seg + 1, None], y[seg + 1, None])
            gstart = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
            dmin = np.minimum.reduceat(dseg, gstart, axis=0)  # (shapes, hubs)
            gg = g[gstart]
            best = dmin.argmin(axis=1)  # first minimum: the smaller code
            dbest = dmin[np.arange(len(gg)), best]
            dmin[np.arange(len(gg)), best] = np.inf
            clear = dmin.min(axis=1) - dbest > 1e-6 if len(hx) > 1 else np.ones(len(gg), dtype=bool)
            gg, best, dbest = gg[clear], best[clear], dbest[clear]
            idx[gg] = best
            dist[gg] = dbest
            exact[gg] = False
    return idx, dist, exact
