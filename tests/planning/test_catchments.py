"""Hub catchments (planning/catchments.py) on SQLite and PostGIS.

Every dong in exactly one catchment; a hub's own dong is its own; the
nearest rule checked against a brute-force computation; an admin's explicit
list overrides it (and the refusals of a bad list); the catchment frame; the
hub's overview (public proposals of its area only, clusters, quotas).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pyproj import Geod
from shapely.geometry import Point

from planning.auth import Actor, actor_for
from planning.catchments import (
    CATCHMENT_COLUMNS,
    catchment_frame,
    catchment_of,
    catchments,
    clear_catchment,
    hub_for_district,
    hub_overview,
    is_explicit,
    set_catchment,
)
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data

HAENGSIN1 = "4128164000"  # 행신1동
HAENGSIN2_HUB = "4128165000"  # 행신2동: hub of south Deogyang
HWAJEONG1_HUB = "4128162100"  # 화정1동: another hub
JUGYO_HUB = "4128151000"  # 주교동: another hub
DAEDEOK = "4128167000"  # 대덕동: in 행신2동's catchment by the nearest rule
HWAJEONG2 = "4128162200"  # 화정2동: in 화정1동's catchment by the nearest rule
LON, LAT = 126.833004, 37.622148  # 행신1동's representative point


@pytest.fixture
def privacy_k_1(monkeypatch):
    """Smallest public group 1 (these tests are about catchments, not privacy: see test_privacy.py)."""
    from settings import get_settings

    monkeypatch.setenv("GOYANG_PRIVACY_K", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def city(store):
    install_reference_data(store)
    with store.transaction() as tx:
        ids = {
            "admin": tx.residents.add("admin", "관리", role="admin", password_hash="x").id,
            "planner": tx.residents.add("planner", "기획", role="planner", password_hash="x").id,
            "staff": tx.residents.add("staff", "직원", role="centre_staff", hub_code=HAENGSIN2_HUB, password_hash="x").id,
            "resident": tx.residents.add("minji", "김민지", home_district_code=HAENGSIN1, password_hash="x").id,
        }
    return store, {name: actor_for(store, rid) for name, rid in ids.items()}


def bilingual(err) -> None:
    assert re.search(r"[가-힣]", err.ko), err.ko
    assert re.search(r"\b(the|is|a|to|Please)\b", err.en), err.en
    assert err.ko != err.en


def brute_force(store) -> dict[str, str]:
    """district -> hub by the nearest rule, computed independently: geodesic metres on the ellipsoid, ties by code."""
    geod = Geod(ellps="GRS80")
    with store.transaction() as tx:
        hubs = [(h.code, h.geometry, h.district_code) for h in tx.centres.list(hubs_only=True)]
        own = {c.district_code: c.geometry for c in tx.centres.list()}
        districts = [d.code for d in tx.districts.list()]
    out = {}
    for code in districts:
        here = own[code]
        best = None
        for hub, point, _ in sorted(hubs):
            _, _, metres = geod.inv(here.x, here.y, point.x, point.y)
            if best is None or metres < best[0] - 1e-6:
                best = (metres, hub)
        out[code] = best[1]
    return out


def test_every_dong_is_in_exactly_one_catchment(city):
    store, _ = city
    found = catchments(store)
    with store.transaction() as tx:
        hubs = sorted(c.code for c in tx.centres.list(hubs_only=True))
        districts = sorted(d.code for d in tx.districts.list())
    assert sorted(found) == hubs
    assigned = [code for codes in found.values() for code in codes]
    assert sorted(assigned) == districts  # every dong once, none twice
    assert len(set(assigned)) == len(assigned) == 44


def test_a_hubs_own_dong_is_in_its_catchment(city):
    store, _ = city
    found = catchments(store)
    with store.transaction() as tx:
        for hub in tx.centres.list(hubs_only=True):
            assert hub.district_code in found[hub.code]
            assert hub_for_district(store, hub.district_code) == hub.code


def test_the_nearest_rule_agrees_with_brute_force(city):
    store, _ = city
    expected = brute_force(store)
    found = {code: hub for hub, codes in catchments(store).items() for code in codes}
    assert found == expected
    # a few known answers, so a wrong brute force cannot hide a wrong rule
    assert found[HAENGSIN1] == HAENGSIN2_HUB and found[DAEDEOK] == HAENGSIN2_HUB and found[HWAJEONG2] == HWAJEONG1_HUB
    assert catchment_of(store, HAENGSIN2_HUB) == ["4128163000", HAENGSIN1, HAENGSIN2_HUB, "4128165500", "4128165600", "4128166000", DAEDEOK]


def test_the_nearest_rule_follows_the_hub_designation(city):
    store, _ = city
    with store.transaction() as tx:
        tx.centres.set_hub(HAENGSIN2_HUB, False)
    found = catchments(store)
    assert HAENGSIN2_HUB not in found
    assert {code: hub for hub, codes in found.items() for code in codes} == brute_force(store)


def test_an_explicit_list_overrides_the_nearest_rule(city):
    store, people = city
    before = catchments(store)
    assert HWAJEONG2 in before[HWAJEONG1_HUB]
    after_set = set_catchment(store, people["admin"], HAENGSIN2_HUB, [HAENGSIN1, HWAJEONG2])
    assert after_set == sorted([HAENGSIN1, HWAJEONG2, HAENGSIN2_HUB])  # its own dong is always included
    found = catchments(store)
    assert found[HAENGSIN2_HUB] == after_set
    assert hub_for_district(store, HWAJEONG2) == HAENGSIN2_HUB
    assert is_explicit(store, HAENGSIN2_HUB) and not is_explicit(store, HWAJEONG1_HUB)
    # the dongs it no longer lists go to the nearest hub without an explicit list
    assigned = [code for codes in found.values() for code in codes]
    assert sorted(assigned) == sorted(code for codes in before.values() for code in codes)
    assert hub_for_district(store, DAEDEOK) not in (None, HAENGSIN2_HUB)
    with store.transaction() as tx:
        [entry] = tx.audit.list("hub:", action="catchment.set")
        assert entry.actor_id == people["admin"].id
    assert clear_catchment(store, people["admin"], HAENGSIN2_HUB) == before[HAENGSIN2_HUB]
    assert catchments(store) == before


def test_a_bad_explicit_list_is_refused_in_both_languages(city):
    store, people = city
    admin = people["admin"]
    for who in ("planner", "staff", "resident"):
        with pytest.raises(NotAllowed) as err:
            set_catchment(store, people[who], HAENGSIN2_HUB, [HAENGSIN1])
        assert err.value.code == "role_required"
    with pytest.raises(NotAllowed) as err:
        set_catchment(store, Actor.anonymous(), HAENGSIN2_HUB, [HAENGSIN1])
    assert err.value.code == "sign_in_required"
    with pytest.raises(InvalidInput) as err:
        set_catchment(store, admin, HAENGSIN2_HUB, [HAENGSIN1, "4128199999", "nonsense"])
    assert err.value.code == "no_such_district" and "4128199999" in err.value.ko and "nonsense" in err.value.en
    bilingual(err.value)
    with pytest.raises(InvalidInput) as err:
        set_catchment(store, admin, HAENGSIN1, [HAENGSIN1])  # a centre that is not a hub
    assert err.value.code == "no_such_hub"
    with pytest.raises(InvalidInput) as err:
        set_catchment(store, admin, HAENGSIN2_HUB, [])
    assert err.value.code == "catchment_empty"
    with pytest.raises(NotAllowed) as err:
        set_catchment(store, admin, HAENGSIN2_HUB, [HWAJEONG1_HUB])  # another hub's own dong
    assert err.value.code == "catchment_taken" and "화정1동" in err.value.ko
    bilingual(err.value)
    set_catchment(store, admin, HWAJEONG1_HUB, [HWAJEONG2])
    with pytest.raises(NotAllowed) as err:
        set_catchment(store, admin, HAENGSIN2_HUB, [HAENGSIN1, HWAJEONG2])  # in two explicit lists
    assert err.value.code == "catchment_taken" and "화정2동" in err.value.ko and "화정1동" in err.value.ko
    assert catchment_of(store, HWAJEONG1_HUB) == sorted([HWAJEONG1_HUB, HWAJEONG2])
    assert not is_explicit(store, HAENGSIN2_HUB)  # nothing written by the refusals


def test_explicit_rows_of_a_centre_that_is_no_longer_a_hub_are_ignored(city):
    store, people = city
    set_catchment(store, people["admin"], HWAJEONG1_HUB, [HWAJEONG2, HAENGSIN1])
    with store.transaction() as tx:
        tx.centres.set_hub(HWAJEONG1_HUB, False)
    found = catchments(store)
    assert HWAJEONG1_HUB not in found
    assert sorted(c for codes in found.values() for c in codes) == sorted(brute_force(store))
    assert hub_for_district(store, HAENGSIN1) == HAENGSIN2_HUB


def test_catchment_frame_holds_the_dongs_polygons_in_lonlat(city):
    store, _ = city
    frame = catchment_frame(store, HAENGSIN2_HUB)
    assert frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [*CATCHMENT_COLUMNS, "geometry"]
    assert frame["code"].tolist() == catchment_of(store, HAENGSIN2_HUB)
    assert frame.loc[frame["code"] == HAENGSIN2_HUB, "is_hub_dong"].tolist() == [True]
    assert frame["is_hub_dong"].sum() == 1
    assert set(frame.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    minx, miny, maxx, maxy = frame.total_bounds
    assert 126.6 < minx < maxx < 127.0 and 37.5 < miny < maxy < 37.8
    assert frame.geometry.contains(Point(LON, LAT)).any()  # 행신1동's point lies in it


def _proposal(tx, author, x=0.0, y=0.0, **fields):
    values = {
        "title": "놀이터 그늘막",
        "body": "여름에 그늘이 필요해요",
        "category": "environment",
        "kind": "area",
        "author_id": author,
        "geometry": Point(LON + x, LAT + y),
        "hub_code": HAENGSIN2_HUB,
        "district_code": HAENGSIN1,
        "cost_krw": 10_000_000,
    }
    values.update(fields)
    return tx.proposals.add(**values).id


def test_hub_overview_shows_the_public_proposals_of_the_area_their_clusters_and_quotas(city, privacy_k_1):
    store, people = city
    author = people["resident"].id
    with store.transaction() as tx:
        close = [_proposal(tx, author, x=0.0003 * i) for i in range(3)]  # within metres: one cluster
        far = _proposal(tx, author, x=0.01)
        in_dong_other_hub = _proposal(tx, author, x=0.02, hub_code=HWAJEONG1_HUB)  # lies in the catchment
        hidden = _proposal(tx, author, x=0.0004)
        tx.proposals.set_hidden(hidden, True, reason="광고", by=people["admin"].id)
        withdrawn = _proposal(tx, author, x=0.0005)
        tx.proposals.set_status(withdrawn, "withdrawn", author, "")
        elsewhere = _proposal(tx, author, hub_code=HWAJEONG1_HUB, district_code=HWAJEONG2, geometry=Point(126.83, 37.64))
        cycle = tx.cycles.add(2026, total_krw=100, quotas_published_at=datetime.now(UTC))
        for code in catchment_of_codes(tx):
            tx.quotas.set(cycle.id, code, 50_000_000, False, None)
        tx.results.put(cycle.id, close[0], district_code=HAENGSIN1, selected=True, rank=1, votes=3, cost_krw=12_000_000,
                       code="selected", reason_ko="선정", reason_en="selected")
    view = hub_overview(store, None, HAENGSIN2_HUB)
    assert view.hub_name == "행신2동 행정복지센터" and view.district_codes == catchment_of(store, HAENGSIN2_HUB)
    assert sorted(view.proposals["id"]) == sorted([*close, far, in_dong_other_hub])
    assert hidden not in set(view.proposals["id"]) and withdrawn not in set(view.proposals["id"]) and elsewhere not in set(view.proposals["id"])
    assert "author_id" not in view.proposals.columns
    [cluster] = view.clusters
    assert cluster.proposal_ids == sorted(close)
    assert view.proposals.set_index("id")["cluster"].to_dict()[far] == -1
    hulls = view.cluster_hulls()
    assert hulls.crs.to_epsg() == 4326 and hulls["label"].tolist() == ["1"]
    assert all(hulls.geometry.iloc[0].contains(Point(LON + 0.0003 * i, LAT)) for i in range(3))
    assert view.quotas.published and view.quotas.fiscal_year == 2026
    rows = {r.district_code: r for r in view.quotas.rows}
    assert sorted(rows) == view.district_codes
    assert (rows[HAENGSIN1].quota_krw, rows[HAENGSIN1].committed_krw, rows[HAENGSIN1].left_krw) == (50_000_000, 12_000_000, 38_000_000)
    assert (rows[DAEDEOK].committed_krw, rows[DAEDEOK].left_krw) == (0, 50_000_000)
    # the same for any viewer, and hidden content stays out even for planners
    assert sorted(hub_overview(store, people["planner"], HAENGSIN2_HUB).proposals["id"]) == sorted(view.proposals["id"])
    with pytest.raises(InvalidInput) as err:
        hub_overview(store, None, HAENGSIN1)
    assert err.value.code == "no_such_hub"


def catchment_of_codes(tx):
    from planning.catchments import catchments_in

    return catchments_in(tx)[HAENGSIN2_HUB]


def test_hub_overview_without_a_published_cycle_has_no_amounts(city):
    store, _ = city
    view = hub_overview(store, None, HAENGSIN2_HUB)
    assert not view.quotas.published and view.quotas.fiscal_year is None
    assert [r.quota_krw for r in view.quotas.rows] == [None] * len(view.district_codes)
    assert len(view.proposals) == 0 and view.clusters == []
