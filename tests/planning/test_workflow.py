"""The proposal workflow (planning/workflow.py) on SQLite and PostGIS.

Every move of the status table, allowed and refused, for every role; history
rows and notifications of each change; reasons; merges (what moves, what is
refused); bulk moves; the budget review routed through the workflow.
"""
from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from shapely.geometry import Point

from planning.auth import Actor, actor_for
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data
from planning.moderation import notifications_for
from planning.proposals import (
    add_comment,
    comment_thread,
    map_frame,
    my_proposals,
    proposal_card,
    support_proposal,
    withdraw_proposal,
)
from planning.workflow import (
    FINAL_STATUSES,
    STATUSES,
    TRANSITIONS,
    allowed_targets,
    bulk_transition,
    merge,
    needs_reason,
    status_history,
    transition,
)

HAENGSIN1 = "4128164000"  # 행신1동
HUB = "4128165000"  # 행신2동: the hub of 행신1동
OTHER_HUB = "4128162100"  # 화정1동, another hub
LON, LAT = 126.833004, 37.622148

ROLES = ("anonymous", "author", "other", "hub_staff", "far_staff", "planner", "admin")
R = {"planner", "admin"}
MEETING = R | {"hub_staff"}
# The table, written out again on purpose: a change of planning.workflow.TRANSITIONS must show here.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "submitted": {"under_review": R, "rejected": R, "merged": R, "withdrawn": {"author"}},
    "under_review": {"field_verified": R, "shortlisted": R, "rejected": R, "merged": R},
    "field_verified": {"shortlisted": R, "rejected": R, "merged": R, "under_review": R},
    "shortlisted": {"adopted": MEETING, "rejected": MEETING, "merged": MEETING, "under_review": R},
    "rejected": {"under_review": R},
    "adopted": {},
    "merged": {},
    "withdrawn": {},
}
NEEDS_REASON = {("submitted", "rejected"), ("under_review", "rejected"), ("field_verified", "rejected"),
                ("shortlisted", "rejected"), ("rejected", "under_review")}


@pytest.fixture
def cast(store):
    """Reference data and one actor per role (``hub_staff`` works for the hub of the test proposals)."""
    install_reference_data(store)
    with store.transaction() as tx:
        ids = {
            "author": tx.residents.add("minji", "민지", home_district_code=HAENGSIN1, password_hash="x").id,
            "other": tx.residents.add("junho", "준호", home_district_code=HAENGSIN1, password_hash="x").id,
            "hub_staff": tx.residents.add("staff", "직원", role="centre_staff", hub_code=HUB, password_hash="x").id,
            "far_staff": tx.residents.add("far", "먼직원", role="centre_staff", hub_code=OTHER_HUB, password_hash="x").id,
            "planner": tx.residents.add("planner", "기획", role="planner", password_hash="x").id,
            "admin": tx.residents.add("admin", "관리", role="admin", password_hash="x").id,
        }
    actors = {name: actor_for(store, rid) for name, rid in ids.items()}
    actors["anonymous"] = Actor.anonymous()
    return store, actors


def make(store, author: Actor, status: str = "submitted", *, title: str = "벤치 설치", hidden: bool = False, x: float = 0.0) -> int:
    """A proposal of ``author`` in 행신1동 (hub ``HUB``), put straight into ``status`` by the store (no workflow)."""
    with store.transaction() as tx:
        p = tx.proposals.add(
            title=title,
            body="공원에 벤치를",
            category="environment",
            kind="area",
            author_id=author.id,
            geometry=Point(LON + x, LAT),
            hub_code=HUB,
            district_code=HAENGSIN1,
            cost_krw=5_000_000,
        )
        if status != "submitted":
            tx.proposals.set_status(p.id, status, None, "setup")
        if hidden:
            tx.proposals.set_hidden(p.id, True, reason="setup", by=None)
        return p.id


def history(store, pid):
    with store.transaction() as tx:
        return [(h.from_status, h.to_status, h.changed_by, h.reason) for h in tx.history.list_for(pid)]


def status_of(store, pid):
    with store.transaction() as tx:
        return tx.proposals.get(pid).status


