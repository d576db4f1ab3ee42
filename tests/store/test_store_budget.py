"""Budget-cycle tables on both engines, a cycle without voting, and concurrent approvals on PostGIS."""
from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from shapely.geometry import Point
from sqlalchemy.exc import IntegrityError
from store_samples import HEAD, JUGYO, ONLY_POSTGIS, SEONGSA, World, proposal_fields

from planning import budget
from planning.budget import QuotaExceeded
from store import Store
from store.repositories import Quotas, Results

M = 1_000_000


@pytest.fixture
def admin_id(world: World) -> int:
    with world.store.transaction() as tx:
        return tx.residents.add("admin1", "관리자", role="admin", password_hash="x").id


def _proposals(world: World, costs: list[int], district: str = JUGYO, kind: str = "area") -> list[int]:
    with world.store.transaction() as tx:
        return [
            tx.proposals.add(
                **proposal_fields(world.resident_id, Point(126.83, 37.655), district_code=district, cost_krw=c, kind=kind, title=f"제안 {i}")
            ).id
            for i, c in enumerate(costs)
        ]


def test_tables_round_trip_and_keep_their_keys(world: World, admin_id: int) -> None:
    store = world.store
    [p1, p2] = _proposals(world, [10 * M, 20 * M])
    with store.transaction() as tx:
        cycle = tx.cycles.add(2027, created_by=admin_id, population_share_bp=4000, rules_json='{"endorsed_first": true}')
        assert (cycle.phase, cycle.endorsement_threshold_bp, cycle.has_voting, cycle.quotas_published_at) == ("proposals_open", 100, True, None)
        tx.quotas.set(cycle.id, JUGYO, 5_000_000_000_000, overridden=False, updated_by=admin_id)  # beyond 32 bits
        tx.reviews.put(cycle.id, p1, feasible=True, official_cost_krw=12 * M, field_verified_on=date(2027, 2, 28), construction=True, passed=True)
        a = tx.assemblies.add(cycle.id, JUGYO, date(2027, 4, 1), 250, world.planner_id, [p2, p1, p1])
        tx.assemblies.add(cycle.id, SEONGSA, date(2027, 4, 2), 9999, world.planner_id, [p1])  # not p1's district
        tx.votes.replace_ballot(cycle.id, world.resident_id, [p1, p2])
        tx.votes.replace_ballot(cycle.id, world.other_resident_id, [p1])
        tx.audit.record(admin_id, "test.action", f"cycle:{cycle.id}", {"when": date(2027, 1, 1), "한글": "값"})
        cid, aid = cycle.id, a.id
    with store.transaction() as tx:
        assert tx.cycles.by_year(2027).id == cid and tx.cycles.get(cid).population_share_bp == 4000
        assert tx.quotas.amounts(cid) == {JUGYO: 5_000_000_000_000}
        r = tx.reviews.get(cid, p1)
        assert (r.official_cost_krw, r.field_verified_on, r.construction, r.field_note) == (12 * M, date(2027, 2, 28), True, "")
        assert tx.assemblies.endorsed_ids(aid) == sorted([p1, p2])
        assert tx.assemblies.best_attendance(cid) == {p1: 250, p2: 250}  # the SEONGSA assembly does not count for p1
        assert tx.votes.counts(cid) == {p1: 2, p2: 1}
        assert tx.votes.replace_ballot(cid, world.resident_id, [p2]) == [p2]
        assert tx.votes.counts(cid) == {p1: 1, p2: 1}
        [entry] = tx.audit.list(subject_prefix=f"cycle:{cid}")
        assert entry.actor_id == admin_id and '"한글": "값"' in entry.detail and "2027-01-01" in entry.detail
        assert tx.audit.list(subject_prefix="cycle:%") == []  # the prefix is literal, not a LIKE pattern
        tx.results.replace(cid, [
            {"proposal_id": p1, "district_code": JUGYO, "selected": True, "rank": 1, "votes": 1, "cost_krw": 12 * M, "code": "selected", "reason_ko": "가", "reason_en": "a"},
            {"proposal_id": p2, "district_code": JUGYO, "selected": False, "rank": 2, "votes": 1, "cost_krw": 20 * M, "code": "does_not_fit", "reason_ko": "나", "reason_en": "b"},
        ])
        assert tx.results.committed(cid, JUGYO) == 12 * M and tx.results.committed(cid, SEONGSA) == 0
    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx.cycles.add(2027)
    with pytest.raises(IntegrityError), store.transaction() as tx:
        # The store's own test may touch the session: one vote per resident, proposal and cycle.
        from store.models import Vote

        tx._session.add_all([Vote(cycle_id=cid, resident_id=world.other_resident_id, proposal_id=p2, cast_at=entry.at) for _ in range(2)])
        tx.flush()
    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx.cycles.update(cid, population_share_bp=10_001)  # the check constraint
    with pytest.raises(ValueError), store.transaction() as tx:
        tx.cycles.update(cid, phase="party")


