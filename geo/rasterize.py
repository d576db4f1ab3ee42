"""Rasters of vector data, always on an EPSG:5179 grid in metres.

* :func:`rasterize_density` burns a value per polygon (voters per km² of a dong);
* :func:`point_density` counts features per cell or smooths them with a
  Gaussian kernel (proposals per km²), each feature at its representative
  point (:func:`representative_xy`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from shapely.geometry.base import BaseGeometry

from geo.crs import METRIC_EPSG, to_metric
from geo.errors import Refusal


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


# ---------------------------------------------------------------------------
# Point density (proposals per cell, kernel density)
# ---------------------------------------------------------------------------

MIN_CELL_M = 10.0
"""Finest density cell: finer than the 50 m tolerance of drawn geometry says nothing more."""
MAX_CELL_M = 5_000.0
"""Coarsest density cell: Goyang is about 25 km across, so 5 km still gives a few cells."""
MAX_BANDWIDTH_M = 10_000.0
"""Widest kernel: beyond 10 km the whole city is one blur."""
DEFAULT_BANDWIDTH_M = 500.0
"""Kernel bandwidth when none is given (at least two cells): about a ten-minute walk's reach."""
MAX_CELLS = 16_000_000
"""Largest density grid (width x height), kernel padding included: Goyang at 10 m is about 7 M cells."""
KDE_TRUNCATE = 3.0
"""The Gaussian kernel is cut at this many bandwidths and the grid is padded as far, so no mass is lost."""

DENSITY_METHODS = ("count", "kde")


class DensityRefused(Refusal):
    """Density parameters that cannot be used (cell size, method, bandwidth, grid size, no features)."""


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))


def check_density_params(cell_m: float, method: str, bandwidth_m: float | None) -> tuple[float, str, float | None]:
    """Validate density parameters; return ``(cell_m, method, bandwidth_m)`` with the default bandwidth filled in.

    Parameters
    ----------
    cell_m : float
        Cell size in metres, :data:`MIN_CELL_M` .. :data:`MAX_CELL_M`.
    method : {"count", "kde"}
    bandwidth_m : float or None
        Only for ``kde``: the Gaussian kernel's standard deviation in metres,
        at least one cell and at most :data:`MAX_BANDWIDTH_M`. ``None`` takes
        :data:`DEFAULT_BANDWIDTH_M` (at least two cells). Ignored (returned
        as ``None``) for ``count``.

    Raises
    ------
    DensityRefused
        ``bad_cell``, ``bad_method`` or ``bad_bandwidth``.
    """
    if not _is_number(cell_m) or not MIN_CELL_M <= float(cell_m) <= MAX_CELL_M:
        raise DensityRefused(
            "bad_cell",
            f"셀 크기 {cell_m!r}는 쓸 수 없습니다. {MIN_CELL_M:,.0f}–{MAX_CELL_M:,.0f} m 사이의 숫자(예: 100)를 넣어 주세요.",
            f"Cell size {cell_m!r} cannot be used. Give a number of metres from {MIN_CELL_M:,.0f} to {MAX_CELL_M:,.0f} (e.g. 100).",
        )
    cell = float(cell_m)
    if method not in DENSITY_METHODS:
        raise DensityRefused(
            "bad_method",
            f"밀도 계산 방식 {method!r}는 없습니다. count(셀별 개수) 또는 kde(커널 밀도) 중에서 고르세요.",
            f"Density method {method!r} does not exist. Choose count (features per cell) or kde (kernel density).",
        )
    if method == "count":
        return cell, method, None
    if bandwidth_m is None:
        return cell, method, max(DEFAULT_BANDWIDTH_M, 2.0 * cell)
    if not _is_number(bandwidth_m) or not cell <= float(bandwidth_m) <= MAX_BANDWIDTH_M:
        raise DensityRefused(
            "bad_bandwidth",
            f"대역폭 {bandwidth_m!r}는 쓸 수 없습니다. 셀 크기({cell:,.0f} m) 이상 {MAX_BANDWIDTH_M:,.0f} m 이하의 미터 값(예: 500)을 넣어 주세요.",
            f"Bandwidth {bandwidth_m!r} cannot be used. Give metres from the cell size ({cell:,.0f} m) to {MAX_BANDWIDTH_M:,.0f} (e.g. 500).",
        )
    return cell, method, float(bandwidth_m)


