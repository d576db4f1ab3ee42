"""Raster layers: writing, registry and refusals, overlay images, legends, sampling.

Fixtures are small GeoTIFFs over Goyang written with :func:`write_geotiff`
(the one writing path) in EPSG:5179, EPSG:5186 and EPSG:4326. Pixel values
are unique per cell (``row * 1000 + col``) so that a sampled or drawn value
identifies the cell it came from.
"""
from __future__ import annotations

import base64
import json
import math
import os
import struct
import zlib
from pathlib import Path

import folium
import numpy as np
import pytest
import rasterio
import rasterio.transform
import rasterio.warp
from folium.utilities import write_png
from rasterio.crs import CRS
from rasterio.transform import from_origin

from geo.crs import lonlat_to_metric, metric_to_lonlat
from layers import rasters
from layers.rasters import (
    COLORMAPS,
    GOYANG_LONLAT_BBOX,
    RASTER_KINDS,
    SOFTWARE,
    OverlayImage,
    RasterIndexCorrupt,
    RasterLayer,
    RasterRefused,
    RasterRegistry,
    folium_overlay,
    legend_html,
    overlay_image,
    sample_values,
    tile_size,
    write_density_geotiff,
    write_geotiff,
)

# rasterio 1.4's own from_origin/xy still multiply Affines with `*` (affine 3 prefers `@`): not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning:rasterio")

NODATA = -9999.0
# 100 m grid, 10 x 10 km, in EPSG:5179 (around 일산동구/덕양구)
X0, Y0, CELL = 940_000.0, 1_965_000.0, 100.0
HOLE = (slice(40, 50), slice(40, 50))  # nodata
NAN_CELLS = (slice(0, 3), slice(95, 100))  # NaN (no nodata value needed to hide them)


def gradient(rows: int, cols: int) -> np.ndarray:
    return np.add.outer(np.arange(rows) * 1000.0, np.arange(cols)).astype(np.float32)


@pytest.fixture(autouse=True)
def _fresh_cache():
    rasters.clear_overlay_cache()
    yield
    rasters.clear_overlay_cache()


@pytest.fixture
def values_5179() -> np.ndarray:
    a = gradient(100, 100)
    a[HOLE] = NODATA
    a[NAN_CELLS] = np.nan
    return a


@pytest.fixture
def tif_5179(tmp_path: Path, values_5179: np.ndarray) -> Path:
    return write_geotiff(
        tmp_path / "src" / "density.tif", values_5179, from_origin(X0, Y0, CELL, CELL), 5179, nodata=NODATA,
        title="제안 밀도", units="proposals per cell", source="test",
    )


def _lonlat_origin_in(epsg: int, lon: float, lat: float) -> tuple[float, float]:
    (x,), (y,) = rasterio.warp.transform(CRS.from_epsg(4326), CRS.from_epsg(epsg), [lon], [lat])
    return x, y


@pytest.fixture
def tif_5186(tmp_path: Path) -> tuple[Path, np.ndarray, rasterio.Affine]:
    x, y = _lonlat_origin_in(5186, 126.78, 37.70)  # north-west corner, in 일산서구
    x, y = round(x), round(y)
    tr = from_origin(x, y, 200.0, 200.0)
    a = gradient(50, 60)
    a[10:15, 10:15] = NODATA
    return write_geotiff(tmp_path / "src" / "flood_5186.tif", a, tr, 5186, nodata=NODATA), a, tr


@pytest.fixture
def tif_4326(tmp_path: Path) -> tuple[Path, np.ndarray, rasterio.Affine]:
    tr = from_origin(126.75, 37.70, 0.0025, 0.0025)  # 60 x 40 cells to lon 126.9, lat 37.6
    a = gradient(40, 60)
    a[5:8, 5:8] = NODATA
    return write_geotiff(tmp_path / "src" / "landprice_4326.tif", a, tr, 4326, nodata=NODATA), a, tr


@pytest.fixture
def registry(tmp_path: Path) -> RasterRegistry:
    return RasterRegistry(tmp_path / "rasters")


@pytest.fixture
def density(registry: RasterRegistry, tif_5179: Path) -> RasterLayer:
    return registry.register(tif_5179, "density", "제안 밀도", "Proposal density", units="proposals per cell")


