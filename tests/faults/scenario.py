"""Data the fault tests start from, prepared through the services as tests/planning/test_budget.py does.

Plain functions (no fixtures) so the kill tests and the outage tests share
them, and a :func:`snapshot` of every table to compare a store before and
after a fault.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import select, text

from planning.accounts import register
from planning.budget import (
    advance_phase,
    create_cycle,
    publish_quotas,
    review_proposal,
    set_quotas_by_rule,
)
from planning.geography import install_reference_data
from planning.proposals import submit_proposal
from store import Store
from store.models import Base

HAENGSIN1 = "4128164000"  # 행신1동
LON, LAT = 126.833004, 37.622148  # 행신1동's representative point
PW = "correct horse battery"
M = 1_000_000


def square(i: int) -> dict:
    """A small square in 행신1동, the ``i``-th one along a row (no two overlap)."""
    x = LON + 0.0005 * i
    return {"type": "Polygon", "coordinates": [[[x, LAT], [x + 0.0003, LAT], [x + 0.0003, LAT + 0.0003], [x, LAT + 0.0003], [x, LAT]]]}


ACCOUNTS = {  # username, display name, home district, role
    "admin": ("admin", "관리자", None, "admin"),
    "planner": ("planner", "이기획", None, "planner"),
    "r1": ("minji", "민지", HAENGSIN1, "resident"),
    "r2": ("junho", "준호", HAENGSIN1, "resident"),
}


def people(store: Store, *who: str) -> dict[str, int]:
    """Reference data and the accounts ``who`` (default: all of :data:`ACCOUNTS`); returns their ids.

    Each registration hashes a password (argon2, about a second on a busy
    machine): tests ask only for the accounts they use.
    """
    install_reference_data(store)
    ids = {}
    for key in who or ACCOUNTS:
        username, name, home, role = ACCOUNTS[key]
        ids[key] = register(store, username, PW, name, home, role=role)
    return ids


def voting_cycle(store: Store, ids: dict[str, int]) -> tuple[int, list[int]]:
    """A cycle in the voting phase with three reviewed proposals of 행신1동; returns (cycle id, proposal ids)."""
    admin = ids["admin"]
    cid = create_cycle(store, admin, 2027)
    set_quotas_by_rule(store, admin, cid, 4_400 * M, 50 * M, Fraction(2, 5))
    publish_quotas(store, admin, cid)
    pids = [submit_proposal(store, ids["r1"], square(i), f"제안 {i}", "설명", "environment", "area", 10 * M) for i in range(3)]
    assert advance_phase(store, admin, cid) == "review"
    for pid in pids:
        review_proposal(store, ids["planner"], cid, pid, feasible=True, official_cost_krw=10 * M, construction=False)
    assert advance_phase(store, admin, cid) == "assemblies"
    assert advance_phase(store, admin, cid) == "voting"
    return cid, pids


def snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every table (as text, sorted): two snapshots are equal when nothing at all changed."""
    out: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
    return out


def counts(snap: dict[str, list[str]]) -> dict[str, int]:
    """Row counts of a :func:`snapshot`, tables with rows only."""
    return {name: len(rows) for name, rows in snap.items() if rows}


def sqlite_integrity(store: Store) -> str:
    """``PRAGMA integrity_check`` of a SQLite store ("ok" when sound)."""
    with store.engine.connect() as conn:
        return str(conn.execute(text("PRAGMA integrity_check")).scalar())


def other_backends(store: Store) -> list[dict[str, Any]]:
    """PostgreSQL backends on the store's database other than the caller's, with their state and locks held."""
    sql = text(
        "SELECT a.pid, a.state, a.query, (SELECT count(*) FROM pg_locks l WHERE l.pid = a.pid) AS locks "
        "FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
    )
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sql)]