def notes(store, who):
    return [n for n in notifications_for(store, who)]


# ---------------------------------------------------------------- the table itself (no store)


def test_the_table_is_the_one_documented():
    assert set(TRANSITIONS) == set(STATUSES) == set(EXPECTED)
    for here, moves in TRANSITIONS.items():
        assert set(moves) == set(EXPECTED[here]), here
        for there, move in moves.items():
            who = {"planner", "admin"} if "reviewers" in move.who else set()
            who |= {"hub_staff"} if "hub_staff" in move.who else set()
            who |= {"author"} if "author" in move.who else set()
            assert who == EXPECTED[here][there], (here, there)
            assert move.reason_required == ((here, there) in NEEDS_REASON), (here, there)
    assert FINAL_STATUSES == {"adopted", "merged", "withdrawn"}
    assert all(not TRANSITIONS[s] for s in FINAL_STATUSES)


def _fake(role_name: str) -> tuple[Actor, SimpleNamespace]:
    proposal = SimpleNamespace(id=1, author_id=1, hub_code=HUB, hidden=False)
    actors = {
        "anonymous": Actor.anonymous(),
        "author": Actor(id=1, role="resident"),
        "other": Actor(id=2, role="resident"),
        "hub_staff": Actor(id=3, role="centre_staff", hub_code=HUB),
        "far_staff": Actor(id=4, role="centre_staff", hub_code=OTHER_HUB),
        "planner": Actor(id=5, role="planner"),
        "admin": Actor(id=6, role="admin"),
    }
    return actors[role_name], proposal


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("here", STATUSES)
def test_allowed_targets_for_every_status_and_role(here, role):
    actor, proposal = _fake(role)
    expected = tuple(s for s in STATUSES if role in EXPECTED[here].get(s, set()))
    assert allowed_targets(here, actor, proposal) == expected
    assert allowed_targets(here) == tuple(s for s in STATUSES if s in EXPECTED[here])
    for there in STATUSES:
        assert needs_reason(here, there) == ((here, there) in NEEDS_REASON)


def test_a_hidden_proposal_is_frozen_for_its_author_but_not_for_moderators():
    author, proposal = _fake("author")
    proposal.hidden = True
    assert allowed_targets("submitted", author, proposal) == ()
    planner, _ = _fake("planner")
    assert allowed_targets("submitted", planner, proposal) == ("under_review", "rejected", "merged")


# ---------------------------------------------------------------- every move, in the store


def _expected_refusal(here: str, there: str, role: str) -> tuple[type, str] | None:
    """The refusal (type, code) of moving ``here`` -> ``there`` as ``role``, or None when allowed."""
    if role == "anonymous":
        return NotAllowed, "sign_in_required"
    if there == here:
        return InvalidInput, "already_in_status"
    if here in FINAL_STATUSES:
        return NotAllowed, "status_final"
    if there not in EXPECTED[here]:
        return NotAllowed, "transition_not_allowed"
    if role not in EXPECTED[here][there]:
        return NotAllowed, "transition_not_permitted"
    return None


@pytest.mark.parametrize("here", STATUSES)
def test_every_move_from_a_status_for_every_role(cast, here):
    """All 8 targets × 7 roles from ``here``: allowed ones change status, history and notify; refused ones change nothing."""
    store, a = cast
    survivor = make(store, a["other"], title="남는 제안", x=0.001)
    checked = 0
    for there in STATUSES:
        for role in ROLES:
            pid = make(store, a["author"], here)
            before = history(store, pid)
            notes_before = len(notes(store, a["author"]))
            reason = "검토 결과에 따라"
            merge_into = survivor if there == "merged" else None
            expected = _expected_refusal(here, there, role)
            if expected is None:
                change = transition(store, a[role], pid, there, reason, merge_into=merge_into)
                assert status_of(store, pid) == there, (here, there, role)
                after = history(store, pid)
                assert after[:-1] == before and len(after) == len(before) + 1
                written = reason if there != "merged" else f"merged into #{survivor}: {reason}"
                assert after[-1] == (here, there, a[role].id, written)
                assert (change.from_status, change.to_status, change.changed_by) == (here, there, a[role].id)
                told = notes(store, a["author"])
                assert len(told) == notes_before + (0 if role == "author" else 1), (here, there, role)
            else:
                error, code = expected
                with pytest.raises(error) as e:
                    transition(store, a[role], pid, there, reason, merge_into=merge_into)
                assert e.value.code == code, (here, there, role, e.value.code)
                assert e.value.message("ko") != e.value.message("en")
                assert status_of(store, pid) == here and history(store, pid) == before
                assert len(notes(store, a["author"])) == notes_before
            checked += 1
    assert checked == len(STATUSES) * len(ROLES)


