"""Migration 0004 and the store side of the workflow and moderation, on SQLite and PostGIS.

Merge links and hide reasons on proposals and comments, flags (one open flag
per person and item, enforced by partial unique indexes), notifications,
moving supports and comments, and the demo clean-up with all of these.
"""
from __future__ import annotations

import pytest
from shapely.geometry import Point
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from store_samples import HEAD, JUGYO, World, proposal_fields

from store import Store
from store.engine import make_engine
from store.migrate import compare, current_revision, downgrade, upgrade

HERE = Point(126.83, 37.658)
NEW_PROPOSAL_COLUMNS = {"hidden_reason", "hidden_by", "hidden_at", "merged_into_id"}
NEW_COMMENT_COLUMNS = {"hidden_reason", "hidden_by", "hidden_at"}


def _add(world: World, **overrides) -> int:
    with world.store.transaction() as tx:
        return tx.proposals.add(**proposal_fields(world.resident_id, HERE, district_code=JUGYO, **overrides)).id


# ---------------------------------------------------------------- the migration


def _point_for(dialect: str) -> object:
    import shapely

    if dialect == "postgresql":
        return shapely.to_wkb(shapely.set_srid(HERE, 4326), hex=True, include_srid=True)
    return shapely.to_wkb(HERE)


def test_0004_upgrades_a_database_with_data_and_keeps_it(store_url: str) -> None:
    upgrade(store_url, "0003")
    engine = make_engine(store_url)
    try:
        now = {"now": "2026-11-30 09:00:00"}
        with engine.begin() as conn:
            rid = conn.execute(
                text("INSERT INTO residents (username, display_name, role, is_demo, created_at) VALUES ('minji', '김민지', 'resident', false, :now) RETURNING id"),
                now,
            ).scalar_one()
            pid = conn.execute(
                text(
                    "INSERT INTO proposals (title, body, category, kind, status, author_id, created_at, updated_at, geometry, "
                    "minx, miny, maxx, maxy, is_demo, hidden) VALUES ('벤치', '놓아 주세요', 'environment', 'area', 'shortlisted', "
                    ":rid, :now, :now, :geom, 126.83, 37.658, 126.83, 37.658, false, true) RETURNING id"
                ),
                {**now, "rid": rid, "geom": _point_for(engine.dialect.name)},
            ).scalar_one()
            top = conn.execute(
                text("INSERT INTO comments (proposal_id, author_id, body, created_at, hidden, is_demo) VALUES (:pid, :rid, '좋아요', :now, true, false) RETURNING id"),
                {**now, "pid": pid, "rid": rid},
            ).scalar_one()
            reply = conn.execute(
                text(
                    "INSERT INTO comments (proposal_id, author_id, body, created_at, hidden, is_demo, parent_id) "
                    "VALUES (:pid, :rid, '답글', :now, false, false, :top) RETURNING id"
                ),
                {**now, "pid": pid, "rid": rid, "top": top},
            ).scalar_one()
            conn.execute(text("INSERT INTO supports (proposal_id, resident_id, created_at) VALUES (:pid, :rid, :now)"), {**now, "pid": pid, "rid": rid})
        upgrade(engine)
        assert current_revision(engine) == HEAD and compare(engine) == []
        assert NEW_PROPOSAL_COLUMNS <= {c["name"] for c in inspect(engine).get_columns("proposals")}
        assert {"flags", "notifications"} <= set(inspect(engine).get_table_names())
        store = Store(engine)
        with store.transaction() as tx:
            p = tx.proposals.get(pid)
            assert (p.title, p.status, p.hidden, p.hidden_reason, p.hidden_by, p.merged_into_id) == ("벤치", "shortlisted", True, None, None, None)
            assert [(c.id, c.parent_id, c.hidden, c.hidden_reason) for c in tx.comments.list_for(pid, include_hidden=True)] == [
                (top, None, True, None),
                (reply, top, False, None),
            ]
            assert tx.supports.count_for(pid) == 1
            other = tx.proposals.add(**proposal_fields(rid, HERE))
            tx.proposals.set_merged_into(pid, other.id)  # the new foreign keys work
            tx.comments.set_hidden(reply, True, reason="광고", by=rid)
            assert tx.flags.add(rid, "광고", proposal_id=other.id) is not None
            tx.notifications.add(rid, "status_changed", proposal_id=pid, params={"id": pid})
        with pytest.raises(IntegrityError), store.transaction() as tx:
            tx.proposals.set_merged_into(pid, None)
            tx.proposals.get(pid).merged_into_id = 424242  # no such proposal: refused by the foreign key
            tx.flush()
    finally:
        engine.dispose()


