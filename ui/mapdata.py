"""Cached map inputs for the pages: nothing is re-read or re-projected on a rerun that a cache can keep.

Reference layers are cached for the process; proposals per snapped viewport
for a short time, and cleared at once after this session writes.
"""
from __future__ import annotations

import folium
import geopandas as gpd
import streamlit as st

from layers.basemap import BaseMapData, base_map_data, goyang_base_map, village_data
from layers.legend import Legend, OverlayLegend
from layers.proposals import legend_entries_for_proposals
from layers.rasters import RasterLayer, RasterRegistry, folium_overlay
from layers.rasters import legend_html as raster_legend_html
from planning.geography import centres_frame, districts_frame
from planning.i18n import t
from planning.proposals import map_frame
from planning.villages import villages_frame
from settings import get_settings, raster_dir
from ui.context import get_store


@st.cache_data(show_spinner=False, ttl=300)
def cached_base_map_data() -> BaseMapData:
    """Boundaries as GeoJSON, with the budget districts as stored (official or approximate)."""
    return base_map_data(districts_frame(get_store()))


@st.cache_data(show_spinner=False, ttl=60)
def cached_villages() -> dict:
    """Villages as GeoJSON (an admin may add some: a minute's cache, cleared on change)."""
    return village_data(villages_frame(get_store()))


@st.cache_data(show_spinner=False, ttl=60)
def hub_codes() -> frozenset[str]:
    """Codes of the hub centres (an admin may change them: a minute's cache, cleared on change)."""
    return frozenset(centres_frame(get_store(), hubs_only=True)["code"])


@st.cache_data(show_spinner=False, ttl=60)
def raster_layers() -> list[RasterLayer]:
    """The registered raster layers (an admin may add some: a minute's cache, cleared on change)."""
    return RasterRegistry(raster_dir()).list(("reference", "uploaded"))  # density rasters are the planners' (they include hidden proposals)


def base_map(lang: str) -> folium.Map:
    """The stable base map: boundaries, centres, hubs and raster overlays (proposals come as a feature group)."""
    s = get_settings()
    m = goyang_base_map(s.tiles, tiles_attr=s.tiles_attr, hub_codes=hub_codes(), data=cached_base_map_data(), villages=cached_villages())
    Legend(t("layer.proposals", lang), legend_entries_for_proposals(lang), position="bottomright").add_to(m)
    for layer in raster_layers():
        overlay = folium_overlay(layer, lang=lang, show=False).add_to(m)
        OverlayLegend(raster_legend_html(layer, lang), overlay, position="bottomright").add_to(m)
    return m


@st.cache_data(show_spinner=False, ttl=30, max_entries=256)
def proposals_in_view(bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    """Public proposals inside a snapped viewport (all of them before the map reported its bounds)."""
    return map_frame(get_store(), bbox=bbox)


def forget_proposals() -> None:
    """Drop cached proposals after a write, so the change shows at once."""
    proposals_in_view.clear()
