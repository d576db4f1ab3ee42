"""Several app instances on one database: migrations run once, set-up steps do not interleave, on SQLite and PostGIS."""
from __future__ import annotations

import threading
import time

import pytest

import settings
from planning.geography import install_reference_data
from store import SchemaNotCurrent, Store
from store.migrate import current_revision, head_revision, upgrade


def test_an_instance_that_may_not_migrate_refuses_an_old_schema(store_url: str) -> None:
    with pytest.raises(SchemaNotCurrent) as refused:
        Store.open(store_url, migrate=False)
    assert "python -m store.migrate upgrade" in refused.value.message("ko")
    assert "release step" in refused.value.message("en") and head_revision() in refused.value.message("en")
    assert current_revision(store_url) is None  # nothing was created by the refused instance
    upgrade(store_url, "0005")
    with pytest.raises(SchemaNotCurrent):
        Store.open(store_url, migrate=False)
    upgrade(store_url)
    store = Store.open(store_url, migrate=False)
    try:
        assert store.data_versions("proposals") == (0,)
    finally:
        store.dispose()


def test_instances_starting_together_migrate_once_and_install_reference_data_once(store_url: str) -> None:
    errors: list[BaseException] = []
    stores: list[Store] = []
    start = threading.Barrier(3)

    def boot() -> None:
        try:
            start.wait()
            store = Store.open(store_url)
            stores.append(store)
            with store.exclusive("install_reference_data"):
                install_reference_data(store)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=boot) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert current_revision(store_url) == head_revision()
        with stores[0].transaction() as tx:
            assert len(tx.districts.list()) == 44
            codes = [c.code for c in tx.centres.list()]
            assert len(codes) == len(set(codes)) == 44
    finally:
        for s in stores:
            s.dispose()


def test_exclusive_blocks_of_one_name_do_not_overlap(store: Store) -> None:
    if store.backend != "postgresql":
        pytest.skip("SQLite takes its write lock at BEGIN: exclusive() adds no lock of its own")
    inside = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        with store.exclusive("setup"):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1


def test_the_migrate_setting(monkeypatch) -> None:
    for value, expected in (("auto", True), ("off", False), (" OFF ", False)):
        monkeypatch.setenv("GOYANG_MIGRATE", value)
        settings.get_settings.cache_clear()
        assert settings.get_settings().migrate_on_start is expected
    monkeypatch.setenv("GOYANG_MIGRATE", "sometimes")
    settings.get_settings.cache_clear()
    with pytest.raises(ValueError, match="GOYANG_MIGRATE"):
        settings.get_settings()
    monkeypatch.delenv("GOYANG_MIGRATE")
    settings.get_settings.cache_clear()
    assert settings.get_settings().migrate_on_start is True


def test_the_pool_setting(monkeypatch) -> None:
    from store.engine import make_engine

    monkeypatch.setenv("GOYANG_DB_POOL", "24")
    settings.get_settings.cache_clear()
    try:
        engine = make_engine("postgresql://postgres@127.0.0.1:5432/postgres")  # no connection is made here
        assert engine.pool.size() == 24 and engine.pool._max_overflow == 24
        engine.dispose()
        for bad in ("0", "many", "500"):
            monkeypatch.setenv("GOYANG_DB_POOL", bad)
            settings.get_settings.cache_clear()
            with pytest.raises(ValueError, match="GOYANG_DB_POOL"):
                settings.get_settings()
    finally:
        monkeypatch.delenv("GOYANG_DB_POOL")
        settings.get_settings.cache_clear()


def test_the_privacy_k_setting(monkeypatch) -> None:
    monkeypatch.delenv("GOYANG_PRIVACY_K", raising=False)
    settings.get_settings.cache_clear()
    try:
        assert settings.get_settings().privacy_k == 5
        monkeypatch.setenv("GOYANG_PRIVACY_K", " 3 ")
        settings.get_settings.cache_clear()
        assert settings.get_settings().privacy_k == 3
        for bad in ("0", "few", "101", "-2"):
            monkeypatch.setenv("GOYANG_PRIVACY_K", bad)
            settings.get_settings.cache_clear()
            with pytest.raises(ValueError, match="GOYANG_PRIVACY_K"):
                settings.get_settings()
    finally:
        monkeypatch.delenv("GOYANG_PRIVACY_K", raising=False)
        settings.get_settings.cache_clear()
