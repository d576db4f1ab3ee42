"""H3 hexagons for lon/lat points, and their polygons as shapely lon/lat geometry.

H3 (Uber's hexagonal grid, ``h3`` v4) speaks ``(lat, lng)``: ``latlng_to_cell(lat,
lng, res)`` and ``cell_to_boundary(cell)`` returns ``((lat, lng), ...)``. Everything
here takes and returns GeoJSON order, ``x = lon, y = lat``, like the rest of the
platform; this module is the one place that swaps for H3 (as :mod:`geo.crs` is
for folium). Areas and overlaps of hexagons are measured in EPSG:5179 through
:mod:`geo.crs`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import h3
import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from geo.errors import Refusal

MIN_RESOLUTION = 5
"""Coarsest resolution offered: one cell is about 250 km², all of Goyang."""
MAX_RESOLUTION = 10
"""Finest resolution offered: one cell is about 15,000 m² (a block); finer says nothing about a dong."""


class HexagonRefused(Refusal):
    """An H3 resolution or cell that cannot be used."""


def check_resolution(resolution: object) -> int:
    """``resolution`` as an int in :data:`MIN_RESOLUTION` .. :data:`MAX_RESOLUTION`, else ``bad_resolution``."""
    ok = isinstance(resolution, (int, np.integer)) and not isinstance(resolution, bool)
    if not ok or not MIN_RESOLUTION <= int(resolution) <= MAX_RESOLUTION:  # type: ignore[call-overload]
        raise HexagonRefused(
            "bad_resolution",
            f"육각형 해상도 {resolution!r}는 쓸 수 없습니다. {MIN_RESOLUTION}–{MAX_RESOLUTION} 사이의 정수를 고르세요"
            "(8이면 한 칸이 약 0.74 km²).",
            f"Hexagon resolution {resolution!r} cannot be used. Choose a whole number from {MIN_RESOLUTION} to "
            f"{MAX_RESOLUTION} (8 gives cells of about 0.74 km²).",
        )
    return int(resolution)  # type: ignore[call-overload]


def cells_for_points(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, resolution: int) -> np.ndarray:
    """The H3 cell (hex string) holding each lon/lat point.

    Parameters
    ----------
    lon, lat : array-like
        WGS84 degrees, GeoJSON order (the swap to H3's ``(lat, lng)`` is done here).
    resolution : int
        :data:`MIN_RESOLUTION` .. :data:`MAX_RESOLUTION`.

    Returns
    -------
    ndarray of str (object dtype)

    Raises
    ------
    HexagonRefused
        ``bad_resolution``, or ``bad_coordinates`` for non-finite or
        out-of-range coordinates.
    """
    res = check_resolution(resolution)
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    if lon_a.shape != lat_a.shape:
        raise ValueError("lon and lat must have the same length")
    bad = ~(np.isfinite(lon_a) & np.isfinite(lat_a)) | (np.abs(lon_a) > 180) | (np.abs(lat_a) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise HexagonRefused(
            "bad_coordinates",
            f"{i + 1}번째 점의 좌표({lon_a[i]}, {lat_a[i]})가 경위도가 아닙니다. 경도·위도(WGS84)를 넣어 주세요.",
            f"Point {i + 1} ({lon_a[i]}, {lat_a[i]}) is not a longitude/latitude. Give WGS84 lon/lat.",
        )
    return np.array([h3.latlng_to_cell(float(y), float(x), res) for x, y in zip(lon_a, lat_a)], dtype=object)


def _check_cell(cell: str) -> str:
    if not isinstance(cell, str) or not h3.is_valid_cell(cell):
        raise HexagonRefused(
            "bad_cell",
            f"{cell!r}는 H3 셀이 아닙니다.",
            f"{cell!r} is not an H3 cell.",
        )
    return cell


def cell_polygon(cell: str) -> Polygon:
    """The hexagon (or pentagon) of an H3 cell as a shapely polygon in lon/lat (x = lon, y = lat), ring closed."""
    boundary = h3.cell_to_boundary(_check_cell(cell))  # ((lat, lng), ...)
    return Polygon([(lng, lat) for lat, lng in boundary])


def cell_polygons(cells: Iterable[str]) -> np.ndarray:
    """:func:`cell_polygon` of each cell, as an object array."""
    return np.array([cell_polygon(c) for c in cells], dtype=object)


def cell_centre(cell: str) -> tuple[float, float]:
    """The centre of an H3 cell as ``(lon, lat)``."""
    lat, lng = h3.cell_to_latlng(_check_cell(cell))
    return float(lng), float(lat)


def cells_covering(geometry_lonlat: BaseGeometry, resolution: int) -> list[str]:
    """The cells whose centre lies in a lon/lat polygon or multipolygon (H3's polygon fill), sorted.

    Parameters
    ----------
    geometry_lonlat : shapely Polygon or MultiPolygon
        WGS84 lon/lat (read by H3 as GeoJSON, so no swap is needed).
    resolution : int
    """
    res = check_resolution(resolution)
    if geometry_lonlat is None or geometry_lonlat.is_empty:
        return []
    parts = [g for g in getattr(geometry_lonlat, "geoms", [geometry_lonlat]) if isinstance(g, Polygon) and not g.is_empty]
    out: set[str] = set()
    for part in parts:
        part = shapely.orient_polygons(part) if hasattr(shapely, "orient_polygons") else part
        out.update(h3.geo_to_cells(part.__geo_interface__, res))
    return sorted(out)
