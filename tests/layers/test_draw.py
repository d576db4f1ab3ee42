"""Drawing tools: toolbar configuration, Korean texts, picking the drawing, circles to polygons."""
from __future__ import annotations

import json
import math
import re

import folium
import numpy as np
import pytest
import shapely
from folium.plugins import Draw
from shapely.geometry import Point, shape

from geo.crs import to_metric
from geo.errors import GeometryRefused
from geo.validation import validate_drawn_geometry
from layers.draw import (
    DRAW_TEXTS_KO,
    draw_control,
    draw_text,
    drawn_circle_to_polygon,
    is_drawn_circle,
    latest_drawing,
    village_draw_control,
)
from settings import STATIC_DIR
from test_proposals_layer import _open, browser_page  # noqa: F401  (the browser fixture)

LEAFLET_DRAW_JS = STATIC_DIR / "vendor" / "leaflet-draw@1.0.4" / "dist" / "leaflet.draw.js"
CENTRE = (126.8320, 37.6584)  # lon, lat


def circle(radius=150.0, lon=CENTRE[0], lat=CENTRE[1], **props):
    return {"type": "Feature", "properties": {"radius": radius, **props}, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def polygon_feature(dx=0.0):
    x, y = CENTRE
    ring = [[x + dx, y], [x + dx + 0.001, y], [x + dx + 0.001, y + 0.001], [x + dx, y]]
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def render(*elements) -> str:
    m = folium.Map(tiles=None)
    for e in elements:
        e.add_to(m)
    return m.get_root().render()


def leaflet_draw_local() -> dict:
    """Leaflet.draw's own L.drawLocal, read from the vendored library."""
    src = LEAFLET_DRAW_JS.read_text(encoding="utf-8")
    start = src.index("L.drawLocal=") + len("L.drawLocal=")
    depth = 0
    for end in range(start, len(src)):
        depth += {"{": 1, "}": -1}.get(src[end], 0)
        if depth == 0:
            break
    return json.loads(re.sub(r"([{,])(\w+):", r'\1"\2":', src[start : end + 1]))


# ---------------------------------------------------------------------------
# Toolbar
# ---------------------------------------------------------------------------


def test_toolbar_configuration():
    d = draw_control("ko")
    assert isinstance(d, Draw) and d._name == "DrawControl"  # streamlit-folium finds drawnItems by this name
    opts = d.draw_options
    for tool in ("marker", "polyline", "polygon", "rectangle", "circle"):
        assert opts[tool], tool
    assert opts["circlemarker"] is False
    assert opts["polygon"]["allowIntersection"] is False
    assert d.export is False and d.show_geometry_on_click is False
    assert "edit" in d.edit_options and "remove" in d.edit_options


def test_village_toolbar_draws_areas_only():
    opts = village_draw_control("en").draw_options
    assert opts["polygon"] and opts["rectangle"]
    assert not any(opts[t] for t in ("marker", "polyline", "circle", "circlemarker"))


def test_korean_texts_only_in_korean(local_assets):
    ko = render(draw_control("ko"))
    en = render(draw_control("en"))
    assert "다각형 그리기" in ko and '"finish":{"title":"그리기 완료","text":"완료"}' in ko
    assert "L.drawLocal" in ko and "L.drawLocal" not in en
    assert not re.search(r"[가-힣]", en.split("<script>", 1)[1])  # the English toolbar keeps Leaflet.draw's texts
    assert draw_text("finish", "en") == "Finish" and draw_text("finish", "ko") == "완료"
    assert draw_text("polygon", "en") == "Draw a polygon" and draw_text("polygon", "ko") == "다각형 그리기"
    for html in (ko, en):
        assert "alert(" not in html  # no alert on clicking a drawn shape


def test_korean_keys_exist_in_leaflet_draw():
    """A typo in a key would leave that text in English silently."""
    own = leaflet_draw_local()

    def walk(ours: dict, theirs: dict, path: str) -> None:
        for key, value in ours.items():
            assert key in theirs, f"{path}.{key} is not a Leaflet.draw text"
            if isinstance(value, dict):
                walk(value, theirs[key], f"{path}.{key}")
            else:
                assert isinstance(theirs[key], str)

    walk(DRAW_TEXTS_KO, own, "L.drawLocal")
    assert own["draw"]["toolbar"]["finish"]["text"] == draw_text("finish", "en")
    for key in ("polyline", "polygon", "rectangle", "circle", "marker"):
        assert own["draw"]["toolbar"]["buttons"][key] == draw_text(key, "en")


def test_streamlit_folium_still_finds_the_drawn_items(local_assets):
    import streamlit_folium

    m = folium.Map(tiles=None)
    draw_control("ko").add_to(m)
    m.get_root().render()
    script = streamlit_folium._get_map_string(m)
    assert "var drawnItems =" in script and "drawnItems_draw_control" not in script
    assert "draw:created draw:edited" in script  # keeps properties.radius current on resize


# ---------------------------------------------------------------------------
# What comes back
# ---------------------------------------------------------------------------


def test_latest_drawing_prefers_all_drawings():
    a, b = polygon_feature(0), polygon_feature(0.01)
    assert latest_drawing({"all_drawings": [a, b], "last_active_drawing": a}) == b
    assert latest_drawing({"all_drawings": [], "last_active_drawing": a}) is None  # everything deleted
    assert latest_drawing({"all_drawings": None, "last_active_drawing": a}) == a
    assert latest_drawing({"last_active_drawing": a}) == a
    assert latest_drawing({"all_drawings": [a, {"type": "Feature"}, "junk"]}) == a
    assert latest_drawing({"all_drawings": None, "last_active_drawing": None}) is None
    assert latest_drawing(None) is None and latest_drawing("x") is None
    got = latest_drawing({"all_drawings": [a]})
    got["properties"]["x"] = 1
    assert a["properties"] == {}  # a copy


def test_is_drawn_circle():
    assert is_drawn_circle(circle())
    assert not is_drawn_circle(polygon_feature())
    assert not is_drawn_circle({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}})
    assert not is_drawn_circle(None)


