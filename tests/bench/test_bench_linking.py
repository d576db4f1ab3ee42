"""The linking benchmark against PostGIS: rows well formed, every geometry equal, and a wrong answer caught.

Not a timing test: nothing here asserts on speed. The PostGIS tests talk to
the real server (``BENCH_POSTGIS_ADMIN_URL``) and skip without one, or fail
with ``REQUIRE_POSTGIS=1``.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
import shapely

from bench.generate import generate_geometries
from bench.linking import CASE, POSTGIS_CASE, bench_linking, reference_layers
from bench.postgis_linking import ReferenceLayers, compare_postgis
from bench.rows import ROW_FIELDS
from bench.scales import Scale
from geo.crs import to_metric, to_storage
from geo.linking import build_gazetteer, link_geometries

N = 300
TINY_POSTGIS = Scale("smoke", linking_sizes=(N,), map_sizes=(200,), naive_max=200, repeats=1, budget_s=0.0, db="postgis")
COLUMNS = ["hub_code", "hub_distance_m", "district_code", "legal_dong_code"]


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_POSTGIS") == "1":
        pytest.fail(f"REQUIRE_POSTGIS=1 but PostGIS is unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostGIS unavailable: {reason}")


@pytest.fixture(scope="module")
def linked() -> tuple[np.ndarray, np.ndarray, pd.DataFrame, ReferenceLayers]:
    """N generated geometries, their kinds, our links and the reference layers in EPSG:5179."""
    hubs, districts, legal = reference_layers()
    gen = generate_geometries(N, seed=7)
    ours = link_geometries(gen.geoms, build_gazetteer(hubs, districts, legal), with_shares=False)
    return gen.geoms, gen.kinds, ours, ReferenceLayers.from_frames(hubs, districts, legal)


@pytest.mark.postgis
def test_linking_rows_on_postgis():
    rows = bench_linking(TINY_POSTGIS)
    assert [(r["case"], r["n"]) for r in rows] == [(CASE, N), (POSTGIS_CASE, N)]
    pg = rows[1]
    if "note" in pg["details"]:
        _unavailable(pg["details"]["note"])
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert row["benchmark"] == "linking" and row["scale"] == "smoke" and row["metric"] == "time_s"
        assert isinstance(row["ours"], float) and math.isfinite(row["ours"]) and row["ours"] > 0
        assert math.isfinite(row["baseline"]) and row["ratio"] == pytest.approx(row["baseline"] / row["ours"])
        assert row["check"] is True, row["details"]
        json.dumps(row, default=str)
    d = pg["details"]
    assert d["database"].startswith("PostgreSQL")
    assert d["rows_compared"] == N
    assert d["load_s"] > 0 and d["query_s"] == pg["baseline"]
    assert set(d["load"]) >= {"copy_s", "index_s", "analyze_s", "load_s"}
    assert d["hub_distance_over_tol"] == 0 and d["hub_distance_max_abs_diff_m"] <= 1e-3
    assert d["knn_vs_st_distance_max_abs_m"] <= 1e-6
    assert sum(d["unexplained"].values()) == 0
    # every difference (if any) is a tie
    assert d["ties"] == d["differ"]


@pytest.mark.postgis
def test_postgis_answers_equal_ours_and_shuffled_ones_fail(linked):
    from bench.database import DatabaseUnavailable, throwaway_database
    from bench.postgis_linking import PostgisLinker

    geoms, kinds, ours, layers = linked
    try:
        with throwaway_database("postgis") as url:
            linker = PostgisLinker(url, layers)
            try:
                linker.load("props", geoms)
                pg = linker.link("props", len(geoms))
            finally:
                linker.close()
    except DatabaseUnavailable as err:
        _unavailable(str(err))
    assert list(pg.columns) == COLUMNS and len(pg) == N
    good = compare_postgis(ours, pg, geoms, kinds, layers)
    assert good["ok"] is True, good
    assert good["differ"] == {"hub_code": 0, "district_code": 0, "legal_dong_code": 0}
    shuffled = pg.sample(frac=1.0, random_state=3).reset_index(drop=True)
    bad = compare_postgis(ours, shuffled, geoms, kinds, layers)
    assert bad["ok"] is False
    assert bad["unexplained"]["district_code"] > 0 and bad["hub_distance_over_tol"] > 0


def test_compare_catches_one_wrong_district(linked):
    geoms, kinds, ours, layers = linked
    assert compare_postgis(ours, ours.copy(), geoms, kinds, layers)["ok"] is True
    wrong = ours.copy()
    row = 0
    codes = layers.districts.codes
    wrong.loc[row, "district_code"] = codes[(int(np.searchsorted(codes, ours.loc[row, "district_code"])) + 1) % len(codes)]
    got = compare_postgis(ours, wrong, geoms, kinds, layers)
    assert got["ok"] is False
    assert got["differ"]["district_code"] == 1 and got["unexplained"]["district_code"] == 1
    assert got["examples"][0]["row"] == row and got["examples"][0]["tie"] is False


def test_compare_catches_a_distance_off_by_a_centimetre(linked):
    geoms, kinds, ours, layers = linked
    wrong = ours.copy()
    wrong.loc[5, "hub_distance_m"] += 0.01
    got = compare_postgis(ours, wrong, geoms, kinds, layers)
    assert got["ok"] is False and got["hub_distance_over_tol"] == 1


def test_compare_accepts_a_genuine_tie_only():
    hubs, districts, legal = reference_layers()
    layers = ReferenceLayers.from_frames(hubs, districts, legal)
    a, b, c = layers.hubs.codes[:3]
    # a point halfway between hubs a and b (and not as near to c): either hub is right
    mid = shapely.line_interpolate_point(shapely.linestrings(np.vstack([shapely.get_coordinates(layers.hubs.geom(a)),
                                                                       shapely.get_coordinates(layers.hubs.geom(b))])), 0.5,
                                         normalized=True)
    pt = to_storage(mid)
    d = float(shapely.distance(to_metric(pt), layers.hubs.geom(a)))
    frame = pd.DataFrame({"hub_code": [a], "hub_distance_m": [d], "district_code": ["x"], "legal_dong_code": ["y"]})
    geoms, kinds = np.array([pt], dtype=object), np.array([0])
    tie = compare_postgis(frame, frame.assign(hub_code=[b]), geoms, kinds, layers)
    assert tie["differ"]["hub_code"] == 1 and tie["ties"]["hub_code"] == 1 and tie["ok"] is True
    d_c = float(shapely.distance(to_metric(pt), layers.hubs.geom(c)))
    assert not math.isclose(d, d_c, rel_tol=1e-6)
    other = compare_postgis(frame, frame.assign(hub_code=[c]), geoms, kinds, layers)
    assert other["ok"] is False and other["unexplained"]["hub_code"] == 1


def test_unreachable_server_skips_the_postgis_rows(monkeypatch):
    monkeypatch.setenv("BENCH_POSTGIS_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:1/postgres")  # nothing listens on port 1
    rows = bench_linking(Scale("smoke", linking_sizes=(100,), map_sizes=(), naive_max=0, repeats=1, budget_s=0.0, db="postgis"))
    assert [r["case"] for r in rows] == [CASE, POSTGIS_CASE]
    assert rows[0]["check"] is True
    skipped = rows[1]
    assert skipped["check"] is None and skipped["baseline"] is None and skipped["ratio"] is None
    assert "unavailable" in skipped["details"]["note"]


def test_sqlite_scale_has_no_postgis_rows():
    rows = bench_linking(Scale("smoke", linking_sizes=(100,), map_sizes=(), naive_max=0, repeats=1, budget_s=0.0, db="sqlite"))
    assert [r["case"] for r in rows] == [CASE]
