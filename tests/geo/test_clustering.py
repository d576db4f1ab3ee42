"""DBSCAN on geometries: known layouts, the border rule, canonical labels, brute force and scikit-learn."""
import math
from collections import deque

import numpy as np
import pytest
import shapely
from sklearn.cluster import DBSCAN

from geo.clustering import (
    MAX_EPS_M,
    MAX_MIN_SIZE,
    ClusteringRefused,
    check_eps,
    check_min_size,
    dbscan_by_group,
    dbscan_labels,
    dbscan_labels_all_pairs,
    neighbour_pairs,
)


def pts(*xy):
    return [shapely.Point(x, y) for x, y in xy]


def random_mixed(n, seed, size_m=3000.0):
    """Points, lines and polygons (2:1:1) in a square of ``size_m`` metres, some of them gathered in groups."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, size_m, size=(8, 2))
    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            x, y = rng.uniform(0, size_m, 2)
        else:
            x, y = centres[rng.integers(len(centres))] + rng.normal(0, 120, 2)
        kind = rng.choice(3, p=[0.5, 0.25, 0.25])
        if kind == 0:
            out.append(shapely.Point(x, y))
        elif kind == 1:
            steps = rng.normal(0, 120, size=(int(rng.integers(1, 4)), 2))
            out.append(shapely.LineString(np.vstack([[x, y], [x, y] + np.cumsum(steps, axis=0)])))
        else:
            r = rng.uniform(10, 80)
            out.append(shapely.Point(x, y).buffer(r, quad_segs=int(rng.integers(1, 4))))
    return np.array(out, dtype=object)


def proposal_like(n, seed, size_m=5000.0):
    """Shapes like the residents' proposals, large for their spacing, with multi-part forms and holes.

    Half points, a quarter lines (2-4 vertices, steps of 80-300 m), a quarter
    star polygons (radius 40-250 m, some with a hole), and one in twenty of
    the lines and polygons made a two-part Multi* form; half of them around
    10 centres (spread 150 m), the rest anywhere in a square of ``size_m``.
    Most pairs of such shapes are near by their bounding boxes but not by
    their first vertices, so the clustering decides them one by one.
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, size_m, size=(10, 2))

    def star(x, y):
        k = int(rng.integers(4, 8))
        r = rng.uniform(40, 250)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = r * rng.uniform(0.6, 1.0, k)
        shell = np.column_stack([x + rad * np.cos(ang), y + rad * np.sin(ang)])
        if rng.random() < 0.2:
            return shapely.Polygon(shell, [shapely.Point(x, y).buffer(r * 0.3, quad_segs=2).exterior.coords])
        return shapely.Polygon(shell)

    def walk(x, y):
        steps = rng.normal(0, 1, size=(int(rng.integers(1, 4)), 2)) * rng.uniform(80, 300)
        return shapely.LineString(np.vstack([[x, y], [x, y] + np.cumsum(steps, axis=0)]))

    out = []
    while len(out) < n:
        if rng.random() < 0.5:
            x, y = rng.uniform(0, size_m, 2)
        else:
            x, y = centres[rng.integers(len(centres))] + rng.normal(0, 150, 2)
        kind = rng.choice(3, p=[0.5, 0.25, 0.25])
        if kind == 0:
            g = shapely.Point(x, y)
        else:
            make = walk if kind == 1 else star
            g = make(x, y)
            if rng.random() < 0.05:
                dx, dy = rng.normal(0, 300, 2)
                g = shapely.multilinestrings([g, make(x + dx, y + dy)]) if kind == 1 else shapely.multipolygons([g, make(x + dx, y + dy)])
        if g.is_valid:
            out.append(g)
    return np.array(out, dtype=object)


def brute_force_dbscan(dist, eps, min_size):
    """Textbook DBSCAN on a full distance matrix, with the documented border rule and numbering."""
    n = len(dist)
    near = dist <= eps
    core = near.sum(axis=1) >= min_size
    comp = np.full(n, -1)
    c = 0
    for start in range(n):
        if not core[start] or comp[start] >= 0:
            continue
        comp[start] = c
        queue = deque([start])
        while queue:
            i = queue.popleft()
            for j in np.flatnonzero(near[i] & core):
                if comp[j] < 0:
                    comp[j] = c
                    queue.append(j)
        c += 1
    raw = comp.copy()
    for i in range(n):
        if not core[i]:
            core_neighbours = np.flatnonzero(near[i] & core)
            if len(core_neighbours):
                raw[i] = comp[core_neighbours.min()]
    # canonical: clusters by smallest member index
    labels = np.full(n, -1)
    mapping = {}
    for i in range(n):
        if raw[i] >= 0 and raw[i] not in mapping:
            mapping[raw[i]] = len(mapping)
        if raw[i] >= 0:
            labels[i] = mapping[raw[i]]
    return labels, core


