"""Cached map inputs for the pages: nothing is re-read or re-projected on a rerun that a cache can keep.

Every cache is keyed on the data versions of the tables it reads
(:meth:`store.Store.data_versions`, raised at commit by every writing
transaction of any process): a proposal submitted through another app
instance behind the same load balancer invalidates exactly the cached
proposals, and only them, at the next rerun. The versions themselves are
read at most once a second per process; a write from this session clears
that read at once (:func:`forget_proposals`, :func:`forget_reference`), so its
author sees the change on the very next rerun.
"""
from __future__ import annotations

import os

import folium
import geopandas as gpd
import streamlit as st

from layers.basemap import BaseMapData, base_map_data, goyang_base_map, village_data
from layers.legend import Legend, OverlayLegend
from layers.proposals import legend_entries_for_proposals
from layers.rasters import INDEX_NAME, RasterLayer, RasterRegistry, folium_overlay
from layers.rasters import legend_html as raster_legend_html
from planning.geography import centres_frame, districts_frame
from planning.i18n import t
from planning.proposals import MAP_TABLES, MapView, map_frame, map_view
from planning.villages import villages_frame
from settings import get_settings, raster_dir
from ui.context import get_store


@st.cache_data(show_spinner=False, ttl=1.0, max_entries=1)
def current_versions() -> dict[str, int]:
    """Every table's data version, read at most once a second (one small query)."""
    return dict(get_store().data_versions())


def versions(*tables: str) -> tuple[int, ...]:
    """The data versions of ``tables``: the cache key of whatever reads them."""
    now = current_versions()
    return tuple(now.get(name, 0) for name in tables)


@st.cache_data(show_spinner=False, max_entries=4)
def _base_map_data(version: tuple[int, ...]) -> BaseMapData:
    return base_map_data(districts_frame(get_store()))


def cached_base_map_data() -> BaseMapData:
    """Boundaries as GeoJSON, with the budget districts as stored (official or approximate)."""
    return _base_map_data(versions("districts"))


@st.cache_data(show_spinner=False, max_entries=4)
def _villages(version: tuple[int, ...]) -> dict:
    return village_data(villages_frame(get_store()))


def cached_villages() -> dict:
    """Villages as GeoJSON (an admin may add some)."""
    return _villages(versions("villages"))


@st.cache_data(show_spinner=False, max_entries=4)
def _hub_codes(version: tuple[int, ...]) -> frozenset[str]:
    return frozenset(centres_frame(get_store(), hubs_only=True)["code"])


def hub_codes() -> frozenset[str]:
    """Codes of the hub centres (an admin may change them)."""
    return _hub_codes(versions("centres"))


def _raster_index_version() -> tuple[str, int]:
    """The raster registry's index file, as it stands now (the registry lives on disk, shared by the instances)."""
    path = os.path.join(raster_dir(), INDEX_NAME)
    try:
        return path, os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return path, 0


@st.cache_data(show_spinner=False, max_entries=4)
def _raster_layers(version: tuple[str, int]) -> list[RasterLayer]:
    return RasterRegistry(raster_dir()).list(("reference", "uploaded"))  # density rasters are the planners' (they include hidden proposals)


def raster_layers() -> list[RasterLayer]:
    """The registered raster layers the public sees (an admin may add some)."""
    return _raster_layers(_raster_index_version())


def forget_reference() -> None:
    """After an admin's change to hubs, villages or rasters: read the versions again at once."""
    current_versions.clear()


def base_map(lang: str) -> folium.Map:
    """The stable base map: boundaries, centres, hubs and raster overlays (proposals come as a feature group)."""
    s = get_settings()
    m = goyang_base_map(s.tiles, tiles_attr=s.tiles_attr, hub_codes=hub_codes(), data=cached_base_map_data(), villages=cached_villages())
    Legend(t("layer.proposals", lang), legend_entries_for_proposals(lang), position="bottomright").add_to(m)
    for layer in raster_layers():
        overlay = folium_overlay(layer, lang=lang, show=False).add_to(m)
        OverlayLegend(raster_legend_html(layer, lang), overlay, position="bottomright").add_to(m)
    return m


@st.cache_data(show_spinner=False, max_entries=256)
def _view(bbox: tuple[float, float, float, float] | None, zoom: int, max_features: int, version: tuple[int, ...]) -> MapView:
    return map_view(get_store(), bbox, zoom, max_features=max_features)


@st.cache_data(show_spinner=False, max_entries=64)
def _selected(proposal_id: int, version: tuple[int, ...]) -> gpd.GeoDataFrame:
    return map_frame(get_store(), ids=[proposal_id])


def proposals_in_view(
    bbox: tuple[float, float, float, float] | None, zoom: float, *, max_features: int = 500, selected_id: int | None = None
) -> MapView:
    """The residents' map of a snapped viewport (:func:`planning.proposals.map_view`), cached on the data versions.

    In the clustered form the frame holds the selected proposal only (fetched
    and cached on its own, so selecting does not recount the view).
    """
    version = versions(*MAP_TABLES)
    view = _view(bbox, int(round(zoom)), max_features, version)
    if view.clusters is not None and selected_id is not None:
        return MapView(count=view.count, frame=_selected(int(selected_id), version), clusters=view.clusters)
    return view


def forget_proposals() -> None:
    """After this session wrote: read the versions again at once, so the change shows on the next rerun."""
    current_versions.clear()
