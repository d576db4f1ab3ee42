"""The one place where coordinates change CRS.

Storage and exchange use WGS84 (EPSG:4326, x=lon, y=lat). Distances, areas,
buffers, clustering and rasters use Korea 2000 / Unified CS (EPSG:5179, metres).
EPSG:5179 is defined northing-first, so every transformer here is built with
``always_xy=True``: x is always easting/longitude, y northing/latitude.

Folium wants ``[lat, lon]``; GeoJSON wants ``[lon, lat]``. :func:`folium_latlon`
is the only place that swaps.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
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


_local = threading.local()


def _thread_transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    """A transformer owned by the calling thread (pyproj transformers are not thread-safe)."""
    cache = getattr(_local, "transformers", None)
    if cache is None:
        cache = _local.transformers = {}
    key = (src_epsg, dst_epsg)
    if key not in cache:
        cache[key] = Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)
    return cache[key]


def lonlat_to_metric_local(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`lonlat_to_metric`, with a transformer private to the calling thread.

    Use it from worker threads: the results are the same coordinates, bit for bit.
    """
    x, y = _thread_transformer(STORAGE_EPSG, METRIC_EPSG).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def lonlat_to_metric_threaded(lon, lat, workers: int | None = None, min_chunk: int = 50_000) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat arrays to EPSG:5179 in chunks on a thread pool (pyproj releases the GIL).

    Parameters
    ----------
    lon, lat : array_like
        Degrees.
    workers : int, optional
        Threads; default ``os.cpu_count()``.
    min_chunk : int
        Below this many coordinates per thread the work is done in the calling thread.

    Returns
    -------
    tuple of ndarray
        x, y in metres, identical to :func:`lonlat_to_metric`.
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    workers = max(1, workers or os.cpu_count() or 1)
    n = len(lon)
    k = min(workers, max(1, n // max(min_chunk, 1)))
    if k <= 1:
        return lonlat_to_metric_local(lon, lat)
    bounds = np.linspace(0, n, k + 1).astype(int)
    x = np.empty(n)
    y = np.empty(n)

    def run(i: int) -> None:
        a, b = bounds[i], bounds[i + 1]
        x[a:b], y[a:b] = lonlat_to_metric_local(lon[a:b], lat[a:b])

    with ThreadPoolExecutor(max_workers=k) as pool:
        list(pool.map(run, range(k)))
    return x, y


def folium_latlon(lon: float, lat: float) -> list[float]:
    """A GeoJSON-order position (lon, lat) as the ``[lat, lon]`` list folium expects."""
    return [float(lat), float(lon)]


def folium_bounds(minx: float, miny: float, maxx: float, maxy: float) -> list[list[float]]:
    """Shapely-style lon/lat bounds as folium's ``[[south, west], [north, east]]``."""
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]
