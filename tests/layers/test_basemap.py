import json
import pickle
import re
from html.parser import HTMLParser
from urllib.parse import urlparse

import folium
import pytest

from layers import basemap
from layers.basemap import (
    APPROXIMATE_NOTE,
    LAYER_CENTRES,
    LAYER_CITY,
    LAYER_DISTRICTS,
    LAYER_GU,
    LAYER_LEGAL,
    base_map_data,
    goyang_base_map,
)
from settings import STATIC_DIR

CDN = re.compile(r"cdn\.jsdelivr|cdnjs\.cloudflare|code\.jquery\.com|netdna\.bootstrapcdn|unpkg\.com")
JUGYO = (126.826798, 37.661888)  # 주교동 representative point, lon/lat


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.refs.append(value)


def _refs(html: str) -> list[str]:
    p = _Refs()
    p.feed(html)
    return p.refs


@pytest.fixture(scope="module")
def data():
    return base_map_data()


@pytest.fixture(scope="module")
def rendered(local_assets, data):
    m = goyang_base_map("none", data=data)
    return m, m.get_root().render()


def _geojson_layers(m: folium.Map) -> dict[str, folium.GeoJson]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, folium.GeoJson)}


def test_no_cdn_and_no_remote_reference(rendered):
    _, html = rendered
    refs = _refs(html)
    assert refs, "expected script/link tags"
    remote = [r for r in refs if urlparse(r).scheme in ("http", "https") or r.startswith("//")]
    assert not remote
    assert not CDN.search(html)


def test_every_static_reference_exists(rendered):
    _, html = rendered
    static = [r for r in _refs(html) if r.startswith("/app/static/")]
    assert len(static) >= 10  # leaflet, jquery, bootstrap, awesome markers, fonts css, ...
    for ref in static:
        assert (STATIC_DIR / ref.removeprefix("/app/static/")).is_file(), ref


def test_all_layers_are_there(rendered):
    m, html = rendered
    layers = _geojson_layers(m)
    counts = {name: len(layer.data["features"]) for name, layer in layers.items()}
    assert counts == {LAYER_CITY: 1, LAYER_GU: 3, LAYER_LEGAL: 53, LAYER_DISTRICTS: 44}
    groups = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert [g.layer_name for g in groups] == [LAYER_CENTRES]
    centres = groups[0]._children.values()
    assert sum(isinstance(c, folium.CircleMarker) for c in centres) == 44
    assert sum(type(c) is folium.Marker for c in centres) == 11  # "거점" labels of the shipped hubs
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())
    for name in (LAYER_CITY, LAYER_GU, LAYER_LEGAL, LAYER_DISTRICTS, LAYER_CENTRES):
        assert json.dumps(name)[1:-1] in html or name in html
    assert "goyang-legend" in html


def test_known_point_in_folium_order_and_geojson_in_lon_lat(rendered):
    m, html = rendered
    lon, lat = JUGYO
    assert f"[{lat}, {lon}]" in html  # folium: [lat, lon]
    assert f"[{lon}, {lat}]" not in html
    for layer in _geojson_layers(m).values():
        for feat in layer.data["features"]:
            ring = feat["geometry"]["coordinates"]
            while isinstance(ring[0][0], (list, tuple)):
                ring = ring[0]
            x, y = ring[0]
            assert 126.6 < x < 127.0 and 37.5 < y < 37.8, (layer.layer_name, x, y)  # GeoJSON: [lon, lat]
    first = re.search(r'"coordinates":\s*\[\[\[\s*([\d.]+),\s*([\d.]+)', html)
    assert first and 126 < float(first.group(1)) < 127 and 37 < float(first.group(2)) < 38
    fit = [c for c in m._children.values() if type(c).__name__ == "FitBounds"]
    (south, west), (north, east) = fit[0].bounds
    assert 37.5 < south < north < 37.8 and 126.6 < west < east < 127.0


def test_districts_say_when_they_are_approximate(data, monkeypatch):
    tips = [f["properties"]["tooltip"] for f in data.districts["features"]]
    assert all(APPROXIMATE_NOTE in t for t in tips)

    real = basemap.boundaries.approximate_districts

    def one_exact():
        gdf = real()
        gdf.loc[0, "approximate"] = False
        return gdf

    monkeypatch.setattr(basemap.boundaries, "approximate_districts", one_exact)
    feats = base_map_data().districts["features"]
    assert APPROXIMATE_NOTE not in feats[0]["properties"]["tooltip"]
    assert all(APPROXIMATE_NOTE in f["properties"]["tooltip"] for f in feats[1:])


def test_hubs_are_set_apart(local_assets, data):
    m = goyang_base_map(data=data, hub_codes={"4128151000"})
    (group,) = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    circles = [c for c in group._children.values() if isinstance(c, folium.CircleMarker)]
    hubs = [c for c in circles if c.options["radius"] > 4]
    assert len(hubs) == 1 and hubs[0].location == [JUGYO[1], JUGYO[0]]
    assert hubs[0].options["color"] != circles[0].options["color"]
    labels = [c for c in group._children.values() if type(c) is folium.Marker]
    assert len(labels) == 1 and "거점" in labels[0].icon.options["html"]
    html = m.get_root().render()
    assert "거점 주교동 행정복지센터" in html


