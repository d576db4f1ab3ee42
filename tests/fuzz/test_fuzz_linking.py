"""Degenerate shapes through the linking (geo.linking.link_geometries, geo.overlap.measure_overlaps).

Repeated vertices give zero-length segments, which divided by zero in
geo/overlap.py ("invalid value encountered in divide"). The linking must
give, without any warning, the same answer as for the shape with the
repeated vertices removed.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fuzzkit import count, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

import geo.boundaries as b
from geo.linking import build_gazetteer, link_geometries


@lru_cache(maxsize=1)
def gazetteer():
    ad = b.admin_dongs()
    hubs = gpd.GeoDataFrame({"code": ad["adm_code"], "name": ad["name"]}, geometry=ad.geometry.representative_point(), crs=4326)
    return build_gazetteer(hubs, b.approximate_districts(), b.legal_dongs())


@lru_cache(maxsize=1)
def anchor_points() -> list[tuple[float, float]]:
    return [(p.x, p.y) for p in b.approximate_districts().geometry.representative_point()]


@st.composite
def degenerate_shape(draw):
    """A line or polygon between dongs' points (so it crosses boundaries) with some vertices repeated."""
    pts = draw(st.lists(st.sampled_from(anchor_points()), min_size=2, max_size=5, unique=True))
    jitter = draw(st.lists(st.tuples(st.floats(-0.003, 0.003), st.floats(-0.003, 0.003)), min_size=len(pts), max_size=len(pts)))
    pts = [(x + dx, y + dy) for (x, y), (dx, dy) in zip(pts, jitter)]
    repeated = []
    for p in pts:
        repeated.extend([p] * draw(st.integers(1, 3)))
    if draw(st.booleans()) and len(pts) >= 3:
        ring = [*repeated, repeated[0]]
        geom = shapely.make_valid(shapely.Polygon(ring))
        polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
        if polys and shapely.Polygon(ring).is_valid:
            return shapely.Polygon(ring)
    return shapely.LineString(repeated)


def link(geoms) -> pd.DataFrame:
    return link_geometries(np.array(geoms, dtype=object), gazetteer())


@fuzz_settings(scale=0.5)
@given(st.lists(degenerate_shape(), min_size=1, max_size=20))
def test_repeated_vertices_link_without_warnings_like_the_cleaned_shape(geoms):
    count("degenerate shapes (geo.linking.link_geometries)", len(geoms))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = link(geoms)
    want = link([shapely.remove_repeated_points(g) for g in geoms])
    cols = ["hub_code", "district_code", "legal_dong_code"]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    for a, c in zip(got["district_shares"], want["district_shares"]):
        assert a.keys() == c.keys() and all(abs(a[k] - c[k]) < 1e-6 for k in a)
