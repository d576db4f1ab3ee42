"""The proposals layer of the residents' map, sent as a ``folium.FeatureGroup``.

The page passes the group to ``st_folium(..., feature_group_to_add=...)`` so
the base map (and with it the component's iframe, its view and any unsaved
drawing) stays the same while proposals change; see ``STACK-NOTES.md``.

Two forms, chosen by :func:`proposal_layer`:

* **features** (at most ``max_features`` proposals): one GeoJSON layer, styled
  by category colour (``data/categories.csv``) and status (:func:`status_style`),
  points as ``L.circleMarker``; a tooltip ``#<id> <title>`` (read back by
  :func:`clicked_proposal_id`) and a small popup;
* **clusters** (more than ``max_features``): proposals counted on a square
  grid in EPSG:5179 whose cell is about ``cluster_px`` screen pixels at the
  given zoom; one circle per non-empty cell, sized by its count, with the
  count as label. The payload depends on the number of cells, not of proposals.

The selected proposal is drawn with a halo in both forms (and in full on top
of the clusters).

Payload: the whole group is re-sent on every rerun, so the GeoJSON carries
short properties (``i`` id, ``k`` style index, ``t`` title, ``n`` supports,
``m`` comments, ``d`` demo) and the browser builds tooltip and popup from
them and from small label tables; coordinates are rounded to a quarter pixel
and lines/polygons simplified to half a pixel at the given zoom
(:func:`coord_decimals`), and titles are cut at ``TITLE_MAX_CHARS``.

Escaping: every text from data (titles, and category/status codes and labels)
goes through :func:`layers.escape.escape_map_text` in Python; the browser
inserts only those escaped strings, our own markup and integers. JSON is
embedded with ``<``, ``>``, ``&``, ``'`` and U+2028/2029 escaped.

Renderer: SVG by default. A canvas renderer is available (``renderer="canvas"``)
for maps without other interactive layers: a canvas in a pane above the
boundary panes swallows every pointer event, so the boundaries below would
lose their tooltips (Leaflet issues #4135, #4378, #5886).

Privacy: a feature carries only ``i t k n m d`` (and a cluster only its
position and count): never an author's name, account id or home dong, whatever
other columns the frame has.

Coordinates: GeoJSON stays ``[lon, lat]``; cluster positions are ``[lat, lon]``
(through :func:`geo.crs.folium_latlon`). Grid cells and simplification are
computed in metres through :mod:`geo.crs`.
"""
from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geo.crs import folium_latlon, metric_to_lonlat, to_metric, to_storage
from geo.grid import coarsen, lonlat_grid_sums
from layers.escape import escape_map_text
from layers.legend import LegendEntry
from planning.categories import categories
from planning.i18n import t

#: Columns the layer reads (``kind`` and ``cost_krw`` of the proposals frame may be there too; they are not drawn).
REQUIRED_COLUMNS = ("id", "title", "category", "status", "is_demo", "supports", "comments", "geometry")

PANE_PROPOSALS = "goyang-proposals"
PANE_HALO = "goyang-proposal-halo"
# Above every boundary pane of layers.basemap (410-440), below the community
# centres (450): the 44 small centre dots stay hoverable on top of proposals.
Z_PROPOSALS = 446
Z_HALO = 445

COORD_DECIMALS = 6  # cluster positions; GeoJSON uses coord_decimals(zoom)
TITLE_MAX_CHARS = 80  # longer titles are cut for the map (the card shows them whole)
SIMPLIFY_PX = 0.5  # Leaflet itself simplifies at 1 px (smoothFactor): half a pixel is invisible
WEB_MERCATOR_M_PER_PX_Z0 = 156_543.033_928_040_97  # ground metres per pixel at zoom 0, on the equator
GOYANG_LAT = 37.66  # latitude used for pixel sizes when the frame is empty

UNKNOWN_CATEGORY_COLOUR = "#444444"
GREY = "#9e9e9e"
GREY_FILL = "#cfcfcf"
CLUSTER_COLOUR = "#08306b"
CLUSTER_FILL = "#2171b5"
HALO_COLOUR = "#ffd400"

Renderer = Literal["svg", "canvas"]

# Texts the message catalogue (planning.i18n) does not have yet.
_TEXTS: dict[str, tuple[str, str]] = {
    "cluster.tooltip": ("제안 {n}건 · 클릭하면 확대", "{n} proposals · click to zoom in"),
    "legend.cluster": ("제안 묶음 (수)", "Group of proposals (count)"),
}


