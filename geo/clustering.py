"""DBSCAN on geometries in metres, with canonical, deterministic labels.

The planners' review groups proposals that lie close together. Points, lines
and polygons take part by their geometry, not by a centroid: the distance
between two features is the shortest distance between their geometries (a
long line that passes by a group is near the group even when its centroid is
far away). Inputs are shapely geometries in EPSG:5179 metres; project them
with :func:`geo.crs.to_metric` first.

Rules
-----
- Neighbours: two geometries are neighbours when their distance is at most
  ``eps`` (``<=``, as PostGIS ``ST_DWithin`` and ``ST_ClusterDBSCAN``).
  Every geometry is its own neighbour.
- Core geometry: one with at least ``min_size`` neighbours, itself included.
- Clusters: the connected components of the graph of core geometries joined
  when they are neighbours.
- Border geometry: a non-core geometry with at least one core neighbour. It
  joins the cluster of its core neighbour with the **lowest index** (DBSCAN
  leaves this choice open; this rule makes it reproducible, and the database
  path in :mod:`store.analysis` applies the same rule with the proposal id
  as index).
- Noise: every other geometry, labelled ``-1``.
- Labels: clusters are numbered ``0, 1, 2, ...`` in the order of their
  smallest member index (border members included). The labels depend only
  on the geometries and their order, never on the spatial index or on
  hashing, so the same input always gives the same labels.

With ``min_size=1`` every geometry is a core geometry and the clusters are
the groups of geometries chained by gaps of at most ``eps`` (single linkage).

The neighbour pairs come from one vectorised ``STRtree`` query and
vectorised distance tests (see :func:`neighbour_pairs`), the clusters from
:func:`scipy.sparse.csgraph.connected_components`; nothing loops over
features in Python.
"""
from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import Refusal

#: Largest accepted neighbourhood distance in metres (Goyang is about 20 km across).
MAX_EPS_M = 20_000.0
#: Largest accepted minimum cluster size.
MAX_MIN_SIZE = 1_000
#: Label of geometries that belong to no cluster.
NOISE = -1


class ClusteringRefused(Refusal):
    """Clustering parameters or inputs that cannot be used (Korean and English message)."""


def check_eps(eps_m: Any) -> float:
    """``eps_m`` as a float if it is a usable distance in metres, else :class:`ClusteringRefused`.

    Parameters
    ----------
    eps_m : number
        Finite, greater than 0 and at most :data:`MAX_EPS_M`.

    Returns
    -------
    float
    """
    if isinstance(eps_m, bool) or not isinstance(eps_m, numbers.Real):
        raise ClusteringRefused(
            "bad_eps",
            f"거리(eps)는 미터 단위의 숫자여야 합니다 (받은 값: {str(eps_m)[:40]!r}). 예: 150",
            f"The distance (eps) must be a number of metres (got {str(eps_m)[:40]!r}). For example: 150.",
        )
    value = float(eps_m)
    if not math.isfinite(value) or value <= 0:
        raise ClusteringRefused(
            "bad_eps",
            f"거리(eps)는 0보다 큰 유한한 값이어야 합니다 (받은 값: {value}). 예: 150 (미터)",
            f"The distance (eps) must be finite and greater than 0 (got {value}). For example: 150 (metres).",
        )
    if value > MAX_EPS_M:
        raise ClusteringRefused(
            "eps_too_large",
            f"거리(eps) {value:,.0f} m는 너무 큽니다. {MAX_EPS_M:,.0f} m 이하로 정해 주세요.",
            f"The distance (eps) of {value:,.0f} m is too large. Please choose at most {MAX_EPS_M:,.0f} m.",
        )
    return value


def check_min_size(min_size: Any) -> int:
    """``min_size`` as an int if it is a usable minimum cluster size, else :class:`ClusteringRefused`.

    Parameters
    ----------
    min_size : int
        A whole number from 1 to :data:`MAX_MIN_SIZE` (booleans and
        fractional numbers are refused).

    Returns
    -------
    int
    """
    if isinstance(min_size, bool) or not isinstance(min_size, numbers.Integral):
        raise ClusteringRefused(
            "bad_min_size",
            f"최소 개수는 1 이상의 정수여야 합니다 (받은 값: {str(min_size)[:40]!r}). 예: 3",
            f"The minimum size must be a whole number of at least 1 (got {str(min_size)[:40]!r}). For example: 3.",
        )
    value = int(min_size)
    if value < 1 or value > MAX_MIN_SIZE:
        raise ClusteringRefused(
            "bad_min_size",
            f"최소 개수는 1부터 {MAX_MIN_SIZE:,}까지의 정수여야 합니다 (받은 값: {value}). 예: 3",
            f"The minimum size must be a whole number from 1 to {MAX_MIN_SIZE:,} (got {value}). For example: 3.",
        )
    return value


