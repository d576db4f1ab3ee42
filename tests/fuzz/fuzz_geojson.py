"""Hypothesis strategies for drawn GeoJSON, and the check of what may be stored."""
from __future__ import annotations

import json
import math

import shapely
from fuzzkit import assert_bilingual, outcome
from hypothesis import strategies as st

from geo.boundaries import city_outline_metric
from geo.crs import to_metric
from geo.errors import GeometryRefused
from geo.validation import ACCEPTED_TYPES, DEFAULT_LIMITS, validate_drawn_geometry

# Goyang's bounds, with a margin on every side so shapes also straddle the border.
LON0, LON1, LAT0, LAT1 = 126.66, 127.0, 37.56, 37.76
KOREA = (124.5, 131.0, 33.0, 38.7)

finite_lon = st.floats(LON0, LON1, allow_nan=False)
finite_lat = st.floats(LAT0, LAT1, allow_nan=False)
hostile_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, -1e308, 5e-324, 181.0, -91.0]),
)
hostile_number = st.one_of(hostile_float, st.integers(-(2**70), 2**70), st.booleans())


@st.composite
def position(draw):
    """Mostly plausible [lon, lat]; sometimes swapped, outside Korea, hostile or oddly shaped."""
    kind = draw(st.integers(0, 9))
    if kind <= 4:
        return [draw(finite_lon), draw(finite_lat)]
    if kind == 5:
        return [draw(finite_lat), draw(finite_lon)]  # swapped
    if kind == 6:
        return [draw(st.floats(KOREA[0], KOREA[1])), draw(st.floats(KOREA[2], KOREA[3]))]  # elsewhere in Korea
    if kind == 7:
        return [draw(hostile_number), draw(hostile_number)]
    if kind == 8:
        return [draw(finite_lon), draw(finite_lat), draw(hostile_number)]  # 3-D, maybe a bad z
    return draw(st.one_of(st.lists(hostile_number, max_size=4), st.text(max_size=5), st.none(), st.just({})))


def ring(min_size: int = 0, max_size: int = 12):
    return st.lists(position(), min_size=min_size, max_size=max_size)


@st.composite
def closed_ring(draw):
    pts = draw(st.lists(st.tuples(finite_lon, finite_lat).map(list), min_size=0, max_size=10))
    if pts and draw(st.booleans()):
        pts = [*pts, pts[0]]
    return pts


@st.composite
def small_polygon_ring(draw):
    """A ring of a few metres to a few km around a point of Goyang: may self-intersect, be collinear, unclosed."""
    cx, cy = draw(st.floats(126.75, 126.9)), draw(st.floats(37.62, 37.70))
    size = draw(st.sampled_from([0.0, 1e-9, 1e-6, 1e-4, 1e-3, 0.01]))
    n = draw(st.integers(0, 8))
    pts = [[cx + draw(st.floats(-1, 1)) * size, cy + draw(st.floats(-1, 1)) * size] for _ in range(n)]
    if draw(st.booleans()):  # collinear: zero area
        pts = [[cx + i * size, cy + i * size] for i in range(n)]
    if pts and draw(st.booleans()):
        pts.append(list(pts[0]))
    return pts


coordinates = st.recursive(
    st.one_of(position(), hostile_number, st.none(), st.text(max_size=3)),
    lambda inner: st.lists(inner, max_size=5),
    max_leaves=40,
)

geometry_type = st.one_of(
    st.sampled_from([*ACCEPTED_TYPES, "GeometryCollection", "Feature", "FeatureCollection", "Circle", "", "point"]),
    st.text(max_size=10),
    st.integers(),
    st.none(),
)


# Points well inside Goyang (dongs' representative points), to draw plausible shapes around.
INSIDE = [(126.826798, 37.661888), (126.863419, 37.671249), (126.833004, 37.622148), (126.77, 37.66), (126.75, 37.69), (126.90, 37.65)]


