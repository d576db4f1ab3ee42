"""Map summaries: counts computed by the database in one query, bbox filter as in_bbox, on both engines."""
from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import event, text
from store_samples import JUGYO, ONLY_POSTGIS, SEONGSA, World, proposal_fields

from store import ProposalSummary

VIEW = (126.830, 37.650, 126.840, 37.660)
W, S, E, N = VIEW


@contextmanager
def captured_sql(world: World) -> Iterator[list[tuple[str, object]]]:
    """The SQL statements (with parameters) the store sends inside the block."""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    event.listen(world.store.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(world.store.engine, "before_cursor_execute", record)


@pytest.fixture
def busy(world: World) -> dict[str, int]:
    """30 proposals with random supports and comments (some hidden), a few hidden or withdrawn."""
    rng = random.Random(20260112)
    people = [world.resident_id, world.other_resident_id, world.planner_id]
    with world.store.transaction() as tx:
        for i in range(7):
            people.append(tx.residents.add(f"r{i}", f"주민{i}").id)
        ids = {}
        for i in range(30):
            x, y = 126.825 + rng.random() * 0.03, 37.645 + rng.random() * 0.02
            geometry = Point(x, y) if i % 3 else LineString([(x, y), (x + 0.004, y + 0.002)])
            p = tx.proposals.add(
                **proposal_fields(
                    people[i % len(people)],
                    geometry,
                    title=f"제안 {i}",
                    district_code=JUGYO if x < 126.838 else SEONGSA,
                    hub_code=JUGYO,
                    cost_krw=None if i % 4 == 0 else 1_000_000 * i,
                    is_demo=i % 5 == 0,
                )
            )
            ids[f"p{i}"] = p.id
            for r in rng.sample(people, rng.randint(0, len(people))):
                tx.supports.add(p.id, r)
            for _ in range(rng.randint(0, 4)):
                c = tx.comments.add(p.id, rng.choice(people), "의견")
                if rng.random() < 0.3:
                    tx.comments.set_hidden(c.id, True)
                if rng.random() < 0.5:
                    tx.comments.add(p.id, rng.choice(people), "답글", parent_id=c.id)
        for i in (3, 11):
            tx.proposals.set_hidden(ids[f"p{i}"], True)
        for i in (4, 12):
            tx.proposals.set_status(ids[f"p{i}"], "withdrawn", people[i % len(people)], "")
    return ids


def test_summary_counts_equal_brute_force_counts(world: World, busy: dict[str, int]) -> None:
    with world.store.transaction() as tx:
        rows = tx.proposals.summaries(include_hidden=True)
        assert len(rows) == 30
        for row in rows:
            assert isinstance(row, ProposalSummary)
            p = tx.proposals.get(row.id)
            assert row.supports == tx.supports.count_for(row.id)
            assert row.comments == len(tx.comments.list_for(row.id))  # visible comments and replies
            assert (row.title, row.category, row.status, row.kind, row.cost_krw, row.is_demo) == (
                p.title,
                p.category,
                p.status,
                p.kind,
                p.cost_krw,
                p.is_demo,
            )
            assert (row.district_code, row.hub_code, row.hidden, row.author_id) == (p.district_code, p.hub_code, p.hidden, p.author_id)
            assert row.geometry.equals(p.geometry)
        # Not every count is zero: the comparison above compared something.
        assert sum(r.supports for r in rows) > 30 and sum(r.comments for r in rows) > 10
        assert any(r.comments != len(tx.comments.list_for(r.id, include_hidden=True)) for r in rows)


def test_summaries_filter_hidden_statuses_author_and_limit(world: World, busy: dict[str, int]) -> None:
    hidden = {busy["p3"], busy["p11"]}
    withdrawn = {busy["p4"], busy["p12"]}
    with world.store.transaction() as tx:
        public = tx.proposals.summaries()
        assert {r.id for r in public} == set(busy.values()) - hidden
        assert [r.id for r in public] == sorted((r.id for r in public), reverse=True)  # newest first
        on_map = tx.proposals.summaries(exclude_statuses=["withdrawn"])
        assert {r.id for r in on_map} == set(busy.values()) - hidden - withdrawn
        mine = tx.proposals.summaries(include_hidden=True, author_id=world.resident_id)
        assert {r.id for r in mine} == {p.id for p in tx.proposals.by_author(world.resident_id)}
        assert [r.id for r in tx.proposals.summaries(limit=5)] == [r.id for r in public[:5]]
        assert tx.proposals.summaries(author_id=10_000) == []


def test_summaries_bbox_filter_matches_in_bbox(world: World, busy: dict[str, int]) -> None:
    with world.store.transaction() as tx:
        extra = tx.proposals.add(**proposal_fields(world.resident_id, Point(E + 1e-7, 37.655), title="just outside"))
        edge = tx.proposals.add(**proposal_fields(world.resident_id, Point(E, N), title="on the corner"))
        around = tx.proposals.add(
            **proposal_fields(world.resident_id, Polygon([(126.80, 37.62), (126.88, 37.62), (126.88, 37.70)]), title="around")
        )
    with world.store.transaction() as tx:
        for include_hidden in (False, True):
            by_summary = {r.id for r in tx.proposals.summaries(bbox=VIEW, include_hidden=include_hidden)}
            by_in_bbox = {p.id for p in tx.proposals.in_bbox(*VIEW, include_hidden=include_hidden)}
            assert by_summary == by_in_bbox
        inside = {r.id for r in tx.proposals.summaries(bbox=VIEW)}
        assert edge.id in inside and around.id in inside and extra.id not in inside
        assert 0 < len(inside) < 33
        with pytest.raises(ValueError, match="empty box"):
            tx.proposals.summaries(bbox=(E, S, W, N))


def test_summaries_is_one_statement(world: World, busy: dict[str, int]) -> None:
    with captured_sql(world) as statements, world.store.transaction() as tx:
        rows = tx.proposals.summaries(bbox=VIEW, include_hidden=True)
    selects = [s for s, _ in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(rows) >= 3 and len(selects) == 1, selects
    sql = selects[0]
    assert "count(" in sql.lower() and "supports" in sql and "comments" in sql
    if world.store.backend == "postgresql":
        assert "&&" in sql and "ST_MakeEnvelope" in sql
    else:
        assert "&&" not in sql and "proposals.minx <=" in sql


@ONLY_POSTGIS
def test_postgis_plans_the_summaries_bbox_on_the_gist_index(world: World, busy: dict[str, int]) -> None:
    with captured_sql(world) as statements, world.store.transaction() as tx:
        tx.proposals.summaries(bbox=VIEW)
    [(sql, parameters)] = [(s, p) for s, p in statements if "FROM proposals" in s]
    with world.store.engine.connect() as conn:
        # As in test_store_bbox: take away the sequential scan and the bbox
        # B-trees so the plan shows whether the query can use the GiST index.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("DROP INDEX ix_proposals_minx, ix_proposals_maxx, ix_proposals_miny, ix_proposals_maxy"))
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, parameters))
        conn.rollback()
    assert "idx_proposals_geometry" in plan, plan


