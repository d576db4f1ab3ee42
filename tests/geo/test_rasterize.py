import math

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import rowcol
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from geo.crs import lonlat_to_metric, to_metric, to_storage
from geo.errors import Refusal
from geo.rasterize import (
    DensityRefused,
    check_density_params,
    covering_grid,
    grid_for,
    point_density,
    rasterize_density,
    representative_xy,
)
from layers.rasters import write_density_geotiff


def test_grid_is_aligned_and_covers():
    g = grid_for((940_010.0, 1_960_020.0, 940_950.0, 1_960_480.0), 100)
    assert (g.west, g.north, g.width, g.height) == (940_000.0, 1_960_500.0, 10, 5)
    assert g.transform.a == 100 and g.transform.e == -100
    with pytest.raises(ValueError):
        grid_for((0, 0, 1, 1), 0)


def cell(grid, x, y):
    return rowcol(grid.transform, x, y)


def test_density_per_km2_is_burnt_into_the_right_cells():
    # two 1 km squares side by side in EPSG:5179, 1000 and 3000 people
    a = shapely.box(940_010, 1_960_010, 941_010, 1_961_010)
    b = shapely.box(941_010, 1_960_010, 942_010, 1_961_010)
    arr, grid = rasterize_density(to_storage(np.array([a, b], dtype=object)), np.array([1000, 3000]), cell_m=250)
    assert arr.dtype == np.float32
    assert grid.west <= 940_010 and grid.west + grid.width * 250 >= 942_010
    assert arr[cell(grid, 940_500, 1_960_500)] == pytest.approx(1000, rel=1e-3)
    assert arr[cell(grid, 941_500, 1_960_500)] == pytest.approx(3000, rel=1e-3)
    assert np.isnan(arr[cell(grid, 940_005, 1_961_240)])  # the corner cell outside both squares is nodata


def test_clip_makes_outside_cells_nodata():
    a = shapely.box(940_010, 1_960_010, 942_010, 1_962_010)
    clip = shapely.box(940_010, 1_960_010, 941_010, 1_962_010)
    arr, grid = rasterize_density(to_storage(np.array([a], dtype=object)), np.array([4000]), cell_m=500, clip=to_storage(clip))
    assert np.isfinite(arr[cell(grid, 940_600, 1_961_000)])
    assert np.isnan(arr[cell(grid, 941_600, 1_961_000)])


# ---------------------------------------------------------------------------
# point_density
# ---------------------------------------------------------------------------

# EPSG:5179 near 화정동; cells of 100 m have edges on multiples of 100
X0, Y0 = 945_000.0, 1_962_000.0


def random_points_m(n, seed=3, span=4_000.0):
    rng = np.random.default_rng(seed)
    return X0 + rng.uniform(0, span, n), Y0 + rng.uniform(0, span, n)


def test_count_cells_sum_to_the_features_and_hold_each_point():
    xs, ys = random_points_m(500)
    # points exactly on cell edges and corners, and a repeated point
    xs = np.concatenate([xs, [X0, X0 + 100.0, X0 + 250.0, X0 + 250.0]])
    ys = np.concatenate([ys, [Y0, Y0 + 300.0, Y0 + 1_000.0, Y0 + 1_000.0]])
    arr, grid = point_density(shapely.points(xs, ys), 100, "count", metric=True)
    assert arr.dtype == np.int32
    assert arr.sum() == len(xs)
    rows, cols = rowcol(grid.transform, xs, ys)
    assert (arr[rows, cols] > 0).all()
    # the cell rasterio picks contains the point: [west, east) x (south, north]
    west = grid.west + np.asarray(cols) * 100.0
    north = grid.north - np.asarray(rows) * 100.0
    assert ((west <= xs) & (xs < west + 100.0)).all()
    assert ((north - 100.0 < ys) & (ys <= north)).all()
    # counts per cell are exact: recount with a plain histogram over the same grid
    expected, _, _ = np.histogram2d(
        grid.north - ys, xs - grid.west, bins=[grid.height, grid.width],
        range=[[0, grid.height * 100.0], [0, grid.width * 100.0]],
    )
    assert (arr == expected).all()


