"""Every refusal of geo.validation, with the message it gives."""
import json

import pytest
import shapely

from geo.errors import GeometryRefused
from geo.validation import Limits, validate_drawn_geometry

# 주교동's representative point, well inside Goyang
LON, LAT = 126.826798, 37.661888


def square(lon=LON, lat=LAT, d=0.001):
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def refused(obj, limits=Limits()):
    with pytest.raises(GeometryRefused) as exc:
        validate_drawn_geometry(obj, limits)
    return exc.value


@pytest.mark.parametrize(
    "gtype, coords",
    [
        ("Point", [LON, LAT]),
        ("LineString", [[LON, LAT], [LON + 0.002, LAT + 0.001]]),
        ("Polygon", square()),
        ("MultiPoint", [[LON, LAT], [LON + 0.001, LAT]]),
        ("MultiLineString", [[[LON, LAT], [LON + 0.001, LAT]], [[LON, LAT + 0.001], [LON + 0.001, LAT + 0.001]]]),
        ("MultiPolygon", [square(), square(LON + 0.01)]),
    ],
)
def test_accepts_every_supported_type(gtype, coords):
    result = validate_drawn_geometry({"type": gtype, "coordinates": coords})
    assert result.geometry.geom_type == gtype
    assert not result.repaired
    assert shapely.get_coordinates(result.geometry)[0].tolist() == pytest.approx(
        shapely.get_coordinates(shapely.geometry.shape({"type": gtype, "coordinates": coords}))[0].tolist()
    )


def test_accepts_a_feature_and_json_text():
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [LON, LAT]}}
    assert validate_drawn_geometry(feature).geometry.equals(shapely.Point(LON, LAT))
    assert validate_drawn_geometry(json.dumps(feature)).geometry.equals(shapely.Point(LON, LAT))


def test_self_intersection_is_repaired_and_reported():
    bowtie = [[[LON, LAT], [LON + 0.002, LAT + 0.002], [LON + 0.002, LAT], [LON, LAT + 0.002], [LON, LAT]]]
    result = validate_drawn_geometry({"type": "Polygon", "coordinates": bowtie})
    assert result.geometry.is_valid
    assert result.geometry.geom_type == "MultiPolygon"
    assert [r.code for r in result.repairs] == ["self_intersection"]
    assert "스스로 교차" in result.repairs[0].message("ko")
    assert "crossed itself" in result.repairs[0].message("en")


def test_unclosed_ring_is_closed_and_reported():
    ring = square()[0][:-1]
    result = validate_drawn_geometry({"type": "Polygon", "coordinates": [ring]})
    assert result.geometry.is_valid and result.geometry.exterior.is_closed
    assert [r.code for r in result.repairs] == ["closed_ring"]


CASES = [
    ("invalid_geojson", "{not json", "올바른 GeoJSON이 아닙니다", "not valid GeoJSON"),
    ("invalid_geojson", 42, "올바른 GeoJSON이 아닙니다", "not valid GeoJSON"),
    ("empty", {"type": "Feature", "geometry": None, "properties": {}}, "도형이 비어 있습니다", "The shape is empty"),
    ("empty", {"type": "Polygon", "coordinates": []}, "도형이 비어 있습니다", "The shape is empty"),
    ("unsupported_type", {"type": "GeometryCollection", "geometries": []}, "지원하지 않는 도형", "Unsupported shape type"),
    ("unsupported_type", {"type": "Circle", "coordinates": [LON, LAT]}, "지원하지 않는 도형", "Unsupported shape type"),
    (
        "circle",
        {"type": "Feature", "properties": {"radius": 120.5}, "geometry": {"type": "Point", "coordinates": [LON, LAT]}},
        "원은 제안 위치로 쓸 수 없습니다",
        "A circle cannot be used",
    ),
    ("malformed_coordinates", {"type": "Point", "coordinates": ["a", "b"]}, "좌표 구조가 잘못", "coordinates are malformed"),
    ("malformed_coordinates", {"type": "LineString", "coordinates": [LON, LAT]}, "좌표 구조가 잘못", "coordinates are malformed"),
    ("malformed_coordinates", {"type": "Point", "coordinates": [True, False]}, "좌표 구조가 잘못", "coordinates are malformed"),
    ("non_finite", {"type": "Point", "coordinates": [float("nan"), LAT]}, "NaN 또는 무한대", "not a finite number"),
    ("non_finite", {"type": "LineString", "coordinates": [[LON, LAT], [float("inf"), LAT]]}, "NaN 또는 무한대", "not a finite number"),
    ("out_of_range", {"type": "Point", "coordinates": [200.0, LAT]}, "범위를 벗어났습니다", "outside longitude"),
    ("swapped_axes", {"type": "Point", "coordinates": [LAT, LON]}, "뒤바뀐 것 같습니다", "seem to be swapped"),
    ("outside_city", {"type": "Point", "coordinates": [126.978, 37.5665]}, "고양시 밖에 있습니다", "outside Goyang"),  # Seoul City Hall
    ("outside_city", {"type": "Point", "coordinates": [135.0, 35.0]}, "고양시 밖에 있습니다", "outside Goyang"),  # Japan
    (
        "outside_city",  # a line that starts in Goyang and runs into Seoul
        {"type": "LineString", "coordinates": [[LON, LAT], [126.978, 37.5665]]},
        "고양시 밖에 있습니다",
        "outside Goyang",
    ),
    ("degenerate", {"type": "LineString", "coordinates": [[LON, LAT], [LON, LAT]]}, "선의 길이가 0", "zero length"),
    ("degenerate", {"type": "LineString", "coordinates": [[LON, LAT]]}, "꼭짓점이 부족", "degenerate"),
    ("degenerate", {"type": "Polygon", "coordinates": [[[LON, LAT], [LON, LAT + 0.001], [LON, LAT]]]}, "넓이가 0", "zero area"),
    ("degenerate", {"type": "Polygon", "coordinates": [[[LON, LAT], [LON, LAT]]]}, "꼭짓점이 부족", "degenerate"),
    (
        "degenerate",  # all vertices on one meridian: zero area
        {"type": "Polygon", "coordinates": [[[LON, LAT], [LON, LAT + 0.001], [LON, LAT + 0.002], [LON, LAT]]]},
        "넓이가 0",
        "zero area",
    ),
    ("degenerate", {"type": "LineString", "coordinates": [[LON, LAT], [LON + 1e-6, LAT]]}, "선이 너무 짧습니다", "too short"),
    ("degenerate", {"type": "Polygon", "coordinates": square(d=1e-6)}, "다각형이 너무 작습니다", "too small"),
]


