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

How
---
Candidate pairs come from a k-d tree (two points) and vectorised ``STRtree``
queries (pairs with a line or polygon whose boxes come within ``eps``). A
candidate is a known neighbour when the first vertices of the two
geometries are within ``eps`` (an upper bound of the distance); the others
stay *open*. Deciding an open pair exactly (GEOS ``dwithin``, or vectorised
point-to-segment distances for a point against a line or polygon) is what
costs, and most never need it: :func:`dbscan_labels` decides only those
that can change a label (a geometry short of ``min_size`` known neighbours,
two core geometries not yet in one component, a non-core geometry's
lower-index core neighbour; see :func:`_dbscan`). For 100,000 generated
proposals inside Goyang at ``eps`` 50 m that is about 60,000 of 5 million
open pairs. The clusters come from
:func:`scipy.sparse.csgraph.connected_components`; nothing loops over
features in Python, and the candidate search and the exact tests run in
chunks over a few threads (shapely, scipy and numpy release the GIL).
:func:`dbscan_labels_all_pairs` computes the same labels from every
neighbour pair (:func:`neighbour_pairs`), as the tests' reference.
"""
from __future__ import annotations

import math
import numbers
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

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


#: Geometries whose candidate pairs are found together (bounds the memory of one step).
_CHUNK = 4096
#: Inputs from which the work is spread over threads (shapely and numpy release the GIL).
_THREAD_MIN_GEOMS = 20_000
#: Pairs decided exactly in one step (GEOS ``dwithin`` or the point-to-segment test).
_DECIDE_CHUNK = 16_384


def _run(fn: Callable[..., Any], items: Sequence[tuple[Any, ...]], threaded: bool) -> list[Any]:
    """``[fn(*item) for item in items]``, spread over a few threads when ``threaded``."""
    workers = min(4, os.cpu_count() or 1)
    if threaded and workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda item: fn(*item), items))
    return [fn(*item) for item in items]


class _PairFinder:
    """What the neighbour search of one input needs, computed once (see :func:`_pairs` and :func:`_dbscan`).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        In metres, non-empty.
    eps : float
        Neighbourhood distance.
    groups : numpy.ndarray of int, optional
        A group code per geometry: geometries of different groups are never
        neighbours (:func:`dbscan_by_group`).
    """

    def __init__(self, geoms: np.ndarray, eps: float, groups: np.ndarray | None = None) -> None:
        self.geoms = geoms
        self.eps = eps
        self.groups = groups
        self.threaded = len(geoms) >= _THREAD_MIN_GEOMS
        self.index_type = np.int32 if len(geoms) < 2**31 else np.int64
        self.bounds = shapely.bounds(geoms)
        self.tree = shapely.STRtree(geoms)
        b = self.bounds
        self.grown = shapely.box(b[:, 0] - eps, b[:, 1] - eps, b[:, 2] + eps, b[:, 3] + eps)
        self.tree.query(self.grown[:1])  # GEOS may build the tree on its first query: do it before any thread reads it
        self.centre = (b[:, :2] + b[:, 2:]) / 2.0
        self.radius = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2.0
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        _, first = np.unique(owner, return_index=True)
        self.vertex = coords[first]  # the first vertex of each geometry
        self.type_id = shapely.get_type_id(geoms)
        self.is_point = self.type_id == 0
        # Lines and polygons (not their multi forms) are measured against points in numpy.
        self.simple = (self.type_id == 1) | (self.type_id == 3)
        # Their segments are extracted on first use (see _point_within): the clustering
        # often decides too few such pairs to pay for all of them.
        self._segments_lock = threading.Lock()
        self._segments_ready = False

    def _prepare_segments(self) -> None:
        """The segments of every line and polygon, once (from any thread)."""
        with self._segments_lock:
            if self._segments_ready:
                return
            slot = np.full(len(self.geoms), -1, dtype=np.int64)
            owners = np.flatnonzero(self.simple)
            slot[owners] = np.arange(len(owners))
            self.seg_start, seg_end, self.seg_first = _segments(self.geoms, owners)
            self.seg_d = seg_end - self.seg_start
            length2 = np.einsum("ij,ij->i", self.seg_d, self.seg_d)
            self.seg_inv_length2 = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 > 0)
            self.slot = slot
            self._segments_ready = True

    def tasks(self) -> list[tuple[Any, ...]]:
        """The arguments of :meth:`candidates` that together cover every pair once."""
        shapes = np.flatnonzero(~self.is_point)
        tasks: list[tuple[Any, ...]] = [(shapes[lo : lo + _CHUNK],) for lo in range(0, len(shapes), _CHUNK)]
        if self.is_point.sum() > 1:
            tasks.append((None,))
        return tasks

    def candidates(self, queries: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pairs that may be neighbours, found from the lines and polygons ``queries``, or between points.

        ``queries``: indices of lines and polygons (any multi form); each
        pair with a point, and each pair with a line or polygon of a higher
        index, comes from its query (``STRtree``, boxes grown by ``eps``).
        ``None``: the pairs of points, from a k-d tree.

        Returns
        -------
        (left, right, sure)
            ``sure``: the pair is known to be within ``eps`` (the distance
            between the first vertices is at most ``eps``; for two points,
            that is the distance, so other pairs of points are left out).
        """
        eps, v = self.eps, self.vertex
        if queries is None:
            points = np.flatnonzero(self.is_point)
            # A little wider than eps: the distance itself is computed below, as for every pair.
            found = cKDTree(v[points]).query_pairs(eps * (1 + 1e-9) + 1e-9, output_type="ndarray")
            left, right = points[found[:, 0]], points[found[:, 1]]
        else:
            at, right = self.tree.query(self.grown[queries])
            left = queries[at]
            keep = (left < right) | self.is_point[right]
            left, right = left[keep], right[keep]
        if self.groups is not None:
            keep = self.groups[left] == self.groups[right]
            left, right = left[keep], right[keep]
        sure = np.hypot(v[left, 0] - v[right, 0], v[left, 1] - v[right, 1]) <= eps
        if queries is None:
            left, right, sure = left[sure], right[sure], sure[sure]
        # 32-bit indices: half the memory traffic of the passes over millions of pairs.
        return left.astype(self.index_type), right.astype(self.index_type), sure

    def lower_bound(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """A lower bound of each pair's distance from the geometries' bounding circles (negative when they overlap).

        Each geometry lies in the circle around its box's centre through the
        box's corners. Used to try the likelier neighbours first.
        """
        c = self.centre
        return np.hypot(c[left, 0] - c[right, 0], c[left, 1] - c[right, 1]) - self.radius[left] - self.radius[right]

    def decide(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Whether each pair ``(left[k], right[k])`` is within ``eps``, exactly.

        First vertices within ``eps``: yes (for two points, that is the
        distance); a point against a line or polygon: vectorised
        point-to-segment distances (:meth:`_point_within`); anything else:
        GEOS ``dwithin``.
        """
        v, eps = self.vertex, self.eps
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
        return within

    def decide_many(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """:meth:`decide` in steps of :data:`_DECIDE_CHUNK` pairs, over threads for large inputs."""
        if len(left) == 0:
            return np.zeros(0, dtype=bool)
        steps = [(left[s : s + _DECIDE_CHUNK], right[s : s + _DECIDE_CHUNK]) for s in range(0, len(left), _DECIDE_CHUNK)]
        return np.concatenate(_run(self.decide, steps, self.threaded))

    def chunk(self, queries: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """All the neighbour pairs among the candidates of ``queries`` (see :meth:`candidates`)."""
        left, right, sure = self.candidates(queries)
        todo = np.flatnonzero(~sure)
        sure[todo] = self.decide(left[todo], right[todo])
        return left[sure], right[sure]

    def _point_within(self, pts: np.ndarray, shapes: np.ndarray) -> np.ndarray:
        """Whether each point ``pts[k]`` is within ``eps`` of the line or polygon ``shapes[k]``.

        The distance to a line is the smallest distance to its segments; a
        polygon is also at distance 0 from a point it holds.
        """
        self._prepare_segments()
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

    Candidates are pairs of points from a k-d tree, and pairs with a line or
    polygon whose bounding boxes come within ``eps`` (an ``STRtree`` query
    with the boxes grown by ``eps``; much faster than the tree's own
    ``dwithin`` predicate, which tests every candidate in both orders). Each
    unordered candidate pair is then decided once
    (:meth:`_PairFinder.decide`). The work goes in chunks of :data:`_CHUNK`
    queries, over a few threads for large inputs.
    """
    n = len(geoms)
    self_pairs = np.arange(n, dtype=np.int64)
    if n == 0:
        return self_pairs, self_pairs
    finder = _PairFinder(geoms, eps)
    parts = _run(finder.chunk, finder.tasks(), finder.threaded)
    left = np.concatenate([self_pairs[:0], *(p[0] for p in parts)])
    right = np.concatenate([self_pairs[:0], *(p[1] for p in parts)])
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


def _canonical(raw: np.ndarray, n_comp: int) -> np.ndarray:
    """Labels from raw component numbers (``-1`` noise): clusters numbered by their smallest member index."""
    labels = np.full(len(raw), NOISE, dtype=np.int64)
    member = np.flatnonzero(raw >= 0)
    if len(member) == 0:
        return labels
    # ``member`` is ascending, so the first occurrence of a component is its smallest member.
    comps, first = np.unique(raw[member], return_index=True)
    rank = np.empty(n_comp, dtype=np.int64)
    rank[comps[np.argsort(first, kind="stable")]] = np.arange(len(comps))
    labels[member] = rank[raw[member]]
    return labels


def _labels_from_pairs(n: int, left: np.ndarray, right: np.ndarray, min_size: int) -> np.ndarray:
    """Canonical DBSCAN labels from all symmetric neighbour pairs (self pairs included)."""
    if n == 0:
        return np.full(0, NOISE, dtype=np.int64)
    core = np.bincount(left, minlength=n) >= min_size
    if not core.any():
        return np.full(n, NOISE, dtype=np.int64)
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
    return _canonical(raw, n_comp)


def _rank_within(*keys: np.ndarray) -> np.ndarray:
    """Position of each row among the rows with the same keys, rows already sorted by those keys."""
    m = len(keys[0])
    starts = np.ones(m, dtype=bool)
    for k in keys:
        starts[1:] &= k[1:] == k[:-1]
    starts = ~starts
    starts[:1] = True
    index = np.arange(m)
    return index - np.maximum.accumulate(np.where(starts, index, 0))


def _merge(comp: np.ndarray, n_comp: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Component numbers after joining the components of ``a[k]`` and ``b[k]`` for every k."""
    if len(a) == 0:
        return comp, n_comp
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (comp[a], comp[b])), shape=(n_comp, n_comp))
    n_new, relabel = connected_components(graph, directed=False)
    return relabel[comp], n_new


def _dbscan(geoms: np.ndarray, eps: float, k: int, groups: np.ndarray | None = None, stats: dict[str, Any] | None = None) -> np.ndarray:
    """DBSCAN labels deciding only the pairs the labels depend on (see :func:`dbscan_labels`).

    Every candidate pair (:meth:`_PairFinder.candidates`) is either known to
    be within ``eps`` from the cheap bounds or *open*. Open pairs are decided
    exactly (:meth:`_PairFinder.decide_many`) only when the answer can change
    a label, in rounds:

    1. core flags: for each geometry with fewer than ``min_size`` known
       neighbours that could still reach it, its next open pairs (as many as
       it lacks, doubling each round);
    2. clusters: open pairs between two core geometries of different
       components, a few per pair of components (doubling each round, the
       smallest :meth:`_PairFinder.lower_bound` first), until no open pair
       joins two components;
    3. borders: open pairs between a non-core geometry and a core geometry
       with a lower index than its lowest known core neighbour.
    """
    n = len(geoms)
    labels = np.full(n, NOISE, dtype=np.int64)
    out = stats if stats is not None else {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        out[name] = now - clock[0]
        clock[0] = now

    if n == 0:
        return labels
    finder = _PairFinder(geoms, eps, groups)
    lap("index_s")
    parts = _run(finder.candidates, finder.tasks(), finder.threaded)
    empty = np.zeros(0, dtype=finder.index_type)
    left = np.concatenate([empty, *(p[0] for p in parts)])
    right = np.concatenate([empty, *(p[1] for p in parts)])
    sure = np.concatenate([np.zeros(0, dtype=bool), *(p[2] for p in parts)])
    del parts
    known_l, known_r = [left[sure]], [right[sure]]
    count = 1 + np.bincount(known_l[0], minlength=n) + np.bincount(known_r[0], minlength=n)
    ol, orr = left[~sure], right[~sure]  # the open pairs
    out.update(candidate_pairs=len(left), known_pairs=int(sure.sum()), open_pairs=len(ol))
    del left, right, sure
    alive = np.ones(len(ol), dtype=bool)  # open and not yet decided
    tested = [0]

    def decide(pick: np.ndarray) -> np.ndarray:
        """Decide the open pairs ``pick``; return those within ``eps``."""
        within = finder.decide_many(ol[pick], orr[pick])
        alive[pick] = False
        tested[0] += len(pick)
        return pick[within]

    lap("candidates_s")

    # 1. Core flags. Each round decides, for every geometry short of min_size that can still
    # reach it, about ``factor`` times as many of its open pairs as it lacks: a pair is taken
    # when its fixed pseudo-random number is below the geometry's share (no sorting; the
    # labels do not depend on which pairs are decided first, only the work does).
    pending = count < k
    idx = np.flatnonzero(pending[ol] | pending[orr])
    pl, pr = ol[idx], orr[idx]
    draw = np.random.default_rng(0).random(len(idx), dtype=np.float32)
    factor, rounds = 1, 0
    while len(idx):
        short_l, short_r = count[pl] < k, count[pr] < k
        possible = np.bincount(pl[short_l], minlength=n) + np.bincount(pr[short_r], minlength=n)
        live = (count < k) & (count + possible >= k)
        keep = live[pl] | live[pr]
        idx, pl, pr, draw = idx[keep], pl[keep], pr[keep], draw[keep]
        if not len(idx):
            break
        share = np.zeros(n, dtype=np.float32)
        share[live] = (k - count[live]) * factor / possible[live]
        accepted = decide(idx[(draw < share[pl]) | (draw < share[pr])])
        count += np.bincount(ol[accepted], minlength=n) + np.bincount(orr[accepted], minlength=n)
        known_l.append(ol[accepted])
        known_r.append(orr[accepted])
        keep = alive[idx]
        idx, pl, pr, draw = idx[keep], pl[keep], pr[keep], draw[keep]
        factor *= 2
        rounds += 1
    out["core_rounds"] = rounds
    core = count >= k
    kl, kr = np.concatenate(known_l), np.concatenate(known_r)
    lap("core_s")

    if core.any():
        # 2. Clusters: components of the core geometries.
        both = core[kl] & core[kr]
        graph = coo_matrix((np.ones(int(both.sum()), dtype=np.int8), (kl[both], kr[both])), shape=(n, n))
        n_comp, comp = connected_components(graph, directed=False)
        idx = np.flatnonzero(alive & core[ol] & core[orr])
        idx = idx[comp[ol[idx]] != comp[orr[idx]]]
        per_pair, rounds = 1, 0
        while len(idx):
            a, b = comp[ol[idx]], comp[orr[idx]]
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            order = np.lexsort((finder.lower_bound(ol[idx], orr[idx]), hi, lo))
            idx, lo, hi = idx[order], lo[order], hi[order]
            accepted = decide(idx[_rank_within(lo, hi) < per_pair])
            comp, n_comp = _merge(comp, n_comp, ol[accepted], orr[accepted])
            idx = idx[alive[idx]]
            idx = idx[comp[ol[idx]] != comp[orr[idx]]]
            per_pair *= 2
            rounds += 1
        out["connect_rounds"] = rounds
        lap("connect_s")

        # 3. Borders: the core neighbour with the lowest index decides.
        raw = np.where(core, comp, -1)
        best = np.full(n, n, dtype=np.int64)
        one = core[kl] != core[kr]
        np.minimum.at(best, np.where(core[kl[one]], kr[one], kl[one]), np.where(core[kl[one]], kl[one], kr[one]))
        idx = np.flatnonzero(alive & (core[ol] != core[orr]))
        border_end = np.where(core[ol[idx]], orr[idx], ol[idx])
        core_end = np.where(core[ol[idx]], ol[idx], orr[idx])
        accepted = decide(idx[core_end < best[border_end]])
        if len(accepted):
            first_core = core[ol[accepted]]
            np.minimum.at(best, np.where(first_core, orr[accepted], ol[accepted]), np.where(first_core, ol[accepted], orr[accepted]))
        border = ~core & (best < n)
        raw[border] = comp[best[border]]
        lap("border_s")
        labels = _canonical(raw, n_comp)
    out.update(exact_tests=tested[0], core=int(core.sum()), clusters=int(labels.max()) + 1 if n else 0)
    lap("labels_s")
    return labels


def dbscan_labels(geoms_metric: Any, eps_m: float, min_size: int, *, stats: dict[str, Any] | None = None) -> np.ndarray:
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
    stats : dict, optional
        When given, filled with the seconds of each step (``index_s``,
        ``candidates_s``, ``core_s``, ``connect_s``, ``border_s``,
        ``labels_s``) and counts (``candidate_pairs``, ``known_pairs``,
        ``open_pairs``, ``exact_tests``, ``core``, ``clusters``).

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
    return _dbscan(geoms, eps, k, stats=stats)


def dbscan_labels_all_pairs(geoms_metric: Any, eps_m: float, min_size: int) -> np.ndarray:
    """The labels of :func:`dbscan_labels` computed the plain way, from every neighbour pair.

    Decides every candidate pair exactly (:func:`neighbour_pairs`), counts
    neighbours and joins core neighbours; slower, with fewer shortcuts: the
    reference the tests and the benchmark compare :func:`dbscan_labels` with.

    Parameters
    ----------
    geoms_metric, eps_m, min_size
        As for :func:`dbscan_labels`.

    Returns
    -------
    numpy.ndarray of int64
        The same labels as :func:`dbscan_labels`.
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
    # NaN groups share the sentinel -1: one group.
    return _dbscan(geoms, eps, k, groups=np.asarray(codes, dtype=np.int64))
