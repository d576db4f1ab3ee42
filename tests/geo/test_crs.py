import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import (
    folium_bounds,
    folium_latlon,
    lonlat_to_metric,
    metric_to_lonlat,
    to_metric,
    to_storage,
)
from settings import DATA_DIR

DONGS = pd.read_csv(DATA_DIR / "goyang_admin_dongs.csv", dtype={"adm_code": str})


def test_to_metric_matches_the_published_5179_coordinates():
    # the CSV carries each point in both CRSs: our transform must agree to the metre
    x, y = lonlat_to_metric(DONGS["lon"], DONGS["lat"])
    assert np.abs(x - DONGS["x_5179"]).max() < 2.0
    assert np.abs(y - DONGS["y_5179"]).max() < 2.0


def test_geometry_round_trip_keeps_lon_lat_order():
    p = shapely.Point(126.826798, 37.661888)
    m = to_metric(p)
    assert 900_000 < m.x < 1_000_000 and 1_900_000 < m.y < 2_000_000  # easting first
    back = to_storage(m)
    assert back.x == pytest.approx(126.826798, abs=1e-9)
    assert back.y == pytest.approx(37.661888, abs=1e-9)


def test_arrays_of_geometries_are_projected_elementwise():
    geoms = np.array([shapely.Point(126.8, 37.6), shapely.LineString([(126.8, 37.6), (126.81, 37.6)])])
    out = to_metric(geoms)
    assert out.shape == (2,)
    # 0.01 degree of longitude at 37.6°N is about 881 m
    assert out[1].length == pytest.approx(881, rel=0.01)


def test_metric_to_lonlat_inverts():
    lon, lat = metric_to_lonlat(*lonlat_to_metric([126.9], [37.7]))
    assert lon[0] == pytest.approx(126.9) and lat[0] == pytest.approx(37.7)


def test_to_storage_from_5186():
    # EPSG:5186 (Korea 2000 / Central Belt 2010) is also northing-first; always_xy keeps x = easting
    from geo.crs import transformer

    x, y = transformer(4326, 5186).transform(126.826798, 37.661888)
    back = to_storage(shapely.Point(x, y), src_epsg=5186)
    assert (back.x, back.y) == pytest.approx((126.826798, 37.661888))


def test_folium_order_is_lat_lon():
    assert folium_latlon(126.83, 37.66) == [37.66, 126.83]
    assert folium_bounds(126.67, 37.57, 126.99, 37.75) == [[37.57, 126.67], [37.75, 126.99]]
