"""Counting points on a square grid in EPSG:5179 (the clustered form of the residents' map).

Cells are squares of side ``cell_m`` metres anchored at the CRS origin, so a
cell is the same whatever the view: cell ``(i, j)`` covers
``[i * cell_m, (i + 1) * cell_m) x [j * cell_m, (j + 1) * cell_m)``. The same
sums come from :func:`grid_sums` (numpy, SQLite) and from the database
(``GROUP BY floor(x / cell), floor(y / cell)`` on PostGIS, see
``store.repositories.ProposalsRepo.grid_cells``); :func:`coarsen` merges cells
into cells of twice the side without going back to the points, because
``floor(floor(x / c) / 2) == floor(x / (2 c))``.
"""
from __future__ import annotations

import numpy as np

from geo.crs import lonlat_to_metric

#: One row per non-empty cell: i, j, count, sum of x, sum of y (metres).
CellSums = np.ndarray


def grid_sums(x: np.ndarray, y: np.ndarray, cell_m: float) -> CellSums:
    """Sums per non-empty cell of points given in EPSG:5179 metres.

    Parameters
    ----------
    x, y : array of float
        Point coordinates in EPSG:5179; NaN rows are skipped.
    cell_m : float
        Cell side in metres (positive).

    Returns
    -------
    ndarray of shape (k, 5)
        ``i, j, count, sum_x, sum_y`` per non-empty cell, sorted by ``(i, j)``.
    """
    if not cell_m > 0:
        raise ValueError("cell_m must be positive")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if not len(x):
        return np.zeros((0, 5))
    ij = np.column_stack([np.floor(x / cell_m), np.floor(y / cell_m)])
    cells, inverse = np.unique(ij, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse).astype(float)
    return np.column_stack([cells, counts, np.bincount(inverse, weights=x), np.bincount(inverse, weights=y)])


def coarsen(cells: CellSums) -> CellSums:
    """The same sums on the grid of twice the cell side (cells ``(i // 2, j // 2)`` merged)."""
    cells = np.asarray(cells, dtype=float).reshape(-1, 5)
    if not len(cells):
        return cells
    ij = np.floor(cells[:, :2] / 2.0)
    merged, inverse = np.unique(ij, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    sums = [np.bincount(inverse, weights=cells[:, k]) for k in (2, 3, 4)]
    return np.column_stack([merged, *sums])


def lonlat_grid_sums(lon: np.ndarray, lat: np.ndarray, cell_m: float) -> CellSums:
    """:func:`grid_sums` of lon/lat points (EPSG:4326), projected to EPSG:5179 first."""
    x, y = lonlat_to_metric(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return grid_sums(x, y, cell_m)
