"""Alembic environment of the store, for SQLite and PostgreSQL/PostGIS.

Normally run through :mod:`store.migrate`, which passes an open connection in
``config.attributes["connection"]``; otherwise it connects to
``config.attributes["url"]`` (default: the settings' database URL).

GeoAlchemy2's ``alembic_helpers`` give the ``include_object`` filter and
``render_item`` (see :func:`store.migrate.context_options`). Its ``writer``
is deliberately not installed: it rewrites operations on geometry columns
into ``add_geospatial_column`` and friends, which on SQLite call SpatiaLite
functions and fail with our BLOB-backed type (checked with GeoAlchemy2
0.20). Without it, autogenerate emits plain ``add_column`` /
``create_table`` with :class:`store.types.ShapelyGeometry`, which adapts to
either engine; it also cannot duplicate the GiST index, because the type
leaves index creation to the explicit ``idx_<table>_geometry`` indexes.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from store.engine import make_engine
from store.migrate import context_options

config = context.config


def run_migrations(connection: Connection) -> None:
    """Configure the context on ``connection`` and run the pending migrations."""
    context.configure(connection=connection, **context_options(connection))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them on a database")

connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(config.attributes.get("url"))
    try:
        with engine.begin() as conn:
            run_migrations(conn)
    finally:
        engine.dispose()
