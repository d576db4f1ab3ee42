"""Proposal-density rasters of the review set, from GeoJSON files, and the heatmap command."""
import argparse
import io
import json
import math

import numpy as np
import pytest
import rasterio
import shapely

from geo.boundaries import city_outline_metric
from geo.crs import lonlat_to_metric, to_metric
from geo.rasterize import representative_xy
from layers.rasters import RasterRegistry, folium_overlay, legend_html, overlay_image, sample_values, write_density_geotiff
from planning.auth import Actor, actor_for
from planning.demo import seed_demo
from planning.errors import InvalidInput, NotAllowed
from planning.heatmap import (
    MAX_DENSITY_LAYERS,
    _prune_density_layers,
    add_heatmap_parser,
    density_key,
    density_raster,
    describe_filter,
    heatmap_from_geojson,
)
from planning.review import ReviewFilter, review_frame
from settings import raster_dir

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning:rasterio")


@pytest.fixture
def seeded(store):
    seed_demo(store, n_proposals=60, n_residents=10, seed=7)
    with store.transaction() as tx:
        planner = tx.residents.by_username("demo-planner").id
        admin = tx.residents.by_username("demo-admin").id
        resident = tx.residents.by_username("demo-resident").id
    return store, actor_for(store, planner), actor_for(store, admin), actor_for(store, resident)


def metric_points(frame):
    xs, ys, kept = representative_xy(to_metric(np.asarray(frame.geometry.to_numpy(), dtype=object)))
    assert kept.all()
    return xs, ys


def test_count_raster_of_the_review_set_is_registered_and_georeferenced(seeded):
    store, planner, admin, _ = seeded
    frame = review_frame(store, planner)
    kinds = set(shapely.get_type_id(frame.geometry.to_numpy()))
    assert {0, 1, 3} <= kinds  # points, lines and polygons take part
    result = density_raster(store, planner, None, 100, "count")
    registry = RasterRegistry(raster_dir())  # the app's registry (this test's own folder)
    assert [(layer.key, layer.kind) for layer in registry.list()] == [(result.key, "density")]
    assert result.layer == registry.get(result.key) and result.path == result.layer.path
    assert result.features == len(frame) and result.total == len(frame)
    xs, ys = metric_points(frame)
    with rasterio.open(result.path) as src:
        assert src.crs.to_epsg() == 5179 and src.profile["tiled"] and src.compression.value.lower() == "deflate"
        assert src.nodata == -1
        arr = src.read(1)
        assert arr.sum() == len(frame)
        tags = src.tags()
        assert tags["method"] == "count" and tags["cell_m"] == "100" and tags["feature_count"] == str(len(frame))
        assert tags["filter_ko"] == "전체 제안" and tags["filter_en"] == "all proposals"
        assert "제안 밀도" in tags["title_ko"] and "Proposal density" in tags["title_en"]
        # every proposal's point finds a non-zero cell holding it, by index and by sample
        for x, y in zip(xs, ys):
            r, c = src.index(x, y)
            assert arr[r, c] > 0
            assert next(src.sample([(x, y)]))[0] == arr[r, c]
            left, top = src.transform @ (c, r)
            assert left <= x < left + 100 and top - 100 < y <= top
        # the grid covers the whole city, aligned to 100 m
        assert src.transform.c % 100 == 0 and src.transform.f % 100 == 0
        west, south, east, north = city_outline_metric().bounds
        b = src.bounds
        assert b.left <= west and b.bottom <= south and b.right >= east and b.top >= north
        assert b.right - b.left < east - west + 300 and b.top - b.bottom < north - south + 300
    # shown as an overlay with a legend; zeros are transparent, sampled values are counts
    img = overlay_image(result.layer)
    assert img.value_range[0] >= 1 and (img.rgba[..., 3] == 0).mean() > 0.9
    assert "Proposal density" in folium_overlay(result.layer, "en").layer_name
    assert "proposals per cell" in legend_html(result.layer, "en")
    lon, lat = frame.geometry.iloc[0].representative_point().x, frame.geometry.iloc[0].representative_point().y
    assert sample_values(result.layer, lon, lat) >= 0
    # an admin may compute it too; the same parameters and filter replace the layer
    again = density_raster(store, admin, None, 100, "count")
    assert again.key == result.key and len(registry.list()) == 1 and not result.path.exists()


