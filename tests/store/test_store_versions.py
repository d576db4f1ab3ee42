"""Data versions (migration 0006): every committed write raises its tables' counters, on SQLite and PostGIS."""
from __future__ import annotations

import threading

import pytest
from shapely.geometry import Point
from store_samples import JUGYO, World, proposal_fields

from store import Store


class Boom(RuntimeError):
    pass


def test_a_fresh_database_has_every_table_at_zero(store: Store) -> None:
    versions = store.data_versions()
    assert {"proposals", "supports", "comments", "centres", "districts", "villages", "votes", "meetings"} <= set(versions)
    assert store.data_versions("proposals", "no_such_table") == (0, 0)


def test_a_write_raises_exactly_its_tables(world: World) -> None:
    store = world.store
    before = store.data_versions()
    with store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83, 37.65)))
    after = store.data_versions()
    changed = {name for name in after if after[name] != before.get(name)}
    assert "proposals" in changed and "status_changes" in changed  # add() writes the first history row
    assert not changed & {"supports", "comments", "centres", "districts", "villages", "votes"}
    assert all(after[name] == before[name] + 1 for name in changed)  # one transaction: one step

    with store.transaction() as tx:
        tx.supports.add(p.id, world.other_resident_id)
    assert store.data_versions("supports", "proposals") == (after["supports"] + 1, after["proposals"])


def test_bulk_statements_and_deletes_count_as_writes(world: World) -> None:
    store = world.store
    with store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83, 37.65)))
        tx.supports.add(p.id, world.other_resident_id)
    (supports,) = store.data_versions("supports")
    with store.transaction() as tx:  # SupportsRepo.remove is a DELETE statement, not a flushed object
        assert tx.supports.remove(p.id, world.other_resident_id)
    assert store.data_versions("supports") == (supports + 1,)
    with store.transaction() as tx:
        tx.centres.set_hub(JUGYO, False)
    assert store.data_versions("centres")[0] >= 1


def test_reading_and_rolled_back_writes_change_nothing(world: World) -> None:
    store = world.store
    before = store.data_versions()
    with store.transaction() as tx:
        tx.proposals.summaries()
        tx.centres.get(JUGYO)
    assert store.data_versions() == before
    with pytest.raises(Boom), store.transaction() as tx:
        tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83, 37.65)))
        raise Boom("after the write")
    assert store.data_versions() == before
    # the next transaction of the same store does not inherit the rolled-back one's tables
    with store.transaction() as tx:
        tx.supports.counts()
    assert store.data_versions() == before


def test_a_second_store_on_the_same_database_sees_the_change(world: World) -> None:
    """Two app instances are two processes with their own engines: the counters are in the database."""
    other = Store.open(world.store.url, migrate=False)
    try:
        (seen,) = other.data_versions("proposals")
        with world.store.transaction() as tx:
            tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83, 37.65)))
        assert other.data_versions("proposals") == (seen + 1,)
    finally:
        other.dispose()


def test_concurrent_writers_lose_no_step(world: World) -> None:
    store = world.store
    (start,) = store.data_versions("supports")
    with store.transaction() as tx:
        pids = [tx.proposals.add(**proposal_fields(world.resident_id, Point(126.83 + i / 1000, 37.65))).id for i in range(6)]
    errors: list[BaseException] = []

    def support(pid: int) -> None:
        try:
            with store.transaction() as tx:
                tx.supports.add(pid, world.other_resident_id)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=support, args=(pid,)) for pid in pids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.data_versions("supports") == (start + len(pids),)
