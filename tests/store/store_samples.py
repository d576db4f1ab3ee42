"""Small, real-looking reference data for the store tests (two dongs of Goyang).

A plain module (not conftest) so test modules can import it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from shapely.geometry import Point, Polygon

if TYPE_CHECKING:
    from store import Store

#: The newest migration.
HEAD = "0007"
#: Run a test on the PostGIS variant of ``store_url`` / ``store`` only.
ONLY_POSTGIS = pytest.mark.parametrize("store_url", [pytest.param("postgis", marks=pytest.mark.postgis)], indirect=True)
#: Run a test on the SQLite variant only.
ONLY_SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


# Two neighbouring cells near Goyang city hall; coordinates are lon, lat.
JUGYO = "4128152000"
SEONGSA = "4128153000"
JUGYO_CELL = Polygon([(126.826, 37.652), (126.838, 37.652), (126.838, 37.664), (126.826, 37.664)])
SEONGSA_CELL = Polygon([(126.838, 37.652), (126.850, 37.652), (126.850, 37.664), (126.838, 37.664)])


def district_rows() -> list[dict[str, Any]]:
    return [
        {
            "code": JUGYO,
            "gu": "덕양구",
            "name": "주교동",
            "voters": 21000,
            "geometry": JUGYO_CELL,
            "approximate": True,
            "source": "approximate: test cell",
        },
        {
            "code": SEONGSA,
            "gu": "덕양구",
            "name": "성사1동",
            "voters": 18000,
            "geometry": SEONGSA_CELL,
            "approximate": True,
            "source": "approximate: test cell",
        },
    ]


def centre_rows() -> list[dict[str, Any]]:
    return [
        {
            "code": JUGYO,
            "name": "주교동 행정복지센터",
            "district_code": JUGYO,
            "geometry": Point(126.8321, 37.6581),
            "is_hub": True,
            "approximate_location": False,
        },
        {
            "code": SEONGSA,
            "name": "성사1동 행정복지센터",
            "district_code": SEONGSA,
            "geometry": Point(126.8447, 37.6574),
            "is_hub": False,
            "approximate_location": True,
        },
    ]


@dataclass(frozen=True)
class World:
    """Ids of the reference rows a test can build on (see the ``world`` fixture)."""

    store: Store
    resident_id: int
    other_resident_id: int
    planner_id: int


def proposal_fields(author_id: int, geometry: Any, **overrides: Any) -> dict[str, Any]:
    """Fields of a valid proposal; ``overrides`` replace or add fields."""
    fields: dict[str, Any] = {
        "title": "놀이터 그늘막 설치",
        "body": "여름에 아이들이 쉴 수 있도록 그늘막을 설치해 주세요.",
        "category": "safety",
        "kind": "area",
        "cost_krw": 30_000_000,
        "author_id": author_id,
        "geometry": geometry,
    }
    fields.update(overrides)
    return fields