def cell_centre_lonlat(transform, row, col, epsg: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = rasterio.transform.xy(transform, np.atleast_1d(row), np.atleast_1d(col), offset="center")
    if epsg == 5179:
        return metric_to_lonlat(xs, ys)
    if epsg == 4326:
        return np.asarray(xs), np.asarray(ys)
    lon, lat = rasterio.warp.transform(CRS.from_epsg(epsg), CRS.from_epsg(4326), list(xs), list(ys))
    return np.asarray(lon), np.asarray(lat)


def mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def image_pixel(img: OverlayImage, lon: float, lat: float) -> tuple[int, int]:
    """Row/col of lon/lat in the overlay, assuming it is linear in web mercator (as Leaflet draws it)."""
    (south, west), (north, east) = img.bounds
    h, w = img.rgba.shape[:2]
    col = (lon - west) / (east - west) * w
    row = (mercator_y(north) - mercator_y(lat)) / (mercator_y(north) - mercator_y(south)) * h
    return int(row), int(col)


def pixel_centres_lonlat(img: OverlayImage) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of every overlay pixel centre, inverting the web-mercator stretch Leaflet applies."""
    (south, west), (north, east) = img.bounds
    h, w = img.rgba.shape[:2]
    lon = west + (np.arange(w) + 0.5) / w * (east - west)
    y = mercator_y(north) - (np.arange(h) + 0.5) / h * (mercator_y(north) - mercator_y(south))
    lat = np.degrees(np.arctan(np.sinh(y)))
    return np.meshgrid(lon, lat)


def class_of(img: OverlayImage, value: float) -> int:
    inner = np.asarray(img.breaks[1:-1])
    return min(int(np.searchsorted(inner, value, side="right")), len(img.legend) - 1)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def assert_refused(exc: pytest.ExceptionInfo[RasterRefused], code: str, ko: str, en: str) -> None:
    e = exc.value
    assert e.code == code, (e.code, str(e))
    assert ko in e.ko, e.ko
    assert en in e.en, e.en
    assert e.message("ko") == e.ko and e.message("en") == e.en


def assert_registry_untouched(registry: RasterRegistry) -> None:
    assert registry.list() == []
    leftovers = [p.name for p in registry.directory.iterdir() if p.name != ".lock"]
    assert leftovers == [], leftovers


# ---------------------------------------------------------------------------
# write_geotiff
# ---------------------------------------------------------------------------


def test_write_geotiff_is_tiled_compressed_tagged_and_round_trips(tif_5179: Path, values_5179: np.ndarray):
    with rasterio.open(tif_5179) as src:
        assert src.driver == "GTiff"
        assert src.profile["tiled"] is True
        assert src.block_shapes == [(256, 256)]
        assert src.compression == rasterio.enums.Compression.deflate
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"  # floating-point predictor for float32
        assert src.crs.to_epsg() == 5179
        assert src.transform == from_origin(X0, Y0, CELL, CELL)
        assert src.nodata == NODATA
        tags = src.tags()
        assert tags["title"] == "제안 밀도" and tags["units"] == "proposals per cell" and tags["source"] == "test"
        assert tags["created"].startswith("20") and tags["created"].endswith("+00:00")
        back = src.read(1)
    np.testing.assert_array_equal(back, values_5179)  # NaNs included (assert_array_equal treats NaN == NaN)
    assert [p.name for p in tif_5179.parent.iterdir()] == ["density.tif"]  # no temporary file left behind


def test_write_geotiff_integers_use_horizontal_predictor_and_refuse_bad_nodata(tmp_path: Path):
    codes = np.ones((20, 30), dtype=np.uint8)
    p = write_geotiff(tmp_path / "landuse.tif", codes, from_origin(X0, Y0, CELL, CELL), nodata=0)
    with rasterio.open(p) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"
        assert src.profile["tiled"] and src.compression == rasterio.enums.Compression.deflate
    with pytest.raises(ValueError, match="nodata"):
        write_geotiff(tmp_path / "bad.tif", codes, from_origin(X0, Y0, CELL, CELL), nodata=-1)
    assert not (tmp_path / "bad.tif").exists()


# ---------------------------------------------------------------------------
# Overlay image
# ---------------------------------------------------------------------------


def test_overlay_image_shape_and_bounds_in_goyang(density: RasterLayer):
    img = overlay_image(density)
    h, w, bands = img.rgba.shape
    assert bands == 4 and img.rgba.dtype == np.uint8
    # 100 x 100 cells of 100 m become about 100 x 100 mercator pixels (no enlargement, max_size not reached)
    assert 95 <= h <= 130 and 95 <= w <= 130
    (south, west), (north, east) = img.bounds
    assert south < north and west < east
    assert 37.5 < south < 37.7 and 37.6 < north < 37.8  # latitudes first ...
    assert 126.7 < west < 126.9 and 126.8 < east < 127.0  # ... longitudes second
    gw, gs, ge, gn = GOYANG_LONLAT_BBOX
    assert gw <= west and east <= ge and gs <= south and north <= gn
    # the bounds are the raster's own lon/lat extent (within a pixel)
    lons, lats = metric_to_lonlat([X0, X0 + 10_000, X0, X0 + 10_000], [Y0, Y0, Y0 - 10_000, Y0 - 10_000])
    assert west == pytest.approx(lons.min(), abs=0.002) and east == pytest.approx(lons.max(), abs=0.002)
    assert south == pytest.approx(lats.min(), abs=0.002) and north == pytest.approx(lats.max(), abs=0.002)


def test_overlay_nodata_and_nan_are_transparent_and_values_take_their_class_colour(density: RasterLayer, values_5179):
    img = overlay_image(density)
    tr = from_origin(X0, Y0, CELL, CELL)

    def pixel_of_cell(row: int, col: int) -> np.ndarray:
        lon, lat = cell_centre_lonlat(tr, row, col, 5179)
        r, c = image_pixel(img, float(lon[0]), float(lat[0]))
        return img.rgba[r, c]

    assert pixel_of_cell(45, 45)[3] == 0  # centre of the nodata hole
    assert pixel_of_cell(1, 97)[3] == 0  # a NaN cell
    # valid cells all over the raster: opaque (Leaflet applies the layer's opacity) and coloured by class
    for row, col in [(2, 2), (10, 80), (30, 30), (60, 20), (75, 75), (97, 3), (97, 97)]:
        px = pixel_of_cell(row, col)
        assert px[3] == 255, (row, col)
        expected = img.legend[class_of(img, values_5179[row, col])].colour
        assert tuple(px[:3]) == rgb(expected), (row, col, values_5179[row, col])
    # outside the raster's footprint (the corners of the rotated grid) nothing is drawn
    assert img.rgba[..., 3].min() == 0
    valid_share = (img.rgba[..., 3] > 0).mean()
    assert 0.85 < valid_share < 1.0


def test_every_overlay_pixel_shows_the_value_beneath_it(density: RasterLayer):
    # sample_values reads the source cell under each pixel centre: the image must agree everywhere
    img = overlay_image(density)
    lon, lat = pixel_centres_lonlat(img)
    under = sample_values(density, lon, lat)
    alpha = img.rgba[..., 3]
    assert (np.isnan(under) == (alpha == 0)).mean() > 0.998  # transparent exactly where there is no value
    colours = np.array([rgb(c.colour) for c in img.legend])
    both = ~np.isnan(under) & (alpha == 255)
    inner = np.asarray(img.breaks[1:-1])
    expected = colours[np.searchsorted(inner, under[both], side="right")]
    assert (img.rgba[..., :3][both] == expected).all(axis=1).mean() > 0.998


def test_overlay_north_is_up(density: RasterLayer):
    # values grow southwards (row * 1000): the top of the image is in the lowest class
    img = overlay_image(density)
    mid = img.rgba.shape[1] // 2
    column = img.rgba[:, mid]
    opaque = np.flatnonzero(column[:, 3] == 255)
    assert tuple(column[opaque[2], :3]) == rgb(img.legend[0].colour)
    assert tuple(column[opaque[-3], :3]) == rgb(img.legend[-1].colour)


def test_overlay_respects_max_size(density: RasterLayer):
    img = overlay_image(density, max_size=32)
    assert max(img.rgba.shape[:2]) == 32
    assert (img.rgba[..., 3] == 0).any() and (img.rgba[..., 3] == 255).any()
    full = overlay_image(density).bounds
    assert np.allclose(img.bounds, full, atol=0.003)


def test_legend_classes_cover_the_value_range(density: RasterLayer, values_5179):
    valid = values_5179[np.isfinite(values_5179) & (values_5179 != NODATA)]
    for classification in ("quantile", "equal_interval"):
        layer = RasterLayer(**{**density.__dict__, "classification": classification})
        img = overlay_image(layer)
        assert img.value_range == (valid.min(), valid.max())
        assert img.breaks[0] <= valid.min() and img.breaks[-1] >= valid.max()
        assert list(img.breaks) == sorted(img.breaks)
        assert len(img.legend) == len(img.breaks) - 1 == 5
        assert len({c.colour for c in img.legend}) == 5
        for c, lo, hi in zip(img.legend, img.breaks, img.breaks[1:], strict=False):
            assert (c.lower, c.upper) == (lo, hi)
            assert c.label_ko and c.label_en
    # quantile classes hold about equal numbers of valid cells
    img = overlay_image(density)
    counts = np.histogram(valid, bins=img.breaks)[0]
    assert counts.min() > 0.15 * valid.size
    # equal-interval classes are equally wide
    eq = overlay_image(RasterLayer(**{**density.__dict__, "classification": "equal_interval"}))
    assert np.allclose(np.diff(eq.breaks), (valid.max() - valid.min()) / 5)


def test_explicit_classes_with_open_ends(density: RasterLayer):
    layer = RasterLayer(**{**density.__dict__, "classes": (10_000, 40_000, 70_000)})
    img = overlay_image(layer)
    assert img.breaks == (10_000.0, 40_000.0, 70_000.0)
    first, last = img.legend
    # data go below 10 000 and above 70 000: the end classes say so
    assert (first.label_ko, first.label_en, first.lower) == ("40,000 미만", "< 40,000", None)
    assert (last.label_ko, last.label_en, last.upper) == ("40,000 이상", "≥ 40,000", None)
    # a value on a break belongs to the class above it, as the labels say
    tr = from_origin(X0, Y0, CELL, CELL)
    for (row, col), cls in [((40, 0), last), ((39, 99), first)]:
        lon, lat = cell_centre_lonlat(tr, row, col, 5179)
        assert tuple(img.rgba[image_pixel(img, float(lon[0]), float(lat[0]))][:3]) == rgb(cls.colour), (row, col)


def test_overlay_is_cached_on_the_file_and_recomputed_when_it_changes(density: RasterLayer, values_5179):
    a, b = overlay_image(density), overlay_image(density)
    assert a.rgba is b.rgba  # the same array: nothing recomputed on a rerun
    assert not a.rgba.flags.writeable  # and nobody can change the cached copy
    a.bounds[0][0] = 0.0
    assert overlay_image(density).bounds[0][0] != 0.0
    # a styling change is a different image
    assert overlay_image(RasterLayer(**{**density.__dict__, "colormap": "Blues"})).rgba is not a.rgba
    # rewriting the file (same path) changes the key
    before = density.path.stat().st_mtime_ns
    write_geotiff(density.path, values_5179 * 2, from_origin(X0, Y0, CELL, CELL), nodata=NODATA)
    os.utime(density.path, ns=(before + 10**9, before + 10**9))
    c = overlay_image(density)
    assert c.rgba is not a.rgba
    assert c.value_range[1] == pytest.approx(2 * a.value_range[1])


@pytest.mark.parametrize("which", ["tif_5186", "tif_4326"])
def test_other_crs_overlay_and_sampling(request, registry: RasterRegistry, which: str):
    path, a, tr = request.getfixturevalue(which)
    epsg = 5186 if which == "tif_5186" else 4326
    layer = registry.register(path, which.replace("_", "-"), "시험", "Test", colormap="viridis")
    img = overlay_image(layer)
    (south, west), (north, east) = img.bounds
    gw, gs, ge, gn = GOYANG_LONLAT_BBOX
    assert gs <= south < north <= gn and gw <= west < east <= ge
    assert (img.rgba[..., 3] == 0).any() and (img.rgba[..., 3] == 255).any()
    # the nodata block is transparent
    hole_row, hole_col = (12, 12) if epsg == 5186 else (6, 6)
    lon, lat = cell_centre_lonlat(tr, hole_row, hole_col, epsg)
    assert img.rgba[image_pixel(img, float(lon[0]), float(lat[0]))][3] == 0
    # exact cell values come back at cell centres
    rows, cols = np.array([0, 3, 20, a.shape[0] - 1]), np.array([0, 40, 7, a.shape[1] - 1])
    lon, lat = cell_centre_lonlat(tr, rows, cols, epsg)
    np.testing.assert_array_equal(sample_values(layer, lon, lat), a[rows, cols])
    lon, lat = cell_centre_lonlat(tr, hole_row, hole_col, epsg)
    assert np.isnan(sample_values(layer, lon, lat)).all()


# ---------------------------------------------------------------------------
# sample_values
# ---------------------------------------------------------------------------


def test_sample_values_returns_the_exact_cell_value(density: RasterLayer, values_5179):
    tr = from_origin(X0, Y0, CELL, CELL)
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, 100, 60), rng.integers(0, 100, 60)
    ok = ~(((rows >= 40) & (rows < 50) & (cols >= 40) & (cols < 50)) | ((rows < 3) & (cols >= 95)))
    rows, cols = rows[ok], cols[ok]
    lon, lat = cell_centre_lonlat(tr, rows, cols, 5179)
    got = sample_values(density, lon, lat)
    assert got.dtype == np.float64 and got.shape == rows.shape
    np.testing.assert_array_equal(got, values_5179[rows, cols])
    # a point 30 m inside a cell's corner still belongs to that cell
    x, y = X0 + 12 * CELL + 30, Y0 - 34 * CELL - 30
    lon1, lat1 = metric_to_lonlat([x], [y])
    assert sample_values(density, lon1, lat1)[0] == 34_012.0


def test_sample_values_nan_for_nodata_nan_outside_and_bad_input(density: RasterLayer):
    tr = from_origin(X0, Y0, CELL, CELL)
    hole_lon, hole_lat = cell_centre_lonlat(tr, 45, 45, 5179)
    nan_lon, nan_lat = cell_centre_lonlat(tr, 1, 97, 5179)
    ok_lon, ok_lat = cell_centre_lonlat(tr, 5, 5, 5179)
    lon = [hole_lon[0], nan_lon[0], 129.0756, 126.60, np.nan, ok_lon[0]]  # Busan; Goyang but west of the raster
    lat = [hole_lat[0], nan_lat[0], 35.1796, 37.70, 37.65, ok_lat[0]]
    got = sample_values(density, lon, lat)
    assert np.isnan(got[:5]).all()
    assert got[5] == 5005.0
    # scalars in, 0-d array out; shapes are kept
    assert sample_values(density, ok_lon[0], ok_lat[0]).shape == ()
    assert float(sample_values(density, ok_lon[0], ok_lat[0])) == 5005.0
    grid = sample_values(density, np.full((2, 3), ok_lon[0]), np.full((2, 3), ok_lat[0]))
    assert grid.shape == (2, 3) and (grid == 5005.0).all()


def test_sample_values_cell_by_cell_path_agrees(density: RasterLayer, monkeypatch):
    tr = from_origin(X0, Y0, CELL, CELL)
    rows, cols = np.array([0, 99, 45, 50, 2]), np.array([0, 99, 45, 10, 2])
    lon, lat = cell_centre_lonlat(tr, rows, cols, 5179)
    window_read = sample_values(density, lon, lat)
    monkeypatch.setattr(rasters, "_SAMPLE_WINDOW_MAX_PIXELS", 0)
    cell_read = sample_values(density, lon, lat)
    np.testing.assert_array_equal(window_read, cell_read)
    np.testing.assert_array_equal(cell_read, [0.0, 99_099.0, np.nan, 50_010.0, 2002.0])


def test_sample_values_uses_geo_crs_for_5179(density: RasterLayer, monkeypatch):
    calls = []
    real = rasters.lonlat_to_metric

    def spy(lon, lat):
        calls.append(len(np.atleast_1d(lon)))
        return real(lon, lat)

    monkeypatch.setattr(rasters, "lonlat_to_metric", spy)
    sample_values(density, [126.85, 126.86], [37.65, 37.64])
    assert calls == [2]


# ---------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------


def test_truncated_file_is_refused(registry: RasterRegistry, tif_5179: Path, tmp_path: Path):
    data = tif_5179.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(RasterRefused) as exc:
        registry.register(cut, "cut", "잘린 파일", "Cut file")
    assert_refused(exc, "unreadable", "잘렸거나 손상", "truncated or damaged")
    assert "cut.tif" in exc.value.ko and "cut.tif" in exc.value.en
    assert_registry_untouched(registry)


def test_corrupt_tile_data_is_refused_even_with_an_intact_header(registry: RasterRegistry, tmp_path: Path):
    # The first tile's deflate stream fills the middle of the file: zeroing part of it leaves the
    # TIFF header and directory intact and only the block read fails. (TIFF has no checksums:
    # garbage that still decodes cannot be found, only structural damage.)
    wave = np.sin(gradient(300, 300) / 777.0).astype(np.float32)
    p = write_geotiff(tmp_path / "wave.tif", wave, from_origin(X0, Y0, CELL, CELL))
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 512] = bytes(512)
    bad = tmp_path / "garbled.tif"
    bad.write_bytes(bytes(data))
    with rasterio.open(bad) as src:  # the header alone looks fine
        assert src.width == 300
    with pytest.raises(RasterRefused) as exc:
        registry.register(bad, "garbled", "손상", "Garbled")
    assert_refused(exc, "unreadable", "잘렸거나 손상", "truncated or damaged")
    assert_registry_untouched(registry)


def test_png_renamed_tif_is_refused(registry: RasterRegistry, tmp_path: Path):
    fake = tmp_path / "landuse.tif"
    fake.write_bytes(write_png(np.zeros((8, 8, 4), dtype=np.uint8)))
    with pytest.raises(RasterRefused) as exc:
        registry.register(fake, "landuse", "토지이용", "Land use")
    assert_refused(exc, "not_geotiff", "GeoTIFF 파일이 아닙니다(PNG 이미지입니다)", "is not a GeoTIFF file (it is a PNG image)")
    assert_registry_untouched(registry)


def test_geotiff_without_crs_is_refused(registry: RasterRegistry, tmp_path: Path):
    p = write_geotiff(tmp_path / "nocrs.tif", gradient(10, 10), from_origin(X0, Y0, CELL, CELL), crs_epsg=None)
    with pytest.raises(RasterRefused) as exc:
        registry.register(p, "nocrs", "좌표계 없음", "No CRS")
    assert_refused(exc, "no_crs", "좌표계(CRS) 정보가 없습니다", "has no coordinate reference system (CRS)")
    assert_registry_untouched(registry)


def test_raster_far_away_is_refused(registry: RasterRegistry, tmp_path: Path):
    x, y = lonlat_to_metric([129.0756], [35.1796])  # Busan City Hall
    tr = from_origin(float(x[0]) - 5000, float(y[0]) + 5000, CELL, CELL)
    p = write_geotiff(tmp_path / "busan.tif", gradient(100, 100), tr)
    with pytest.raises(RasterRefused) as exc:
        registry.register(p, "busan", "부산", "Busan")
    assert_refused(exc, "outside_goyang", "고양시(경도 126.6–127.05, 위도 37.55–37.8)와 겹치지 않습니다", "does not overlap Goyang")
    assert "129.0" in exc.value.en and "35.1" in exc.value.ko  # the message says where the file is
    assert_registry_untouched(registry)


def test_multiband_needs_a_band(registry: RasterRegistry, tmp_path: Path):
    bands = np.stack([gradient(20, 20), gradient(20, 20) + 0.5])
    p = write_geotiff(tmp_path / "two.tif", bands, from_origin(X0, Y0, CELL, CELL))
    with pytest.raises(RasterRefused) as exc:
        registry.register(p, "two", "두 밴드", "Two bands")
    assert_refused(exc, "multiband", "밴드가 2개 있습니다", "has 2 bands")
    with pytest.raises(RasterRefused) as exc:
        registry.register(p, "two", "두 밴드", "Two bands", band=3)
    assert_refused(exc, "bad_band", "밴드 3가 없습니다", "has no band 3")
    assert_registry_untouched(registry)
    layer = registry.register(p, "two", "두 밴드", "Two bands", band=2)
    assert layer.band == 2
    lon, lat = cell_centre_lonlat(from_origin(X0, Y0, CELL, CELL), 3, 4, 5179)
    assert sample_values(layer, lon, lat)[0] == 3004.5


def test_too_large_is_refused_with_a_configurable_limit(tmp_path: Path, tif_5179: Path):
    small = RasterRegistry(tmp_path / "small", max_pixels=5_000)
    with pytest.raises(RasterRefused) as exc:
        small.register(tif_5179, "density", "밀도", "Density")
    assert_refused(exc, "too_large", "너무 큽니다(100×100 = 10,000 픽셀, 최대 5,000)", "too large (100×100 = 10,000 pixels, at most 5,000)")
    assert_registry_untouched(small)


def test_all_nodata_and_missing_files_are_refused(registry: RasterRegistry, tmp_path: Path):
    p = write_geotiff(tmp_path / "empty.tif", np.full((10, 10), NODATA, np.float32), from_origin(X0, Y0, CELL, CELL), nodata=NODATA)
    with pytest.raises(RasterRefused) as exc:
        registry.register(p, "empty", "빈", "Empty")
    assert_refused(exc, "no_valid_pixels", "값이 있는 픽셀이 없습니다", "no valid pixels")
    with pytest.raises(RasterRefused) as exc:
        registry.register(tmp_path / "nope.tif", "nope", "없음", "Missing")
    assert_refused(exc, "missing_file", "파일이 없습니다", "does not exist")
    assert_registry_untouched(registry)


def test_layer_settings_are_validated(registry: RasterRegistry, tif_5179: Path):
    with pytest.raises(RasterRefused) as exc:
        registry.register(tif_5179, "density", "밀도", "Density", colormap="jet")
    assert_refused(exc, "unknown_colormap", "색상표 'jet'가 없습니다", "Unknown colour map 'jet'")
    assert "YlOrRd" in exc.value.en
    with pytest.raises(RasterRefused) as exc:
        registry.register(tif_5179, "density", "밀도", "Density", classes=[5, 5, 10])
    assert exc.value.code == "bad_classes"
    with pytest.raises(RasterRefused) as exc:
        registry.register(tif_5179, "../evil", "밀도", "Density")
    assert exc.value.code == "bad_key"
    with pytest.raises(RasterRefused) as exc:
        registry.register(tif_5179, "density", "밀도", "Density", opacity=1.5)
    assert exc.value.code == "bad_opacity"
    assert_registry_untouched(registry)


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def test_registry_persists_across_instances_and_removes(tmp_path: Path, tif_5179: Path, tif_4326):
    one = RasterRegistry(tmp_path / "rasters")
    density = one.register(
        tif_5179, "density", "제안 밀도", "Proposal density", units="proposals per cell",
        colormap="Blues", classes=[0, 10_000, 50_000, 100_000], opacity=0.5,
    )
    landprice = one.register(tif_4326[0], "landprice", "공시지가", "Land price", units="KRW/m²")
    assert density.path.parent == one.directory and density.path.exists()
    assert density.path.read_bytes() == tif_5179.read_bytes()  # a copy, byte for byte
    assert tif_5179.exists()  # the upload is left alone

    two = RasterRegistry(tmp_path / "rasters")
    assert [layer.key for layer in two.list()] == ["density", "landprice"]
    assert two.get("density") == density and two.get("landprice") == landprice
    got = two.get("density")
    assert (got.units, got.colormap, got.classes, got.opacity) == ("proposals per cell", "Blues", (0.0, 10_000.0, 50_000.0, 100_000.0), 0.5)

    two.remove("density")
    assert not density.path.exists()
    assert [layer.key for layer in one.list()] == ["landprice"]
    with pytest.raises(KeyError):
        one.get("density")
    with pytest.raises(KeyError):
        one.remove("density")
    doc = json.loads(one.index_path.read_text(encoding="utf-8"))
    assert [e["key"] for e in doc["layers"]] == ["landprice"]
    assert doc["layers"][0]["crs"] == "EPSG:4326" and doc["layers"][0]["source_name"] == "landprice_4326.tif"


def test_duplicate_key_is_refused_unless_replacing(registry: RasterRegistry, density: RasterLayer, tif_4326):
    with pytest.raises(RasterRefused) as exc:
        registry.register(tif_4326[0], "density", "다른", "Other")
    assert_refused(exc, "duplicate_key", "'density' 레이어가 이미 있습니다", "A layer 'density' already exists")
    assert registry.get("density") == density
    new = registry.register(tif_4326[0], "density", "다른", "Other", replace=True)
    assert new.path != density.path and new.path.exists() and not density.path.exists()
    assert [layer.title_en for layer in registry.list()] == ["Other"]


def test_categorical_layer_round_trip_and_colours(registry: RasterRegistry, tmp_path: Path):
    codes = np.zeros((60, 60), dtype=np.uint8)
    codes[:, :20], codes[:, 20:40], codes[:, 40:] = 1, 9, 2  # 9 between 1 and 2: a blend would show 2 where 1 meets 9
    codes[:5, :5] = 0  # nodata
    p = write_geotiff(tmp_path / "landuse.tif", codes, from_origin(X0, Y0, CELL, CELL), nodata=0)
    labels = {1: ("주거지역", "Residential"), 2: ("녹지지역", "Green belt")}
    registry.register(p, "landuse", "토지이용", "Land use", colormap="Set2", categorical=True, category_labels=labels)
    layer = RasterRegistry(registry.directory).get("landuse")
    assert layer.categorical and layer.category_labels == {1.0: ("주거지역", "Residential"), 2.0: ("녹지지역", "Green belt")}
    img = overlay_image(layer)
    assert img.breaks == ()
    assert [(c.value, c.label_ko, c.label_en) for c in img.legend] == [
        (1.0, "주거지역", "Residential"), (2.0, "녹지지역", "Green belt"), (9.0, "코드 9", "code 9"),
    ]
    assert [c.colour for c in img.legend] == list(COLORMAPS["Set2"].stops[:3])
    drawn = {tuple(px[:3]) for px in img.rgba.reshape(-1, 4) if px[3] == 255}
    assert drawn == {rgb(c.colour) for c in img.legend}  # only the category colours
    # and each where its code is: no category invented where two others meet
    lon, lat = pixel_centres_lonlat(img)
    under = sample_values(layer, lon, lat)
    colour_of = {c.value: rgb(c.colour) for c in img.legend}
    opaque = img.rgba[..., 3] == 255
    matches = [tuple(px) == colour_of.get(v) for px, v in zip(img.rgba[..., :3][opaque], under[opaque], strict=True)]
    assert np.mean(matches) > 0.995
    lon, lat = cell_centre_lonlat(from_origin(X0, Y0, CELL, CELL), [30, 30, 30, 1], [10, 30, 50, 1], 5179)
    np.testing.assert_array_equal(sample_values(layer, lon, lat), [1, 9, 2, np.nan])


def test_too_many_categories_is_refused(registry: RasterRegistry, tmp_path: Path):
    p = write_geotiff(tmp_path / "ids.tif", np.arange(400, dtype=np.uint16).reshape(20, 20), from_origin(X0, Y0, CELL, CELL))
    with pytest.raises(RasterRefused) as exc:
        registry.register(p, "ids", "번호", "IDs", categorical=True)
    assert_refused(exc, "too_many_categories", "256개를 넘어", "more than 256 distinct values")
    assert_registry_untouched(registry)


@pytest.mark.parametrize(
    "content, detail",
    [
        ("{not json", "invalid JSON"),
        ("", "invalid JSON"),
        ('{"layers": []}', "not a raster layer index"),
        ('{"format": "goyang-raster-index", "version": 99, "layers": []}', "unsupported version 99"),
        ('{"format": "goyang-raster-index", "version": 1, "layers": [{"key": "x"}]}', "entry 1 is invalid"),
        (
            (
                '{"format": "goyang-raster-index", "version": 1, "layers": '
                '[{"key": "x", "title_ko": "x", "title_en": "x", "file": "../../etc/passwd"}]}'
            ),
            "entry 1 is invalid",
        ),
    ],
)
def test_corrupt_index_is_reported_and_left_alone(registry: RasterRegistry, tif_5179: Path, content: str, detail: str):
    registry.index_path.write_text(content, encoding="utf-8")
    for action in (registry.list, lambda: registry.get("x"), lambda: registry.remove("x"),
                   lambda: registry.register(tif_5179, "density", "밀도", "Density")):
        with pytest.raises(RasterIndexCorrupt) as exc:
            action()
        assert_refused(exc, "index_corrupt", "레이어 목록 파일", "raster layer index")
        assert "손상" in exc.value.ko and detail in exc.value.en and str(registry.index_path) in exc.value.en
    assert registry.index_path.read_text(encoding="utf-8") == content  # never silently reset
    assert sorted(p.name for p in registry.directory.iterdir()) == sorted([".lock", "index.json"])


def test_a_crash_while_writing_the_index_changes_nothing(registry: RasterRegistry, density: RasterLayer, tif_4326, monkeypatch):
    before = registry.index_path.read_bytes()
    real_replace = os.replace

    def crash_on_index(src, dst):
        if Path(dst).name == "index.json":
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(rasters.os, "replace", crash_on_index)
    with pytest.raises(OSError, match="disk full"):
        registry.register(tif_4326[0], "landprice", "공시지가", "Land price")
    with pytest.raises(OSError, match="disk full"):
        registry.remove("density")
    monkeypatch.undo()
    assert registry.index_path.read_bytes() == before
    assert [layer.key for layer in registry.list()] == ["density"] and density.path.exists()
    # neither the new layer's file nor any temporary file was left behind
    assert sorted(p.name for p in registry.directory.iterdir()) == sorted([".lock", "index.json", density.path.name])


# ---------------------------------------------------------------------------
# folium and legend
# ---------------------------------------------------------------------------


def _png_rgba(data_url: str) -> np.ndarray:
    """Decode folium's own PNG (8-bit RGBA, filter 0 on every row)."""
    png = base64.b64decode(data_url.split(",", 1)[1])
    pos, idat, (w, h) = 8, b"", (0, 0)
    while pos < len(png):
        (length,) = struct.unpack("!I", png[pos : pos + 4])
        tag, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            w, h = struct.unpack("!2I", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + 4 * w)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 4)


