"""The clustering benchmark at a tiny scale: well-formed rows, labels checked equal.

Not a timing test: nothing here asserts on speed.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from bench.clustering import CASES, _sql_step, bench_clustering, embedded_steps
from bench.generate import proposals_frame
from bench.report import table
from bench.rows import ROW_FIELDS
from bench.scales import Scale
from geo.clustering import dbscan_labels_all_pairs
from geo.crs import to_metric


def tiny(db: str, n: int = 500) -> Scale:
    return Scale("smoke", linking_sizes=(200,), map_sizes=(200,), naive_max=200, repeats=1, budget_s=0.0, db=db, clustering_sizes=(n,))


def check_rows(rows: list[dict], n: int) -> None:
    assert [r["case"] for r in rows] == [f"eps {eps:g} m, min size {k} (50% points, 25% lines, 25% polygons)" for eps, k in CASES]
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert row["benchmark"] == "clustering" and row["scale"] == "smoke" and row["n"] == n
        assert row["metric"] == "time_s" and row["unit"] == "s" and row["runs"] == 1
        assert isinstance(row["ours"], float) and math.isfinite(row["ours"]) and row["ours"] > 0
        assert row["check"] is True, row["details"]
        details = row["details"]
        assert details["labels_equal"] == n
        # The embedded steps, and a layout that says something: clusters and noise.
        steps = details["ours_steps"]
        assert {"project_s", "index_s", "candidates_s", "core_s", "labels_s"} <= set(steps)
        assert steps["clusters"] == details["clusters"] >= 1 and 0 < details["noise"] < n
        json.dumps(row)  # the JSON file can hold it
    assert "clustering" in table(rows)


@pytest.mark.postgis
def test_clustering_smoke_on_postgis():
    from bench.database import DatabaseUnavailable

    try:
        rows = bench_clustering(tiny("postgis"))
    except DatabaseUnavailable as err:
        if os.environ.get("REQUIRE_POSTGIS") == "1":
            pytest.fail(str(err))
        pytest.skip(str(err))
    check_rows(rows, 500)
    for row in rows:
        assert isinstance(row["baseline"], float) and row["baseline"] > 0
        assert row["ratio"] == pytest.approx(row["baseline"] / row["ours"])
        details = row["details"]
        assert details["database"].startswith("PostgreSQL") and details["load_s"] > 0
        # Every step of the database path was seen (statements timed by their first words).
        assert {"project_s", "index_s", "analyze_s", "core_s", "clusters_s"} <= set(details["baseline_steps"])


def test_clustering_smoke_without_postgis():
    rows = bench_clustering(tiny("sqlite"))
    check_rows(rows, 500)
    for row in rows:
        assert row["baseline"] is None and row["ratio"] is None
        assert "PostGIS" in row["details"]["note"] and row["details"]["reference_all_pairs_s"] > 0
        assert "database" not in row["details"]


def test_no_sizes_no_rows():
    assert bench_clustering(Scale("smoke", (), (), 0, db="postgis", clustering_sizes=())) == []


def test_embedded_steps_give_the_reference_labels_counts():
    frame = proposals_frame(400)
    eps, k = CASES[0]
    steps = embedded_steps(frame, eps, k)
    labels = dbscan_labels_all_pairs(to_metric(np.asarray(frame.geometry.values, dtype=object)), eps, k)
    assert steps["clusters"] == labels.max() + 1
    assert steps["candidate_pairs"] == steps["known_pairs"] + steps["open_pairs"]


def test_sql_statements_are_named_by_step():
    assert _sql_step("  CREATE TEMPORARY TABLE goyang_cluster_input ON COMMIT DROP AS SELECT") == "project_s"
    assert _sql_step("CREATE INDEX ON goyang_cluster_input USING gist (g)") == "index_s"
    assert _sql_step("UPDATE pg_temp.goyang_cluster_input AS a SET") == "core_s"
    assert _sql_step("\n    WITH dbscan AS (") == "clusters_s"
    assert _sql_step("SET LOCAL jit = off") == "other_s"
