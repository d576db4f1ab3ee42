"""Grid sums of the clustered map (geo/grid.py): against brute force, coarsening, degenerate input."""
from __future__ import annotations

import numpy as np
import pytest

from geo.crs import lonlat_to_metric
from geo.grid import coarsen, grid_sums, lonlat_grid_sums


def brute(x, y, cell):
    out = {}
    for a, b in zip(x, y):
        key = (int(np.floor(a / cell)), int(np.floor(b / cell)))
        n, sx, sy = out.get(key, (0, 0.0, 0.0))
        out[key] = (n + 1, sx + a, sy + b)
    return out


def as_dict(cells):
    return {(int(r[0]), int(r[1])): (int(r[2]), r[3], r[4]) for r in cells}


@pytest.mark.parametrize("cell", [37.5, 400.0, 2500.0])
def test_sums_equal_brute_force(cell):
    rng = np.random.default_rng(7)
    x = rng.uniform(930_000, 960_000, 3000)
    y = rng.uniform(1_940_000, 1_965_000, 3000)
    got = as_dict(grid_sums(x, y, cell))
    want = brute(x, y, cell)
    assert got.keys() == want.keys()
    for k, (n, sx, sy) in want.items():
        assert got[k][0] == n and got[k][1] == pytest.approx(sx) and got[k][2] == pytest.approx(sy)
    cells = grid_sums(x, y, cell)
    assert cells[:, 2].sum() == 3000
    assert (np.lexsort((cells[:, 1], cells[:, 0])) == np.arange(len(cells))).all()  # sorted by (i, j)


def test_negative_coordinates_use_floor_not_truncation():
    cells = as_dict(grid_sums(np.array([-0.5, 0.5, -100.0]), np.array([0.5, 0.5, -0.1]), 100.0))
    assert cells == {(-1, 0): (1, -0.5, 0.5), (0, 0): (1, 0.5, 0.5), (-1, -1): (1, -100.0, -0.1)}


@pytest.mark.parametrize("cell", [50.0, 333.0])
def test_coarsen_is_the_grid_of_twice_the_side(cell):
    rng = np.random.default_rng(3)
    x = rng.uniform(-5_000, 5_000, 2000)
    y = rng.uniform(1_950_000, 1_960_000, 2000)
    once, direct = coarsen(grid_sums(x, y, cell)), grid_sums(x, y, 2 * cell)
    assert once.shape == direct.shape
    np.testing.assert_allclose(once, direct)
    np.testing.assert_allclose(coarsen(coarsen(grid_sums(x, y, cell))), grid_sums(x, y, 4 * cell))


def test_nan_rows_empty_input_and_bad_cells():
    cells = grid_sums(np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, np.inf]), 10.0)
    assert cells.tolist() == [[0.0, 0.0, 1.0, 1.0, 1.0]]
    assert grid_sums(np.array([]), np.array([]), 10.0).shape == (0, 5)
    assert coarsen(np.zeros((0, 5))).shape == (0, 5)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError):
            grid_sums(np.array([1.0]), np.array([1.0]), bad)


def test_lonlat_points_are_projected_to_metres_first():
    lon, lat = np.array([126.83, 126.9]), np.array([37.65, 37.7])  # GeoJSON order: x = lon
    x, y = lonlat_to_metric(lon, lat)
    np.testing.assert_allclose(lonlat_grid_sums(lon, lat, 100.0), grid_sums(x, y, 100.0))
    assert 900_000 < x.min() < 1_000_000 and 1_900_000 < y.min() < 2_000_000  # EPSG:5179 easting, northing