def test_folium_overlay_embeds_the_mercator_image_unchanged(density: RasterLayer):
    overlay = folium_overlay(density, lang="en")
    img = overlay_image(density)
    assert isinstance(overlay, folium.raster_layers.ImageOverlay)
    assert overlay.bounds == img.bounds
    assert overlay.options["opacity"] == 0.7
    assert overlay.layer_name == "Proposal density"
    # mercator_project=False: the PNG is our web-mercator RGBA, pixel for pixel
    np.testing.assert_array_equal(_png_rgba(overlay.url), img.rgba)
    m = folium.Map(location=[37.66, 126.83], zoom_start=12, tiles=None)
    overlay.add_to(m)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert "L.imageOverlay(" in html and '"opacity": 0.7' in html
    assert folium_overlay(density).layer_name == "제안 밀도"


def test_layer_names_and_legend_are_escaped(registry: RasterRegistry, tif_5179: Path):
    nasty = "<img src=x onerror=alert(1)>${alert(2)}`"
    layer = registry.register(tif_5179, "nasty", nasty, nasty, units="<b>units</b>$")
    name = folium_overlay(layer).layer_name  # Leaflet's layer control sets names as HTML
    assert "<" not in name and "${" not in name and "`" not in name
    for lang in ("ko", "en"):
        html = legend_html(layer, lang)
        assert "<img" not in html and "${" not in html and "`" not in html and "<b>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;&#36;{alert(2)}&#96;" in html
        assert "&lt;b&gt;units&lt;/b&gt;&#36;" in html


