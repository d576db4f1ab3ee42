"""Proposal updates, authors' lists, moderation flags, replies and photo links, on both engines."""
from __future__ import annotations

import json

import pytest
from shapely.geometry import LineString, Point, Polygon
from store_samples import JUGYO, SEONGSA, World, proposal_fields

from store import NotFound

HOME = Point(126.8321, 37.6581)


def test_update_changes_fields_and_recomputes_the_bbox(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME, district_code=JUGYO, photo_url="https://a.kr/1.jpg"))
        created = p.updated_at
        other = tx.proposals.add(**proposal_fields(world.resident_id, HOME, title="그대로"))
    line = LineString([(126.840, 37.655), (126.846, 37.659)])
    with world.store.transaction() as tx:
        got = tx.proposals.update(
            p.id, title="새 제목", geometry=line, district_code=SEONGSA, district_shares={SEONGSA: 1}, photo_url=None, cost_krw=None
        )
        assert got.id == p.id
    with world.store.transaction() as tx:
        got = tx.proposals.get(p.id)
        assert (got.title, got.district_code, got.photo_url, got.cost_krw) == ("새 제목", SEONGSA, None, None)
        assert got.geometry.equals(line)
        assert (got.minx, got.miny, got.maxx, got.maxy) == line.bounds
        assert json.loads(got.district_shares) == {SEONGSA: 1.0}
        assert got.updated_at > created and got.created_at == created
        assert got.status == "submitted" and got.author_id == world.resident_id
        assert tx.proposals.get(other.id).title == "그대로"  # only the one row
        # The viewport query sees the new place, not the old.
        assert [q.id for q in tx.proposals.in_bbox(126.839, 37.654, 126.847, 37.660)] == [p.id]


def test_update_refuses_what_it_may_not_change(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        for field in ("status", "author_id", "created_at", "minx", "id", "colour"):
            with pytest.raises(TypeError, match=field):
                tx.proposals.update(p.id, **{field: 1})
        with pytest.raises(TypeError, match="None"):
            tx.proposals.update(p.id, title=None)
        with pytest.raises(ValueError, match="kind"):
            tx.proposals.update(p.id, kind="city")
        with pytest.raises(ValueError, match="non-empty"):
            tx.proposals.update(p.id, geometry=Polygon())
        with pytest.raises(ValueError, match="JSON"):
            tx.proposals.update(p.id, district_shares="{nope")
        with pytest.raises(NotFound):
            tx.proposals.update(10_000, title="x")


def test_by_author_lists_every_proposal_of_one_author(world: World) -> None:
    with world.store.transaction() as tx:
        a = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        b = tx.proposals.add(**proposal_fields(world.other_resident_id, HOME))
        c = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        tx.proposals.set_hidden(c.id, True)
        tx.proposals.set_status(a.id, "withdrawn", world.resident_id, "")
    with world.store.transaction() as tx:
        assert [p.id for p in tx.proposals.by_author(world.resident_id)] == [c.id, a.id]  # hidden and withdrawn too
        assert [p.id for p in tx.proposals.by_author(world.other_resident_id)] == [b.id]
        assert tx.proposals.by_author(world.planner_id) == []


def test_set_hidden_on_proposals_and_comments(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        c = tx.comments.add(p.id, world.other_resident_id, "광고")
        assert tx.proposals.set_hidden(p.id, True).hidden is True
        assert tx.comments.set_hidden(c.id, True).hidden is True
    with world.store.transaction() as tx:
        assert tx.proposals.list() == [] and tx.comments.list_for(p.id) == []
        assert tx.proposals.get(p.id).hidden and tx.comments.get(c.id).hidden
        tx.proposals.set_hidden(p.id, False)
        tx.comments.set_hidden(c.id, False)
    with world.store.transaction() as tx:
        assert [q.id for q in tx.proposals.list()] == [p.id]
        assert [x.id for x in tx.comments.list_for(p.id)] == [c.id]
        with pytest.raises(NotFound) as refused:
            tx.proposals.set_hidden(10_000, True)
        assert refused.value.entity == "proposal"
        with pytest.raises(NotFound) as refused:
            tx.comments.set_hidden(10_000, True)
        assert refused.value.entity == "comment"
        assert tx.comments.get(10_000) is None


def test_replies_are_one_level_deep(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        q = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        top = tx.comments.add(p.id, world.resident_id, "질문")
        reply = tx.comments.add(p.id, world.other_resident_id, "답", parent_id=top.id)
        reply_to_reply = tx.comments.add(p.id, world.planner_id, "답의 답", parent_id=reply.id)
        assert (top.parent_id, reply.parent_id, reply_to_reply.parent_id) == (None, top.id, top.id)
        with pytest.raises(ValueError, match="proposal"):
            tx.comments.add(q.id, world.resident_id, "다른 제안", parent_id=top.id)
        with pytest.raises(NotFound) as refused:
            tx.comments.add(p.id, world.resident_id, "없는 댓글", parent_id=10_000)
        assert refused.value.entity == "comment"
    with world.store.transaction() as tx:
        assert [(c.id, c.parent_id) for c in tx.comments.list_for(p.id)] == [
            (top.id, None),
            (reply.id, top.id),
            (reply_to_reply.id, top.id),
        ]
        assert tx.comments.list_for(q.id) == []


def test_deleting_demo_data_keeps_real_replies_to_demo_comments(world: World) -> None:
    with world.store.transaction() as tx:
        real = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        demo = tx.proposals.add(**proposal_fields(world.resident_id, HOME, is_demo=True))
        demo_top = tx.comments.add(real.id, world.other_resident_id, "데모 댓글", is_demo=True)
        real_reply = tx.comments.add(real.id, world.resident_id, "진짜 답글", parent_id=demo_top.id)
        top_on_demo = tx.comments.add(demo.id, world.resident_id, "데모 제안의 댓글")
        tx.comments.add(demo.id, world.other_resident_id, "그 답글", parent_id=top_on_demo.id)
    with world.store.transaction() as tx:
        assert tx.proposals.delete_demo() == 1
    with world.store.transaction() as tx:
        [kept] = tx.comments.list_for(real.id, include_hidden=True)
        assert (kept.id, kept.parent_id) == (real_reply.id, None)  # promoted to a top-level comment
        assert tx.comments.list_for(demo.id, include_hidden=True) == []


def test_photo_url_is_stored(world: World) -> None:
    url = "https://photos.example.kr/행신동/벤치.jpg?size=large"
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME, photo_url=url))
        plain = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
    with world.store.transaction() as tx:
        assert tx.proposals.get(p.id).photo_url == url
        assert tx.proposals.get(plain.id).photo_url is None


def test_supports_has(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        tx.supports.add(p.id, world.other_resident_id)
        assert tx.supports.has(p.id, world.other_resident_id) is True
        assert tx.supports.has(p.id, world.resident_id) is False


def test_display_names_and_district_names(world: World) -> None:
    with world.store.transaction() as tx:
        assert tx.residents.display_names([world.resident_id, world.planner_id, 10_000]) == {
            world.resident_id: "김민지",
            world.planner_id: "이기획",
        }
        assert tx.residents.display_names([]) == {}
        assert tx.districts.names() == {JUGYO: "주교동", SEONGSA: "성사1동"}


def test_get_for_update_locks_and_reads_fresh(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
    with world.store.transaction() as tx:
        assert tx.proposals.get(p.id, for_update=True).title == "놀이터 그늘막 설치"
        assert tx.proposals.get(10_000, for_update=True) is None
