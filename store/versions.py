"""Data versions: which tables a transaction wrote, raised in ``data_versions`` at its commit.

Every process sharing the database (several app instances behind a load
balancer, the CLI, a migration) sees the same counters, so a cache keyed on
them (``ui/`` keys its caches on :meth:`store.Store.data_versions`) is
invalidated by a write from any of them, and only for the tables written.

How the tables are found: the store's sessions report every flush (objects
added, changed or deleted: their mapped tables) and every ORM-enabled
``insert``/``update``/``delete`` statement (its target table). At the end of
a successful :meth:`store.Store.transaction` the touched tables' counters are
raised by one, in name order (two committing transactions lock the counter
rows in the same order: no deadlock), as the transaction's last statements,
so the row locks on the counters are held only for the commit itself.

Readers read the counters *before* the data they cache: a result cached under
version ``v`` is then never older than ``v``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from store.models import DataVersion

TOUCHED_KEY = "goyang_touched_tables"


def _tables_of(objects: Any) -> set[str]:
    names: set[str] = set()
    for obj in objects:
        table = getattr(type(obj), "__table__", None)
        if table is not None:
            names.add(str(table.name))
    return names


def track_writes(factory: sessionmaker) -> None:
    """Make sessions from ``factory`` record the tables they write (``session.info``)."""

    @event.listens_for(factory, "before_flush")
    def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
        touched = session.info.setdefault(TOUCHED_KEY, set())
        touched |= _tables_of(session.new) | _tables_of(session.deleted)
        touched |= _tables_of(obj for obj in session.dirty if session.is_modified(obj))

    @event.listens_for(factory, "do_orm_execute")
    def _orm_execute(state: Any) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            name = getattr(table, "name", None)
            if name:
                state.session.info.setdefault(TOUCHED_KEY, set()).add(str(name))

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(TOUCHED_KEY, None)


def raise_versions(session: Session) -> list[str]:
    """Flush, then raise the counters of every table the session wrote; returns their names.

    Call it as the last thing in the transaction, just before the commit.
    """
    session.flush()
    touched = sorted(session.info.pop(TOUCHED_KEY, set()) - {DataVersion.__tablename__})
    for name in touched:
        stmt = update(DataVersion).where(DataVersion.name == name).values(version=DataVersion.version + 1)
        if session.execute(stmt, execution_options={"synchronize_session": False}).rowcount == 0:
            # a table created after the seeding migration: its first counter
            session.execute(insert(DataVersion).values(name=name, version=1))
    session.info.pop(TOUCHED_KEY, None)  # the statements above are not writes of their own
    return touched


def read_versions(session: Session) -> dict[str, int]:
    """Every table's counter, ``{name: version}``."""
    return {str(n): int(v) for n, v in session.execute(select(DataVersion.name, DataVersion.version))}