def test_legend_html_lists_every_class_in_the_language(registry: RasterRegistry, density: RasterLayer, tmp_path: Path):
    img = overlay_image(density)
    html = legend_html(density, "en")
    assert "Proposal density" in html and "proposals per cell" in html
    for c in img.legend:
        assert c.colour in html and c.label_en in html
    assert html.count("background:#") == len(img.legend)
    codes = np.ones((10, 10), dtype=np.uint8)
    p = write_geotiff(tmp_path / "lu.tif", codes, from_origin(X0, Y0, CELL, CELL), nodata=0)
    lu = registry.register(p, "lu", "토지이용", "Land use", categorical=True, category_labels={1: ("주거지역", "Residential")})
    assert "주거지역" in legend_html(lu, "ko") and "토지이용" in legend_html(lu, "ko")
    assert "Residential" in legend_html(lu, "en") and "주거지역" not in legend_html(lu, "en")


# ---------------------------------------------------------------------------
# Density rasters, kinds, uploads
# ---------------------------------------------------------------------------


def density_counts(rows: int = 40, cols: int = 30) -> np.ndarray:
    a = np.zeros((rows, cols), dtype=np.int32)
    a[5, 7] = 3
    a[20, 10] = 1
    a[30:33, 20:23] = 2
    return a


