"""Moderation and notifications (planning/moderation.py) on SQLite and PostGIS.

Flags (one open per person and item), the moderators' queue, hiding and
showing again with reasons, who sees hidden content (anonymous, another
resident, the author, a planner, an admin) in cards, threads, the map,
summaries and "my proposals", with counts; notifications and the audit log.
"""
from __future__ import annotations

import pytest
from shapely.geometry import Point

from planning.auth import Actor, actor_for
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data
from planning.moderation import (
    NOTIFICATION_KINDS,
    dismiss_flags,
    flag,
    flag_queue,
    hide,
    mark_read,
    notification_text,
    notifications_for,
    unhide,
    unread_count,
)
from planning.proposals import add_comment, comment_thread, map_frame, my_proposals, proposal_card, support_proposal
from planning.workflow import transition

HAENGSIN1 = "4128164000"
HUB = "4128165000"
LON, LAT = 126.833004, 37.622148
VIEWERS = ("anonymous", "other", "author", "planner", "admin")


@pytest.fixture
def cast(store):
    install_reference_data(store)
    with store.transaction() as tx:
        ids = {
            "author": tx.residents.add("minji", "민지", home_district_code=HAENGSIN1, password_hash="x").id,
            "other": tx.residents.add("junho", "준호", home_district_code=HAENGSIN1, password_hash="x").id,
            "third": tx.residents.add("seoyeon", "서연", home_district_code=HAENGSIN1, password_hash="x").id,
            "staff": tx.residents.add("staff", "직원", role="centre_staff", hub_code=HUB, password_hash="x").id,
            "planner": tx.residents.add("planner", "기획", role="planner", password_hash="x").id,
            "admin": tx.residents.add("admin", "관리", role="admin", password_hash="x").id,
        }
    actors = {name: actor_for(store, rid) for name, rid in ids.items()}
    actors["anonymous"] = Actor.anonymous()
    return store, actors


def make(store, author: Actor, title: str = "벤치 설치", x: float = 0.0) -> int:
    with store.transaction() as tx:
        return tx.proposals.add(
            title=title, body="공원에 벤치를", category="environment", kind="area", author_id=author.id,
            geometry=Point(LON + x, LAT), hub_code=HUB, district_code=HAENGSIN1,
        ).id


def audit(store, action):
    with store.transaction() as tx:
        return tx.audit.list(action=action)


# ---------------------------------------------------------------- flags


def test_residents_flag_proposals_and_comments_once_each(cast):
    store, a = cast
    pid = make(store, a["author"])
    cid = add_comment(store, a["author"], pid, "광고입니다 010-0000-0000")
    first = flag(store, a["other"], "proposal", pid, "  주제와 관계없음 ")
    assert flag(store, a["third"], "proposal", pid, "광고") != first
    flag(store, a["other"], "comment", cid, "개인정보 노출")
    for kind, item in (("proposal", pid), ("comment", cid)):
        with pytest.raises(NotAllowed) as e:
            flag(store, a["other"], kind, item, "한 번 더")
        assert e.value.code == "already_flagged"
        assert "이미 신고하셨습니다" in e.value.message("ko") and "고맙습니다" in e.value.message("ko")
        assert "You have already reported" in e.value.message("en") and "Thank you" in e.value.message("en")
    with store.transaction() as tx:
        assert [(f.resident_id, f.reason) for f in tx.flags.open_for(proposal_id=pid)] == [
            (a["other"].id, "주제와 관계없음"),
            (a["third"].id, "광고"),
        ]
        assert len(tx.flags.open_for(comment_id=cid)) == 1
    card = proposal_card(store, pid, a["other"])
    assert card.viewer_flagged and not card.can_flag and card.open_flags == 0  # counts are for moderators
    assert proposal_card(store, pid, a["planner"]).open_flags == 2
    [(top, _)] = card.thread
    assert top.viewer_flagged and not top.can_flag
    assert proposal_card(store, pid, a["admin"]).thread[0][0].open_flags == 1
    # Once dismissed, the same person may report again.
    assert dismiss_flags(store, a["planner"], "proposal", pid, "문제없음") == 2
    flag(store, a["other"], "proposal", pid, "다시 봐 주세요")


