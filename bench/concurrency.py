"""Benchmark (issue #7): many residents using the service layer at once.

N simulated residents (distinct accounts living in 행신1동), each in its own
thread, go through one participatory-budget cycle as the app's pages would
call the services (:mod:`planning.proposals`, :mod:`planning.budget`), with
no pause between actions (the server's capacity, not a resident's pace):

1. *proposals open*: each resident submits proposals (a small point or
   square in 행신1동), supports proposals (first the few "hot" proposals
   every resident supports, so that all threads write supports of the same
   proposals at once; then other residents' new proposals; the last support
   repeats the first, as a double click does, and must be refused), and
   comments (on a hot proposal and on others' proposals);
2. *voting*: each resident casts ballots (:func:`planning.budget.cast_votes`,
   a ballot replaces the previous one) of 1 to 5 of the district's
   proposals; a ballot costing more than the district's quota is refused;
3. *allocation*: the last quota. Ballots do not consume a shared quota (each
   is checked against the whole quota, knapsack ballot); the only write that
   does is an admin's :func:`planning.budget.approve_proposal`. So N admin
   accounts (one per thread) each approve a different proposal of the same
   district at once, with the district's quota set so that only about a
   quarter of them fit.

Each resident performs ``scale.concurrency_actions`` actions: a quarter of
them (at least one) are ballots, the rest follow submit, support, comment,
support. Phases move on between the timed parts (planner review with
official costs of 10, 20 or 30 million won, quotas published, phases
advanced); that set-up is not timed.

The app keeps one :class:`store.Store` per process (``ui/context.py``,
``st.cache_resource``) and Streamlit serves sessions as threads of that
process, so the threads here share one store: one engine and its connection
pool (SQLAlchemy's default: 5 connections plus 10 overflow; more threads
wait for a connection, as sessions of one app process would).

Baseline: the same workload on a fresh database of the same engine, run by
one thread (the residents' actions taken in turns), in the same run.

Check (per run, from the database with plain SQL, after the run): every
successful call's write is there and nothing else (proposals, supports,
comments by id or pair; each resident's stored ballot is their last accepted
one; vote totals per proposal equal the count over those ballots); no
duplicate support or vote; every refusal is of the expected kind and
justified (a refused support was a repeat of an accepted one, a refused
ballot or approval really did not fit); no district's committed amount is
above its quota; no call failed with an error (such as "database is
locked" or a deadlock).
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.database import server_version, throwaway_database
from bench.rows import make_row
from bench.scales import Scale, get_scale
from geo.errors import Refusal
from planning.accounts import hash_password
from planning.budget import (
    advance_phase,
    approve_proposal,
    cast_votes,
    create_cycle,
    district_quota_status,
    override_quota,
    publish_quotas,
    review_proposal,
    set_quotas_by_rule,
)
from planning.geography import install_reference_data
from planning.proposals import add_comment, submit_proposal, support_proposal
from store import Store

BENCHMARK = "concurrency"
#: Action kinds, in the order of the rows.
KINDS = ("submit", "support", "comment", "vote", "approve")
#: The phase each kind is timed in.
PHASE_OF = {"submit": "proposals_open", "support": "proposals_open", "comment": "proposals_open", "vote": "voting", "approve": "allocation"}
#: The kinds of the proposals phase, in turn.
PROPOSAL_PATTERN = ("submit", "support", "comment", "support")
DISTRICT = "4128164000"  # 행신1동: every simulated resident lives and proposes here
LON, LAT = 126.833004, 37.622148  # 행신1동's representative point; ±0.002° stays inside the dong
M = 1_000_000
HOT = 3  # proposals every resident supports and comments on
VOTE_QUOTA_KRW = 100 * M  # 행신1동's quota while voting: a ballot of 4 or 5 proposals may not fit
OFFICIAL_COSTS_KRW = (10 * M, 20 * M, 30 * M)
FISCAL_YEAR = 2027
EXPECTED_REFUSALS = {"support": {"already_supported"}, "vote": {"ballot_over_quota"}, "approve": {"quota_exceeded"}}


@dataclass(frozen=True)
class Call:
    """One service call: its kind, who, on what, how long, and how it ended.

    ``outcome`` is ``"ok"``, a refusal's code (``already_supported``, ...),
    or ``"error:<ExceptionClass>"`` for anything else.
    """

    kind: str
    actor: int
    target: Any
    seconds: float
    outcome: str
    value: Any = None
    error: str = ""


def _timed(kind: str, actor: int, target: Any, fn: Callable[[], Any]) -> Call:
    t0 = time.perf_counter()
    try:
        value = fn()
    except Refusal as refusal:
        return Call(kind, actor, target, time.perf_counter() - t0, refusal.code)
    except Exception as err:  # noqa: BLE001 - an error is a finding: counted, shown, and fails the check
        return Call(kind, actor, target, time.perf_counter() - t0, f"error:{type(err).__name__}", error=str(err)[:300])
    return Call(kind, actor, target, time.perf_counter() - t0, "ok", value)


@dataclass
class World:
    """A database set up for one run: accounts, the cycle, the hot proposals."""

    store: Store
    cycle_id: int
    admin: int
    planner: int
    residents: list[int]
    approvers: list[int]
    hot: list[int]


@dataclass
class Board:
    """The proposals submitted so far in a run, shared by the residents' threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    by_author: list[tuple[int, int]] = field(default_factory=list)

    def add(self, author: int, proposal_id: int) -> None:
        """Record an accepted submission."""
        with self.lock:
            self.by_author.append((author, proposal_id))

    def others(self, author: int) -> list[int]:
        """Ids of the proposals submitted by anyone but ``author`` so far."""
        with self.lock:
            return [pid for who, pid in self.by_author if who != author]


