"""The review set per administrative dong and per H3 hexagon."""
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import to_metric, to_storage
from layers.choropleth import classed_choropleth
from planning.aggregates import (
    DONG_COLUMNS,
    HEXAGON_COLUMNS,
    apportioned_voters,
    by_dong,
    by_hexagon,
    district_of_points,
)
from planning.auth import Actor, actor_for
from planning.demo import seed_demo
from planning.errors import InvalidInput, NotAllowed
from planning.geography import districts_frame
from planning.review import ReviewFilter, review_frame


@pytest.fixture
def seeded(store):
    seed_demo(store, n_proposals=70, n_residents=10, seed=11)
    with store.transaction() as tx:
        planner = tx.residents.by_username("demo-planner").id
        resident = tx.residents.by_username("demo-resident").id
    return store, actor_for(store, planner), actor_for(store, resident)


def test_by_dong_counts_every_proposal_once_and_per_1000_is_right(seeded):
    store, planner, _ = seeded
    frame = review_frame(store, planner)
    table = by_dong(store, planner)
    assert list(table.columns) == [*DONG_COLUMNS, "geometry"] and table.crs.to_epsg() == 4326
    d = districts_frame(store).set_index("adm_code")
    assert len(table) == len(d) == 44 and table["code"].is_monotonic_increasing
    assert table["proposals"].sum() == len(frame)
    assert table["supports"].sum() == frame["supports"].sum()
    assert (table.set_index("code")["voters"] == d["voters"]).all()
    np.testing.assert_allclose(table["per_1000"], table["proposals"] * 1000 / table["voters"])
    # point proposals: the dong is the polygon holding the point (an independent spatial join)
    points = frame[frame.geometry.geom_type == "Point"]
    assert len(points) > 10
    only_points = by_dong(store, planner, ReviewFilter(proposal_ids=tuple(points["id"])))
    joined = gpd.sjoin(points[["geometry"]], districts_frame(store)[["adm_code", "geometry"]], predicate="within")
    expected = joined.groupby("adm_code").size()
    got = only_points.set_index("code")["proposals"]
    assert (got[got > 0] == expected.reindex(got[got > 0].index)).all() and got.sum() == len(points) == expected.sum()


def test_by_dong_follows_the_filter(seeded):
    store, planner, _ = seeded
    everything = review_frame(store, planner)
    category = everything["category"].mode().iloc[0]
    f = ReviewFilter(categories=(category,))
    table = by_dong(store, planner, f)
    assert table["proposals"].sum() == (everything["category"] == category).sum() == len(review_frame(store, planner, f))
    empty = by_dong(store, planner, ReviewFilter(proposal_ids=()))
    assert len(empty) == 44 and empty["proposals"].sum() == 0 and (empty["per_1000"] == 0).all()
    # it makes a choropleth whose legend counts the 44 dongs
    group = classed_choropleth(table, "per_1000", "natural_breaks", 5, "ko", title="주민 천 명당 제안")
    assert sum(c.count for c in group.classification.classes) == 44


def test_points_on_a_shared_edge_go_to_the_smaller_code_and_outside_to_the_nearest():
    # two squares side by side (metres)
    west = shapely.box(0, 0, 1000, 1000)
    east = shapely.box(1000, 0, 2000, 1000)
    codes = np.array(["B", "A"], dtype=object)
    xs = np.array([500.0, 1000.0, 1500.0, 2050.0])  # inside west, on the shared edge, inside east, 50 m outside east
    ys = np.array([500.0, 500.0, 500.0, 500.0])
    assert list(district_of_points(xs, ys, codes, np.array([west, east], dtype=object))) == ["B", "A", "A", "A"]