@pytest.mark.parametrize(
    "who, kind, item, error, code",
    [
        ("anonymous", "proposal", "pid", NotAllowed, "sign_in_required"),
        ("author", "proposal", "pid", NotAllowed, "own_item"),
        ("author", "comment", "own_comment", NotAllowed, "own_item"),
        ("other", "proposal", "missing", InvalidInput, "no_such_proposal"),
        ("other", "comment", "missing", InvalidInput, "no_such_comment"),
        ("other", "proposal", "hidden_pid", InvalidInput, "no_such_proposal"),
        ("other", "comment", "hidden_comment", InvalidInput, "no_such_comment"),
        ("planner", "proposal", "hidden_pid", NotAllowed, "already_hidden"),
        ("other", "proposal", "pid_blank", InvalidInput, "empty_field"),
        ("other", "thing", "pid", InvalidInput, "unknown_item_kind"),
    ],
)
def test_flags_that_are_refused(cast, who, kind, item, error, code):
    store, a = cast
    pid = make(store, a["author"])
    hidden_pid = make(store, a["author"], x=0.001)
    own_comment = add_comment(store, a["author"], pid, "내 댓글")
    hidden_comment = add_comment(store, a["third"], pid, "숨길 댓글")
    hide(store, a["planner"], "proposal", hidden_pid, "광고")
    hide(store, a["planner"], "comment", hidden_comment, "욕설")
    ids = {"pid": pid, "pid_blank": pid, "hidden_pid": hidden_pid, "own_comment": own_comment, "hidden_comment": hidden_comment, "missing": 424242}
    with pytest.raises(error) as e:
        flag(store, a[who], kind, ids[item], "   " if item == "pid_blank" else "광고")
    assert e.value.code == code and e.value.message("ko") != e.value.message("en")
    with store.transaction() as tx:
        assert tx.flags.open_all() == []


def test_the_queue_groups_open_flags_by_item_for_moderators_only(cast):
    store, a = cast
    quiet = make(store, a["author"], "조용한 제안")
    busy = make(store, a["author"], "시끄러운 제안", x=0.001)
    cid = add_comment(store, a["other"], quiet, "x" * 200)
    flag(store, a["other"], "proposal", busy, "광고")
    flag(store, a["third"], "proposal", busy, "도배")
    flag(store, a["third"], "comment", cid, "욕설")
    flag(store, a["admin"], "proposal", quiet, "중복")
    for who in ("anonymous", "other", "staff"):
        with pytest.raises(NotAllowed):
            flag_queue(store, a[who])
    queue = flag_queue(store, a["planner"])
    assert [(i.kind, i.item_id, i.count) for i in queue] == [("proposal", busy, 2), ("comment", cid, 1), ("proposal", quiet, 1)]
    top = queue[0]
    assert (top.proposal_title, top.excerpt, top.author_name, top.hidden) == ("시끄러운 제안", "시끄러운 제안", "민지", False)
    assert [(r.reporter_name, r.reason) for r in top.reasons] == [("준호", "광고"), ("서연", "도배")]
    assert top.first_flagged_at <= top.last_flagged_at
    comment_item = queue[1]
    assert comment_item.proposal_id == quiet and comment_item.excerpt.endswith("…") and len(comment_item.excerpt) == 80
    hide(store, a["admin"], "proposal", busy, "광고성 제안")
    assert [(i.kind, i.item_id) for i in flag_queue(store, a["admin"])] == [("comment", cid), ("proposal", quiet)]
    dismiss_flags(store, a["admin"], "comment", cid)
    with pytest.raises(InvalidInput) as e:
        dismiss_flags(store, a["admin"], "comment", cid)
    assert e.value.code == "no_open_flags"
    assert [(i.kind, i.item_id) for i in flag_queue(store, a["admin"])] == [("proposal", quiet)]
    with store.transaction() as tx:
        closed = {(f.resident_id, f.resolution, f.resolved_by) for f in tx.flags.open_all()}
    assert closed == {(a["admin"].id, None, None)}


# ---------------------------------------------------------------- hiding and who sees what