def test_refusals_say_what_may_follow_and_who_may(cast):
    store, a = cast
    pid = make(store, a["author"])
    with pytest.raises(NotAllowed) as e:
        transition(store, a["planner"], pid, "adopted")
    assert e.value.code == "transition_not_allowed"
    ko, en = e.value.message("ko"), e.value.message("en")
    assert "'접수' 상태의 제안은 '채택'(으)로 바꿀 수 없습니다" in ko and "'검토 중', '미채택', '병합', '철회'" in ko
    assert "It can go on to: 'under review', 'rejected', 'merged', 'withdrawn'" in en
    assert "You can move it to: 'under review', 'rejected', 'merged'." in en
    with pytest.raises(NotAllowed) as e:
        transition(store, a["hub_staff"], pid, "under_review")
    assert e.value.code == "transition_not_permitted"
    assert "도시계획가와 관리자만" in e.value.message("ko")
    assert "Only planners and admins may move" in e.value.message("en") and "You cannot change this proposal's status" in e.value.message("en")
    with pytest.raises(NotAllowed) as e:
        transition(store, a["planner"], pid, "withdrawn")
    assert "the proposal's author" in e.value.message("en") and "제안한 주민 본인" in e.value.message("ko")
    shortlisted = make(store, a["author"], "shortlisted")
    with pytest.raises(NotAllowed) as e:
        transition(store, a["far_staff"], shortlisted, "adopted")
    assert "staff of the proposal's hub centre" in e.value.message("en")
    adopted = make(store, a["author"], "adopted")
    with pytest.raises(NotAllowed) as e:
        transition(store, a["admin"], adopted, "under_review")
    assert e.value.code == "status_final" and "'채택'" in e.value.message("ko") and "final status" in e.value.message("en")
    with pytest.raises(InvalidInput) as e:
        transition(store, a["admin"], pid, "accepted")
    assert e.value.code == "unknown_status" and "'under review'" in e.value.message("en")
    with pytest.raises(InvalidInput) as e:
        transition(store, a["admin"], 424242, "under_review")
    assert e.value.code == "no_such_proposal"
    with pytest.raises(InvalidInput) as e:
        transition(store, a["planner"], pid, "merged")
    assert e.value.code == "merge_target_required"
    with pytest.raises(InvalidInput) as e:
        transition(store, a["planner"], pid, "under_review", merge_into=shortlisted)
    assert e.value.code == "merge_target_unexpected"
    assert history(store, pid) == [(None, "submitted", a["author"].id, "")]


def test_a_made_up_actor_gets_no_rights(cast):
    store, a = cast
    pid = make(store, a["author"])
    with pytest.raises(NotAllowed) as e:
        transition(store, Actor(id=a["other"].id, role="admin"), pid, "under_review")
    assert e.value.code == "transition_not_permitted"
    with pytest.raises(NotAllowed) as e:
        transition(store, Actor(id=999_999, role="admin"), pid, "under_review")
    assert e.value.code == "sign_in_required"


# ---------------------------------------------------------------- reasons and history


