"""Clustering in PostGIS (``tx.analysis.cluster_dbscan``) gives exactly the embedded labels."""
import numpy as np
import pytest
import shapely
from sqlalchemy import event
from store_samples import ONLY_POSTGIS, ONLY_SQLITE

import geo.clustering
from geo import boundaries as b
from geo.clustering import ClusteringRefused, dbscan_by_group, dbscan_labels, neighbour_pairs
from geo.crs import to_metric, to_storage
from store import NotFound

CATEGORIES = ("culture", "environment", "urban")


def random_features(n, seed):
    """``n`` points, lines and polygons (2:1:1) inside Goyang in lon/lat, with categories.

    Half are spread over the city, half gathered around 40 centres (spread
    250 m), so there are dense groups, chains, border members and noise.
    """
    rng = np.random.default_rng(seed)
    city = b.city_outline_metric()
    shapely.prepare(city)
    minx, miny, maxx, maxy = city.bounds
    centres = []
    while len(centres) < 40:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if city.contains(p):
            centres.append((p.x, p.y))
    centres = np.array(centres)
    out = []
    while len(out) < n:
        if rng.random() < 0.5:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        else:
            cx, cy = centres[rng.integers(len(centres))]
            x, y = cx + rng.normal(0, 250), cy + rng.normal(0, 250)
        if not city.contains(shapely.Point(x, y)):
            continue
        kind = rng.choice(["point", "line", "polygon"], p=[0.5, 0.25, 0.25])
        if kind == "point":
            g = shapely.Point(x, y)
        elif kind == "line":
            steps = rng.normal(0, 150, size=(int(rng.integers(1, 4)), 2))
            g = shapely.LineString(np.vstack([[x, y], [x, y] + np.cumsum(steps, axis=0)]))
        else:
            r = rng.uniform(20, 120)
            ang = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(4, 8))))
            g = shapely.Polygon(np.column_stack([x + r * np.cos(ang), y + r * np.sin(ang)]))
            if not g.is_valid:
                continue
        out.append(g)
    geoms = to_storage(np.array(out, dtype=object))
    cats = rng.choice(CATEGORIES, size=n).tolist()
    return list(geoms), cats


def add_proposals(store, geoms, cats):
    """Store the features as proposals of one resident; returns their ids in order."""
    with store.transaction() as tx:
        author = tx.residents.add("clusterer", "군집 시험", password_hash="x").id
        return [
            tx.proposals.add(title=f"p{i}", body="", category=c, kind="individual", author_id=author, geometry=g).id
            for i, (g, c) in enumerate(zip(geoms, cats))
        ]


def embedded(ids, geoms, cats, eps, k, by_category):
    """The embedded answer on the same proposals, taken in id order."""
    order = np.argsort(ids)
    metric = to_metric(np.array(geoms, dtype=object)[order])
    if by_category:
        labels = dbscan_by_group(metric, np.array(cats, dtype=object)[order], eps, k)
    else:
        labels = dbscan_labels(metric, eps, k)
    return {int(ids[i]): int(label) for i, label in zip(order, labels)}


def ambiguous_borders(geoms, eps, k, labels):
    """Border members with core neighbours in two or more clusters (where DBSCAN leaves a choice)."""
    metric = to_metric(np.array(geoms, dtype=object))
    left, right = neighbour_pairs(metric, eps)
    core = np.bincount(left, minlength=len(geoms)) >= k
    edge = ~core[left] & core[right]
    clusters_seen = {}
    for i, j in zip(left[edge], right[edge]):
        clusters_seen.setdefault(int(i), set()).add(labels[int(j)])
    return sum(len(s) > 1 for s in clusters_seen.values())


@ONLY_POSTGIS
def test_postgis_labels_equal_embedded_labels_on_3000_mixed_features(store):
    geoms, cats = random_features(3000, seed=11)
    ids = add_proposals(store, geoms, cats)
    checked_ambiguous = 0
    for eps, k, by_category in [(150.0, 5, False), (250.0, 4, True), (80.0, 1, False), (120.0, 8, False)]:
        with store.transaction() as tx:
            in_db = tx.analysis.cluster_dbscan(ids, eps, k, by_category=by_category)
        expected = embedded(ids, geoms, cats, eps, k, by_category)
        assert in_db == expected, (eps, k, by_category)
        labels = np.array([expected[i] for i in ids])
        n_clusters = labels.max() + 1
        # The layouts are not trivial: several clusters and some noise (except single linkage).
        assert n_clusters >= 5, (eps, k, n_clusters)
        if k > 1:
            assert (labels == -1).sum() > 50
            assert sorted(set(labels)) == list(range(-1, n_clusters))
        if not by_category:
            checked_ambiguous += ambiguous_borders(geoms, eps, k, [expected[i] for i in ids])
    # The border rule mattered somewhere: PostGIS alone could have chosen otherwise.
    assert checked_ambiguous > 0


