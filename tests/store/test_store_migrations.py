"""Migrations: run from code on both engines, idempotent, in step with the models."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from store_samples import HEAD, ONLY_POSTGIS, World

from store import Store
from store.engine import make_engine
from store.migrate import compare, current_revision, downgrade, main, upgrade

TABLES = {"districts", "centres", "residents", "proposals", "comments", "supports", "status_changes", "villages"}


def test_open_migrates_a_new_database(store_url: str) -> None:
    assert current_revision(store_url) is None
    store = Store.open(store_url)
    try:
        assert current_revision(store.engine) == HEAD
        assert TABLES | {"alembic_version"} <= set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()


def test_open_without_migrate_leaves_the_database_alone(store_url: str) -> None:
    """Without migrating, an empty database is refused (SchemaNotCurrent) and left as it was."""
    from store import SchemaNotCurrent
    from store.engine import make_engine

    with pytest.raises(SchemaNotCurrent):
        Store.open(store_url, migrate=False)
    engine = make_engine(store_url)
    try:
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrating_twice_is_a_no_op(world: World) -> None:
    engine = world.store.engine
    tables_before = set(inspect(engine).get_table_names())
    upgrade(engine)
    upgrade(engine.url)  # by URL as well
    Store.open(engine.url).dispose()
    assert current_revision(engine) == HEAD
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
    assert HEAD in capsys.readouterr().out
    assert main(["check", store_url]) == 0
    assert "agree" in capsys.readouterr().out


def test_migrations_form_one_line_of_history() -> None:
    """Two heads would mean two migrations written in parallel: merge them."""
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD]
    assert script.get_revision("0001").down_revision is None
    assert script.get_revision("0002").down_revision == "0001"
    assert script.get_revision("0003").down_revision == "0002"
    assert script.get_revision("0004").down_revision == "0003"
    assert script.get_revision("0005").down_revision == "0004"
    assert script.get_revision("0006").down_revision == "0005"
    assert script.get_revision("0007").down_revision == "0006"


def test_0002_upgrades_a_database_with_data_and_keeps_it(store_url: str) -> None:
    """A database at 0001 holding proposals and comments moves to 0002 without losing a row."""
    upgrade(store_url, "0001")
    engine = make_engine(store_url)
    try:
        now = {"now": "2026-01-05 09:00:00"}
        with engine.begin() as conn:
            # No explicit ids: PostgreSQL's sequences must hand out the next ones afterwards.
            rid = conn.execute(
                text(
                    "INSERT INTO residents (username, display_name, role, is_demo, created_at) "
                    "VALUES ('minji', '김민지', 'resident', false, :now) RETURNING id"
                ),
                now,
            ).scalar_one()
            pid = conn.execute(
                text(
                    "INSERT INTO proposals (title, body, category, kind, status, author_id, created_at, updated_at, "
                    "geometry, minx, miny, maxx, maxy, is_demo, hidden) VALUES ('벤치', '놓아 주세요', 'environment', "
                    "'area', 'submitted', :rid, :now, :now, :geom, 126.83, 37.65, 126.83, 37.65, false, false) RETURNING id"
                ),
                {**now, "rid": rid, "geom": _point_for(engine.dialect.name)},
            ).scalar_one()
            cid = conn.execute(
                text(
                    "INSERT INTO comments (proposal_id, author_id, body, created_at, hidden, is_demo) "
                    "VALUES (:pid, :rid, '좋아요', :now, false, false) RETURNING id"
                ),
                {**now, "pid": pid, "rid": rid},
            ).scalar_one()
        upgrade(engine)
        assert current_revision(engine) == HEAD
        assert compare(engine) == []
        store = Store(engine)
        with store.transaction() as tx:
            p = tx.proposals.get(pid)
            assert (p.title, p.photo_url, p.geometry.x) == ("벤치", None, 126.83)
            [c] = tx.comments.list_for(pid)
            assert (c.id, c.body, c.parent_id) == (cid, "좋아요", None)
            reply = tx.comments.add(pid, rid, "답글", parent_id=cid)  # the new column and its foreign key work
            assert reply.parent_id == cid
            assert tx.villages.list() == []
    finally:
        engine.dispose()


def _point_for(dialect: str) -> object:
    import shapely
    from shapely.geometry import Point

    point = Point(126.83, 37.65)
    if dialect == "postgresql":
        return shapely.to_wkb(shapely.set_srid(point, 4326), hex=True, include_srid=True)
    return shapely.to_wkb(point)


def test_0002_downgrades_and_upgrades_again(world: World) -> None:
    engine = world.store.engine
    with world.store.transaction() as tx:
        p = tx.proposals.add(
            title="t", body="b", category="safety", kind="area", author_id=world.resident_id, geometry=_village().centroid
        )
        top = tx.comments.add(p.id, world.resident_id, "위")
        tx.comments.add(p.id, world.other_resident_id, "아래", parent_id=top.id)
        tx.villages.add("주교마을", "4128152000", _village())
    downgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    columns = {c["name"] for c in inspect(engine).get_columns("comments")}
    assert "parent_id" not in columns and "villages" not in inspect(engine).get_table_names()
    assert "photo_url" not in {c["name"] for c in inspect(engine).get_columns("proposals")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM comments")).scalar_one() == 2  # replies stay, as comments
    upgrade(engine)
    assert current_revision(engine) == HEAD
    assert compare(engine) == []


def _village():  # a square inside the test district 주교동 (store_samples.JUGYO_CELL)
    from shapely.geometry import box

    return box(126.828, 37.654, 126.834, 37.660)


@ONLY_POSTGIS
def test_villages_get_a_gist_index_on_postgis(store: Store) -> None:
    indexes = {ix["name"]: ix for ix in inspect(store.engine).get_indexes("villages")}
    assert "idx_villages_geometry" in indexes
    with store.engine.connect() as conn:
        method = conn.execute(
            text(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relname = 'idx_villages_geometry'"
            )
        ).scalar_one()
    assert method == "gist"


def test_0007_adds_sign_in_attempts_and_deleted_at_and_downgrades(world: World) -> None:
    """0007 on both engines: the new table and column work, go away on downgrade, and come back."""
    from datetime import datetime, timezone

    engine = world.store.engine
    at = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    with world.store.transaction() as tx:
        tx.sign_in_attempts.record("minji", "203.0.113.7", False, at=at)
        tx.residents.erase_personal_data(world.other_resident_id, "탈퇴한 주민", at)
    downgrade(engine, "0006")
    assert current_revision(engine) == "0006"
    assert "sign_in_attempts" not in inspect(engine).get_table_names()
    assert "deleted_at" not in {c["name"] for c in inspect(engine).get_columns("residents")}
    upgrade(engine)
    assert current_revision(engine) == HEAD
    assert compare(engine) == []
    with world.store.transaction() as tx:
        assert tx.sign_in_attempts.count() == 0
        assert tx.residents.get(world.resident_id).deleted_at is None
        assert tx.residents.get(world.other_resident_id).username == f"deleted:{world.other_resident_id}"
        tx.sign_in_attempts.record("minji", "203.0.113.7", True, at=at)
        assert [a.succeeded for a in tx.sign_in_attempts.since(at, username="minji")] == [True]
