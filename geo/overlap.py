"""Overlap lengths and areas of many small shapes with a polygon layer, without GEOS overlays.

:func:`geo.linking.largest_overlap` intersects each shape with each polygon it
touches (a GEOS overlay per pair, 10-30 µs). For lines and hole-free polygons
this module gets the same measures from the shapes' and the layer's segments in
numpy:

* every segment of a shape is cut where it meets a layer edge, and every layer
  edge near a polygonal shape where it meets the shape's boundary;
* each piece is classified by its midpoint (which layer polygons hold a piece
  of the shape; is a piece of a layer edge inside the shape);
* a line's length in polygon ``P`` is the length of its pieces inside ``P``; a
  polygon's area in ``P`` is the boundary integral ``1/2 ∮ x dy - y dx`` over
  ``∂(g ∩ P)``, made of the pieces of ``∂g`` inside ``P`` and the pieces of
  ``∂P`` inside ``g`` (both oriented with the interior on the left).

The results equal GEOS's up to rounding (about 1e-13 relative). Whatever could
make them differ in substance is detected and reported as *uncertain*, and the
caller computes those shapes exactly: a shape segment nearly parallel to a
nearby layer edge (overlapping boundaries), a piece whose midpoint may be
within rounding of a boundary, a touched polygon with (almost) no overlap, an
orphan, and near-ties of the largest overlap or of a share's 6th decimal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo.interior import InteriorGrid

BOX_TOL_M = 1e-3  # layer edges within this of a shape's bounding box are candidates
PARAM_EPS = 1e-9  # cut parameters this far outside [0, 1] still cut (extra cuts are harmless)
MIN_SIN = 1e-4  # a shape segment and a candidate edge closer to parallel: uncertain
CLEARANCE_M = 1e-6  # a piece midpoint must be provably this far from every boundary
TINY_M = 1e-9  # pieces shorter than this are dropped (their effect is counted as noise)
REL_TOL = 1e-10  # relative tolerance of the measures against GEOS's


@dataclass(frozen=True)
class LayerEdges:
    """The oriented edges (interior on the left) of a polygon layer, in EPSG:5179, with an index."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    poly: np.ndarray
    tree: shapely.STRtree
    ring_bounds: np.ndarray  # (rings, 4) minx, miny, maxx, maxy of every ring

    @classmethod
    def from_polygons(cls, polys_m: np.ndarray) -> "LayerEdges":
        """Edges of every ring of every polygon (exteriors counter-clockwise, holes clockwise)."""
        oriented = shapely.orient_polygons(np.asarray(polys_m, dtype=object))
        parts, part_of = shapely.get_parts(oriented, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        same = ring_of[:-1] == ring_of[1:]
        a = np.flatnonzero(same)
        poly = part_of[ring_part[ring_of[a]]]
        x0, y0, x1, y1 = coords[a, 0], coords[a, 1], coords[a + 1, 0], coords[a + 1, 1]
        lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
        return cls(x0=x0, y0=y0, x1=x1, y1=y1, poly=poly.astype(np.int64), tree=shapely.STRtree(lines), ring_bounds=shapely.bounds(rings))

    def private_copy(self) -> "LayerEdges":
        """The same edges with a tree of their own (for another thread)."""
        lines = shapely.linestrings(np.stack([np.column_stack([self.x0, self.y0]), np.column_stack([self.x1, self.y1])], axis=1))
        return LayerEdges(self.x0, self.y0, self.x1, self.y1, self.poly, shapely.STRtree(lines), self.ring_bounds)

    def rings_within(self, minx: np.ndarray, miny: np.ndarray, maxx: np.ndarray, maxy: np.ndarray) -> np.ndarray:
        """Per box: does some ring of the layer lie within it (bounding boxes, boundaries included)?"""
        out = np.zeros(len(minx), dtype=bool)
        rb = self.ring_bounds
        for lo in range(0, len(rb), 64):
            r = rb[lo : lo + 64]
            out |= (
                (r[None, :, 0] >= minx[:, None]) & (r[None, :, 2] <= maxx[:, None]) & (r[None, :, 1] >= miny[:, None]) & (r[None, :, 3] <= maxy[:, None])
            ).any(axis=1)
        return out


@dataclass(frozen=True)
class MeasuredOverlaps:
    """Per-shape results of :func:`measure_overlaps` (arrays over the shapes asked about)."""

    certain: np.ndarray  # bool per shape; False: compute it exactly
    primary: np.ndarray  # polygon index per shape (-1 where not certain)
    pair_geom: np.ndarray  # shape position (into the shapes asked about) of each pair, certain shapes only
    pair_poly: np.ndarray
    pair_share: np.ndarray


def _ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(starts[i], starts[i] + counts[i])`` and the ``i`` of each element."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    which = np.repeat(np.arange(len(counts)), counts)
    offs = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offs, which


def _cross(ax, ay, bx, by):
    return ax * by - ay * bx


def _lexsort2(minor: np.ndarray, major: np.ndarray, kind: str = "quicksort") -> np.ndarray:
    """``np.lexsort((minor, major))``, faster: sort by the minor key, then stably by the major one.

    With ``kind="stable"`` ties of both keys keep their input order.
    """
    o = np.argsort(minor, kind=kind)
    return o[np.argsort(major[o], kind="stable")]


def _pieces(key: np.ndarray, t: np.ndarray, nkeys: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut parameters per key sorted into consecutive pieces of [0, 1]: key, t0, t1 (keys without cuts: one piece)."""
    t = np.clip(t, 0.0, 1.0)
    order = _lexsort2(t, key)
    key, t = key[order], t[order]
    m = len(key)
    uncut = np.ones(nkeys, dtype=bool)
    uncut[key] = False
    if m == 0:
        k = np.flatnonzero(uncut)
        return k, np.zeros(len(k)), np.ones(len(k))
    head = np.ones(m, dtype=bool)
    head[1:] = key[1:] != key[:-1]
    tail = np.ones(m, dtype=bool)
    tail[:-1] = key[1:] != key[:-1]
    inner = np.flatnonzero(~tail)  # piece from cut i to cut i + 1 of the same key
    first = np.flatnonzero(head)
    last = np.flatnonzero(tail)
    k0 = np.flatnonzero(uncut)
    keys = np.concatenate([k0, key[first], key[inner], key[last]])
    t0 = np.concatenate([np.zeros(len(k0)), np.zeros(len(first)), t[inner], t[last]])
    t1 = np.concatenate([np.ones(len(k0)), t[first], t[inner + 1], np.ones(len(last))])
    return keys, t0, t1


def measure_overlaps(
    x: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    count: np.ndarray,
    is_polygon: np.ndarray,
    layer_polys: np.ndarray,
    edges: LayerEdges,
    grid: InteriorGrid,
    check_rounding: bool = True,
) -> MeasuredOverlaps:
    """Largest overlap of lines and hole-free polygons with a polygon layer (see the module docstring).

    Parameters
    ----------
    x, y : ndarray
        Coordinates in EPSG:5179 (all shapes' coordinates may be in there).
    start, count : ndarray
        Per shape: its first coordinate in ``x``/``y`` and how many (a polygon's
        closed exterior ring, or a line's vertices).
    is_polygon : ndarray of bool
        Per shape: polygon (area) or line (length).
    layer_polys : ndarray
        The layer's prepared polygons.
    edges, grid : the layer's :class:`LayerEdges` and :class:`geo.interior.InteriorGrid`.
    check_rounding : bool
        Also mark uncertain a shape with a share within rounding of a 6th-decimal tie.

    Returns
    -------
    MeasuredOverlaps
        The primary polygon, pairs and shares of every certain shape, with the
        rule of :func:`geo.linking.largest_overlap` (largest measure, ties to the
        smaller index; shares of the positive measures).
    """
    ns = len(start)
    npoly = len(layer_polys)
    ok = np.ones(ns, dtype=bool)
    empty = MeasuredOverlaps(ok & False, np.full(ns, -1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if ns == 0 or npoly == 0:
        return empty
    start = np.asarray(start, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    # shape bounding boxes and local origins (the box centres)
    cidx, cown = _ranges(start, count)
    gx, gy = x[cidx], y[cidx]
    cstart = np.cumsum(count) - count
    minx = np.minimum.reduceat(gx, cstart)
    maxx = np.maximum.reduceat(gx, cstart)
    miny = np.minimum.reduceat(gy, cstart)
    maxy = np.maximum.reduceat(gy, cstart)
    ox = (minx + maxx) / 2
    oy = (miny + maxy) / 2
    rad = 0.5 * np.hypot(maxx - minx, maxy - miny)
    ok &= np.isfinite(minx) & np.isfinite(maxx) & np.isfinite(miny) & np.isfinite(maxy)
    lx = gx - ox[cown]
    ly = gy - oy[cown]
    # orientation of polygon rings (+1 counter-clockwise)
    seg_ok = cown[:-1] == cown[1:]
    sa = np.flatnonzero(seg_ok)  # segment i goes from local coordinate sa[i] to sa[i] + 1
    sg = cown[sa]
    ring2 = np.bincount(sg, weights=_cross(lx[sa], ly[sa], lx[sa + 1], ly[sa + 1]), minlength=ns)
    orient = np.where(ring2 >= 0, 1.0, -1.0)
    ok &= ~(is_polygon & (ring2 == 0))
    sax, say = lx[sa], ly[sa]
    sdx, sdy = lx[sa + 1] - sax, ly[sa + 1] - say
    slen = np.hypot(sdx, sdy)
    ok[sg[slen == 0]] = False
    nseg = len(sa)
    seg_first = np.searchsorted(sg, np.arange(ns))
    seg_count = np.bincount(sg, minlength=ns)

    # candidate (shape, edge) pairs by bounding box, then (segment, edge) pairs
    boxes = shapely.box(minx - BOX_TOL_M, miny - BOX_TOL_M, maxx + BOX_TOL_M, maxy + BOX_TOL_M)
    pg, pe = edges.tree.query(boxes)
    npair = len(pg)
    sidx, pair_of = _ranges(seg_first[pg], seg_count[pg])
    e = pe[pair_of]
    g = pg[pair_of]
    # segment vs edge bounding boxes
    ex0, ey0 = edges.x0[e] - ox[g], edges.y0[e] - oy[g]
    edx, edy = edges.x1[e] - edges.x0[e], edges.y1[e] - edges.y0[e]
    s_x0, s_y0, s_dx, s_dy = sax[sidx], say[sidx], sdx[sidx], sdy[sidx]
    near = (
        (np.minimum(s_x0, s_x0 + s_dx) <= np.maximum(ex0, ex0 + edx) + BOX_TOL_M)
        & (np.minimum(ex0, ex0 + edx) <= np.maximum(s_x0, s_x0 + s_dx) + BOX_TOL_M)
        & (np.minimum(s_y0, s_y0 + s_dy) <= np.maximum(ey0, ey0 + edy) + BOX_TOL_M)
        & (np.minimum(ey0, ey0 + edy) <= np.maximum(s_y0, s_y0 + s_dy) + BOX_TOL_M)
    )
    sidx, pair_of, e, g = sidx[near], pair_of[near], e[near], g[near]
    ex0, ey0, edx, edy = ex0[near], ey0[near], edx[near], edy[near]
    s_x0, s_y0, s_dx, s_dy = s_x0[near], s_y0[near], s_dx[near], s_dy[near]
    den = _cross(s_dx, s_dy, edx, edy)
    elen = np.hypot(edx, edy)
    # A zero-length segment or edge (a repeated vertex) has no direction: NaN, which counts as
    # parallel, without dividing by zero (numpy warned "invalid value encountered in divide").
    lens = slen[sidx] * elen
    sin = np.divide(np.abs(den), lens, out=np.full(len(den), np.nan), where=lens > 0)
    parallel = ~(sin >= MIN_SIN)  # NaN counts as parallel
    ok[g[parallel]] = False
    with np.errstate(invalid="ignore", divide="ignore"):
        wx, wy = ex0 - s_x0, ey0 - s_y0
        t = _cross(wx, wy, edx, edy) / den
        u = _cross(wx, wy, s_dx, s_dy) / den
    t_in = (t >= -PARAM_EPS) & (t <= 1 + PARAM_EPS) & ~parallel
    u_in = (u >= -PARAM_EPS) & (u <= 1 + PARAM_EPS) & ~parallel
    touched_g = g[t_in & u_in]
    touched_p = edges.poly[e[t_in & u_in]]
    sin_seg = np.full(nseg, np.inf)
    np.minimum.at(sin_seg, sidx, np.where(parallel, 0.0, sin))
    sin_pair = np.full(npair, np.inf)
    np.minimum.at(sin_pair, pair_of, np.where(parallel, 0.0, sin))

    # pieces of the shapes' segments
    keys, t0, t1 = _pieces(sidx[t_in], t[t_in], nseg)
    plen = (t1 - t0) * slen[keys]
    pgeom = sg[keys]
    tiny = plen < TINY_M
    dropped = np.bincount(pgeom[tiny], minlength=ns)
    keep = ~tiny
    keys, t0, t1, plen, pgeom = keys[keep], t0[keep], t1[keep], plen[keep], pgeom[keep]
    unsure = 0.5 * plen * sin_seg[keys] < CLEARANCE_M
    ok[pgeom[unsure]] = False
    ax_, ay_ = sax[keys], say[keys]
    p0x, p0y = ax_ + sdx[keys] * t0, ay_ + sdy[keys] * t0
    p1x, p1y = ax_ + sdx[keys] * t1, ay_ + sdy[keys] * t1
    mx = ax_ + sdx[keys] * ((t0 + t1) / 2) + ox[pgeom]
    my = ay_ + sdy[keys] * ((t0 + t1) / 2) + oy[pgeom]
    contrib = np.where(is_polygon[pgeom], _cross(p0x, p0y, p1x, p1y) / 2 * orient[pgeom], plen)
    # which layer polygons hold each piece: the grid where it knows, else exactly
    lab = grid.lookup(mx, my, 0.0)
    mem_piece = [np.flatnonzero(lab >= 0)]
    mem_poly = [lab[mem_piece[0]]]
    rest = np.flatnonzero(lab < 0)
    if len(rest):
        which, cand = grid.candidates(mx[rest], my[rest])
        piece = rest[which]
        inside = shapely.contains_xy(layer_polys[cand], mx[piece], my[piece])
        mem_piece.append(piece[inside])
        mem_poly.append(cand[inside])
    mpiece = np.concatenate(mem_piece)
    mpoly = np.concatenate(mem_poly).astype(np.int64)
    acc_key = [pgeom[mpiece] * npoly + mpoly]
    acc_val = [contrib[mpiece]]

    # pieces of the layer edges inside polygonal shapes
    polypair = np.flatnonzero(is_polygon[pg])
    if len(polypair):
        sel = is_polygon[g] & u_in  # wherever a shape segment's line crosses the edge
        pid = np.full(npair, -1, dtype=np.int64)
        pid[polypair] = np.arange(len(polypair))
        k2, u0, u1 = _pieces(pid[pair_of[sel]], u[sel], len(polypair))
        pair = polypair[k2]
        ge, ee = pg[pair], pe[pair]
        fx0, fy0 = edges.x0[ee] - ox[ge], edges.y0[ee] - oy[ge]
        fdx, fdy = edges.x1[ee] - edges.x0[ee], edges.y1[ee] - edges.y0[ee]
        flen = (u1 - u0) * np.hypot(fdx, fdy)
        tiny = flen < TINY_M
        dropped += np.bincount(ge[tiny], minlength=ns)
        um = (u0 + u1) / 2
        qx, qy = fx0 + fdx * um, fy0 + fdy * um
        # a midpoint outside the shape's box (with room for rounding) is outside the shape
        hx, hy = (maxx - minx)[ge] / 2 + 2 * CLEARANCE_M, (maxy - miny)[ge] / 2 + 2 * CLEARANCE_M
        keep = ~tiny & (np.abs(qx) <= hx) & (np.abs(qy) <= hy)
        pair, ge, ee, u0, u1, flen, qx, qy = pair[keep], ge[keep], ee[keep], u0[keep], u1[keep], flen[keep], qx[keep], qy[keep]
        fx0, fy0, fdx, fdy = fx0[keep], fy0[keep], fdx[keep], fdy[keep]
        unsure = 0.5 * flen * sin_pair[pair] < CLEARANCE_M
        ok[ge[unsure]] = False
        # crossing number of the midpoint against the shape's ring (local coordinates)
        pos, which = _ranges(seg_first[ge], seg_count[ge])
        ax2, ay2 = sax[pos], say[pos]
        bx2, by2 = ax2 + sdx[pos], ay2 + sdy[pos]
        px, py = qx[which], qy[which]
        straddle = (ay2 > py) != (by2 > py)
        with np.errstate(invalid="ignore", divide="ignore"):
            xint = ax2 + (py - ay2) * (bx2 - ax2) / (by2 - ay2)
        hit = straddle & (px < xint)
        inside = (np.bincount(which, weights=hit, minlength=len(ge)) % 2) == 1
        c0x, c0y = fx0 + fdx * u0, fy0 + fdy * u0
        c1x, c1y = fx0 + fdx * u1, fy0 + fdy * u1
        acc_key.append(ge[inside] * npoly + edges.poly[ee[inside]])
        acc_val.append(_cross(c0x, c0y, c1x, c1y)[inside] / 2)

    key = np.concatenate(acc_key)
    val = np.concatenate(acc_val)
    scale = np.where(is_polygon, np.maximum(rad, 1.0) ** 2, np.maximum(rad, 1.0))
    tol = REL_TOL * scale + dropped * TINY_M * (rad + 1.0) * 4
    tkey = touched_g * npoly + touched_p
    if ns * npoly <= 8_000_000:  # dense keys: bincounts instead of sorting
        size = ns * npoly
        dense = np.bincount(key, weights=val, minlength=size)
        seen = np.zeros(size, dtype=bool)
        seen[key] = True
        ukey = np.flatnonzero(seen)
        meas = dense[ukey]
        clear = np.zeros(size, dtype=bool)
        clear[ukey[meas > tol[ukey // npoly]]] = True
        missing = tkey[~clear[tkey]]
    else:
        ukey, inv = np.unique(key, return_inverse=True)
        meas = np.bincount(inv, weights=val, minlength=len(ukey))
        missing = tkey[~np.isin(tkey, ukey[meas > tol[ukey // npoly]])]
    mg = ukey // npoly
    mp = ukey % npoly
    # touched polygons must have a clearly positive measure; none may be ambiguous
    ok[missing // npoly] = False
    ok[mg[np.abs(meas) <= tol[mg]]] = False
    ok[mg[meas < -tol[mg]]] = False
    pos_m = meas > tol[mg]
    mg, mp, meas = mg[pos_m], mp[pos_m], meas[pos_m]
    has_any = np.bincount(mg, minlength=ns) > 0
    ok &= has_any
    total = np.bincount(mg, weights=meas, minlength=ns)
    share = meas / total[mg]
    # by shape, largest measure first, ties by polygon index (the keys came sorted by shape, then index)
    order = _lexsort2(-meas, mg, kind="stable")
    mg, mp, meas, share = mg[order], mp[order], meas[order], share[order]
    first = np.ones(len(mg), dtype=bool)
    first[1:] = mg[1:] != mg[:-1]
    # near-ties of the largest measure
    second = np.flatnonzero(~first)
    second = second[first[second - 1]] if len(second) else second
    close = meas[second - 1] - meas[second] <= 2 * tol[mg[second]]
    ok[mg[second[close]]] = False
    if check_rounding:
        frac = np.abs((share * 1e6) % 1.0 - 0.5)
        band = 1e6 * 4 * tol[mg] / total[mg] + 1e-6
        ok[mg[frac <= band]] = False
    primary = np.full(ns, -1, dtype=np.int64)
    primary[mg[first]] = mp[first]
    primary[~ok] = -1
    keep = ok[mg]
    return MeasuredOverlaps(certain=ok, primary=primary, pair_geom=mg[keep], pair_poly=mp[keep], pair_share=share[keep])
