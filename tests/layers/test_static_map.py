"""Static maps: PNG size and content, coordinate order, legend, Hangul, scale bar, north arrow, styles, speed."""
from __future__ import annotations

import io
import math
import sys
import time
import warnings

import geopandas as gpd
import matplotlib
import numpy as np
import pytest
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation, Text
from PIL import Image
from shapely.geometry import LineString, Point, Polygon

from geo.boundaries import approximate_districts, city_outline
from geo.crs import lonlat_to_metric, to_metric
from layers.proposals import GREY_FILL, HALO_COLOUR
from layers.static_map import (
    MapLayer,
    boundary_layer,
    centres_layer,
    cluster_layer,
    extent_around,
    font_path,
    highlight_layer,
    map_figure,
    plain_text,
    proposal_layers,
    render_map,
    render_to_file,
)
from planning.categories import categories

EXTENT = (126.80, 37.60, 126.90, 37.70)  # lon first
BARE = {"legend": False, "scale_bar": False, "north_arrow": False, "attribution": None}
RED, BLUE = "#ff0000", "#0000ff"


def points(coords, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(x, y) for x, y in coords], crs=4326)


def image(png: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB")).astype(int)


def mask(arr: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return (np.abs(arr - np.array(rgb)) <= tol).all(axis=2)


def expected_pixel(lon: float, lat: float, extent, size) -> tuple[float, float]:
    """Where (lon, lat) should land: the extent's outline projected to EPSG:5179, widened to the image's aspect."""
    minx, miny, maxx, maxy = extent
    s = np.linspace(0, 1, 201)
    lons = np.r_[minx + (maxx - minx) * s, np.full_like(s, maxx), maxx - (maxx - minx) * s, np.full_like(s, minx)]
    lats = np.r_[np.full_like(s, miny), miny + (maxy - miny) * s, np.full_like(s, maxy), maxy - (maxy - miny) * s]
    x, y = lonlat_to_metric(lons, lats)
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    w, h = size
    cx, cy, width, height = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    if width / height < w / h:
        width = height * w / h
    else:
        height = width * h / w
    px, py = lonlat_to_metric([lon], [lat])
    return (px[0] - (cx - width / 2)) / width * w, ((cy + height / 2) - py[0]) / height * h


def centroid(m: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(m)
    assert len(xs), "colour not found in the image"
    return float(xs.mean()), float(ys.mean())


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return approximate_districts()


@pytest.fixture(scope="module")
def proposals() -> gpd.GeoDataFrame:
    """300 proposals across the city: points, lines and polygons of every category and several statuses."""
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = city_outline().bounds
    codes = [c.code for c in categories()]
    statuses = ["submitted", "under_review", "shortlisted", "adopted", "rejected"]
    geoms = []
    for i in range(300):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if i % 3 == 0:
            geoms.append(Point(x, y).buffer(0.002))
        elif i % 3 == 1:
            geoms.append(LineString([(x, y), (x + 0.004, y + 0.002)]))
        else:
            geoms.append(Point(x, y))
    return gpd.GeoDataFrame(
        {"id": range(1, 301), "category": [codes[i % len(codes)] for i in range(300)], "status": [statuses[i % 5] for i in range(300)]},
        geometry=geoms,
        crs=4326,
    )


@pytest.fixture(scope="module")
def full_layers(districts, proposals) -> list[MapLayer]:
    city = gpd.GeoDataFrame(geometry=[city_outline()], crs=4326)
    return [
        boundary_layer(city, "city", legend_label="고양시 경계"),
        boundary_layer(districts, "district", label_column="name", legend_label="행정동 (예산 배정 지역)"),
        *proposal_layers(proposals),
    ]


# ---------------------------------------------------------------------------
# The image
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "dpi"), [((1200, 900), 150), ((1001, 703), 150), ((640, 480), 96), ((333, 777), 200)])
def test_png_has_exactly_the_requested_size_and_dpi(full_layers, size, dpi):
    png = render_map(full_layers, size_px=size, dpi=dpi)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    assert img.size == size
    assert round(img.info["dpi"][0]) == dpi


def test_map_is_not_blank_and_shows_the_category_colours(full_layers):
    arr = image(render_map(full_layers, title="고양시 제안 지도"))
    assert arr.std() > 20
    colours = {tuple(c) for c in arr.reshape(-1, 3)[::7]}
    assert len(colours) > 200
    for c in categories():
        rgb = tuple(int(c.colour[i : i + 2], 16) for i in (1, 3, 5))
        assert mask(arr, rgb, tol=12).sum() > 30, f"no pixel in the colour of {c.code}"


def test_a_feature_lands_where_its_lon_lat_says(tmp_path):
    """Guards the coordinate order (lon, lat) and the image's orientation (north up, east right)."""
    size = (800, 600)
    ne, sw = (126.88, 37.68), (126.815, 37.615)
    layers = [
        MapLayer(points([ne]), edgecolor=None, facecolor=RED, alpha=1.0, marker_size=14),
        MapLayer(points([sw]), edgecolor=None, facecolor=BLUE, alpha=1.0, marker_size=14),
    ]
    arr = image(render_map(layers, EXTENT, size_px=size, **BARE))
    red, blue = mask(arr, (255, 0, 0)), mask(arr, (0, 0, 255))
    (rx, ry), (bx, by) = centroid(red), centroid(blue)
    ex, ey = expected_pixel(*ne, EXTENT, size)
    assert abs(rx - ex) < 2.0 and abs(ry - ey) < 2.0, ((rx, ry), (ex, ey))
    ex, ey = expected_pixel(*sw, EXTENT, size)
    assert abs(bx - ex) < 2.0 and abs(by - ey) < 2.0, ((bx, by), (ex, ey))
    # north-east is up and right, south-west down and left
    assert rx > size[0] / 2 > bx and ry < size[1] / 2 < by
    # one pixel is the same number of metres across and down (EPSG:5179, not degrees)
    (x1, x2), (y1, y2) = lonlat_to_metric([ne[0], sw[0]], [ne[1], sw[1]])
    assert (rx - bx) / (x1 - x2) == pytest.approx((by - ry) / (y1 - y2), rel=0.02)


def test_lat_lon_order_is_refused():
    with pytest.raises(ValueError, match="lon/lat"):
        MapLayer(points([(37.65, 126.83)]))
    with pytest.raises(ValueError, match="lon first"):
        render_map([], (37.60, 126.80, 37.70, 126.90))
    with pytest.raises(ValueError, match="EPSG:4326"):
        MapLayer(gpd.GeoDataFrame(geometry=[Point(950_000, 1_960_000)], crs=5179))
    with pytest.raises(ValueError, match="min < max"):
        render_map([], (126.9, 37.6, 126.8, 37.7))


def test_default_extent_covers_every_layer_with_a_margin():
    far_w, far_e = (126.70, 37.66), (126.95, 37.66)
    layers = [MapLayer(points([far_w, far_e]), edgecolor=None, facecolor=RED, alpha=1.0, marker_size=10)]
    arr = image(render_map(layers, size_px=(800, 400), **BARE))
    ys, xs = np.nonzero(mask(arr, (255, 0, 0)))
    assert xs.min() > 10 and xs.max() < 790  # inside, not cut at the edge
    assert xs.min() < 120 and xs.max() > 680  # the margin is small: the points span most of the width
    assert abs(ys.mean() - 200) < 3  # same latitude, centred vertically


def test_same_input_gives_the_same_png(full_layers):
    assert render_map(full_layers, title="안건 1") == render_map(full_layers, title="안건 1")


def test_render_to_file_writes_the_png(tmp_path, full_layers):
    path = render_to_file(tmp_path / "map.png", full_layers, EXTENT, size_px=(500, 400), title="고양시")
    assert path == tmp_path / "map.png"
    assert path.read_bytes() == render_map(full_layers, EXTENT, size_px=(500, 400), title="고양시")
    assert not list(tmp_path.glob("*.tmp"))


def test_a_few_hundred_features_render_in_under_a_second(full_layers):
    render_map(full_layers)  # warm-up: fonts and caches
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        render_map(full_layers, title="성능")
        best = min(best, time.perf_counter() - start)
    assert best < 1.0, f"{best:.2f} s"


# ---------------------------------------------------------------------------
# Text: NanumGothic, Hangul drawn, nothing interpreted
# ---------------------------------------------------------------------------


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text()]