def _as_geometries(geoms: Any) -> np.ndarray:
    arr = np.asarray(geoms, dtype=object)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if len(arr) == 0:
        return arr
    is_geom = np.asarray(shapely.is_geometry(arr), dtype=bool)
    if not is_geom.all():
        i = int(np.flatnonzero(~is_geom)[0])
        raise ClusteringRefused(
            "missing_geometry",
            f"{i + 1}번째 항목에 도형이 없습니다. 모든 항목에 점, 선 또는 다각형을 넣어 주세요.",
            f"Item {i + 1} has no geometry. Please give every item a point, line or polygon.",
        )
    empty = shapely.is_empty(arr)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise ClusteringRefused(
            "empty_geometry",
            f"{i + 1}번째 도형이 비어 있습니다. 비어 있지 않은 점, 선 또는 다각형을 넣어 주세요.",
            f"Geometry {i + 1} is empty. Please give a non-empty point, line or polygon.",
        )
    return arr


def neighbour_pairs(geoms_metric: Any, eps_m: float) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs ``(i, j)`` with ``distance(geoms[i], geoms[j]) <= eps_m``, ``(i, i)`` included.

    Parameters
    ----------
    geoms_metric : array-like of shapely geometries
        In EPSG:5179 metres, non-empty.
    eps_m : float
        Neighbourhood distance in metres (checked with :func:`check_eps`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Two int64 arrays of equal length, each pair present in both orders.
    """
    return _pairs(_as_geometries(geoms_metric), check_eps(eps_m))


#: Geometries whose candidate pairs are decided together (bounds the memory of one step).
_CHUNK = 4096
#: Inputs from which the chunks are spread over threads (shapely and numpy release the GIL).
_THREAD_MIN_GEOMS = 20_000


class _PairFinder:
    """What the neighbour search of one input needs, computed once (see :func:`_pairs`)."""

    def __init__(self, geoms: np.ndarray, eps: float) -> None:
        self.geoms = geoms
        self.eps = eps
        self.bounds = shapely.bounds(geoms)
        self.tree = shapely.STRtree(geoms)
        b = self.bounds
        self.grown = shapely.box(b[:, 0] - eps, b[:, 1] - eps, b[:, 2] + eps, b[:, 3] + eps)
        self.tree.query(self.grown[:1])  # GEOS may build the tree on its first query: do it before any thread reads it
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        _, first = np.unique(owner, return_index=True)
        self.vertex = coords[first]  # the first vertex of each geometry
        self.type_id = shapely.get_type_id(geoms)
        self.is_point = self.type_id == 0
        # Lines and polygons (not their multi forms) are measured against points in numpy.
        self.simple = (self.type_id == 1) | (self.type_id == 3)
        self.slot = np.full(len(geoms), -1, dtype=np.int64)
        if self.is_point.any() and self.simple.any():
            owners = np.flatnonzero(self.simple)
            self.slot[owners] = np.arange(len(owners))
            self.seg_start, seg_end, self.seg_first = _segments(geoms, owners)
            self.seg_d = seg_end - self.seg_start
            length2 = np.einsum("ij,ij->i", self.seg_d, self.seg_d)
            self.seg_inv_length2 = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 > 0)

    def chunk(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """The neighbour pairs ``(i, j)``, ``i < j``, with ``lo <= i < hi``."""
        eps, b, v = self.eps, self.bounds, self.vertex
        left, right = self.tree.query(self.grown[lo:hi])
        left = left.astype(np.int64) + lo
        right = right.astype(np.int64)
        keep = left < right
        left, right = left[keep], right[keep]
        # Lower bound of the distance: the gap between the two boxes.
        gap_x = np.maximum(0.0, np.maximum(b[left, 0] - b[right, 2], b[right, 0] - b[left, 2]))
        gap_y = np.maximum(0.0, np.maximum(b[left, 1] - b[right, 3], b[right, 1] - b[left, 3]))
        keep = np.hypot(gap_x, gap_y) <= eps
        left, right = left[keep], right[keep]
        # Upper bound: the distance between their first vertices (the distance itself for two points).
        within = np.hypot(v[left, 0] - v[right, 0], v[left, 1] - v[right, 1]) <= eps
        todo = ~within & ~(self.is_point[left] & self.is_point[right])
        point_first = todo & self.is_point[left] & self.simple[right]
        point_second = todo & self.is_point[right] & self.simple[left]
        by_segments = point_first | point_second
        if by_segments.any():
            pts = np.where(point_first, left, right)[by_segments]
            shapes = np.where(point_first, right, left)[by_segments]
            within[by_segments] = self._point_within(pts, shapes)
        rest = np.flatnonzero(todo & ~by_segments)
        if len(rest):
            within[rest] = shapely.dwithin(self.geoms[left[rest]], self.geoms[right[rest]], eps)
        return left[within], right[within]

    def _point_within(self, pts: np.ndarray, shapes: np.ndarray) -> np.ndarray:
        """Whether each point ``pts[k]`` is within ``eps`` of the line or polygon ``shapes[k]``.

        The distance to a line is the smallest distance to its segments; a
        polygon is also at distance 0 from a point it holds.
        """
        slot = self.slot[shapes]
        first = self.seg_first[slot]
        counts = self.seg_first[slot + 1] - first
        offsets = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        seg = np.repeat(first - offsets, counts) + np.arange(int(offsets[-1] + counts[-1]))
        # From each segment's start to the point, its projection t on the segment, then the gap.
        d = self.seg_d[seg]
        w = np.repeat(self.vertex[pts], counts, axis=0) - self.seg_start[seg]
        t = np.einsum("ij,ij->i", w, d) * self.seg_inv_length2[seg]
        np.clip(t, 0.0, 1.0, out=t)
        w -= t[:, None] * d
        within = np.sqrt(np.minimum.reduceat(np.einsum("ij,ij->i", w, w), offsets)) <= self.eps
        # A point inside a polygon (and not near its boundary) is at distance 0.
        inside = np.flatnonzero(~within & (self.type_id[shapes] == 3))
        if len(inside):
            p = self.vertex[pts[inside]]
            within[inside] = shapely.intersects_xy(self.geoms[shapes[inside]], p[:, 0], p[:, 1])
        return within


def _pairs(geoms: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric neighbour pairs, self pairs included (see :func:`neighbour_pairs`).

    Candidates are pairs whose bounding boxes come within ``eps`` (an
    ``STRtree`` query with the boxes grown by ``eps``; much faster than the
    tree's own ``dwithin`` predicate, which tests every candidate in both
    orders). Each unordered candidate pair is then decided once: rejected
    when the gap between the boxes is over ``eps``; accepted when their
    first vertices are within ``eps`` (an upper bound of the distance, and
    the distance itself for two points); a point against a line or polygon
    by vectorised point-to-segment distances (and, for a polygon, whether it
    holds the point); anything else by GEOS ``dwithin``. The work goes in
    chunks of :data:`_CHUNK` geometries, over a few threads for large inputs.
    """
    n = len(geoms)
    self_pairs = np.arange(n, dtype=np.int64)
    if n == 0:
        return self_pairs, self_pairs
    finder = _PairFinder(geoms, eps)
    ranges = [(lo, min(n, lo + _CHUNK)) for lo in range(0, n, _CHUNK)]
    workers = min(4, os.cpu_count() or 1)
    if n >= _THREAD_MIN_GEOMS and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lambda r: finder.chunk(*r), ranges))
    else:
        parts = [finder.chunk(lo, hi) for lo, hi in ranges]
    left = np.concatenate([p[0] for p in parts])
    right = np.concatenate([p[1] for p in parts])
    return np.concatenate([self_pairs, left, right]), np.concatenate([self_pairs, right, left])


