"""The participatory-budget cycle through the service layer, on SQLite and PostGIS.

A whole cycle (quotas by rule, override, publish, review, assembly
endorsement, knapsack voting, allocation and stored results), the phase and
permission refusals with both messages, and the pure quota rule.
"""
from datetime import date
from fractions import Fraction

import pytest

from planning.accounts import register
from planning.auth import actor_for
from planning.budget import (
    PHASES,
    QuotaExceeded,
    advance_phase,
    allocation_results,
    approve_proposal,
    ballot_status,
    cast_votes,
    compute_quota_table,
    create_cycle,
    district_quota_status,
    eligible_proposal_ids,
    hub_of_district,
    is_endorsed,
    override_quota,
    phase_allows,
    publish_quotas,
    quota_table,
    record_assembly,
    review_proposal,
    run_allocation,
    set_quotas_by_rule,
)
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data
from planning.proposals import submit_proposal

HAENGSIN1 = "4128164000"  # 행신1동
HAENGSIN2_HUB = "4128165000"  # 행신2동, the hub of south Deogyang
HWAJEONG1_HUB = "4128162100"  # 화정1동, another hub
LON, LAT = 126.833004, 37.622148  # 행신1동's representative point
PW = "correct horse battery"
M = 1_000_000


def square(i: int) -> dict:
    x = LON + 0.0005 * i
    return {"type": "Polygon", "coordinates": [[[x, LAT], [x + 0.0003, LAT], [x + 0.0003, LAT + 0.0003], [x, LAT + 0.0003], [x, LAT]]]}


@pytest.fixture
def people(store):
    install_reference_data(store)
    ids = {
        "admin": register(store, "admin", PW, "관리자", None, role="admin"),
        "planner": register(store, "planner", PW, "이기획", None, role="planner"),
        "staff": register(store, "staff", PW, "행신직원", None, role="centre_staff", hub_code=HAENGSIN2_HUB),
        "far_staff": register(store, "farstaff", PW, "화정직원", None, role="centre_staff", hub_code=HWAJEONG1_HUB),
        "r1": register(store, "minji", PW, "민지", HAENGSIN1),
        "r2": register(store, "junho", PW, "준호", HAENGSIN1),
        "r3": register(store, "seoyeon", PW, "서연", HAENGSIN1),
        "elsewhere": register(store, "far", PW, "먼곳", HWAJEONG1_HUB),
    }
    return store, ids


def _refused(exc_type, fn, *args, **kwargs):
    with pytest.raises(exc_type) as e:
        fn(*args, **kwargs)
    return e.value


def _audit(store, action):
    with store.transaction() as tx:
        return tx.audit.list(action=action)