def _text(key: str, lang: str) -> str:
    ko, en = _TEXTS[key]
    return en if lang == "en" else ko


# ---------------------------------------------------------------------------
# Styles
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusStyle:
    """How a status changes a proposal's look (on top of its category colour).

    Attributes
    ----------
    dash_array : str or None
        SVG dash pattern of the outline (``None``: solid).
    weight, opacity, fill_opacity : float
        Outline width (px), outline and fill opacity.
    grey : bool
        Fill in grey instead of the category colour (closed or set-aside
        proposals); the outline keeps the category colour, faded.
    ring : str or None
        Points: outline ("ring") colour instead of white.
    point_radius, point_weight : float
        Points: circle radius and ring width (px).
    """

    dash_array: str | None = None
    weight: float = 2.0
    opacity: float = 0.9
    fill_opacity: float = 0.35
    grey: bool = False
    ring: str | None = None
    point_radius: float = 6.0
    point_weight: float = 1.5


# In display order; the keys are the workflow's statuses (labels: "status.<key>" in planning.i18n).
_STATUS_STYLES: dict[str, StatusStyle] = {
    "submitted": StatusStyle(),
    "under_review": StatusStyle(dash_array="6 4"),
    "field_verified": StatusStyle(dash_array="10 3 2 3", weight=2.5),
    "shortlisted": StatusStyle(weight=3.5, fill_opacity=0.45, point_radius=7.0, point_weight=2.0),
    "adopted": StatusStyle(weight=4.0, fill_opacity=0.5, ring="#111111", point_radius=8.0, point_weight=3.5),
    "rejected": StatusStyle(weight=1.5, opacity=0.6, fill_opacity=0.3, grey=True, point_radius=5.0),
    "withdrawn": StatusStyle(dash_array="1 4", weight=1.5, opacity=0.5, fill_opacity=0.15, grey=True, point_radius=4.0),
    "merged": StatusStyle(dash_array="4 4", weight=1.5, opacity=0.5, fill_opacity=0.15, grey=True, point_radius=4.0),
}
DEFAULT_STATUS = "submitted"


def status_style() -> dict[str, StatusStyle]:
    """The status → :class:`StatusStyle` table, in display order (a copy).

    An unknown status is drawn like ``"submitted"``.
    """
    return dict(_STATUS_STYLES)


def category_colours() -> dict[str, str]:
    """Category code → hex colour, from ``data/categories.csv``."""
    return {c.code: c.colour for c in categories()}


def proposal_style(category: str, status: str, *, point: bool = False) -> dict[str, Any]:
    """Leaflet path options of a proposal of ``category`` in ``status``.

    Parameters
    ----------
    category : str
        Category code (``data/categories.csv``); unknown codes are dark grey.
    status : str
        Workflow status (keys of :func:`status_style`); unknown statuses look
        like ``"submitted"``.
    point : bool
        Options for an ``L.circleMarker`` (radius, white or dark ring) rather
        than for a line or polygon.
    """
    colour = category_colours().get(category, UNKNOWN_CATEGORY_COLOUR)
    s = _STATUS_STYLES.get(status, _STATUS_STYLES[DEFAULT_STATUS])
    fill = GREY_FILL if s.grey else colour
    if point:
        style: dict[str, Any] = {
            "radius": s.point_radius,
            "color": s.ring or ("#ffffff" if not s.grey else GREY),
            "weight": s.point_weight,
            "opacity": 1.0 if not s.grey else s.opacity,
            "fillColor": fill,
            "fillOpacity": 0.9 if not s.grey else 0.7,
        }
    else:
        style = {
            "color": s.ring or colour,
            "weight": s.weight,
            "opacity": s.opacity,
            "fillColor": fill,
            "fillOpacity": s.fill_opacity,
        }
    if s.dash_array and not point:
        style["dashArray"] = s.dash_array
    return style


def _halo_style(point: bool) -> dict[str, Any]:
    if point:
        return {"radius": 14, "color": HALO_COLOUR, "weight": 5, "opacity": 0.95, "fill": False}
    return {"color": HALO_COLOUR, "weight": 10, "opacity": 0.8, "fill": False, "lineCap": "round", "lineJoin": "round"}