@pytest.mark.parametrize("here", ["submitted", "under_review", "field_verified", "shortlisted"])
def test_a_rejection_needs_a_reason_and_the_author_reads_it(cast, here):
    store, a = cast
    pid = make(store, a["author"], here)
    for blank in ("", "   ", None, "\u200f"):
        with pytest.raises(InvalidInput) as e:
            transition(store, a["planner"], pid, "rejected", blank)
        assert e.value.code == "reason_required"
        assert "사유를 적어 주세요" in e.value.message("ko") and "its author will read it" in e.value.message("en")
    with pytest.raises(InvalidInput) as e:
        transition(store, a["planner"], pid, "rejected", "x" * 1001)
    assert e.value.code == "too_long_field"
    assert status_of(store, pid) == here and len(history(store, pid)) == (1 if here == "submitted" else 2)
    transition(store, a["planner"], pid, "rejected", "  예산 범위를 넘습니다 ")
    assert history(store, pid)[-1] == (here, "rejected", a["planner"].id, "예산 범위를 넘습니다")
    [note] = notes(store, a["author"])
    assert note.kind == "rejected" and note.proposal_id == pid and note.unread
    assert f"제안 #{pid}" in note.message("ko") and "미채택" in note.message("ko") and "사유: 예산 범위를 넘습니다" in note.message("ko")
    assert f"Your proposal #{pid}" in note.message("en") and "was rejected" in note.message("en") and "Reason: 예산 범위를 넘습니다" in note.message("en")
    card = proposal_card(store, pid, a["anonymous"])
    assert card.status == "rejected" and card.rejection_reason == "예산 범위를 넘습니다"
    [mine] = my_proposals(store, a["author"])
    assert (mine.status, mine.rejection_reason) == ("rejected", "예산 범위를 넘습니다")
    # Reopening needs a reason too; the card then has no rejection reason.
    with pytest.raises(InvalidInput) as e:
        transition(store, a["admin"], pid, "under_review")
    assert e.value.code == "reason_required"
    transition(store, a["admin"], pid, "under_review", "이의 신청으로 다시 검토")
    assert proposal_card(store, pid, a["author"]).rejection_reason is None


def test_a_whole_path_is_in_the_history_with_who_and_why(cast):
    store, a = cast
    pid = make(store, a["author"])
    steps = [
        ("planner", "under_review", "검토 시작"),
        ("planner", "field_verified", "현장 확인 3월 2일"),
        ("admin", "shortlisted", "회의 상정"),
        ("hub_staff", "adopted", "민관 협치 회의에서 채택"),
    ]
    for who, there, why in steps:
        transition(store, a[who], pid, there, why)
    expected = [(None, "submitted", a["author"].id, "")]
    here = "submitted"
    for who, there, why in steps:
        expected.append((here, there, a[who].id, why))
        here = there
    assert history(store, pid) == expected
    assert [(h.to_status, h.reason) for h in status_history(store, a["anonymous"], pid)] == [(s, r) for _, s, _, r in expected]
    told = notes(store, a["author"])
    assert [n.kind for n in told] == ["status_changed"] * 4
    assert "'채택'" in told[0].message("ko") and "is now 'adopted'" in told[0].message("en")  # newest first
    assert "민관 협치 회의에서 채택" in told[0].message("ko")


def test_withdrawing_goes_through_the_workflow(cast):
    store, a = cast
    pid = make(store, a["author"])
    transition(store, a["author"], pid, "withdrawn", "다른 방법을 찾았어요")
    assert history(store, pid)[-1] == ("submitted", "withdrawn", a["author"].id, "다른 방법을 찾았어요")
    assert notes(store, a["author"]) == []  # one's own change is not notified
    # withdraw_proposal is the same move: the phase rule of the budget applies to both.
    from planning.budget import advance_phase, create_cycle

    cid = create_cycle(store, a["admin"], 2027)
    for _ in range(2):
        advance_phase(store, a["admin"], cid)  # proposals_open -> review -> assemblies
    with store.transaction() as tx:
        tx.cycles.update(cid, quotas_published_at=datetime.now(UTC))
    assert advance_phase(store, a["admin"], cid) == "voting"  # withdrawing is closed
    second = make(store, a["author"])
    for attempt in (lambda: withdraw_proposal(store, a["author"], second), lambda: transition(store, a["author"], second, "withdrawn")):
        with pytest.raises(NotAllowed) as e:
            attempt()
        assert e.value.code == "phase_closed"
    assert status_of(store, second) == "submitted"