def partition(labels, members=None):
    """The clusters as a set of frozensets of indices (noise left out)."""
    idx = np.arange(len(labels)) if members is None else np.asarray(members)
    groups = {}
    for i in idx:
        if labels[i] >= 0:
            groups.setdefault(labels[i], set()).add(int(i))
    return {frozenset(g) for g in groups.values()}


def test_two_groups_and_noise():
    geoms = pts((0, 0), (500, 500), (1000, 0), (5, 0), (1005, 0), (0, 5), (1000, 5), (3000, 0), (5, 5), (1005, 5))
    labels = dbscan_labels(geoms, 10, 3)
    # Cluster 0 holds index 0, cluster 1 starts at index 2; the two far points are noise.
    assert labels.tolist() == [0, -1, 1, 0, 1, 0, 1, -1, 0, 1]
    assert labels.dtype == np.int64


def test_a_line_passing_near_a_group_joins_it_by_its_geometry():
    group = pts((0, 0), (8, 0), (0, 8), (8, 8))
    line = shapely.LineString([(4, 20), (4, 2020)])  # 12 m from the group, centroid 1 km away
    far = shapely.Point(4000, 0)
    geoms = [*group, line, far]
    assert line.centroid.distance(shapely.MultiPoint([(p.x, p.y) for p in group])) > 1000
    assert dbscan_labels(geoms, 15, 4).tolist() == [0, 0, 0, 0, 0, -1]
    # Clustered by centroids the line would have been noise.
    centroids = [g.centroid for g in geoms]
    assert dbscan_labels(centroids, 15, 4).tolist() == [0, 0, 0, 0, -1, -1]


def test_a_polygon_around_points_is_at_distance_zero():
    square = shapely.box(-100, -100, 100, 100)
    geoms = [square, *pts((50, 50), (-50, -50), (500, 500))]
    assert dbscan_labels(geoms, 1, 3).tolist() == [0, 0, 0, -1]
    # The points are 141 m apart: without the polygon they are no cluster at all.
    assert dbscan_labels(geoms[1:], 1, 2).tolist() == [-1, -1, -1]
    # A point in a hole is as far as the hole's edge; a point inside a multipolygon's part is at 0.
    ring = shapely.Polygon([(-100, -100), (100, -100), (100, 100), (-100, 100)], [[(-50, -50), (50, -50), (50, 50), (-50, 50)]])
    assert dbscan_labels([ring, shapely.Point(0, 0)], 49.9, 2).tolist() == [-1, -1]
    assert dbscan_labels([ring, shapely.Point(0, 0)], 50, 2).tolist() == [0, 0]
    assert dbscan_labels([ring, shapely.Point(0, 75)], 1, 2).tolist() == [0, 0]
    multi = shapely.MultiPolygon([shapely.box(0, 0, 100, 100), shapely.box(500, 0, 600, 100)])
    assert dbscan_labels([multi, shapely.Point(550, 50), shapely.Point(300, 50)], 1, 2).tolist() == [0, 0, -1]


def test_by_category_splits_a_mixed_group():
    geoms = pts((0, 0), (3, 0), (6, 0), (0, 3), (3, 3), (6, 3), (400, 0))
    cats = ["park", "road", "park", "road", "park", "road", "park"]
    assert dbscan_labels(geoms, 10, 3).tolist() == [0, 0, 0, 0, 0, 0, -1]
    assert dbscan_by_group(geoms, cats, 10, 3).tolist() == [0, 1, 0, 1, 0, 1, -1]
    # Each category alone has 3 members: with min_size 4 only the mixed group is dense enough.
    assert dbscan_by_group(geoms, cats, 10, 4).tolist() == [-1] * 7
    assert dbscan_labels(geoms, 10, 4).tolist() == [0] * 6 + [-1]
    # None is a group of its own; labels stay unique over the groups.
    assert dbscan_by_group(geoms, [None, "a", None, "a", None, "a", None], 10, 3).tolist() == [0, 1, 0, 1, 0, 1, -1]
    with pytest.raises(ValueError):
        dbscan_by_group(geoms, cats[:3], 10, 3)


