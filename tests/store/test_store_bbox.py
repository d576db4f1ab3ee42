"""Viewport queries: exactly the proposals whose bbox overlaps the box, on both engines."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from sqlalchemy import event, text
from store_samples import ONLY_POSTGIS, World, proposal_fields

# The viewport: west, south, east, north (lon/lat).
VIEW = (126.830, 37.650, 126.840, 37.660)
W, S, E, N = VIEW

CASES = {
    "inside": Point(126.835, 37.655),
    "outside": Point(126.850, 37.655),
    "on_east_edge": Point(E, 37.655),
    "on_corner": Point(W, S),
    # 1e-7 degree (about 1 cm) east of the edge: float4 index boxes would
    # round it in, the exact check must keep it out.
    "just_outside": Point(E + 1e-7, 37.655),
    "just_outside_north": Point(126.835, N + 1e-7),
    "line_across": LineString([(126.820, 37.655), (126.850, 37.656)]),
    "polygon_around": Polygon([(126.80, 37.62), (126.88, 37.62), (126.88, 37.70), (126.80, 37.70)]),
    # Its bbox overlaps the viewport's corner but the line itself misses it:
    # bbox semantics, the same on both engines.
    "diagonal_missing": LineString([(126.839, 37.6615), (126.8415, 37.659)]),
    "line_far": LineString([(126.90, 37.70), (126.91, 37.71)]),
    "multipoint_straddling": MultiPoint([(126.825, 37.655), (126.845, 37.655)]),
    "south_of_view": Polygon([(126.832, 37.640), (126.838, 37.640), (126.838, 37.6499), (126.832, 37.640)]),
}
EXPECTED = {"inside", "on_east_edge", "on_corner", "line_across", "polygon_around", "diagonal_missing", "multipoint_straddling"}


@pytest.fixture
def placed(world: World) -> dict[str, int]:
    """One proposal per case, plus a hidden one inside the viewport; name -> id."""
    ids = {}
    with world.store.transaction() as tx:
        for name, geometry in CASES.items():
            ids[name] = tx.proposals.add(**proposal_fields(world.resident_id, geometry, title=name)).id
        hidden = tx.proposals.add(**proposal_fields(world.resident_id, Point(126.836, 37.656), title="hidden"))
        hidden.hidden = True
        ids["hidden_inside"] = hidden.id
    return ids


def test_in_bbox_returns_exactly_the_overlapping_proposals(world: World, placed: dict[str, int]) -> None:
    assert not CASES["diagonal_missing"].intersects(Polygon.from_bounds(*VIEW))  # the case is what it claims
    with world.store.transaction() as tx:
        found = tx.proposals.in_bbox(*VIEW)
        with_hidden = tx.proposals.in_bbox(*VIEW, include_hidden=True)
    by_id = {v: k for k, v in placed.items()}
    assert {by_id[p.id] for p in found} == EXPECTED
    assert [p.id for p in found] == sorted(p.id for p in found)
    assert {by_id[p.id] for p in with_hidden} == EXPECTED | {"hidden_inside"}


def test_in_bbox_of_a_point_sized_box_and_of_an_empty_area(world: World, placed: dict[str, int]) -> None:
    with world.store.transaction() as tx:
        at_point = {p.id for p in tx.proposals.in_bbox(126.835, 37.655, 126.835, 37.655)}
        nowhere = tx.proposals.in_bbox(127.5, 38.5, 127.6, 38.6)
        with pytest.raises(ValueError, match="empty box"):
            tx.proposals.in_bbox(E, S, W, N)
    expected = {"inside", "line_across", "polygon_around", "multipoint_straddling"}
    assert at_point == {placed[name] for name in expected}
    assert nowhere == []


def test_bbox_columns_follow_a_changed_geometry(world: World, placed: dict[str, int]) -> None:
    with world.store.transaction() as tx:
        tx.proposals.get(placed["outside"]).geometry = Point(126.831, 37.651)
    with world.store.transaction() as tx:
        assert placed["outside"] in {p.id for p in tx.proposals.in_bbox(*VIEW)}
        moved = tx.proposals.get(placed["outside"])
        assert (moved.minx, moved.miny, moved.maxx, moved.maxy) == (126.831, 37.651, 126.831, 37.651)


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


def viewport_query(world: World) -> tuple[str, object]:
    with captured_sql(world) as statements, world.store.transaction() as tx:
        tx.proposals.in_bbox(*VIEW)
    [query] = [(s, p) for s, p in statements if "FROM proposals" in s]
    return query


def test_each_engine_uses_its_own_bbox_path(world: World, placed: dict[str, int]) -> None:
    sql, _ = viewport_query(world)
    if world.store.backend == "postgresql":
        assert "&&" in sql and "ST_MakeEnvelope" in sql
    else:
        assert "&&" not in sql and "proposals.minx <=" in sql


@ONLY_POSTGIS
def test_postgis_plans_the_viewport_query_on_the_gist_index(world: World, placed: dict[str, int]) -> None:
    sql, parameters = viewport_query(world)
    with world.store.engine.connect() as conn:
        # With a dozen rows a sequential scan is cheapest, and the bbox
        # B-trees compete: take both away (in this transaction only) to see
        # that the store's own query can use the GiST index.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("DROP INDEX ix_proposals_minx, ix_proposals_maxx, ix_proposals_miny, ix_proposals_maxy"))
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, parameters))
        conn.rollback()  # the dropped indexes come back
    assert "idx_proposals_geometry" in plan, plan