def test_the_author_of_a_hidden_proposal_cannot_move_it(cast):
    store, a = cast
    pid = make(store, a["author"], hidden=True)
    with pytest.raises(NotAllowed) as e:
        transition(store, a["author"], pid, "withdrawn")
    assert e.value.code == "proposal_hidden" and "숨긴 제안" in e.value.message("ko") and "hidden by a moderator" in e.value.message("en")
    with pytest.raises(InvalidInput) as e:  # to another resident it does not exist
        transition(store, a["other"], pid, "withdrawn")
    assert e.value.code == "no_such_proposal"
    transition(store, a["planner"], pid, "rejected", "광고")  # moderators still can
    assert status_of(store, pid) == "rejected"


# ---------------------------------------------------------------- merging


def test_merge_moves_supports_and_comments_and_records_both_histories(cast):
    store, a = cast
    loser = make(store, a["author"], "under_review", title="벤치 하나 더")
    survivor = make(store, a["other"], title="공원 벤치", x=0.001)
    for who in ("other", "planner", "admin"):
        support_proposal(store, a[who], loser)
    support_proposal(store, a["other"], survivor)  # supports both: keeps one
    support_proposal(store, a["author"], survivor)
    top = add_comment(store, a["other"], loser, "좋아요")
    reply = add_comment(store, a["author"], loser, "고마워요", parent_id=top)
    kept = add_comment(store, a["admin"], survivor, "원래 댓글")

    result = merge(store, a["planner"], loser, survivor, "같은 공원의 같은 제안")
    assert (result.loser_id, result.survivor_id) == (loser, survivor)
    assert (result.supports_moved, result.supports_dropped, result.comments_moved) == (2, 1, 2)
    with store.transaction() as tx:
        lp, sp = tx.proposals.get(loser), tx.proposals.get(survivor)
        assert (lp.status, lp.merged_into_id, sp.status, sp.merged_into_id) == ("merged", survivor, "submitted", None)
        assert tx.supports.count_for(loser) == 0 and tx.supports.count_for(survivor) == 4  # other, author, planner, admin
        assert tx.comments.list_for(loser) == []
        [audit] = tx.audit.list(action="proposal.merge")
        assert audit.actor_id == a["planner"].id and audit.subject == f"proposal:{loser}"
        assert f'"into": {survivor}' in audit.detail and '"supports_dropped": 1' in audit.detail
    assert history(store, loser)[-1] == ("under_review", "merged", a["planner"].id, f"merged into #{survivor}: 같은 공원의 같은 제안")
    assert history(store, survivor)[-1] == ("submitted", "submitted", a["planner"].id, f"#{loser} merged into this proposal: 같은 공원의 같은 제안")
    threads = comment_thread(store, survivor, a["anonymous"])
    assert [(c.id, [r.id for r in rs]) for c, rs in threads] == [(top, [reply]), (kept, [])]

    # Both authors are told.
    [to_loser] = notes(store, a["author"])
    assert to_loser.kind == "merged" and f"#{survivor}" in to_loser.message("ko") and f"merged into proposal #{survivor}" in to_loser.message("en")
    [to_survivor] = notes(store, a["other"])
    assert to_survivor.kind == "merged_in" and f"#{loser}" in to_survivor.message("en")

    # The merged proposal stays readable and on the public map, closed, pointing at the survivor.
    card = proposal_card(store, loser, a["other"])
    assert (card.status, card.merged_into_id, card.can_support, card.can_comment, card.supports) == ("merged", survivor, False, False, 0)
    assert proposal_card(store, survivor, a["other"]).merged_ids == (loser,)
    with pytest.raises(NotAllowed) as e:
        support_proposal(store, a["author"], loser)
    assert e.value.code == "proposal_closed" and f"{survivor}번" in e.value.message("ko") and f"proposal {survivor}" in e.value.message("en")
    with pytest.raises(NotAllowed):
        add_comment(store, a["author"], loser, "늦었네요")
    frame = map_frame(store).set_index("id")
    assert frame.loc[loser, "status"] == "merged" and frame.loc[survivor, "supports"] == 4
    [mine] = [m for m in my_proposals(store, a["author"]) if m.id == loser]
    assert (mine.status, mine.merged_into_id) == ("merged", survivor)