def test_a_whole_cycle_through_the_services(people):
    store, ids = people
    admin, planner, staff = ids["admin"], ids["planner"], ids["staff"]

    # -- the cycle and its quotas
    cid = create_cycle(store, admin, 2027, rules={"endorsed_first": True})
    [created] = _audit(store, "cycle.create")
    assert created.actor_id == admin and created.subject == f"cycle:{cid}" and created.at is not None
    table = set_quotas_by_rule(store, admin, cid, 4_400 * M, 50 * M, Fraction(2, 5))
    assert len(table) == 44 and sum(table.values()) == 4_400 * M
    assert all(amount >= 50 * M for amount in table.values())
    with store.transaction() as tx:
        voters = {d.code: d.voters for d in tx.districts.list()}
    more, fewer = max(voters, key=voters.get), min(voters, key=voters.get)
    assert table[more] > table[fewer]  # the population share follows the voter counts
    [by_rule] = _audit(store, "quotas.set_by_rule")
    assert by_rule.actor_id == admin and f'"{HAENGSIN1}": {table[HAENGSIN1]}' in by_rule.detail

    override_quota(store, admin, cid, HAENGSIN1, 100 * M)
    [over] = _audit(store, "quota.override")
    assert (over.actor_id, over.subject) == (admin, f"quota:{cid}:{HAENGSIN1}")
    assert f'"from": {table[HAENGSIN1]}' in over.detail and f'"to": {100 * M}' in over.detail
    rows = {r["district_code"]: r for r in quota_table(store, admin, cid)}
    assert rows[HAENGSIN1]["amount_krw"] == 100 * M and rows[HAENGSIN1]["overridden"] is True
    assert rows[more]["overridden"] is False
    assert quota_table(store, planner, cid) == list(rows.values())  # planners see the draft too
    # before publication, nobody else sees the table (the pages hide it, the service refuses it)
    assert _refused(NotAllowed, quota_table, store, ids["r1"], cid).code == "quotas_unpublished"
    assert _refused(NotAllowed, quota_table, store, staff, cid).code == "quotas_unpublished"
    assert _refused(NotAllowed, quota_table, store, None, cid).code == "sign_in_required"
    publish_quotas(store, admin, cid)
    assert len(_audit(store, "quotas.publish")) == 1
    assert quota_table(store, None, cid) == quota_table(store, ids["r1"], cid) == list(rows.values())  # then everyone

    # -- proposals, then review
    with store.transaction() as tx:
        assert phase_allows(tx.cycles.get(cid), "submit_proposal")
    titles = ["A 놀이터", "B 벤치", "C 가로등", "D 개인 지원", "E 불가능"]
    kinds = ["area", "area", "area", "individual", "area"]
    pa, pb, pc, pd, pe = (
        submit_proposal(store, ids["r1"], square(i), t, "설명", "environment", k, 10 * M) for i, (t, k) in enumerate(zip(titles, kinds, strict=True))
    )
    with store.transaction() as tx:
        far_point = tx.centres.get(HWAJEONG1_HUB).geometry
    far_geometry = {"type": "Point", "coordinates": [far_point.x, far_point.y]}
    far_proposal = submit_proposal(store, ids["elsewhere"], far_geometry, "다른 곳", "설명", "environment", "area", 10 * M)
    assert advance_phase(store, admin, cid) == "review"
    for pid, cost in ((pa, 60), (pb, 50), (pc, 30), (pd, 20), (far_proposal, 10)):
        review_proposal(store, planner, cid, pid, feasible=True, official_cost_krw=cost * M, construction=pid == pa,
                        field_verified_on=date(2027, 3, 2), field_note="현장 확인함", field_photo_url="https://example.kr/p.jpg")
    review_proposal(store, planner, cid, pe, feasible=False, official_cost_krw=None, construction=False)
    with store.transaction() as tx:
        ra = tx.reviews.get(cid, pa)
        assert (ra.official_cost_krw, ra.field_verified_on, ra.field_note, ra.passed, ra.construction) == (60 * M, date(2027, 3, 2), "현장 확인함", True, True)
        assert tx.reviews.get(cid, pe).passed is False
        assert tx.proposals.get(pa).status == "shortlisted" and tx.proposals.get(pe).status == "rejected"
        assert tx.proposals.get(pa).cost_krw == 10 * M  # the resident's estimate stays; the official one counts
    assert eligible_proposal_ids(store, cid, HAENGSIN1) == sorted([pa, pb, pc, pd])
    assert len(_audit(store, "proposal.review")) == 6
    e = _refused(NotAllowed, review_proposal, store, ids["r1"], cid, pa, feasible=True, official_cost_krw=1, construction=False)
    assert "도시계획가" in e.message("ko") and "Only planner, admin accounts" in e.message("en")
    e = _refused(InvalidInput, review_proposal, store, planner, cid, pa, feasible=True, official_cost_krw=None, construction=False)
    assert e.code == "official_cost_required"

    # -- assemblies: 1 % of the district's voters endorses
    assert advance_phase(store, admin, cid) == "assemblies"
    with store.transaction() as tx:
        assert hub_of_district(tx, HAENGSIN1) == HAENGSIN2_HUB
    threshold = -(-voters[HAENGSIN1] // 100)  # ceil(1 %)
    e = _refused(NotAllowed, record_assembly, store, ids["far_staff"], cid, HAENGSIN1, date(2027, 4, 1), threshold, [pa])
    assert e.code == "not_your_hub" and "거점 센터" in e.message("ko") and "your hub" in e.message("en")
    e = _refused(InvalidInput, record_assembly, store, staff, cid, HAENGSIN1, date(2027, 4, 1), threshold, [pe])
    assert e.code == "not_endorsable"
    record_assembly(store, staff, cid, HAENGSIN1, date(2027, 4, 1), threshold - 1, [pb])  # too few people
    record_assembly(store, staff, cid, HAENGSIN1, date(2027, 4, 8), threshold, [pa, pd])
    assert is_endorsed(store, cid, pa) is True
    assert is_endorsed(store, cid, pb) is False  # attendance below 1 %
    assert is_endorsed(store, cid, pd) is False  # an individual proposal is never assembly-endorsed
    assert len(_audit(store, "assembly.record")) == 2

    # -- voting: knapsack ballot, replaced atomically
    e = _refused(NotAllowed, cast_votes, store, ids["r1"], cid, [pa])
    assert e.code == "phase_closed" and "주민총회" in e.message("ko") and "voting" in e.message("en")
    assert advance_phase(store, admin, cid) == "voting"
    with store.transaction() as tx:
        cycle = tx.cycles.get(cid)
    assert not phase_allows(cycle, "submit_proposal") and not phase_allows(cycle, "support") and phase_allows(cycle, "vote")
    e = _refused(QuotaExceeded, cast_votes, store, ids["r1"], cid, [pa, pb])
    assert "110,000,000원" in e.message("ko") and "100,000,000원" in e.message("ko")
    assert "KRW 110,000,000" in e.message("en") and "KRW 100,000,000" in e.message("en")
    assert cast_votes(store, ids["r1"], cid, [pa, pc]) == sorted([pa, pc])
    assert cast_votes(store, ids["r1"], cid, [pc, pb]) == sorted([pb, pc])  # replaced, not added
    status = ballot_status(store, ids["r1"], cid)
    assert (status.proposal_ids, status.ballot_cost_krw, status.left_krw) == (sorted([pb, pc]), 80 * M, 20 * M)
    _refused(QuotaExceeded, cast_votes, store, ids["r1"], cid, [pa, pb, pc])
    assert ballot_status(store, ids["r1"], cid).proposal_ids == sorted([pb, pc])  # a refused ballot changes nothing
    cast_votes(store, ids["r2"], cid, [pa, pc])
    cast_votes(store, ids["r3"], cid, [pa, pd])
    assert _refused(InvalidInput, cast_votes, store, ids["r1"], cid, [pe]).code == "not_on_ballot"  # failed review
    assert _refused(InvalidInput, cast_votes, store, ids["r1"], cid, [far_proposal]).code == "not_on_ballot"  # not my district
    e = _refused(NotAllowed, cast_votes, store, planner, cid, [pa])
    assert "주민 계정만" in e.message("ko") and "Only resident accounts" in e.message("en")
    e = _refused(NotAllowed, cast_votes, store, None, cid, [pa])
    assert "로그인이 필요합니다" in e.message("ko") and "sign in" in e.message("en")
    e = _refused(NotAllowed, override_quota, store, admin, cid, HAENGSIN1, 1)
    assert e.code == "phase_closed"  # ballots were cast against the published quotas
    assert district_quota_status(store, cid, HAENGSIN1) == (100 * M, 0, 100 * M)

    # -- allocation: votes, endorsed first, quota respected, results stored
    assert advance_phase(store, admin, cid) == "allocation"
    assert _refused(NotAllowed, cast_votes, store, ids["r1"], cid, [pa]).code == "phase_closed"
    e = _refused(NotAllowed, run_allocation, store, planner, cid)
    assert "관리자" in e.message("ko") and "Only admin accounts" in e.message("en")
    decisions = {int(d.id): d for d in run_allocation(store, admin, cid) if d.district_code == HAENGSIN1}
    # A (endorsed) first, then C (2 votes) fits; D (20M) and B (50M) do not fit the 10M left; E failed review.
    assert {pid for pid, d in decisions.items() if d.selected} == {pa, pc}
    assert decisions[pa].rank == 1 and decisions[pa].votes == 2 and decisions[pc].votes == 2
    assert decisions[pe].code == "ineligible" and decisions[pd].code == "does_not_fit"
    stored = {r.proposal_id: r for r in allocation_results(store, cid)}
    assert {pid for pid, r in stored.items() if r.selected and r.district_code == HAENGSIN1} == {pa, pc}
    assert stored[pa].cost_krw == 60 * M and stored[pd].reason_en == decisions[pd].reason_en and stored[pd].reason_ko
    assert district_quota_status(store, cid, HAENGSIN1) == (100 * M, 90 * M, 10 * M)
    e = _refused(QuotaExceeded, approve_proposal, store, admin, cid, pd)
    assert "20,000,000원" in e.message("ko") and "KRW 10,000,000 left" in e.message("en")
    e = _refused(QuotaExceeded, override_quota, store, admin, cid, HAENGSIN1, 80 * M)
    assert "90,000,000원" in e.message("ko") and "KRW 90,000,000 committed" in e.message("en")
    override_quota(store, admin, cid, HAENGSIN1, 110 * M)
    assert approve_proposal(store, admin, cid, pd) == (110 * M, 110 * M, 0)
    assert _refused(NotAllowed, run_allocation, store, admin, cid).code == "quotas_not_published"
    publish_quotas(store, admin, cid)
    run_allocation(store, admin, cid)  # a re-run replaces the stored results, approvals included
    assert len(allocation_results(store, cid)) == len(stored)
    assert len(_audit(store, "allocation.run")) == 2 and len(_audit(store, "proposal.approve")) == 1

    # -- results, and the end
    assert advance_phase(store, admin, cid) == "results"
    assert _refused(NotAllowed, advance_phase, store, admin, cid).code == "cycle_finished"
    with store.transaction() as tx:
        phases = [(a.detail, a.actor_id) for a in tx.audit.list(subject_prefix=f"cycle:{cid}", action="cycle.advance")]
    assert len(phases) == 5 and all(actor == admin for _, actor in phases)


def test_only_admins_run_the_cycle_and_refusals_say_so_in_both_languages(people):
    store, ids = people
    for who in ("planner", "staff", "r1"):
        e = _refused(NotAllowed, create_cycle, store, ids[who], 2027)
        assert e.code == "role_required" and "관리자 계정만" in e.message("ko") and "Only admin accounts" in e.message("en")
    e = _refused(NotAllowed, create_cycle, store, None, 2027)
    assert e.code == "sign_in_required"
    cid = create_cycle(store, ids["admin"], 2027)
    assert _refused(InvalidInput, create_cycle, store, ids["admin"], 2027).code == "cycle_exists"
    for fn, args in (
        (advance_phase, ()),
        (set_quotas_by_rule, (100 * M, 0, 0)),
        (override_quota, (HAENGSIN1, 1)),
        (publish_quotas, ()),
        (run_allocation, ()),
    ):
        e = _refused(NotAllowed, fn, store, ids["planner"], cid, *args)
        assert "관리자 계정만" in e.message("ko") and "Only admin accounts" in e.message("en"), fn.__name__
    # Nothing was written by the refused calls (only the creation is in the log).
    with store.transaction() as tx:
        assert [a.action for a in tx.audit.list()] == ["cycle.create"]
        assert tx.quotas.list(cid) == [] and tx.cycles.get(cid).phase == "proposals_open"
    # Voting needs published quotas.
    assert advance_phase(store, ids["admin"], cid) == "review"
    assert advance_phase(store, ids["admin"], cid) == "assemblies"
    assert _refused(NotAllowed, advance_phase, store, ids["admin"], cid).code == "quotas_not_published"


def test_an_actor_made_up_by_a_caller_gets_no_rights(people):
    store, ids = people
    from planning.auth import Actor

    fake_admin = Actor(id=ids["r1"], role="admin")
    with pytest.raises(NotAllowed):
        create_cycle(store, fake_admin, 2027)
    assert actor_for(store, ids["admin"]).role == "admin"


def test_a_cycle_without_voting_skips_it():
    from types import SimpleNamespace

    from planning.budget import next_phase

    no_vote = SimpleNamespace(phase="assemblies", has_voting=False, fiscal_year=2027)
    with_vote = SimpleNamespace(phase="assemblies", has_voting=True, fiscal_year=2027)
    assert next_phase(no_vote) == "allocation" and next_phase(with_vote) == "voting"
    assert next_phase(SimpleNamespace(phase="results", has_voting=True)) is None
    assert [p for p in PHASES if phase_allows(SimpleNamespace(phase=p, has_voting=True), "vote")] == ["voting"]
    assert phase_allows(None, "submit_proposal") and not phase_allows(None, "vote")
    with pytest.raises(ValueError):
        phase_allows(with_vote, "dance")


# ---------------------------------------------------------------- the pure quota rule


def test_quota_table_adds_up_exactly_and_is_deterministic():
    voters = {"b": 1, "a": 3, "c": 0}
    # rest 700: 350 equally (116 2/3 each), 350 by voters (262.5, 87.5, 0).
    assert compute_quota_table(1000, 100, "0.5", voters) == {"a": 479, "b": 304, "c": 217}
    assert compute_quota_table(1000, 100, 0.5, dict(reversed(list(voters.items())))) == {"a": 479, "b": 304, "c": 217}
    # Three equal shares of 100: one won left over goes to the smallest code on a tie.
    assert compute_quota_table(100, 0, 0, {"z": 5, "y": 5, "x": 5}) == {"x": 34, "y": 33, "z": 33}
    assert compute_quota_table(10, 0, 1, {"x": 1, "y": 2}) == {"x": 3, "y": 7}  # 3.33 / 6.67: the larger remainder wins
    import random

    rng = random.Random(4)
    for _ in range(200):
        n = rng.randint(1, 44)
        v = {f"{i:02d}": rng.randint(0, 60_000) for i in range(n)}
        v["00"] = max(v["00"], 1)
        base = rng.randint(0, 10**7)
        total = base * n + rng.randint(0, 10**10)
        share = Fraction(rng.randint(0, 10_000), 10_000)
        table = compute_quota_table(total, base, share, v)
        assert sum(table.values()) == total and min(table.values()) >= base


def test_quota_table_refuses_bad_input_in_both_languages():
    e = _refused(InvalidInput, compute_quota_table, 100, 60, 0, {"a": 1, "b": 1})
    assert e.code == "base_exceeds_total" and "120원" in e.message("ko") and "KRW 120" in e.message("en")
    assert _refused(InvalidInput, compute_quota_table, 100, 0, 1.5, {"a": 1}).code == "bad_share"
    assert _refused(InvalidInput, compute_quota_table, 100.5, 0, 0, {"a": 1}).code == "bad_amount"
    assert _refused(InvalidInput, compute_quota_table, -1, 0, 0, {"a": 1}).code == "bad_amount"
    assert _refused(InvalidInput, compute_quota_table, 100, 0, 0.5, {"a": 0}).code == "no_voters"
    assert _refused(InvalidInput, compute_quota_table, 100, 0, 0, {}).code == "no_districts"