def representative_xy(geoms_m: np.ndarray | list[BaseGeometry]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One representative point per geometry, in the geometries' own (metric) coordinates.

    The rule, the same for density rasters and for aggregates by dong or hexagon:

    * points: the point itself; multipoints: ``shapely.point_on_surface``
      (the member nearest their centroid);
    * lines and multilines: the point at half the length
      (``shapely.line_interpolate_point(g, 0.5, normalized=True)``; for a
      multiline the parts are walked in order);
    * polygons, multipolygons and collections: ``shapely.point_on_surface``
      (always inside the shape, unlike the centroid of an L or a ring).

    Parameters
    ----------
    geoms_m : array of shapely geometries
        In EPSG:5179 metres, so that "half the length" is measured in metres.

    Returns
    -------
    (x, y, kept)
        Coordinates of the points of the geometries that are present, not
        empty and finite, and the boolean mask ``kept`` of those geometries.
    """
    geoms = np.asarray(geoms_m, dtype=object)
    if geoms.ndim != 1:
        geoms = geoms.ravel()
    kept = np.zeros(len(geoms), dtype=bool)
    if len(geoms) == 0:
        return np.empty(0), np.empty(0), kept
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = np.empty(len(geoms), dtype=object)
    types = np.full(len(geoms), -1)
    types[ok] = shapely.get_type_id(geoms[ok])
    lines = ok & np.isin(types, (1, 5))  # LineString, MultiLineString
    points = ok & (types == 0)
    other = ok & ~lines & ~points
    pts[points] = geoms[points]
    if lines.any():
        pts[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    if other.any():
        pts[other] = shapely.point_on_surface(geoms[other])
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    if ok.any():
        x[ok] = shapely.get_x(pts[ok])
        y[ok] = shapely.get_y(pts[ok])
    kept = ok & np.isfinite(x) & np.isfinite(y)
    return x[kept], y[kept], kept


def covering_grid(
    xs: np.ndarray,
    ys: np.ndarray,
    cell_m: float,
    bounds: tuple[float, float, float, float] | None = None,
    pad_cells: int = 0,
    max_cells: int = MAX_CELLS,
) -> tuple[Grid, np.ndarray, np.ndarray]:
    """A grid aligned to multiples of ``cell_m`` holding every point, and each point's ``(row, col)``.

    Rows and columns are found exactly as rasterio finds them
    (:func:`rasterio.transform.rowcol`: the inverse transform, then floor), so
    ``src.index(x, y)`` and ``src.sample([(x, y)])`` on the written GeoTIFF land
    in the same cell. A point on a cell edge belongs to the cell east of it
    and south of it (floor of the column and row). Where floating point puts a
    point just outside, the grid grows by a cell on that side.

    Parameters
    ----------
    xs, ys : arrays
        EPSG:5179 metres.
    cell_m : float
    bounds : (minx, miny, maxx, maxy), optional
        Metric extent the grid covers at least (it still covers every point).
    pad_cells : int
        Extra cells on every side (room for a kernel).
    max_cells : int
        Refuse (``grid_too_large``) a grid with more cells.

    Returns
    -------
    (grid, rows, cols)
    """
    from rasterio.transform import rowcol

    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    ext = [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())] if xs.size else None
    if bounds is not None:
        b = [float(v) for v in bounds]
        if not all(math.isfinite(v) for v in b) or b[0] > b[2] or b[1] > b[3]:
            raise DensityRefused(
                "bad_bounds",
                "범위는 (서, 남, 동, 북) 순서의 유한한 미터 좌표여야 합니다.",
                "Bounds must be finite metre coordinates in the order (west, south, east, north).",
            )
        ext = b if ext is None else [min(ext[0], b[0]), min(ext[1], b[1]), max(ext[2], b[2]), max(ext[3], b[3])]
    if ext is None:
        raise DensityRefused(
            "no_features",
            "밀도를 계산할 도형이 없습니다. 조건을 넓히거나 도형이 있는 파일을 쓰세요.",
            "There are no features to compute a density from. Widen the selection or use a file with features.",
        )
    c0 = math.floor(ext[0] / cell_m) - pad_cells
    c1 = math.floor(ext[2] / cell_m) + 1 + pad_cells  # exclusive
    r0 = math.floor(ext[1] / cell_m) - pad_cells
    r1 = math.floor(ext[3] / cell_m) + 1 + pad_cells  # exclusive (north edge)
    while True:
        width, height = c1 - c0, r1 - r0
        if width * height > max_cells:
            raise DensityRefused(
                "grid_too_large",
                f"격자가 너무 큽니다({width:,}×{height:,} = {width * height:,} 셀, 최대 {max_cells:,}). "
                "셀 크기를 키우거나 대역폭을 줄이거나 범위를 좁혀 주세요.",
                f"The grid is too large ({width:,}×{height:,} = {width * height:,} cells, at most {max_cells:,}). "
                "Use larger cells, a smaller bandwidth or a smaller area.",
            )
        grid = Grid(west=c0 * cell_m, north=r1 * cell_m, cell_m=cell_m, width=width, height=height)
        if xs.size == 0:
            return grid, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        rows, cols = rowcol(grid.transform, xs, ys)
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        grown = False
        if cols.min() < 0:
            c0, grown = c0 - 1, True
        if cols.max() >= width:
            c1, grown = c1 + 1, True
        if rows.min() < 0:
            r1, grown = r1 + 1, True
        if rows.max() >= height:
            r0, grown = r0 - 1, True
        if not grown:
            return grid, rows, cols


def point_density(
    geoms: np.ndarray | list[BaseGeometry],
    cell_m: float,
    method: str = "count",
    bandwidth_m: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    *,
    metric: bool = False,
    max_cells: int = MAX_CELLS,
) -> tuple[np.ndarray, Grid]:
    """Density of features on an EPSG:5179 grid: features per cell, or a kernel density per km².

    Every feature takes part once, at its representative point
    (:func:`representative_xy`: a point itself, the middle of a line by
    length, :func:`shapely.point_on_surface` of a polygon), found in metres.
    Missing and empty geometries are left out.

    Parameters
    ----------
    geoms : array of shapely geometries
        WGS84 lon/lat (EPSG:4326), or EPSG:5179 metres when ``metric=True``.
    cell_m : float
        Cell size in metres, :data:`MIN_CELL_M` .. :data:`MAX_CELL_M`.
    method : {"count", "kde"}
        ``count``: the number of features whose point lies in each cell
        (int32; the cells sum to the number of features). A point on a cell
        edge counts in the cell rasterio's ``index`` gives it (see
        :func:`covering_grid`). ``kde``: a Gaussian kernel density in
        features per km² (float32): the count grid convolved with a Gaussian
        of standard deviation ``bandwidth_m`` (``scipy.ndimage.gaussian_filter``,
        sigma ``bandwidth_m / cell_m`` cells, cut at :data:`KDE_TRUNCATE`
        sigmas and renormalised), on a grid padded by as much, so that
        ``array.sum() * (cell_m / 1000) ** 2`` equals the number of features.
    bandwidth_m : float, optional
        ``kde`` only; see :func:`check_density_params` (default
        :data:`DEFAULT_BANDWIDTH_M`, at least two cells).
    bounds : (minx, miny, maxx, maxy), optional
        EPSG:5179 extent the grid covers at least (e.g. the city's, so that
        rasters of different selections line up). The grid always covers
        every feature (and for ``kde`` its kernel), aligned to multiples of
        ``cell_m``.
    metric : bool
        ``geoms`` are already in EPSG:5179.
    max_cells : int
        Largest grid (padding included).

    Returns
    -------
    (array, grid)
        Row 0 is the northern row; ``grid.transform`` georeferences it.

    Raises
    ------
    DensityRefused
        ``bad_cell``, ``bad_method``, ``bad_bandwidth``, ``bad_bounds``,
        ``grid_too_large``, or ``no_features`` (nothing to place and no bounds).
    """
    cell, method, bw = check_density_params(cell_m, method, bandwidth_m)
    geoms = np.asarray(geoms, dtype=object).ravel()
    geoms_m = geoms if metric else (to_metric(geoms) if len(geoms) else geoms)
    xs, ys, _ = representative_xy(geoms_m)
    if method == "count":
        grid, rows, cols = covering_grid(xs, ys, cell, bounds, 0, max_cells)
        flat = np.bincount(rows * grid.width + cols, minlength=grid.width * grid.height)
        return flat.reshape(grid.height, grid.width).astype(np.int32), grid
    from scipy.ndimage import gaussian_filter

    assert bw is not None
    sigma = bw / cell
    pad = int(KDE_TRUNCATE * sigma + 0.5) + 1  # gaussian_filter's radius is int(truncate * sigma + 0.5)
    grid, rows, cols = covering_grid(xs, ys, cell, bounds, pad, max_cells)
    counts = np.bincount(rows * grid.width + cols, minlength=grid.width * grid.height).reshape(grid.height, grid.width)
    smoothed = gaussian_filter(counts.astype(np.float64), sigma=sigma, mode="constant", cval=0.0, truncate=KDE_TRUNCATE)
    smoothed[smoothed < 0] = 0.0  # rounding noise only
    per_km2 = smoothed / ((cell / 1000.0) ** 2)
    return per_km2.astype(np.float32), grid