def test_every_text_is_nanum_gothic_and_plain(full_layers):
    hostile = "<b>x</b> ${alert(1)}$ $5 and $6"
    fig = map_figure(full_layers, title=hostile)
    texts = _texts(fig)
    assert any(t.get_text() == hostile for t in texts)
    for t in texts:
        assert "NanumGothic" in str(t.get_fontproperties().get_file()), t.get_text()
        assert t.get_parse_math() is False, t.get_text()
    # mathtext would fail or turn $...$ into formulas; drawn literally it renders fine
    render_map(full_layers, title=hostile)


def test_hangul_draws_without_missing_glyph_warnings(full_layers):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_map(full_layers, title="고양시 행신1동 · 거점 권역 — 범례")
    missing = [w for w in caught if "missing from" in str(w.message)]
    assert not missing, [str(w.message) for w in missing]


def test_hangul_title_is_drawn_as_glyphs_not_boxes():
    """Two different Hangul titles of the same length must look different (missing glyphs would be identical boxes)."""
    blank = [MapLayer(points([(126.85, 37.65)]), edgecolor=None, facecolor=None)]
    region = (slice(0, 60), slice(0, 300))
    a = image(render_map(blank, EXTENT, "고양시청", size_px=(600, 400), **BARE))[region]
    b = image(render_map(blank, EXTENT, "행신일동", size_px=(600, 400), **BARE))[region]
    dark_a, dark_b = (a.sum(axis=2) < 300), (b.sum(axis=2) < 300)
    assert dark_a.sum() > 150 and dark_b.sum() > 150  # glyphs have ink
    assert (dark_a ^ dark_b).sum() > 100  # and they are not the same shape