def test_kde_raster_integrates_to_the_filtered_count(seeded):
    store, planner, _, _ = seeded
    everything = review_frame(store, planner)
    category = everything["category"].mode().iloc[0]
    f = ReviewFilter(categories=(category,))
    n = int((everything["category"] == category).sum())
    result = density_raster(store, planner, f, 50, "kde", 300)
    assert result.features == n and result.bandwidth_m == 300
    with rasterio.open(result.path) as src:
        arr = src.read(1, masked=True)
        integral = float(arr.sum()) * (50 / 1000) ** 2
        tags = src.tags()
        assert math.isnan(src.nodata)
    assert integral == pytest.approx(n, rel=0.01)
    assert result.total == pytest.approx(n, rel=1e-4)
    assert tags["method"] == "kde" and tags["bandwidth_m"] == "300" and tags["kernel"] == "gaussian"
    assert category in tags["filter_ko"] and category in tags["filter_en"]
    assert result.key == density_key("kde", 50, 300, f) != density_key("kde", 50, 300, None)
    # another filter is another layer, next to the first
    other = density_raster(store, planner, None, 50, "kde", 300)
    assert {x.key for x in RasterRegistry(raster_dir()).list(["density"])} == {result.key, other.key}


def test_only_planners_and_admins_and_nothing_is_written_when_refused(seeded):
    store, planner, _, resident = seeded
    for who in (resident, Actor.anonymous()):
        with pytest.raises(NotAllowed):
            density_raster(store, who, None, 100, "count")
        with pytest.raises(NotAllowed):  # the role is checked before the parameters
            density_raster(store, who, None, 3, "idw")
    assert RasterRegistry(raster_dir()).list() == []
    with pytest.raises(InvalidInput) as err:
        density_raster(store, planner, None, 3, "count")
    assert err.value.code == "bad_cell" and "셀 크기" in err.value.ko and "Cell size" in err.value.en
    with pytest.raises(InvalidInput) as err:
        density_raster(store, planner, ReviewFilter(proposal_ids=(-1,)), 100, "count")
    assert err.value.code == "no_proposals" and "조건에 맞는 제안이 없어" in err.value.ko and "No proposals" in err.value.en
    assert RasterRegistry(raster_dir()).list() == []


def test_not_registering_writes_the_file_asked_for(seeded, tmp_path):
    store, planner, _, _ = seeded
    out = tmp_path / "exports" / "density.tif"
    result = density_raster(store, planner, None, 200, "count", register=False, out=out)
    assert result.layer is None and result.path == out and out.exists()
    assert RasterRegistry(raster_dir()).list() == []
    with rasterio.open(out) as src:
        assert src.read(1).sum() == result.features


def small_density(tmp_path, name):
    counts = np.zeros((20, 20), dtype=np.int32)
    counts[3, 4] = 1
    from rasterio.transform import from_origin

    return write_density_geotiff(tmp_path / f"{name}.tif", counts, from_origin(945_000, 1_962_000, 100, 100), method="count", cell_m=100, feature_count=1)


def test_old_density_layers_are_pruned_but_not_others(tmp_path):
    reg = RasterRegistry(tmp_path / "reg")
    reg.register(small_density(tmp_path, "upload"), "landuse", "토지이용", "Land use")
    for i in range(MAX_DENSITY_LAYERS + 2):
        reg.register(small_density(tmp_path, f"d{i}"), f"density-{i}", "밀도", "Density", kind="density", meta={"created": f"2026-05-01T00:00:{i:02d}"})
    _prune_density_layers(reg, keep=f"density-{MAX_DENSITY_LAYERS + 1}")
    keys = [x.key for x in reg.list()]
    assert keys[0] == "landuse" and len(reg.list(["density"])) == MAX_DENSITY_LAYERS
    assert "density-0" not in keys and "density-1" not in keys and f"density-{MAX_DENSITY_LAYERS + 1}" in keys


def test_filter_descriptions():
    from datetime import date

    assert describe_filter(None, "ko") == "전체 제안" and describe_filter(ReviewFilter(), "en") == "all proposals"
    f = ReviewFilter(district_codes=("4128164000",), categories=("환경",), since=date(2026, 5, 1), include_hidden=False)
    assert describe_filter(f, "ko") == "행정동 4128164000; 분야 환경; 2026-05-01 – …; 숨김 제외"
    assert describe_filter(f, "en") == "districts 4128164000; categories 환경; 2026-05-01 – …; without hidden"


# ---------------------------------------------------------------------------
# GeoJSON and the command line
# ---------------------------------------------------------------------------


def fc(features, **extra):
    return {"type": "FeatureCollection", "features": features, **extra}


def feat(gtype, coords):
    return {"type": "Feature", "properties": {}, "geometry": {"type": gtype, "coordinates": coords}}


@pytest.fixture
def geojson(tmp_path):
    features = [
        feat("Point", [126.8320, 37.6584]),
        feat("Point", [126.8321, 37.6585]),
        feat("Point", [126.7700, 37.6700]),
        feat("LineString", [[126.80, 37.65], [126.81, 37.65]]),
        feat("Polygon", [[[126.85, 37.63], [126.86, 37.63], [126.86, 37.64], [126.85, 37.64], [126.85, 37.63]]]),
        {"type": "Feature", "properties": {"note": "no geometry"}, "geometry": None},
    ]
    p = tmp_path / "proposals.geojson"
    p.write_text(json.dumps(fc(features)), encoding="utf-8")
    return p


