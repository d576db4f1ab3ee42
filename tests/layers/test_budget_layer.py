"""The quota choropleth: classes, legend, escaped names and amounts."""
from __future__ import annotations

import folium
import geopandas as gpd
import pytest
from shapely.geometry import box

from layers.budget import quota_choropleth, quota_class, quota_legend_entries
from layers.legend import Legend
from planning.budget import QuotaStatus

XSS = "<img src=x onerror=alert(1)>`${alert(2)}`"


def districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adm_code": ["A", "B", "C", "D"], "name": ["행신1동", XSS, "화정1동", "주엽1동"]},
        geometry=[box(126.80, 37.60, 126.81, 37.61), box(126.81, 37.60, 126.82, 37.61), box(126.82, 37.60, 126.83, 37.61), box(126.83, 37.60, 126.84, 37.61)],
        crs=4326,
    )


@pytest.mark.parametrize(
    "quota, committed, key",
    [(0, 0, "no_quota"), (100, 0, "none"), (100, 49, "low"), (100, 50, "mid"), (100, 89, "mid"), (100, 90, "high"), (100, 100, "high")],
)
def test_classes_by_share_used(quota, committed, key):
    assert quota_class(quota, committed) == key


def test_choropleth_colours_districts_and_has_a_legend():
    status = {"A": QuotaStatus(100_000_000, 0, 100_000_000), "B": QuotaStatus(50_000_000, 45_000_000, 5_000_000), "C": (10, 3, 7)}
    group = quota_choropleth(districts(), status, "ko")
    assert isinstance(group, folium.FeatureGroup)
    assert isinstance(group.legend, Legend)
    m = folium.Map(location=[37.6, 126.8], zoom_start=12)
    group.add_to(m)
    group.legend.add_to(m)
    html = m.get_root().render()
    assert "#f7fbff" in html and "#08519c" in html and "#9ecae1" in html and "#d9d9d9" in html  # none, high, low, no quota
    assert "100,000,000" in html and "45,000,000" in html
    assert "한도액 사용 비율" in group.legend.html and "배정 없음" in group.legend.html
    # the hostile name is escaped in the tooltip: no raw tag, no template-literal breakout
    assert "<img src=x" not in html and "${alert(2)}" not in html
    assert "&lt;img src=x" in html


def test_english_labels_and_other_crs():
    frame = districts().to_crs(5186)
    group = quota_choropleth(frame, {}, "en")
    m = folium.Map()
    group.add_to(m)
    group.legend.add_to(m)
    html = m.get_root().render()
    assert "Share of quota used" in html and "no quota" in html
    assert "37.6" in html  # drawn back in longitude/latitude
    assert [e.label for e in quota_legend_entries("en")][-1] == "no quota"
