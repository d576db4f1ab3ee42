"""Fixtures of the store tests: reference rows on top of the ``store`` fixture (tests/conftest.py)."""
from __future__ import annotations

import pytest
from store_samples import JUGYO, SEONGSA, World, centre_rows, district_rows

from store import Store


@pytest.fixture
def world(store: Store) -> World:
    """The store with two districts, two centres (one hub), two residents and a planner."""
    with store.transaction() as tx:
        tx.districts.upsert(district_rows())
        tx.centres.upsert(centre_rows())
        resident = tx.residents.add("minji", "김민지", home_district_code=JUGYO, password_hash="x")
        other = tx.residents.add("junho", "박준호", home_district_code=SEONGSA, password_hash="x")
        planner = tx.residents.add("planner1", "이기획", role="planner", password_hash="x")
        return World(store, resident.id, other.id, planner.id)