def legend_entries_for_proposals(lang: str = "ko") -> list[LegendEntry]:
    """Legend rows for the proposals layer: the categories, then the main statuses and the clusters.

    Statuses that look alike share a row (under review / field-verified;
    rejected / withdrawn / merged). Labels come from ``planning.i18n`` and
    ``data/categories.csv``; :class:`layers.legend.Legend` escapes them.
    """
    rows = [LegendEntry(c.label(lang), c.colour, "area", fill=c.colour) for c in categories()]
    neutral, neutral_fill = "#555555", "#bdbdbd"

    def label(*statuses: str) -> str:
        return " · ".join(t(f"status.{s}", lang) for s in statuses)

    rows += [
        LegendEntry(label("submitted"), neutral, "area", fill=neutral_fill),
        LegendEntry(label("under_review", "field_verified"), neutral, "area", fill=neutral_fill, dashed=True),
        LegendEntry(label("shortlisted", "adopted"), _STATUS_STYLES["adopted"].ring or neutral, "hub", fill=neutral_fill),
        LegendEntry(label("rejected", "withdrawn", "merged"), GREY, "area", fill=GREY_FILL),
        LegendEntry(_text("legend.cluster", lang), CLUSTER_COLOUR, "hub", fill=CLUSTER_FILL),
    ]
    return rows


# ---------------------------------------------------------------------------
# JSON for the map script
# ---------------------------------------------------------------------------

_JS_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _js_json(obj: Any) -> str:
    """Compact JSON that is safe inside a ``<script>`` (UTF-8 kept: Korean is 3 bytes, not 6)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(_JS_UNSAFE)


def _map_name(element: MacroElement) -> str:
    node = element._parent
    while node is not None and not isinstance(node, folium.Map):
        node = node._parent
    if node is None:
        raise ValueError("add the proposals layer to a folium.Map before rendering it")
    return node.get_name()


# Shared by both elements: creates a pane once per map (a rerun re-evaluates the
# group's script on the same map) and drops groups streamlit-folium removed
# from the map but keeps in window.feature_group (it never empties that list).
_JS_PRELUDE = """
        var map = {{ this.map_name }};
        var pane = map.getPane({{ this.pane|tojson }}) || map.createPane({{ this.pane|tojson }});
        pane.style.zIndex = {{ this.z_index|tojson }};
        if (Array.isArray(window.feature_group)) {
            window.feature_group = window.feature_group.filter(function (g) { return map.hasLayer(g); });
        }
        var renderer;
        {%- if this.renderer == "canvas" %}
        map._goyangCanvas = map._goyangCanvas || {};
        renderer = map._goyangCanvas[{{ this.pane|tojson }}] =
            map._goyangCanvas[{{ this.pane|tojson }}] || L.canvas({pane: {{ this.pane|tojson }}, padding: 0.3});
        {%- endif %}
