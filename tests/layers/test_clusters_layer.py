"""The cluster layer: outlines in lon/lat, labels at [lat, lon], escaped cards, fixed colours."""
import json
import re

import folium
import shapely

from layers.clusters import PALETTE, cluster_colour, cluster_layer, cluster_popup_html, cluster_tooltip
from planning.clusters import ClusterCard

XSS = "<img src=x onerror=alert(1)>`${alert(2)}`"


def card(label=0, **overrides):
    fields = {
        "label": label,
        "count": 4,
        "proposal_ids": [1, 2, 3, 4],
        "supports": 12,
        "comments": 5,
        "categories": [("culture", 3), ("environment", 1)],
        "districts": [("4128164000", "행신1동")],
        "legal_dongs": [("41281128", XSS)],
        "hubs": [("4128164000", "행신1동 행정복지센터")],
        "hull": shapely.box(126.830, 37.620, 126.836, 37.624),
        "cost_total_krw": 18_000_000,
        "cost_known": 3,
        "words": [("공원", 7), (XSS, 2)],
    }
    fields.update(overrides)
    return ClusterCard(**fields)


def render(group):
    m = folium.Map(location=[37.62, 126.83], zoom_start=14)
    group.add_to(m)
    return m.get_root().render()


def test_hulls_are_geojson_lon_lat_and_labels_lat_lon():
    group = cluster_layer([card(0), card(1, count=2, hull=shapely.box(126.90, 37.65, 126.91, 37.66))], "ko")
    assert isinstance(group, folium.FeatureGroup)
    html = render(group)
    collections = [json.loads(m) for m in re.findall(r"geo_json_\w+_add\((\{.*?\})\);", html)]
    rings = [f["geometry"]["coordinates"][0] for fc in collections for f in fc["features"]]
    assert len(rings) == 2
    assert rings and all(126 < x < 127 and 37 < y < 38 for ring in rings for x, y in ring)
    markers = [(float(a), float(b)) for a, b in re.findall(r"L\.marker\(\s*\[([\d.]+), ([\d.]+)\]", html)]
    assert len(markers) == 2 and all(37 < lat < 38 and 126 < lon < 127 for lat, lon in markers)
    # Each label sits inside its own outline.
    for (lat, lon), hull in zip(markers, [card(0).hull, shapely.box(126.90, 37.65, 126.91, 37.66)]):
        assert hull.contains(shapely.Point(lon, lat))


def test_user_text_is_escaped_everywhere():
    html = render(cluster_layer([card(0, districts=[("x", XSS)], hubs=[("y", XSS)])], "ko"))
    assert "<img src=x" not in html and "${alert(2)}" not in html and "`${" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;&#96;&#36;{alert(2)}&#96;" in html
    popup = cluster_popup_html(card(0), "ko")
    assert "&lt;img" in popup and "<img" not in popup


def test_card_summary_in_both_languages():
    ko = cluster_popup_html(card(3), "ko")
    assert "군집 3" in ko and "제안 4건" in ko and "지지 12 · 댓글 5" in ko
    assert "문화·체육 3" in ko and "행신1동" in ko and "18,000,000원 (3/4건 기준)" in ko and "공원 (7)" in ko
    en = cluster_popup_html(card(3), "en")
    assert "Cluster 3" in en and "4 proposals" in en and "Culture &amp; sport 3" in en and "KRW 18,000,000" in en
    assert cluster_tooltip(card(3), "en") == "Cluster 3 · 4 proposals · Culture &amp; sport"
    none = cluster_popup_html(card(3, cost_total_krw=None, cost_known=0, words=[], categories=[]), "en")
    assert "no estimates" in none and "Frequent words</b>: –" in none


def test_colours_are_fixed_by_label():
    assert cluster_colour(0) == PALETTE[0] and cluster_colour(len(PALETTE) + 2) == PALETTE[2]
    html = render(cluster_layer([card(0), card(1, count=9)], "en"))
    assert PALETTE[0] in html and PALETTE[1] in html
    assert cluster_layer([], "en").layer_name == "Proposal clusters" and cluster_layer([], "ko").layer_name == "제안 군집"
    assert render(cluster_layer([], "ko")).count("L.marker(") == 0