@pytest.mark.parametrize(("shape", "block"), [((40, 30), 48), ((10, 12), 16), ((300, 200), 256), ((16, 16), 32), ((17, 5), 32), ((100, 256), 128)])
def test_density_geotiff_is_tiled_compressed_in_5179_with_tags(tmp_path: Path, shape, block):
    counts = np.zeros(shape, dtype=np.int32)
    counts[0, 0] = 4
    p = write_density_geotiff(
        tmp_path / "d.tif", counts, from_origin(X0, Y0, 50.0, 50.0), method="count", cell_m=50, feature_count=4,
        filter_ko="분야 환경", filter_en="category environment", title_ko="제안 밀도", title_en="Proposal density",
        units="제안/셀 · proposals per cell",
    )
    with rasterio.open(p) as src:
        assert src.crs.to_epsg() == 5179
        assert src.profile["tiled"] is True
        assert src.block_shapes == [(block, block)] and block % 16 == 0 and block <= 256
        assert src.compression == rasterio.enums.Compression.deflate
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"  # integers: horizontal differencing
        assert src.nodata == -1 and src.dtypes == ("int32",)
        tags = src.tags()
        assert tags["title_ko"] == "제안 밀도" and tags["title_en"] == "Proposal density" and tags["title"] == "Proposal density"
        assert tags["method"] == "count" and tags["kernel"] == "none" and tags["cell_m"] == "50" and tags["bandwidth_m"] == "none"
        assert tags["filter_ko"] == "분야 환경" and tags["filter_en"] == tags["filter"] == "category environment"
        assert tags["feature_count"] == "4"
        assert tags["software"] == SOFTWARE and tags["TIFFTAG_SOFTWARE"] == SOFTWARE
        assert tags["created"].endswith("+00:00") and tags["TIFFTAG_DATETIME"][:4] == tags["created"][:4]
        assert src.descriptions == ("proposals per cell",)
        assert src.units == ("제안/셀 · proposals per cell",)
        assert (src.read(1) == counts).all()