"""


class ProposalGeoJson(MacroElement):
    """Proposals as one ``L.geoJSON`` layer (tooltip, popup, hover) or as the selection's halo.

    Add it to the group of :func:`proposal_layer`; ``data`` is a GeoJSON
    FeatureCollection with the short properties described in the module
    docstring, ``config`` the label and style tables.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {"""
        + _JS_PRELUDE
        + """
        var cfg = {{ this.config_json }};
        var data = {{ this.data_json }};
        function props(l) { return (l && l.feature && l.feature.properties) || {}; }
        function isPoint(f) { return !!(f && f.geometry && /Point$/.test(f.geometry.type)); }
        function combo(f) { return cfg.combos[(f.properties || {}).k] || cfg.combos[0]; }
        function styleOf(f) {
            if (cfg.halo) { return isPoint(f) ? cfg.haloPoint : cfg.haloPath; }
            return combo(f)[isPoint(f) ? 3 : 2];
        }
        var layer = L.geoJSON(data, {
            pane: cfg.pane,
            renderer: renderer,
            interactive: !cfg.halo,
            style: styleOf,
            pointToLayer: function (f, latlng) {
                var m = L.circleMarker(latlng, Object.assign({pane: cfg.pane, renderer: renderer, interactive: !cfg.halo}, styleOf(f)));
                m.feature = f;  // MultiPoint parts too: tooltip and popup read the feature from the clicked part
                return m;
            },
            onEachFeature: cfg.halo ? null : function (f, l) {
                l.on("mouseover", function () {
                    var s = styleOf(f);
                    l.setStyle({weight: (s.weight || 2) + 2, fillOpacity: Math.min(1, (s.fillOpacity || 0.3) + 0.2)});
                });
                l.on("mouseout", function () { layer.resetStyle(l); });
            }
        });
        if (!cfg.halo) {
            // A rerun replaces the whole group (a new selection, new bounds): remember an open
            // popup when its layer is removed (this handler runs before the popup's own), and
            // open it again on the new layer, so a click does not lose its popup to the rerun.
            layer.on("remove", function () {
                if (layer.isPopupOpen()) {
                    var pop = layer.getPopup();
                    map._goyangReopen = {i: props(pop._source).i, latlng: pop.getLatLng()};
                }
            });
            layer.once("add", function () {
                var again = map._goyangReopen, target = null;
                map._goyangReopen = null;
                if (!again) { return; }
                layer.eachLayer(function (l) { if (props(l).i === again.i) { target = l; } });
                if (target) { layer.getPopup()._source = target; layer.openPopup(again.latlng); }
            });
            layer.bindTooltip(function (l) {
                var p = props(l), div = document.createElement("div");
                div.innerHTML = "<b>#" + p.i + "</b> " + p.t;
                return div;
            }, {sticky: true, className: "goyang-proposal-tooltip"});
            layer.bindPopup(function (l) {
                var p = props(l), c = combo(l.feature || {}), cat = cfg.cats[c[0]], st = cfg.stats[c[1]];
                var div = document.createElement("div");
                div.className = "goyang-proposal-popup";
                div.innerHTML =
                    '<div style="font-weight:600;margin-bottom:3px">#' + p.i + " " + p.t + "</div>" +
                    '<div><span style="display:inline-block;width:10px;height:10px;border-radius:2px;background:' + cat[1] +
                    ';margin-right:4px"></span>' + cfg.text.category + ": " + cat[0] + "</div>" +
                    "<div>" + cfg.text.status.split("{status}").join(st) + "</div>" +
                    "<div>" + cfg.text.supports.split("{n}").join(String(p.n || 0)) + " · " +
                    cfg.text.comments.split("{n}").join(String(p.m || 0)) + "</div>" +
                    (p.d ? '<div><span class="goyang-demo-badge" style="display:inline-block;margin-top:3px;padding:0 5px;' +
                        'border-radius:3px;background:#fff3bf;color:#7a5d00;font-size:11px">' + cfg.text.demo + "</span></div>" : "");
                return div;
            }, {maxWidth: 280, className: "goyang-proposal-popup-container"});
        }
        layer.addTo({{ this._parent.get_name() }});
        return layer;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict[str, Any],
        config: dict[str, Any],
        *,
        pane: str = PANE_PROPOSALS,
        z_index: int = Z_PROPOSALS,
        renderer: Renderer = "svg",
    ):
        super().__init__()
        self._name = "ProposalGeoJson"
        self.data = data
        self.config = config
        self.pane = pane
        self.z_index = z_index
        self.renderer = renderer

    @property
    def map_name(self) -> str:
        return _map_name(self)

    @property
    def data_json(self) -> str:
        return _js_json(self.data)

    @property
    def config_json(self) -> str:
        return _js_json({**self.config, "pane": self.pane})