def test_border_point_joins_the_cluster_of_its_lowest_index_core_neighbour():
    a = pts(*[(x, 0) for x in range(-50, 1, 10)])  # x = -50..0
    b = pts(*[(x, 0) for x in range(120, 171, 10)])  # x = 120..170
    p = shapely.Point(60, 0)  # 60 m from a's x=0 and from b's x=120, with 2 neighbours: a border point
    labels = dbscan_labels([*b, *a, p], 60, 6)
    assert labels.tolist() == [0] * 6 + [1] * 6 + [0]  # b comes first, its x=120 has index 0
    labels = dbscan_labels([*a, *b, p], 60, 6)
    assert labels.tolist() == [0] * 6 + [1] * 6 + [0]  # now a comes first: p follows a, numbered 0
    labels = dbscan_labels([p, *a, *b], 60, 6)
    assert labels.tolist() == [0] + [0] * 6 + [1] * 6  # p is the smallest member of a's cluster


def test_min_size_one_is_single_linkage_and_every_geometry_is_in_a_cluster():
    geoms = pts((0, 0), (10, 0), (20, 0), (100, 0), (200, 0))
    assert dbscan_labels(geoms, 10, 1).tolist() == [0, 0, 0, 1, 2]
    assert dbscan_labels(geoms, 9.999, 1).tolist() == [0, 1, 2, 3, 4]


def test_distance_equal_to_eps_counts_as_near():
    assert dbscan_labels(pts((0, 0), (3, 4)), 5.0, 2).tolist() == [0, 0]
    assert dbscan_labels(pts((0, 0), (3, 4)), 4.999999, 2).tolist() == [-1, -1]


def test_empty_input():
    assert dbscan_labels([], 10, 2).tolist() == []
    assert dbscan_by_group([], [], 10, 2).tolist() == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_input_gives_the_same_partition_and_canonical_labels(seed):
    geoms = random_mixed(400, seed)
    eps, k = 60.0, 4
    labels = dbscan_labels(geoms, eps, k)
    assert (dbscan_labels(geoms, eps, k) == labels).all()  # the same every time
    n_clusters = labels.max() + 1
    assert n_clusters >= 3 and (labels == -1).any()
    # Canonical: labels 0..K-1, numbered in order of their smallest member index.
    assert sorted(set(labels) - {-1}) == list(range(n_clusters))
    firsts = [int(np.flatnonzero(labels == c).min()) for c in range(n_clusters)]
    assert firsts == sorted(firsts)

    dist = shapely.distance(geoms[:, None], geoms[None, :])
    core = (dist <= eps).sum(axis=1) >= k
    rng = np.random.default_rng(seed + 100)
    perm = rng.permutation(len(geoms))
    shuffled = dbscan_labels(geoms[perm], eps, k)
    back = np.empty_like(shuffled)
    back[perm] = shuffled  # labels in the original order
    # The same core partition and the same noise, whatever the order.
    assert partition(back, np.flatnonzero(core)) == partition(labels, np.flatnonzero(core))
    assert ((back == -1) == (labels == -1)).all()
    # Border points only differ where they touch two clusters (DBSCAN's open choice).
    for i in np.flatnonzero(~core & (labels >= 0)):
        choices = {labels[j] for j in np.flatnonzero((dist[i] <= eps) & core)}
        if len(choices) == 1:
            same = np.flatnonzero(labels == labels[i])
            assert back[i] == back[same[core[same]][0]]
    # And the shuffled labels are themselves canonical for the shuffled order.
    firsts = [int(np.flatnonzero(shuffled == c).min()) for c in range(shuffled.max() + 1)]
    assert firsts == sorted(firsts)


@pytest.mark.parametrize("eps, k", [(25.0, 3), (60.0, 4), (120.0, 8), (40.0, 1)])
def test_equals_brute_force_dbscan_on_random_mixed_features(eps, k):
    geoms = random_mixed(350, seed=int(eps) + k)
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    expected, _ = brute_force_dbscan(dist, eps, k)
    assert expected.max() >= 2  # several clusters: the comparison says something
    assert (dbscan_labels(geoms, eps, k) == expected).all()
    # By group: the brute force with other groups infinitely far.
    groups = np.random.default_rng(k).choice(["a", "b", "c"], size=len(geoms))
    masked = np.where(groups[:, None] == groups[None, :], dist, np.inf)
    expected_g, _ = brute_force_dbscan(masked, eps, k)
    assert (dbscan_by_group(geoms, groups, eps, k) == expected_g).all()


