"""Exports of the filtered review set: CSV, GeoJSON, GeoPackage, read back."""
import json

import pytest
import shapely

from planning.auth import Actor, actor_for
from planning.demo import seed_demo
from planning.errors import InvalidInput, NotAllowed
from planning.exports import EXPORT_COLUMNS, export_bytes, read_back, review_export
from planning.review import ReviewFilter, review_frame


@pytest.fixture
def seeded(store):
    seed_demo(store, n_proposals=60, n_residents=10, seed=9)
    with store.transaction() as tx:
        planner = actor_for(store, tx.residents.by_username("demo-planner").id)
        resident = actor_for(store, tx.residents.by_username("demo-resident").id)
        first = tx.proposals.list()[-1]
        tx.proposals.update(first.id, title="=HYPERLINK(\"http://x\") <b>\"따옴표\"</b>")
    return store, planner, resident, first.id


def test_geojson_holds_exactly_the_filtered_set_in_lon_lat(seeded):
    store, planner, _, _ = seeded
    frame = review_frame(store, planner)
    category = frame["category"].mode().iloc[0]
    f = ReviewFilter(categories=(category,))
    data = json.loads(review_export(store, planner, f, "geojson"))
    expected = review_frame(store, planner, f)
    assert sorted(feat["id"] for feat in data["features"]) == sorted(expected["id"])
    by_id = {int(r.id): r.geometry for r in expected.itertuples()}
    for feat in data["features"]:
        geom = shapely.geometry.shape(feat["geometry"])
        assert geom.equals_exact(by_id[feat["id"]], 1e-9)
        lon, lat = geom.representative_point().coords[0]
        assert 126.6 < lon < 127.0 and 37.5 < lat < 37.8  # lon first
        assert feat["properties"]["category"] == category
        assert "author_id" not in feat["properties"] and "display_name" not in feat["properties"]


def test_csv_and_geopackage_round_trip(seeded):
    store, planner, _, hostile_id = seeded
    labels = {hostile_id: 3}
    csv = read_back(review_export(store, planner, None, "csv", clusters=labels), "csv")
    gpkg = read_back(review_export(store, planner, None, "gpkg", clusters=labels), "gpkg")
    frame = review_frame(store, planner)
    assert len(csv) == len(gpkg) == len(frame)
    assert [c for c in EXPORT_COLUMNS] == [c for c in csv.columns if c in EXPORT_COLUMNS]
    assert set(csv.loc[csv["id"] == hostile_id, "cluster"]) == {3}
    assert (csv.loc[csv["id"] != hostile_id, "cluster"] == -1).all()
    # a formula is defused for spreadsheets; the GeoPackage keeps the text as is
    assert csv.loc[csv["id"] == hostile_id, "title"].iloc[0].startswith("'=HYPERLINK")
    assert gpkg.loc[gpkg["id"] == hostile_id, "title"].iloc[0].startswith("=HYPERLINK")
    assert gpkg.crs.to_epsg() == 4326
    merged = gpkg.set_index("id").geometry
    for r in frame.itertuples():
        assert merged.loc[r.id].equals_exact(r.geometry, 1e-9)
    assert csv["district_name"].str.len().gt(0).all()
    assert csv["lon"].between(126.6, 127.0).all() and csv["lat"].between(37.5, 37.8).all()


@pytest.mark.parametrize("who", ["resident", "anonymous"])
def test_only_planners_export(seeded, who):
    store, _, resident, _ = seeded
    actor = resident if who == "resident" else Actor.anonymous()
    with pytest.raises(NotAllowed):
        review_export(store, actor, None, "csv")


def test_unknown_format_is_refused_in_both_languages(seeded):
    store, planner, _, _ = seeded
    with pytest.raises(InvalidInput) as err:
        review_export(store, planner, None, "xlsx")
    assert "csv, geojson" in err.value.message("en") and "형식" in err.value.message("ko")
    with pytest.raises(InvalidInput):
        export_bytes(review_frame(store, planner), "shp")
