"""Engines: URL handling, SQLite file and connection settings."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from store_samples import ONLY_SQLITE

import settings
from store import Store
from store.engine import make_engine, normalise_url, sqlite_file


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@db.example/goyang", "postgresql+psycopg://u@db.example/goyang"),
        ("postgres://u@db.example:6543/goyang", "postgresql+psycopg://u@db.example:6543/goyang"),
        ("postgresql+psycopg://u@db.example/goyang", "postgresql+psycopg://u@db.example/goyang"),
        ("sqlite:///var/goyang.sqlite3", "sqlite:///var/goyang.sqlite3"),
    ],
)
def test_postgresql_urls_get_the_psycopg_driver(given: str, expected: str) -> None:
    assert normalise_url(given).render_as_string() == expected
    engine = make_engine(given)  # creating an engine does not connect
    try:
        assert engine.url.render_as_string() == expected
    finally:
        engine.dispose()


def test_the_password_is_masked_in_url_display() -> None:
    store = Store(make_engine("postgresql://planner:s3cret@db.example/goyang"))
    try:
        assert "s3cret" not in store.url_display and "***" in store.url_display
        assert "s3cret" not in str(store.url)
        assert {store.url: 1}[normalise_url("postgresql://planner:s3cret@db.example/goyang")] == 1  # a cache key
        assert store.backend == "postgresql"
    finally:
        store.dispose()


def test_sqlite_file_of_a_url() -> None:
    assert sqlite_file(normalise_url("sqlite:////tmp/x/y.sqlite3")) == Path("/tmp/x/y.sqlite3")
    assert sqlite_file(normalise_url("sqlite://")) is None
    assert sqlite_file(normalise_url("sqlite:///:memory:")) is None
    assert sqlite_file(normalise_url("postgresql://u@h/db")) is None


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "nested" / "var" / "goyang.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    settings.get_settings.cache_clear()
    try:
        store = Store.open()
        try:
            assert store.engine.url.database == str(path)
            assert path.exists()  # directory and file created, schema migrated
            with store.transaction() as tx:
                assert tx.districts.count() == 0
        finally:
            store.dispose()
    finally:
        settings.get_settings.cache_clear()


@ONLY_SQLITE
def test_sqlite_connections_enforce_foreign_keys_and_use_wal(store_url: str) -> None:
    assert not Path(store_url.removeprefix("sqlite:///")).parent.exists()
    engine = make_engine(store_url)
    try:
        assert Path(store_url.removeprefix("sqlite:///")).parent.is_dir()
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        engine.dispose()


@ONLY_SQLITE
def test_sqlite_refuses_a_dangling_foreign_key(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO centres (code, name, district_code, geometry, is_hub, approximate_location) "
                "VALUES ('4128152000', 'x', '4128199999', x'00', 0, 0)"
            )
        )