def _segments(geoms: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The straight segments of lines and polygon rings, grouped by owner.

    Returns ``(start_xy, end_xy, first)``: segment end points, and for each
    owner in ``owners`` (sorted) the index of its first segment (owner ``k``
    has segments ``first[k]`` to ``first[k + 1] - 1``).
    """
    type_id = shapely.get_type_id(geoms[owners])
    polygons = type_id == 3
    rings, ring_owner = shapely.get_rings(geoms[owners[polygons]], return_index=True)
    lines = np.concatenate([geoms[owners[~polygons]], rings])
    line_owner = np.concatenate([np.flatnonzero(~polygons), np.flatnonzero(polygons)[ring_owner]])
    order = np.argsort(line_owner, kind="stable")
    lines, line_owner = lines[order], line_owner[order]
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    same_line = line_of[1:] == line_of[:-1]
    start, end = coords[:-1][same_line], coords[1:][same_line]
    seg_owner = line_owner[line_of[:-1][same_line]]
    first = np.searchsorted(seg_owner, np.arange(len(owners) + 1))
    return start, end, first


def _labels_from_pairs(n: int, left: np.ndarray, right: np.ndarray, min_size: int) -> np.ndarray:
    """Canonical DBSCAN labels from symmetric neighbour pairs (self pairs included)."""
    labels = np.full(n, NOISE, dtype=np.int64)
    if n == 0:
        return labels
    core = np.bincount(left, minlength=n) >= min_size
    if not core.any():
        return labels
    both = core[left] & core[right]
    graph = coo_matrix((np.ones(int(both.sum()), dtype=np.int8), (left[both], right[both])), shape=(n, n)).tocsr()
    n_comp, comp = connected_components(graph, directed=False)
    raw = np.full(n, -1, dtype=np.int64)
    raw[core] = comp[core]
    # Border geometries: the core neighbour with the lowest index decides.
    edge = ~core[left] & core[right]
    if edge.any():
        best = np.full(n, n, dtype=np.int64)
        np.minimum.at(best, left[edge], right[edge])
        border = best < n
        raw[border] = comp[best[border]]
    member = np.flatnonzero(raw >= 0)
    # Canonical numbering: by the smallest member index of each cluster.
    first = np.full(n_comp, n, dtype=np.int64)
    np.minimum.at(first, raw[member], member)
    rank = np.empty(n_comp, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n_comp)
    labels[member] = rank[raw[member]]
    return labels


def dbscan_labels(geoms_metric: Any, eps_m: float, min_size: int) -> np.ndarray:
    """DBSCAN cluster labels of geometries in metres (see the module's rules).

    Parameters
    ----------
    geoms_metric : array-like of shapely geometries
        Points, lines, polygons (and their multi forms) in EPSG:5179 metres;
        none missing or empty. Their order is the index the border rule and
        the label numbering use.
    eps_m : float
        Neighbourhood distance in metres: greater than 0, at most
        :data:`MAX_EPS_M`.
    min_size : int
        Neighbours (the geometry itself included) a core geometry needs:
        1 to :data:`MAX_MIN_SIZE`.

    Returns
    -------
    numpy.ndarray of int64
        One label per geometry: ``-1`` for noise, clusters ``0, 1, 2, ...``
        numbered by their smallest member index.

    Raises
    ------
    ClusteringRefused
        For a bad ``eps_m`` or ``min_size`` or a missing or empty geometry.

    Examples
    --------
    >>> import shapely
    >>> pts = shapely.points([0, 10, 20, 500, 1000], [0, 0, 0, 0, 0])
    >>> dbscan_labels(pts, 15, 2).tolist()
    [0, 0, 0, -1, -1]
    """
    eps = check_eps(eps_m)
    k = check_min_size(min_size)
    geoms = _as_geometries(geoms_metric)
    left, right = _pairs(geoms, eps)
    return _labels_from_pairs(len(geoms), left, right, k)


def dbscan_by_group(geoms_metric: Any, groups: Sequence[Any] | np.ndarray | pd.Series, eps_m: float, min_size: int) -> np.ndarray:
    """DBSCAN within each group separately (e.g. per category), labels unique over the whole set.

    Geometries of different groups are never neighbours, so they never share
    a cluster and do not make each other core. ``None``/NaN groups form one
    group of their own.

    Parameters
    ----------
    geoms_metric : array-like of shapely geometries
        In EPSG:5179 metres (see :func:`dbscan_labels`).
    groups : sequence
        One hashable group value per geometry.
    eps_m, min_size
        As for :func:`dbscan_labels`.

    Returns
    -------
    numpy.ndarray of int64
        ``-1`` for noise; clusters numbered ``0, 1, 2, ...`` over the whole
        set by their smallest member index, whatever their group.

    Raises
    ------
    ClusteringRefused
        As :func:`dbscan_labels`.
    ValueError
        When ``groups`` does not have one value per geometry.
    """
    eps = check_eps(eps_m)
    k = check_min_size(min_size)
    geoms = _as_geometries(geoms_metric)
    codes, _ = pd.factorize(pd.Series(list(groups), dtype=object), use_na_sentinel=True)
    if len(codes) != len(geoms):
        raise ValueError(f"groups has {len(codes)} values for {len(geoms)} geometries")
    left, right = _pairs(geoms, eps)
    same = codes[left] == codes[right]  # NaN groups share the sentinel -1: one group
    return _labels_from_pairs(len(geoms), left[same], right[same], k)