def test_a_cycle_without_voting_ranks_by_supports(world: World, admin_id: int) -> None:
    store = world.store
    cheap, dear = _proposals(world, [10 * M, 10 * M])
    with store.transaction() as tx:
        tx.supports.add(dear, world.resident_id)
        tx.supports.add(dear, world.other_resident_id)
        tx.supports.add(cheap, world.resident_id)
    cid = budget.create_cycle(store, admin_id, 2028, has_voting=False)
    budget.set_quotas_by_rule(store, admin_id, cid, 100 * M, 10 * M, 1)
    budget.override_quota(store, admin_id, cid, JUGYO, 50 * M)
    budget.publish_quotas(store, admin_id, cid)
    assert budget.advance_phase(store, admin_id, cid) == "review"
    budget.review_proposal(store, world.planner_id, cid, cheap, feasible=True, official_cost_krw=20 * M, construction=False)
    budget.review_proposal(store, world.planner_id, cid, dear, feasible=True, official_cost_krw=40 * M, construction=False)
    assert budget.advance_phase(store, admin_id, cid) == "assemblies"
    assert budget.advance_phase(store, admin_id, cid) == "allocation"  # no voting phase
    decisions = {int(d.id): d for d in budget.run_allocation(store, admin_id, cid)}
    # The most supported (2) first: 40M of 50M; the other (20M) no longer fits.
    assert decisions[dear].selected and decisions[dear].votes == 2 and decisions[dear].rank == 1
    assert not decisions[cheap].selected and decisions[cheap].code == "does_not_fit"
    assert budget.district_quota_status(store, cid, JUGYO) == (50 * M, 40 * M, 10 * M)


def _approval_race(store: Store, admin_id: int, cycle_id: int, proposal_ids: list[int]) -> tuple[int, int, list[BaseException]]:
    """Approve every proposal at once from its own thread; returns (approved, refused, other errors)."""
    start = threading.Barrier(len(proposal_ids))
    outcomes: list[object] = []
    lock = threading.Lock()

    def approve(pid: int) -> None:
        start.wait()
        try:
            budget.approve_proposal(store, admin_id, cycle_id, pid)
            outcome: object = "approved"
        except QuotaExceeded:
            outcome = "refused"
        except BaseException as err:  # noqa: BLE001 - reported by the test
            outcome = err
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=approve, args=(pid,)) for pid in proposal_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    return outcomes.count("approved"), outcomes.count("refused"), errors


@pytest.fixture
def allocation_ready(world: World, admin_id: int) -> tuple[Store, int, int, list[int]]:
    """A cycle in its allocation phase: quota 100M in JUGYO, eight eligible 30M proposals there."""
    store = world.store
    pids = _proposals(world, [30 * M] * 8)
    cid = budget.create_cycle(store, admin_id, 2029, has_voting=False)
    budget.set_quotas_by_rule(store, admin_id, cid, 150 * M, 0, 0)
    budget.override_quota(store, admin_id, cid, JUGYO, 100 * M)
    budget.publish_quotas(store, admin_id, cid)
    budget.advance_phase(store, admin_id, cid)
    for pid in pids:
        budget.review_proposal(store, world.planner_id, cid, pid, feasible=True, official_cost_krw=30 * M, construction=False)
    budget.advance_phase(store, admin_id, cid)
    assert budget.advance_phase(store, admin_id, cid) == "allocation"
    return store, admin_id, cid, pids