def test_hide_needs_a_moderator_and_a_reason_and_is_audited(cast):
    store, a = cast
    pid = make(store, a["author"])
    flag(store, a["other"], "proposal", pid, "광고")
    for who in ("anonymous", "other", "author", "staff"):
        with pytest.raises(NotAllowed):
            hide(store, a[who], "proposal", pid, "광고")
    with pytest.raises(InvalidInput) as e:
        hide(store, a["planner"], "proposal", pid, "  ")
    assert e.value.code == "empty_field" and "숨김 사유" in e.value.message("ko")
    assert hide(store, a["planner"], "proposal", pid, "상업 광고") == 1
    with store.transaction() as tx:
        p = tx.proposals.get(pid)
        assert (p.hidden, p.hidden_reason, p.hidden_by) == (True, "상업 광고", a["planner"].id) and p.hidden_at is not None
        assert tx.flags.open_all() == []
    with pytest.raises(InvalidInput) as e:
        hide(store, a["admin"], "proposal", pid, "again")
    assert e.value.code == "already_hidden" and "상업 광고" in e.value.message("en")
    [entry] = audit(store, "moderation.hide")
    assert (entry.actor_id, entry.subject) == (a["planner"].id, f"proposal:{pid}") and "상업 광고" in entry.detail
    unhide(store, a["admin"], "proposal", pid, "오해였습니다")
    with store.transaction() as tx:
        p = tx.proposals.get(pid)
        assert (p.hidden, p.hidden_reason, p.hidden_by, p.hidden_at) == (False, None, None, None)
    with pytest.raises(InvalidInput) as e:
        unhide(store, a["admin"], "proposal", pid)
    assert e.value.code == "not_hidden"
    [entry] = audit(store, "moderation.unhide")
    assert entry.actor_id == a["admin"].id and "오해였습니다" in entry.detail and "상업 광고" in entry.detail
    flag(store, a["other"], "proposal", pid, "여전히 광고")
    assert dismiss_flags(store, a["planner"], "proposal", pid, "광고 아님") == 1
    [entry] = audit(store, "moderation.dismiss")
    assert entry.subject == f"proposal:{pid}" and '"flags_closed": 1' in entry.detail


@pytest.mark.parametrize("who", VIEWERS)
def test_a_hidden_proposal_by_viewer(cast, who):
    store, a = cast
    pid = make(store, a["author"])
    shown = make(store, a["author"], "보이는 제안", x=0.001)
    support_proposal(store, a["other"], pid)
    add_comment(store, a["other"], pid, "좋아요")
    hide(store, a["planner"], "proposal", pid, "개인정보가 들어 있음")
    sees = who in ("author", "planner", "admin")
    if sees:
        card = proposal_card(store, pid, a[who])
        assert (card.hidden, card.hidden_reason) == (True, "개인정보가 들어 있음")
        assert not (card.can_support or card.can_comment or card.can_flag or card.can_edit)
        assert card.can_moderate == (who != "author")
        assert [c.body for c, _ in comment_thread(store, pid, a[who])] == ["좋아요"]
    else:
        with pytest.raises(InvalidInput) as e:
            proposal_card(store, pid, a[who])
        assert e.value.code == "no_such_proposal"
        with pytest.raises(InvalidInput):
            comment_thread(store, pid, a[who])
    # The public map leaves it out for everyone (the author finds it in "my proposals"); the staff map has it.
    assert list(map_frame(store, viewer=a[who])["id"]) == [shown]
    if who in ("planner", "admin"):
        assert set(map_frame(store, include_hidden=True, viewer=a[who])["id"]) == {pid, shown}
    with store.transaction() as tx:
        assert [r.id for r in tx.proposals.summaries()] == [shown]
        [row] = [r for r in tx.proposals.summaries(include_hidden=True) if r.id == pid]
        assert (row.hidden, row.supports, row.comments) == (True, 1, 1)
    if who == "author":
        mine = {m.id: m for m in my_proposals(store, a["author"])}
        assert (mine[pid].hidden, mine[pid].hidden_reason, mine[pid].can_edit) == (True, "개인정보가 들어 있음", False)
        assert mine[shown].hidden_reason is None
    if who in ("other", "author"):
        with pytest.raises((InvalidInput, NotAllowed)):
            support_proposal(store, a[who], pid)


@pytest.mark.parametrize("who", VIEWERS)
def test_hidden_comments_by_viewer_and_the_counts(cast, who):
    store, a = cast
    pid = make(store, a["other"])  # "other" wrote the proposal; "author" writes the hidden comments
    kept = add_comment(store, a["third"], pid, "좋은 생각")
    bad = add_comment(store, a["author"], pid, "광고 글")
    reply_to_bad = add_comment(store, a["third"], pid, "광고네요", parent_id=bad)
    bad_reply = add_comment(store, a["author"], pid, "욕설", parent_id=kept)
    hide(store, a["planner"], "comment", bad, "광고")
    hide(store, a["admin"], "comment", bad_reply, "욕설")
    threads = comment_thread(store, pid, a[who])
    got = [(c.id, [r.id for r in rs]) for c, rs in threads]
    if who in ("author", "planner", "admin"):
        assert got == [(kept, [bad_reply]), (bad, [reply_to_bad])]
        by_id = {c.id: c for c, rs in threads} | {r.id: r for _, rs in threads for r in rs}
        assert (by_id[bad].hidden, by_id[bad].hidden_reason) == (True, "광고")
        assert (by_id[bad_reply].hidden, by_id[bad_reply].hidden_reason) == (True, "욕설")
        assert by_id[kept].hidden_reason is None and not by_id[bad].can_flag
    else:
        assert got == [(kept, [])]
    assert proposal_card(store, pid, a[who]).comment_count == (4 if who in ("author", "planner", "admin") else 1)
    # Counts on the map and in summaries are what the public sees, whoever asks.
    assert map_frame(store, viewer=a[who]).set_index("id").loc[pid, "comments"] == 1
    with store.transaction() as tx:
        [row] = tx.proposals.summaries()
        assert row.comments == 1
    assert {m.id: m.comments for m in my_proposals(store, a["other"])} == {pid: 1}
    unhide(store, a["planner"], "comment", bad)
    assert proposal_card(store, pid, a["anonymous"]).comment_count == 3


