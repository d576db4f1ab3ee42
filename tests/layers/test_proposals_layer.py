"""The proposals layer: styles, escaping, clusters, payload, coordinate order, clicks."""
from __future__ import annotations

import html
import re
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import folium
import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon

from layers import proposals as P
from layers.proposals import (
    ProposalClusters,
    ProposalGeoJson,
    clicked_proposal_id,
    cluster_cell_m,
    cluster_points,
    legend_entries_for_proposals,
    proposal_layer,
    proposal_style,
    rendered_size,
    status_style,
)
from planning.categories import categories
from planning.i18n import CATALOGUE
from settings import STATIC_DIR

PAYLOAD = "<img src=x onerror=alert(1)>${alert(2)}"
TICKS = "`${alert(3)}`\\"
# Goyang: lon 126.67-126.99, lat 37.57-37.75
LON, LAT = 126.8450, 37.6350


def square(x: float, y: float, d: float = 0.001) -> Polygon:
    return Polygon([(x, y), (x + d, y), (x + d, y + d), (x, y + d)])


def frame(geoms, **columns) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {
        "id": list(range(1, n + 1)),
        "title": [f"제안 {i}" for i in range(1, n + 1)],
        "category": ["urban"] * n,
        "status": ["submitted"] * n,
        "kind": ["area"] * n,
        "cost_krw": [None] * n,
        "is_demo": [False] * n,
        "supports": [0] * n,
        "comments": [0] * n,
    }
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)


def every_type() -> gpd.GeoDataFrame:
    return frame(
        [
            Point(LON, LAT),
            LineString([(126.77, 37.68), (126.78, 37.69)]),
            square(126.80, 37.66),
            MultiPoint([(126.75, 37.70), (126.76, 37.70)]),
            MultiLineString([[(126.90, 37.65), (126.91, 37.65)], [(126.90, 37.66), (126.91, 37.66)]]),
            MultiPolygon([square(126.85, 37.70), square(126.86, 37.70)]),
        ],
        category=["urban", "environment", "culture", "welfare", "economy", "admin"],
        status=["adopted", "under_review", "rejected", "submitted", "shortlisted", "withdrawn"],
        supports=[3, 0, 1, 2, 0, 0],
        comments=[1, 0, 0, 5, 0, 0],
        is_demo=[False, False, False, True, False, False],
    )


