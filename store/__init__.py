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

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker

from store.engine import make_engine
from store.versions import raise_versions, read_versions, track_writes
from store.errors import AlreadySupported, NotFound, UsernameTaken
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
    "BBox",
    "Centre",
    "Comment",
    "District",
    "NotFound",
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
        """
        engine = make_engine(url)
        if migrate:
            from store.migrate import upgrade  # alembic is only needed here

            upgrade(engine)
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
        """A unit of work in one transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield UnitOfWork(session)
            raise_versions(session)

    def data_versions(self, *tables: str) -> tuple[int, ...] | dict[str, int]:
        """The tables' change counters (:mod:`store.versions`): a cache key that any writer invalidates.

        With table names: their counters as a tuple, in the order given (0 for
        a table never written); without: every counter as ``{name: version}``.
        One small query; read it before the data you cache.
        """
        with self._sessions() as session:
            versions = read_versions(session)
        if not tables:
            return versions
        return tuple(versions.get(name, 0) for name in tables)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()