@st.composite
def plausible(draw):
    """A shape a resident could draw inside Goyang: a point, a line, a polygon, a bow tie, an unclosed ring, a multi-part."""
    cx, cy = draw(st.sampled_from(INSIDE))
    size = draw(st.sampled_from([0.0005, 0.001, 0.003, 0.01]))

    def pt():
        return [cx + draw(st.floats(-1, 1)) * size, cy + draw(st.floats(-1, 1)) * size]

    kind = draw(st.integers(0, 5))
    if kind == 0:
        return {"type": "Point", "coordinates": pt()}
    if kind == 1:
        return {"type": "LineString", "coordinates": [pt() for _ in range(draw(st.integers(2, 6)))]}
    ring = [pt() for _ in range(draw(st.integers(3, 7)))]
    if kind == 2:  # closed, maybe self-intersecting (repaired)
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    if kind == 3:  # not closed (closed for the user)
        return {"type": "Polygon", "coordinates": [ring]}
    if kind == 4:
        return {"type": "MultiPoint", "coordinates": [pt() for _ in range(draw(st.integers(1, 4)))]}
    rings = [[pt() for _ in range(3)] for _ in range(draw(st.integers(1, 3)))]
    return {"type": "MultiPolygon", "coordinates": [[[*r, r[0]]] for r in rings]}


@st.composite
def drawn(draw):
    """A drawn geometry as Leaflet.draw would send it, or something hostile in its place."""
    kind = draw(st.integers(-4, 10))
    if kind < 0:
        geom = draw(plausible())
    elif kind == 0:
        geom = {"type": "Point", "coordinates": draw(position())}
    elif kind == 1:
        geom = {"type": "LineString", "coordinates": draw(ring())}
    elif kind == 2:
        geom = {"type": "Polygon", "coordinates": [draw(st.one_of(small_polygon_ring(), closed_ring(), ring()))]}
    elif kind == 3:
        geom = {"type": "MultiPolygon", "coordinates": [[draw(small_polygon_ring())] for _ in range(draw(st.integers(0, 4)))]}
    elif kind == 4:
        geom = {"type": draw(st.sampled_from(["MultiPoint", "MultiLineString"])), "coordinates": draw(coordinates)}
    elif kind == 5:
        geom = {"type": draw(geometry_type), "coordinates": draw(coordinates)}
    elif kind == 6:  # deeply nested collections
        depth = draw(st.integers(1, 60))
        inner = {"type": "Point", "coordinates": [126.8, 37.65]}
        for _ in range(depth):
            inner = {"type": "GeometryCollection", "geometries": [inner]}
        geom = inner
    elif kind == 7:  # any JSON at all
        geom = draw(
            st.recursive(
                st.one_of(st.none(), st.booleans(), hostile_number, st.text(max_size=8)),
                lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                max_leaves=20,
            )
        )
    elif kind == 8:
        geom = {"type": "Polygon", "coordinates": draw(coordinates)}
    elif kind == 9:  # text that is not quite JSON
        return draw(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
    else:
        geom = {"type": "Point", "coordinates": [draw(finite_lon), draw(finite_lat)]}
    if draw(st.booleans()):
        geom = {"type": "Feature", "properties": draw(st.one_of(st.none(), st.just({}), st.just({"radius": 10}))), "geometry": geom}
    how = draw(st.integers(0, 2))
    if how == 1:
        return json.dumps(geom, allow_nan=True)  # NaN and Infinity as JavaScript writes them
    if how == 2:
        return json.dumps(geom, allow_nan=True).encode()
    return geom


def check_accepted(geom) -> None:
    """What may be stored: valid, non-empty, finite, 2-D lon/lat of an accepted type, inside Goyang."""
    assert geom.geom_type in ACCEPTED_TYPES
    assert not geom.is_empty and geom.is_valid, shapely.is_valid_reason(geom)
    xy = shapely.get_coordinates(geom, include_z=True)
    assert xy.shape[1] == 2 or not geom.has_z
    xy = shapely.get_coordinates(geom)
    assert all(math.isfinite(v) for v in xy.ravel())
    assert ((xy[:, 0] > LON0) & (xy[:, 0] < LON1) & (xy[:, 1] > LAT0) & (xy[:, 1] < LAT1)).all(), "not lon/lat in Goyang"
    band = city_outline_metric().buffer(DEFAULT_LIMITS.outside_tolerance_m + 1)
    assert band.covers(to_metric(geom))


def validate_or_refuse(obj):
    try:
        valid = validate_drawn_geometry(obj)
    except GeometryRefused as err:
        assert_bilingual(err)
        outcome("drawn GeoJSON (geo.validation)", False)
        return None
    check_accepted(valid.geometry)
    outcome("drawn GeoJSON (geo.validation)", True)
    for r in valid.repairs:
        assert r.ko.strip() and r.en.strip()
    return valid
