"""Concurrent use of the services, on SQLite and PostGIS: no lost write, no duplicate, no quota overshoot.

Threads are released together by a barrier, as sessions of one app process
would act at the same moment; most tests share one :class:`store.Store`
between the threads as the app does (``ui/context.py``), the quota race also
runs with one store (engine, connection pool) per thread, as separate app
processes would. Every call's outcome is recorded; any error that is not a
refusal of the service (such as SQLite's "database is locked" or a
PostgreSQL deadlock) fails the test.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from geo.errors import Refusal
from planning.budget import (
    QuotaExceeded,
    advance_phase,
    approve_proposal,
    ballot_status,
    cast_votes,
    create_cycle,
    district_quota_status,
    override_quota,
    publish_quotas,
    review_proposal,
    set_quotas_by_rule,
)
from planning.catchments import catchments
from planning.geography import install_reference_data
from planning.proposals import add_comment, submit_proposal, support_proposal
from store import Store

HAENGSIN1 = "4128164000"  # 행신1동
LON, LAT = 126.833004, 37.622148  # its representative point
M = 1_000_000
THREADS = 12


def point(i: int) -> dict:
    """A point inside 행신1동, a little apart for each ``i``."""
    return {"type": "Point", "coordinates": [LON + 0.0001 * (i % 15), LAT + 0.0001 * (i // 15)]}


def at_once(fns: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run each function in its own thread, all released together; ``[(outcome, value), ...]`` in order.

    ``outcome`` is ``"ok"``, a refusal's code, or ``"error: ..."``.
    """
    start = threading.Barrier(len(fns))
    out: list[tuple[str, Any]] = [("not run", None)] * len(fns)

    def run(k: int) -> None:
        start.wait()
        try:
            out[k] = ("ok", fns[k]())
        except Refusal as refusal:
            out[k] = (refusal.code, refusal)
        except Exception as err:  # noqa: BLE001 - reported by the assertion below
            out[k] = (f"error: {type(err).__name__}: {err}", err)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(fns))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a thread is still waiting: deadlock?"
    errors = [o for o, _ in out if o.startswith("error") or o == "not run"]
    assert not errors, errors
    return out


@pytest.fixture
def shared(store_url: str) -> Iterator[Store]:
    """One migrated store with reference data, shared by every thread (as the app shares one per process)."""
    opened = Store.open(store_url)
    install_reference_data(opened)
    try:
        yield opened
    finally:
        opened.dispose()


def accounts(store: Store, prefix: str, n: int, role: str = "resident") -> list[int]:
    """``n`` accounts living in 행신1동 (no password: set-up only)."""
    with store.transaction() as tx:
        return [
            tx.residents.add(username=f"{prefix}{i:02d}", display_name=f"{prefix} {i}", role=role, home_district_code=HAENGSIN1).id
            for i in range(n)
        ]


def staff(store: Store) -> tuple[int, int, int]:
    """``(admin, planner, author)``: who runs the cycle, reviews, and writes the proposals."""
    return accounts(store, "admin", 1, "admin")[0], accounts(store, "planner", 1, "planner")[0], accounts(store, "author", 1)[0]


def cycle_in_voting(store: Store, admin: int, planner: int, author: int, costs: list[int], quota: int) -> tuple[int, list[int]]:
    """A cycle in its voting phase, 행신1동's quota ``quota``, one passed proposal per official cost; ``(cycle, ids)``."""
    cid = create_cycle(store, admin, 2027)
    set_quotas_by_rule(store, admin, cid, 1_000 * M, 10 * M, "0.5")
    override_quota(store, admin, cid, HAENGSIN1, quota)
    publish_quotas(store, admin, cid)
    ids = [submit_proposal(store, author, point(i), f"제안 {i}", "설명", "environment", "area", cost) for i, cost in enumerate(costs)]
    assert advance_phase(store, admin, cid) == "review"
    for pid, cost in zip(ids, costs, strict=True):
        review_proposal(store, planner, cid, pid, feasible=True, official_cost_krw=cost, construction=False)
    assert advance_phase(store, admin, cid) == "assemblies"
    assert advance_phase(store, admin, cid) == "voting"
    return cid, ids