def test_authors_are_notified_of_hiding_and_showing_again(cast):
    store, a = cast
    pid = make(store, a["author"])
    cid = add_comment(store, a["author"], pid, "광고 글")
    own = make(store, a["planner"], "기획가의 제안", x=0.001)
    hide(store, a["planner"], "proposal", pid, "중복 게시")
    hide(store, a["planner"], "comment", cid, "광고")
    unhide(store, a["admin"], "comment", cid, "광고 아님")
    hide(store, a["planner"], "proposal", own, "시험")  # hiding one's own: no notification
    told = notifications_for(store, a["author"])
    assert [n.kind for n in told] == ["comment_unhidden", "comment_hidden", "proposal_hidden"]
    assert [n.comment_id for n in told] == [cid, cid, None] and all(n.proposal_id == pid for n in told)
    assert "숨겼습니다" in told[2].message("ko") and "사유: 중복 게시" in told[2].message("ko")
    assert "A moderator hid your proposal" in told[2].message("en") and "Reason: 중복 게시" in told[2].message("en")
    assert "your comment" in told[1].message("en") and "is shown again" in told[0].message("en")
    assert notifications_for(store, a["planner"]) == []


# ---------------------------------------------------------------- notifications


def test_notifications_unread_first_and_marked_read_by_their_owner_only(cast):
    store, a = cast
    first = make(store, a["author"], "첫째")
    second = make(store, a["author"], "둘째", x=0.001)
    transition(store, a["planner"], first, "under_review", "검토 시작")
    transition(store, a["planner"], second, "rejected", "예산 초과")
    transition(store, a["planner"], first, "shortlisted")
    assert unread_count(store, a["author"]) == 3 and unread_count(store, a["anonymous"]) == 0
    told = notifications_for(store, a["author"])
    assert [(n.kind, n.proposal_id) for n in told] == [("status_changed", first), ("rejected", second), ("status_changed", first)]
    oldest = told[-1]
    assert mark_read(store, a["other"], [oldest.id]) == 0  # not theirs
    assert mark_read(store, a["author"], [oldest.id]) == 1
    assert mark_read(store, a["author"], [oldest.id]) == 0  # already read
    told = notifications_for(store, a["author"])
    assert [n.unread for n in told] == [True, True, False] and told[-1].id == oldest.id
    assert [n.id for n in notifications_for(store, a["author"], unread_only=True)] == [n.id for n in told[:2]]
    transition(store, a["planner"], first, "adopted")  # a newer one comes first among the unread
    assert notifications_for(store, a["author"])[0].message("en").endswith("is now 'adopted'.")
    assert mark_read(store, a["author"]) == 3
    assert unread_count(store, a["author"]) == 0
    with pytest.raises(NotAllowed):
        notifications_for(store, a["anonymous"])
    with pytest.raises(NotAllowed):
        mark_read(store, a["anonymous"])


@pytest.mark.parametrize("kind", NOTIFICATION_KINDS)
def test_every_notification_reads_in_both_languages(kind):
    params = {"id": 7, "title": "벤치", "status": "field_verified", "survivor": 9, "survivor_title": "공원",
              "loser": 5, "loser_title": "의자", "reason": "중복"}
    ko, en = notification_text(kind, params, "ko"), notification_text(kind, params, "en")
    assert "#7" in ko and "#7" in en and ko != en
    assert ko.endswith("사유: 중복") and en.endswith("Reason: 중복")
    if kind == "status_changed":
        assert "'현장 확인'" in ko and "'field-verified'" in en
    if kind == "merged":
        assert "#9" in ko and "#9" in en
    assert notification_text(kind, params | {"reason": ""}, "en").count("Reason") == 0