@pytest.mark.parametrize("code, obj, ko, en", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_refusals_say_what_is_wrong_in_both_languages(code, obj, ko, en):
    err = refused(obj)
    assert err.code == code
    assert ko in err.message("ko")
    assert en in err.message("en")
    assert ko in str(err) and en in str(err)


def test_too_many_vertices():
    coords = [[LON + i * 1e-5, LAT + (i % 2) * 1e-5] for i in range(101)]
    err = refused({"type": "LineString", "coordinates": coords}, Limits(max_vertices=100))
    assert err.code == "too_many_vertices"
    assert "최대 100개" in err.message("ko") and "at most 100" in err.message("en")


def test_too_many_parts():
    pts = [[LON + i * 1e-4, LAT] for i in range(11)]
    err = refused({"type": "MultiPoint", "coordinates": pts}, Limits(max_parts=10))
    assert err.code == "too_many_parts"
    assert "최대 10개" in err.message("ko") and "at most 10" in err.message("en")


def test_too_long_line():
    # about 7 km north to south through Goyang
    line = {"type": "LineString", "coordinates": [[126.80, 37.62], [126.80, 37.68]]}
    err = refused(line, Limits(max_length_m=5_000))
    assert err.code == "too_long"
    assert "선이 너무 깁니다" in err.message("ko") and "too long" in err.message("en")
    assert validate_drawn_geometry(line).geometry.length > 0  # fine under the default limit


def test_too_large_polygon():
    err = refused({"type": "Polygon", "coordinates": square(d=0.05)}, Limits(max_area_m2=1_000_000))
    assert err.code == "too_large"
    assert "다각형이 너무 큽니다" in err.message("ko") and "too large" in err.message("en")


def test_too_big_json_text():
    text = json.dumps({"type": "Point", "coordinates": [LON, LAT], "pad": "x" * 5000})
    err = refused(text, Limits(max_json_bytes=1000))
    assert err.code == "too_big"
    assert "너무 큽니다" in err.message("ko") and "too large" in err.message("en")


def test_small_tolerance_at_the_city_edge():
    from geo.boundaries import city_outline
    from geo.crs import to_metric, to_storage

    edge = to_metric(city_outline()).exterior
    # a point 20 m outside the outline is accepted (default tolerance 50 m), 500 m outside is not
    p = edge.interpolate(1000.0)
    outward = to_metric(city_outline()).buffer(20).exterior
    near = to_storage(outward.interpolate(outward.project(p)))
    assert validate_drawn_geometry({"type": "Point", "coordinates": [near.x, near.y]}).geometry.equals(near)
    far_ring = to_metric(city_outline()).buffer(500).exterior
    far = to_storage(far_ring.interpolate(far_ring.project(p)))
    assert refused({"type": "Point", "coordinates": [far.x, far.y]}).code == "outside_city"
