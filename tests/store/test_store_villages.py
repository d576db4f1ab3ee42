"""Villages repository on both engines: add, get, list by district, update, delete."""
from __future__ import annotations

import pytest
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from store_samples import JUGYO, SEONGSA, World

from store import NotFound

IN_JUGYO = box(126.828, 37.654, 126.834, 37.660)
IN_SEONGSA = box(126.840, 37.654, 126.846, 37.660)


def test_villages_add_get_list_update_delete(world: World) -> None:
    two_parts = MultiPolygon([box(126.841, 37.653, 126.842, 37.654), box(126.845, 37.657, 126.846, 37.658)])
    with world.store.transaction() as tx:
        a = tx.villages.add("주교 햇살마을", JUGYO, IN_JUGYO, created_by=world.planner_id)
        b = tx.villages.add("성사 두레마을", SEONGSA, IN_SEONGSA, is_demo=True)
        c = tx.villages.add("가온마을", SEONGSA, two_parts)
    with world.store.transaction() as tx:
        got = tx.villages.get(a.id)
        assert (got.name, got.district_code, got.created_by, got.is_demo) == ("주교 햇살마을", JUGYO, world.planner_id, False)
        assert got.geometry.equals(IN_JUGYO) and got.created_at.tzinfo is not None
        assert tx.villages.get(c.id).geometry.equals(two_parts)
        assert tx.villages.get(b.id).created_by is None and tx.villages.get(b.id).is_demo is True
        assert [v.id for v in tx.villages.list()] == [c.id, b.id, a.id]  # by name: 가, 성, 주
        assert [v.id for v in tx.villages.list(district_code=SEONGSA)] == [c.id, b.id]
        assert tx.villages.list(district_code="4128199999") == []
        assert tx.villages.get(10_000) is None
        moved = tx.villages.update(a.id, name="주교 새마을", district_code=SEONGSA, geometry=IN_SEONGSA)
        assert moved.name == "주교 새마을"
    with world.store.transaction() as tx:
        got = tx.villages.get(a.id)
        assert (got.name, got.district_code) == ("주교 새마을", SEONGSA) and got.geometry.equals(IN_SEONGSA)
        tx.villages.delete(b.id)
    with world.store.transaction() as tx:
        assert tx.villages.get(b.id) is None
        assert [v.id for v in tx.villages.list()] == [c.id, a.id]


def test_villages_refuse_bad_input(world: World) -> None:
    with world.store.transaction() as tx:
        with pytest.raises(NotFound) as refused:
            tx.villages.add("없는 동", "4128199999", IN_JUGYO)
        assert refused.value.entity == "district"
        with pytest.raises(ValueError, match="10 digits"):
            tx.villages.add("코드", 4128152000, IN_JUGYO)
        with pytest.raises(NotFound):
            tx.villages.add("누가", JUGYO, IN_JUGYO, created_by=10_000)
        with pytest.raises(ValueError, match="Polygon"):
            tx.villages.add("선", JUGYO, LineString([(126.83, 37.655), (126.835, 37.656)]))
        with pytest.raises(ValueError, match="non-empty"):
            tx.villages.add("빈", JUGYO, Polygon())
        with pytest.raises(TypeError):
            tx.villages.add("글자", JUGYO, "POLYGON((0 0, 1 0, 1 1, 0 0))")
        v = tx.villages.add("마을", JUGYO, IN_JUGYO)
        with pytest.raises(TypeError, match="created_at"):
            tx.villages.update(v.id, created_at=None)
        with pytest.raises(TypeError, match="None"):
            tx.villages.update(v.id, name=None)
        with pytest.raises(NotFound):
            tx.villages.update(v.id, district_code="4128199999")
        with pytest.raises(NotFound) as refused:
            tx.villages.update(10_000, name="x")
        assert refused.value.entity == "village"
        assert "마을" in refused.value.message("ko") and "village" in refused.value.message("en")
        with pytest.raises(NotFound):
            tx.villages.delete(10_000)
        assert [x.id for x in tx.villages.list()] == [v.id]


def test_demo_villages_are_deleted_alone(world: World) -> None:
    with world.store.transaction() as tx:
        real = tx.villages.add("진짜마을", JUGYO, IN_JUGYO)
        tx.villages.add("데모마을", SEONGSA, IN_SEONGSA, is_demo=True)
        tx.villages.add("데모마을2", JUGYO, IN_JUGYO, is_demo=True)
    with world.store.transaction() as tx:
        assert tx.villages.delete_demo() == 2
    with world.store.transaction() as tx:
        assert [v.id for v in tx.villages.list()] == [real.id]