def test_kde_density_geotiff_is_float_with_nan_nodata(tmp_path: Path):
    kde = np.random.default_rng(0).random((20, 20)).astype(np.float64)
    p = write_density_geotiff(
        tmp_path / "k.tif", kde, from_origin(X0, Y0, 100.0, 100.0), method="kde", cell_m=100, bandwidth_m=400, feature_count=12,
    )
    with rasterio.open(p) as src:
        assert src.dtypes == ("float32",) and math.isnan(src.nodata)
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"
        tags = src.tags()
        assert (tags["method"], tags["kernel"], tags["bandwidth_m"], tags["feature_count"]) == ("kde", "gaussian", "400", "12")
        assert "kernel density" in src.descriptions[0]
        np.testing.assert_allclose(src.read(1), kde.astype(np.float32))


def test_tile_sizes_are_multiples_of_16_and_bad_block_sizes_are_refused(tmp_path: Path):
    assert [tile_size(w, h) for w, h in [(1, 1), (16, 3), (17, 17), (255, 10), (257, 1000), (32, 5), (256, 9)]] == [16, 32, 32, 256, 256, 48, 128]
    with pytest.raises(ValueError, match="multiple of 16"):
        write_geotiff(tmp_path / "x.tif", gradient(5, 5), from_origin(X0, Y0, CELL, CELL), block_size=100)
    with pytest.raises(ValueError):
        write_density_geotiff(tmp_path / "y.tif", np.zeros((2, 3, 3)), from_origin(X0, Y0, CELL, CELL), method="count", cell_m=100, feature_count=0)


