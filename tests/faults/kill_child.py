"""Run one service action and freeze at a chosen point of its transaction, for the parent to SIGKILL.

Run by tests/faults/test_kill.py as a separate process::

    python tests/faults/kill_child.py URL ACTION POINT MARKER ARGS_JSON

ACTION is ``submit``, ``vote`` or ``allocate``; ARGS_JSON holds the ids the
action needs. POINT says where the process stops: it writes MARKER (the
statements run so far) and sleeps until killed:

``write:N``
    right after the transaction's N-th INSERT, UPDATE or DELETE reached the
    database (the middle of the unit of work);
``before_commit``
    after every statement of the unit of work (and the data-version
    counters), before COMMIT;
``commit``
    inside the commit, just before the driver sends COMMIT;
``after_commit``
    right after the COMMIT returned (before the service returns).

The commit points count only in a transaction that wrote something. If the
point is never reached the process exits with status 3.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from store import Store  # noqa: E402

WRITES = ("INSERT", "UPDATE", "DELETE")


def main(url: str, action: str, point: str, marker: str, args: dict) -> int:
    store = Store.open(url, migrate=False)
    statements: list[str] = []
    writes: list[str] = []

    def freeze() -> None:
        Path(marker + ".tmp").write_text("\n".join(statements), encoding="utf-8")
        os.replace(marker + ".tmp", marker)  # the parent sees the whole file or none
        while True:
            time.sleep(60)

    @event.listens_for(store.engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(" ".join(statement.split())[:100])
        if statement.lstrip().upper().startswith(WRITES):
            writes.append(statement)
            if point == f"write:{len(writes)}":
                freeze()

    def freeze_if_written(*_: object) -> None:
        if writes:  # the service's read-only transactions (e.g. the placement) pass
            freeze()

    if point == "before_commit":
        event.listen(Session, "before_commit", freeze_if_written)
    elif point == "commit":
        event.listen(store.engine, "commit", freeze_if_written)
    elif point == "after_commit":
        event.listen(Session, "after_commit", freeze_if_written)

    if action == "submit":
        from planning.proposals import submit_proposal

        submit_proposal(store, args["author"], args["geometry"], args["title"], "설명", "environment", "area", 10_000_000)
    elif action == "vote":
        from planning.budget import cast_votes

        cast_votes(store, args["resident"], args["cycle"], args["proposals"])
    elif action == "allocate":
        from planning.budget import run_allocation

        run_allocation(store, args["admin"], args["cycle"])
    else:
        raise SystemExit(f"unknown action {action!r}")
    return 3  # the freeze point was never reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])))