def test_edge_points_are_found_by_rasterio_sample_and_index(tmp_path):
    # lon/lat input; every point sits on a cell edge or corner of a 50 m grid in EPSG:5179
    xs = np.array([X0, X0 + 50.0, X0 + 100.0, X0 + 125.0, X0 + 400.0, X0 + 400.0])
    ys = np.array([Y0, Y0 + 50.0, Y0 + 75.0, Y0 + 100.0, Y0 + 400.0, Y0])
    geoms_lonlat = to_storage(shapely.points(xs, ys))
    arr, grid = point_density(geoms_lonlat, 50, "count")
    assert arr.sum() == len(xs)
    path = write_density_geotiff(tmp_path / "edges.tif", arr, grid.transform, method="count", cell_m=50, feature_count=len(xs))
    # the points as rasterio's users would have them: lon/lat projected again
    lon, lat = shapely.get_x(geoms_lonlat), shapely.get_y(geoms_lonlat)
    px, py = lonlat_to_metric(lon, lat)
    with rasterio.open(path) as src:
        for x, y in zip(px, py):
            r, c = src.index(x, y)
            assert 0 <= r < src.height and 0 <= c < src.width
            assert arr[r, c] > 0
            (value,) = next(src.sample([(x, y)]))
            assert value == arr[r, c] > 0
            # and the cell's bounds hold the point
            left, top = src.transform @ (c, r)
            assert left <= x < left + 50 and top - 50 < y <= top


def test_representative_points_of_lines_and_polygons():
    line = LineString([(X0, Y0), (X0 + 300.0, Y0), (X0 + 300.0, Y0 + 100.0)])  # 400 m: middle at 200 m along
    ring = Polygon([(X0, Y0), (X0 + 300, Y0), (X0 + 300, Y0 + 300), (X0, Y0 + 300)], [[(X0 + 50, Y0 + 50), (X0 + 250, Y0 + 50), (X0 + 250, Y0 + 250), (X0 + 50, Y0 + 250)]])
    geoms = np.array([Point(X0 + 10, Y0 + 20), line, ring, None, Polygon(), MultiPoint([(X0, Y0), (X0 + 2, Y0)])], dtype=object)
    x, y, kept = representative_xy(geoms)
    assert kept.tolist() == [True, True, True, False, False, True]
    assert (x[0], y[0]) == (X0 + 10, Y0 + 20)
    assert (x[1], y[1]) == pytest.approx((X0 + 200.0, Y0))
    assert ring.contains(Point(x[2], y[2]))  # inside the ring, not in its hole (where the centroid is)
    assert not ring.contains(ring.centroid)
    # a line and a polygon count once, at that point
    arr, grid = point_density(geoms, 100, "count", metric=True)
    assert arr.sum() == 4
    r, c = rowcol(grid.transform, x[1], y[1])
    assert arr[r, c] >= 1


def test_kde_integrates_to_the_number_of_features_and_uses_metres():
    xs, ys = random_points_m(300, seed=11)
    for cell, bw in ((50, 200), (100, 400), (25, 60)):
        arr, grid = point_density(shapely.points(xs, ys), cell, "kde", bw, metric=True)
        assert arr.dtype == np.float32
        integral = float(arr.sum(dtype=np.float64)) * (cell / 1000) ** 2
        assert integral == pytest.approx(300, rel=1e-3)
    # one point: the peak is the Gaussian's 1 / (2 pi sigma^2), per km²
    sigma = 300.0
    one = np.array([Point(X0 + 25.0, Y0 + 25.0)], dtype=object)  # a cell centre of the 50 m grid
    arr, grid = point_density(one, 50, "kde", sigma, metric=True)
    expected = 1.0 / (2 * math.pi * sigma**2) * 1e6
    assert arr.max() == pytest.approx(expected, rel=0.03)
    r, c = rowcol(grid.transform, X0 + 25.0, Y0 + 25.0)
    assert arr[r, c] == arr.max()
    # at one sigma (6 cells east) the density is exp(-1/2) of the peak
    assert arr[r, c + 6] / arr[r, c] == pytest.approx(math.exp(-0.5), rel=0.03)
    # the grid is padded by three bandwidths around the point
    assert grid.width * 50 >= 6 * sigma