def test_kinds_and_meta_are_kept_and_listed(registry: RasterRegistry, tif_5179: Path, tif_4326, tmp_path: Path):
    counts_path = write_density_geotiff(
        tmp_path / "counts.tif", density_counts(), from_origin(X0, Y0, CELL, CELL), method="count", cell_m=100, feature_count=24,
    )
    registry.register(tif_5179, "voters", "인구", "Population", kind="reference")
    registry.register(tif_4326[0], "landprice", "공시지가", "Land price")
    d = registry.register(
        counts_path, "density-count", "제안 밀도", "Proposal density", kind="density", zero_is_transparent=True,
        meta={"method": "count", "feature_count": 24},
    )
    assert d.kind == "density" and d.zero_is_transparent and d.meta == {"method": "count", "feature_count": "24"}
    again = RasterRegistry(registry.directory)
    assert [(x.key, x.kind) for x in again.list()] == [("voters", "reference"), ("landprice", "uploaded"), ("density-count", "density")]
    assert [x.key for x in again.list(["density"])] == ["density-count"]
    assert [x.key for x in again.list("reference")] == ["voters"]
    assert [x.key for x in again.list(("reference", "uploaded"))] == ["voters", "landprice"]
    assert again.get("density-count") == d
    assert set(RASTER_KINDS) == {"reference", "uploaded", "density"}
    with pytest.raises(RasterRefused) as exc:
        RasterLayer("x", "x", "x", tif_5179, kind="heat")
    assert_refused(exc, "bad_kind", "레이어 종류", "Layer kind 'heat'")