class ProposalClusters(MacroElement):
    """Grid clusters: one circle per cell sized by its count, with the count as label.

    ``points`` holds ``[lat, lon, count, radius_px, label]`` per cluster.
    A click zooms in by two levels around the cluster.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {"""
        + _JS_PRELUDE
        + """
        if (!document.getElementById("goyang-cluster-css")) {
            var css = document.createElement("style");
            css.id = "goyang-cluster-css";
            css.textContent = ".goyang-cluster-label{display:flex;align-items:center;justify-content:center;" +
                "font:600 11px/1 system-ui,sans-serif;color:#fff;text-shadow:0 0 2px rgba(0,0,0,.7);pointer-events:none}";
            document.head.appendChild(css);
        }
        var cfg = {{ this.config_json }};
        var group = L.featureGroup();
        {{ this.points_json }}.forEach(function (d) {
            var circle = L.circleMarker([d[0], d[1]], Object.assign({pane: cfg.pane, renderer: renderer, radius: d[3]}, cfg.style));
            circle.bindTooltip(cfg.tooltip.split("{n}").join(d[4]), {className: "goyang-cluster-tooltip"});
            circle.on("click", function (e) {
                var max = map.getMaxZoom();
                map.setView(e.latlng, Math.min(map.getZoom() + 2, isFinite(max) ? max : 19));
            });
            circle.addTo(group);
            L.marker([d[0], d[1]], {
                pane: cfg.pane, interactive: false, keyboard: false,
                icon: L.divIcon({className: "goyang-cluster-label", html: d[4], iconSize: [48, 16], iconAnchor: [24, 8]})
            }).addTo(group);
        });
        group.addTo({{ this._parent.get_name() }});
        return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, points: list[list[Any]], config: dict[str, Any], *, renderer: Renderer = "svg"):
        super().__init__()
        self._name = "ProposalClusters"
        self.points = points
        self.config = config
        self.pane = PANE_PROPOSALS
        self.z_index = Z_PROPOSALS
        self.renderer = renderer

    @property
    def map_name(self) -> str:
        return _map_name(self)

    @property
    def points_json(self) -> str:
        return _js_json(self.points)

    @property
    def config_json(self) -> str:
        return _js_json({**self.config, "pane": self.pane})


# ---------------------------------------------------------------------------
# Building the layer
# ---------------------------------------------------------------------------


def metres_per_pixel(zoom: float, lat: float = GOYANG_LAT) -> float:
    """Ground metres per screen pixel of a web-mercator map at ``zoom`` and latitude ``lat``."""
    return WEB_MERCATOR_M_PER_PX_Z0 * math.cos(math.radians(lat)) / 2.0**zoom


def cluster_cell_m(zoom: float, lat: float = GOYANG_LAT, cluster_px: float = 40.0) -> float:
    """Side of a cluster cell in metres (EPSG:5179): ``cluster_px`` pixels at ``zoom``."""
    return cluster_px * metres_per_pixel(zoom, lat)


def _check_frame(frame: gpd.GeoDataFrame) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError("proposal_layer expects a GeoDataFrame")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the proposals frame lacks columns: {', '.join(missing)}")
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError("the proposals frame must be in EPSG:4326 (lon/lat)")


def _int(value: Any, default: int = 0) -> int:
    try:
        if value is None or pd.isna(value):
            return default
        return int(value)
    except (TypeError, ValueError):
        return default


def _label_tables(frame: pd.DataFrame, lang: str) -> tuple[list[list[str]], list[str], list[list[Any]], np.ndarray]:
    """Category rows ``[label, colour]``, status labels, the style combinations present, and each row's combination.

    A combination is ``[category row, status row, path style, point style]``,
    one per (category, status) pair in ``frame``; unknown codes get a row
    of their own (their code, escaped, as label).
    """
    cats = list(categories())
    cat_index = {c.code: i for i, c in enumerate(cats)}
    cat_rows = [[escape_map_text(c.label(lang)), c.colour] for c in cats]
    stat_index = {s: i for i, s in enumerate(_STATUS_STYLES)}
    stat_rows = [escape_map_text(t(f"status.{s}", lang)) for s in _STATUS_STYLES]

    cat_codes = frame["category"].astype("string").fillna("").to_numpy(dtype=object)
    stat_codes = frame["status"].astype("string").fillna("").to_numpy(dtype=object)
    for code in dict.fromkeys(cat_codes):
        if code not in cat_index:
            cat_index[code] = len(cat_rows)
            cat_rows.append([escape_map_text(code), UNKNOWN_CATEGORY_COLOUR])
    for code in dict.fromkeys(stat_codes):
        if code not in stat_index:
            stat_index[code] = len(stat_rows)
            stat_rows.append(escape_map_text(code))

    combos: list[list[Any]] = []
    combo_index: dict[tuple[str, str], int] = {}
    keys = np.empty(len(frame), dtype=np.int64)
    for row, pair in enumerate(zip(cat_codes, stat_codes)):
        k = combo_index.get(pair)
        if k is None:
            k = combo_index[pair] = len(combos)
            combos.append(
                [cat_index[pair[0]], stat_index[pair[1]], proposal_style(*pair), proposal_style(*pair, point=True)]
            )
        keys[row] = k
    return cat_rows, stat_rows, combos, keys


def _popup_texts(lang: str) -> dict[str, str]:
    return {
        "category": escape_map_text(t("form.category", lang)),
        "status": escape_map_text(t("card.status", lang, status="{status}")),
        "supports": escape_map_text(t("card.supports", lang, n="{n}")),
        "comments": escape_map_text(t("card.comments", lang, n="{n}")),
        "demo": escape_map_text(t("card.demo", lang)),
    }


def coord_decimals(zoom: float) -> int:
    """Decimals of lon/lat degrees that keep rounding under a quarter pixel at ``zoom`` (4 to 7)."""
    deg_per_px = 360.0 / (256.0 * 2.0**zoom)
    return int(min(7, max(4, math.ceil(-math.log10(0.5 * deg_per_px)))))


def _simplified(geoms: np.ndarray, zoom: float, lat: float) -> np.ndarray:
    """Lines and polygons simplified to half a pixel at ``zoom`` (in metres), coordinates rounded."""
    out = geoms.copy()
    tol_m = SIMPLIFY_PX * metres_per_pixel(zoom, lat)
    shaped = ~shapely.is_empty(out) & (shapely.get_type_id(out) != 0) & (shapely.get_type_id(out) != 4)
    if tol_m >= 0.5 and shaped.any():
        metric = shapely.simplify(to_metric(out[shaped]), tol_m, preserve_topology=True)
        out[shaped] = to_storage(metric)
    decimals = coord_decimals(zoom)
    return shapely.transform(out, lambda c: np.round(c, decimals))


def _short_title(title: Any) -> str:
    if title is None or (isinstance(title, float) and math.isnan(title)):
        return ""
    text = str(title)
    return text if len(text) <= TITLE_MAX_CHARS else text[: TITLE_MAX_CHARS - 1].rstrip() + "…"


def _features(frame: gpd.GeoDataFrame, keys: np.ndarray, zoom: float, lat: float) -> dict[str, Any]:
    geoms = _simplified(np.asarray(frame.geometry.values, dtype=object), zoom, lat)
    geo_json = shapely.to_geojson(geoms)
    ids = frame["id"].to_numpy()
    titles = frame["title"].to_numpy(dtype=object)
    supports = frame["supports"].to_numpy(dtype=object)
    comments = frame["comments"].to_numpy(dtype=object)
    demo = frame["is_demo"].to_numpy(dtype=object)
    features = []
    for i in range(len(frame)):
        pid = int(ids[i])
        props: dict[str, Any] = {"i": pid, "k": int(keys[i]), "t": escape_map_text(_short_title(titles[i]))}
        n, m = _int(supports[i]), _int(comments[i])
        if n:
            props["n"] = n
        if m:
            props["m"] = m
        if _int(demo[i]):
            props["d"] = 1
        features.append({"type": "Feature", "properties": props, "geometry": json.loads(geo_json[i])})
    return {"type": "FeatureCollection", "features": features}


def _cluster_label(n: int) -> str:
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    return f"{n // 1000}k"


def cluster_points(
    geoms: np.ndarray, zoom: float, *, cluster_px: float = 40.0, max_clusters: int = 2000
) -> list[list[Any]]:
    """Grid clusters of lon/lat geometries: ``[lat, lon, count, radius_px, label]`` per non-empty cell.

    Parameters
    ----------
    geoms : array of shapely geometries
        EPSG:4326. Each counts once, at its representative point
        (``shapely.point_on_surface``); empty or missing geometries are skipped.
    zoom : float
        Map zoom the cells are sized for (``cluster_px`` pixels a side).
    cluster_px : float
        Cell side in screen pixels.
    max_clusters : int
        Upper bound on the number of clusters: the cell side doubles until
        the count fits, so the payload stays bounded at any zoom.

    Notes
    -----
    Cells are squares of a fixed grid in EPSG:5179 (:mod:`geo.grid`, anchored
    at the CRS origin, so panning does not move them); a cluster sits at the
    mean of its members' points, largest clusters first.
    """
    geoms = np.asarray(geoms, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not keep.any():
        return []
    reps = shapely.point_on_surface(geoms[keep])
    lon, lat = shapely.get_x(reps), shapely.get_y(reps)
    cell = cluster_cell_m(zoom, float(np.median(lat)), cluster_px)
    return clusters_from_cells(lonlat_grid_sums(lon, lat, cell), max_clusters=max_clusters)


def clusters_from_cells(cells: np.ndarray, *, max_clusters: int = 2000) -> list[list[Any]]:
    """``[lat, lon, count, radius_px, label]`` per cell of grid sums (:func:`geo.grid.grid_sums`), largest first.

    Cells are merged into cells of twice the side (:func:`geo.grid.coarsen`)
    until at most ``max_clusters`` remain; a cluster sits at the mean of its
    members' points. The sums may come from numpy or from the database
    (``tx.proposals.grid_cells``): both give the same clusters.
    """
    cells = np.asarray(cells, dtype=float).reshape(-1, 5)
    while len(cells) > max(1, max_clusters):
        cells = coarsen(cells)
    if not len(cells):
        return []
    counts = cells[:, 2]
    clon, clat = metric_to_lonlat(cells[:, 3] / counts, cells[:, 4] / counts)
    order = np.lexsort((cells[:, 1], cells[:, 0], -counts))
    points = []
    for c in order:
        n = int(counts[c])
        radius = round(min(20.0, 8.0 + 4.0 * math.log10(n)), 1)
        lat_lon = [round(v, COORD_DECIMALS) for v in folium_latlon(clon[c], clat[c])]
        points.append([*lat_lon, n, radius, _cluster_label(n)])
    return points


def _in_bounds(frame: gpd.GeoDataFrame, bounds: Sequence[float], margin: float) -> np.ndarray:
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not (minx <= maxx and miny <= maxy):
        raise ValueError("bounds must be (min lon, min lat, max lon, max lat)")
    dx, dy = (maxx - minx) * margin, (maxy - miny) * margin
    b = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
    return (b[:, 0] <= maxx + dx) & (b[:, 2] >= minx - dx) & (b[:, 1] <= maxy + dy) & (b[:, 3] >= miny - dy)


def proposal_layer(
    frame: gpd.GeoDataFrame,
    *,
    zoom: float,
    lang: str = "ko",
    max_features: int = 1500,
    selected_id: int | None = None,
    bounds: Sequence[float] | None = None,
    bounds_margin: float = 0.25,
    cluster_px: float = 40.0,
    max_clusters: int = 2000,
    renderer: Renderer = "svg",
    clusters: list[list[Any]] | None = None,
) -> folium.FeatureGroup:
    """The proposals as a ``folium.FeatureGroup`` for ``st_folium(feature_group_to_add=...)``.

    Parameters
    ----------
    frame : GeoDataFrame
        EPSG:4326 with the columns of :data:`REQUIRED_COLUMNS` (``id, title,
        category, status, is_demo, supports, comments, geometry``; others such
        as ``kind`` and ``cost_krw`` are ignored), geometries Point, LineString,
        Polygon and their Multi forms. Rows without geometry are skipped.
    zoom : float
        The map's current zoom (``st_folium(...)["zoom"]``): sets the cluster
        cell and the simplification tolerance.
    lang : {"ko", "en"}
        Language of labels, tooltips and popups.
    max_features : int
        Up to this many proposals (after the ``bounds`` filter) are drawn one by
        one; above it they are aggregated into grid clusters.
    selected_id : int, optional
        Proposal to highlight (halo); drawn in full even when the rest is clustered.
    bounds : (min lon, min lat, max lon, max lat), optional
        The visible area (``st_folium(...)["bounds"]``, converted to lon/lat):
        proposals whose bounding box misses it, widened by ``bounds_margin`` of
        its size on each side, are left out. Without it the whole frame is used.
    cluster_px, max_clusters : float, int
        Cluster cell side in pixels, and the most clusters sent (see :func:`cluster_points`).
    renderer : {"svg", "canvas"}
        ``"canvas"`` only on maps without interactive layers below (see the module docstring).
    clusters : list, optional
        Clusters already counted (:func:`clusters_from_cells`, e.g. by the
        database when the view holds too many proposals to fetch): drawn as
        the clustered form; ``frame`` then only needs the selected proposal.

    Returns
    -------
    folium.FeatureGroup
        Named after the layer (escaped). Build a new one on every run.
    """
    _check_frame(frame)
    if not isinstance(zoom, (int, float)) or not 0 <= zoom <= 24:
        raise ValueError(f"zoom must be a number between 0 and 24, not {zoom!r}")
    if max_features < 0:
        raise ValueError("max_features must not be negative")
    if renderer not in ("svg", "canvas"):
        raise ValueError("renderer must be 'svg' or 'canvas'")

    present = ~(frame.geometry.isna() | frame.geometry.is_empty)
    if frame["id"].isna().any():
        raise ValueError("every proposal needs an id")
    frame = frame[present.to_numpy()]
    selected = frame[frame["id"] == selected_id] if selected_id is not None else frame.iloc[0:0]
    shown = frame[_in_bounds(frame, bounds, bounds_margin)] if bounds is not None else frame
    if len(shown):
        b = shapely.bounds(np.asarray(shown.geometry.values, dtype=object))
        lat = float(np.median((b[:, 1] + b[:, 3]) / 2))
    else:
        lat = GOYANG_LAT

    group = folium.FeatureGroup(name=escape_map_text(t("layer.proposals", lang)), overlay=True, control=True, show=True)
    cat_rows, stat_rows, combos, keys = _label_tables(pd.concat([shown, selected]), lang)
    config = {"cats": cat_rows, "stats": stat_rows, "combos": combos, "text": _popup_texts(lang), "halo": False}
    shown_keys, selected_keys = keys[: len(shown)], keys[len(shown):]

    if len(selected):
        halo = {
            "combos": [[0, 0, {}, {}]],
            "halo": True,
            "haloPath": _halo_style(False),
            "haloPoint": _halo_style(True),
        }
        halo_data = _features(selected, np.zeros(len(selected), dtype=np.int64), zoom, lat)
        for f in halo_data["features"]:
            f["properties"] = {"i": f["properties"]["i"]}  # the halo needs no text
        ProposalGeoJson(halo_data, halo, pane=PANE_HALO, z_index=Z_HALO, renderer=renderer).add_to(group)

    if clusters is None and len(shown) <= max_features:
        # the selection is drawn even when it lies outside the bounds
        extra = ~selected["id"].isin(shown["id"]).to_numpy()
        drawn = pd.concat([shown, selected[extra]]) if extra.any() else shown
        if len(drawn):
            drawn_keys = np.concatenate([shown_keys, selected_keys[extra]])
            ProposalGeoJson(_features(drawn, drawn_keys, zoom, lat), config, renderer=renderer).add_to(group)
        return group

    cluster_config = {
        "tooltip": escape_map_text(_text("cluster.tooltip", lang)),
        "style": {"color": "#ffffff", "weight": 2, "opacity": 1, "fillColor": CLUSTER_FILL, "fillOpacity": 0.85},
    }
    points = clusters if clusters is not None else cluster_points(shown.geometry.values, zoom, cluster_px=cluster_px, max_clusters=max_clusters)
    ProposalClusters(points, cluster_config, renderer=renderer).add_to(group)
    if len(selected):
        ProposalGeoJson(_features(selected, selected_keys, zoom, lat), config, renderer=renderer).add_to(group)
    return group


# ---------------------------------------------------------------------------
# Reading st_folium's answer, measuring the payload
# ---------------------------------------------------------------------------

_CLICKED_ID = re.compile(r"#(\d{1,18})(?=\s|$)")
_SPACES = re.compile(r"[\s\u00a0\u200b\ufeff]+")


def clicked_proposal_id(st_folium_result: Mapping[str, Any] | None) -> int | None:
    """The id of the proposal last clicked on the map, or ``None``.

    Reads ``last_object_clicked_tooltip`` of ``st_folium``'s answer (the
    tooltip's text, ``"#<id> <title>"``); ``last_object_clicked_popup`` only
    when the answer has no tooltip key (``returned_objects`` without it).
    Only a ``#<digits>`` at the very start of the text counts, so clicks on
    boundaries, villages or clusters, and ``#`` inside a title, give ``None``.

    streamlit-folium keeps the last tooltip while clicks elsewhere leave it
    unchanged: compare with ``last_object_clicked`` to tell a new click.
    """
    if not isinstance(st_folium_result, Mapping):
        return None
    # The popup is only a fallback for answers without the tooltip key: objects without a
    # popup (boundaries) leave the last one in place, so it would name an earlier proposal.
    key = "last_object_clicked_tooltip" if "last_object_clicked_tooltip" in st_folium_result else "last_object_clicked_popup"
    text = st_folium_result.get(key)
    if not isinstance(text, str):
        return None
    m = _CLICKED_ID.match(_SPACES.sub(" ", text).strip())
    if not m:
        return None
    value = int(m.group(1))
    return value if value > 0 else None


def rendered_size(fg: folium.FeatureGroup) -> int:
    """Bytes (UTF-8) the group adds to the map script: roughly what each rerun sends.

    Measured on a copy attached to a bare ``folium.Map``; ``fg`` itself is not changed.
    """
    parent = fg._parent
    fg._parent = None
    try:
        clone = copy.deepcopy(fg)
    finally:
        fg._parent = parent

    def size(m: folium.Map) -> int:
        return len(m.get_root().render().encode("utf-8"))

    bare = folium.Map(location=[GOYANG_LAT, 126.83], zoom_start=11, tiles=None)
    with_group = folium.Map(location=[GOYANG_LAT, 126.83], zoom_start=11, tiles=None)
    clone.add_to(with_group)
    return size(with_group) - size(bare)
