"""A process killed (SIGKILL) in the middle of a submission, a vote or an allocation leaves no half-written record.

Each test runs the real service in a child process (``kill_child.py``) that
freezes at a chosen point of its transaction (after some rows reached the
database, before COMMIT, inside COMMIT, right after COMMIT) and writes a
marker; the test then kills it with SIGKILL and opens the store again. On
both engines (a SQLite file and PostGIS) it checks that every table is
exactly as before (no proposal without its status history, no ballot
without its votes, no partial allocation, no raised data-version counter),
or, when the COMMIT had returned, that the whole record is there; that
SQLite's integrity check passes and that PostgreSQL holds no locks of the
dead backend; and that the next action succeeds.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scenario import HAENGSIN1, counts, other_backends, people, snapshot, sqlite_integrity, square, voting_cycle

from planning.budget import advance_phase, allocation_results, ballot_status, cast_votes, run_allocation
from planning.proposals import submit_proposal
from store import Store

CHILD = Path(__file__).with_name("kill_child.py")


def kill_at(store: Store, tmp_path: Path, action: str, point: str, args: dict) -> list[str]:
    """Run ``action`` in a child process, SIGKILL it at ``point``; returns the statements it had sent."""
    marker = tmp_path / f"{action}-{point.replace(':', '_')}.marker"
    url = store.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), url, action, point, str(marker), json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the child ended (status {child.returncode}) before {point}: {child.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the child did not reach {point} within 60 s")
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    settle(store)
    return marker.read_text(encoding="utf-8").splitlines()


def settle(store: Store) -> None:
    """Wait until the database has let go of the killed process: its locks released, its backend gone.

    On PostgreSQL the server notices the closed socket and ends the backend;
    on SQLite the operating system drops the dead process's file locks.
    """
    if store.backend == "sqlite":
        assert sqlite_integrity(store) == "ok"
        return
    deadline = time.monotonic() + 30
    while True:
        busy = [b for b in other_backends(store) if b["state"] != "idle" or b["locks"]]
        if not busy:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"PostgreSQL still holds the killed transaction 30 s later: {busy}")
        time.sleep(0.1)


def wrote(statements: list[str], table: str) -> bool:
    """True when one of ``statements`` wrote ``table``."""
    name = table.upper()
    return any(s.upper().startswith((f"INSERT INTO {name} ", f"UPDATE {name} ", f"DELETE FROM {name} ")) for s in statements)


def test_a_killed_submission_stores_all_or_nothing(store: Store, tmp_path: Path) -> None:
    ids = people(store, "r1")
    before = snapshot(store)
    versions = store.data_versions()
    args = {"author": ids["r1"], "geometry": square(0), "title": "죽은 제안"}

    # In the middle: the proposal row was inserted, its status history not yet.
    sent = kill_at(store, tmp_path, "submit", "write:1", args)
    assert wrote(sent, "proposals") and not wrote(sent, "status_changes")
    assert snapshot(store) == before and store.data_versions() == versions

    # Inside the commit, before the driver sent COMMIT: every row was written, none is kept.
    sent = kill_at(store, tmp_path, "submit", "commit", args)
    assert wrote(sent, "proposals") and wrote(sent, "status_changes") and wrote(sent, "data_versions")
    assert snapshot(store) == before and store.data_versions() == versions

    # Right after COMMIT returned: the whole record is there, with its history and raised counters.
    kill_at(store, tmp_path, "submit", "after_commit", args)
    after = snapshot(store)
    assert counts(after) == {**counts(before), "proposals": 1, "status_changes": 1}
    with store.transaction() as tx:
        [proposal] = tx.proposals.list()
        history = tx.history.list_for(proposal.id)
    assert proposal.title == "죽은 제안" and proposal.status == "submitted"
    assert [(h.from_status, h.to_status) for h in history] == [(None, "submitted")]
    new_versions = store.data_versions()
    assert new_versions["proposals"] == versions.get("proposals", 0) + 1
    assert new_versions["status_changes"] == versions.get("status_changes", 0) + 1

    # The store goes on working: the next submission is stored once.
    submit_proposal(store, ids["r1"], square(1), "다음 제안", "설명", "environment", "area", 10_000_000)
    assert counts(snapshot(store))["proposals"] == 2


def test_a_killed_vote_or_allocation_leaves_the_cycle_as_it_was(store: Store, tmp_path: Path) -> None:
    ids = people(store)
    cid, (pa, pb, pc) = voting_cycle(store, ids)
    assert cast_votes(store, ids["r1"], cid, [pa, pb]) == sorted([pa, pb])
    before = snapshot(store)
    versions = store.data_versions()

    # Vote: the old ballot was deleted and the first new vote inserted, then the process died.
    sent = kill_at(store, tmp_path, "vote", "write:2", {"resident": ids["r1"], "cycle": cid, "proposals": [pc]})
    assert wrote(sent, "votes")
    assert snapshot(store) == before and store.data_versions() == versions
    assert ballot_status(store, ids["r1"], cid).proposal_ids == sorted([pa, pb])
    assert cast_votes(store, ids["r1"], cid, [pb, pc]) == sorted([pb, pc])
    assert cast_votes(store, ids["r2"], cid, [pa]) == [pa]
    assert ballot_status(store, ids["r1"], cid).proposal_ids == sorted([pb, pc])

    # Allocation: every result row and the audit entry were written; the process died before COMMIT.
    assert advance_phase(store, ids["admin"], cid) == "allocation"
    before = snapshot(store)
    versions = store.data_versions()
    sent = kill_at(store, tmp_path, "allocate", "before_commit", {"admin": ids["admin"], "cycle": cid})
    assert wrote(sent, "allocation_results") and wrote(sent, "audit_log")
    assert snapshot(store) == before and store.data_versions() == versions
    assert allocation_results(store, cid) == []

    decisions = run_allocation(store, ids["admin"], cid)
    stored = allocation_results(store, cid)
    assert len(stored) == len(decisions) > 0
    assert {r.proposal_id for r in stored if r.selected and r.district_code == HAENGSIN1} == {pa, pb, pc}