def run_cli(argv, capsys):
    parser = argparse.ArgumentParser(prog="python -m planning")
    parser.add_argument("--lang", default="ko")
    sub = parser.add_subparsers(dest="command", required=True)
    add_heatmap_parser(sub)
    args = parser.parse_args(argv)
    out = io.StringIO()
    code = args.fn(args, out)
    return code, out.getvalue(), capsys.readouterr().err


def test_heatmap_from_geojson_places_every_feature(geojson, tmp_path):
    result = heatmap_from_geojson(geojson, 100, "count", None, tmp_path / "h.tif")
    assert result.features == 5 and result.skipped == 1 and result.layer is None
    with rasterio.open(result.path) as src:
        arr = src.read(1)
        assert arr.sum() == 5 and src.crs.to_epsg() == 5179
        x, y = lonlat_to_metric([126.7700], [37.6700])
        r, c = src.index(float(x[0]), float(y[0]))
        assert arr[r, c] == 1
        x, y = lonlat_to_metric([126.8320, 126.8321], [37.6584, 37.6585])
        cells = {src.index(float(a), float(b)) for a, b in zip(x, y)}
        assert sum(arr[rc] for rc in cells) == 2
        assert src.tags()["filter_en"] == "GeoJSON file proposals.geojson"


def test_cli_writes_the_raster(geojson, tmp_path, capsys):
    out = tmp_path / "out" / "kde.tif"
    code, stdout, stderr = run_cli(["heatmap", str(geojson), "--cell", "50", "--method", "kde", "--bandwidth", "200", "--out", str(out)], capsys)
    assert code == 0, stderr
    assert out.exists() and "density raster written" in stdout and "1 features without geometry skipped" in stdout
    with rasterio.open(out) as src:
        assert src.read(1).sum() * (50 / 1000) ** 2 == pytest.approx(5, rel=1e-3)
        assert src.tags()["bandwidth_m"] == "200"
    code, stdout, _ = run_cli(["heatmap", str(geojson), "--cell", "250", "--out", str(tmp_path / "c.tif")], capsys)
    assert code == 0 and "count" in stdout


@pytest.mark.parametrize(
    ("args", "code_word", "ko", "en"),
    [
        (["--cell", "abc"], "bad_number", "숫자가 아닙니다", "is not a number"),
        (["--cell", "1"], "bad_cell", "셀 크기", "Cell size"),
        (["--cell", "100", "--method", "idw"], "bad_method", "밀도 계산 방식", "Density method"),
        (["--cell", "100", "--method", "kde", "--bandwidth", "20"], "bad_bandwidth", "대역폭", "Bandwidth"),
        (["--cell", "100", "--bandwidth", "300"], "bandwidth_without_kde", "--bandwidth", "only applies to --method kde"),
        (["--cell", "10", "--method", "kde", "--bandwidth", "10000"], "grid_too_large", "격자가 너무 큽니다", "grid is too large"),
    ],
)
def test_cli_refuses_bad_parameters_in_both_languages(geojson, tmp_path, capsys, args, code_word, ko, en):
    out = tmp_path / "x.tif"
    code, stdout, stderr = run_cli(["heatmap", str(geojson), *args, "--out", str(out)], capsys)
    assert code == 2 and stdout == ""
    assert stderr.startswith(code_word + ":") and ko in stderr and en in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "code_word", "en"),
    [
        (None, "file_not_found", "File not found"),
        ("{not json", "bad_geojson", "cannot be read as GeoJSON"),
        (json.dumps({"type": "Feature", "geometry": None}), "not_feature_collection", "not a GeoJSON FeatureCollection"),
        (json.dumps(fc([feat("Point", [945_000.0, 1_950_000.0])])), "not_lonlat", "not longitude/latitude"),
        (json.dumps(fc([feat("Point", [126.8, 37.6])], crs={"type": "name", "properties": {"name": "EPSG:5179"}})), "bad_crs", "cannot be used"),
        (json.dumps(fc([feat("Polygon", [[1, 2]])])), "bad_geometry", "feature 1 cannot be read"),
        (json.dumps(fc([])), "no_features", "no features with a geometry"),
    ],
)
def test_cli_refuses_bad_files(tmp_path, capsys, content, code_word, en):
    p = tmp_path / "in.geojson"
    if content is not None:
        p.write_text(content, encoding="utf-8")
    code, _, stderr = run_cli(["heatmap", str(p), "--cell", "100", "--out", str(tmp_path / "x.tif")], capsys)
    assert code == 2 and stderr.startswith(code_word + ":") and en in stderr
    assert any("\uac00" <= ch <= "\ud7a3" for ch in stderr)  # the Korean message too