def test_kde_matches_a_direct_kernel_sum():
    xs, ys = random_points_m(40, seed=2, span=1_500.0)
    cell, bw = 50.0, 250.0
    arr, grid = point_density(shapely.points(xs, ys), cell, "kde", bw, metric=True)
    # direct evaluation at a few cell centres (points snapped to their cell centres, as the grid does)
    rows, cols = rowcol(grid.transform, xs, ys)
    cx = grid.west + (np.asarray(cols) + 0.5) * cell
    cy = grid.north - (np.asarray(rows) + 0.5) * cell
    for r, c in ((rows[0], cols[0]), (grid.height // 2, grid.width // 2), (rows[5] + 3, cols[5] - 4)):
        px, py = grid.west + (c + 0.5) * cell, grid.north - (r + 0.5) * cell
        d2 = (cx - px) ** 2 + (cy - py) ** 2
        direct = np.exp(-d2 / (2 * bw**2)).sum() / (2 * math.pi * bw**2) * 1e6
        assert arr[r, c] == pytest.approx(direct, rel=0.03, abs=1e-3)


def test_bounds_extend_the_grid_and_align_it():
    xs, ys = random_points_m(10, span=500.0)
    bounds = (X0 - 1_030.0, Y0 - 970.0, X0 + 2_010.0, Y0 + 2_000.0)
    arr, grid = point_density(shapely.points(xs, ys), 100, "count", bounds=bounds, metric=True)
    assert arr.sum() == 10
    assert grid.west <= bounds[0] and grid.west % 100 == 0 and grid.north % 100 == 0
    assert grid.west + grid.width * 100 >= bounds[2] and grid.north - grid.height * 100 <= bounds[1]
    # bounds alone (no features) give an empty grid
    arr, grid = point_density(np.array([], dtype=object), 100, "count", bounds=bounds, metric=True)
    assert arr.sum() == 0 and arr.size > 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"cell_m": 5}, "bad_cell"),
        ({"cell_m": 6_000}, "bad_cell"),
        ({"cell_m": float("nan")}, "bad_cell"),
        ({"cell_m": "100"}, "bad_cell"),
        ({"cell_m": 100, "method": "idw"}, "bad_method"),
        ({"cell_m": 100, "method": "kde", "bandwidth_m": 50}, "bad_bandwidth"),
        ({"cell_m": 100, "method": "kde", "bandwidth_m": 50_000}, "bad_bandwidth"),
        ({"cell_m": 100, "method": "kde", "bandwidth_m": -1}, "bad_bandwidth"),
    ],
)
def test_bad_parameters_are_refused_in_both_languages(kwargs, code):
    with pytest.raises(DensityRefused) as err:
        point_density(np.array([Point(X0, Y0)], dtype=object), metric=True, **kwargs)
    e = err.value
    assert isinstance(e, Refusal) and e.code == code
    assert e.ko and e.en and e.ko != e.en
    assert any("\uac00" <= ch <= "\ud7a3" for ch in e.ko)  # Korean text
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in e.en)  # English text


def test_default_bandwidth_and_count_ignores_bandwidth():
    assert check_density_params(100, "kde", None) == (100.0, "kde", 500.0)
    assert check_density_params(400, "kde", None) == (400.0, "kde", 800.0)
    assert check_density_params(100, "count", 300) == (100.0, "count", None)


def test_grid_size_is_capped():
    pts = np.array([Point(X0, Y0), Point(X0 + 100_000, Y0 + 100_000)], dtype=object)
    with pytest.raises(DensityRefused) as err:
        point_density(pts, 10, "count", metric=True)
    assert err.value.code == "grid_too_large"
    assert "셀 크기를 키우" in err.value.ko and "larger cells" in err.value.en
    # padding counts too: a wide kernel on a fine grid
    with pytest.raises(DensityRefused) as err:
        point_density(pts[:1], 10, "kde", 10_000, metric=True)
    assert err.value.code == "grid_too_large"
    with pytest.raises(DensityRefused) as err:
        point_density(np.array([], dtype=object), 100, "count", metric=True)
    assert err.value.code == "no_features"


def test_lonlat_and_metric_inputs_agree():
    xs, ys = random_points_m(50, seed=9)
    metric = shapely.points(xs, ys)
    a, ga = point_density(metric, 100, "count", metric=True)
    b, gb = point_density(to_storage(metric), 100, "count")
    assert ga == gb and (a == b).all()
    g, rows, cols = covering_grid(xs, ys, 100)
    assert g == ga and (a[rows, cols] > 0).all()
    # to_metric of the stored points moves them by far less than a cell
    assert np.allclose(shapely.get_x(to_metric(to_storage(metric))), xs, atol=1e-6)
