"""The browser benchmark at a tiny scale: it runs end to end in Chromium against PostGIS and its checks pass.

Not a timing test: nothing here asserts on speed.
"""
from __future__ import annotations

import json
import math
import os

import pytest

from bench.browser import CITY_DRAGS, DONG_DRAGS, ROOT, bench_browser
from bench.rows import ROW_FIELDS
from bench.scales import Scale

pytestmark = [pytest.mark.browser, pytest.mark.postgis]

TINY = Scale("smoke", linking_sizes=(200,), map_sizes=(200,), naive_max=200, repeats=1, budget_s=0.0, db="postgis",
             browser_proposals=300, browser_sessions=2)


def _unavailable(reason: str) -> None:
    """Skip, or fail when the run requires a browser or PostGIS (as CI does)."""
    if os.environ.get("REQUIRE_BROWSER") == "1" or os.environ.get("REQUIRE_POSTGIS") == "1":
        pytest.fail(f"the browser benchmark could not run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    got = bench_browser(TINY)
    reasons = {r["details"].get("reason") for r in got if r["details"].get("reason")}
    if reasons:
        _unavailable("; ".join(sorted(reasons)))
    return got


def test_rows_are_well_formed_and_checks_pass(rows):
    assert rows
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert row["benchmark"] == "browser" and row["scale"] == "smoke" and row["n"] == 300
        assert isinstance(row["ours"], float) and math.isfinite(row["ours"]) and row["ours"] > 0, row
        if row["baseline"] is not None:
            assert math.isfinite(row["baseline"]) and row["ratio"] == pytest.approx(row["baseline"] / row["ours"])
        assert row["check"] in (True, None), (row["case"], row["metric"], row["details"])
        json.dumps(row, default=str)
    metrics = {r["metric"] for r in rows}
    assert {"nav_to_map_s", "nav_to_settled_s", "pan_to_update_s", "pan_to_update_best_s", "zoom_to_update_s",
            "rss_peak_MB", "sessions_p50_s", "sessions_p95_s"} <= metrics
    assert sum(r["check"] is True for r in rows) >= 6


def test_the_map_showed_every_proposal_and_the_naive_map_every_marker(rows):
    cold = next(r for r in rows if r["metric"] == "nav_to_map_s" and r["case"].startswith("cold"))
    d = cold["details"]
    # what the browser drew is what the app's own query counts for the view the browser reports
    assert 0 < d["represented"]["proposals"] == d["expected_in_view"] <= d["proposals_public"] == 300
    assert d["represented"]["features"] == d["represented"]["proposals"]  # at most 500: drawn one by one, not clustered
    assert d["naive_result"]["held"] == 300 and cold["baseline"] is not None
    for shot in d["screenshots"]:
        assert (ROOT / shot).stat().st_size > 10_000


def test_every_drag_brought_a_new_layer(rows):
    pans = {r["case"]: r for r in rows if r["metric"] == "pan_to_update_s"}
    assert len(pans["city zoom 12, drag"]["details"]["runs_s"]) == len(CITY_DRAGS)
    assert len(pans["zoom 15 화정1동, drag"]["details"]["runs_s"]) == len(DONG_DRAGS)
    assert all(n > 0 for p in pans.values() for n in p["details"]["items"])


def test_concurrent_residents_each_stored_one_proposal(rows):
    submit = next(r for r in rows if r["case"].endswith("submit a point"))
    assert submit["details"]["stored"] == 2 and submit["details"]["authors"] == 2
    assert submit["check"] is True


def test_memory_is_read_for_the_app_and_the_empty_reference(rows):
    mem = next(r for r in rows if r["metric"] == "rss_peak_MB" and "single" in r["case"])
    assert mem["ours"] > 50 and mem["baseline"] > 50  # a Streamlit process with geopandas loaded
