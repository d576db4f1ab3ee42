"""The planners' review set: filter and frame, on both engines."""
from datetime import date, datetime, timezone

import pytest

from planning.auth import Actor, actor_for
from planning.demo import seed_demo
from planning.errors import InvalidInput, NotAllowed
from planning.review import REVIEW_COLUMNS, ReviewFilter, apply_filter, review_frame


@pytest.fixture
def seeded(store):
    seed_demo(store, n_proposals=80, n_residents=12, seed=5)
    with store.transaction() as tx:
        planner = tx.residents.by_username("demo-planner").id
        resident = tx.residents.by_username("demo-resident").id
        first = tx.proposals.list()[-1]
        tx.proposals.set_hidden(first.id, True)
    return store, actor_for(store, planner), actor_for(store, resident), first.id


def test_frame_has_every_proposal_with_hidden_ones_marked(seeded):
    store, planner, _, hidden_id = seeded
    frame = review_frame(store, planner)
    assert list(frame.columns) == [*REVIEW_COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 4326
    with store.transaction() as tx:
        assert len(frame) == tx.proposals.count(include_hidden=True)
    assert bool(frame.loc[frame["id"] == hidden_id, "hidden"].iloc[0])
    assert not review_frame(store, planner, ReviewFilter(include_hidden=False))["id"].eq(hidden_id).any()
    # lon/lat, inside Goyang
    b = frame.geometry.bounds
    assert b.minx.between(126.6, 127.0).all() and b.miny.between(37.5, 37.8).all()


@pytest.mark.parametrize("who", ["resident", "anonymous"])
def test_only_planners_and_admins_open_the_review_set(seeded, who):
    store, _, resident, _ = seeded
    actor = resident if who == "resident" else Actor.anonymous()
    with pytest.raises(NotAllowed):
        review_frame(store, actor)


def test_filters_combine(seeded):
    store, planner, _, _ = seeded
    everything = review_frame(store, planner)
    district = everything["district_code"].mode().iloc[0]
    category = everything["category"].mode().iloc[0]
    narrowed = review_frame(store, planner, ReviewFilter(district_codes=(district,), categories=(category,)))
    expected = everything[(everything["district_code"] == district) & (everything["category"] == category)]
    assert sorted(narrowed["id"]) == sorted(expected["id"])
    hub = everything["hub_code"].iloc[0]
    assert set(review_frame(store, planner, ReviewFilter(hub_codes=hub))["hub_code"]) == {hub}
    some = tuple(int(i) for i in everything["id"].iloc[:3])
    assert sorted(review_frame(store, planner, ReviewFilter(proposal_ids=some))["id"]) == sorted(some)


def test_withdrawn_are_left_out_unless_asked(seeded):
    store, planner, _, _ = seeded
    with store.transaction() as tx:
        pid = tx.proposals.list()[0].id
        tx.proposals.set_status(pid, "withdrawn", None, "test")
    assert pid not in set(review_frame(store, planner)["id"])
    assert pid in set(review_frame(store, planner, ReviewFilter(include_withdrawn=True))["id"])
    assert pid in set(review_frame(store, planner, ReviewFilter(statuses=("withdrawn",)))["id"])


def test_dates_are_korean_calendar_days_both_included():
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    # 2026-05-01 23:30 KST is 2026-05-01 14:30 UTC; 2026-05-02 00:30 KST is 2026-05-01 15:30 UTC.
    times = [datetime(2026, 5, 1, 14, 30, tzinfo=timezone.utc), datetime(2026, 5, 1, 15, 30, tzinfo=timezone.utc)]
    frame = gpd.GeoDataFrame(
        {"id": [1, 2], "status": ["submitted"] * 2, "hidden": [False] * 2, "created_at": pd.to_datetime(times, utc=True)},
        geometry=[Point(126.8, 37.65)] * 2,
        crs=4326,
    )
    assert list(apply_filter(frame, ReviewFilter(until=date(2026, 5, 1)))["id"]) == [1]
    assert list(apply_filter(frame, ReviewFilter(since=date(2026, 5, 2)))["id"]) == [2]
    assert list(apply_filter(frame, ReviewFilter(since=date(2026, 5, 1), until=date(2026, 5, 2)))["id"]) == [1, 2]


def test_bad_periods_are_refused_in_both_languages():
    with pytest.raises(InvalidInput) as err:
        ReviewFilter(since=date(2026, 5, 2), until=date(2026, 5, 1))
    assert err.value.code == "empty_period" and "시작일" in err.value.message("ko") and "starts after" in err.value.message("en")
    with pytest.raises(InvalidInput) as err:
        ReviewFilter(since="2026-05-01")
    assert err.value.code == "bad_date"