# ---------------------------------------------------------------------------
# Circles
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [5.0, 150.0, 2500.0])
def test_circle_to_polygon_keeps_radius_and_centre(radius):
    out = drawn_circle_to_polygon(circle(radius, name="놀이터"))
    assert out["type"] == "Feature" and out["geometry"]["type"] == "Polygon"
    assert out["properties"] == {"name": "놀이터", "circle_radius_m": radius}
    ring = out["geometry"]["coordinates"][0]
    assert len(ring) == 33 and ring[0] == ring[-1]  # 32 vertices, closed
    assert all(isinstance(c, list) for c in ring)

    poly_m = to_metric(shape(out["geometry"]))
    centre_m = to_metric(Point(*CENTRE))
    distances = np.array([centre_m.distance(Point(c)) for c in poly_m.exterior.coords])
    assert np.allclose(distances, radius, rtol=1e-6)  # vertices on the circle
    equivalent = math.sqrt(poly_m.area / math.pi)
    assert abs(equivalent - radius) / radius < 0.01  # area within 1 % of the circle's
    assert poly_m.centroid.distance(centre_m) < max(0.01, radius * 1e-6)


def test_circle_polygon_passes_validation():
    out = drawn_circle_to_polygon(circle(120.0), segments=64)
    assert len(out["geometry"]["coordinates"][0]) == 65
    valid = validate_drawn_geometry(out)
    assert valid.geometry.geom_type == "Polygon" and not valid.repairs
    with pytest.raises(GeometryRefused) as refused:
        validate_drawn_geometry(circle(120.0))
    assert refused.value.code == "circle"  # which is why the radius property must go


@pytest.mark.parametrize(
    ("feature", "code"),
    [
        (polygon_feature(), "not_a_circle"),
        ({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}, "not_a_circle"),
        (circle(radius="big"), "not_a_circle"),
        ({"type": "Feature", "properties": {"radius": 10}, "geometry": {"type": "Point", "coordinates": []}}, "not_a_circle"),
        (circle(0), "bad_radius"),
        (circle(-5), "bad_radius"),
        (circle(float("nan")), "bad_radius"),
        (circle(1e7), "bad_radius"),
        (circle(100, lon=float("inf")), "bad_radius"),
        (circle(100, lon=500), "bad_radius"),
    ],
)
def test_circle_refusals(feature, code):
    with pytest.raises(GeometryRefused) as refused:
        drawn_circle_to_polygon(feature)
    assert refused.value.code == code
    assert refused.value.ko and refused.value.en


def test_segments_must_make_a_circle():
    with pytest.raises(ValueError):
        drawn_circle_to_polygon(circle(), segments=4)
    assert shapely.is_valid(shape(drawn_circle_to_polygon(circle(), segments=8)["geometry"]))


# ---------------------------------------------------------------------------
# In a browser: the Korean toolbar draws a polygon
# ---------------------------------------------------------------------------


@pytest.mark.browser
def test_in_browser_korean_toolbar_draws(local_assets, browser_page):  # noqa: F811
    page, map_name, errors, dialogs = _open(browser_page, draw_control("ko"), "draw_ko")
    try:
        button = page.locator(".leaflet-draw-draw-polygon")
        assert button.get_attribute("title") == draw_text("polygon", "ko")
        button.click()
        for dx, dy in ((0, 0), (80, 0), (80, 80)):
            page.mouse.click(400 + dx, 300 + dy)
            page.wait_for_timeout(150)  # Leaflet.draw takes quick clicks for double-clicks
        page.get_by_role("link", name=draw_text("finish", "ko"), exact=True).click()
        drawn = page.evaluate(
            f"""(() => {{
                let out = [];
                {map_name}.eachLayer(l => {{ if (l instanceof L.Polygon) out.push(l.toGeoJSON()); }});
                return out;
            }})()"""
        )
        assert len(drawn) == 1 and drawn[0]["geometry"]["type"] == "Polygon"
        # a circle keeps its radius in properties, also after the edit tool resizes it
        page.locator(".leaflet-draw-draw-circle").click()
        page.mouse.move(600, 500)
        page.mouse.down()
        page.mouse.move(650, 500, steps=5)
        page.mouse.up()
        radius = page.evaluate(
            f"""(() => {{
                let r = null;
                {map_name}.eachLayer(l => {{ if (l instanceof L.Circle) r = [l.getRadius(), l.toGeoJSON().properties.radius]; }});
                return r;
            }})()"""
        )
        assert radius is not None and radius[0] == pytest.approx(radius[1]) and radius[0] > 0
        resized = page.evaluate(
            f"""(() => {{
                let c = null; {map_name}.eachLayer(l => {{ if (l instanceof L.Circle) c = l; }});
                c.setRadius(777);
                {map_name}.fire("draw:edited", {{layers: L.layerGroup([c])}});
                return c.toGeoJSON().properties.radius;
            }})()"""
        )
        assert resized == 777
        assert not errors and not dialogs, (errors, dialogs)
    finally:
        page.close()
