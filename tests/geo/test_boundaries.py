import shapely

from geo import boundaries as b
from geo.crs import to_metric


def test_three_gu_with_display_names():
    gu = b.gu_boundaries()
    assert list(gu["gu_code"]) == ["41281", "41285", "41287"]
    assert list(gu["display_name"]) == ["고양시 덕양구", "고양시 일산동구", "고양시 일산서구"]
    assert gu.crs.to_epsg() == 4326


def test_city_outline_is_goyang():
    city = b.city_outline()
    area_km2 = to_metric(city).area / 1e6
    assert 255 < area_km2 < 280  # Goyang is about 268 km²
    minx, miny, maxx, maxy = city.bounds
    assert 126.6 < minx < maxx < 127.0 and 37.5 < miny < maxy < 37.8  # lon first


def test_53_legal_dongs_named_as_people_say_them():
    legal = b.legal_dongs()
    assert len(legal) == 53
    assert legal["code"].str.len().eq(8).all() and legal["code"].str.startswith("4128").all()
    row = legal[legal["name"] == "행신동"].iloc[0]
    assert row["code"] == "41281128" and row["gu_code"] == "41281"
    assert row["display_name"] == "고양시 덕양구 행신동"


def test_44_admin_dongs_with_voters():
    ad = b.admin_dongs()
    assert len(ad) == 44
    assert ad["voters"].sum() == 825_688
    assert ad["adm_code"].str.len().eq(10).all()
    city = b.city_outline()
    assert shapely.contains(city, ad.geometry.values).all()


def test_approximate_districts_partition_the_city():
    cells = b.approximate_districts()
    assert len(cells) == 44 and cells["approximate"].all()
    ad = b.admin_dongs()
    # each cell holds its own dong's point
    assert all(c.contains(p) for c, p in zip(cells.geometry, ad.geometry))
    m = to_metric(cells.geometry.values)
    total = sum(g.area for g in m)
    city = to_metric(b.city_outline()).area
    assert abs(total - city) / city < 1e-6  # no gaps
    union = shapely.union_all(m)
    assert abs(union.area - total) / total < 1e-6  # no overlaps


def test_returned_frames_are_copies():
    a = b.legal_dongs()
    a.loc[0, "name"] = "changed"
    assert b.legal_dongs().loc[0, "name"] != "changed"