def test_legend_lists_the_layers_with_hangul_labels(full_layers):
    fig = map_figure(full_layers)
    legend = fig.axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert "행정동 (예산 배정 지역)" in labels and "고양시 경계" in labels
    assert [c.ko for c in categories()] == [label for label in labels if label in {c.ko for c in categories()}]
    assert "검토 중 · 현장 확인" in labels and "미채택 · 철회 · 병합" in labels
    assert legend.get_title().get_text() == "범례"
    # drawn: the lower-right corner changes when the legend is left out
    with_legend = image(render_map(full_layers))
    without = image(render_map(full_layers, legend=False))
    corner = (slice(450, 880), slice(900, 1190))
    assert (np.abs(with_legend[corner] - without[corner]).sum(axis=2) > 60).sum() > 2000


def test_legend_in_english(proposals):
    fig = map_figure(proposal_layers(proposals, "en"), lang="en")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Environment & transport" in labels
    assert fig.axes[0].get_legend().get_title().get_text() == "Legend"


def test_plain_text_drops_controls_and_replaces_missing_glyphs():
    assert plain_text("a\u202eb\x00c\r\nd\te") == "abc\nd e"
    assert plain_text("놀이터 😀") == "놀이터 □"
    assert plain_text("\u1112\u1161\u11ab") == "한"  # decomposed jamo, composed
    assert plain_text("{nb} <b>x</b> $x$") == "{nb} <b>x</b> $x$"
    assert plain_text("가나다라마", 3) == "가나…"
    assert plain_text(None) == "" and plain_text(12) == "12"


def test_the_font_comes_from_the_package_without_importing_it():
    path = font_path()
    assert path.name == "NanumGothic.ttf" and path.is_file() and "koreanize_matplotlib" in str(path)
    assert font_path(bold=True).name == "NanumGothicBold.ttf"
    assert "koreanize_matplotlib" not in sys.modules
    assert "NanumGothic" not in str(matplotlib.rcParams["font.family"])  # global settings untouched


# ---------------------------------------------------------------------------
# Scale bar and north arrow
# ---------------------------------------------------------------------------