def _vote_for(store, resident: Actor, pid: int) -> None:
    with store.transaction() as tx:
        cycle = tx.cycles.add(2027)
        tx.votes.replace_ballot(cycle.id, resident.id, [pid])


@pytest.mark.parametrize(
    "case, error, code",
    [
        ("itself", InvalidInput, "merge_into_itself"),
        ("missing", InvalidInput, "merge_target_missing"),
        ("into_merged", NotAllowed, "merge_chain"),
        ("into_withdrawn", NotAllowed, "merge_target_closed"),
        ("into_rejected", NotAllowed, "merge_target_closed"),
        ("into_hidden", NotAllowed, "merge_target_hidden"),
        ("chain", NotAllowed, "merge_chain"),
        ("votes", NotAllowed, "merge_has_votes"),
        ("loser_rejected", NotAllowed, "transition_not_allowed"),
        ("by_a_resident", NotAllowed, "transition_not_permitted"),
        ("by_other_hub_staff", NotAllowed, "transition_not_permitted"),
    ],
)
def test_bad_merges_are_refused_and_change_nothing(cast, case, error, code):
    store, a = cast
    loser = make(store, a["author"], "rejected" if case == "loser_rejected" else "shortlisted")
    target_status = {"into_merged": "merged", "into_withdrawn": "withdrawn", "into_rejected": "rejected"}.get(case, "submitted")
    survivor = make(store, a["other"], target_status, hidden=case == "into_hidden", x=0.001)
    support_proposal(store, a["other"], loser)
    comment = add_comment(store, a["other"], loser, "좋아요")
    if case == "into_merged":
        further = make(store, a["other"], x=0.002)
        with store.transaction() as tx:
            tx.proposals.set_merged_into(survivor, further)
    if case == "chain":
        earlier = make(store, a["other"], x=0.003)
        merge(store, a["planner"], earlier, loser, "먼저 합침")
    if case == "votes":
        _vote_for(store, a["other"], loser)
    who = {"by_a_resident": "other", "by_other_hub_staff": "far_staff"}.get(case, "planner")
    target = {"itself": loser, "missing": 424242}.get(case, survivor)
    before = history(store, loser)
    with pytest.raises(error) as e:
        merge(store, a[who], loser, target, "합칩니다")
    assert e.value.code == code
    assert e.value.message("ko") != e.value.message("en") and e.value.message("ko") and e.value.message("en")
    if case == "votes":
        assert "투표 1표" in e.value.message("ko") and "1 participatory-budget votes" in e.value.message("en")
        assert "reject it with a reason" in e.value.message("en")
    if case == "chain":
        assert f"Merge #{survivor} into #{loser} instead" in e.value.message("en")
    with store.transaction() as tx:
        p = tx.proposals.get(loser)
        assert (p.status, p.merged_into_id) == (before[-1][1], None)
        assert tx.supports.count_for(loser) == 1 and [c.id for c in tx.comments.list_for(loser)] == [comment]
        assert len(tx.audit.list(action="proposal.merge")) == (1 if case == "chain" else 0)
    assert history(store, loser) == before


def test_hub_staff_record_meeting_decisions_of_their_hub_only(cast):
    store, a = cast
    pid = make(store, a["author"], "shortlisted")
    other = make(store, a["author"], "shortlisted", x=0.001)
    merge(store, a["hub_staff"], other, pid, "회의에서 하나로")
    transition(store, a["hub_staff"], pid, "adopted", "주민총회 의결")
    assert status_of(store, pid) == "adopted" and status_of(store, other) == "merged"
    third = make(store, a["author"], "shortlisted", x=0.002)
    with pytest.raises(NotAllowed):
        transition(store, a["far_staff"], third, "adopted")
    with pytest.raises(NotAllowed):
        transition(store, a["hub_staff"], third, "under_review", "다시")  # back to review: planners' move