def geometry(i: int, j: int) -> dict[str, Any]:
    """A small valid drawing inside 행신1동 for resident ``i``'s ``j``-th proposal: a point or a ~20 m square."""
    rng = random.Random(i * 1009 + j)
    x, y = LON + rng.uniform(-0.0018, 0.0018), LAT + rng.uniform(-0.0018, 0.0018)
    if j % 2 == 0:
        return {"type": "Point", "coordinates": [x, y]}
    d = 0.0002
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def setup_world(url: str, users: int) -> World:
    """Migrate a fresh database at ``url``, install reference data, accounts, a cycle in ``proposals_open`` and the hot proposals."""
    store = Store.open(url)
    install_reference_data(store)
    pw = hash_password("bench-only-not-a-real-account")  # argon2 once: accounts are set-up, not measured
    with store.transaction() as tx:
        admin = tx.residents.add(username="bench-admin", display_name="벤치 관리자", role="admin", password_hash=pw).id
        planner = tx.residents.add(username="bench-planner", display_name="벤치 계획가", role="planner", password_hash=pw).id
        seed = tx.residents.add(username="bench-seed", display_name="벤치 씨앗", password_hash=pw, home_district_code=DISTRICT).id
        residents = [
            tx.residents.add(
                username=f"bench-u{i:03d}", display_name=f"벤치 주민 {i}", password_hash=pw, home_district_code=DISTRICT
            ).id
            for i in range(users)
        ]
        approvers = [
            tx.residents.add(username=f"bench-a{i:03d}", display_name=f"벤치 관리자 {i}", role="admin", password_hash=pw).id
            for i in range(users)
        ]
    cycle_id = create_cycle(store, admin, FISCAL_YEAR)
    set_quotas_by_rule(store, admin, cycle_id, 3_000 * M, 20 * M, "0.5")
    override_quota(store, admin, cycle_id, DISTRICT, VOTE_QUOTA_KRW)
    publish_quotas(store, admin, cycle_id)
    # The hot proposals; the first submission also builds the linking gazetteer, outside the timing.
    hot = [
        submit_proposal(store, seed, geometry(-1, k), f"모두가 아는 제안 {k}", "벤치마크: 모든 주민이 지지합니다.", "environment", "area", 30 * M)
        for k in range(HOT)
    ]
    return World(store, cycle_id, admin, planner, residents, approvers, hot)


# ---------------------------------------------------------------- what one resident does