def test_many_residents_support_one_proposal_at_once_and_double_clicks_are_refused(shared):
    store = shared
    [author] = accounts(store, "author", 1)
    residents = accounts(store, "fan", THREADS)
    pid = submit_proposal(store, author, point(0), "모두의 놀이터", "그늘막을 놓아 주세요.", "environment")
    # every resident twice (a double click from two tabs): two threads each
    out = at_once([lambda r=r: support_proposal(store, r, pid) for r in residents + residents])
    outcomes = Counter(o for o, _ in out)
    assert outcomes == {"ok": THREADS, "already_supported": THREADS}
    for k, r in enumerate(residents):  # one of each resident's two calls won
        assert sorted((out[k][0], out[k + THREADS][0])) == ["already_supported", "ok"], r
    # each winner's count includes its own support (others' may not be committed yet on PostgreSQL)
    assert all(1 <= v <= THREADS for o, v in out if o == "ok")
    with store.transaction() as tx:
        assert tx.supports.count_for(pid) == THREADS
        assert all(tx.supports.has(pid, r) for r in residents)
        assert tx.supports.counts() == {pid: THREADS}


def test_residents_submit_and_comment_at_once_and_every_write_is_kept(shared):
    store = shared
    residents = accounts(store, "writer", THREADS)
    out = at_once([lambda k=k, r=r: submit_proposal(store, r, point(k), f"제안 {k}", "내용", "urban") for k, r in enumerate(residents)])
    ids = [v for _, v in out]
    assert len(set(ids)) == THREADS
    with store.transaction() as tx:
        for k, (pid, r) in enumerate(zip(ids, residents, strict=True)):
            p = tx.proposals.get(pid)
            assert (p.author_id, p.title, p.district_code) == (r, f"제안 {k}", HAENGSIN1)
            assert [h.to_status for h in tx.history.list_for(pid)] == ["submitted"]  # written with it, in one transaction
        assert tx.proposals.count() == THREADS
    target = ids[0]
    out = at_once([lambda k=k, r=r: add_comment(store, r, target, f"댓글 {k}") for k, r in enumerate(residents)])
    with store.transaction() as tx:
        stored = {c.id: c for c in tx.comments.list_for(target)}
    assert set(stored) == {v for _, v in out}
    assert sorted(c.body for c in stored.values()) == sorted(f"댓글 {k}" for k in range(THREADS))


def test_one_residents_ballots_from_several_sessions_never_mix(shared):
    """Each ballot fits the quota, any two together do not: a ballot mixed from two calls would show."""
    store = shared
    admin, planner, author = staff(store)
    [voter] = accounts(store, "voter", 1)
    costs = [30 * M] * 8
    cid, ids = cycle_in_voting(store, admin, planner, author, costs, quota=60 * M)
    ballots = [sorted({ids[k], ids[(k + 1) % len(ids)]}) for k in range(len(ids))]
    for _ in range(3):
        out = at_once([lambda b=b: cast_votes(store, voter, cid, b) for b in ballots])
        assert [o for o, _ in out] == ["ok"] * len(ballots)
        status = ballot_status(store, voter, cid)
        assert status.proposal_ids in ballots  # exactly one whole ballot, the last one committed
        assert status.ballot_cost_krw == 60 * M <= status.quota_krw
        with store.transaction() as tx:
            assert tx.votes.counts(cid) == {pid: 1 for pid in status.proposal_ids}


def test_residents_of_one_district_vote_at_once_within_its_quota(shared):
    store = shared
    admin, planner, author = staff(store)
    voters = accounts(store, "voter", THREADS)
    costs = [10 * M, 20 * M, 30 * M, 40 * M, 50 * M]
    cid, ids = cycle_in_voting(store, admin, planner, author, costs, quota=70 * M)
    cost = dict(zip(ids, costs, strict=True))
    # odd voters ask for too much (the two dearest: 90M), even ones for what fits
    wanted = [[ids[k % 3], ids[3]] if k % 2 == 0 else [ids[3], ids[4]] for k in range(THREADS)]
    out = at_once([lambda v=v, b=b: cast_votes(store, v, cid, b) for v, b in zip(voters, wanted, strict=True)])
    for k, (outcome, value) in enumerate(out):
        if sum(cost[p] for p in wanted[k]) <= 70 * M:
            assert (outcome, value) == ("ok", sorted(wanted[k]))
        else:
            assert outcome == "ballot_over_quota" and isinstance(value, QuotaExceeded)
    accepted = [sorted(wanted[k]) for k, (o, _) in enumerate(out) if o == "ok"]
    assert len(accepted) == THREADS // 2
    with store.transaction() as tx:
        assert tx.votes.counts(cid) == dict(Counter(p for b in accepted for p in b))
        for v, (o, _), b in zip(voters, out, wanted, strict=True):
            assert tx.votes.ballot(cid, v) == (sorted(b) if o == "ok" else [])
    assert district_quota_status(store, cid, HAENGSIN1) == (70 * M, 0, 70 * M)  # ballots commit no money


