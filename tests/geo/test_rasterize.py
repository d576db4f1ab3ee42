import numpy as np
import pytest
import shapely
from rasterio.transform import rowcol

from geo.crs import to_storage
from geo.rasterize import grid_for, rasterize_density


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
