"""The one place where coordinates change CRS.

Storage and exchange use WGS84 (EPSG:4326, x=lon, y=lat). Distances, areas,
buffers, clustering and rasters use Korea 2000 / Unified CS (EPSG:5179, metres).
EPSG:5179 is defined northing-first, so every transformer here is built with
``always_xy=True``: x is always easting/longitude, y northing/latitude.

Folium wants ``[lat, lon]``; GeoJSON wants ``[lon, lat]``. :func:`folium_latlon`
is the only place that swaps.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

STORAGE_EPSG = 4326
METRIC_EPSG = 5179
STORAGE_CRS = f"EPSG:{STORAGE_EPSG}"
METRIC_CRS = f"EPSG:{METRIC_EPSG}"


@lru_cache(maxsize=None)
def transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    """A cached, always-xy transformer between two EPSG codes."""
    return Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)


def _transform(geoms, src: int, dst: int):
    t = transformer(src, dst)

    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def to_metric(geoms: BaseGeometry | np.ndarray | Iterable[BaseGeometry]):
    """Project WGS84 lon/lat geometries to EPSG:5179 metres.

    Accepts one geometry or an array of them; returns the same shape.
    """
    if isinstance(geoms, BaseGeometry):
        return _transform(geoms, STORAGE_EPSG, METRIC_EPSG)
    return _transform(np.asarray(geoms, dtype=object), STORAGE_EPSG, METRIC_EPSG)


def to_storage(geoms: BaseGeometry | np.ndarray | Iterable[BaseGeometry], src_epsg: int = METRIC_EPSG):
    """Project geometries from ``src_epsg`` (default EPSG:5179) to WGS84 lon/lat."""
    if isinstance(geoms, BaseGeometry):
        return _transform(geoms, src_epsg, STORAGE_EPSG)
    return _transform(np.asarray(geoms, dtype=object), src_epsg, STORAGE_EPSG)


def lonlat_to_metric(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat arrays (degrees) to EPSG:5179 x/y arrays (metres)."""
    x, y = transformer(STORAGE_EPSG, METRIC_EPSG).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def metric_to_lonlat(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Project EPSG:5179 x/y arrays (metres) to lon/lat arrays (degrees)."""
    lon, lat = transformer(METRIC_EPSG, STORAGE_EPSG).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def folium_latlon(lon: float, lat: float) -> list[float]:
    """A GeoJSON-order position (lon, lat) as the ``[lat, lon]`` list folium expects."""
    return [float(lat), float(lon)]


def folium_bounds(minx: float, miny: float, maxx: float, maxy: float) -> list[list[float]]:
    """Shapely-style lon/lat bounds as folium's ``[[south, west], [north, east]]``."""
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]
