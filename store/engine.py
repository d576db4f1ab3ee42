"""Engines for the two supported databases: a SQLite file and PostgreSQL/PostGIS."""
from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from settings import get_settings

# Plain PostgreSQL URLs name no driver (SQLAlchemy would pick psycopg2, which
# is not installed); the store speaks psycopg 3.
_POSTGRES_DRIVERLESS = {"postgres", "postgresql"}
#: How long a SQLite transaction waits for another connection's write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30.0


def normalise_url(url: str | URL) -> URL:
    """The URL with ``postgresql://`` (or ``postgres://``) rewritten to ``postgresql+psycopg://``."""
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_DRIVERLESS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases and other engines."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default: ``settings.get_settings().database_url``).

    Parameters
    ----------
    url : str or URL, optional
        ``sqlite:///path/to/file.sqlite3`` or ``postgresql://user@host/db``
        (``postgresql://`` is rewritten to ``postgresql+psycopg://``).
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.

    Notes
    -----
    For SQLite the parent directory of the file is created, and each
    connection gets foreign keys enforced and WAL journaling (readers do not
    block the writer: Streamlit serves several sessions at once). SQLAlchemy
    then emits ``BEGIN IMMEDIATE`` itself, because Python's sqlite3 module
    otherwise delays it and breaks SAVEPOINTs (see SQLAlchemy's SQLite
    dialect docs, "Serializable isolation / Savepoints / Transactional DDL").

    ``IMMEDIATE`` takes SQLite's write lock when the transaction begins. With
    a plain (deferred) ``BEGIN`` a transaction reads first and asks for the
    lock at its first write; when another connection wrote meanwhile, SQLite
    cannot upgrade the stale read snapshot and fails at once with "database
    is locked" (``SQLITE_BUSY_SNAPSHOT``: the busy timeout does not apply).
    Concurrent sessions submitting, supporting or voting lost most of their
    writes that way (``bench/concurrency.py``). Now transactions queue for the
    lock, waiting up to :data:`SQLITE_BUSY_TIMEOUT_S`, and run one at a time,
    which is what SQLite does with writers anyway (read-only transactions
    queue too). A transaction a thread opens while it already has one open on
    the same engine (a service called inside another's block) begins
    deferred instead, as before: it reads, and waiting for the lock its own
    thread holds would only time out.
    """
    parsed = normalise_url(url if url is not None else get_settings().database_url)
    path = sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "postgresql":
        # Streamlit keeps the engine for the life of the process; drop
        # connections the server closed meanwhile instead of failing a page.
        kwargs.setdefault("pool_pre_ping", True)
        # Streamlit serves every session of the process on its own thread: size the pool for
        # them (GOYANG_DB_POOL), or concurrent voters wait 30 s for a connection and fail.
        pool = get_settings().db_pool
        kwargs.setdefault("pool_size", pool)
        kwargs.setdefault("max_overflow", pool)
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.get("connect_args", {})}
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop sqlite3 from issuing its own (late) BEGIN; see make_engine.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    # The connections of this engine with a transaction open, per thread.
    open_in_thread = threading.local()

    def _open_here() -> weakref.WeakSet[Any]:
        if not hasattr(open_in_thread, "connections"):
            open_in_thread.connections = weakref.WeakSet()
        return open_in_thread.connections

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE: take the write lock now, not at the first write (see make_engine).
        # A transaction opened while this thread already holds one reads (deferred):
        # waiting for the lock this very thread holds could only time out.
        open_here = _open_here()
        connection.exec_driver_sql("BEGIN" if len(open_here) else "BEGIN IMMEDIATE")
        open_here.add(connection)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Any) -> None:
        _open_here().discard(connection)