def test_text_from_data_is_escaped(local_assets, data, monkeypatch):
    payload = "<script>alert(1)</script>${alert(2)}`"
    real_admin = basemap.boundaries.admin_dongs
    real_legal = basemap.boundaries.legal_dongs

    def admin():
        gdf = real_admin()
        gdf.loc[0, "name"] = payload
        return gdf

    def legal():
        gdf = real_legal()
        gdf.loc[0, "name"] = payload
        return gdf

    monkeypatch.setattr(basemap.boundaries, "admin_dongs", admin)
    monkeypatch.setattr(basemap.boundaries, "legal_dongs", legal)
    html = goyang_base_map(data=base_map_data()).get_root().render()
    assert "<script>alert(1)" not in html
    assert "${alert(2)}" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#36;{alert(2)}&#96;" in html  # centre tooltip (template literal)
    assert "\\u0026lt;script\\u0026gt;alert(1)" in html  # legal-dong GeoJSON property (JSON in the script)


def test_tiles(local_assets, data):
    def tile_layers(m):
        return [c for c in m._children.values() if isinstance(c, folium.TileLayer)]

    blank = goyang_base_map("none", data=data)
    assert not tile_layers(blank)
    assert 'style.background = "#ffffff"' in blank.get_root().render()

    osm = tile_layers(goyang_base_map("osm", data=data))
    assert len(osm) == 1 and "openstreetmap" in osm[0].tiles.lower()

    url = "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png"
    (custom,) = tile_layers(goyang_base_map(url, tiles_attr="© <b>me</b>", data=data))
    assert custom.tiles == url and custom.options["attribution"] == "© &lt;b&gt;me&lt;/b&gt;"

    with pytest.raises(ValueError, match="tiles"):
        goyang_base_map("satellite", data=data)


def test_map_data_is_cacheable(data):
    assert pickle.loads(pickle.dumps(data)) == data
    before = json.dumps(data.legal_dongs)
    goyang_base_map(data=data).get_root().render()
    assert json.dumps(data.legal_dongs) == before  # building a map leaves the (cached) data alone


# ---------------------------------------------------------------------------
# Villages
# ---------------------------------------------------------------------------


def _villages():
    import geopandas as gpd
    from shapely.geometry import Point, box

    return gpd.GeoDataFrame(
        {"id": [1, 2, 3], "name": ["<script>alert(1)</script>${alert(2)}`", "햇살마을", "#12 공원"]},
        geometry=[box(126.82, 37.61, 126.83, 37.62), Point(126.80, 37.66), None],
        crs=4326,
    )


def test_villages_layer(local_assets, data):
    m = goyang_base_map(data=data, villages=_villages())
    layers = _geojson_layers(m)
    village = layers[basemap.LAYER_VILLAGES]
    feats = village.data["features"]
    assert [f["id"] for f in feats] == ["village-1", "village-2"]  # no geometry, no feature
    x, y = feats[0]["geometry"]["coordinates"][0][0]
    assert 126.6 < x < 127.0 and 37.5 < y < 37.8  # GeoJSON: [lon, lat]
    assert all(f["properties"]["tooltip"].startswith("<b>마을 ") for f in feats)  # never "#<id> …" like a proposal
    assert village.options["pane"] == basemap.PANE_VILLAGES
    assert village.marker is not None and village.marker.options["pane"] == basemap.PANE_VILLAGES  # point villages
    html = m.get_root().render()
    assert "<script>alert(1)" not in html and "${alert(2)}" not in html
    assert "\\u0026lt;script\\u0026gt;alert(1)" in html
    assert f'"{basemap.PANE_VILLAGES}"' in html
    assert json.dumps("마을 Village")[1:-1] in html  # legend row (JSON in the script)
    # the other layers are unchanged
    assert {LAYER_CITY, LAYER_GU, LAYER_LEGAL, LAYER_DISTRICTS} < set(layers)


def test_villages_are_optional_and_cacheable(local_assets, data):
    plain = goyang_base_map(data=data)
    assert basemap.LAYER_VILLAGES not in _geojson_layers(plain)
    assert basemap.PANE_VILLAGES not in plain.get_root().render()
    empty = _villages().iloc[0:0]
    assert basemap.LAYER_VILLAGES not in _geojson_layers(goyang_base_map(data=data, villages=empty))

    fc = basemap.village_data(_villages())
    assert pickle.loads(pickle.dumps(fc)) == fc
    before = json.dumps(fc)
    m = goyang_base_map(data=data, villages=fc, show_villages=False)
    assert _geojson_layers(m)[basemap.LAYER_VILLAGES].show is False
    m.get_root().render()
    assert json.dumps(fc) == before


def test_villages_frame_is_checked():
    v = _villages()
    with pytest.raises(ValueError, match="EPSG:4326"):
        basemap.village_data(v.set_crs(5179, allow_override=True))
    with pytest.raises(ValueError, match="name"):
        basemap.village_data(v.drop(columns="name"))
    with pytest.raises(TypeError):
        basemap.village_data(v.drop(columns="geometry"))


def test_layers_added_later_still_reach_the_layer_control(local_assets, data):
    """streamlit-folium writes scripts in child order: the control must come after every layer it names."""
    import streamlit_folium

    m = goyang_base_map(data=data)
    late = folium.FeatureGroup(name="나중 Later").add_to(m)
    m.get_root().render()
    script = streamlit_folium._get_map_string(m)
    control = script.index("L.control.layers(")
    for name in re.findall(r'"[^"]*"\s*:\s*(\w+),', script[script.rindex("overlays", 0, control) : control]):
        assert script.index(f"var {name} ") < control, name
    assert late.get_name() in script[script.rindex("overlays", 0, control) : control]


def test_overlay_legend_follows_its_layer():
    import folium

    from layers.legend import OverlayLegend

    m = folium.Map(tiles=None)
    layer = folium.FeatureGroup(name="raster", show=False).add_to(m)
    OverlayLegend("<b>legend</b>", layer).add_to(m)
    html = m.get_root().render()
    assert "map.hasLayer(layer)" in html and layer.get_name() in html
    assert "overlayadd overlayremove" in html
