"""Schema migrations (Alembic), run from code on SQLite and PostGIS alike.

No ``alembic.ini`` is needed: :func:`alembic_config` builds the configuration
in code. From a shell::

    python -m store.migrate upgrade [URL]          # apply all migrations
    python -m store.migrate current [URL]          # show the applied revision
    python -m store.migrate check [URL]            # do models and database agree?
    python -m store.migrate revision -m "what" [URL]   # autogenerate a new one

``URL`` defaults to ``settings.get_settings().database_url``.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from store.engine import make_engine
from store.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: PostgreSQL advisory lock held while migrating (any constant unique to this application).
MIGRATION_LOCK_KEY = 0x60_1A_46_01


def head_revision() -> str:
    """The newest migration's revision (what :func:`upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def include_object_for(dialect_name: str) -> Callable[..., bool]:
    """The ``include_object`` filter for autogenerate on a ``dialect_name`` database.

    GeoAlchemy2's filter drops the spatial extensions' own tables
    (``spatial_ref_sys``, ...). On engines other than PostgreSQL the models'
    PostgreSQL-only (GiST) indexes are left out too: they are declared with
    ``ddl_if(dialect="postgresql")``, which Alembic does not look at.
    """

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if not alembic_helpers.include_object(obj, name, type_, reflected, compare_to):
            return False
        if type_ == "index" and not reflected and dialect_name != "postgresql":
            return not obj.dialect_options["postgresql"].get("using")
        return True

    return include_object


def context_options(connection: Connection) -> dict[str, Any]:
    """Options for ``context.configure`` shared by env.py and :func:`compare`."""
    return {
        "target_metadata": Base.metadata,
        "include_object": include_object_for(connection.dialect.name),
        "render_item": alembic_helpers.render_item,
        "compare_type": True,
        # SQLite can alter tables only by copying them; batch mode does that.
        "render_as_batch": connection.dialect.name == "sqlite",
    }


def alembic_config(connection: Connection | None = None, url: str | URL | None = None) -> Config:
    """An Alembic ``Config`` for the store's migrations, built in code.

    Parameters
    ----------
    connection : Connection, optional
        Run on this connection (in its transaction); env.py uses it.
    url : str or URL, optional
        Otherwise connect to this URL (default: the settings' database URL).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as attributes, not main options: configparser would choke on
    # '%' in URL-encoded passwords.
    cfg.attributes["connection"] = connection
    cfg.attributes["url"] = url
    return cfg


def _engine_of(engine_or_url: Engine | str | URL | None) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def upgrade(engine_or_url: Engine | str | URL | None = None, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: all), like ``alembic upgrade head``.

    Runs in one transaction: on PostgreSQL and SQLite a failed migration
    leaves the schema as it was. Running it again when up to date does nothing.
    Concurrent calls (app instances starting together) run one after the
    other: a PostgreSQL advisory lock on PostgreSQL, SQLite's write lock
    (``BEGIN IMMEDIATE``) on SQLite.
    """
    engine, owned = _engine_of(engine_or_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Several app instances may start at once against one database: the first to
                # take this lock migrates, the others wait, then find the schema up to date.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), revision)
    finally:
        if owned:
            engine.dispose()


def downgrade(engine_or_url: Engine | str | URL | None, revision: str) -> None:
    """Undo migrations down to ``revision`` (``"base"`` for an empty schema), in one transaction.

    For development and the migration tests; data in dropped tables and
    columns is lost.
    """
    engine, owned = _engine_of(engine_or_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), revision)
    finally:
        if owned:
            engine.dispose()


def current_revision(engine_or_url: Engine | str | URL | None = None) -> str | None:
    """The revision the database is at, or None before the first migration."""
    engine, owned = _engine_of(engine_or_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def compare(engine_or_url: Engine | str | URL | None = None) -> list[Any]:
    """Differences autogenerate finds between the models and the database (empty when in step)."""
    engine, owned = _engine_of(engine_or_url)
    try:
        with engine.connect() as connection:
            options = context_options(connection)
            target = options.pop("target_metadata")
            context = MigrationContext.configure(connection, opts=options)
            return list(compare_metadata(context, target))
    finally:
        if owned:
            engine.dispose()


def revision(message: str, engine_or_url: Engine | str | URL | None = None) -> None:
    """Autogenerate a new migration from the models against an up-to-date database.

    Review it before committing: it is generated for this database's dialect,
    and migrations must run on both SQLite and PostgreSQL.
    """
    engine, owned = _engine_of(engine_or_url)
    try:
        with engine.begin() as connection:
            command.revision(alembic_config(connection), message=message, autogenerate=True)
    finally:
        if owned:
            engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``upgrade``, ``current``, ``check`` or ``revision``."""
    parser = argparse.ArgumentParser(prog="python -m store.migrate", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["upgrade", "current", "check", "revision"])
    parser.add_argument("url", nargs="?", default=None, help="database URL (default: settings)")
    parser.add_argument("-m", "--message", default="change", help="message of a new revision")
    args = parser.parse_intermixed_args(argv)
    if args.action == "upgrade":
        upgrade(args.url)
        print(f"up to date: {current_revision(args.url)}")
    elif args.action == "current":
        print(current_revision(args.url) or "(no migration applied)")
    elif args.action == "check":
        diffs = compare(args.url)
        for diff in diffs:
            print(diff)
        print("models and database agree" if not diffs else f"{len(diffs)} difference(s)")
        return 1 if diffs else 0
    else:
        revision(args.message, args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
