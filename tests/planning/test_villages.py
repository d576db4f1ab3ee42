"""Village services on both engines: draw, import from a file, list, delete; admins only."""
import json

import geopandas as gpd
import pytest
from shapely.geometry import box, mapping

from geo.crs import to_metric
from geo.errors import BoundaryImportError, GeometryRefused
from planning.accounts import register
from planning.auth import Actor, actor_for
from planning.errors import InvalidInput, NotAllowed
from planning.geography import districts_frame, install_reference_data
from planning.villages import VILLAGE_COLUMNS, add_village, delete_village, import_villages, villages_frame

LON, LAT = 126.833004, 37.622148  # 행신1동's representative point
HAENGSIN1 = "4128164000"
# Over three dongs (행신1동, 행신3동, 행신4동); most of it in 행신3동.
STRADDLING = box(LON + 0.004, LAT - 0.003, LON + 0.016, LAT + 0.003)
SMALL = box(LON, LAT, LON + 0.002, LAT + 0.001)  # inside 행신1동
SEOUL = box(126.97, 37.56, 126.98, 37.57)  # outside Goyang
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[LON, LAT], [LON + 0.002, LAT + 0.002], [LON + 0.002, LAT], [LON, LAT + 0.002], [LON, LAT]]],
}


@pytest.fixture
def ready(store):
    install_reference_data(store)
    admin = actor_for(store, register(store, "admin", "correct horse battery", "관리자", None, role="admin"))
    planner = actor_for(store, register(store, "planner", "correct horse battery", "기획", None, role="planner"))
    resident = actor_for(store, register(store, "minji", "correct horse battery", "민지", HAENGSIN1))
    return store, admin, planner, resident


def largest_district(store, geometry):
    """Brute force: the district with the largest intersection area in metres."""
    frame = districts_frame(store)
    areas = {r.adm_code: to_metric(r.geometry).intersection(to_metric(geometry)).area for r in frame.itertuples()}
    return max(sorted(areas), key=lambda code: areas[code])


def test_admin_adds_a_village_in_the_district_holding_most_of_it(ready):
    store, admin, *_ = ready
    vid = add_village(store, admin, "  행신 햇살마을 ", mapping(STRADDLING))
    expected = largest_district(store, STRADDLING)
    assert expected == "4128165500"  # 행신3동, not the dong of the western edge
    with store.transaction() as tx:
        v = tx.villages.get(vid)
        assert (v.name, v.district_code, v.created_by, v.is_demo) == ("행신 햇살마을", expected, admin.id, False)
        assert v.geometry.equals(STRADDLING)
    frame = villages_frame(store)
    assert tuple(frame.columns) == VILLAGE_COLUMNS and frame.crs.to_epsg() == 4326
    row = frame.iloc[0]
    assert (row["id"], row["name"], row["district_code"], row["district_name"]) == (vid, "행신 햇살마을", expected, "행신3동")
    assert villages_frame(store, district_code=HAENGSIN1).empty


@pytest.mark.parametrize("who", ["anonymous", "resident", "planner"])
def test_only_admins_add_villages(ready, who):
    store, _, planner, resident = ready
    actor = {"anonymous": Actor.anonymous(), "resident": resident, "planner": planner}[who]
    with pytest.raises(NotAllowed) as e:
        add_village(store, actor, "마을", mapping(SMALL))
    if who == "anonymous":
        assert e.value.code == "sign_in_required"
    else:
        assert e.value.code == "role_required"
        assert "관리자 계정만" in e.value.message("ko") and "Only admin accounts" in e.value.message("en")
    # A made-up Actor claiming the role is checked against the store.
    with pytest.raises(NotAllowed):
        add_village(store, Actor(id=resident.id, role="admin"), "마을", mapping(SMALL))
    assert villages_frame(store).empty


def test_village_geometry_and_name_are_validated(ready):
    store, admin, *_ = ready
    with pytest.raises(GeometryRefused) as e:
        add_village(store, admin, "점마을", {"type": "Point", "coordinates": [LON, LAT]})
    assert e.value.code == "not_polygon"
    assert "다각형" in e.value.message("ko") and "polygon" in e.value.message("en")
    with pytest.raises(GeometryRefused) as e:
        add_village(store, admin, "서울마을", mapping(SEOUL))
    assert e.value.code == "outside_city"
    with pytest.raises(InvalidInput) as e:
        add_village(store, admin, "   ", mapping(SMALL))
    assert e.value.code == "empty_field" and "마을 이름" in e.value.message("ko")
    with pytest.raises(InvalidInput) as e:
        add_village(store, admin, "가" * 81, mapping(SMALL))
    assert e.value.code == "too_long_field"
    assert villages_frame(store).empty
    # A self-intersecting drawing is repaired, as for proposals.
    vid = add_village(store, admin, "나비마을", BOWTIE)
    with store.transaction() as tx:
        assert tx.villages.get(vid).geometry.geom_type == "MultiPolygon"


