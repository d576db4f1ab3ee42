"""Fuzzing drawn GeoJSON: geo.validation.validate_drawn_geometry.

Every input ends in a bilingual GeometryRefused or an accepted geometry that
is valid, finite, lon/lat, of an accepted type, and inside Goyang.
"""
from __future__ import annotations

import json
import math

from fuzz_geojson import drawn, validate_or_refuse
from fuzzkit import assert_bilingual, count, fuzz_settings
from hypothesis import example, given

from geo.errors import GeometryRefused
from geo.validation import validate_drawn_geometry


@fuzz_settings(scale=8)
@given(drawn())
@example({"type": "Polygon", "coordinates": [[[126.8, 37.65], [126.81, 37.66], [126.81, 37.65], [126.8, 37.66]]]})  # bow tie, open
@example({"type": "Polygon", "coordinates": [[[126.8, 37.65], [126.81, 37.66], [126.82, 37.67], [126.8, 37.65]]]})  # zero area
@example({"type": "Point", "coordinates": [37.65, 126.8]})  # swapped
@example({"type": "Point", "coordinates": [129.07, 35.18]})  # Busan
@example('{"type": "Point", "coordinates": [NaN, Infinity]}')
@example({"type": "LineString", "coordinates": [[126.8, 37.65], [126.8, 37.65]]})
@example({"type": "Polygon", "coordinates": [[]]})
@example({"type": "MultiPolygon", "coordinates": [[[]]]})
@example({"type": "Polygon", "coordinates": [[[126.8, 37.65]]]})
@example({"type": "MultiPolygon", "coordinates": [[[[126.8, 37.65], [126.801, 37.65], [126.8, 37.651]]], [[]]]})
@example(  # GEOS's make_valid raised "Overlay input is mixed-dimension" on this: found by this fuzz run
    {
        "type": "MultiPolygon",
        "coordinates": [
            [[[126.75, 37.625], [126.75, 37.625], [126.75, 37.625]]],
            [[[126.75, 37.6875], [126.75, 37.687500001], [126.750000001, 37.6875]]],
        ],
    }
)
def test_drawn_geojson(obj):
    count("drawn GeoJSON (geo.validation)")
    validate_or_refuse(obj)


def test_huge_and_deep_inputs():
    """100k vertices, megabytes of JSON, deeply nested arrays and objects: refused quickly and clearly."""
    ring_ = [[126.8 + 0.01 * math.cos(i / 1e4), 37.65 + 0.01 * math.sin(i / 1e4)] for i in range(100_000)]
    cases = [
        {"type": "Polygon", "coordinates": [ring_ + [ring_[0]]]},
        {"type": "LineString", "coordinates": ring_},
        json.dumps({"type": "LineString", "coordinates": ring_}),  # ~4 MB of text
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        {"type": "MultiPoint", "coordinates": [[126.8, 37.65]] * 200},
        {"type": "MultiPolygon", "coordinates": [[[[126.8, 37.65], [126.801, 37.65], [126.8, 37.651], [126.8, 37.65]]]] * 500},
        " " * 3_000_000,
        b"\xff\xfe" * 1000,
    ]
    nested: list = [126.8, 37.65]
    for _ in range(5000):
        nested = [nested]
    cases.append({"type": "Polygon", "coordinates": nested})
    codes = []
    for obj in cases:
        count("drawn GeoJSON (geo.validation)")
        try:
            validate_drawn_geometry(obj)
        except GeometryRefused as err:
            assert_bilingual(err)
            codes.append(err.code)
        else:
            codes.append("accepted")
    assert codes[:5] == ["too_many_vertices", "too_many_vertices", "too_big", "invalid_geojson", "invalid_geojson"]
    assert codes[5] == "too_many_parts" and codes[6] == "too_many_parts"
    assert codes[9] == "malformed_coordinates"
