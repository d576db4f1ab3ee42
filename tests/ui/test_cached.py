"""Page caches keyed on data versions (ui/mapdata.py, ui/cached.py): reused while nothing changed,
recomputed as soon as a table they read changes, whoever wrote it (another app instance included)."""
from __future__ import annotations

import time

import pytest
import streamlit as st

from planning.clusters import ClusterParams
from planning.proposals import submit_proposal
from planning.review import ReviewFilter
from store import Store
from ui import cached, mapdata

POINT = {"type": "Point", "coordinates": [126.833004, 37.622148]}  # 행신1동


class Spy:
    """Counts the calls of a real function and passes them through."""

    def __init__(self, monkeypatch, module, name):
        self.calls = 0
        real = getattr(module, name)

        def spy(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)


def ids_of(app_store: Store, username: str) -> int:
    with app_store.transaction() as tx:
        return tx.residents.by_username(username).id


def another_instance(app_store: Store) -> Store:
    """A second process's store on the same database: its writes do not touch this process's caches."""
    return Store.open(app_store.url, migrate=False)


def fresh_versions() -> None:
    """What a second later looks like: the once-a-second read of the versions has expired."""
    mapdata.current_versions.clear()


@pytest.fixture
def spies(monkeypatch):
    """Spies on the real functions, where the ui modules call them."""
    st.cache_data.clear()
    return {
        "map_view": Spy(monkeypatch, mapdata, "map_view"),
        "clusters": Spy(monkeypatch, cached, "cluster_proposals"),
        "overview": Spy(monkeypatch, cached, "hub_overview"),
    }


def test_the_map_view_is_reused_until_a_proposal_comes_from_another_instance(app_store, spies):
    first = mapdata.proposals_in_view(None, 12)
    again = mapdata.proposals_in_view(None, 12)
    assert spies["map_view"].calls == 1 and again.count == first.count
    other = another_instance(app_store)
    try:
        submit_proposal(other, ids_of(other, "demo-resident"), POINT, "다른 서버에서 낸 제안", "설명", "environment", "area", None)
    finally:
        other.dispose()
    fresh_versions()
    after = mapdata.proposals_in_view(None, 12)
    assert spies["map_view"].calls == 2 and after.count == first.count + 1


def test_a_write_to_an_unrelated_table_keeps_the_map_cache(app_store, spies):
    mapdata.proposals_in_view(None, 12)
    with app_store.transaction() as tx:
        tx.residents.add("newcomer", "새 주민")
    fresh_versions()
    mapdata.proposals_in_view(None, 12)
    assert spies["map_view"].calls == 1


def test_planners_clusters_are_cached_per_filter_and_invalidated_by_a_support(app_store, spies):
    planner = ids_of(app_store, "demo-planner")
    params = ClusterParams(300.0, 2)
    a = cached.clusters(planner, ReviewFilter(), params)
    cached.clusters(planner, ReviewFilter(), params)
    assert spies["clusters"].calls == 1
    cached.clusters(planner, ReviewFilter(categories=("environment",)), params)
    assert spies["clusters"].calls == 2
    with app_store.transaction() as tx:
        pid = int(a.frame["id"].iloc[0])
        tx.supports.add(pid, ids_of(app_store, "demo-centre"))
    mapdata.forget_proposals()  # this session wrote
    b = cached.clusters(planner, ReviewFilter(), params)
    assert spies["clusters"].calls == 3
    assert int(b.frame.set_index("id").loc[pid, "supports"]) == int(a.frame.set_index("id").loc[pid, "supports"]) + 1


def test_a_refusal_is_never_cached(app_store, spies):
    from planning.errors import NotAllowed

    resident = ids_of(app_store, "demo-resident")
    for _ in range(2):
        with pytest.raises(NotAllowed):
            cached.clusters(resident, ReviewFilter(), ClusterParams(300.0, 2))
    assert spies["clusters"].calls == 2


def test_hub_overview_is_shared_and_follows_quota_and_proposal_changes(app_store, spies):
    with app_store.transaction() as tx:
        hub = next(c.code for c in tx.centres.list() if c.is_hub)
    first = cached.overview(hub)
    cached.overview(hub)
    assert spies["overview"].calls == 1
    time.sleep(1.1)  # the versions' own one-second cache expires by itself too
    cached.overview(hub)
    assert spies["overview"].calls == 1  # nothing changed: still cached
    submit_proposal(app_store, ids_of(app_store, "demo-resident"), POINT, "권역 제안", "설명", "environment", "area", None)
    fresh_versions()
    cached.overview(hub)
    assert spies["overview"].calls == 2
    assert first.hub_code == hub
