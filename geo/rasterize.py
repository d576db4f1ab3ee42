"""Rasters of vector data, always on an EPSG:5179 grid in metres."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from rasterio import features
from shapely.geometry.base import BaseGeometry

from geo.crs import METRIC_EPSG, to_metric


@dataclass(frozen=True)
class Grid:
    """A north-up grid in EPSG:5179: origin at the north-west corner, square cells of ``cell_m`` metres."""

    west: float
    north: float
    cell_m: float
    width: int
    height: int
    epsg: int = METRIC_EPSG

    @property
    def transform(self) -> Affine:
        return Affine(self.cell_m, 0.0, self.west, 0.0, -self.cell_m, self.north)


def grid_for(bounds_m: tuple[float, float, float, float], cell_m: float) -> Grid:
    """The smallest grid of ``cell_m`` cells, aligned to multiples of ``cell_m``, covering metric bounds."""
    if not (cell_m > 0 and math.isfinite(cell_m)):
        raise ValueError("cell_m must be a positive number of metres")
    minx, miny, maxx, maxy = bounds_m
    west = math.floor(minx / cell_m) * cell_m
    south = math.floor(miny / cell_m) * cell_m
    east = math.ceil(maxx / cell_m) * cell_m
    north = math.ceil(maxy / cell_m) * cell_m
    return Grid(west=west, north=north, cell_m=cell_m, width=max(1, round((east - west) / cell_m)), height=max(1, round((north - south) / cell_m)))


def rasterize_density(
    polygons: list[BaseGeometry] | np.ndarray,
    totals: np.ndarray,
    cell_m: float,
    per_m2: float = 1_000_000.0,
    clip: BaseGeometry | None = None,
) -> tuple[np.ndarray, Grid]:
    """Burn each polygon's density (``total / area``, per ``per_m2`` square metres) into a grid.

    Parameters
    ----------
    polygons : sequence of shapely polygons, lon/lat (EPSG:4326)
    totals : array of numbers, one per polygon (e.g. voters)
    cell_m : float
        Cell size in metres (EPSG:5179).
    per_m2 : float
        Density unit: 1,000,000 gives "per km²".
    clip : shapely geometry, lon/lat, optional
        Cells whose centre is outside are nodata (NaN); defaults to the union of the polygons.

    Returns
    -------
    (array, grid)
        float32 array with NaN as nodata, and its grid.
    """
    polys_m = np.asarray(to_metric(np.asarray(polygons, dtype=object)), dtype=object)
    totals = np.asarray(totals, dtype=float)
    if len(polys_m) != len(totals):
        raise ValueError("one total per polygon is needed")
    areas = np.array([p.area for p in polys_m])
    density = np.where(areas > 0, totals / np.where(areas > 0, areas, 1) * per_m2, np.nan)
    bounds = (
        min(p.bounds[0] for p in polys_m),
        min(p.bounds[1] for p in polys_m),
        max(p.bounds[2] for p in polys_m),
        max(p.bounds[3] for p in polys_m),
    )
    grid = grid_for(bounds, cell_m)
    out = features.rasterize(
        ((p, float(d)) for p, d in zip(polys_m, density) if np.isfinite(d)),
        out_shape=(grid.height, grid.width),
        transform=grid.transform,
        fill=np.nan,
        dtype="float32",
    )
    if clip is not None:
        inside = features.geometry_mask([to_metric(clip)], out_shape=out.shape, transform=grid.transform, invert=True)
        out[~inside] = np.nan
    return out, grid
