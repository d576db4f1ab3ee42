"""Persistence: models, engines (SQLite, PostGIS), repositories, migrations.

Nothing outside this package imports SQLAlchemy. Open a store and work in
transactions::

    from store import Store

    store = Store.open()                      # settings' database, migrated
    with store.transaction() as tx:           # commit on success, rollback on error
        p = tx.proposals.add(title=..., geometry=shapely_geometry, ...)
        tx.supports.add(p.id, resident_id)

Geometries go in and come out as shapely objects in lon/lat (EPSG:4326).
"""
from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from store.engine import make_engine
from store.errors import (
    AlreadySupported,
    DatabaseUnavailable,
    NotFound,
    SchemaNotCurrent,
    UsernameTaken,
    is_connection_failure,
)
from store.models import (
    BUDGET_PHASES,
    PROPOSAL_KINDS,
    ROLES,
    AllocationResult,
    Assembly,
    AuditEntry,
    BudgetCycle,
    Centre,
    Comment,
    District,
    Proposal,
    Quota,
    Resident,
    Review,
    StatusChange,
    Support,
    Village,
    Vote,
)
from store.repositories import BBox, ProposalSummary, UnitOfWork
from store.versions import raise_versions, read_versions, track_writes

__all__ = [
    "BUDGET_PHASES",
    "PROPOSAL_KINDS",
    "AllocationResult",
    "Assembly",
    "AuditEntry",
    "BudgetCycle",
    "Quota",
    "Review",
    "Vote",
    "ROLES",
    "AlreadySupported",
    "DatabaseUnavailable",
    "BBox",
    "Centre",
    "Comment",
    "District",
    "NotFound",
    "SchemaNotCurrent",
    "Proposal",
    "ProposalSummary",
    "Resident",
    "StatusChange",
    "Store",
    "Support",
    "UnitOfWork",
    "UsernameTaken",
    "Village",
]

#: Seconds to wait before each new attempt to connect when a transaction cannot get a
#: connection (PostgreSQL only; SQLite's busy timeout already waits): about 1.5 s in all.
CONNECT_RETRY_DELAYS_S: tuple[float, ...] = (0.1, 0.4, 1.0)


def _rollback_quietly(session: Session) -> None:
    """Roll ``session`` back; a connection already lost cannot roll back, and the server drops its transaction anyway."""
    try:
        session.rollback()
    except Exception:  # noqa: BLE001 - the error being handled is the one to report
        pass


class Store:
    """The project's database: a SQLite file or PostgreSQL with PostGIS.

    Create it with :meth:`open`; keep one per process (Streamlit:
    ``st.cache_resource``) and call :meth:`dispose` when done.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Objects must stay readable after their transaction: pages render them.
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        track_writes(self._sessions)

    @classmethod
    def open(cls, url: str | URL | None = None, migrate: bool = True) -> Store:
        """Open the database at ``url`` (default: ``settings.get_settings().database_url``).

        With ``migrate`` (the default) pending migrations are applied first,
        so a new SQLite file is created with the whole schema on first use.
        Without it the schema must already be current
        (:class:`~store.errors.SchemaNotCurrent` otherwise): several instances
        sharing a database leave migrating to one release step.
        """
        engine = make_engine(url)
        from store.migrate import current_revision, head_revision, upgrade  # alembic is only needed here

        if migrate:
            upgrade(engine)
        elif (found := current_revision(engine)) != (expected := head_revision()):
            engine.dispose()
            raise SchemaNotCurrent(found, expected)
        return cls(engine)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations and the store's own tests)."""
        return self._engine

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def url(self) -> URL:
        """The database URL: hashable (a cache key per database); ``str()`` masks the password."""
        return self._engine.url

    @property
    def url_display(self) -> str:
        """The database URL with any password masked, for messages and logs."""
        return self._engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A unit of work in one transaction: committed when the block ends, rolled back if it raises.

        The connection is taken before the block runs; on PostgreSQL a
        failure to get one (server restarting, network cut) is retried after
        :data:`CONNECT_RETRY_DELAYS_S`, and pooled connections the server
        dropped are replaced (``pool_pre_ping``). Once the block has begun
        nothing is re-run: a connection lost inside the block or during the
        COMMIT rolls back and raises :class:`~store.errors.DatabaseUnavailable`
        (``commit_unknown`` when the COMMIT may have reached the server), so
        a caller never stores a submission twice behind the resident's back.
        """
        with self._sessions() as session:
            self._connect(session)
            committing = False
            try:
                yield UnitOfWork(session)
                raise_versions(session)
                committing = True
                session.commit()
            except BaseException as err:
                _rollback_quietly(session)
                if is_connection_failure(err):
                    raise DatabaseUnavailable(commit_unknown=committing) from err
                raise

    def _connect(self, session: Session) -> None:
        """Begin ``session``'s transaction on a live connection, retrying connection failures (PostgreSQL)."""
        delays = CONNECT_RETRY_DELAYS_S if self.backend == "postgresql" else ()
        for attempt in range(len(delays) + 1):
            try:
                session.connection()
                return
            except Exception as err:
                _rollback_quietly(session)
                if not is_connection_failure(err):
                    raise
                if attempt == len(delays):
                    raise DatabaseUnavailable() from err
                time.sleep(delays[attempt])

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Run the block while no other process sharing the database runs an ``exclusive`` block of ``name``.

        For set-up steps several app instances may start at once (installing
        the reference data): a PostgreSQL session advisory lock keyed on
        ``name``. On SQLite every transaction already takes the write lock
        first (``BEGIN IMMEDIATE``), so check-then-insert cannot interleave.
        """
        if self.backend != "postgresql":
            yield
            return
        key = zlib.crc32(f"goyang:{name}".encode()) - 2**31  # a signed 32-bit key
        with self._engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()

    def data_versions(self, *tables: str) -> tuple[int, ...] | dict[str, int]:
        """The tables' change counters (:mod:`store.versions`): a cache key that any writer invalidates.

        With table names: their counters as a tuple, in the order given (0 for
        a table never written); without: every counter as ``{name: version}``.
        One small query; read it before the data you cache.
        """
        try:
            with self._sessions() as session:
                versions = read_versions(session)
        except Exception as err:
            if is_connection_failure(err):
                raise DatabaseUnavailable() from err
            raise
        if not tables:
            return versions
        return tuple(versions.get(name, 0) for name in tables)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()
