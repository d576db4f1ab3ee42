"""A lookup grid that proves, without any intersection, that a shape lies inside one polygon.

Used by :mod:`geo.linking` to skip the exact overlap computation for the many
proposals that lie well inside a single budget district or legal dong. The
grid only ever answers "certainly inside polygon ``k``" or "don't know"; every
"don't know" goes the exact way.

How it is built (EPSG:5179, once per reference layer):

* every polygon boundary is densified so that no segment is longer than half a
  cell, and each cell holding a densified vertex is marked;
* the Euclidean distance transform gives, per cell, the distance in cells to
  the nearest marked cell; from it a *clearance* in metres that is a lower bound
  on the distance from any point of the cell to any boundary (see
  :func:`build_interior_grid`);
* cells with positive clearance are grouped in 4-connected components. Within a
  component no path crosses a boundary, so the set of polygons covering it is
  constant; it is computed exactly (``shapely.contains_xy``) at one cell centre
  per component. Components covered by exactly one polygon get that polygon's
  index as label, the others (outside the city, hairline gaps, overlaps) -1.

A shape whose bounding box centre ``c`` lies in a cell with label ``k`` and
clearance greater than the box's half-diagonal ``r`` is wholly inside polygon
``k``, at a positive distance from every boundary of the layer: every point
``p`` of it has ``|p - c| <= r`` and the disc of radius ``r`` around ``c`` holds
no boundary point, so it is connected to ``c``'s cell without crossing one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage

# Lower-bound slack, in cells: a boundary point is within 1/4 cell of a densified
# vertex, and two points in two cells are at most one cell diagonal (sqrt 2) farther
# apart than the cells' centres; 2 covers both with room for rounding.
_SLACK_CELLS = 2.0
_SLACK_M = 1e-3  # and a millimetre for floating-point rounding of the lookups


@dataclass(frozen=True)
class InteriorGrid:
    """Per-cell clearance (m) to the nearest boundary and the single covering polygon (or -1)."""

    x0: float
    y0: float
    cell: float
    clearance: np.ndarray  # float32 (ny, nx), metres, lower bound for any point of the cell
    label: np.ndarray  # int32 (ny, nx), polygon index or -1
    coarse: int = 16  # fine cells per coarse cell side, for the candidate lists
    cand_start: np.ndarray | None = None  # CSR over coarse cells (row-major): polygons touching each
    cand_poly: np.ndarray | None = None

    def candidates(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (point position, polygon index) covering every polygon that may hold each point.

        Points outside the grid get every polygon.
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        size = self.cell * self.coarse
        ny, nx = self.label.shape
        cny, cnx = -(-ny // self.coarse), -(-nx // self.coarse)
        fx = np.floor((x - self.x0) / size)
        fy = np.floor((y - self.y0) / size)
        ok = (fx >= 0) & (fx < cnx) & (fy >= 0) & (fy < cny)
        cid = np.where(ok, fy * cnx + fx, 0).astype(np.int64)
        lo = self.cand_start[cid]
        cnt = self.cand_start[cid + 1] - lo
        total = int(cnt.sum())
        which = np.repeat(np.arange(len(x)), cnt)
        pos = np.repeat(lo, cnt) + (np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt))
        poly = self.cand_poly[pos]
        out = np.flatnonzero(~ok)
        if len(out):
            k = self.n_polys
            which = np.concatenate([which, np.repeat(out, k)])
            poly = np.concatenate([poly, np.tile(np.arange(k), len(out))])
        return which, poly

    @property
    def n_polys(self) -> int:
        return int(self.cand_poly.max()) + 1 if self.cand_poly is not None and len(self.cand_poly) else 0

    def cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Label and clearance (m) of the cell of each point; -1 and -1 outside the grid."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        ny, nx = self.label.shape
        fx = np.floor((x - self.x0) / self.cell)
        fy = np.floor((y - self.y0) / self.cell)
        ok = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
        ix = np.where(ok, fx, 0).astype(np.intp)
        iy = np.where(ok, fy, 0).astype(np.intp)
        return np.where(ok, self.label[iy, ix], -1), np.where(ok, self.clearance[iy, ix], -1.0)

    def lookup_path(self, x: np.ndarray, y: np.ndarray, start: np.ndarray, count: np.ndarray, subdiv: int = 8) -> np.ndarray:
        """Polygon index each vertex path lies wholly inside (clear of every boundary), else -1.

        Path ``i`` is ``x[start[i]:start[i] + count[i]]`` (and ``y``), consecutive
        vertices joined by segments. A segment ``ab`` is clear when the clear discs
        around ``a`` and ``b`` (radii: their cells' clearance) cover it, that is
        when the clearances add up to more than ``|ab|``; failing that, when
        the discs around ``subdiv + 1`` evenly spaced points of ``ab`` (all in
        the same polygon's cells) cover it piece by piece. A polygon's interior
        may still hold a whole ring of the layer: callers must exclude that.
        """
        start = np.asarray(start, dtype=np.int64)
        count = np.asarray(count, dtype=np.int64)
        n = len(start)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return out
        total = int(count.sum())
        own = np.repeat(np.arange(n), count)
        idx = np.repeat(start, count) + (np.arange(total) - np.repeat(np.cumsum(count) - count, count))
        lab, clear = self.cells(x[idx], y[idx])
        first = np.cumsum(count) - count
        nonempty = count > 0
        lo = np.full(n, -1, dtype=np.int64)
        hi = np.full(n, -1, dtype=np.int64)
        lo[nonempty] = np.minimum.reduceat(lab, first[nonempty])
        hi[nonempty] = np.maximum.reduceat(lab, first[nonempty])
        good = nonempty & (lo >= 0) & (lo == hi)
        seg = np.flatnonzero(own[:-1] == own[1:])
        a, b = idx[seg], idx[seg + 1]
        length = np.hypot(x[b] - x[a], y[b] - y[a]) * (1 + 1e-12) + 1e-6
        covered = (clear[seg].astype(float) + clear[seg + 1].astype(float)) > length
        # segments the end discs do not cover: try again with points every 1/subdiv along them
        open_ = np.flatnonzero(~covered & good[own[seg]])
        if len(open_):
            sa, sb = a[open_], b[open_]
            t = np.arange(subdiv + 1) / subdiv
            px = x[sa, None] + (x[sb] - x[sa])[:, None] * t[None, :]
            py = y[sa, None] + (y[sb] - y[sa])[:, None] * t[None, :]
            plab, pclear = self.cells(px.ravel(), py.ravel())
            plab = plab.reshape(px.shape)
            pclear = pclear.reshape(px.shape).astype(float)
            # the sample points are rounded: allow for it in each piece's length
            piece = length[open_] / subdiv + 1e-6
            sub_ok = ((pclear[:, :-1] + pclear[:, 1:]) > piece[:, None]).all(axis=1)
            sub_ok &= (plab == lo[own[seg[open_]]][:, None]).all(axis=1)
            covered[open_[sub_ok]] = True
        bad = np.zeros(n, dtype=bool)
        bad[own[seg[~covered]]] = True
        good &= ~bad
        out[good] = lo[good]
        return out

    def lookup(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray | float = 0.0) -> np.ndarray:
        """Polygon index each disc (centre ``x``, ``y``, ``radius``) lies wholly inside, else -1.

        Only certain answers are given: -1 means "not proven", never "outside".
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        ny, nx = self.label.shape
        fx = np.floor((x - self.x0) / self.cell)
        fy = np.floor((y - self.y0) / self.cell)
        ok = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # NaN compares False
        ix = np.where(ok, fx, 0).astype(np.intp)
        iy = np.where(ok, fy, 0).astype(np.intp)
        clear = self.clearance[iy, ix]
        lab = self.label[iy, ix]
        good = ok & (lab >= 0) & (clear > np.asarray(radius, float))
        return np.where(good, lab, -1).astype(np.int64)


def build_interior_grid(polys_m: np.ndarray, cell: float = 20.0) -> InteriorGrid:
    """Build the grid for a layer of polygons in EPSG:5179.

    Parameters
    ----------
    polys_m : array of Polygon/MultiPolygon
        The layer, indexed as the labels will be.
    cell : float
        Cell size in metres.

    Notes
    -----
    Let a boundary point ``b`` lie within ``cell / 4`` of a densified vertex
    ``v`` (segments are at most ``cell / 2`` long) in marked cell ``m``, and let
    ``q`` be any point of cell ``c``. Then ``|q - b| >= |q - v| - cell / 4 >=
    (edt(c) - sqrt 2) * cell - cell / 4``, where ``edt(c)`` is the distance
    between the centres of ``c`` and its nearest marked cell, in cells. The
    stored clearance is ``(edt(c) - 2) * cell - 1 mm``, smaller still.
    """
    polys_m = np.asarray(polys_m, dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(polys_m)
    pad = 4 * cell
    x0 = np.floor((minx - pad) / cell) * cell
    y0 = np.floor((miny - pad) / cell) * cell
    nx = int(np.ceil((maxx + pad - x0) / cell)) + 1
    ny = int(np.ceil((maxy + pad - y0) / cell)) + 1
    boundaries = shapely.segmentize(shapely.boundary(polys_m), cell / 2)
    v = shapely.get_coordinates(boundaries)
    ix = np.floor((v[:, 0] - x0) / cell).astype(np.intp)
    iy = np.floor((v[:, 1] - y0) / cell).astype(np.intp)
    free = np.ones((ny, nx), dtype=bool)
    free[iy, ix] = False
    edt = ndimage.distance_transform_edt(free)
    clearance = (edt - _SLACK_CELLS) * cell - _SLACK_M
    clearance[~free] = -1.0
    positive = clearance > 0
    comp, ncomp = ndimage.label(positive)
    label = np.full((ny, nx), -1, dtype=np.int32)
    if ncomp:
        flat = comp.ravel()
        ids, first = np.unique(flat, return_index=True)
        first = first[ids > 0]
        ids = ids[ids > 0]
        ry, rx = np.unravel_index(first, comp.shape)
        cx = x0 + (rx + 0.5) * cell
        cy = y0 + (ry + 0.5) * cell
        inside = np.stack([shapely.contains_xy(p, cx, cy) for p in polys_m]) if len(polys_m) else np.zeros((0, len(ids)), bool)
        count = inside.sum(axis=0)
        owner = np.where(count == 1, inside.argmax(axis=0), -1)
        per_comp = np.full(ncomp + 1, -1, dtype=np.int32)
        per_comp[ids] = owner
        label = per_comp[comp]
    clearance = np.where(label >= 0, clearance, -1.0).astype(np.float32)
    coarse = 16
    cny, cnx = -(-ny // coarse), -(-nx // coarse)
    size = cell * coarse
    jy, jx = np.divmod(np.arange(cny * cnx), cnx)
    m = 1e-3  # boxes a millimetre larger: a point rounded into the neighbouring cell still finds its polygons
    boxes = shapely.box(x0 + jx * size - m, y0 + jy * size - m, x0 + (jx + 1) * size + m, y0 + (jy + 1) * size + m)
    ci, pi = shapely.STRtree(polys_m).query(boxes, predicate="intersects")
    order = np.lexsort((pi, ci))
    ci, pi = ci[order], pi[order]
    cand_start = np.zeros(cny * cnx + 1, dtype=np.int64)
    np.cumsum(np.bincount(ci, minlength=cny * cnx), out=cand_start[1:])
    return InteriorGrid(
        x0=float(x0), y0=float(y0), cell=float(cell), clearance=clearance, label=label, coarse=coarse, cand_start=cand_start, cand_poly=pi.astype(np.int64)
    )