@ONLY_POSTGIS
def test_the_clustering_runs_in_the_database(store, monkeypatch):
    geoms, cats = random_features(300, seed=3)
    ids = add_proposals(store, geoms, cats)
    expected = embedded(ids, geoms, cats, 200.0, 3, False)

    def fail(*args, **kwargs):
        raise AssertionError("the database path must not cluster in Python")

    monkeypatch.setattr(geo.clustering, "_pairs", fail)
    monkeypatch.setattr(geo.clustering, "_dbscan", fail)
    monkeypatch.setattr(geo.clustering, "_labels_from_pairs", fail)
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.transaction() as tx:
            labels = tx.analysis.cluster_dbscan(ids, 200.0, 3)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert labels == expected
    sql = "\n".join(statements)
    assert "ST_ClusterDBSCAN" in sql and "ST_Transform(p.geometry, 5179)" in sql and "ST_DWithin" in sql
    # Only ids and labels come back: no statement reads the geometry column out.
    assert not any("SELECT" in s.upper() and "proposals.geometry" in s for s in statements)


@ONLY_POSTGIS
def test_database_clustering_small_cases_and_refusals(store):
    # Three points 10 m apart and one 1 km away, around 주교동; a line passing near the group.
    base = to_metric(shapely.Point(126.832, 37.658))
    pts = [shapely.Point(base.x + dx, base.y) for dx in (0, 10, 20, 1000)]
    line = shapely.LineString([(base.x + 10, base.y + 25), (base.x + 10, base.y + 3000)])
    geoms = list(to_storage(np.array([*pts, line], dtype=object)))
    ids = add_proposals(store, geoms, ["urban"] * 5)
    with store.transaction() as tx:
        # The line's centroid is 1.5 km north of the group; its geometry passes 25 m from it.
        assert tx.analysis.cluster_dbscan(ids, 30, 3) == {ids[0]: 0, ids[1]: 0, ids[2]: 0, ids[3]: -1, ids[4]: 0}
        assert tx.analysis.cluster_dbscan(ids, 20, 3) == {ids[0]: 0, ids[1]: 0, ids[2]: 0, ids[3]: -1, ids[4]: -1}
        assert tx.analysis.cluster_dbscan([ids[0]], 30, 1) == {ids[0]: 0}
        assert tx.analysis.cluster_dbscan([], 30, 3) == {}
        # Calling twice in one transaction is fine (the scratch table is dropped each time).
        assert tx.analysis.cluster_dbscan(ids[:3], 30, 3) == {ids[0]: 0, ids[1]: 0, ids[2]: 0}
    with store.transaction() as tx, pytest.raises(ClusteringRefused) as err:
        tx.analysis.cluster_dbscan(ids, -5, 3)
    assert err.value.code == "bad_eps" and "거리" in err.value.message("ko") and "distance" in err.value.message("en")
    with store.transaction() as tx, pytest.raises(NotFound):
        tx.analysis.cluster_dbscan([*ids, max(ids) + 100], 30, 3)


@ONLY_SQLITE
def test_sqlite_says_to_use_the_embedded_path(store):
    with store.transaction() as tx, pytest.raises(NotImplementedError, match="embedded"):
        tx.analysis.cluster_dbscan([1, 2], 100, 2)


def test_proposal_texts_hold_title_body_and_visible_comments(store):
    geoms, cats = random_features(2, seed=1)
    ids = add_proposals(store, geoms, cats)
    with store.transaction() as tx:
        tx.proposals.update(ids[0], body="공원에 벤치를 놓아 주세요")
        author = tx.residents.by_username("clusterer").id
        tx.comments.add(ids[0], author, "좋아요")
        hidden = tx.comments.add(ids[0], author, "숨긴 댓글")
        tx.comments.set_hidden(hidden.id, True)
        tx.comments.add(ids[1], author, "다른 제안의 댓글")
    with store.transaction() as tx:
        texts = tx.analysis.proposal_texts([ids[0], ids[1], max(ids) + 1])
    assert texts == {ids[0]: ["p0", "공원에 벤치를 놓아 주세요", "좋아요"], ids[1]: ["p1", "", "다른 제안의 댓글"]}