def test_0004_downgrades_with_data_and_upgrades_again(world: World) -> None:
    engine = world.store.engine
    loser, survivor = _add(world), _add(world, title="남는 제안")
    with world.store.transaction() as tx:
        c = tx.comments.add(loser, world.other_resident_id, "광고")
        tx.comments.set_hidden(c.id, True, reason="광고", by=world.planner_id)
        tx.proposals.set_hidden(survivor, True, reason="중복", by=world.planner_id)
        tx.proposals.set_merged_into(loser, survivor)
        tx.flags.add(world.other_resident_id, "광고", comment_id=c.id)
        tx.notifications.add(world.resident_id, "merged", proposal_id=loser, params={"survivor": survivor})
    downgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    assert not {"flags", "notifications"} & set(inspect(engine).get_table_names())
    assert not NEW_PROPOSAL_COLUMNS & {col["name"] for col in inspect(engine).get_columns("proposals")}
    assert not NEW_COMMENT_COLUMNS & {col["name"] for col in inspect(engine).get_columns("comments")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM proposals")).scalar_one() == 2
        assert conn.execute(text("SELECT count(*) FROM comments WHERE hidden")).scalar_one() == 1  # hidden stays hidden
    upgrade(engine)
    assert current_revision(engine) == HEAD and compare(engine) == []
    with world.store.transaction() as tx:
        assert tx.proposals.get(loser).merged_into_id is None and tx.flags.open_all() == []


def test_autogenerate_notices_a_missing_open_flag_index(store: Store) -> None:
    """The comparison of models and migrations sees the partial unique indexes."""
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ux_flags_open_comment"))
    diffs = compare(store.engine)
    assert [(d[0], d[1].name) for d in diffs] == [("add_index", "ux_flags_open_comment")]


# ---------------------------------------------------------------- flags


def test_one_open_flag_per_person_and_item(world: World) -> None:
    pid = _add(world)
    with world.store.transaction() as tx:
        cid = tx.comments.add(pid, world.resident_id, "의견").id
        first = tx.flags.add(world.other_resident_id, "광고", proposal_id=pid)
        assert first is not None
        assert tx.flags.add(world.other_resident_id, "또 광고", proposal_id=pid) is None  # refused, transaction still usable
        assert tx.flags.add(world.planner_id, "광고", proposal_id=pid) is not None
        assert tx.flags.add(world.other_resident_id, "댓글 광고", comment_id=cid) is not None  # another item
        assert tx.flags.has_open(world.other_resident_id, proposal_id=pid)
        assert [f.reason for f in tx.flags.open_for(proposal_id=pid)] == ["광고", "광고"]
        assert [f.comment_id for f in tx.flags.open_for_comments([cid, 999])] == [cid]
        assert tx.flags.resolve("dismissed", world.planner_id, proposal_id=pid) == 2
        assert tx.flags.open_for(proposal_id=pid) == [] and not tx.flags.has_open(world.other_resident_id, proposal_id=pid)
        again = tx.flags.add(world.other_resident_id, "다시", proposal_id=pid)  # once resolved, a new one may be opened
        assert again is not None and again.id != first.id
        with pytest.raises(ValueError):
            tx.flags.resolve("deleted", None, proposal_id=pid)
        with pytest.raises(ValueError):
            tx.flags.add(world.other_resident_id, "둘 다", proposal_id=pid, comment_id=cid)
    # The database itself refuses a second open flag, and a flag about nothing.
    with pytest.raises(IntegrityError), world.store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO flags (resident_id, proposal_id, reason, created_at) VALUES (:r, :p, 'x', '2026-12-01 00:00:00')"),
            {"r": world.other_resident_id, "p": pid},
        )
    with pytest.raises(IntegrityError), world.store.engine.begin() as conn:
        conn.execute(text("INSERT INTO flags (resident_id, reason, created_at) VALUES (:r, 'x', '2026-12-01 00:00:00')"), {"r": world.resident_id})


# ---------------------------------------------------------------- merging, history, notifications


def test_moving_supports_and_comments(world: World) -> None:
    loser, survivor = _add(world), _add(world, title="남는 제안")
    r, o, pl = world.resident_id, world.other_resident_id, world.planner_id
    with world.store.transaction() as tx:
        for who in (r, o, pl):
            tx.supports.add(loser, who)
        tx.supports.add(survivor, o)
        top = tx.comments.add(loser, r, "위")
        reply = tx.comments.add(loser, o, "아래", parent_id=top.id)
        assert tx.supports.move(loser, survivor) == (2, 1)
        assert tx.comments.move(loser, survivor) == 2
    with world.store.transaction() as tx:
        assert tx.supports.count_for(loser) == 0 and tx.supports.count_for(survivor) == 3
        assert all(tx.supports.has(survivor, who) for who in (r, o, pl))
        assert [(c.id, c.parent_id) for c in tx.comments.list_for(survivor)] == [(top.id, None), (reply.id, top.id)]
        assert tx.proposals.set_merged_into(loser, survivor).merged_into_id == survivor
        assert tx.proposals.merged_into(survivor) == [loser] and tx.proposals.merged_into(loser) == []