def test_zeros_of_a_density_layer_are_transparent_but_sampled(registry: RasterRegistry, tmp_path: Path):
    counts = density_counts()
    p = write_density_geotiff(tmp_path / "c.tif", counts, from_origin(X0, Y0, CELL, CELL), method="count", cell_m=100, feature_count=24)
    shown = registry.register(p, "c", "제안 밀도", "Proposal density", kind="density", zero_is_transparent=True)
    plain = registry.register(p, "c-plain", "제안 밀도", "Proposal density", kind="density")
    img = overlay_image(shown)
    assert img.value_range == (1.0, 3.0)  # zeros are left out of the classes
    assert overlay_image(plain).value_range == (0.0, 3.0)
    # a zero cell is transparent in one and coloured in the other; a non-zero cell is coloured in both
    lon, lat = cell_centre_lonlat(from_origin(X0, Y0, CELL, CELL), [0, 5], [0, 7], 5179)
    r0, c0 = image_pixel(img, lon[0], lat[0])
    r1, c1 = image_pixel(img, lon[1], lat[1])
    assert img.rgba[r0, c0, 3] == 0 and img.rgba[r1, c1, 3] == 255
    plain_img = overlay_image(plain)
    assert plain_img.rgba[image_pixel(plain_img, lon[0], lat[0])][3] == 255
    np.testing.assert_array_equal(sample_values(shown, lon, lat), [0.0, 3.0])
    assert legend_html(shown, "en").count("background:#") == len(img.legend)


def test_upload_from_bytes_registers_an_uploaded_layer(registry: RasterRegistry, tif_5186):
    data = tif_5186[0].read_bytes()
    layer = registry.register_upload(data, "침수 위험도", title_en="Flood risk", filename="Flood Risk 2024.tif", units="m")
    assert layer.kind == "uploaded" and layer.key == "flood-risk-2024"
    assert (layer.title_ko, layer.title_en, layer.units) == ("침수 위험도", "Flood risk", "m")
    assert layer.path.read_bytes() == data and layer.path.parent == registry.directory
    # the same name again gets a new key; a Korean file name a generic one; the English title defaults to the Korean
    second = registry.register_upload(data, "침수 위험도 2", filename="Flood Risk 2024.tif")
    assert second.key == "flood-risk-2024-2" and second.title_en == "침수 위험도 2"
    third = registry.register_upload(data, "토지이용", filename="토지이용.tif")
    assert third.key == "upload"
    doc = json.loads(registry.index_path.read_text(encoding="utf-8"))
    assert [e["source_name"] for e in doc["layers"]] == ["Flood Risk 2024.tif", "Flood Risk 2024.tif", "토지이용.tif"]
    assert sorted(p.name for p in registry.directory.iterdir()) == sorted(
        [".lock", "index.json", layer.path.name, second.path.name, third.path.name]
    )


@pytest.mark.parametrize(
    ("make", "code", "ko", "en"),
    [
        (lambda tif: write_png(np.zeros((8, 8, 4), dtype=np.uint8)), "not_geotiff", "PNG 이미지입니다", "it is a PNG image"),
        (lambda tif: b"", "not_geotiff", "비어 있습니다", "is empty"),
        (lambda tif: b"hello, not a raster", "not_geotiff", "TIFF 형식이 아닙니다", "not in TIFF format"),
        (lambda tif: tif[: len(tif) // 2], "unreadable", "잘렸거나 손상", "truncated or damaged"),
    ],
)
def test_bad_uploads_are_refused_naming_the_upload(registry: RasterRegistry, tif_5179: Path, make, code, ko, en):
    with pytest.raises(RasterRefused) as exc:
        registry.register_upload(make(tif_5179.read_bytes()), "토지이용", filename="landuse.tif")
    assert_refused(exc, code, ko, en)
    assert "landuse.tif" in exc.value.ko and "landuse.tif" in exc.value.en
    assert_registry_untouched(registry)


def test_upload_titles_and_size_are_checked(registry: RasterRegistry, tif_5179: Path):
    data = tif_5179.read_bytes()
    with pytest.raises(RasterRefused) as exc:
        registry.register_upload(data, "   ", filename="a.tif")
    assert_refused(exc, "missing_title", "제목이 비어", "title is empty")
    with pytest.raises(RasterRefused) as exc:
        registry.register_upload(data, "가" * 121, filename="a.tif")
    assert_refused(exc, "title_too_long", "120자", "120 characters")
    with pytest.raises(RasterRefused) as exc:
        registry.register_upload(data, "토지이용", filename="a.tif", max_bytes=100)
    assert_refused(exc, "file_too_large", "너무 큽니다", "too large")
    assert_registry_untouched(registry)
