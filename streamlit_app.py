"""고양시 주민참여 지도: placeholder entry page showing the offline base map.

Thin by design: data and map building live in ``layers``; configuration in ``settings``.
"""
from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from layers.assets import AssetsMissing, use_local_assets
from layers.basemap import BaseMapData, base_map_data, goyang_base_map
from settings import get_settings

st.set_page_config(page_title="고양시 주민참여 지도", page_icon="🗺️", layout="wide")


@st.cache_data(show_spinner=False)
def cached_base_map_data() -> BaseMapData:
    """Boundaries as GeoJSON, built once per process (a rerun does not rebuild them)."""
    return base_map_data()


st.title("고양시 주민참여 지도")
st.markdown(
    "우리 동네에 필요한 일을 지도 위에서 제안하고 함께 정해요.  \n"
    "*Goyang community-planning map: propose and decide together what your neighbourhood needs.*"
)

try:
    use_local_assets()  # folium must load Leaflet & co. from /app/static, never from a CDN
except AssetsMissing as exc:
    st.error(str(exc))
    st.stop()

settings = get_settings()
base_map = goyang_base_map(settings.tiles, tiles_attr=settings.tiles_attr, data=cached_base_map_data())
st_folium(base_map, returned_objects=[], use_container_width=True, height=600)