def test_latest_reasons_and_votes_of_a_proposal(world: World) -> None:
    a, b = _add(world), _add(world)
    with world.store.transaction() as tx:
        tx.proposals.set_status(a, "rejected", world.planner_id, "첫 번째")
        tx.proposals.set_status(a, "under_review", world.planner_id, "재검토")
        tx.proposals.set_status(a, "rejected", world.planner_id, "두 번째")
        tx.proposals.set_status(a, "rejected", world.planner_id, "edited")  # not a change into 'rejected'
        assert tx.history.latest_reasons([a, b], "rejected") == {a: "두 번째"}
        assert tx.history.latest_reasons([], "rejected") == {}
        cycle = tx.cycles.add(2027)
        assert tx.votes.count_for_proposal(b) == 0
        tx.votes.replace_ballot(cycle.id, world.resident_id, [b])
        tx.votes.replace_ballot(cycle.id, world.other_resident_id, [a, b])
        assert (tx.votes.count_for_proposal(a), tx.votes.count_for_proposal(b)) == (1, 2)


def test_notifications_are_listed_unread_first_and_marked_by_their_owner(world: World) -> None:
    pid = _add(world)
    with world.store.transaction() as tx:
        n1 = tx.notifications.add(world.resident_id, "status_changed", proposal_id=pid, params={"id": pid, "status": "under_review"})
        n2 = tx.notifications.add(world.resident_id, "rejected", proposal_id=pid, params={"reason": "중복"})
        tx.notifications.add(world.other_resident_id, "status_changed", proposal_id=pid)
        assert tx.notifications.mark_read(world.other_resident_id, [n1.id]) == 0
        assert tx.notifications.mark_read(world.resident_id, [n2.id]) == 1
        n3 = tx.notifications.add(world.resident_id, "merged", proposal_id=pid)
        assert [n.id for n in tx.notifications.list_for(world.resident_id)] == [n3.id, n1.id, n2.id]
        assert [n.id for n in tx.notifications.list_for(world.resident_id, unread_only=True)] == [n3.id, n1.id]
        assert tx.notifications.unread_count(world.resident_id) == 2
        assert '"reason": "중복"' in n2.params
        assert tx.notifications.mark_read(world.resident_id) == 2 and tx.notifications.unread_count(world.resident_id) == 0
        assert tx.notifications.unread_count(world.other_resident_id) == 1


def test_hidden_reason_who_and_when_are_kept_and_cleared(world: World) -> None:
    pid = _add(world)
    with world.store.transaction() as tx:
        c = tx.comments.add(pid, world.other_resident_id, "광고")
        p = tx.proposals.set_hidden(pid, True, reason="중복", by=world.planner_id)
        assert (p.hidden, p.hidden_reason, p.hidden_by) == (True, "중복", world.planner_id) and p.hidden_at is not None
        c = tx.comments.set_hidden(c.id, True, reason="광고", by=world.planner_id)
        assert (c.hidden, c.hidden_reason, c.hidden_by) == (True, "광고", world.planner_id) and c.hidden_at is not None
        p = tx.proposals.set_hidden(pid, False)
        assert (p.hidden, p.hidden_reason, p.hidden_by, p.hidden_at) == (False, None, None, None)


def test_deleting_demo_data_takes_its_flags_notifications_and_merge_links(world: World) -> None:
    demo, real = _add(world, is_demo=True), _add(world, title="진짜")
    with world.store.transaction() as tx:
        demo_comment = tx.comments.add(demo, world.other_resident_id, "데모 댓글")
        real_comment = tx.comments.add(real, world.other_resident_id, "진짜 댓글")
        tx.flags.add(world.resident_id, "데모 신고", proposal_id=demo)
        tx.flags.add(world.resident_id, "데모 댓글 신고", comment_id=demo_comment.id)
        kept_flag = tx.flags.add(world.resident_id, "진짜 신고", comment_id=real_comment.id)
        tx.notifications.add(world.resident_id, "status_changed", proposal_id=demo)
        tx.notifications.add(world.other_resident_id, "comment_hidden", proposal_id=demo, comment_id=demo_comment.id)
        kept_note = tx.notifications.add(world.resident_id, "status_changed", proposal_id=real)
        tx.proposals.set_merged_into(real, demo)
    with world.store.transaction() as tx:
        assert tx.proposals.delete_demo() == 1
    with world.store.transaction() as tx:
        assert tx.proposals.get(demo) is None and tx.proposals.get(real).merged_into_id is None
        assert [f.id for f in tx.flags.open_all()] == [kept_flag.id]
        assert [n.id for n in tx.notifications.list_for(world.resident_id)] == [kept_note.id]
        assert tx.notifications.list_for(world.other_resident_id) == []