def test_scale_bar_is_a_round_number_of_metres():
    extent = (126.80, 37.62, 126.86, 37.66)
    fig = map_figure([], extent, size_px=(900, 600))
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    bars = [p for p in ax.findobj(Rectangle) if p.get_zorder() == 10]
    assert len(bars) == 2
    length = sum(p.get_width() for p in bars)  # data units are metres (EPSG:5179)
    mantissa = length / 10 ** math.floor(math.log10(length))
    assert mantissa in (1, 2, 2.5, 5)
    assert (x1 - x0) / 10 <= length <= (x1 - x0) / 4
    labels = {t.get_text() for t in _texts(fig)}
    expected = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    assert expected in labels
    # the extent is ~5.3 km wide at this latitude
    width_m = to_metric(Point(126.86, 37.64)).x - to_metric(Point(126.80, 37.64)).x
    assert 5000 < width_m < 5600 and (x1 - x0) >= width_m


def test_north_arrow_points_to_true_north():
    fig = map_figure([], EXTENT, size_px=(800, 800))
    ax = fig.axes[0]
    arrows = [a for a in ax.findobj(Annotation) if a.arrow_patch is not None]
    assert len(arrows) == 1
    (tx, ty), (bx, by) = arrows[0].xy, arrows[0].xyann
    angle = math.degrees(math.atan2(tx - bx, ty - by))  # clockwise from grid north
    lon, lat = 126.85, 37.65
    x, y = lonlat_to_metric([lon, lon], [lat, lat + 0.01])
    convergence = math.degrees(math.atan2(x[1] - x[0], y[1] - y[0]))
    assert angle == pytest.approx(convergence, abs=0.05)
    # Goyang lies west of EPSG:5179's central meridian (127.5° E): meridians lean east towards it going north
    assert 0.2 < angle < 0.6
    assert "N" in {t.get_text() for t in _texts(fig)}


# ---------------------------------------------------------------------------
# Layer helpers
# ---------------------------------------------------------------------------


def test_proposal_layers_use_category_colours_and_status_styles():
    square = Polygon([(126.84, 37.64), (126.85, 37.64), (126.85, 37.65), (126.84, 37.65)])
    frame = gpd.GeoDataFrame(
        {"category": ["environment", "environment", "welfare", "nonsense"], "status": ["submitted", "rejected", "adopted", "submitted"]},
        geometry=[square, square.buffer(0.001), Point(126.86, 37.66), LineString([(126.8, 37.6), (126.81, 37.61)])],
        crs=4326,
    )
    layers = proposal_layers(frame)
    legend_rows = list(dict.fromkeys(l.legend_label for l in layers if l.legend_label))
    assert legend_rows == ["복지·돌봄", "환경·교통", "기타 (nonsense)", "회의 상정 · 채택", "미채택 · 철회 · 병합"]
    drawn = [l for l in layers if l.edgecolor or l.facecolor]
    assert sum(len(l.frame) for l in drawn) == 4
    grey = next(l for l in drawn if l.frame["status"].iloc[0] == "rejected")
    assert grey.legend_label == "환경·교통" and grey.legend_swatch["facecolor"] == "#2ca02c"  # the row shows the category colour
    by_key = {(l.frame["category"].iloc[0], l.frame["status"].iloc[0]): l for l in drawn}
    assert by_key[("environment", "submitted")].facecolor == "#2ca02c"
    assert by_key[("environment", "rejected")].facecolor == GREY_FILL
    assert by_key[("welfare", "adopted")].edgecolor == "#111111"  # adopted points: dark ring
    assert by_key[("nonsense", "submitted")].edgecolor == "#444444"
    # polygons below lines below points
    assert by_key[("environment", "submitted")].zorder < by_key[("nonsense", "submitted")].zorder < by_key[("welfare", "adopted")].zorder
    arr = image(render_map(layers, (126.83, 37.63, 126.87, 37.67), size_px=(600, 600), **BARE))
    assert mask(arr, (0x41, 0xA9, 0x41), tol=12).sum() > 500  # the environment square's outline (#2ca02c at 90 % on white)
    # legend rows only for what is in view: the line of "nonsense" and nothing but it
    fig = map_figure(layers, (126.795, 37.595, 126.815, 37.615))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["기타 (nonsense)"]
    fig = map_figure(layers, (126.83, 37.63, 126.87, 37.67))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "복지·돌봄", "환경·교통", "회의 상정 · 채택", "미채택 · 철회 · 병합"
    ]
    with pytest.raises(ValueError, match="category"):
        proposal_layers(frame.drop(columns="category"))