def split_actions(actions: int) -> tuple[int, int]:
    """``(proposal-phase actions, ballots)`` of one resident: a quarter ballots (at least one)."""
    votes = max(1, actions // 4)
    return max(0, actions - votes), votes


def proposal_steps(world: World, i: int, actions: int, board: Board) -> Iterator[Call]:
    """Resident ``i``'s actions while proposals are open, one call per step."""
    rng = random.Random(7919 * i + 1)
    me = world.residents[i]
    supported: list[int] = []
    n_supports = sum(1 for j in range(actions) if PROPOSAL_PATTERN[j % 4] == "support")
    submitted = 0
    for j in range(actions):
        kind = PROPOSAL_PATTERN[j % len(PROPOSAL_PATTERN)]
        if kind == "submit":
            k = submitted
            submitted += 1
            call = _timed(
                kind,
                me,
                None,
                lambda k=k: submit_proposal(
                    world.store, me, geometry(i, k), f"주민 {i}의 제안 {k}", "벤치마크로 만든 제안입니다.", "urban", "area", 10 * M
                ),
            )
            if call.outcome == "ok":
                board.add(me, call.value)
        elif kind == "support":
            s = len(supported)
            if s < HOT:
                target = world.hot[(i + s) % HOT]  # every resident, the same few proposals
            elif s == n_supports - 1 and s >= 2:
                target = supported[0]  # a double click: must be refused
            else:
                target = rng.choice(board.others(me) or world.hot)
            supported.append(target)
            call = _timed(kind, me, target, lambda t=target: support_proposal(world.store, me, t))
        else:
            others = board.others(me)
            target = world.hot[i % HOT] if j % 8 == 2 or not others else rng.choice(others)
            call = _timed(kind, me, target, lambda t=target, j=j: add_comment(world.store, me, t, f"주민 {i}의 댓글 {j}: 좋은 생각입니다."))
        yield call


def vote_steps(world: World, i: int, ballots: int, ballot_ids: list[int]) -> Iterator[Call]:
    """Resident ``i``'s ballots (each replaces the previous one), one call per step."""
    rng = random.Random(104729 * i + 3)
    me = world.residents[i]
    for _ in range(ballots):
        ballot = tuple(sorted(rng.sample(ballot_ids, min(len(ballot_ids), rng.randint(1, 5)))))
        yield _timed("vote", me, ballot, lambda b=ballot: cast_votes(world.store, me, world.cycle_id, b))


def approve_steps(world: World, a: int, proposal_id: int) -> Iterator[Call]:
    """Approver ``a`` approving one proposal: a one-step sequence."""
    me = world.approvers[a]
    yield _timed("approve", me, proposal_id, lambda: approve_proposal(world.store, me, world.cycle_id, proposal_id))


def run_steps(sequences: list[Iterator[Call]], concurrent: bool) -> tuple[list[Call], float]:
    """Run the step sequences, one thread each (released together) or in turns in this thread; ``(calls, wall seconds)``."""
    calls: list[Call] = []
    if not concurrent:
        t0 = time.perf_counter()
        live = list(sequences)
        while live:
            for seq in list(live):
                step = next(seq, None)
                if step is None:
                    live.remove(seq)
                else:
                    calls.append(step)
        return calls, time.perf_counter() - t0
    start = threading.Barrier(len(sequences) + 1)
    lock = threading.Lock()

    def worker(seq: Iterator[Call]) -> None:
        start.wait()
        mine = list(seq)
        with lock:
            calls.extend(mine)

    threads = [threading.Thread(target=worker, args=(seq,), name=f"resident-{k}") for k, seq in enumerate(sequences)]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    return calls, time.perf_counter() - t0


# ---------------------------------------------------------------- between the timed phases (not timed)


def _sql(store: Store, query: str) -> list[tuple[Any, ...]]:
    """Rows of a plain SQL query (integers are formatted in: both engines, no parameters)."""
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(query)
        rows = [tuple(r) for r in cur.fetchall()]
        cur.close()
        raw.rollback()
        return rows
    finally:
        raw.close()


def to_voting(world: World) -> dict[int, int]:
    """Review every proposal of the district (passed, official cost by id) and open voting; returns ``{id: cost}``."""
    store, cid = world.store, world.cycle_id
    assert advance_phase(store, world.admin, cid) == "review"
    ids = [int(r[0]) for r in _sql(store, f"SELECT id FROM proposals WHERE district_code = '{DISTRICT}' ORDER BY id")]
    costs = {}
    for pid in ids:
        cost = OFFICIAL_COSTS_KRW[pid % len(OFFICIAL_COSTS_KRW)]
        review_proposal(store, world.planner, cid, pid, feasible=True, official_cost_krw=cost, construction=False)
        costs[pid] = cost
    assert advance_phase(store, world.admin, cid) == "assemblies"
    assert advance_phase(store, world.admin, cid) == "voting"
    return costs


def to_allocation(world: World, costs: dict[int, int], racers: int) -> tuple[list[int], int]:
    """Open allocation and set the district's quota so that about a quarter of ``racers`` proposals fit.

    Returns the proposals to approve at once (one per approver) and the quota.
    """
    store, cid = world.store, world.cycle_id
    assert advance_phase(store, world.admin, cid) == "allocation"
    candidates = sorted(costs)[:racers]
    cheapest = sorted(costs[p] for p in candidates)
    fit = max(1, len(candidates) // 4)
    quota = sum(cheapest[:fit]) + cheapest[0] - 1
    override_quota(store, world.admin, cid, DISTRICT, quota)
    return candidates, quota


# ---------------------------------------------------------------- checks (after a run, from the database)


@dataclass
class Checked:
    """The invariants of one run: per kind, pass or fail, with what failed."""

    ok: dict[str, bool]
    problems: list[str]
    counts: dict[str, dict[str, int]]


def check_run(world: World, calls: list[Call], costs: dict[int, int], vote_quota: int, race_quota: int) -> Checked:
    """Verify the run's invariants against the database (see the module docstring)."""
    store, cid = world.store, world.cycle_id
    by_kind: dict[str, list[Call]] = {k: [c for c in calls if c.kind == k] for k in KINDS}
    problems: dict[str, list[str]] = {k: [] for k in KINDS}
    for kind, cs in by_kind.items():
        for c in cs:
            if c.outcome != "ok" and c.outcome not in EXPECTED_REFUSALS.get(kind, set()):
                problems[kind].append(f"{kind} by {c.actor} on {c.target}: {c.outcome} {c.error}".strip())
    residents = ", ".join(str(r) for r in world.residents)

    # proposals: exactly the accepted submissions
    ok_ids = [c.value for c in by_kind["submit"] if c.outcome == "ok"]
    stored = sorted(int(r[0]) for r in _sql(store, f"SELECT id FROM proposals WHERE author_id IN ({residents})"))
    if sorted(ok_ids) != stored or len(set(ok_ids)) != len(ok_ids):
        problems["submit"].append(f"{len(ok_ids)} accepted submissions, {len(stored)} stored proposals")

    # supports: exactly the accepted pairs, no duplicates; refusals were repeats
    ok_pairs = [(c.target, c.actor) for c in by_kind["support"] if c.outcome == "ok"]
    rows = Counter((int(p), int(r)) for p, r in _sql(store, "SELECT proposal_id, resident_id FROM supports"))
    if any(n > 1 for n in rows.values()):
        problems["support"].append(f"duplicate supports: {[k for k, n in rows.items() if n > 1][:5]}")
    if len(set(ok_pairs)) != len(ok_pairs):
        problems["support"].append("the same support was accepted twice")
    if set(rows) != set(ok_pairs) or sum(rows.values()) != len(ok_pairs):
        problems["support"].append(f"{len(ok_pairs)} accepted supports, {sum(rows.values())} stored")
    for c in by_kind["support"]:
        if c.outcome == "already_supported" and (c.target, c.actor) not in set(ok_pairs):
            problems["support"].append(f"support {c.target} by {c.actor} refused as a repeat but never accepted")

    # comments: exactly the accepted ones
    ok_comments = sorted(c.value for c in by_kind["comment"] if c.outcome == "ok")
    stored_comments = sorted(int(r[0]) for r in _sql(store, f"SELECT id FROM comments WHERE author_id IN ({residents})"))
    if ok_comments != stored_comments:
        problems["comment"].append(f"{len(ok_comments)} accepted comments, {len(stored_comments)} stored")

    # votes: each resident's stored ballot is their last accepted one; totals; no duplicates; quota
    last: dict[int, tuple[int, ...]] = {}
    for c in by_kind["vote"]:  # one resident's calls are in their order within the list
        cost = sum(costs.get(p, 0) for p in c.target)
        if c.outcome == "ok":
            last[c.actor] = c.target
            if cost > vote_quota:
                problems["vote"].append(f"ballot {c.target} of {cost:,} won accepted over the quota {vote_quota:,}")
        elif c.outcome == "ballot_over_quota" and cost <= vote_quota:
            problems["vote"].append(f"ballot {c.target} of {cost:,} won refused under the quota {vote_quota:,}")
    vote_rows = _sql(store, f"SELECT resident_id, proposal_id FROM votes WHERE cycle_id = {cid}")
    dup = [k for k, n in Counter((int(r), int(p)) for r, p in vote_rows).items() if n > 1]
    if dup:
        problems["vote"].append(f"duplicate votes: {dup[:5]}")
    ballots: dict[int, list[int]] = {}
    for r, p in vote_rows:
        ballots.setdefault(int(r), []).append(int(p))
    if {r: tuple(sorted(ps)) for r, ps in ballots.items()} != {r: tuple(b) for r, b in last.items() if b}:
        problems["vote"].append("stored ballots differ from each resident's last accepted ballot")
    totals = {int(p): int(n) for p, n in _sql(store, f"SELECT proposal_id, COUNT(*) FROM votes WHERE cycle_id = {cid} GROUP BY proposal_id")}
    if totals != dict(Counter(p for b in last.values() for p in b)):
        problems["vote"].append("vote totals differ from the count over the accepted ballots")

    # approvals: committed = accepted costs <= quota; every refusal really did not fit
    ok_approved = {c.target for c in by_kind["approve"] if c.outcome == "ok"}
    selected = {int(r[0]) for r in _sql(store, f"SELECT proposal_id FROM allocation_results WHERE cycle_id = {cid} AND selected")}
    status = district_quota_status(store, cid, DISTRICT)
    if selected != ok_approved:
        problems["approve"].append(f"{len(ok_approved)} accepted approvals, {len(selected)} selected proposals stored")
    if status.committed_krw != sum(costs[p] for p in ok_approved) or status.quota_krw != race_quota:
        problems["approve"].append(f"committed {status.committed_krw:,} won is not the accepted approvals' cost")
    for c in by_kind["approve"]:
        if c.outcome == "quota_exceeded" and costs[c.target] <= race_quota - status.committed_krw:
            problems["approve"].append(f"approval of {c.target} refused although it still fits")
    over = _sql(
        store,
        "SELECT q.district_code, q.amount_krw, COALESCE(SUM(r.cost_krw), 0) FROM quotas q "
        "LEFT JOIN allocation_results r ON r.cycle_id = q.cycle_id AND r.district_code = q.district_code AND r.selected "
        f"WHERE q.cycle_id = {cid} GROUP BY q.district_code, q.amount_krw HAVING COALESCE(SUM(r.cost_krw), 0) > q.amount_krw",
    )
    if over:
        problems["approve"].append(f"districts over their quota: {over}")

    counts = {k: dict(Counter(c.outcome for c in cs)) for k, cs in by_kind.items()}
    flat = [p for k in KINDS for p in problems[k]]
    return Checked({k: not problems[k] for k in KINDS}, flat, counts)


# ---------------------------------------------------------------- one run, and the benchmark


@dataclass
class Run:
    """One run of the workload: its calls, the wall time of each timed phase, and its check."""

    calls: list[Call]
    wall_s: dict[str, float]
    checked: Checked
    pool: str
    database: str


@dataclass
class Played:
    """What :func:`play` leaves: the database still open, for :func:`check_run`."""

    world: World
    calls: list[Call]
    wall_s: dict[str, float]
    costs: dict[int, int]
    race_quota: int


def play(url: str, users: int, actions: int, concurrent: bool) -> Played:
    """Set up the fresh database at ``url`` and run the three timed phases; the caller disposes ``world.store``."""
    world = setup_world(url, users)
    try:
        before, ballots = split_actions(actions)
        board = Board()
        wall: dict[str, float] = {}
        calls, wall["proposals_open"] = run_steps([proposal_steps(world, i, before, board) for i in range(users)], concurrent)
        costs = to_voting(world)
        ballot_ids = sorted(costs)
        vote_calls, wall["voting"] = run_steps([vote_steps(world, i, ballots, ballot_ids) for i in range(users)], concurrent)
        candidates, race_quota = to_allocation(world, costs, users)
        approve_calls, wall["allocation"] = run_steps([approve_steps(world, a, pid) for a, pid in enumerate(candidates)], concurrent)
    except BaseException:
        world.store.dispose()
        raise
    return Played(world, calls + vote_calls + approve_calls, wall, costs, race_quota)


def run_workload(engine: str, users: int, actions: int, concurrent: bool) -> Run:
    """Play the workload on a throwaway database of ``engine``, check the invariants, drop the database."""
    with throwaway_database(engine) as url:
        played = play(url, users, actions, concurrent)
        store = played.world.store
        try:
            checked = check_run(played.world, played.calls, played.costs, VOTE_QUOTA_KRW, played.race_quota)
            return Run(played.calls, played.wall_s, checked, store.engine.pool.status(), server_version(store))
        finally:
            store.dispose()


def _latency_ms(calls: list[Call]) -> tuple[float, float]:
    if not calls:
        return float("nan"), float("nan")
    p50, p95 = np.percentile([c.seconds * 1000.0 for c in calls], [50, 95])
    return float(p50), float(p95)


def _rows(scale: Scale, engine: str, users: int, ours: Run, base: Run) -> list[dict[str, Any]]:
    """The rows of one user count: throughput of everything, then throughput, p50 and p95 per kind."""
    actions = scale.concurrency_actions
    total_ours, total_base = sum(ours.wall_s.values()), sum(base.wall_s.values())
    errors = [c.error for c in ours.calls + base.calls if c.outcome.startswith("error:")][:5]
    common = {
        "database": ours.database,
        "engine": engine,
        "users": users,
        "actions_per_user": actions,
        "threads_share_one_store": True,
        "pool_after_run": ours.pool,
        "wall_s": {"concurrent": ours.wall_s, "serial": base.wall_s},
    }
    check_all = all(ours.checked.ok.values()) and all(base.checked.ok.values())
    rows = [
        make_row(
            BENCHMARK,
            f"{engine}: all actions",
            scale.name,
            users,
            "throughput",
            "actions/s",
            len(ours.calls) / total_ours,
            len(base.calls) / total_base,
            check=check_all,
            runs=1,
            details={
                **common,
                "calls": {"concurrent": len(ours.calls), "serial": len(base.calls)},
                "problems": {"concurrent": ours.checked.problems[:10], "serial": base.checked.problems[:10]},
                "errors": errors,
            },
        )
    ]
    for kind in KINDS:
        mine = [c for c in ours.calls if c.kind == kind]
        theirs = [c for c in base.calls if c.kind == kind]
        phase = PHASE_OF[kind]
        ok = ours.checked.ok[kind] and base.checked.ok[kind]
        details = {
            "phase": phase,
            "outcomes": {"concurrent": ours.checked.counts[kind], "serial": base.checked.counts[kind]},
            "database": ours.database,
        }
        p50, p95 = _latency_ms(mine)
        b50, b95 = _latency_ms(theirs)
        case = f"{engine}: {kind}"
        rows += [
            make_row(BENCHMARK, case, scale.name, users, "throughput", "actions/s", len(mine) / ours.wall_s[phase],
                     len(theirs) / base.wall_s[phase], check=ok, runs=1, details=details),
            make_row(BENCHMARK, case, scale.name, users, "p50_ms", "ms", p50, b50, check=ok, runs=1, details=details),
            make_row(BENCHMARK, case, scale.name, users, "p95_ms", "ms", p95, b95, check=ok, runs=1, details=details),
        ]
    return rows


def bench_concurrency(scale: str | Scale = "quick") -> list[dict[str, Any]]:
    """Run the concurrent-use benchmark for each user count of the scale; returns its rows.

    Parameters
    ----------
    scale : str or Scale
        ``scale.concurrency_users`` (numbers of simulated residents),
        ``scale.concurrency_actions`` (actions per resident) and ``scale.db``
        (``"postgis"`` or ``"sqlite"``: the engine of the throwaway databases).

    Returns
    -------
    list of dict
        Per user count (``n``): ``<engine>: all actions`` throughput, then
        for each action kind (``submit``, ``support``, ``comment``, ``vote``,
        ``approve``) its throughput in its phase and its p50 and p95
        latency. ``ours`` = N threads at once, ``baseline`` = one thread doing
        the same; ``check`` = the run's invariants (both runs) held.
    """
    sc = get_scale(scale)
    rows: list[dict[str, Any]] = []
    for users in sc.concurrency_users:
        base = run_workload(sc.db, users, sc.concurrency_actions, concurrent=False)
        ours = run_workload(sc.db, users, sc.concurrency_actions, concurrent=True)
        rows += _rows(sc, sc.db, users, ours, base)
    return rows
