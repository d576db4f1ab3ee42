"""Finding gu and dongs by name, code, prefix or initial consonants."""
from __future__ import annotations

import pickle

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo import boundaries
from geo.search import Place, all_places, choseong, find_places, normalise

HAENGSIN1 = "4128164000"


def top(query: str, **kw) -> Place:
    found = find_places(query, **kw)
    assert found, query
    return found[0]


def names(query: str, limit: int = 10) -> list[tuple[str, str]]:
    return [(p.kind, p.name) for p in find_places(query, limit=limit)]


def test_every_place_is_there():
    places = all_places()
    kinds = [p.kind for p in places]
    assert (kinds.count("gu"), kinds.count("admin_dong"), kinds.count("legal_dong")) == (3, 44, 53)
    assert {len(p.code) for p in places if p.kind == "admin_dong"} == {10}
    assert {len(p.code) for p in places if p.kind == "legal_dong"} == {8}
    assert {len(p.code) for p in places if p.kind == "gu"} == {5}


@pytest.mark.parametrize("query", ["행신1동", "행신 1동", "행신1", "행신 1", "행신제1동", "행신 제1동", "행신１동", " 행신1동 ", "덕양구 행신1동", "고양시 덕양구 행신1동"])
def test_name_variants(query):
    p = top(query)
    assert (p.kind, p.code, p.name) == ("admin_dong", HAENGSIN1, "행신1동")


def test_exact_codes():
    assert (top(HAENGSIN1).kind, top(HAENGSIN1).name) == ("admin_dong", "행신1동")
    assert (top("41281128").kind, top("41281128").name) == ("legal_dong", "행신동")
    assert (top("41281").kind, top("41281").name) == ("gu", "덕양구")
    assert find_places("9999999999") == []


def test_code_prefix_lists_the_gu_first_then_dongs_in_code_order():
    found = find_places("41285", limit=50)
    assert found[0].kind == "gu" and found[0].name == "일산동구"
    rest = found[1:]
    assert rest and all(p.code.startswith("41285") for p in rest)
    assert [p.code for p in rest if p.kind == "admin_dong"] == sorted(p.code for p in rest if p.kind == "admin_dong")
    assert all(p.score < found[0].score for p in rest)
    assert find_places("4", limit=5) == []  # one digit is too little to mean anything


def test_name_prefix_ranks_the_exact_name_first():
    assert names("행신", limit=5) == [
        ("legal_dong", "행신동"),
        ("admin_dong", "행신1동"),
        ("admin_dong", "행신2동"),
        ("admin_dong", "행신3동"),
        ("admin_dong", "행신4동"),
    ]
    assert names("행신동", limit=2) == [("legal_dong", "행신동"), ("admin_dong", "행신1동")]


def test_same_name_admin_dong_before_legal_dong():
    assert names("주교동") == [("admin_dong", "주교동"), ("legal_dong", "주교동")]
    assert names("고양동")[:2] == [("admin_dong", "고양동"), ("legal_dong", "고양동")]  # not mistaken for the city


def test_gu_names():
    found = find_places("덕양구", limit=100)
    assert (found[0].kind, found[0].name) == ("gu", "덕양구")
    dongs = found[1:]
    assert len(dongs) == 21 + 32  # its administrative and legal dongs, after the gu
    assert all(p.gu == "덕양구" for p in dongs)
    assert top("덕양").name == "덕양구"
    assert top("일산서구").name == "일산서구" and top("일산동구").name == "일산동구"
    assert top("고양시 일산동구").name == "일산동구"


def test_ambiguous_short_names():
    assert names("일산", limit=5)[:3] == [("legal_dong", "일산동"), ("gu", "일산동구"), ("gu", "일산서구")]
    assert names("일산동")[0] == ("legal_dong", "일산동")
    assert names("풍")[0] == ("legal_dong", "풍동")
    assert ("admin_dong", "풍산동") in names("풍")


def test_initial_consonants():
    assert choseong("행신1동") == "ㅎㅅ1ㄷ"
    assert top("ㅎㅅ1").name == "행신1동"
    assert names("ㅎㅅ", limit=5)[0] == ("legal_dong", "행신동")
    assert ("admin_dong", "화정1동") in names("ㅎㅈ1")
    assert top("\u1112\u1109\u0031").name == "행신1동"  # conjoining jamo from some keyboards


def test_part_of_a_name():
    assert top("신1").name == "행신1동"
    assert top("정발").name == "정발산동"


def test_nothing_matches_or_nothing_asked():
    assert find_places("") == [] and find_places("   ") == [] and find_places("·-") == []
    assert find_places("서울") == []
    assert find_places("x" * 10_000) == []
    with pytest.raises(TypeError):
        find_places(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        find_places("행신", limit=0)


def test_limit():
    assert len(find_places("4128", limit=7)) == 7
    assert len(find_places("4128", limit=1000)) == 100


def test_place_geometry_in_lon_lat():
    city = boundaries.city_outline()
    for p in all_places():
        minx, miny, maxx, maxy = p.bounds
        assert 126.6 < minx <= maxx < 127.0 and 37.5 < miny <= maxy < 37.8, p
        lon, lat = p.centre
        assert (p.centre_lon, p.centre_lat) == p.centre
        assert minx <= lon <= maxx and miny <= lat <= maxy, p
        assert city.buffer(0.001).contains(Point(lon, lat)), p
    h = top("행신1동")
    rep = boundaries.admin_dongs().set_index("adm_code").loc[HAENGSIN1, "geometry"]
    assert h.centre == (rep.x, rep.y)  # the dong's representative point
    assert h.approximate  # bounds of the Voronoi district until official ones are given
    assert not top("행신동").approximate and not top("덕양구").approximate


def test_display_names_and_labels():
    h = top("행신1동")
    assert h.display_name == "고양시 덕양구 행신1동" and h.gu == "덕양구"
    assert h.label("ko") == "고양시 덕양구 행신1동 (행정동)"
    assert top("행신동").label("en") == "고양시 덕양구 행신동 (legal dong)"
    assert top("덕양구").gu == "덕양구"


def test_official_district_polygons_replace_the_approximate_ones():
    official = gpd.GeoDataFrame(
        {"adm_code": [HAENGSIN1]}, geometry=[box(126.82, 37.61, 126.83, 37.62)], crs=4326
    )
    h = top("행신1동", districts=official)
    assert h.bounds == (126.82, 37.61, 126.83, 37.62) and not h.approximate
    other = top("주교동", districts=official)  # not in the file: its point only, flagged approximate
    assert other.approximate and other.bounds[0] == other.bounds[2]
    with pytest.raises(ValueError, match="EPSG:4326"):
        find_places("행신", districts=official.set_crs(5179, allow_override=True))
    with pytest.raises(ValueError, match="adm_code"):
        find_places("행신", districts=official.rename(columns={"adm_code": "code"}))


def test_places_are_plain_values():
    p = top("행신1동")
    assert pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]


def test_normalise():
    assert normalise(" 행신 제1동 ") == "행신1동"
    assert normalise("ＡＢ행신１") == "ａｂ행신1"  # only digits are folded
    assert normalise("Haeng-Sin") == "haengsin"
