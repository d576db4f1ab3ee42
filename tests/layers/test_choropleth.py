"""Classed choropleths: classes that cover every value, legends with counts, escaped tooltips."""
import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.choropleth import (
    NO_VALUE_COLOUR,
    SCHEMES,
    ChoroplethRefused,
    classed_choropleth,
    classify,
)
from layers.escape import escape_map_text
from layers.legend import OverlayLegend

DATASETS = {
    "spread": np.random.default_rng(4).gamma(2.0, 3.0, 120),
    "ties": np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 9, 9, 30], dtype=float),
    "all_zero": np.zeros(44),
    "two_values": np.array([0.0, 5.0, 5.0, 0.0]),
    "with_nan": np.array([np.nan, 1.5, 2.5, np.nan, 7.0, 0.25]),
    "one": np.array([3.0]),
    "large": np.random.default_rng(5).lognormal(0, 1, 5000),
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("k", [1, 3, 5, 9])
def test_classes_cover_every_value_exactly_once(scheme, name, k):
    values = DATASETS[name]
    c = classify(values, scheme, k)
    finite = np.isfinite(values)
    assert c.missing == int((~finite).sum())
    assert len(c.classes) <= min(k, len(np.unique(values[finite])))
    assert sum(cl.count for cl in c.classes) == finite.sum()
    for v, i in zip(values, c.index):
        if not np.isfinite(v):
            assert i == -1
            continue
        holders = [j for j, cl in enumerate(c.classes) if cl.contains(v)]
        assert holders == [i], (v, holders, i)
    # classes run from the smallest to the largest value, upper edges increasing
    assert c.classes[0].lower == np.nanmin(values) and c.classes[-1].upper == np.nanmax(values)
    uppers = [cl.upper for cl in c.classes]
    assert uppers == sorted(uppers) and len(set(uppers)) == len(uppers)
    assert len({cl.colour for cl in c.classes}) == len(c.classes)


def test_quantiles_and_natural_breaks_split_where_expected():
    values = np.array([1, 2, 3, 4, 100, 101, 102, 103], dtype=float)
    jenks = classify(values, "natural_breaks", 2)
    assert [cl.count for cl in jenks.classes] == [4, 4] and jenks.classes[0].upper == 4
    q = classify(np.arange(1, 101, dtype=float), "quantiles", 4)
    assert [cl.count for cl in q.classes] == [25, 25, 25, 25]
    e = classify(np.array([0, 10, 20, 30, 40], dtype=float), "equal_interval", 4)
    assert [cl.upper for cl in e.classes] == [10, 20, 30, 40]


def test_all_missing_gives_no_classes():
    c = classify([np.nan, np.nan], "quantiles", 5)
    assert c.classes == () and c.missing == 2 and list(c.index) == [-1, -1]
    assert c.colour_of(-1) == NO_VALUE_COLOUR


@pytest.mark.parametrize(("kwargs", "code"), [({"scheme": "jenks"}, "bad_scheme"), ({"k": 0}, "bad_k"), ({"k": 10}, "bad_k"), ({"k": 2.5}, "bad_k")])
def test_bad_settings_are_refused(kwargs, code):
    with pytest.raises(ChoroplethRefused) as err:
        classify([1.0, 2.0], **kwargs)
    assert err.value.code == code and err.value.ko != err.value.en


def squares(values, names):
    geoms = [shapely.box(126.80 + 0.01 * i, 37.60, 126.81 + 0.01 * i, 37.61) for i in range(len(values))]
    return gpd.GeoDataFrame({"name": names, "per_1000": values}, geometry=geoms, crs=4326)


def test_map_layer_colours_each_area_by_its_class_and_escapes_names():
    nasty = "<script>alert(1)</script>${alert(2)}`"
    frame = squares([0.0, 1.0, 2.0, 8.0, np.nan], ["행신1동", nasty, "화정1동", "주교동", "빈곳"])
    group = classed_choropleth(frame, "per_1000", "quantiles", 3, "en", title="Proposals per 1,000 voters")
    assert isinstance(group, folium.FeatureGroup)
    c = group.classification
    assert sum(cl.count for cl in c.classes) == 4 and c.missing == 1
    geojson = next(iter(group._children.values()))
    feats = geojson.data["features"]
    assert [f["properties"]["fill"] for f in feats] == [c.colour_of(int(i)) for i in c.index]
    assert feats[4]["properties"]["fill"] == NO_VALUE_COLOUR and "no value" in feats[4]["properties"]["tip"]
    assert isinstance(group.legend, OverlayLegend)
    m = folium.Map(location=[37.6, 126.8], zoom_start=12, tiles=None)
    group.add_to(m)  # brings its legend, after the layer
    names = list(m._children)
    assert names.index(group.legend.get_name()) == names.index(group.get_name()) + 1
    group.legend.add_to(m)  # adding it again by hand does not show it twice
    assert sum(isinstance(c, OverlayLegend) for c in m._children.values()) == 1
    html = m.get_root().render()
    assert html.count("goyang-overlay-legend") == 1
    assert "<script>alert(1)" not in html and "${alert(2)}" not in html
    assert feats[1]["properties"]["tip"] == "&lt;script&gt;alert(1)&lt;/script&gt;&#36;{alert(2)}&#96;: Proposals per 1,000 voters 1"
    assert "`" not in html.split("alert(2)")[0][-40:]  # no raw backtick before the escaped payload
    # the legend lists every class with its count, and the missing area
    for cl in c.classes:
        assert escape_map_text(cl.label("en")) in group.legend.html
        assert f"({cl.count:,} area" in cl.label("en")
    assert "no value (1 area)" in group.legend.html
    assert "Proposals per 1,000 voters" in group.legend.html


def test_korean_labels_and_all_zero_data():
    frame = squares([0.0, 0.0, 0.0], ["가", "나", "다"])
    group = classed_choropleth(frame, "per_1000", "natural_breaks", 5, "ko", title="주민 천 명당 제안")
    (only,) = group.classification.classes
    assert only.label("ko") == "0 (3곳)"
    assert "0 (3곳)" in group.legend.html and "주민 천 명당 제안" in group.legend.html
    labels = classify(np.array([0.0, 1.0, 4.0, 4.0]), "equal_interval", 2).classes
    assert labels[0].label("ko") == "0 – 2 (2곳)" and labels[1].label("ko") == "2 초과 4 이하 (2곳)"
    assert labels[1].label("en") == "> 2 to 4 (2 areas)"
    assert classify([1.0, 2.0], "quantiles", 2).classes[0].label("en") == "1 – 1.5 (1 area)"


def test_other_crs_and_missing_columns():
    frame = squares([1.0, 2.0], ["a", "b"]).to_crs(5179)
    group = classed_choropleth(frame, "per_1000", k=2, name_column=None)
    feats = next(iter(group._children.values())).data["features"]
    x, y = feats[0]["geometry"]["coordinates"][0][0]
    assert 126 < x < 127 and 37 < y < 38  # drawn in lon/lat
    with pytest.raises(ChoroplethRefused) as err:
        classed_choropleth(frame, "nope")
    assert err.value.code == "bad_column"
    with pytest.raises(ChoroplethRefused):
        classed_choropleth(frame, "per_1000", name_column="nope")