def write_geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    return path


def feature(name, geometry, key="마을명"):
    return {"type": "Feature", "properties": {key: name, "note": "x"}, "geometry": geometry}


def test_import_reports_every_feature_and_writes_the_good_ones(ready, tmp_path):
    store, admin, *_ = ready
    path = write_geojson(
        tmp_path / "villages.geojson",
        [
            feature("햇살마을", mapping(STRADDLING)),
            feature("서울마을", mapping(SEOUL)),  # outside the city
            feature("점마을", {"type": "Point", "coordinates": [LON, LAT]}),
            feature(None, mapping(SMALL)),  # no name
            feature("나비마을", BOWTIE),  # repaired
            feature("빈마을", None),
        ],
    )
    result = import_villages(store, admin, path, "마을명")
    assert [(e.feature, e.outcome) for e in result.report] == [
        (0, "added"),
        (1, "refused"),
        (2, "not_polygon"),
        (3, "no_name"),
        (4, "added"),
        (5, "empty_geometry"),
    ]
    assert result.report[1].code == "outside_city" and "서울마을" in result.report[1].message("ko")
    assert "outside Goyang" in result.report[1].message("en")
    assert result.report[4].repairs and result.report[4].repairs[0].code == "self_intersection"
    assert result.report[0].district_code == largest_district(store, STRADDLING)
    assert len(result.added_ids) == 2 and len(result.refused) == 4
    summary_en = result.summary("en")
    assert summary_en.startswith("Imported 2 of 6 villages.") and "feature 2:" in summary_en
    assert result.summary("ko").startswith("6개 중 2개 마을을 가져왔습니다.")
    frame = villages_frame(store)
    assert sorted(frame["name"]) == ["나비마을", "햇살마을"]
    assert set(frame["id"]) == set(result.added_ids)


def test_import_reads_a_geopackage_in_a_metric_crs(ready, tmp_path):
    store, admin, *_ = ready
    frame = gpd.GeoDataFrame({"name": ["작은마을", "큰마을"]}, geometry=[SMALL, STRADDLING], crs=4326).to_crs(5186)
    path = tmp_path / "villages.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    result = import_villages(store, admin, path, "name")
    assert [e.outcome for e in result.report] == ["added", "added"]
    stored = villages_frame(store).set_index("name")
    assert stored.loc["작은마을", "district_code"] == HAENGSIN1
    # Back in lon/lat, within a few centimetres of the original.
    assert stored.loc["큰마을", "geometry"].symmetric_difference(STRADDLING).area < 1e-10


def test_a_refused_file_writes_nothing(ready, tmp_path):
    store, admin, planner, _ = ready
    good = write_geojson(tmp_path / "good.geojson", [feature("햇살마을", mapping(SMALL))])
    with pytest.raises(InvalidInput) as e:
        import_villages(store, admin, good, "이름")
    assert e.value.code == "no_name_column" and "마을명" in e.value.message("ko") and "'이름'" in e.value.message("en")
    points = write_geojson(tmp_path / "points.geojson", [feature("점", {"type": "Point", "coordinates": [LON, LAT]})])
    with pytest.raises(BoundaryImportError) as e:
        import_villages(store, admin, points, "마을명")
    assert e.value.code == "no_polygons"
    (tmp_path / "villages.txt").write_text("not a map")
    with pytest.raises(BoundaryImportError) as e:
        import_villages(store, admin, tmp_path / "villages.txt", "마을명")
    assert e.value.code == "unsupported_format"
    with pytest.raises(NotAllowed):
        import_villages(store, planner, good, "마을명")
    assert villages_frame(store).empty


def test_delete_village(ready):
    store, admin, planner, _ = ready
    vid = add_village(store, admin, "마을", mapping(SMALL))
    with pytest.raises(NotAllowed):
        delete_village(store, planner, vid)
    delete_village(store, admin, vid)
    assert villages_frame(store).empty
    with pytest.raises(InvalidInput) as e:
        delete_village(store, admin, vid)
    assert e.value.code == "no_such_village" and str(vid) in e.value.message("en")