# ---------------------------------------------------------------- bulk


def test_bulk_moves_each_proposal_on_its_own(cast):
    store, a = cast
    first = make(store, a["author"])
    gone = make(store, a["author"], "withdrawn")
    hidden = make(store, a["other"], hidden=True)
    done = make(store, a["other"], "under_review")
    before = {pid: history(store, pid) for pid in (gone, done)}
    result = bulk_transition(store, a["planner"], [first, gone, 424242, hidden, first, done], "under_review", "일괄 검토")
    assert result.changed == (first, hidden)
    assert {pid: e.code for pid, e in result.refused.items()} == {
        gone: "status_final",
        424242: "no_such_proposal",
        done: "already_in_status",
    }
    assert all(e.message("ko") and e.message("en") for e in result.refused.values())
    assert status_of(store, first) == "under_review" and status_of(store, hidden) == "under_review"
    assert {pid: history(store, pid) for pid in (gone, done)} == before  # a refused id changes nothing
    # A rejection needs its reason for every id; without it nothing changes.
    refused = bulk_transition(store, a["planner"], [first, hidden], "rejected")
    assert refused.changed == () and {e.code for e in refused.refused.values()} == {"reason_required"}
    ok = bulk_transition(store, a["planner"], [first, hidden], "rejected", "중복 제안")
    assert ok.changed == (first, hidden) and ok.refused == {}
    staff = bulk_transition(store, a["hub_staff"], [done], "shortlisted")
    assert staff.changed == () and staff.refused[done].code == "transition_not_permitted"


# ---------------------------------------------------------------- the budget review goes through the workflow


@pytest.fixture
def in_review(cast):
    from planning.budget import advance_phase, create_cycle

    store, a = cast
    cid = create_cycle(store, a["admin"], 2027)
    assert advance_phase(store, a["admin"], cid) == "review"
    return store, a, cid


def test_a_passed_review_walks_the_workflow(in_review):
    from planning.budget import review_proposal

    store, a, cid = in_review
    verified = make(store, a["author"])
    plain = make(store, a["author"], x=0.001)
    review_proposal(store, a["planner"], cid, verified, feasible=True, official_cost_krw=10_000_000, construction=False,
                    field_verified_on=date(2027, 3, 2))
    review_proposal(store, a["planner"], cid, plain, feasible=True, official_cost_krw=10_000_000, construction=False)
    pl = a["planner"].id
    assert history(store, verified)[1:] == [
        ("submitted", "under_review", pl, "budget review"),
        ("under_review", "field_verified", pl, "budget review: field verified"),
        ("field_verified", "shortlisted", pl, "budget review: passed"),
    ]
    assert history(store, plain)[1:] == [
        ("submitted", "under_review", pl, "budget review"),
        ("under_review", "shortlisted", pl, "budget review: passed"),
    ]
    told = notes(store, a["author"])
    assert [n.kind for n in told] == ["status_changed", "status_changed"]  # once per review, not per step
    # Reviewing again changes nothing more.
    review_proposal(store, a["planner"], cid, plain, feasible=True, official_cost_krw=9_000_000, construction=False)
    assert len(history(store, plain)) == 3


def test_a_failed_review_rejects_with_its_reason_and_a_new_review_reopens(in_review):
    from planning.budget import FAILED_REASON, review_proposal

    store, a, cid = in_review
    pid = make(store, a["author"])
    review_proposal(store, a["planner"], cid, pid, feasible=False, official_cost_krw=None, construction=False)
    pl = a["planner"].id
    assert FAILED_REASON == "budget review: not feasible"
    assert history(store, pid)[1:] == [("submitted", "under_review", pl, "budget review"), ("under_review", "rejected", pl, FAILED_REASON)]
    [note] = notes(store, a["author"])
    assert note.kind == "rejected" and FAILED_REASON in note.message("en")
    assert proposal_card(store, pid, a["author"]).rejection_reason == FAILED_REASON
    review_proposal(store, a["admin"], cid, pid, feasible=True, official_cost_krw=5_000_000, construction=False)
    ad = a["admin"].id
    assert history(store, pid)[3:] == [
        ("rejected", "under_review", ad, "budget review: reviewed again"),
        ("under_review", "shortlisted", ad, "budget review: passed"),
    ]
    # A shortlisted proposal that fails a new review is rejected straight away.
    review_proposal(store, a["admin"], cid, pid, feasible=False, official_cost_krw=None, construction=False)
    assert history(store, pid)[-1] == ("shortlisted", "rejected", ad, FAILED_REASON)