def test_get_for_update_asks_postgresql_for_a_row_lock(world: World, busy: dict[str, int]) -> None:
    with captured_sql(world) as statements, world.store.transaction() as tx:
        assert tx.proposals.get(busy["p1"], for_update=True).title == "제안 1"
    [sql] = [s for s, _ in statements if "FROM proposals" in s]
    assert ("FOR UPDATE" in sql) == (world.store.backend == "postgresql")


def test_count_in_and_grid_cells_agree_with_summaries(world: World, busy: dict[str, int]) -> None:
    """The clustered map's database aggregate: the same proposals as summaries(), counted at their points on surface."""
    import numpy as np
    import shapely

    from geo.grid import lonlat_grid_sums

    for bbox in (None, VIEW):
        with world.store.transaction() as tx:
            rows = tx.proposals.summaries(bbox=bbox, exclude_statuses=("withdrawn",))
            assert tx.proposals.count_in(bbox=bbox, exclude_statuses=("withdrawn",)) == len(rows)
            assert tx.proposals.count_in(bbox=bbox, include_hidden=True) == len(tx.proposals.summaries(bbox=bbox, include_hidden=True))
            for cell in (120.0, 700.0):
                cells = tx.proposals.grid_cells(cell, bbox=bbox, exclude_statuses=("withdrawn",))
                reps = shapely.point_on_surface(np.asarray([r.geometry for r in rows], dtype=object))
                want = lonlat_grid_sums(shapely.get_x(reps), shapely.get_y(reps), cell)
                assert cells.shape == want.shape and cells[:, 2].sum() == len(rows)
                np.testing.assert_array_equal(cells[:, :3], want[:, :3])
                np.testing.assert_allclose(cells[:, 3:], want[:, 3:], rtol=0, atol=1e-3 * len(rows))  # PostGIS's PROJ vs pyproj
    with world.store.transaction() as tx:
        assert tx.proposals.grid_cells(50.0, bbox=(127.5, 38.0, 127.6, 38.1)).shape == (0, 5)
        with pytest.raises(ValueError):
            tx.proposals.grid_cells(0.0)