def test_highlight_draws_a_halo_only_when_asked():
    p = points([(126.85, 37.65)])
    layers = [MapLayer(p, facecolor=RED, alpha=1.0)]
    r, g, b = (int(HALO_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    halo = (r, round(0.85 * g + 0.15 * 255), round(0.85 * b + 0.15 * 255))  # 85 % on white
    plain = image(render_map(layers, EXTENT, size_px=(400, 400), **BARE))
    lit = image(render_map(layers, EXTENT, size_px=(400, 400), highlight=p.geometry.iloc[0], **BARE))
    assert mask(plain, halo, tol=12).sum() == 0
    ring = mask(lit, halo, tol=12)
    assert ring.sum() > 100
    assert abs(centroid(ring)[0] - 200) < 2 and abs(centroid(ring)[1] - 200) < 2  # around the point
    assert highlight_layer(p, legend_label="안건 1").legend_label == "안건 1"


def test_extent_around_pads_in_metres():
    minx, miny, maxx, maxy = extent_around(Point(126.85, 37.65), pad_m=500)
    assert minx < 126.85 < maxx and miny < 37.65 < maxy
    xs, _ = lonlat_to_metric([minx, maxx], [37.65, 37.65])
    _, ys = lonlat_to_metric([126.85, 126.85], [miny, maxy])
    # at least the padded square; a little more, as the square is slightly turned against the lon/lat grid
    assert 1000 <= xs[1] - xs[0] < 1015 and 1000 <= ys[1] - ys[0] < 1015
    with pytest.raises(ValueError):
        extent_around(gpd.GeoSeries([], crs=4326))


def test_cluster_and_centre_layers_are_labelled(districts):
    hull = gpd.GeoDataFrame({"label": ["묶음 A (12)"]}, geometry=[Point(126.85, 37.65).buffer(0.01)], crs=4326)
    centres = points([(126.83, 37.64), (126.86, 37.66)], name=["화정1동", "행신1동"], is_hub=[True, False])
    layers = [boundary_layer(districts, "district"), cluster_layer(hull), *centres_layer(centres)]
    fig = map_figure(layers, EXTENT)
    texts = {t.get_text() for t in _texts(fig)}
    assert "묶음 A (12)" in texts and "화정1동" in texts
    assert "행신1동" not in texts  # only hubs are labelled
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["제안 묶음", "주민센터", "거점 동 복합주민센터"]  # the layers' order
    with pytest.raises(ValueError, match="label_column"):
        cluster_layer(hull.drop(columns="label"))
    with pytest.raises(ValueError, match="style"):
        boundary_layer(districts, "motorway")


def test_empty_map_shows_the_city():
    fig = map_figure([])
    x0, x1 = fig.axes[0].get_xlim()
    cx0, _, cx1, _ = to_metric(city_outline()).bounds
    assert x0 < cx0 < cx1 < x1
    assert image(render_map([], title="빈 지도")).std() > 1  # title, scale bar, arrow


def test_bad_options_are_refused(full_layers):
    with pytest.raises(ValueError, match="size_px"):
        render_map(full_layers, size_px=(10, 10))
    with pytest.raises(ValueError, match="dpi"):
        render_map(full_layers, dpi=5)
    with pytest.raises(ValueError, match="legend_loc"):
        render_map(full_layers, legend_loc="somewhere")
    with pytest.raises(TypeError):
        render_map([object()])
    with pytest.raises(ValueError, match="colour"):
        MapLayer(points([(126.85, 37.65)]), edgecolor="not-a-colour")
    with pytest.raises(ValueError, match="label_column"):
        MapLayer(points([(126.85, 37.65)]), label_column="missing")

