"""Smoke test of the benchmarks: each runs at a tiny scale and returns well-formed rows whose checks pass.

Not a timing test: nothing here asserts on speed.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely

from bench import BENCHMARKS
from bench.generate import LINE, POINT, POLYGON, generate_geometries, proposals_frame
from bench.report import render, table
from bench.rows import ROW_FIELDS
from bench.scales import Scale

TINY = Scale("smoke", linking_sizes=(200,), map_sizes=(200,), naive_max=200, repeats=1, budget_s=0.0, db="sqlite")


def check_rows(rows: list[dict], benchmark: str) -> None:
    assert rows, f"{benchmark} returned no rows"
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert row["benchmark"] == benchmark
        assert row["scale"] == "smoke"
        assert row["n"] == 200
        assert isinstance(row["ours"], float) and math.isfinite(row["ours"]) and row["ours"] >= 0
        if row["baseline"] is not None:
            assert math.isfinite(row["baseline"])
            assert row["ratio"] == pytest.approx(row["baseline"] / row["ours"])
        assert row["check"] in (True, None), row
        json.dumps(row, default=str)  # the JSON file can hold it
    assert any(row["check"] is True for row in rows), "no row carries a passed check"


def test_generated_proposals_mix_and_validity():
    gen = generate_geometries(400, seed=1)
    counts = np.bincount(gen.kinds, minlength=3)
    assert counts.sum() == 400
    assert counts[POINT] > counts[LINE] > 0 and counts[POLYGON] > 0
    assert shapely.is_valid(gen.geoms).all()
    minx, miny, maxx, maxy = shapely.total_bounds(gen.geoms)
    assert 126.6 < minx < maxx < 127.1 and 37.5 < miny < maxy < 37.8  # lon/lat in Goyang
    again = generate_geometries(400, seed=1)
    assert shapely.equals_exact(gen.geoms, again.geoms, 0).all()


def test_proposals_frame_has_the_map_columns():
    from layers.proposals import REQUIRED_COLUMNS
    from planning.proposals import MAP_COLUMNS

    frame = proposals_frame(50)
    assert tuple(frame.columns) == MAP_COLUMNS
    assert set(REQUIRED_COLUMNS) <= set(frame.columns)
    assert frame.crs.to_epsg() == 4326 and frame["id"].is_unique


def test_linking_smoke():
    rows = BENCHMARKS["linking"](TINY)
    check_rows(rows, "linking")
    details = rows[0]["details"]
    assert details["points_compared"] == details["points_equal"] > 0


def test_map_payload_smoke():
    rows = BENCHMARKS["map_payload"](TINY)
    check_rows(rows, "map_payload")
    metrics = {(r["case"], r["metric"]) for r in rows}
    cases = {r["case"] for r in rows}
    assert len(cases) == 2
    assert metrics == {(c, m) for c in cases for m in ("message_kB", "layer_kB", "rerun_s", "query_s")}
    for row in rows:
        assert row["baseline"] is not None  # the naive map is built at this size
        if row["metric"] == "message_kB":
            assert row["check"] is True
            assert row["details"]["proposals_in_view"] > 0
    text = render({"command": "python -m bench", "duration_s": 1.0, "machine": _machine(), "rows": rows})
    assert "map_payload" in text and "ratio" in table(rows)


@pytest.mark.postgis
def test_map_payload_smoke_on_postgis():
    from bench.database import DatabaseUnavailable

    try:
        rows = BENCHMARKS["map_payload"](Scale("smoke", (), (200,), naive_max=0, repeats=1, budget_s=0.0, db="postgis"))
    except DatabaseUnavailable as err:
        import os

        if os.environ.get("REQUIRE_POSTGIS") == "1":
            pytest.fail(str(err))
        pytest.skip(str(err))
    check_rows(rows, "map_payload")
    assert rows[0]["details"]["database"].startswith("PostgreSQL")


def _machine() -> dict:
    from bench.machine import machine_info

    return machine_info()
