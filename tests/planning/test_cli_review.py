"""``python -m planning clusters`` and ``heatmap`` through the real command line (subprocess) and ``main``."""
import csv
import io
import json
import subprocess
import sys

import numpy as np
import rasterio

from geo.crs import lonlat_to_metric
from planning.cli import main

LON, LAT = 126.80, 37.65
# two groups ~1 km apart, five points each within ~30 m, and two lone points
GROUP_A = [(LON + i * 0.0001, LAT) for i in range(5)]
GROUP_B = [(LON + 0.012 + i * 0.0001, LAT + 0.0001) for i in range(5)]
NOISE = [(LON + 0.03, LAT + 0.03), (LON - 0.03, LAT - 0.02)]


def write_points(path, points):
    features = [
        {"type": "Feature", "id": f"p{i}", "properties": {}, "geometry": {"type": "Point", "coordinates": list(p)}}
        for i, p in enumerate(points)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")


def test_clusters_command_writes_id_and_cluster(tmp_path):
    src = tmp_path / "points.geojson"
    write_points(src, GROUP_A + GROUP_B + NOISE)
    out = io.StringIO()
    assert main(["clusters", str(src), "--eps", "50", "--min-size", "3"], out=out) == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(12)]
    labels = [int(r["cluster"]) for r in rows]
    assert labels[:5] == [0] * 5 and labels[5:10] == [1] * 5 and labels[10:] == [-1, -1]


def test_clusters_command_refuses_bad_input_in_both_languages(tmp_path):
    src = tmp_path / "points.geojson"
    write_points(src, GROUP_A)
    run = subprocess.run(
        [sys.executable, "-m", "planning", "clusters", str(src), "--eps", "-5", "--min-size", "3"], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.startswith("bad_eps:") and "거리(eps)" in run.stderr and "The distance (eps)" in run.stderr
    run = subprocess.run([sys.executable, "-m", "planning", "clusters", str(tmp_path / "missing.geojson"), "--eps", "50", "--min-size", "3"], capture_output=True, text=True)
    assert run.returncode == 2 and run.stdout == ""


def test_heatmap_command_counts_every_point_in_its_cell(tmp_path):
    src = tmp_path / "points.geojson"
    points = GROUP_A + GROUP_B + NOISE
    write_points(src, points)
    tif = tmp_path / "density.tif"
    run = subprocess.run(
        [sys.executable, "-m", "planning", "heatmap", str(src), "--cell", "100", "--method", "count", "--out", str(tif)],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    with rasterio.open(tif) as r:
        assert r.crs.to_epsg() == 5179
        data = r.read(1, masked=True)
        assert int(data.sum()) == len(points)
        xs, ys = lonlat_to_metric(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
        values = [v[0] for v in r.sample(zip(xs, ys))]
        assert all(v >= 1 for v in values)


def test_heatmap_command_refuses_a_kde_without_sense(tmp_path):
    src = tmp_path / "points.geojson"
    write_points(src, GROUP_A)
    run = subprocess.run(
        [sys.executable, "-m", "planning", "heatmap", str(src), "--cell", "100", "--method", "blur", "--out", str(tmp_path / "x.tif")],
        capture_output=True, text=True,
    )
    assert run.returncode == 2 and not (tmp_path / "x.tif").exists()
    assert "count" in run.stderr and "kde" in run.stderr
