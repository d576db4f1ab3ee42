"""Meetings, agenda items, minutes and explicit hub catchments in the store (migration 0005), on SQLite and PostGIS."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from store_samples import HEAD, JUGYO, SEONGSA, World, proposal_fields

from store import NotFound
from store.migrate import compare, current_revision, downgrade, upgrade

WHEN = datetime(2026, 12, 10, 5, 0, tzinfo=UTC)


def _proposals(world: World, n: int = 3, **overrides) -> list[int]:
    with world.store.transaction() as tx:
        return [
            tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83 + 0.001 * i, 37.658), hub_code=JUGYO, **overrides)).id
            for i in range(n)
        ]


def test_catchment_rows_replace_clear_and_one_list_per_dong(world: World) -> None:
    store = world.store
    with store.transaction() as tx:
        assert tx.catchments.replace(JUGYO, [SEONGSA, JUGYO, SEONGSA], set_by=world.planner_id) == [JUGYO, SEONGSA]
        assert tx.catchments.for_hub(JUGYO) == [JUGYO, SEONGSA]
        assert tx.catchments.replace(JUGYO, [JUGYO]) == [JUGYO]  # replaces, not adds
        assert [(r.hub_code, r.district_code) for r in tx.catchments.list()] == [(JUGYO, JUGYO)]
    with pytest.raises(IntegrityError), store.transaction() as tx:  # the dong is the key: one explicit list each
        tx.catchments.replace(SEONGSA, [JUGYO])
    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx.catchments.replace(JUGYO, ["4128199999"])  # unknown district: foreign key
    with pytest.raises(ValueError), store.transaction() as tx:
        tx.catchments.replace(JUGYO, [4128152000])
    with store.transaction() as tx:
        assert tx.catchments.clear(JUGYO) == 1
        assert tx.catchments.list() == [] and tx.catchments.for_hub(JUGYO) == []


def test_meetings_add_get_list_update_delete(world: World) -> None:
    store = world.store
    with store.transaction() as tx:
        first = tx.meetings.add(JUGYO, "hub_meeting", WHEN, "주교동 주민센터", title="1차 회의", created_by=world.planner_id)
        second = tx.meetings.add(JUGYO, "dong_group", WHEN - timedelta(days=3), "경로당")
        other = tx.meetings.add(SEONGSA, "city_assembly", WHEN + timedelta(days=1), "시청")
    with store.transaction() as tx:
        m = tx.meetings.get(first.id)
        assert (m.hub_code, m.kind, m.place, m.title, m.status, m.notes, m.published_at) == (
            JUGYO, "hub_meeting", "주교동 주민센터", "1차 회의", "draft", "", None)
        assert m.starts_at == WHEN and m.starts_at.tzinfo is not None
        assert [x.id for x in tx.meetings.list()] == [second.id, first.id, other.id]  # by start time
        assert [x.id for x in tx.meetings.list(hub_codes=[JUGYO])] == [second.id, first.id]
        assert [x.id for x in tx.meetings.list(starts_from=WHEN)] == [first.id, other.id]
        tx.meetings.update(first.id, status="published", published_at=WHEN)
        assert [x.id for x in tx.meetings.list(statuses=["published"])] == [first.id]
        with pytest.raises(TypeError):
            tx.meetings.update(first.id, hub_code=SEONGSA)
        with pytest.raises(ValueError):
            tx.meetings.update(first.id, status="cancelled")
        with pytest.raises(ValueError):
            tx.meetings.add(JUGYO, "picnic", WHEN, "공원")
        with pytest.raises(NotFound):
            tx.meetings.add("4128199999", "hub_meeting", WHEN, "어딘가")
        tx.meetings.delete(second.id)
        assert tx.meetings.get(second.id) is None
        with pytest.raises(NotFound):
            tx.meetings.delete(second.id)


def test_agenda_items_are_numbered_and_a_cluster_is_a_snapshot(world: World) -> None:
    store = world.store
    a, b, c = _proposals(world)
    with store.transaction() as tx:
        m = tx.meetings.add(JUGYO, "hub_meeting", WHEN, "주교동")
        items = tx.meetings.replace_agenda(
            m.id, [{"proposal_id": a}, {"cluster_proposal_ids": [c, b, c], "cluster_label": 4, "cluster_title": "그늘막 묶음"}]
        )
        assert [(i.position, i.proposal_id, i.cluster_label) for i in items] == [(1, a, None), (2, None, 4)]
        assert json.loads(items[1].cluster_proposal_ids) == [b, c] and items[1].cluster_title == "그늘막 묶음"
        minutes = tx.meetings.add_minutes(items[0].id, "adopted", "좋아요", 5, 1, 0, recorded_by=world.planner_id)
        assert tx.meetings.minutes(m.id) == {items[0].id: minutes}
        assert tx.meetings.on_agenda([a, b]) == {a: [m.id]}
    with store.transaction() as tx:
        again = tx.meetings.replace_agenda(m.id, [{"proposal_id": b}])  # the old items and their minutes go
        assert [(i.position, i.proposal_id) for i in tx.meetings.items(m.id)] == [(1, b)]
        assert tx.meetings.minutes(m.id) == {} and tx.meetings.item(again[0].id).meeting_id == m.id
        with pytest.raises(ValueError):
            tx.meetings.replace_agenda(m.id, [{"proposal_id": a, "cluster_proposal_ids": [b, c]}])


def test_the_database_keeps_agenda_and_minutes_consistent(world: World) -> None:
    store = world.store
    a, b, _ = _proposals(world)
    with store.transaction() as tx:
        m = tx.meetings.add(JUGYO, "hub_meeting", WHEN, "주교동")
        [item] = tx.meetings.replace_agenda(m.id, [{"proposal_id": a}])
        item_id, meeting_id = item.id, m.id
    bad = {
        "both subjects": "INSERT INTO agenda_items (meeting_id, position, proposal_id, cluster_proposal_ids) VALUES (:m, 2, :a, '[1, 2]')",
        "no subject": "INSERT INTO agenda_items (meeting_id, position) VALUES (:m, 3)",
        "same position": "INSERT INTO agenda_items (meeting_id, position, proposal_id) VALUES (:m, 1, :b)",
        "position 0": "INSERT INTO agenda_items (meeting_id, position, proposal_id) VALUES (:m, 0, :b)",
        "unknown decision": "INSERT INTO minutes (item_id, decision, note, votes_for, votes_against, votes_abstain, recorded_at) "
        "VALUES (:i, 'maybe', '', 0, 0, 0, '2026-12-01 00:00:00')",
        "negative votes": "INSERT INTO minutes (item_id, decision, note, votes_for, votes_against, votes_abstain, recorded_at) "
        "VALUES (:i, 'adopted', '', -1, 0, 0, '2026-12-01 00:00:00')",
        "unknown status": "UPDATE meetings SET status = 'cancelled' WHERE id = :m",
        "unknown kind": "UPDATE meetings SET kind = 'picnic' WHERE id = :m",
    }
    for name, sql in bad.items():
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(text(sql), {"m": meeting_id, "a": a, "b": b, "i": item_id})
        with store.transaction() as tx:
            assert len(tx.meetings.items(meeting_id)) == 1, name
    with store.transaction() as tx:
        tx.meetings.add_minutes(item_id, "deferred")
    with pytest.raises(IntegrityError), store.transaction() as tx:  # one minutes per item
        tx.meetings.add_minutes(item_id, "adopted")
    with pytest.raises(ValueError), store.transaction() as tx:
        tx.meetings.add_minutes(item_id, "postponed")


def test_deleting_demo_proposals_takes_their_agenda_items_along(world: World) -> None:
    store = world.store
    [real] = _proposals(world, 1)
    demo_a, demo_b = _proposals(world, 2, is_demo=True)
    with store.transaction() as tx:
        m = tx.meetings.add(JUGYO, "hub_meeting", WHEN, "주교동")
        items = tx.meetings.replace_agenda(m.id, [{"proposal_id": real}, {"proposal_id": demo_a}])
        tx.meetings.add_minutes(items[0].id, "merged", merge_into_id=demo_b)
        tx.meetings.add_minutes(items[1].id, "adopted")
    with store.transaction() as tx:
        assert tx.proposals.delete_demo() == 2
    with store.transaction() as tx:
        assert [i.proposal_id for i in tx.meetings.items(m.id)] == [real]
        [kept] = tx.meetings.minutes(m.id).values()
        assert (kept.decision, kept.merge_into_id) == ("merged", None)


def test_0005_downgrades_and_upgrades_again(world: World) -> None:
    engine = world.store.engine
    with world.store.transaction() as tx:
        tx.meetings.add(JUGYO, "hub_meeting", WHEN, "주교동")
        tx.catchments.replace(JUGYO, [SEONGSA])
    downgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    assert not {"meetings", "agenda_items", "minutes", "hub_catchments"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == HEAD
    assert compare(engine) == []
    with world.store.transaction() as tx:
        assert tx.meetings.list() == [] and tx.catchments.list() == []
