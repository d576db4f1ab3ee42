"""Validation of user-drawn geometries (GeoJSON in, a clean shapely geometry out).

A geometry is accepted when it is a GeoJSON Point, LineString, Polygon or a
Multi* of those, with finite lon/lat coordinates, lies inside Goyang (within
``Limits.outside_tolerance_m``), and stays within the vertex, length and area
limits. Self-intersections are repaired with ``shapely.make_valid`` and the
repair is reported. Every refusal is a :class:`geo.errors.GeometryRefused`
with a stable ``code`` and a Korean and an English message.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.boundaries import city_outline, city_outline_metric
from geo.crs import to_metric
from geo.errors import GeometryRefused

ACCEPTED_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")


@dataclass(frozen=True)
class Limits:
    """Limits for one drawn geometry (metres, square metres, counts, bytes)."""

    max_vertices: int = 5_000
    max_length_m: float = 30_000.0
    max_area_m2: float = 30_000_000.0  # 30 km², a few dongs; the city is ~268 km²
    min_length_m: float = 1.0
    min_area_m2: float = 1.0
    max_parts: int = 100
    max_json_bytes: int = 2_000_000
    outside_tolerance_m: float = 50.0


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Repair:
    """A change made to the drawn geometry, reported to the user."""

    code: str
    ko: str
    en: str

    def message(self, lang: str = "ko") -> str:
        return self.en if lang == "en" else self.ko


@dataclass(frozen=True)
class ValidGeometry:
    """An accepted geometry in EPSG:4326 with what was repaired on the way."""

    geometry: BaseGeometry
    repairs: tuple[Repair, ...] = field(default_factory=tuple)

    @property
    def repaired(self) -> bool:
        return bool(self.repairs)


def _refuse(code: str, ko: str, en: str) -> GeometryRefused:
    return GeometryRefused(code, ko, en)


def _as_geometry_dict(obj: Any, limits: Limits) -> dict:
    if isinstance(obj, (bytes, bytearray)):
        obj = obj.decode("utf-8", errors="replace")
    if isinstance(obj, str):
        if len(obj.encode("utf-8")) > limits.max_json_bytes:
            raise _refuse(
                "too_big",
                f"도형 데이터가 너무 큽니다 (최대 {limits.max_json_bytes // 1000:,} KB). 더 단순한 도형을 그려 주세요.",
                f"The shape data is too large (at most {limits.max_json_bytes // 1000:,} KB). Please draw a simpler shape.",
            )
        try:
            obj = json.loads(obj)
        except (ValueError, RecursionError):
            raise _refuse(
                "invalid_geojson",
                "도형을 읽을 수 없습니다: 올바른 GeoJSON이 아닙니다. 지도에서 다시 그려 주세요.",
                "The shape cannot be read: it is not valid GeoJSON. Please draw it again on the map.",
            ) from None
    if not isinstance(obj, dict):
        raise _refuse(
            "invalid_geojson",
            "도형을 읽을 수 없습니다: 올바른 GeoJSON이 아닙니다. 지도에서 다시 그려 주세요.",
            "The shape cannot be read: it is not valid GeoJSON. Please draw it again on the map.",
        )
    if obj.get("type") == "Feature":
        props = obj.get("properties") or {}
        if isinstance(props, dict) and props.get("radius") is not None:
            raise _refuse(
                "circle",
                "원은 제안 위치로 쓸 수 없습니다. 점, 선 또는 다각형으로 그려 주세요.",
                "A circle cannot be used as a proposal location. Please draw a point, a line or a polygon.",
            )
        obj = obj.get("geometry")
        if not isinstance(obj, dict):
            raise _refuse(
                "empty",
                "도형이 비어 있습니다. 지도에서 점, 선 또는 다각형을 그려 주세요.",
                "The shape is empty. Please draw a point, a line or a polygon on the map.",
            )
    gtype = obj.get("type")
    if gtype not in ACCEPTED_TYPES:
        raise _refuse(
            "unsupported_type",
            f"지원하지 않는 도형 종류입니다 ({str(gtype)[:40]}). 점, 선 또는 다각형을 그려 주세요.",
            f"Unsupported shape type ({str(gtype)[:40]}). Please draw a point, a line or a polygon.",
        )
    return obj


_DEPTH = {"Point": 1, "LineString": 2, "MultiPoint": 2, "Polygon": 3, "MultiLineString": 3, "MultiPolygon": 4}


def _positions(coords: Any, depth: int, limits: Limits) -> list:
    """Walk the coordinate nesting, checking shape, numbers and finiteness."""
    malformed = _refuse(
        "malformed_coordinates",
        "도형의 좌표 구조가 잘못되었습니다. 지도에서 다시 그려 주세요.",
        "The shape's coordinates are malformed. Please draw it again on the map.",
    )
    count = 0

    def walk(node: Any, d: int) -> Any:
        nonlocal count
        if not isinstance(node, (list, tuple)):
            raise malformed
        if d == 1:
            if len(node) < 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in node):
                raise malformed
            x, y = float(node[0]), float(node[1])
            if not (math.isfinite(x) and math.isfinite(y)):
                raise _refuse(
                    "non_finite",
                    "좌표에 숫자가 아닌 값(NaN 또는 무한대)이 있습니다. 지도에서 다시 그려 주세요.",
                    "A coordinate is not a finite number (NaN or infinity). Please draw the shape again on the map.",
                )
            count += 1
            if count > limits.max_vertices:
                raise _refuse(
                    "too_many_vertices",
                    f"꼭짓점이 너무 많습니다 (최대 {limits.max_vertices:,}개). 더 단순하게 그려 주세요.",
                    f"The shape has too many vertices (at most {limits.max_vertices:,}). Please draw it more simply.",
                )
            return (x, y)
        return [walk(child, d - 1) for child in node]

    return walk(coords, depth)


def _check_ranges(geom: BaseGeometry) -> None:
    coords = shapely.get_coordinates(geom)
    lon, lat = coords[:, 0], coords[:, 1]
    if ((lon < -180) | (lon > 180) | (lat < -90) | (lat > 90)).any():
        _refuse_if_swapped(geom)
        raise _refuse(
            "out_of_range",
            "좌표가 경도 -180~180, 위도 -90~90 범위를 벗어났습니다. 좌표는 [경도, 위도] 순서여야 합니다.",
            "A coordinate is outside longitude -180..180 / latitude -90..90. Coordinates must be [longitude, latitude].",
        )


def _refuse_if_swapped(geom: BaseGeometry) -> None:
    """Refuse with ``swapped_axes`` when the geometry lands in Goyang once x and y are swapped."""
    swapped = shapely.transform(geom, lambda c: c[:, ::-1])
    lat = shapely.get_coordinates(swapped)[:, 1]
    if ((lat >= -90) & (lat <= 90)).all() and city_outline().intersects(swapped):
        raise _refuse(
            "swapped_axes",
            "좌표의 경도와 위도가 뒤바뀐 것 같습니다. GeoJSON 좌표는 [경도, 위도] 순서로 주세요.",
            "Longitude and latitude seem to be swapped. GeoJSON coordinates are [longitude, latitude].",
        )


def _build(gtype: str, coords: list) -> BaseGeometry:
    try:
        return shape({"type": gtype, "coordinates": coords})
    except (ValueError, TypeError, IndexError, shapely.errors.GEOSException):
        raise _refuse(
            "degenerate",
            "도형이 너무 작거나 꼭짓점이 부족합니다. 선은 두 점 이상, 다각형은 세 점 이상으로 그려 주세요.",
            "The shape is degenerate: a line needs at least two points and a polygon at least three.",
        ) from None


def _close_rings(gtype: str, coords: list) -> tuple[list, bool]:
    """Close polygon rings whose last position differs from the first (GeoJSON requires it)."""
    closed = False

    def fix_ring(ring: list) -> list:
        nonlocal closed
        if len(ring) >= 1 and ring[0] != ring[-1]:
            closed = True
            return [*ring, ring[0]]
        return ring

    if gtype == "Polygon":
        return [fix_ring(r) for r in coords], closed
    if gtype == "MultiPolygon":
        return [[fix_ring(r) for r in poly] for poly in coords], closed
    return coords, False


def validate_drawn_geometry(obj: Any, limits: Limits = DEFAULT_LIMITS) -> ValidGeometry:
    """Validate a drawn geometry and return it clean, in EPSG:4326.

    Parameters
    ----------
    obj : dict | str | bytes
        A GeoJSON geometry or Feature (as parsed JSON or as text), lon/lat order.
    limits : Limits
        Size limits; lengths and areas are measured in EPSG:5179 metres.

    Returns
    -------
    ValidGeometry
        The accepted geometry and the repairs made (closed rings, fixed
        self-intersections, dropped duplicate parts).

    Raises
    ------
    GeometryRefused
        With ``code`` one of ``too_big``, ``invalid_geojson``, ``circle``,
        ``empty``, ``unsupported_type``, ``malformed_coordinates``,
        ``non_finite``, ``too_many_vertices``, ``too_many_parts``,
        ``out_of_range``, ``swapped_axes``, ``outside_city``, ``degenerate``,
        ``too_long``, ``too_large``.
    """
    gdict = _as_geometry_dict(obj, limits)
    gtype = gdict["type"]
    coords = gdict.get("coordinates")
    if coords is None or (isinstance(coords, list) and len(coords) == 0):
        raise _refuse(
            "empty",
            "도형이 비어 있습니다. 지도에서 점, 선 또는 다각형을 그려 주세요.",
            "The shape is empty. Please draw a point, a line or a polygon on the map.",
        )
    coords = _positions(coords, _DEPTH[gtype], limits)
    if gtype.startswith("Multi") and len(coords) > limits.max_parts:
        raise _refuse(
            "too_many_parts",
            f"도형의 부분이 너무 많습니다 (최대 {limits.max_parts}개).",
            f"The shape has too many parts (at most {limits.max_parts}).",
        )
    repairs: list[Repair] = []
    coords, closed = _close_rings(gtype, coords)
    if closed:
        repairs.append(Repair("closed_ring", "다각형의 경계를 닫았습니다.", "The polygon's ring was closed."))
    geom = _build(gtype, coords)
    if geom.is_empty:
        raise _refuse(
            "empty",
            "도형이 비어 있습니다. 지도에서 점, 선 또는 다각형을 그려 주세요.",
            "The shape is empty. Please draw a point, a line or a polygon on the map.",
        )
    _check_ranges(geom)
    geom, fixed = _repair(geom)
    repairs.extend(fixed)
    _check_inside_city(geom, limits)
    _check_measures(geom, limits)
    return ValidGeometry(geometry=geom, repairs=tuple(repairs))


@lru_cache(maxsize=8)
def _city_band(tol_m: float) -> BaseGeometry:
    band = city_outline_metric().buffer(tol_m)
    shapely.prepare(band)
    return band


def _check_inside_city(geom: BaseGeometry, limits: Limits) -> None:
    if _city_band(limits.outside_tolerance_m).covers(to_metric(geom)):
        return
    _refuse_if_swapped(geom)
    raise _refuse(
        "outside_city",
        "도형이 고양시 밖에 있습니다 (일부라도 벗어나면 안 됩니다). 고양시 경계 안에 그려 주세요.",
        "The shape lies (at least partly) outside Goyang. Please draw it inside the city boundary.",
    )


def _repair(geom: BaseGeometry) -> tuple[BaseGeometry, list[Repair]]:
    if geom.is_valid:
        return geom, []
    gtype = geom.geom_type
    if gtype in ("Polygon", "MultiPolygon"):
        zero_area = _refuse(
            "degenerate",
            "다각형의 넓이가 0입니다 (꼭짓점이 한 줄에 있거나 겹칩니다). 넓이가 있는 다각형을 그려 주세요.",
            "The polygon has zero area (its vertices are on one line or coincide). Please draw a polygon with an area.",
        )
        try:
            polys = _polygons(shapely.make_valid(geom))
        except shapely.errors.GEOSException:
            # GEOS refuses some mixes of collapsed and tiny parts ("Overlay input is
            # mixed-dimension"): repair part by part, then merge what has an area.
            polys = []
            for part in shapely.get_parts(geom):
                try:
                    polys.extend(_polygons(shapely.make_valid(part)))
                except shapely.errors.GEOSException:
                    continue
            if len(polys) > 1:
                try:
                    polys = _polygons(shapely.union_all(polys))
                except shapely.errors.GEOSException:
                    raise zero_area from None
        if not polys:
            raise zero_area
        fixed = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        if not fixed.is_valid or fixed.is_empty:
            raise zero_area
        return fixed, [
            Repair(
                "self_intersection",
                "다각형의 경계가 스스로 교차하여 자동으로 고쳤습니다. 모양을 확인해 주세요.",
                "The polygon's boundary crossed itself and was repaired automatically. Please check its shape.",
            )
        ]
    if gtype in ("LineString", "MultiLineString"):
        # a line is "invalid" only when degenerate (fewer than two distinct points)
        raise _refuse(
            "degenerate",
            "선의 길이가 0입니다. 서로 다른 두 점 이상으로 선을 그려 주세요.",
            "The line has zero length. Please draw a line through at least two different points.",
        )
    return fixed, []


def _polygons(geom: BaseGeometry) -> list[BaseGeometry]:
    """The polygons in ``geom`` (parts of other dimensions dropped)."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygons(part))
    return [p for p in out if not p.is_empty]


