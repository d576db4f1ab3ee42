"""The map's viewport: what st_folium reports, turned into stable query keys.

Pans and zooms rerun the page; proposals are fetched for the visible bounds
only, padded and snapped to a grid so that small moves reuse the cached query
(and send the same layer) instead of refetching.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

GOYANG_CENTER = (37.6584, 126.8320)  # [lat, lon] for folium
GOYANG_ZOOM = 12
GRID_DEG = 0.01


@dataclass(frozen=True)
class Viewport:
    """Visible area in lon/lat (``minx, miny, maxx, maxy``) and the zoom level."""

    bbox: tuple[float, float, float, float]
    zoom: int


def snap_bbox(minx: float, miny: float, maxx: float, maxy: float, pad: float = 0.2, grid: float = GRID_DEG) -> tuple[float, float, float, float]:
    """Pad a lon/lat box by ``pad`` of its size and snap it outwards to a ``grid``-degree lattice."""
    dx, dy = (maxx - minx) * pad, (maxy - miny) * pad
    return (
        round(math.floor((minx - dx) / grid) * grid, 6),
        round(math.floor((miny - dy) / grid) * grid, 6),
        round(math.ceil((maxx + dx) / grid) * grid, 6),
        round(math.ceil((maxy + dy) / grid) * grid, 6),
    )


def viewport_from_result(result: dict[str, Any] | None) -> Viewport | None:
    """The snapped viewport from st_folium's return value, or None when it has no bounds yet.

    st_folium reports ``bounds`` as ``{"_southWest": {"lat", "lng"}, "_northEast": {...}}``.
    """
    if not result:
        return None
    b = result.get("bounds") or {}
    sw, ne = b.get("_southWest") or {}, b.get("_northEast") or {}
    try:
        minx, miny, maxx, maxy = float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))) or minx >= maxx or miny >= maxy:
        return None
    zoom = result.get("zoom")
    return Viewport(bbox=snap_bbox(minx, miny, maxx, maxy), zoom=int(zoom) if isinstance(zoom, (int, float)) else GOYANG_ZOOM)


def zoom_for_bounds(minx: float, miny: float, maxx: float, maxy: float, width_px: int = 900, height_px: int = 600) -> int:
    """The largest web-mercator zoom (≤ 17) at which a lon/lat box fits a map of the given size."""
    def lat_rad(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return math.log((1 + s) / (1 - s)) / 2

    lon_frac = max((maxx - minx) / 360.0, 1e-9)
    lat_frac = max((lat_rad(maxy) - lat_rad(miny)) / (2 * math.pi), 1e-9)
    z_lon = math.log2(width_px / 256 / lon_frac)
    z_lat = math.log2(height_px / 256 / lat_frac)
    return int(max(0, min(17, math.floor(min(z_lon, z_lat)))))


def focus(m, bounds: tuple[float, float, float, float], width_px: int = 900, height_px: int = 520, max_zoom: int = 17) -> tuple[list[float], int]:
    """Open the folium map ``m`` on a lon/lat box: sets its centre and zoom, returns them as ``([lat, lon], zoom)``.

    The same values go to ``st_folium(center=..., zoom=...)``, which only moves a map that is already drawn.
    """
    west, south, east, north = bounds
    center = [(south + north) / 2, (west + east) / 2]  # folium order: [lat, lon]
    zoom = min(max_zoom, zoom_for_bounds(west, south, east, north, width_px=width_px, height_px=height_px))
    m.location = center
    m.options["zoom"] = zoom
    return center, zoom
