"""Co-governance meetings (planning/meetings.py) on SQLite and PostGIS.

The whole life of a meeting: create, agenda candidates and their order, the
agenda (and what it refuses), publish, who sees it, minutes for every
decision applied through the workflow (statuses, history, the authors'
notifications), presentation items; the role refusals.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from shapely.geometry import Point, box

from planning.auth import Actor, actor_for
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data
from planning.meetings import (
    DECISIONS,
    KINDS,
    agenda_candidates,
    close_meeting,
    create_meeting,
    delete_meeting,
    kst_datetime,
    list_meetings,
    meeting_view,
    presentation_items,
    publish_meeting,
    record_minutes,
    set_agenda,
    upcoming_meetings,
    update_meeting,
)
from planning.moderation import notifications_for
from planning.workflow import status_history

HAENGSIN1 = "4128164000"  # 행신1동, in the catchment of the 행신2동 hub
HUB = "4128165000"  # 행신2동 hub
OTHER_HUB = "4128162100"  # 화정1동 hub
HWAJEONG2 = "4128162200"  # 화정2동, in 화정1동's catchment
JUGYO = "4128151000"  # 주교동, a hub's own dong far away
LON, LAT = 126.833004, 37.622148
AUTHOR_NAME = "홍길동작성자"
SOON = datetime.now(UTC) + timedelta(days=3)


@pytest.fixture
def cast(store):
    install_reference_data(store)
    with store.transaction() as tx:
        ids = {
            "author": tx.residents.add("author", AUTHOR_NAME, home_district_code=HAENGSIN1, password_hash="x", email="hong@example.com").id,
            "neighbour": tx.residents.add("neighbour", "이웃", home_district_code=HAENGSIN1, password_hash="x").id,
            "far_resident": tx.residents.add("far", "먼주민", home_district_code=JUGYO, password_hash="x").id,
            "homeless": tx.residents.add("nohome", "무소속", password_hash="x").id,
            "staff": tx.residents.add("staff", "행신직원", role="centre_staff", hub_code=HUB, password_hash="x").id,
            "far_staff": tx.residents.add("farstaff", "화정직원", role="centre_staff", hub_code=OTHER_HUB, password_hash="x").id,
            "planner": tx.residents.add("planner", "기획", role="planner", password_hash="x").id,
            "admin": tx.residents.add("admin", "관리", role="admin", password_hash="x").id,
        }
    actors = {name: actor_for(store, rid) for name, rid in ids.items()}
    actors["anonymous"] = Actor.anonymous()
    return store, actors


def make(store, author: Actor, status: str = "shortlisted", *, title: str = "벤치 설치", x: float = 0.0, hidden: bool = False,
         hub_code: str = HUB, district_code: str = HAENGSIN1, cost: int | None = 5_000_000, y: float = 0.0) -> int:
    """A proposal put straight into ``status`` by the store (the workflow's own tests cover how it gets there)."""
    with store.transaction() as tx:
        p = tx.proposals.add(
            title=title,
            body=f"{title}: 공원에 필요합니다",
            category="environment",
            kind="area",
            author_id=author.id,
            geometry=Point(LON + x, LAT + y),
            hub_code=hub_code,
            district_code=district_code,
            cost_krw=cost,
        )
        if status != "submitted":
            tx.proposals.set_status(p.id, status, None, "setup")
        if hidden:
            tx.proposals.set_hidden(p.id, True, reason="setup", by=None)
        return p.id


def status_of(store, pid: int) -> str:
    with store.transaction() as tx:
        return tx.proposals.get(pid).status


def bilingual(err) -> None:
    assert re.search(r"[가-힣]", err.ko), err.ko
    assert re.search(r"[A-Za-z]{3}", err.en) and err.ko != err.en, err.en


@pytest.fixture
def agenda(cast):
    """Shortlisted proposals of the hub's area: a close pair (a cluster), two singles; plus ones that may not go on an agenda."""
    store, a = cast
    author = a["author"]
    p = {
        "pair1": make(store, author, title="그늘막 설치", x=0.0),
        "pair2": make(store, author, title="그늘막 추가", x=0.0004),
        "single": make(store, author, title="가로등 교체", x=0.02, cost=20_000_000),
        "cheap": make(store, author, title="화단 정비", x=-0.02, cost=1_000_000),
        "catchment_only": make(store, author, title="횡단보도", x=0.01, hub_code=OTHER_HUB),  # in the catchment, linked elsewhere
        "submitted": make(store, author, "submitted", title="아직 제출", x=0.03),
        "hidden": make(store, author, title="숨김 제안", x=0.001, hidden=True),
        "outside": make(store, author, title="화정 제안", hub_code=OTHER_HUB, district_code=HWAJEONG2, y=0.02),
    }
    with store.transaction() as tx:
        for i in range(3):
            tx.supports.add(p["single"], a[("neighbour", "author", "far_resident")[i]].id)
        tx.supports.add(p["pair1"], a["neighbour"].id)
    return store, a, p


# ---------------------------------------------------------------- creating


def test_staff_create_a_draft_meeting(cast):
    store, a = cast
    when = kst_datetime(date(2026, 12, 10), time(19, 0))
    m = create_meeting(store, a["staff"], HUB, "hub_meeting", when, "  행신2동 주민센터 3층  ", title="12월 거점 회의")
    assert (m.hub_code, m.kind, m.place, m.title, m.status, m.item_count) == (HUB, "hub_meeting", "행신2동 주민센터 3층", "12월 거점 회의", "draft", 0)
    assert m.starts_at == when and m.starts_at.utcoffset() == timedelta(0) and m.starts_at.hour == 10  # 19:00 KST is 10:00 UTC
    assert m.starts_at_kst().hour == 19 and m.hub_name == "행신2동 행정복지센터"
    untitled = create_meeting(store, a["planner"], HUB, "dong_group", when, "경로당")
    assert untitled.display_title("ko") == "행신2동 행정복지센터의 동 모임"
    assert untitled.display_title("en") == "행신2동 행정복지센터: Dong group meeting"
    assert create_meeting(store, a["admin"], HUB, "city_assembly", when, "시청").status == "draft"
    assert [x.id for x in list_meetings(store, a["staff"], HUB)] == [m.id, untitled.id, untitled.id + 1]
    with store.transaction() as tx:
        assert [e.action for e in tx.audit.list("meeting:")] == ["meeting.create"] * 3


@pytest.mark.parametrize(
    ("who", "code"),
    [("far_staff", "not_this_hub"), ("author", "role_required"), ("anonymous", "sign_in_required")],
)
def test_only_the_hubs_staff_planners_and_admins_prepare(cast, who, code):
    store, a = cast
    with pytest.raises(NotAllowed) as err:
        create_meeting(store, a[who], HUB, "hub_meeting", SOON, "센터")
    assert err.value.code == code
    bilingual(err.value)
    with pytest.raises(NotAllowed):
        agenda_candidates(store, a[who], HUB)
    if who != "anonymous":
        with pytest.raises(NotAllowed):
            list_meetings(store, a[who], HUB)


def test_bad_meeting_fields_are_refused_in_both_languages(cast):
    store, a = cast
    staff = a["staff"]
    cases = [
        ({"kind": "picnic"}, "bad_meeting_kind"),
        ({"starts_at": datetime(2026, 12, 10, 19, 0)}, "naive_meeting_time"),
        ({"starts_at": "2026-12-10"}, "bad_meeting_time"),
        ({"place": "   "}, "empty_field"),
        ({"title": "가" * 201}, "too_long_field"),
        ({"hub_code": HAENGSIN1}, "no_such_hub"),
    ]
    for change, code in cases:
        args = {"hub_code": HUB, "kind": "hub_meeting", "starts_at": SOON, "place": "센터", **change}
        with pytest.raises(InvalidInput) as err:
            create_meeting(store, staff, **args)
        assert err.value.code == code, change
        bilingual(err.value)
    assert list_meetings(store, staff, HUB) == []
    assert set(KINDS) == {"dong_group", "hub_meeting", "city_assembly"}


# ---------------------------------------------------------------- the agenda


def test_candidates_are_the_hub_areas_visible_shortlisted_proposals_and_their_clusters(agenda):
    store, a, p = agenda
    found = agenda_candidates(store, a["staff"], HUB)
    singles = {c.proposal_id for c in found if c.kind == "proposal"}
    assert singles == {p["pair1"], p["pair2"], p["single"], p["cheap"], p["catchment_only"]}
    [cluster] = [c for c in found if c.kind == "cluster"]
    assert cluster.proposal_ids == (p["pair1"], p["pair2"]) and cluster.key == f"c:{cluster.cluster_label}"
    assert cluster.supports == 1 and cluster.cost_krw == 10_000_000 and cluster.votes is None
    assert "그늘막" in cluster.title
    by_id = {c.proposal_id: c for c in found if c.kind == "proposal"}
    assert not by_id[p["catchment_only"]].staff_may_decide and by_id[p["single"]].staff_may_decide
    assert by_id[p["single"]].supports == 3 and by_id[p["single"]].key == f"p:{p['single']}"
    # orders: most supports first; cheapest first (unknown last)
    assert found[0].proposal_id == p["single"]
    by_cost = agenda_candidates(store, a["planner"], HUB, "cost")
    assert by_cost[0].proposal_id == p["cheap"] and by_cost[-1].proposal_id == p["single"]
    assert [c.cost_krw for c in by_cost] == sorted(c.cost_krw for c in by_cost)
    with pytest.raises(InvalidInput) as err:
        agenda_candidates(store, a["staff"], HUB, "popularity")
    assert err.value.code == "bad_sort"


def test_votes_order_counts_votes_only_once_voting_is_over(agenda):
    store, a, p = agenda
    with store.transaction() as tx:
        cycle = tx.cycles.add(2026, phase="voting")
        tx.votes.replace_ballot(cycle.id, a["neighbour"].id, [p["cheap"]])
        tx.votes.replace_ballot(cycle.id, a["author"].id, [p["cheap"], p["pair2"]])
    during = agenda_candidates(store, a["staff"], HUB, "votes")
    assert all(c.votes is None for c in during)  # secret while residents vote
    with store.transaction() as tx:
        tx.cycles.update(cycle.id, phase="allocation")
    after = agenda_candidates(store, a["staff"], HUB, "votes")
    assert after[0].proposal_id == p["cheap"] and after[0].votes == 2
    assert {c.key: c.votes for c in after}[f"p:{p['pair2']}"] == 1


def test_the_agenda_takes_shortlisted_proposals_of_the_hub_and_refuses_the_others(agenda):
    store, a, p = agenda
    m = create_meeting(store, a["staff"], HUB, "hub_meeting", SOON, "센터")
    refused = {
        "submitted": "not_agenda_proposal",
        "hidden": "not_agenda_proposal",
        "outside": "not_agenda_proposal",
    }
    for name, code in refused.items():
        with pytest.raises(InvalidInput) as err:
            set_agenda(store, a["staff"], m.id, [{"proposal_id": p["single"]}, {"proposal_id": p[name]}])
        assert err.value.code == code, name
        bilingual(err.value)
    with pytest.raises(InvalidInput) as err:
        set_agenda(store, a["staff"], m.id, [{"proposal_id": 999_999}])
    assert err.value.code == "not_agenda_proposal"
    with pytest.raises(InvalidInput) as err:
        set_agenda(store, a["staff"], m.id, [{"proposal_id": p["pair1"]}, {"cluster": [p["pair1"], p["pair2"]]}])
    assert err.value.code == "duplicate_agenda_proposal"
    with pytest.raises(InvalidInput) as err:
        set_agenda(store, a["staff"], m.id, [{"cluster": [p["pair1"]]}])
    assert err.value.code == "cluster_too_small"
    with pytest.raises(InvalidInput) as err:
        set_agenda(store, a["staff"], m.id, [{"cluster": 99}])
    assert err.value.code == "no_such_cluster"
    with pytest.raises(InvalidInput) as err:
        set_agenda(store, a["staff"], m.id, [{"title": "x"}])
    assert err.value.code == "bad_agenda_item"
    assert meeting_view(store, a["staff"], m.id).items == []  # nothing was written
    with pytest.raises(InvalidInput) as err:  # another hub's draft does not exist for its staff
        set_agenda(store, a["far_staff"], m.id, [{"proposal_id": p["single"]}])
    assert err.value.code == "no_such_meeting"

    [cluster] = [c for c in agenda_candidates(store, a["staff"], HUB) if c.kind == "cluster"]
    view = set_agenda(store, a["staff"], m.id, [{"proposal_id": p["single"]}, {"cluster": cluster.cluster_label}, {"proposal_id": p["cheap"]}])
    assert [(i.position, i.kind, i.proposal_ids) for i in view.items] == [
        (1, "proposal", [p["single"]]),
        (2, "cluster", [p["pair1"], p["pair2"]]),
        (3, "proposal", [p["cheap"]]),
    ]
    assert view.items[1].title == cluster.title and view.items[0].title == "가로등 교체"
    assert view.proposal_ids == sorted([p["single"], p["pair1"], p["pair2"], p["cheap"]])
    # a candidate object, and explicit ids with a title, work too
    view = set_agenda(store, a["planner"], m.id, [cluster, {"cluster": [p["single"], p["cheap"]], "title": "생활 편의"}])
    assert [(i.kind, i.title) for i in view.items] == [("cluster", cluster.title), ("cluster", "생활 편의")]


def test_publishing_locks_the_agenda_and_shows_the_meeting(agenda):
    store, a, p = agenda
    staff = a["staff"]
    m = create_meeting(store, staff, HUB, "hub_meeting", SOON, "센터", title="거점 회의")
    with pytest.raises(InvalidInput) as err:
        publish_meeting(store, staff, m.id)
    assert err.value.code == "agenda_empty"
    set_agenda(store, staff, m.id, [{"proposal_id": p["single"]}])
    # a draft exists only for those who may prepare it
    for who in ("author", "far_resident", "anonymous", "far_staff"):
        with pytest.raises(InvalidInput) as err:
            meeting_view(store, a[who], m.id)
        assert err.value.code == "no_such_meeting"
        assert upcoming_meetings(store, a[who]) == []
    assert meeting_view(store, a["planner"], m.id).can_prepare
    published = publish_meeting(store, staff, m.id)
    assert published.status == "published" and published.published_at is not None and published.item_count == 1
    with pytest.raises(NotAllowed) as err:
        set_agenda(store, staff, m.id, [{"proposal_id": p["cheap"]}])
    assert err.value.code == "agenda_locked"
    bilingual(err.value)
    with pytest.raises(NotAllowed) as err:
        publish_meeting(store, staff, m.id)
    assert err.value.code == "meeting_not_draft"
    with pytest.raises(NotAllowed) as err:
        delete_meeting(store, staff, m.id)
    assert err.value.code == "meeting_not_draft"
    # the public sees it, with its agenda; nobody is named
    view = meeting_view(store, a["anonymous"], m.id)
    assert [i.proposal_ids for i in view.items] == [[p["single"]]] and not view.can_prepare and not view.can_record
    assert AUTHOR_NAME not in repr(view) and "hong@example.com" not in repr(view)
    assert meeting_view(store, staff, m.id).can_record and not meeting_view(store, a["planner"], m.id).can_record
    # time, place and title may still change before it is held
    moved = update_meeting(store, staff, m.id, place="행신2동 주민센터 강당", starts_at=SOON + timedelta(hours=1))
    assert moved.place == "행신2동 주민센터 강당" and moved.starts_at == SOON + timedelta(hours=1)


def test_residents_see_the_upcoming_meetings_of_their_own_catchment(agenda):
    store, a, p = agenda
    staff = a["staff"]
    mine = create_meeting(store, staff, HUB, "hub_meeting", SOON, "센터")
    set_agenda(store, staff, mine.id, [{"proposal_id": p["single"]}])
    publish_meeting(store, staff, mine.id)
    past = create_meeting(store, staff, HUB, "dong_group", datetime.now(UTC) - timedelta(days=2), "경로당")
    set_agenda(store, staff, past.id, [{"proposal_id": p["cheap"]}])
    publish_meeting(store, staff, past.id)
    draft = create_meeting(store, staff, HUB, "dong_group", SOON, "경로당")
    far = create_meeting(store, a["far_staff"], OTHER_HUB, "hub_meeting", SOON + timedelta(days=1), "화정 센터")
    set_agenda(store, a["far_staff"], far.id, [{"proposal_id": p["outside"]}])
    publish_meeting(store, a["far_staff"], far.id)

    def ids(who, hub=None):
        return [m.id for m in upcoming_meetings(store, a[who], hub)]

    assert ids("author") == [mine.id]  # 행신1동 is in the 행신2동 hub's catchment
    assert ids("far_resident") == []  # 주교동's hub has no meeting
    assert ids("anonymous") == [mine.id, far.id]  # every hub's public meetings
    assert ids("homeless") == [mine.id, far.id]
    assert ids("planner") == [mine.id, far.id]
    assert ids("far_resident", HUB) == [mine.id]  # meetings are public: any hub on request
    assert draft.id not in ids("staff") and past.id not in ids("anonymous")
    # a past meeting is still readable by id
    assert meeting_view(store, a["far_resident"], past.id).meeting.status == "published"


# ---------------------------------------------------------------- minutes


@pytest.fixture
def held(agenda):
    """A published meeting with four proposal items and one cluster item."""
    store, a, p = agenda
    staff = a["staff"]
    extra = make(store, a["neighbour"], title="벤치 추가", x=0.05)
    survivor = make(store, a["neighbour"], title="쉼터 통합안", x=0.06)
    m = create_meeting(store, staff, HUB, "hub_meeting", SOON, "센터")
    view = set_agenda(
        store,
        staff,
        m.id,
        [
            {"proposal_id": p["single"]},
            {"proposal_id": p["cheap"]},
            {"proposal_id": extra},
            {"cluster": [p["pair1"], p["pair2"]], "title": "그늘막"},
            {"proposal_id": survivor},
        ],
    )
    publish_meeting(store, staff, m.id)
    return store, a, {**p, "extra": extra, "survivor": survivor}, m, [i.id for i in view.items]


def test_minutes_apply_every_decision_through_the_workflow(held):
    store, a, p, m, items = held
    staff, author = a["staff"], a["author"]
    record_minutes(store, staff, m.id, items[0], "adopted", "주민 다수 찬성", 31, 2, 1)
    record_minutes(store, staff, m.id, items[1], "rejected", "예산이 부족합니다", 3, 20, 0)
    record_minutes(store, staff, m.id, items[2], "merged", "쉼터 통합", 15, 0, 2, merge_into=p["survivor"])
    view = record_minutes(store, staff, m.id, items[3], "deferred", "현장 확인 후 재논의", 5, 5, 5)
    assert view.meeting.status == "published"  # one item is still undecided
    assert status_of(store, p["single"]) == "adopted"
    assert status_of(store, p["cheap"]) == "rejected"
    assert status_of(store, p["extra"]) == "merged"
    assert status_of(store, p["pair1"]) == status_of(store, p["pair2"]) == "shortlisted"  # deferred: no change
    with store.transaction() as tx:
        assert tx.proposals.get(p["extra"]).merged_into_id == p["survivor"]

    def last(pid):
        h = status_history(store, author, pid)[-1]
        return h.from_status, h.to_status, h.changed_by, h.reason

    assert last(p["single"]) == ("shortlisted", "adopted", staff.id, f"meeting #{m.id} (for 31, against 2, abstain 1): 주민 다수 찬성")
    assert last(p["cheap"]) == ("shortlisted", "rejected", staff.id, f"meeting #{m.id} (for 3, against 20, abstain 0): 예산이 부족합니다")
    assert last(p["pair1"]) == ("shortlisted", "shortlisted", staff.id, f"deferred at meeting #{m.id} (for 5, against 5, abstain 5): 현장 확인 후 재논의")
    assert last(p["pair2"])[3].startswith(f"deferred at meeting #{m.id}")
    assert last(p["extra"])[1] == "merged" and f"merged into #{p['survivor']}" in last(p["extra"])[3]

    messages = [n.message("ko") for n in notifications_for(store, author)]
    assert any(f"#{p['single']}" in s and "채택" in s and "주민 다수 찬성" in s for s in messages)
    assert any(f"#{p['cheap']}" in s and "미채택" in s and "예산이 부족합니다" in s for s in messages)
    assert sum(f"회의 #{m.id}에서 보류" in s and "현장 확인 후 재논의" in s for s in messages) == 2
    english = [n.message("en") for n in notifications_for(store, author)]
    assert any(f"deferred at meeting #{m.id}" in s for s in english)
    neighbour = [n.message("ko") for n in notifications_for(store, a["neighbour"])]
    assert any(f"#{p['extra']}" in s and "병합" in s for s in neighbour)

    shown = meeting_view(store, a["anonymous"], m.id)
    decided = {i.position: (i.minutes.decision, i.minutes.votes_for, i.minutes.merge_into_id) for i in shown.items if i.minutes}
    assert decided == {1: ("adopted", 31, None), 2: ("rejected", 3, None), 3: ("merged", 15, p["survivor"]), 4: ("deferred", 5, None)}
    final = record_minutes(store, staff, m.id, items[4], "adopted", "", 9, 0, 0)
    assert final.meeting.status == "held" and final.meeting.held_at is not None
    assert status_of(store, p["survivor"]) == "adopted"
    with store.transaction() as tx:
        assert [e.action for e in tx.audit.list(f"meeting:{m.id}")].count("meeting.minutes") == 5
    assert upcoming_meetings(store, a["author"]) == []  # held: no longer upcoming


def test_a_cluster_items_decision_applies_to_each_member(held):
    store, a, p, m, items = held
    record_minutes(store, a["admin"], m.id, items[3], "adopted", "묶어서 추진", 12, 0, 0)
    assert status_of(store, p["pair1"]) == status_of(store, p["pair2"]) == "adopted"


def test_a_cluster_merged_into_one_of_its_members_keeps_that_one(held):
    store, a, p, m, items = held
    record_minutes(store, a["staff"], m.id, items[3], "merged", "하나로", 7, 0, 0, merge_into=p["pair1"])
    assert status_of(store, p["pair1"]) == "shortlisted" and status_of(store, p["pair2"]) == "merged"


def test_bad_minutes_are_refused_and_change_nothing(held):
    store, a, p, m, items = held
    staff = a["staff"]
    cases = [
        ({"decision": "postponed"}, InvalidInput, "unknown_decision"),
        ({"decision": "rejected", "note": "  "}, InvalidInput, "reason_required"),
        ({"decision": "merged"}, InvalidInput, "merge_target_required"),
        ({"decision": "adopted", "merge_into": p["survivor"]}, InvalidInput, "merge_target_unexpected"),
        ({"decision": "adopted", "votes_for": -1}, InvalidInput, "bad_vote_count"),
        ({"decision": "adopted", "votes_against": 1.5}, InvalidInput, "bad_vote_count"),
        ({"decision": "adopted", "item_id": 999_999}, InvalidInput, "no_such_agenda_item"),
        ({"decision": "merged", "merge_into": p["single"] + 10_000}, InvalidInput, "merge_target_missing"),
    ]
    for change, kind, code in cases:
        args = {"item_id": items[0], "note": "메모", **change}
        with pytest.raises(kind) as err:
            record_minutes(store, staff, m.id, **args)
        assert err.value.code == code, change
        bilingual(err.value)
    for who, code in (("far_staff", "not_this_hub"), ("author", "role_required"), ("planner", "role_required"), ("anonymous", "sign_in_required")):
        with pytest.raises(NotAllowed) as err:
            record_minutes(store, a[who], m.id, items[0], "adopted", "찬성")
        assert err.value.code == code, who
    assert status_of(store, p["single"]) == "shortlisted"
    assert all(i.minutes is None for i in meeting_view(store, staff, m.id).items)
    record_minutes(store, staff, m.id, items[0], "adopted", "찬성", 1, 0, 0)
    with pytest.raises(NotAllowed) as err:
        record_minutes(store, staff, m.id, items[0], "rejected", "다시")
    assert err.value.code == "minutes_exist"
    # a proposal that left the shortlist meanwhile: the workflow refuses, nothing is recorded
    with store.transaction() as tx:
        tx.proposals.set_status(p["cheap"], "under_review", a["planner"].id, "다시 검토")
    with pytest.raises(NotAllowed) as err:
        record_minutes(store, staff, m.id, items[1], "adopted", "찬성")
    assert err.value.code == "transition_not_allowed"
    assert items[1] not in {i.id for i in meeting_view(store, staff, m.id).items if i.minutes}


def test_minutes_need_a_published_meeting_and_staff_of_the_proposals_hub(agenda):
    store, a, p = agenda
    staff = a["staff"]
    m = create_meeting(store, staff, HUB, "hub_meeting", SOON, "센터")
    [item] = set_agenda(store, staff, m.id, [{"proposal_id": p["catchment_only"]}]).items
    with pytest.raises(NotAllowed) as err:
        record_minutes(store, staff, m.id, item.id, "adopted", "찬성")
    assert err.value.code == "meeting_not_published"
    publish_meeting(store, staff, m.id)
    # linked to another hub: the workflow lets only that hub's staff (or planners and admins) decide it
    with pytest.raises(NotAllowed) as err:
        record_minutes(store, staff, m.id, item.id, "adopted", "찬성")
    assert err.value.code == "transition_not_permitted"
    record_minutes(store, a["admin"], m.id, item.id, "adopted", "찬성")
    assert status_of(store, p["catchment_only"]) == "adopted"


def test_closing_a_meeting_leaves_undecided_items_undecided(held):
    store, a, p, m, items = held
    record_minutes(store, a["staff"], m.id, items[0], "adopted", "", 3, 0, 0)
    closed = close_meeting(store, a["staff"], m.id)
    assert closed.status == "held"
    assert status_of(store, p["cheap"]) == "shortlisted"
    with pytest.raises(NotAllowed) as err:
        close_meeting(store, a["staff"], m.id)
    assert err.value.code == "meeting_not_published"
    with pytest.raises(NotAllowed) as err:
        update_meeting(store, a["staff"], m.id, place="다른 곳")
    assert err.value.code == "meeting_held"
    record_minutes(store, a["staff"], m.id, items[1], "deferred", "", 0, 0, 0)  # still recordable afterwards
    assert set(DECISIONS) == {"adopted", "rejected", "deferred", "merged"}


def test_a_draft_can_be_deleted(agenda):
    store, a, p = agenda
    m = create_meeting(store, a["staff"], HUB, "hub_meeting", SOON, "센터")
    set_agenda(store, a["staff"], m.id, [{"proposal_id": p["single"]}])
    for who in ("far_staff", "author"):  # a draft does not exist for them
        with pytest.raises(InvalidInput):
            delete_meeting(store, a[who], m.id)
    delete_meeting(store, a["staff"], m.id)
    with pytest.raises(InvalidInput) as err:
        meeting_view(store, a["staff"], m.id)
    assert err.value.code == "no_such_meeting"


# ---------------------------------------------------------------- presentation


def test_presentation_items_show_one_item_at_a_time_with_its_map(held):
    store, a, p, m, items = held
    shown = presentation_items(store, a["anonymous"], m.id, "ko")
    assert [(i.number, i.total) for i in shown] == [(n, 5) for n in range(1, 6)]
    first, cluster = shown[0], shown[3]
    assert first.heading == "안건 1. 가로등 교체" and first.kind == "proposal" and first.proposal_ids == (p["single"],)
    assert first.category == "environment" and first.supports == 3 and first.cost_krw == 20_000_000 and first.dongs == ("행신1동",)
    assert "가로등 교체: 공원에 필요합니다" in first.body
    facts = dict(first.facts)
    assert facts["분야"] == "환경·교통" and facts["공감"] == 3 and facts["상태"] == "회의 상정"
    assert cluster.heading == "안건 4. 묶음: 그늘막" and cluster.proposal_ids == (p["pair1"], p["pair2"])
    assert list(cluster.members["id"]) == [p["pair1"], p["pair2"]] and cluster.members.crs.to_epsg() == 4326
    west, south, east, north = cluster.extent
    assert box(west, south, east, north).contains(cluster.geometry)
    assert 0.005 < east - west < 0.03  # about 400 m on each side, not the whole city
    assert AUTHOR_NAME not in repr(shown)
    english = presentation_items(store, a["anonymous"], m.id, "en")
    assert english[0].heading == "Item 1. 가로등 교체" and dict(english[0].facts)["Category"]
    record_minutes(store, a["staff"], m.id, items[0], "adopted", "좋아요", 9, 1, 0)
    facts = dict(presentation_items(store, None, m.id)[0].facts)
    assert facts["결정"] == "채택" and facts["표결 (찬성·반대·기권)"] == "찬성 9 · 반대 1 · 기권 0" and facts["메모"] == "좋아요"


def test_a_proposal_hidden_after_publication_leaves_the_public_agenda(held):
    store, a, p, m, _ = held
    with store.transaction() as tx:
        tx.proposals.set_hidden(p["cheap"], True, reason="개인정보", by=a["planner"].id)
        tx.proposals.set_hidden(p["pair2"], True, reason="개인정보", by=a["planner"].id)
    public = meeting_view(store, a["anonymous"], m.id)
    assert [i.position for i in public.items] == [1, 3, 4, 5]  # item 2 held only the hidden proposal
    assert public.items[2].proposal_ids == [p["pair1"]]
    assert p["cheap"] not in [pid for i in presentation_items(store, a["author"], m.id) for pid in i.proposal_ids]
    moderator = meeting_view(store, a["planner"], m.id)
    assert len(moderator.items) == 5 and [x.hidden for x in moderator.items[1].proposals] == [True]