def random_points(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    pts = gpd.points_from_xy(rng.uniform(126.70, 126.98, n), rng.uniform(37.58, 37.74, n))
    return frame(list(pts), title=[f"[데모] 우리 동네 공원에 벤치를 놓아 주세요 {i}" for i in range(n)], is_demo=[True] * n)


def elements(fg: folium.FeatureGroup, cls: type) -> list:
    return [c for c in fg._children.values() if isinstance(c, cls)]


def render(fg: folium.FeatureGroup) -> str:
    m = folium.Map(location=[LAT, LON], zoom_start=12, tiles=None)
    fg.add_to(m)
    return m.get_root().render()


# ---------------------------------------------------------------------------
# Styles and legend
# ---------------------------------------------------------------------------


def test_status_table_covers_the_workflow_statuses():
    table = status_style()
    statuses = {k.removeprefix("status.") for k in CATALOGUE if k.startswith("status.")}
    assert set(table) == statuses
    table.clear()  # a copy: the module's table is untouched
    assert status_style()


def test_category_colour_and_status_look():
    colours = {c.code: c.colour for c in categories()}
    base = proposal_style("urban", "submitted")
    assert base["color"] == base["fillColor"] == colours["urban"] == "#1f77b4"
    assert "dashArray" not in base
    assert proposal_style("urban", "under_review")["dashArray"]
    rejected = proposal_style("urban", "rejected")
    assert rejected["fillColor"] == P.GREY_FILL and rejected["fillOpacity"] < base["fillOpacity"] + 0.01
    adopted_point = proposal_style("urban", "adopted", point=True)
    plain_point = proposal_style("urban", "submitted", point=True)
    assert adopted_point["color"] == "#111111" != plain_point["color"]  # the dark ring
    assert adopted_point["radius"] > plain_point["radius"] and adopted_point["weight"] > plain_point["weight"]
    assert adopted_point["fillColor"] == colours["urban"]
    assert proposal_style("urban", "no-such-status") == base
    assert proposal_style("no-such-category", "submitted")["fillColor"] == P.UNKNOWN_CATEGORY_COLOUR


def test_legend_entries():
    ko = legend_entries_for_proposals("ko")
    en = legend_entries_for_proposals("en")
    cats = list(categories())
    assert [e.label for e in ko[: len(cats)]] == [c.ko for c in cats]
    assert [e.colour for e in ko[: len(cats)]] == [c.colour for c in cats]
    assert [e.label for e in en[: len(cats)]] == [c.en for c in cats]
    labels_ko = " ".join(e.label for e in ko)
    assert "검토 중" in labels_ko and "채택" in labels_ko and "미채택" in labels_ko
    assert any(e.dashed for e in ko[len(cats):])
    assert "under review" in " ".join(e.label for e in en)


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------


def test_below_max_features_one_geojson_with_every_geometry_type():
    f = every_type()
    fg = proposal_layer(f, zoom=13)
    assert isinstance(fg, folium.FeatureGroup)
    (layer,) = elements(fg, ProposalGeoJson)
    assert not elements(fg, ProposalClusters)
    feats = layer.data["features"]
    assert [ft["geometry"]["type"] for ft in feats] == [g.geom_type for g in f.geometry]
    assert [ft["properties"]["i"] for ft in feats] == list(f["id"])
    p4 = feats[3]["properties"]
    assert p4["n"] == 2 and p4["m"] == 5 and p4["d"] == 1
    assert "n" not in feats[1]["properties"] and "d" not in feats[1]["properties"]  # zeros are left out
    # each feature's style index points at its (category, status) style
    for ft, cat, status in zip(feats, f["category"], f["status"]):
        combo = layer.config["combos"][ft["properties"]["k"]]
        assert combo[2] == proposal_style(cat, status)
        assert combo[3] == proposal_style(cat, status, point=True)
        assert layer.config["stats"][combo[1]] == CATALOGUE[f"status.{status}"][0]


def test_geojson_keeps_lon_lat():
    fg = proposal_layer(every_type(), zoom=15)
    (layer,) = elements(fg, ProposalGeoJson)
    for ft in layer.data["features"]:
        flat = np.array(_flatten(ft["geometry"]["coordinates"]))
        assert (126.6 < flat[:, 0]).all() and (flat[:, 0] < 127.0).all(), flat
        assert (37.5 < flat[:, 1]).all() and (flat[:, 1] < 37.8).all()
    html_ = render(fg)
    assert f"[{LON},{LAT}]" in html_ and f"[{LAT},{LON}]" not in html_


def _flatten(coords) -> list[list[float]]:
    if isinstance(coords[0], (int, float)):
        return [list(coords)]
    return [p for c in coords for p in _flatten(c)]


def test_labels_follow_the_language():
    f = every_type()
    ko = elements(proposal_layer(f, zoom=13, lang="ko"), ProposalGeoJson)[0].config
    en = elements(proposal_layer(f, zoom=13, lang="en"), ProposalGeoJson)[0].config
    assert ko["text"]["supports"] == "공감 {n}" and en["text"]["supports"] == "{n} supports"
    assert ko["text"]["status"] == "상태: {status}"
    assert ko["cats"][0][0] == "행정·자치" and en["cats"][0][0] == "Administration &amp; self-government"


def test_rows_without_geometry_are_skipped_and_bad_frames_refused():
    f = every_type()
    f.loc[1, "geometry"] = None
    fg = proposal_layer(f, zoom=13)
    assert len(elements(fg, ProposalGeoJson)[0].data["features"]) == 5
    assert not elements(proposal_layer(f.iloc[0:0], zoom=13), ProposalGeoJson)  # nothing to draw

    with pytest.raises(ValueError, match="lacks columns: title"):
        proposal_layer(f.drop(columns="title"), zoom=13)
    with pytest.raises(ValueError, match="EPSG:4326"):
        proposal_layer(f.set_crs(5179, allow_override=True), zoom=13)
    with pytest.raises(ValueError, match="zoom"):
        proposal_layer(f, zoom=40)
    with pytest.raises(TypeError):
        proposal_layer(f.drop(columns="geometry").assign(x=1), zoom=13)  # a plain DataFrame


def test_simplified_for_the_zoom_but_not_broken():
    ring = [(LON + 0.01 * np.cos(a), LAT + 0.01 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 2000)]
    f = frame([Polygon(ring)])
    far = elements(proposal_layer(f, zoom=10), ProposalGeoJson)[0].data["features"][0]["geometry"]
    near = elements(proposal_layer(f, zoom=18), ProposalGeoJson)[0].data["features"][0]["geometry"]
    assert 4 <= len(far["coordinates"][0]) < 100 < len(near["coordinates"][0])


def test_svg_by_default_canvas_on_request():
    svg = render(proposal_layer(every_type(), zoom=13))
    canvas = render(proposal_layer(every_type(), zoom=13, renderer="canvas"))
    assert "L.canvas(" not in svg and "L.canvas(" in canvas
    with pytest.raises(ValueError, match="renderer"):
        proposal_layer(every_type(), zoom=13, renderer="webgl")  # type: ignore[arg-type]


def test_long_titles_are_cut():
    f = frame([Point(LON, LAT)], title=["가" * 500])
    t = elements(proposal_layer(f, zoom=13), ProposalGeoJson)[0].data["features"][0]["properties"]["t"]
    assert len(t) == P.TITLE_MAX_CHARS and t.endswith("…")


def test_bounds_leave_out_what_is_far_from_the_view():
    f = every_type()
    fg = proposal_layer(f, zoom=15, bounds=(126.84, 37.63, 126.85, 37.64), bounds_margin=0.1)
    (layer,) = elements(fg, ProposalGeoJson)
    assert [ft["properties"]["i"] for ft in layer.data["features"]] == [1]
    halo, layer = elements(proposal_layer(f, zoom=15, bounds=(126.84, 37.63, 126.85, 37.64), selected_id=3), ProposalGeoJson)
    assert [ft["properties"]["i"] for ft in layer.data["features"]] == [1, 3]  # the selection, even outside


# ---------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere():
    f = every_type()
    f.loc[0, "title"] = PAYLOAD
    f.loc[1, "title"] = TICKS
    f.loc[2, "category"] = PAYLOAD  # an unknown category code is shown as text
    f.loc[3, "status"] = "`${alert(4)}`<b>"
    for fg in (proposal_layer(f, zoom=13, selected_id=2), proposal_layer(f, zoom=13, max_features=2, selected_id=2)):
        out = render(fg)
        assert "<img" not in out and "\\u003cimg" not in out
        assert "${" not in out  # neither from user text nor from our templates
        assert "`" not in out  # no user backtick, and our scripts use no template literals
        # JSON in the script escapes '&' too: the text is &#96;&#36;{alert(3)}&#96;&#92;
        assert "\\u0026#96;\\u0026#36;{alert(3)}\\u0026#96;\\u0026#92;" in out
    layer = elements(proposal_layer(f, zoom=13), ProposalGeoJson)[0]
    props = {ft["properties"]["i"]: ft["properties"] for ft in layer.data["features"]}
    assert props[1]["t"] == "&lt;img src=x onerror=alert(1)&gt;&#36;{alert(2)}"
    assert props[2]["t"] == "&#96;&#36;{alert(3)}&#96;&#92;"
    assert html.unescape(props[1]["t"]) == PAYLOAD  # shown as typed
    assert [PAYLOAD] == [html.unescape(row[0]) for row in layer.config["cats"] if "img" in row[0]]


def test_escaped_through_streamlit_folium_too():
    """The path st_folium(feature_group_to_add=...) takes (private helpers of streamlit-folium 0.27)."""
    import streamlit_folium

    f = every_type()
    f.loc[0, "title"] = PAYLOAD + TICKS
    m = folium.Map(tiles=None)
    m.get_root().render()
    streamlit_folium._get_map_string(m)
    js = streamlit_folium._get_feature_group_string(proposal_layer(f, zoom=13), m)
    assert "var map = map_div;" in js
    assert not re.search(r"map_[0-9a-f]{32}", js)  # every reference to the map was renamed
    assert "<img" not in js and "${" not in js and "`" not in js


# ---------------------------------------------------------------------------
# Clusters and payload
# ---------------------------------------------------------------------------


def test_cell_size_in_metres():
    assert cluster_cell_m(11) == pytest.approx(40 * 156543.03 * np.cos(np.radians(37.66)) / 2**11, rel=1e-6)
    assert 2300 < cluster_cell_m(11) < 2500
    assert cluster_cell_m(12) == pytest.approx(cluster_cell_m(11) / 2)


def test_clusters_count_everything_once():
    f = random_points(5000)
    points = cluster_points(f.geometry.values, 11)
    assert sum(p[2] for p in points) == 5000
    assert [p[2] for p in points] == sorted((p[2] for p in points), reverse=True)
    for lat, lon, n, radius, label in points:
        assert 37.5 < lat < 37.8 and 126.6 < lon < 127.0  # [lat, lon]
        assert 8 <= radius <= 20 and label == (str(n) if n < 1000 else label)


def test_cells_shrink_with_zoom_and_are_capped():
    near = frame([Point(LON, LAT), Point(LON + 0.0011, LAT)])  # ~100 m apart
    assert len(cluster_points(near.geometry.values, 11)) == 1
    assert len(cluster_points(near.geometry.values, 18)) == 2
    many = random_points(20_000)
    assert len(cluster_points(many.geometry.values, 18, max_clusters=500)) <= 500


def test_above_max_features_clusters_and_the_selection_in_full():
    f = random_points(2000)
    fg = proposal_layer(f, zoom=12, max_features=1500, selected_id=7)
    (clusters,) = elements(fg, ProposalClusters)
    assert sum(p[2] for p in clusters.points) == 2000
    halo, selected = elements(fg, ProposalGeoJson)
    assert halo.config["halo"] and halo.pane == P.PANE_HALO
    assert [ft["properties"]["i"] for ft in halo.data["features"]] == [7]
    assert [ft["properties"]["i"] for ft in selected.data["features"]] == [7]
    assert not selected.config["halo"]
    out = render(fg)
    lat, lon = clusters.points[0][:2]
    assert f"[{lat},{lon}," in out  # cluster positions: [lat, lon]
    x, y = (round(v, P.coord_decimals(12)) for v in (f.geometry.iloc[6].x, f.geometry.iloc[6].y))
    assert f"[{x},{y}]" in out  # the selected point: GeoJSON [lon, lat]


def test_selected_proposal_gets_a_halo_among_features():
    f = every_type()
    fg = proposal_layer(f, zoom=13, selected_id=3)
    halo, layer = elements(fg, ProposalGeoJson)
    assert halo.config["halo"] and [ft["properties"] for ft in halo.data["features"]] == [{"i": 3}]
    assert len(layer.data["features"]) == 6
    assert len(elements(proposal_layer(f, zoom=13, selected_id=999), ProposalGeoJson)) == 1  # unknown id: no halo


def test_20k_proposals_at_city_zoom_stay_small():
    f = random_points(20_000)
    started = time.perf_counter()
    fg = proposal_layer(f, zoom=11, selected_id=123)
    built_s = time.perf_counter() - started
    size = rendered_size(fg)
    assert size < 100_000, size  # budget: well under 300 KB
    assert built_s < 2.0
    # still bounded when zoomed in on all of them at once
    assert rendered_size(proposal_layer(f, zoom=16)) < 300_000


def test_rendered_size_leaves_the_group_alone():
    fg = proposal_layer(every_type(), zoom=13)
    before = list(fg._children)
    size = rendered_size(fg)
    assert size > 1000 and list(fg._children) == before and fg._parent is None
    assert rendered_size(fg) == size


# ---------------------------------------------------------------------------
# Clicks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"last_object_clicked_tooltip": "#12 공원 벤치"}, 12),
        ({"last_object_clicked_tooltip": "\n            #7 제목\n        "}, 7),
        ({"last_object_clicked_tooltip": "\u00a0#7\u00a0제목"}, 7),
        ({"last_object_clicked_tooltip": "#12"}, 12),
        ({"last_object_clicked_tooltip": "#12 #13 title with #14"}, 12),
        ({"last_object_clicked_tooltip": html.unescape("#5 &lt;img src=x&gt;")}, 5),
        ({"last_object_clicked_tooltip": "#12abc"}, None),
        ({"last_object_clicked_tooltip": "제목 #12"}, None),
        ({"last_object_clicked_tooltip": "마을 #3 마을"}, None),
        ({"last_object_clicked_tooltip": "제안 225건 · 클릭하면 확대"}, None),
        ({"last_object_clicked_tooltip": "#0 x"}, None),
        ({"last_object_clicked_tooltip": "# 12"}, None),
        ({"last_object_clicked_tooltip": None}, None),
        ({"last_object_clicked_tooltip": 12}, None),
        # a boundary without popup after a proposal: the stale popup must not count
        ({"last_object_clicked_tooltip": "행신동 · 법정동", "last_object_clicked_popup": "#22 x"}, None),
        ({"last_object_clicked_popup": "#22 공원Category: …"}, 22),
        ({}, None),
        (None, None),
        ("#12", None),
    ],
)
def test_clicked_proposal_id(result, expected):
    assert clicked_proposal_id(result) == expected