def ambiguous_borders(dist, eps, labels, core):
    """Non-core members with core neighbours in two or more clusters."""
    return [i for i in np.flatnonzero(~core) if len({labels[j] for j in np.flatnonzero((dist[i] <= eps) & core)}) > 1]


def test_equals_brute_force_where_border_points_touch_two_clusters():
    # 40 copies of "two rows of six points 120 m apart, one point half-way", rotated,
    # scattered and shuffled: every half-way point is a border point of two clusters.
    rng = np.random.default_rng(4)
    geoms = []
    for _ in range(40):
        ox, oy = rng.uniform(0, 20_000, 2)
        angle = rng.uniform(0, 2 * np.pi)
        c, s = np.cos(angle), np.sin(angle)
        for x in [*range(-50, 1, 10), *range(120, 171, 10), 60]:
            geoms.append(shapely.Point(ox + c * x, oy + s * x))
    geoms = np.array(geoms, dtype=object)[rng.permutation(len(geoms))]
    eps, k = 60.0 + 1e-6, 6
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    expected, core = brute_force_dbscan(dist, eps, k)
    assert len(ambiguous_borders(dist, eps, expected, core)) >= 30
    assert (dbscan_labels(geoms, eps, k) == expected).all()
    assert (dbscan_by_group(geoms, ["one"] * len(geoms), eps, k) == expected).all()


@pytest.mark.parametrize("eps, k", [(30.0, 3), (60.0, 5), (100.0, 10)])
def test_agrees_with_scikit_learn_on_core_points_and_noise(eps, k):
    geoms = random_mixed(400, seed=k)
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    ref = DBSCAN(eps=eps, min_samples=k, metric="precomputed").fit(dist)
    ours = dbscan_labels(geoms, eps, k)
    core = np.zeros(len(geoms), dtype=bool)
    core[ref.core_sample_indices_] = True
    assert core.any() and (~core).any()
    assert partition(ours, np.flatnonzero(core)) == partition(ref.labels_, np.flatnonzero(core))
    assert ((ours == -1) == (ref.labels_ == -1)).all()
    assert ours.max() == ref.labels_.max()


def test_neighbour_pairs_match_the_tree_predicate():
    geoms = random_mixed(500, seed=9)
    left, right = neighbour_pairs(geoms, 45.0)
    tl, tr = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=45.0)
    assert set(zip(left.tolist(), right.tolist())) == set(zip(tl.tolist(), tr.tolist()))
    assert len(left) == len(tl)  # no pair twice


@pytest.mark.parametrize("eps", [0, -1, math.nan, math.inf, MAX_EPS_M + 1, "100", True, None])
def test_bad_eps_is_refused_in_both_languages(eps):
    with pytest.raises(ClusteringRefused) as err:
        dbscan_labels(pts((0, 0)), eps, 2)
    assert err.value.code in ("bad_eps", "eps_too_large")
    assert "거리(eps)" in err.value.message("ko") and "distance (eps)" in err.value.message("en")


@pytest.mark.parametrize("k", [0, -3, 1.5, 2.0, True, MAX_MIN_SIZE + 1, "3", None])
def test_bad_min_size_is_refused_in_both_languages(k):
    with pytest.raises(ClusteringRefused) as err:
        dbscan_labels(pts((0, 0)), 10, k)
    assert err.value.code == "bad_min_size"
    assert "최소 개수" in err.value.message("ko") and "minimum size" in err.value.message("en")


def test_accepted_parameters_are_normalised():
    assert check_eps(np.float32(12.5)) == 12.5 and isinstance(check_eps(100), float)
    assert check_min_size(np.int64(3)) == 3 and type(check_min_size(np.int64(3))) is int
    assert check_eps(MAX_EPS_M) == MAX_EPS_M and check_min_size(MAX_MIN_SIZE) == MAX_MIN_SIZE


def test_missing_or_empty_geometries_are_refused():
    with pytest.raises(ClusteringRefused) as err:
        dbscan_labels([shapely.Point(0, 0), None], 10, 2)
    assert err.value.code == "missing_geometry" and "2번째" in err.value.ko and "Item 2" in err.value.en
    with pytest.raises(ClusteringRefused) as err:
        dbscan_labels([shapely.Point(0, 0), shapely.Polygon()], 10, 2)
    assert err.value.code == "empty_geometry" and "비어" in err.value.ko and "empty" in err.value.en