def test_the_budget_leaves_merged_and_final_proposals_alone(in_review):
    from planning.budget import eligible_proposal_ids, review_proposal
    from planning.budget_views import review_rows

    store, a, cid = in_review
    loser = make(store, a["author"])
    survivor = make(store, a["other"], x=0.001)
    for pid in (loser, survivor):
        review_proposal(store, a["planner"], cid, pid, feasible=True, official_cost_krw=1_000_000, construction=False)
    assert eligible_proposal_ids(store, cid) == sorted([loser, survivor])
    merge(store, a["planner"], loser, survivor, "같은 제안")
    assert eligible_proposal_ids(store, cid) == [survivor]
    assert [r.id for r in review_rows(store, a["planner"], cid)] == [survivor]
    with pytest.raises(InvalidInput) as e:
        review_proposal(store, a["planner"], cid, loser, feasible=True, official_cost_krw=1, construction=False)
    assert e.value.code == "no_such_proposal" and "merged" in e.value.message("en")
    transition(store, a["hub_staff"], survivor, "adopted", "채택")
    with pytest.raises(NotAllowed) as e:
        review_proposal(store, a["planner"], cid, survivor, feasible=False, official_cost_krw=None, construction=False)
    assert e.value.code == "status_final"
    with store.transaction() as tx:
        assert tx.reviews.get(cid, survivor).passed is True  # the refused review wrote nothing
    # A proposal rejected after passing review is off the ballot.
    late = make(store, a["author"], x=0.002)
    review_proposal(store, a["planner"], cid, late, feasible=True, official_cost_krw=1_000_000, construction=False)
    transition(store, a["planner"], late, "rejected", "회의에서 미채택")
    assert late not in eligible_proposal_ids(store, cid)


# ---------------------------------------------------------------- labels and styles for every status


def test_every_status_has_labels_a_map_style_and_a_legend_row():
    from layers.proposals import legend_entries_for_proposals, status_style
    from planning.i18n import t

    assert set(status_style()) == set(STATUSES)
    for lang in ("ko", "en"):
        legend = " ".join(e.label for e in legend_entries_for_proposals(lang))
        for s in STATUSES:
            assert t(f"status.{s}", lang) in legend, (lang, s)


# ---------------------------------------------------------------- the row lock


@pytest.mark.parametrize("store_url", [pytest.param("postgis", marks=pytest.mark.postgis)], indirect=True)
def test_two_moves_of_one_proposal_at_once_are_serialised(cast, monkeypatch):
    """Withdrawing and reviewing at the same moment: the row lock lets one win; the other sees the new status."""
    from planning import workflow

    store, a = cast
    pid = make(store, a["author"])
    original = workflow._clean_reason

    def slow(reason):  # runs after the status was read: widens the race
        time.sleep(0.3)
        return original(reason)

    monkeypatch.setattr(workflow, "_clean_reason", slow)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def act(who, there, why):
        start.wait()
        try:
            transition(store, a[who], pid, there, why)
            outcomes.append(there)
        except (NotAllowed, InvalidInput) as err:
            outcomes.append(err.code)

    threads = [threading.Thread(target=act, args=args) for args in (("author", "withdrawn", ""), ("planner", "rejected", "중복"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    # Whoever comes second sees the first one's status: withdrawn is final; rejected cannot be withdrawn.
    assert sorted(outcomes) in (["status_final", "withdrawn"], ["rejected", "transition_not_allowed"]), outcomes
    changes = [h for h in history(store, pid) if h[0] == "submitted"]
    assert len(changes) == 1  # never two moves out of 'submitted'