@pytest.fixture
def slow_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the race: pause after reading what a district has committed, before writing."""
    original = Results.committed

    def committed(self: Results, cycle_id: int, district_code: str) -> int:
        value = original(self, cycle_id, district_code)
        time.sleep(0.2)
        return value

    monkeypatch.setattr(Results, "committed", committed)


@ONLY_POSTGIS
def test_concurrent_approvals_cannot_push_a_district_past_its_quota(allocation_ready, slow_committed) -> None:
    store, admin_id, cid, pids = allocation_ready
    approved, refused, errors = _approval_race(store, admin_id, cid, pids)
    assert errors == []
    assert (approved, refused) == (3, 5)  # 3 × 30M fit in 100M
    quota, committed, left = budget.district_quota_status(store, cid, JUGYO)
    assert (quota, committed, left) == (100 * M, 90 * M, 10 * M)
    with store.transaction() as tx:
        assert len(tx.audit.list(action="proposal.approve")) == 3


@ONLY_POSTGIS
def test_without_the_row_lock_the_same_race_over_commits(allocation_ready, slow_committed, monkeypatch) -> None:
    """The test above can fail: take away the lock on the quota row and the district is over-committed."""
    original = Quotas.get
    monkeypatch.setattr(Quotas, "get", lambda self, cycle_id, code, for_update=False: original(self, cycle_id, code))
    store, admin_id, cid, pids = allocation_ready
    approved, _, errors = _approval_race(store, admin_id, cid, pids)
    assert errors == []
    quota, committed, _ = budget.district_quota_status(store, cid, JUGYO)
    assert approved > 3 and committed > quota


@ONLY_POSTGIS
def test_concurrent_ballots_of_one_resident_end_as_one_whole_ballot(world: World, admin_id: int) -> None:
    store = world.store
    pids = _proposals(world, [30 * M] * 4)
    cid = budget.create_cycle(store, admin_id, 2030)
    budget.set_quotas_by_rule(store, admin_id, cid, 200 * M, 100 * M, 0)
    budget.publish_quotas(store, admin_id, cid)
    budget.advance_phase(store, admin_id, cid)
    for pid in pids:
        budget.review_proposal(store, world.planner_id, cid, pid, feasible=True, official_cost_krw=30 * M, construction=False)
    budget.advance_phase(store, admin_id, cid)
    assert budget.advance_phase(store, admin_id, cid) == "voting"
    ballots = [pids[i : i + 3] for i in range(2)] * 4  # 8 ballots of 90M each
    start = threading.Barrier(len(ballots))
    errors: list[BaseException] = []

    def vote(ballot: list[int]) -> None:
        start.wait()
        try:
            budget.cast_votes(store, world.resident_id, cid, ballot)
        except BaseException as err:  # noqa: BLE001 - reported by the test
            errors.append(err)

    threads = [threading.Thread(target=vote, args=(b,)) for b in ballots]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with store.transaction() as tx:
        final = tx.votes.ballot(cid, world.resident_id)
    assert final in (sorted(pids[0:3]), sorted(pids[1:4]))  # one whole ballot, never a mix


def test_0003_downgrades_with_data_and_upgrades_again(world: World, admin_id: int) -> None:
    from sqlalchemy import inspect

    from store.migrate import compare, current_revision, downgrade, upgrade

    [pid] = _proposals(world, [10 * M])
    cid = budget.create_cycle(world.store, admin_id, 2031)
    budget.set_quotas_by_rule(world.store, admin_id, cid, 100 * M, 0, 0)
    engine = world.store.engine
    downgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert not {"budget_cycles", "quotas", "audit_log", "votes"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == HEAD and compare(engine) == []
    with world.store.transaction() as tx:
        assert tx.proposals.get(pid) is not None and tx.cycles.list() == []
    assert budget.create_cycle(world.store, admin_id, 2031) > 0