def _check_measures(geom: BaseGeometry, limits: Limits) -> None:
    metric = to_metric(geom)
    dim = shapely.get_dimensions(geom)
    if dim == 1:
        length = metric.length
        if length < limits.min_length_m:
            raise _refuse(
                "degenerate",
                f"선이 너무 짧습니다 ({length:.1f} m). {limits.min_length_m:g} m 이상으로 그려 주세요.",
                f"The line is too short ({length:.1f} m). Please draw at least {limits.min_length_m:g} m.",
            )
        if length > limits.max_length_m:
            raise _refuse(
                "too_long",
                f"선이 너무 깁니다 ({length / 1000:.1f} km, 최대 {limits.max_length_m / 1000:g} km). 구간을 나누어 제안해 주세요.",
                f"The line is too long ({length / 1000:.1f} km, at most {limits.max_length_m / 1000:g} km). Please split it into sections.",
            )
    elif dim == 2:
        area = metric.area
        if area < limits.min_area_m2:
            raise _refuse(
                "degenerate",
                f"다각형이 너무 작습니다 ({area:.1f} m²). 넓이가 {limits.min_area_m2:g} m² 이상이 되게 그려 주세요.",
                f"The polygon is too small ({area:.1f} m²). Please draw at least {limits.min_area_m2:g} m².",
            )
        if area > limits.max_area_m2:
            raise _refuse(
                "too_large",
                f"다각형이 너무 큽니다 ({area / 1e6:.1f} km², 최대 {limits.max_area_m2 / 1e6:g} km²). 대상 지역을 좁혀 주세요.",
                f"The polygon is too large ({area / 1e6:.1f} km², at most {limits.max_area_m2 / 1e6:g} km²). Please narrow the area.",
            )
