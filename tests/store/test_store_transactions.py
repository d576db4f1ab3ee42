"""Units of work: all or nothing."""
from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path

import pytest
from shapely.geometry import Point
from sqlalchemy.exc import OperationalError
from store_samples import JUGYO, World, proposal_fields

from store import CONNECT_RETRY_DELAYS_S, AlreadySupported, DatabaseUnavailable, Store
from store.engine import make_engine


class Boom(RuntimeError):
    pass


def test_an_exception_rolls_back_everything_written(world: World) -> None:
    with world.store.transaction() as tx:
        kept = tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83, 37.65)))
    with pytest.raises(Boom), world.store.transaction() as tx:
        newcomer = tx.residents.add("temp", "임시 주민")
        p = tx.proposals.add(**proposal_fields(newcomer.id, Point(126.84, 37.66)))
        tx.comments.add(p.id, newcomer.id, "사라질 댓글")
        tx.supports.add(kept.id, newcomer.id)
        tx.proposals.set_status(kept.id, "accepted", world.planner_id, "사라질 변경")
        tx.centres.set_hub(JUGYO, False)
        tx.districts.upsert([{"code": JUGYO, "voters": 1}])
        raise Boom("after the writes")
    with world.store.transaction() as tx:
        assert tx.residents.by_username("temp") is None
        assert [q.id for q in tx.proposals.list(include_hidden=True)] == [kept.id]
        assert tx.proposals.get(kept.id).status == "submitted"
        assert len(tx.history.list_for(kept.id)) == 1
        assert tx.supports.counts() == {}
        assert tx.comments.list_for(kept.id, include_hidden=True) == []
        assert tx.centres.get(JUGYO).is_hub is True
        assert tx.districts.get(JUGYO).voters == 21000


def test_an_uncaught_refusal_rolls_back_too(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83, 37.65)))
        tx.supports.add(p.id, world.resident_id)
    with pytest.raises(AlreadySupported), world.store.transaction() as tx:
        tx.comments.add(p.id, world.other_resident_id, "사라질 댓글")
        tx.supports.add(p.id, world.resident_id)
    with world.store.transaction() as tx:
        assert tx.comments.list_for(p.id) == []
        assert tx.supports.count_for(p.id) == 1


def test_objects_stay_readable_after_the_transaction(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83, 37.65)))
        listed = tx.proposals.list()
    # Pages render these after the block: no lazy load may be needed.
    assert p.id == listed[0].id and listed[0].geometry == Point(126.83, 37.65)
    assert listed[0].title == "놀이터 그늘막 설치"


def test_flush_assigns_ids_before_commit(store: Store) -> None:
    with store.transaction() as tx:
        resident = tx.residents.add("early", "먼저")
        tx.flush()
        assert isinstance(resident.id, int)
        assert tx.residents.get(resident.id) is resident


def test_store_names_its_backend(store: Store) -> None:
    assert store.backend in {"sqlite", "postgresql"}
    assert store.url_display.startswith("sqlite:///" if store.backend == "sqlite" else "postgresql+psycopg://")


def test_an_unreachable_server_is_refused_in_both_languages_after_retries() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on this port now
    store = Store(make_engine(f"postgresql://postgres@127.0.0.1:{port}/goyang"))
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as refused, store.transaction():
            pytest.fail("the block must not run without a connection")
        assert time.monotonic() - started >= sum(CONNECT_RETRY_DELAYS_S)
        assert "데이터베이스에 잠시 연결할 수 없습니다" in refused.value.message("ko")
        assert "cannot be reached right now" in refused.value.message("en")
        with pytest.raises(DatabaseUnavailable):
            store.data_versions()
    finally:
        store.dispose()


def test_a_locked_sqlite_database_is_not_taken_for_an_outage(tmp_path: Path) -> None:
    """Only lost connections become DatabaseUnavailable: "database is locked" stays an error (not retried, not hidden)."""
    path = tmp_path / "locked.sqlite3"
    Store.open(f"sqlite:///{path}").dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    store = Store(make_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2}))
    try:
        with pytest.raises(OperationalError, match="locked"), store.transaction() as tx:
            tx.residents.list()
    finally:
        holder.rollback()
        holder.close()
        store.dispose()
