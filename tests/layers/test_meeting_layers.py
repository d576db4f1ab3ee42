"""The hub-area and agenda-item layers: coordinate order, escaping, refusals."""
import json
import re

import folium
import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from layers.meeting import agenda_item_layer, catchment_layer

LON, LAT = 126.8330, 37.6221
HOSTILE = "<img src=x onerror=alert(1)>${alert(2)}`"


def rendered(group) -> str:
    m = folium.Map(location=[LAT, LON], zoom_start=14, tiles=None)
    group.add_to(m)
    return m.get_root().render()


def test_catchment_is_drawn_lon_lat_in_geojson_and_lat_lon_for_the_hub():
    districts = gpd.GeoDataFrame({"code": ["4128164000"], "name": [HOSTILE]}, geometry=[box(LON - 0.01, LAT - 0.005, LON + 0.01, LAT + 0.005)], crs=4326)
    html = rendered(catchment_layer(districts, "권역", Point(LON, LAT), "행신2동 <b>센터</b>"))
    # GeoJSON keeps [lon, lat]; the marker is placed at [lat, lon]
    assert f"[{LON - 0.01}, {LAT - 0.005}]" in html.replace("\n", "")
    assert re.search(rf"L\.circleMarker\(\s*\[{LAT}, {LON}\]", html)
    assert "<img src=x" not in html and "${alert" not in html and "<b>센터" not in html


def test_agenda_item_members_are_escaped_and_placed_right():
    members = gpd.GeoDataFrame(
        {"id": [1, 2], "title": [HOSTILE, "숲길"], "category": ["environment", "urban"], "status": ["shortlisted", "adopted"]},
        geometry=[Point(LON, LAT), LineString([(LON, LAT), (LON + 0.001, LAT + 0.001)])],
        crs=4326,
    )
    html = rendered(agenda_item_layer(members, "안건 1"))
    assert re.search(rf"L\.circleMarker\(\s*\[{LAT}, {LON}\]", html)
    assert json.dumps([[LON, LAT], [LON + 0.001, LAT + 0.001]]).replace(" ", "") in html.replace(" ", "").replace("\n", "")
    assert "<img src=x" not in html and "${alert" not in html
    assert "&lt;img" in html or "\\u0026lt;img" in html


def test_frames_must_be_lon_lat_with_their_columns():
    with pytest.raises(ValueError, match="lacks columns"):
        agenda_item_layer(gpd.GeoDataFrame({"id": [1]}, geometry=[Point(LON, LAT)], crs=4326), "x")
    with pytest.raises(ValueError, match="EPSG:4326"):
        catchment_layer(gpd.GeoDataFrame({"code": ["1"], "name": ["a"]}, geometry=[Point(950000, 1950000)], crs=5179), "x")