def test_tooltip_text_round_trip():
    """The tooltip's text as the browser reads it (tags dropped, entities decoded) gives the id back."""
    f = frame([Point(LON, LAT)], id=[4321], title=[PAYLOAD + TICKS])
    props = elements(proposal_layer(f, zoom=13), ProposalGeoJson)[0].data["features"][0]["properties"]
    tooltip_html = f"<b>#{props['i']}</b> {props['t']}"  # what the layer's tooltip function builds
    text = html.unescape(re.sub(r"<[^>]+>", "", tooltip_html))
    assert text == f"#4321 {PAYLOAD}{TICKS}"
    assert clicked_proposal_id({"last_object_clicked_tooltip": text}) == 4321


# ---------------------------------------------------------------------------
# In a browser (the layer's JavaScript)
# ---------------------------------------------------------------------------



class _StaticHandler(SimpleHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path in self.pages:
            body = self.pages[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/app/static/"):
            self.path = self.path.removeprefix("/app/static")
            return super().do_GET()
        self.send_error(404)


@pytest.fixture(scope="module")
def browser_page(chromium_browser):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_StaticHandler, directory=str(STATIC_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield chromium_browser, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _open(browser_page, element, name: str):
    """A page with a bare map holding ``element`` (a feature group, a draw control, ...)."""
    browser, base = browser_page
    m = folium.Map(location=[37.66, 126.83], zoom_start=11, tiles=None)
    element.add_to(m)
    _StaticHandler.pages[f"/{name}.html"] = m.get_root().render().encode("utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "404" not in msg.text else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base}/{name}.html")
    page.wait_for_function("typeof L !== 'undefined' && document.querySelector('.leaflet-container')")
    return page, m.get_name(), errors, dialogs


def _point_on_screen(page, map_name: str, lat: float, lon: float) -> tuple[float, float]:
    x, y = page.evaluate(f"(() => {{ const p = {map_name}.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    return x, y


@pytest.mark.browser
def test_in_browser_tooltip_popup_and_halo(local_assets, browser_page):
    f = every_type()
    f.loc[0, "title"] = PAYLOAD + TICKS
    page, map_name, errors, dialogs = _open(browser_page, proposal_layer(f, zoom=11, lang="en", selected_id=1), "features")
    try:
        page.wait_for_selector(".leaflet-goyang-proposals-pane path")
        assert page.locator(".leaflet-goyang-proposals-pane path").count() == 7  # 6 features, the multipoint has 2
        assert page.locator(".leaflet-goyang-proposal-halo-pane path").count() == 1
        x, y = _point_on_screen(page, map_name, LAT, LON)
        page.mouse.move(x, y)
        tooltip = page.locator(".goyang-proposal-tooltip")
        tooltip.wait_for()
        assert tooltip.inner_text().strip() == f"#1 {PAYLOAD}{TICKS}"  # shown as text, not run
        page.mouse.click(x, y)
        popup = page.locator(".goyang-proposal-popup")
        popup.wait_for()
        text = popup.inner_text()
        assert "Urban development & safety" in text and "Status: adopted" in text and "3 supports · 1 comments" in text
        # a MultiPoint part knows its proposal; the demo badge shows
        page.evaluate(f"{map_name}.closePopup()")
        page.wait_for_timeout(500)  # the first popup's auto-pan animation
        x, y = _point_on_screen(page, map_name, 37.70, 126.76)
        page.mouse.click(x, y)
        page.locator(".goyang-proposal-popup", has_text="#4").wait_for()
        assert page.locator(".goyang-demo-badge").inner_text() == "Demo data"
        assert page.locator("img[src='x']").count() == 0
        assert not errors and not dialogs, (errors, dialogs)
    finally:
        page.close()


@pytest.mark.browser
def test_in_browser_clusters(local_assets, browser_page):
    fg = proposal_layer(random_points(3000), zoom=11, lang="ko", max_features=1000)
    page, map_name, errors, dialogs = _open(browser_page, fg, "clusters")
    try:
        page.wait_for_selector(".goyang-cluster-label")
        (clusters,) = elements(fg, ProposalClusters)
        assert page.locator(".goyang-cluster-label").count() == len(clusters.points)
        labels = page.locator(".goyang-cluster-label").all_inner_texts()
        assert sorted(map(int, labels)) == sorted(p[2] for p in clusters.points)
        zoom = page.evaluate(f"{map_name}.getZoom()")
        lat, lon = clusters.points[0][:2]
        x, y = _point_on_screen(page, map_name, lat, lon)
        page.mouse.move(x, y)
        assert "제안" in page.locator(".goyang-cluster-tooltip").inner_text()
        page.mouse.click(x, y)
        page.wait_for_function(f"{map_name}.getZoom() > {zoom}")
        assert not errors and not dialogs, (errors, dialogs)
    finally:
        page.close()


def test_clusters_counted_elsewhere_are_drawn_with_the_selection_alone():
    """The database counted the view (planning.proposals.map_view): the frame holds only the selection."""
    from geo.grid import lonlat_grid_sums
    from layers.proposals import clusters_from_cells

    f = random_points(3000)
    cells = lonlat_grid_sums(f.geometry.x.to_numpy(), f.geometry.y.to_numpy(), cluster_cell_m(12, float(np.median(f.geometry.y))))
    counted = clusters_from_cells(cells)
    assert counted == cluster_points(f.geometry.values, 12)  # the same clusters as counting the frame here
    fg = proposal_layer(f[f["id"] == 7], zoom=12, max_features=1500, selected_id=7, clusters=counted)
    (clusters,) = elements(fg, ProposalClusters)
    assert clusters.points == counted and sum(p[2] for p in clusters.points) == 3000
    halo, selected = elements(fg, ProposalGeoJson)
    assert [ft["properties"]["i"] for ft in selected.data["features"]] == [7]
    assert elements(proposal_layer(f.iloc[0:0], zoom=12, clusters=[]), ProposalGeoJson) == []


def test_clusters_from_cells_merges_cells_until_they_fit():
    from geo.grid import lonlat_grid_sums
    from layers.proposals import clusters_from_cells

    f = random_points(20_000)
    cells = lonlat_grid_sums(f.geometry.x.to_numpy(), f.geometry.y.to_numpy(), 50.0)
    assert len(cells) > 500
    fitted = clusters_from_cells(cells, max_clusters=500)
    assert 0 < len(fitted) <= 500 and sum(p[2] for p in fitted) == 20_000
    assert clusters_from_cells(cells[:0]) == []