def test_chunks_and_threads_give_the_same_pairs(monkeypatch):
    from geo import clustering

    geoms = random_mixed(600, seed=21)
    single = neighbour_pairs(geoms, 50.0)
    # Small chunks spread over threads, as for large inputs.
    monkeypatch.setattr(clustering, "_CHUNK", 37)
    monkeypatch.setattr(clustering, "_THREAD_MIN_GEOMS", 1)
    threaded = neighbour_pairs(geoms, 50.0)
    assert sorted(zip(*[a.tolist() for a in threaded])) == sorted(zip(*[a.tolist() for a in single]))
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    expected, _ = brute_force_dbscan(dist, 50.0, 4)
    assert (dbscan_labels(geoms, 50.0, 4) == expected).all()


@pytest.mark.parametrize("eps, k, seed", [(8.0, 2, 1), (25.0, 4, 2), (50.0, 8, 3), (90.0, 15, 4), (20.0, 1, 5)])
def test_equals_brute_force_on_large_shapes_with_multi_parts_and_holes(eps, k, seed):
    geoms = proposal_like(700, seed)
    assert {"MultiPolygon", "MultiLineString", "Polygon", "LineString", "Point"} == {g.geom_type for g in geoms}
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    expected, core = brute_force_dbscan(dist, eps, k)
    # Not a trivial layout: several clusters and noise (except single linkage), border members from k = 3.
    assert expected.max() >= 2
    assert (expected == -1).any() == (k > 1)
    assert (~core & (expected >= 0)).any() == (k > 2)
    stats = {}
    assert (dbscan_labels(geoms, eps, k, stats=stats) == expected).all()
    # Most candidate pairs are left open by the cheap bounds, and not all of them need deciding.
    assert stats["open_pairs"] > stats["known_pairs"] > 0
    assert 0 < stats["exact_tests"] < stats["open_pairs"]
    assert stats["core"] == int(core.sum()) and stats["clusters"] == expected.max() + 1
    assert (dbscan_labels_all_pairs(geoms, eps, k) == expected).all()
    groups = np.random.default_rng(seed).choice(["a", "b"], size=len(geoms))
    masked = np.where(groups[:, None] == groups[None, :], dist, np.inf)
    expected_g, _ = brute_force_dbscan(masked, eps, k)
    assert (dbscan_by_group(geoms, groups, eps, k) == expected_g).all()


def test_ambiguous_borders_among_large_shapes_follow_the_lowest_index_rule():
    # Large shapes with a high min_size: many non-core members touch two clusters.
    geoms = proposal_like(700, seed=3)
    eps, k = 50.0, 8
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    expected, core = brute_force_dbscan(dist, eps, k)
    assert len(ambiguous_borders(dist, eps, expected, core)) >= 3
    assert (dbscan_labels(geoms, eps, k) == expected).all()
    for seed in (1, 2):  # another order is another canonical answer, still the brute force's
        perm = np.random.default_rng(seed).permutation(len(geoms))
        shuffled_expected, _ = brute_force_dbscan(dist[np.ix_(perm, perm)], eps, k)
        assert (dbscan_labels(geoms[perm], eps, k) == shuffled_expected).all()


def test_small_steps_over_threads_give_the_brute_force_labels(monkeypatch):
    from geo import clustering

    geoms = proposal_like(500, seed=13)
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    monkeypatch.setattr(clustering, "_CHUNK", 23)
    monkeypatch.setattr(clustering, "_DECIDE_CHUNK", 7)
    monkeypatch.setattr(clustering, "_THREAD_MIN_GEOMS", 1)
    for eps, k in [(30.0, 5), (60.0, 10)]:
        expected, _ = brute_force_dbscan(dist, eps, k)
        assert expected.max() >= 2
        assert (dbscan_labels(geoms, eps, k) == expected).all()
        assert (dbscan_labels_all_pairs(geoms, eps, k) == expected).all()


def test_points_only_and_shapes_only_inputs():
    rng = np.random.default_rng(17)
    points = shapely.points(rng.uniform(0, 1000, (400, 2)))
    shapes = proposal_like(700, seed=17)
    shapes = shapes[shapely.get_type_id(shapes) != 0]
    for geoms, eps, k in [(points, 40.0, 3), (shapes, 20.0, 4), (points[:1], 5.0, 1), (points[:1], 5.0, 2)]:
        geoms = np.asarray(geoms, dtype=object)
        dist = shapely.distance(geoms[:, None], geoms[None, :])
        expected, _ = brute_force_dbscan(dist, eps, k)
        assert (dbscan_labels(geoms, eps, k) == expected).all()
        assert (dbscan_labels_all_pairs(geoms, eps, k) == expected).all()
