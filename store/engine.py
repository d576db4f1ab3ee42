"""Engines for the two supported databases: a SQLite file and PostgreSQL/PostGIS."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from settings import get_settings

# Plain PostgreSQL URLs name no driver (SQLAlchemy would pick psycopg2, which
# is not installed); the store speaks psycopg 3.
_POSTGRES_DRIVERLESS = {"postgres", "postgresql"}


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
    then emits ``BEGIN`` itself, because Python's sqlite3 module otherwise
    delays it and breaks SAVEPOINTs (see SQLAlchemy's SQLite dialect docs,
    "Serializable isolation / Savepoints / Transactional DDL").
    """
    parsed = normalise_url(url if url is not None else get_settings().database_url)
    path = sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "postgresql":
        # Streamlit keeps the engine for the life of the process; drop
        # connections the server closed meanwhile instead of failing a page.
        kwargs.setdefault("pool_pre_ping", True)
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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")
