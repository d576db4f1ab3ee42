"""Migrations: run from code on both engines, idempotent, in step with the models."""
from __future__ import annotations

from sqlalchemy import inspect, text
from store_samples import ONLY_POSTGIS, World

from store import Store
from store.migrate import compare, current_revision, main, upgrade

TABLES = {"districts", "centres", "residents", "proposals", "comments", "supports", "status_changes"}


def test_open_migrates_a_new_database(store_url: str) -> None:
    assert current_revision(store_url) is None
    store = Store.open(store_url)
    try:
        assert current_revision(store.engine) == "0001"
        assert TABLES | {"alembic_version"} <= set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()


def test_open_without_migrate_leaves_the_database_alone(store_url: str) -> None:
    store = Store.open(store_url, migrate=False)
    try:
        assert current_revision(store.engine) is None
        assert not TABLES & set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()


def test_migrating_twice_is_a_no_op(world: World) -> None:
    engine = world.store.engine
    tables_before = set(inspect(engine).get_table_names())
    upgrade(engine)
    upgrade(engine.url)  # by URL as well
    Store.open(engine.url).dispose()
    assert current_revision(engine) == "0001"
    assert set(inspect(engine).get_table_names()) == tables_before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    with world.store.transaction() as tx:
        assert tx.districts.count() == 2  # data untouched
        assert tx.residents.get(world.resident_id).username == "minji"


def test_autogenerate_finds_no_difference_between_models_and_migrations(store: Store) -> None:
    assert compare(store.engine) == []


def test_autogenerate_does_notice_a_difference(store: Store) -> None:
    """The comparison above can fail: drop an index and it is reported."""
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_proposals_status"))
    diffs = compare(store.engine)
    assert [d[0] for d in diffs] == ["add_index"]
    assert diffs[0][1].name == "ix_proposals_status"


@ONLY_POSTGIS
def test_the_first_migration_creates_the_postgis_extension(store_url: str) -> None:
    from store.engine import make_engine

    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP EXTENSION postgis"))
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar_one()
            assert conn.execute(text("SELECT ST_SRID(ST_GeomFromText('POINT(126.8 37.6)', 4326))")).scalar_one() == 4326
        assert compare(engine) == []
    finally:
        engine.dispose()


def test_command_line_upgrade_current_and_check(store_url: str, capsys) -> None:
    assert main(["current", store_url]) == 0
    assert "no migration applied" in capsys.readouterr().out
    assert main(["upgrade", store_url]) == 0
    assert "0001" in capsys.readouterr().out
    assert main(["check", store_url]) == 0
    assert "agree" in capsys.readouterr().out


def test_migrations_form_one_line_of_history() -> None:
    """Two heads would mean two migrations written in parallel: merge them."""
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert script.get_revision("0001").down_revision is None