def test_lines_and_polygons_count_at_their_representative_point(seeded):
    store, planner, _ = seeded
    frame = review_frame(store, planner)
    shapes = frame[frame.geometry.geom_type != "Point"]
    table = by_dong(store, planner, ReviewFilter(proposal_ids=tuple(shapes["id"])))
    assert table["proposals"].sum() == len(shapes) > 5
    # the dong of each line's middle and each polygon's inner point, found with geopandas
    reps = [
        g.interpolate(0.5, normalized=True) if g.geom_type in ("LineString", "MultiLineString") else g.representative_point()
        for g in to_metric(shapes.geometry.to_numpy())
    ]
    pts = gpd.GeoDataFrame(geometry=to_storage(np.array(reps, dtype=object)), crs=4326)
    joined = gpd.sjoin(pts, districts_frame(store)[["adm_code", "geometry"]], predicate="intersects")
    joined = joined.sort_values("adm_code").groupby(level=0).first()  # a point on an edge: the smaller code
    assert len(joined) == len(shapes)
    expected = joined.groupby("adm_code").size()
    got = table.set_index("code")["proposals"]
    assert got[got > 0].to_dict() == expected.to_dict()


def test_apportioned_voters_share_by_area():
    d = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)], dtype=object)
    voters = np.array([1000.0, 4000.0])
    hexes = np.array([shapely.box(500, 0, 1500, 1000), shapely.box(0, 0, 250, 1000), shapely.box(5000, 0, 6000, 10)], dtype=object)
    np.testing.assert_allclose(apportioned_voters(hexes, d, voters), [500 + 2000, 250, 0])


def test_by_hexagon_counts_and_estimates_voters(seeded):
    store, planner, _ = seeded
    frame = review_frame(store, planner)
    table = by_hexagon(store, planner, None, 8)
    assert list(table.columns) == [*HEXAGON_COLUMNS, "geometry"] and table.crs.to_epsg() == 4326
    assert table["proposals"].sum() == len(frame) and (table["proposals"] > 0).all()
    assert table["supports"].sum() == frame["supports"].sum()
    assert all(h3.get_resolution(c) == 8 for c in table["h3"])
    # each point proposal lies in the polygon of its hexagon (lon/lat order)
    cells = table.set_index("h3")
    for geom in frame.geometry[frame.geometry.geom_type == "Point"]:
        cell = h3.latlng_to_cell(geom.y, geom.x, 8)
        assert cells.loc[cell, "geometry"].contains(geom)
    ok = table["voters_est"] > 0
    np.testing.assert_allclose(table.loc[ok, "per_1000"], table.loc[ok, "proposals"] * 1000 / table.loc[ok, "voters_est"])
    assert table.loc[~ok, "per_1000"].isna().all()
    # one hexagon's voters by hand: each dong's voters times the share of its area in the hexagon
    d = districts_frame(store)
    hexagon = to_metric(table.geometry.iloc[0])
    expected = sum(v * to_metric(g).intersection(hexagon).area / to_metric(g).area for v, g in zip(d["voters"], d.geometry))
    assert table["voters_est"].iloc[0] == pytest.approx(expected, rel=1e-9)


def test_hexagons_covering_the_city_share_out_every_voter(seeded):
    store, planner, _ = seeded
    table = by_hexagon(store, planner, ReviewFilter(), 7, include_empty=True)
    total = districts_frame(store)["voters"].sum()
    assert table["voters_est"].sum() == pytest.approx(total, rel=1e-9)
    assert table["proposals"].sum() == len(review_frame(store, planner))
    assert (table["proposals"] == 0).any() and table["h3"].is_unique
    group = classed_choropleth(table, "proposals", "quantiles", 5, "en", name_column="h3")
    assert sum(c.count for c in group.classification.classes) == len(table)


def test_roles_and_resolution_are_checked(seeded):
    store, planner, resident = seeded
    for who in (resident, Actor.anonymous()):
        with pytest.raises(NotAllowed):
            by_dong(store, who)
        with pytest.raises(NotAllowed):
            by_hexagon(store, who)
        with pytest.raises(NotAllowed):
            by_hexagon(store, who, None, 12)
    with pytest.raises(InvalidInput) as err:
        by_hexagon(store, planner, None, 12)
    assert err.value.code == "bad_resolution" and "해상도" in err.value.ko and "resolution" in err.value.en
    assert isinstance(by_hexagon(store, planner, ReviewFilter(proposal_ids=())), pd.DataFrame)
