"""Smoke test of the concurrency benchmark: a tiny run on each engine gives well-formed rows whose checks pass.

Not a timing test: nothing here asserts on speed. The invariants the
benchmark checks are real (a lost write, a duplicate, an overshoot or an
error such as "database is locked" makes ``check`` False), so these tests
fail when concurrent use breaks.
"""
from __future__ import annotations

import dataclasses
import json
import math

import pytest

from bench.concurrency import KINDS, Call, bench_concurrency, check_run, split_actions
from bench.rows import ROW_FIELDS
from bench.scales import Scale

TINY = Scale(
    "smoke", linking_sizes=(200,), map_sizes=(200,), naive_max=200, repeats=1, budget_s=0.0, db="sqlite",
    concurrency_users=(3,), concurrency_actions=4,
)


def check_rows(rows: list[dict], engine: str, users: int) -> None:
    cases = [f"{engine}: all actions"] + [f"{engine}: {k}" for k in KINDS]
    assert [r["case"] for r in rows] == [cases[0]] + [c for c in cases[1:] for _ in range(3)]
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert (row["benchmark"], row["scale"], row["n"]) == ("concurrency", "smoke", users)
        assert isinstance(row["ours"], float) and math.isfinite(row["ours"]) and row["ours"] > 0
        assert isinstance(row["baseline"], float) and math.isfinite(row["baseline"]) and row["baseline"] > 0
        assert row["ratio"] == pytest.approx(row["baseline"] / row["ours"])
        assert row["check"] is True, row["details"]
        json.dumps(row, default=str)
    assert {r["metric"] for r in rows} == {"throughput", "p50_ms", "p95_ms"}
    for row in rows[1:]:
        if row["metric"] == "p95_ms":
            p50 = next(r for r in rows if r["case"] == row["case"] and r["metric"] == "p50_ms")
            assert row["ours"] >= p50["ours"] and row["baseline"] >= p50["baseline"]
    everything = rows[0]["details"]
    before, votes = split_actions(4)
    assert everything["calls"] == {"concurrent": users * (before + votes) + users, "serial": users * (before + votes) + users}
    assert everything["problems"] == {"concurrent": [], "serial": []} and everything["errors"] == []
    for row in rows[1:]:
        outcomes = row["details"]["outcomes"]
        assert outcomes["concurrent"] and outcomes["serial"]
        assert not any(o.startswith("error") for o in (*outcomes["concurrent"], *outcomes["serial"]))
    approve = next(r for r in rows if r["case"].endswith("approve"))["details"]["outcomes"]
    # the last-quota race: one of three approvals fits, whatever the order
    assert approve["concurrent"] == approve["serial"] == {"ok": 1, "quota_exceeded": 2}


def test_concurrency_smoke_sqlite():
    rows = bench_concurrency(TINY)
    check_rows(rows, "sqlite", 3)


@pytest.mark.postgis
def test_concurrency_smoke_postgis():
    from bench.database import DatabaseUnavailable
    from tests.conftest import _postgis_unavailable

    try:
        rows = bench_concurrency(dataclasses.replace(TINY, db="postgis"))
    except DatabaseUnavailable as err:
        _postgis_unavailable(str(err))
    check_rows(rows, "postgis", 3)


def test_split_actions():
    assert split_actions(4) == (3, 1) and split_actions(20) == (15, 5) and split_actions(1) == (0, 1)


def test_the_check_catches_lost_writes_duplicates_and_overshoot():
    """The check passes on a real run, and fails once the database and the calls disagree."""
    from bench.concurrency import VOTE_QUOTA_KRW, play
    from bench.database import throwaway_database

    with throwaway_database("sqlite") as url:
        played = play(url, 3, 8, concurrent=True)
        world, calls, costs, quota = played.world, played.calls, played.costs, played.race_quota
        try:
            good = check_run(world, calls, costs, VOTE_QUOTA_KRW, quota)
            assert all(good.ok.values()) and good.problems == [], good.problems
            assert set(good.counts) == set(KINDS) and good.counts["submit"] == {"ok": 6}

            # a support reported as accepted that is not stored: a lost write
            hot = world.hot[0]
            lost = Call("support", actor=world.admin, target=hot, seconds=0.0, outcome="ok", value=1)
            bad = check_run(world, [*calls, lost], costs, VOTE_QUOTA_KRW, quota)
            assert bad.ok["support"] is False and all(bad.ok[k] for k in KINDS if k != "support")

            # an error that is not a refusal (as "database is locked" was on SQLite) fails its kind
            locked = Call("comment", actor=world.residents[1], target=hot, seconds=0.0, outcome="error:OperationalError", error="database is locked")
            assert check_run(world, [*calls, locked], costs, VOTE_QUOTA_KRW, quota).ok["comment"] is False

            store = world.store
            with store.engine.begin() as conn:  # behind the services' back: a vote row goes missing
                conn.exec_driver_sql(f"DELETE FROM votes WHERE id = (SELECT MIN(id) FROM votes WHERE cycle_id = {world.cycle_id})")
            assert check_run(world, calls, costs, VOTE_QUOTA_KRW, quota).ok["vote"] is False

            # a selection stored over the district's quota
            spare = next(p for p in sorted(costs) if p not in {c.target for c in calls if c.kind == "approve" and c.outcome == "ok"})
            with store.engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO allocation_results (cycle_id, proposal_id, district_code, selected, rank, votes, cost_krw, code, "
                    f"reason_ko, reason_en, computed_at) VALUES ({world.cycle_id}, {spare}, '4128164000', 1, 0, 0, {quota + 1}, "
                    "'approved', '', '', '2027-01-01 00:00:00')"
                )
            over = check_run(world, calls, costs, VOTE_QUOTA_KRW, quota)
            assert over.ok["approve"] is False and any("over their quota" in p for p in over.problems)
        finally:
            world.store.dispose()