@pytest.mark.parametrize("stores", ["shared", "one per thread"])
def test_admins_racing_for_the_last_quota_never_exceed_it(store_url, shared, stores):
    """THREADS admins approve THREADS proposals of one district at once; the quota fits exactly three."""
    store = shared
    admins = accounts(store, "racer", THREADS, role="admin")
    _, planner, author = staff(store)
    cost = 20 * M
    cid, ids = cycle_in_voting(store, admins[0], planner, author, [cost] * THREADS, quota=100 * M)
    assert advance_phase(store, admins[0], cid) == "allocation"
    quota = 3 * cost + cost - 1  # three fit, a fourth misses by one won
    override_quota(store, admins[0], cid, HAENGSIN1, quota)
    own = [Store.open(store_url, migrate=False) for _ in admins] if stores == "one per thread" else [store] * THREADS
    try:
        out = at_once([lambda s=s, a=a, p=p: approve_proposal(s, a, cid, p) for s, a, p in zip(own, admins, ids, strict=True)])
    finally:
        if stores == "one per thread":
            for s in own:
                s.dispose()
    outcomes = Counter(o for o, _ in out)
    assert outcomes == {"ok": 3, "quota_exceeded": THREADS - 3}
    winners = {ids[k] for k, (o, _) in enumerate(out) if o == "ok"}
    lefts = sorted(v.left_krw for o, v in out if o == "ok")
    assert lefts == [quota - 3 * cost, quota - 2 * cost, quota - cost]  # each saw the ones before it
    status = district_quota_status(store, cid, HAENGSIN1)
    assert status == (quota, 3 * cost, cost - 1) and status.committed_krw <= status.quota_krw
    with store.transaction() as tx:
        selected = {r.proposal_id for r in tx.results.list(cid) if r.selected}
        assert selected == winners
        assert len(tx.audit.list(action="proposal.approve")) == 3


def test_a_service_called_inside_an_open_transaction_does_not_wait_for_its_own_thread(shared):
    """SQLite transactions take the write lock when they begin; one opened inside another on the same thread reads."""
    store = shared
    [resident] = accounts(store, "inner", 1)
    t0 = time.perf_counter()
    with store.transaction() as tx:
        tx.residents.get(resident).display_name = "바뀐 이름"
        tx.flush()  # the outer transaction has written
        found = catchments(store)  # its own transactions, on another connection
    assert time.perf_counter() - t0 < 5.0
    assert sum(len(codes) for codes in found.values()) == 44
    with store.transaction() as tx:
        assert tx.residents.get(resident).display_name == "바뀐 이름"


def test_a_phase_change_waits_for_a_ballot_being_cast(shared):
    """A ballot that saw "voting" commits before the cycle moves on (shared lock on the cycle row; PostgreSQL)."""
    import threading
    import time

    store = shared
    if store.backend != "postgresql":
        pytest.skip("SQLite: every transaction takes the write lock at BEGIN, so the two cannot overlap at all")
    admin, planner, author = staff(store)
    cid, _ids = cycle_in_voting(store, admin, planner, author, [10 * M], quota=70 * M)
    moved: list[str] = []
    with store.transaction() as tx:  # a voter's transaction, between its phase check and its write
        assert tx.cycles.get(cid, for_share=True).phase == "voting"
        mover = threading.Thread(target=lambda: moved.append(advance_phase(store, admin, cid)))
        mover.start()
        time.sleep(0.8)
        assert moved == [] and mover.is_alive()  # the admin's phase change waits
    mover.join(timeout=30)
    assert moved == ["allocation"]
