"""H3 hexagons in GeoJSON order (lon, lat), areas through geo.crs."""
import h3
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, mapping

from geo.boundaries import city_outline
from geo.crs import to_metric
from geo.hexagons import (
    HexagonRefused,
    cell_centre,
    cell_polygon,
    cell_polygons,
    cells_covering,
    cells_for_points,
    check_resolution,
)

# 고양시청 (lon, lat), and 일산 호수공원
LON, LAT = 126.8320, 37.6584
LON2, LAT2 = 126.7640, 37.6560


def test_points_go_to_the_cell_of_lat_lng_not_lng_lat():
    cells = cells_for_points([LON, LON2], [LAT, LAT2], 8)
    assert list(cells) == [h3.latlng_to_cell(LAT, LON, 8), h3.latlng_to_cell(LAT2, LON2, 8)]
    # the swapped call lands somewhere else entirely (lat 126.8 is folded to the other side of the globe)
    assert cells[0] != h3.latlng_to_cell(LON, LAT, 8)
    assert all(h3.get_resolution(c) == 8 for c in cells)


@pytest.mark.parametrize("res", [5, 7, 8, 10])
def test_cell_polygon_is_lon_lat_and_holds_its_point(res):
    (cell,) = cells_for_points([LON], [LAT], res)
    poly = cell_polygon(cell)
    assert poly.is_valid and poly.exterior.is_closed
    assert len(poly.exterior.coords) == 7  # six corners and the closing one
    assert poly.contains(Point(LON, LAT))  # x = lon, y = lat
    assert not poly.contains(Point(LAT, LON))
    minx, miny, maxx, maxy = poly.bounds
    assert 126 < minx < maxx < 128 and 37 < miny < maxy < 38.5
    # GeoJSON order: each coordinate pair is H3's (lat, lng) reversed
    ring = mapping(poly)["coordinates"][0]
    for (x, y), (lat, lng) in zip(ring, h3.cell_to_boundary(cell)):
        assert (x, y) == pytest.approx((lng, lat))
    lon_c, lat_c = cell_centre(cell)
    assert (lon_c, lat_c) == pytest.approx(tuple(reversed(h3.cell_to_latlng(cell))))
    assert poly.contains(Point(lon_c, lat_c))
    # the area in EPSG:5179 metres agrees with H3's own
    assert to_metric(poly).area == pytest.approx(h3.cell_area(cell, "m^2"), rel=0.01)


def test_cells_covering_the_city_tile_it():
    cells = cells_covering(city_outline(), 7)
    assert cells == sorted(cells) and len(set(cells)) == len(cells)
    polys = cell_polygons(cells)
    # every cell's centre lies in the city, and the cells do not overlap
    centres = shapely.points([cell_centre(c) for c in cells])
    assert shapely.contains(city_outline(), centres).all()
    union = shapely.union_all(to_metric(polys))
    assert union.area == pytest.approx(sum(p.area for p in to_metric(polys)), rel=1e-6)
    # and together they cover most of the city (the rest is along the edge)
    city_m = to_metric(city_outline())
    assert union.intersection(city_m).area / city_m.area > 0.8
    assert cells_covering(shapely.Polygon(), 7) == []


@pytest.mark.parametrize("res", [4, 11, 8.0, "8", True, None])
def test_bad_resolutions_are_refused_in_both_languages(res):
    with pytest.raises(HexagonRefused) as err:
        check_resolution(res)
    assert err.value.code == "bad_resolution"
    assert "해상도" in err.value.ko and "resolution" in err.value.en


def test_bad_points_and_cells_are_refused():
    with pytest.raises(HexagonRefused) as err:
        cells_for_points([LON, np.nan], [LAT, LAT], 8)
    assert err.value.code == "bad_coordinates" and "2번째" in err.value.ko and "Point 2" in err.value.en
    with pytest.raises(HexagonRefused) as err:
        cells_for_points([945_000.0], [1_950_000.0], 8)  # metres, not degrees
    assert err.value.code == "bad_coordinates"
    with pytest.raises(HexagonRefused) as err:
        cell_polygon("not-a-cell")
    assert err.value.code == "bad_cell"
    assert len(cells_for_points([], [], 8)) == 0
