"""Static maps for print and meeting packets: PNG images drawn offline with matplotlib.

No tile server and no browser: the boundaries are the base. A map is a list of
:class:`MapLayer` (a GeoDataFrame in lon/lat with one style), drawn bottom to
top by ``zorder``, with a legend, a scale bar in metres, a north arrow, an
optional title and a data attribution.

Coordinates
    Layers and extents are given in WGS84 (EPSG:4326, x = lon, y = lat), as
    everywhere in the project. The map itself is drawn in EPSG:5179 (metres),
    converted only through :mod:`geo.crs`, so distances and shapes are true
    and the scale bar is exact to a few parts in ten thousand. The axes fill
    the whole image and the view is widened to the image's aspect ratio, so one
    pixel is the same number of metres across and down.

Text
    Every text (title, legend, labels, scale bar, attribution) is set in
    NanumGothic, taken from the PyPI package ``koreanize-matplotlib`` (SIL Open
    Font License; located with :func:`font_path`, never copied into the
    repository), so Hangul is drawn, not boxes. Text from data is plain text:
    :func:`plain_text` drops control characters and replaces characters the
    font lacks, and matplotlib's mathtext (``$...$``) is switched off on every
    text object.

Rendering
    A ``matplotlib.figure.Figure`` on a ``FigureCanvasAgg``: no pyplot, no
    global state, no display, nothing changed in ``matplotlib.rcParams`` (safe
    in Streamlit's threads). Each layer becomes at most three artists (one
    path for its polygons, one line collection, one scatter for its points),
    so a few hundred features render in well under a second. The same input
    gives the same PNG bytes.

Helpers build the project's usual layers with the styles of the web map:
:func:`boundary_layer` (city, gu, legal dongs, budget districts, villages,
a hub's catchment), :func:`proposal_layers` (category colours of
``data/categories.csv`` and status styles of :mod:`layers.proposals`),
:func:`cluster_layer` (the planners' cluster hulls), :func:`centres_layer`
and :func:`highlight_layer` (an agenda item's halo).
"""
from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import is_color_like, to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from shapely.geometry.base import BaseGeometry

from geo.boundaries import city_outline
from geo.crs import lonlat_to_metric, metric_to_lonlat, to_metric, to_storage
from layers.basemap import (
    CENTRE_COLOUR,
    CENTRE_FILL,
    HUB_COLOUR,
    HUB_FILL,
    NGII_ATTRIBUTION,
    STYLE_CITY,
    STYLE_DISTRICT,
    STYLE_GU,
    STYLE_LEGAL,
    STYLE_VILLAGE,
)
from layers.proposals import CLUSTER_COLOUR, CLUSTER_FILL, GREY, GREY_FILL, HALO_COLOUR, UNKNOWN_CATEGORY_COLOUR, proposal_style
from planning.categories import categories
from planning.i18n import t

# ---------------------------------------------------------------------------
# Fonts and plain text (shared with layers.pdf)
# ---------------------------------------------------------------------------

#: The PyPI distribution that ships the NanumGothic TTF files (OFL); see :func:`font_path`.
FONT_PACKAGE = "koreanize_matplotlib"
FONT_FILES = {"regular": "NanumGothic.ttf", "bold": "NanumGothicBold.ttf"}
#: Drawn instead of a character the font does not have (emoji, rare symbols).
REPLACEMENT_CHAR = "□"

# C0/C1 controls (except tab and newline), surrogates, bidi overrides and isolates
# (they can make text read differently from what it says), and the private-use area
# (layers.pdf uses a private-use character as its page-count placeholder).
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ue000-\uf8ff]")


def font_path(bold: bool = False) -> Path:
    """The NanumGothic TTF file (regular or bold) inside the ``koreanize-matplotlib`` package.

    The package is located with :func:`importlib.util.find_spec`, which finds
    it without importing it: importing ``koreanize_matplotlib`` would change
    matplotlib's global font settings (and imports ``distutils``).

    Parameters
    ----------
    bold : bool
        ``NanumGothicBold.ttf`` instead of ``NanumGothic.ttf``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        When the package (``pip install koreanize-matplotlib==0.1.1``) or the file is missing.
    """
    return _font_path("bold" if bold else "regular")


@cache
def _font_path(weight: str) -> Path:
    spec = find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the font package {FONT_PACKAGE!r} is not installed: pip install koreanize-matplotlib==0.1.1"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / FONT_FILES[weight]
        if path.is_file():
            return path
    raise FileNotFoundError(f"{FONT_FILES[weight]} not found in the package {FONT_PACKAGE!r}")


@lru_cache(maxsize=1)
def font_codepoints() -> frozenset[int]:
    """Code points that both NanumGothic files (regular and bold) can draw."""
    from fontTools.ttLib import TTFont

    sets = []
    for bold in (False, True):
        with TTFont(str(font_path(bold)), lazy=True) as font:
            sets.append(set(font.getBestCmap()))
    return frozenset(sets[0] & sets[1])


def plain_text(value: Any, max_chars: int | None = None) -> str:
    """``value`` as text that prints as it reads.

    The text is NFC-normalised (decomposed Hangul jamo become syllables), line
    ends become ``\\n``, tabs spaces; control characters, bidi overrides and
    private-use characters are dropped; characters NanumGothic cannot draw
    become :data:`REPLACEMENT_CHAR`. Nothing is interpreted: ``<b>``, ``$x$``
    or ``**`` stay as they are.

    Parameters
    ----------
    value : object
        ``None`` gives ``""``; anything else goes through ``str``.
    max_chars : int, optional
        Cut to this many characters, the last one being ``…``.

    Returns
    -------
    str
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _UNSAFE_CHARS.sub("", text)
    known = font_codepoints()
    if any(ord(c) not in known for c in text):
        text = "".join(c if ord(c) in known or c == "\n" else REPLACEMENT_CHAR for c in text)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(0, max_chars - 1)] + "…"
    return text


@cache
def _font(size: float, bold: bool = False) -> FontProperties:
    return FontProperties(fname=str(font_path(bold)), size=size)


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

LegendShape = Literal["area", "line", "point"]
_SWATCH_KEYS = ("edgecolor", "facecolor", "alpha", "edge_alpha", "linewidth", "linestyle", "marker", "marker_size")
PX_TO_PT = 0.75  # Leaflet styles are in CSS pixels (1/96 in); matplotlib works in points (1/72 in)


@dataclass(frozen=True, eq=False)
class MapLayer:
    """One layer of a static map: features in lon/lat drawn with one style.

    Polygons are filled with ``facecolor`` (no fill when ``None``) and outlined
    with ``edgecolor``; lines are drawn in ``edgecolor``; points are markers
    filled with ``facecolor`` and ringed with ``edgecolor``. A frame may mix
    geometry types; Multi* parts and geometry collections are drawn part by
    part; rows without geometry are skipped. A layer with neither colour
    draws nothing, but its legend row still appears when its features lie in
    the view (a legend row for features drawn by other layers).

    Attributes
    ----------
    frame : GeoDataFrame
        Features in EPSG:4326 (lon/lat). May be empty (a legend-only layer
        with ``legend_always=True``).
    edgecolor, facecolor : str or None
        Matplotlib colours (``"#1f77b4"``, ``"white"``); ``None``: not drawn.
    alpha : float
        Opacity of the fill (polygons and markers), 0 to 1.
    edge_alpha : float
        Opacity of outlines and lines, 0 to 1.
    linewidth : float
        Width of outlines, lines and marker rings, in points (1/72 in).
    linestyle : str or tuple
        ``"solid"``, ``"dashed"``, ``"dotted"`` or a dash tuple ``(0, (on, off, ...))``.
    marker : str
        Matplotlib marker for points (``"o"`` circle, ``"s"``, ``"D"``, ``"*"``).
    marker_size : float
        Marker diameter in points.
    label_column : str, optional
        Column whose value is written at each feature (at a point on its
        surface), in NanumGothic with a white halo.
    label_size : float
        Label font size in points.
    label_colour : str
        Label text colour.
    legend_label : str, optional
        The layer's row in the legend (plain text); layers without one, or
        whose label an earlier layer already uses, get no row.
    legend_shape : {"area", "line", "point"}, optional
        Swatch of the legend row; by default from the frame's geometry types.
    legend_always : bool
        Show the legend row even when the layer draws nothing in the view.
    legend_swatch : mapping, optional
        Style of the legend swatch where it differs from the layer's (keys
        ``edgecolor``, ``facecolor``, ``alpha``, ``edge_alpha``,
        ``linewidth``, ``linestyle``, ``marker``, ``marker_size``): e.g. the
        plain category colour for a closed proposal drawn in grey.
    zorder : float
        Drawing order (higher on top). The helpers use 1 for boundaries, 2
        for catchments and villages, 2.5 for clusters, 2.9 for highlights,
        3 to 3.5 for proposals and 4 for centres.
    """

    frame: gpd.GeoDataFrame
    edgecolor: str | None = "#333333"
    facecolor: str | None = None
    alpha: float = 0.35
    edge_alpha: float = 1.0
    linewidth: float = 1.0
    linestyle: Any = "solid"
    marker: str = "o"
    marker_size: float = 6.0
    label_column: str | None = None
    label_size: float = 7.0
    label_colour: str = "#222222"
    legend_label: str | None = None
    legend_shape: LegendShape | None = None
    legend_always: bool = False
    legend_swatch: Mapping[str, Any] | None = None
    zorder: float = 2.0

    def __post_init__(self) -> None:
        _check_frame(self.frame, "MapLayer.frame")
        for name in ("edgecolor", "facecolor"):
            colour = getattr(self, name)
            if colour is not None and not is_color_like(colour):
                raise ValueError(f"{name} must be a matplotlib colour such as '#1f77b4', not {colour!r}")
        if not is_color_like(self.label_colour):
            raise ValueError(f"label_colour must be a matplotlib colour, not {self.label_colour!r}")
        for name in ("alpha", "edge_alpha"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        for name in ("linewidth", "marker_size", "label_size"):
            value = getattr(self, name)
            if not (math.isfinite(float(value)) and float(value) >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
        if self.label_column is not None and self.label_column not in self.frame.columns:
            raise ValueError(f"label_column {self.label_column!r} is not a column of the frame")
        if self.legend_shape not in (None, "area", "line", "point"):
            raise ValueError("legend_shape must be 'area', 'line', 'point' or None")
        if self.legend_swatch is not None:
            unknown = set(self.legend_swatch) - set(_SWATCH_KEYS)
            if unknown:
                raise ValueError(f"legend_swatch keys are {', '.join(_SWATCH_KEYS)}, not {sorted(unknown)}")


def _check_frame(frame: Any, what: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame in EPSG:4326, not {type(frame).__name__}")
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError(f"{what} must be in EPSG:4326 (lon/lat), not {frame.crs}")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
    if len(geoms):
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
            raise ValueError(f"{what} has coordinates outside lon/lat degrees: are they (lat, lon), or metres?")


def _empty_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))


def _as_frame(geoms: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | Sequence[BaseGeometry]) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of a frame, series, one geometry or a list of them (lon/lat)."""
    if isinstance(geoms, gpd.GeoDataFrame):
        _check_frame(geoms, "the frame")
        return geoms
    if isinstance(geoms, gpd.GeoSeries):
        frame = gpd.GeoDataFrame(geometry=geoms)
        _check_frame(frame, "the series")
        return frame
    if isinstance(geoms, BaseGeometry):
        geoms = [geoms]
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(list(geoms), crs="EPSG:4326"))


def _dash(dash_array: str | None, linewidth_pt: float) -> Any:
    """A Leaflet ``dashArray`` (CSS pixels) as a matplotlib dash tuple (matplotlib scales dashes by the line width)."""
    if not dash_array:
        return "solid"
    values = [float(v) * PX_TO_PT / max(linewidth_pt, 0.1) for v in dash_array.replace(",", " ").split()]
    return (0, tuple(values)) if values else "solid"


def _from_leaflet(style: Mapping[str, Any]) -> dict[str, Any]:
    """MapLayer keyword arguments from a Leaflet path style (``color``, ``weight``, ``fillColor``, ...)."""
    lw = float(style.get("weight", 3)) * PX_TO_PT
    filled = style.get("fill", True) is not False and style.get("fillColor") is not None
    return {
        "edgecolor": style.get("color", "#3388ff"),
        "edge_alpha": float(style.get("opacity", 1.0)),
        "linewidth": lw,
        "linestyle": _dash(style.get("dashArray"), lw),
        "facecolor": style.get("fillColor") if filled else None,
        "alpha": float(style.get("fillOpacity", 0.2)) if filled else 0.0,
    }


#: Presets of :func:`boundary_layer`: the web map's styles (``layers.basemap``) and a hub catchment.
BOUNDARY_STYLES: dict[str, dict[str, Any]] = {
    "city": STYLE_CITY,
    "gu": STYLE_GU,
    "legal": STYLE_LEGAL,
    "district": STYLE_DISTRICT,
    "village": STYLE_VILLAGE,
    "catchment": {"color": HUB_COLOUR, "weight": 3, "fillColor": HUB_FILL, "fillOpacity": 0.08, "opacity": 0.95},
    "plain": {"color": "#555555", "weight": 1.2, "fill": False, "opacity": 0.9},
}
_BOUNDARY_Z = {"city": 1.3, "gu": 1.2, "legal": 1.0, "district": 1.1, "village": 2.0, "catchment": 2.0, "plain": 1.0}


def boundary_layer(
    frame: gpd.GeoDataFrame,
    style: str = "district",
    *,
    label_column: str | None = None,
    legend_label: str | None = None,
    **overrides: Any,
) -> MapLayer:
    """A boundary layer (city, gu, legal dongs, budget districts, villages, a catchment).

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons (or lines) in EPSG:4326, e.g. :func:`planning.geography.districts_frame`.
    style : str
        A key of :data:`BOUNDARY_STYLES`: ``"city"``, ``"gu"``, ``"legal"``,
        ``"district"``, ``"village"`` (as on the web map), ``"catchment"`` (a
        hub's catchment: thick hub-coloured outline, faint fill) or ``"plain"``.
    label_column : str, optional
        Column written inside each polygon (e.g. ``"name"``).
    legend_label : str, optional
        Legend row (e.g. ``t("layer.districts", lang)``).
    **overrides
        Any other :class:`MapLayer` field (``edgecolor``, ``linewidth``, ``zorder``, ...).

    Returns
    -------
    MapLayer
    """
    if style not in BOUNDARY_STYLES:
        raise ValueError(f"style must be one of {sorted(BOUNDARY_STYLES)}, not {style!r}")
    kwargs: dict[str, Any] = {
        **_from_leaflet(BOUNDARY_STYLES[style]),
        "zorder": _BOUNDARY_Z[style],
        "legend_shape": "area",
        "label_size": 7.0,
        "label_colour": "#333333",
    }
    kwargs.update(overrides)
    return MapLayer(frame, label_column=label_column, legend_label=legend_label, **kwargs)


_TEXTS: dict[str, tuple[str, str]] = {
    "legend.title": ("범례", "Legend"),
    "legend.clusters": ("제안 묶음", "Clusters of proposals"),
    "legend.highlight": ("안건", "Agenda item"),
    "legend.unknown_category": ("기타 ({code})", "Other ({code})"),
}


def _text(key: str, lang: str, **values: Any) -> str:
    ko, en = _TEXTS[key]
    return (en if lang == "en" else ko).format(**values)


# Status rows of the legend: statuses that look alike share a row (as in layers.proposals).
_STATUS_GROUPS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("under_review", "field_verified"), {"linestyle": (0, (3, 2)), "facecolor": "#bdbdbd", "edgecolor": "#555555"}),
    (("shortlisted", "adopted"), {"linewidth": 2.6, "facecolor": "#bdbdbd", "edgecolor": "#111111"}),
    (("rejected", "withdrawn", "merged"), {"facecolor": GREY_FILL, "edgecolor": GREY}),
)


def proposal_layers(
    frame: gpd.GeoDataFrame,
    lang: str = "ko",
    *,
    status_legend: bool = True,
    label_column: str | None = None,
    zorder: float = 3.0,
) -> list[MapLayer]:
    """Proposals coloured by category and styled by status, as on the web map.

    One layer per (category, status, geometry kind) present, with the colours
    of ``data/categories.csv`` and :func:`layers.proposals.proposal_style`
    (dashed while under review, thick dark ring when adopted, grey when
    closed). Points are circles with a white ring. Polygons lie below lines,
    lines below points. Each category with proposals in the view gets one
    legend row in its colour (in the order of ``data/categories.csv``;
    unknown codes are dark grey, "기타 (code)"); with ``status_legend`` each
    status group other than "submitted" with proposals in the view gets a
    grey row after them.

    Parameters
    ----------
    frame : GeoDataFrame
        EPSG:4326 with ``category`` and ``status`` columns (e.g. the proposals
        frame of the store, or a selection of it).
    lang : {"ko", "en"}
        Language of the legend.
    status_legend : bool
        Add legend rows for the status groups present.
    label_column : str, optional
        Column written at each proposal (e.g. ``"id"`` or an agenda number).
    zorder : float
        Base drawing order (polygons at ``zorder``, lines ``+0.1``, points ``+0.2``).

    Returns
    -------
    list of MapLayer
        The category layers, then (drawing nothing) the status groups' legend
        carriers; empty for an empty frame.
    """
    _check_frame(frame, "the proposals frame")
    missing = {"category", "status"} - set(frame.columns)
    if missing:
        raise ValueError(f"the proposals frame needs the columns {sorted(missing)}")
    present = ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    frame = frame[present]
    known = {c.code: c for c in categories()}
    order = {c.code: i for i, c in enumerate(categories())}
    kinds = shapely.get_type_id(np.asarray(frame.geometry.values, dtype=object))
    # 0: polygon, 1: line, 2: point (drawing order inside a category)
    kind = np.select([np.isin(kinds, (3, 6)), np.isin(kinds, (1, 2, 5))], [0, 1], default=2)
    keys = pd.DataFrame(
        {"category": frame["category"].astype(str).to_numpy(), "status": frame["status"].astype(str).to_numpy(), "kind": kind}
    )
    groups = keys.groupby(["category", "status", "kind"], sort=False).indices
    ordered = sorted(groups, key=lambda k: (order.get(k[0], len(order)), k[0], k[2], k[1]))
    layers: list[MapLayer] = []
    for category, status, k in ordered:
        style = proposal_style(category, status, point=(k == 2))
        lw = float(style["weight"]) * PX_TO_PT
        colour = known[category].colour if category in known else UNKNOWN_CATEGORY_COLOUR
        label = known[category].label(lang) if category in known else _text("legend.unknown_category", lang, code=plain_text(category, 40))
        layers.append(
            MapLayer(
                frame.iloc[groups[(category, status, k)]],
                edgecolor=style["color"],
                edge_alpha=float(style["opacity"]),
                facecolor=style["fillColor"],
                alpha=float(style["fillOpacity"]),
                linewidth=lw,
                linestyle=_dash(style.get("dashArray"), lw) if k != 2 else "solid",
                marker_size=2 * float(style.get("radius", 6)) * PX_TO_PT,
                label_column=label_column,
                # every layer of a category carries its row: it shows when any of them is in view
                legend_label=label,
                legend_shape="area",
                legend_swatch={"edgecolor": colour, "facecolor": colour, "alpha": 0.45, "edge_alpha": 1.0,
                               "linewidth": 1.5, "linestyle": "solid"},
                zorder=zorder + 0.1 * k,
            )
        )
    if status_legend and len(frame):
        status = keys["status"].to_numpy()
        for members, swatch in _STATUS_GROUPS:
            rows = np.isin(status, members)
            if rows.any():
                layers.append(
                    MapLayer(
                        frame[rows][["geometry"]],
                        edgecolor=None,
                        facecolor=None,
                        legend_label=" · ".join(t(f"status.{s}", lang) for s in members),
                        legend_shape="area",
                        legend_swatch={"alpha": 0.6, "linewidth": 1.4, **swatch},
                        zorder=zorder,
                    )
                )
    return layers


def cluster_layer(
    hulls: gpd.GeoDataFrame,
    lang: str = "ko",
    *,
    label_column: str | None = "label",
    legend_label: str | None = None,
    edgecolor: str = CLUSTER_COLOUR,
    facecolor: str = CLUSTER_FILL,
    zorder: float = 2.5,
) -> MapLayer:
    """The planners' clusters: hull polygons (or lines/points for tiny clusters) with their labels.

    Parameters
    ----------
    hulls : GeoDataFrame
        One row per cluster in EPSG:4326 (e.g. the convex hulls of each
        cluster's members, buffered a little).
    lang : {"ko", "en"}
        Language of the default legend row.
    label_column : str or None
        Column written in each hull (``"label"`` by default; ``None`` for none).
    legend_label : str, optional
        Legend row; default "제안 묶음" / "Clusters of proposals".
    edgecolor, facecolor : str
        Outline and (faint) fill colours.
    zorder : float
        Below the proposals (3) by default, so members stay visible.

    Returns
    -------
    MapLayer
    """
    return MapLayer(
        hulls,
        edgecolor=edgecolor,
        edge_alpha=0.9,
        facecolor=facecolor,
        alpha=0.12,
        linewidth=1.6,
        linestyle=(0, (4, 2)),
        marker_size=14.0,
        label_column=label_column,
        label_size=9.0,
        label_colour=edgecolor,
        legend_label=legend_label if legend_label is not None else _text("legend.clusters", lang),
        legend_shape="area",
        zorder=zorder,
    )


def centres_layer(frame: gpd.GeoDataFrame, lang: str = "ko", *, label_column: str | None = "name", hubs_only: bool = False) -> list[MapLayer]:
    """Community centres: hubs as large orange circles (labelled), the others as small white dots.

    Parameters
    ----------
    frame : GeoDataFrame
        Points in EPSG:4326 with a boolean ``is_hub`` column
        (e.g. :func:`planning.geography.centres_frame`).
    lang : {"ko", "en"}
        Language of the legend rows.
    label_column : str or None
        Column written beside the hubs (``"name"``).
    hubs_only : bool
        Leave out the centres that are not hubs.

    Returns
    -------
    list of MapLayer
        ``[others, hubs]`` (or ``[hubs]``).
    """
    _check_frame(frame, "the centres frame")
    if "is_hub" not in frame.columns:
        raise ValueError("the centres frame needs an is_hub column")
    is_hub = frame["is_hub"].fillna(False).astype(bool).to_numpy()
    hubs = MapLayer(
        frame[is_hub],
        edgecolor=HUB_COLOUR,
        facecolor=HUB_FILL,
        alpha=1.0,
        linewidth=1.8,
        marker_size=11.0,
        label_column=label_column,
        label_size=8.0,
        label_colour=HUB_COLOUR,
        legend_label=t("layer.hubs", lang),
        legend_shape="point",
        zorder=4.1,
    )
    if hubs_only:
        return [hubs]
    others = MapLayer(
        frame[~is_hub],
        edgecolor=CENTRE_COLOUR,
        facecolor=CENTRE_FILL,
        alpha=1.0,
        linewidth=1.2,
        marker_size=6.0,
        legend_label=t("layer.centres", lang),
        legend_shape="point",
        zorder=4.0,
    )
    return [others, hubs]


def highlight_layer(
    geoms: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | Sequence[BaseGeometry],
    *,
    legend_label: str | None = None,
    colour: str = HALO_COLOUR,
    zorder: float = 2.9,
) -> MapLayer:
    """A halo around one or a few features (an agenda item), as on the web map.

    Parameters
    ----------
    geoms : GeoDataFrame, GeoSeries, shapely geometry or list of geometries
        In lon/lat (EPSG:4326).
    legend_label : str, optional
        Legend row (e.g. "안건 3").
    colour : str
        Halo colour (the web map's yellow).
    zorder : float
        Just below the proposals, so the feature itself is drawn on its halo.

    Returns
    -------
    MapLayer
    """
    return MapLayer(
        _as_frame(geoms)[["geometry"]],
        edgecolor=colour,
        edge_alpha=0.85,
        facecolor=None,
        alpha=0.0,
        linewidth=7.5,
        marker_size=24.0,
        legend_label=legend_label,
        legend_shape="line",
        zorder=zorder,
    )


def extent_around(
    geoms: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | Sequence[BaseGeometry],
    pad_m: float = 400.0,
) -> tuple[float, float, float, float]:
    """A lon/lat extent around features, padded by ``pad_m`` metres (e.g. an agenda item's map).

    Parameters
    ----------
    geoms : GeoDataFrame, GeoSeries, shapely geometry or list of geometries
        In lon/lat (EPSG:4326); not all empty.
    pad_m : float
        Metres added on every side (measured in EPSG:5179).

    Returns
    -------
    (min lon, min lat, max lon, max lat)
    """
    frame = _as_frame(geoms)
    geo = np.asarray(frame.geometry.values, dtype=object)
    geo = geo[~(shapely.is_missing(geo) | shapely.is_empty(geo))]
    if not len(geo):
        raise ValueError("extent_around needs at least one non-empty geometry")
    if not (math.isfinite(pad_m) and pad_m >= 0):
        raise ValueError("pad_m must be a finite number of metres >= 0")
    minx, miny, maxx, maxy = shapely.total_bounds(to_metric(geo))
    box = shapely.box(minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m)
    step = max(maxx - minx, maxy - miny, 2 * pad_m, 1.0) / 32  # densify: the box is not a rectangle in lon/lat
    lon_lat = to_storage(shapely.segmentize(box, step))
    return tuple(float(v) for v in shapely.bounds(lon_lat))  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

DEFAULT_SIZE_PX = (1200, 900)
DEFAULT_DPI = 150
MIN_VIEW_M = 300.0  # smallest map side (a single point still gets a readable neighbourhood)
_HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]
_NICE = (1, 2, 2.5, 5)


def _metric_extent(extent_lonlat: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        minx, miny, maxx, maxy = (float(v) for v in extent_lonlat)
    except (TypeError, ValueError):
        raise ValueError("extent_lonlat must be (min lon, min lat, max lon, max lat)") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or not (minx < maxx and miny < maxy):
        raise ValueError("extent_lonlat must be finite (min lon, min lat, max lon, max lat) with min < max")
    if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        raise ValueError("extent_lonlat is not lon/lat degrees: give (min lon, min lat, max lon, max lat), lon first")
    # a lon/lat box is not a rectangle in metres: project its densified outline
    box = shapely.segmentize(shapely.box(minx, miny, maxx, maxy), max(maxx - minx, maxy - miny) / 32)
    return tuple(float(v) for v in shapely.bounds(to_metric(box)))  # type: ignore[return-value]


def _fit_view(bounds: Sequence[float], size_px: tuple[int, int], margin: float) -> tuple[float, float, float, float]:
    """The view in metres: ``bounds`` widened by ``margin``, to at least :data:`MIN_VIEW_M`, then to the image's aspect."""
    minx, miny, maxx, maxy = bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w = max((maxx - minx) * (1 + 2 * margin), MIN_VIEW_M)
    h = max((maxy - miny) * (1 + 2 * margin), MIN_VIEW_M)
    aspect = size_px[0] / size_px[1]
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _rgba(colour: str | None, alpha: float) -> Any:
    return "none" if colour is None else to_rgba(colour, alpha)


def _polygon_path(polys: np.ndarray) -> MplPath | None:
    """One compound path of all polygons (exteriors counter-clockwise, holes clockwise: non-zero fill keeps the holes)."""
    if not len(polys):
        return None
    rings = shapely.get_rings(shapely.orient_polygons(polys))
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    if not len(coords):
        return None
    codes = np.full(len(coords), MplPath.LINETO, dtype=np.uint8)
    starts = np.r_[0, np.flatnonzero(np.diff(ring_index)) + 1]
    ends = np.r_[starts[1:] - 1, len(coords) - 1]
    codes[starts] = MplPath.MOVETO
    codes[ends] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def _line_segments(lines: np.ndarray) -> list[np.ndarray]:
    if not len(lines):
        return []
    coords, index = shapely.get_coordinates(lines, return_index=True)
    return np.split(coords, np.flatnonzero(np.diff(index)) + 1)


def _parts(geoms: np.ndarray) -> np.ndarray:
    """Single-part geometries (Multi* and collections taken apart, twice for nested collections)."""
    for _ in range(2):
        geoms = shapely.get_parts(geoms)
    return geoms[~shapely.is_empty(geoms)]


def _legend_shape(layer: MapLayer, types: np.ndarray) -> LegendShape:
    if layer.legend_shape:
        return layer.legend_shape
    if np.isin(types, (3, 6)).any():
        return "area"
    if np.isin(types, (1, 2, 5)).any():
        return "line"
    if len(types) and np.isin(types, (0, 4)).all():
        return "point"
    return "area"


def _legend_handle(layer: MapLayer, shape: LegendShape) -> Any:
    st = {key: getattr(layer, key) for key in _SWATCH_KEYS}
    st.update(layer.legend_swatch or {})
    edge = _rgba(st["edgecolor"], st["edge_alpha"])
    if shape == "point":
        return Line2D(
            [], [], linestyle="none", marker=st["marker"], markersize=st["marker_size"],
            markerfacecolor=_rgba(st["facecolor"], st["alpha"]), markeredgecolor=edge, markeredgewidth=st["linewidth"],
        )
    if shape == "line":
        return Line2D([], [], color=edge, linewidth=min(st["linewidth"], 6.0), linestyle=st["linestyle"], solid_capstyle="butt")
    return Patch(
        facecolor=_rgba(st["facecolor"], max(st["alpha"], 0.25) if st["facecolor"] else 0.0),
        edgecolor=edge, linewidth=min(st["linewidth"], 3.0), linestyle=st["linestyle"],
    )


def _draw_layer(ax: Any, layer: MapLayer, geoms_m: np.ndarray, view: tuple[float, float, float, float]) -> bool:
    """Draw one layer (already in metres); True when something lies in the view."""
    keep = ~(shapely.is_missing(geoms_m) | shapely.is_empty(geoms_m))
    if not keep.any():
        return False
    view_box = shapely.box(*view)
    visible = keep & shapely.intersects(geoms_m, view_box)
    parts = _parts(geoms_m[keep])
    types = shapely.get_type_id(parts)
    edge = _rgba(layer.edgecolor, layer.edge_alpha)
    face = _rgba(layer.facecolor, layer.alpha)
    common = {"zorder": layer.zorder, "antialiased": True}

    if layer.edgecolor is None and layer.facecolor is None:
        parts = parts[:0]  # draws nothing: a legend carrier (labels still drawn)
        types = types[:0]
    path = _polygon_path(parts[types == 3])
    if path is not None:
        # add_artist, not add_patch: the view is fixed, and updating data limits walks every vertex
        ax.add_artist(
            PathPatch(path, facecolor=face, edgecolor=edge, linewidth=layer.linewidth if layer.edgecolor else 0,
                      linestyle=layer.linestyle, joinstyle="round", transform=ax.transData, **common)
        )
    segments = _line_segments(parts[np.isin(types, (1, 2))])
    if segments and layer.edgecolor is not None:
        ax.add_collection(
            LineCollection(segments, colors=[edge], linewidths=layer.linewidth, linestyles=[layer.linestyle],
                           capstyle="round", joinstyle="round", **common),
            autolim=False,
        )
    points = parts[types == 0]
    if len(points) and (layer.edgecolor is not None or layer.facecolor is not None) and layer.marker_size > 0:
        xy = shapely.get_coordinates(points)
        ax.add_artist(
            Line2D(xy[:, 0], xy[:, 1], linestyle="none", marker=layer.marker, markersize=layer.marker_size,
                   markerfacecolor=face, markeredgecolor=edge, markeredgewidth=layer.linewidth if layer.edgecolor else 0,
                   transform=ax.transData, **common)
        )
    if layer.label_column is not None and visible.any():
        anchors = shapely.point_on_surface(geoms_m[visible])
        xy = shapely.get_coordinates(anchors)
        values = layer.frame[layer.label_column].to_numpy()[visible]
        font = _font(layer.label_size, bold=True)
        offset = layer.marker_size * 0.5 + 2 if layer.marker_size else 0
        for (x, y), value, g in zip(xy, values, geoms_m[visible]):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            text = plain_text(value, 60)
            if not text:
                continue
            is_point = shapely.get_type_id(g) in (0, 4)
            ax.annotate(
                text, (x, y), xytext=(offset, offset) if is_point else (0, 0), textcoords="offset points",
                ha="left" if is_point else "center", va="bottom" if is_point else "center",
                fontproperties=font, color=layer.label_colour, path_effects=_HALO,
                zorder=max(layer.zorder, 5) + 0.5, annotation_clip=True, parse_math=False, usetex=False,
            )
    return bool(visible.any())


def _nice_length(span_m: float) -> float:
    """A round scale-bar length close to a quarter of the map's width."""
    target = span_m / 4
    power = 10 ** math.floor(math.log10(target))
    best = power
    for n in _NICE:
        if n * power <= target:
            best = n * power
    return best


def _metres_label(m: float) -> str:
    if m >= 1000:
        km = m / 1000
        return f"{km:g} km"
    return f"{m:g} m"


def _scale_bar(ax: Any, view: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = view
    width, height = x1 - x0, y1 - y0
    length = _nice_length(width)
    left = x0 + width * 0.035
    base = y0 + height * 0.045
    bar_h = height * 0.012
    font = _font(7.5)
    half = length / 2
    for xy, w, h, face, edge, z in (
        ((left - width * 0.012, base - height * 0.02), length + width * 0.05, height * 0.085, (1, 1, 1, 0.85), "none", 9),
        ((left, base), half, bar_h, "#222222", "#222222", 10),
        ((left + half, base), half, bar_h, "white", "#222222", 10),
    ):
        ax.add_artist(Rectangle(xy, w, h, facecolor=face, edgecolor=edge, linewidth=0.8, zorder=z, transform=ax.transData))
    for x, label in ((left, "0"), (left + half, _metres_label(half).split()[0]), (left + length, _metres_label(length))):
        ax.text(x, base + bar_h * 1.6, label, ha="center", va="bottom", fontproperties=font, color="#222222",
                zorder=11, parse_math=False, usetex=False)


def _north_arrow(ax: Any, view: tuple[float, float, float, float]) -> None:
    """An arrow to true north at the map's centre (EPSG:5179's grid north differs by the meridian convergence)."""
    x0, y0, x1, y1 = view
    lon, lat = metric_to_lonlat([(x0 + x1) / 2], [(y0 + y1) / 2])
    nx, ny = lonlat_to_metric([lon[0], lon[0]], [lat[0], lat[0] + 0.01])
    dx, dy = float(nx[1] - nx[0]), float(ny[1] - ny[0])
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    size = min(x1 - x0, y1 - y0) * 0.07
    tip = (x1 - (x1 - x0) * 0.045, y1 - (y1 - y0) * 0.06)
    tail = (tip[0] - ux * size, tip[1] - uy * size)
    ax.annotate(
        "", xy=tip, xytext=tail,
        arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.4", "color": "#222222", "linewidth": 2.2,
                    "shrinkA": 0, "shrinkB": 0},
        zorder=10,
    )
    ax.text(tail[0] - ux * size * 0.12, tail[1] - uy * size * 0.12, "N", ha="center", va="top",
            fontproperties=_font(10, bold=True), color="#222222", path_effects=_HALO, zorder=11,
            parse_math=False, usetex=False)


def _check_size(size_px: Any, dpi: Any) -> tuple[tuple[int, int], float]:
    try:
        w, h = (int(v) for v in size_px)
    except (TypeError, ValueError):
        raise ValueError("size_px must be (width, height) in pixels") from None
    if not (50 <= w <= 10_000 and 50 <= h <= 10_000):
        raise ValueError("size_px must be between 50 and 10,000 pixels on each side")
    if not (isinstance(dpi, (int, float)) and 36 <= dpi <= 1200):
        raise ValueError("dpi must be a number between 36 and 1200")
    return (w, h), float(dpi)


def map_figure(
    layers: Sequence[MapLayer],
    extent_lonlat: Sequence[float] | None = None,
    title: str | None = None,
    size_px: tuple[int, int] = DEFAULT_SIZE_PX,
    dpi: float = DEFAULT_DPI,
    *,
    highlight: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | Sequence[BaseGeometry] | None = None,
    legend: bool = True,
    legend_title: str | None = None,
    legend_loc: str = "lower right",
    lang: str = "ko",
    scale_bar: bool = True,
    north_arrow: bool = True,
    attribution: str | None = NGII_ATTRIBUTION,
    margin: float = 0.06,
    background: str = "white",
) -> Figure:
    """The map as a matplotlib ``Figure`` on an Agg canvas (see :func:`render_map` for the parameters).

    Useful to add something before saving; :func:`render_map` is this plus ``savefig``.
    """
    (w, h), dpi = _check_size(size_px, dpi)
    layers = list(layers)
    for layer in layers:
        if not isinstance(layer, MapLayer):
            raise TypeError(f"layers must be MapLayer objects, not {type(layer).__name__}")
    if highlight is not None:
        layers.append(highlight_layer(highlight))
    if not 0 <= margin <= 2:
        raise ValueError("margin must be between 0 and 2 (a fraction of the map's size)")
    if legend_loc not in ("lower right", "lower left", "upper right", "upper left", "center right", "center left", "best"):
        raise ValueError(f"legend_loc {legend_loc!r} is not a matplotlib legend location")

    metric = [to_metric(np.asarray(layer.frame.geometry.values, dtype=object)) for layer in layers]
    if extent_lonlat is not None:
        bounds = _metric_extent(extent_lonlat)
    else:
        drawable = [g[~(shapely.is_missing(g) | shapely.is_empty(g))] for g in metric]
        drawable = [g for g in drawable if len(g)]
        if drawable:
            bounds = tuple(float(v) for v in shapely.total_bounds(np.concatenate(drawable)))
        else:  # nothing to draw: the city
            bounds = tuple(float(v) for v in shapely.bounds(to_metric(city_outline())))
        if not all(math.isfinite(v) for v in bounds):
            raise ValueError("the layers have coordinates that are not lon/lat degrees (are they lat, lon?)")
    view = _fit_view(bounds, (w, h), margin if extent_lonlat is None else 0.0)

    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor=background)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(view[0], view[2])
    ax.set_ylim(view[1], view[3])
    ax.set_aspect("auto")  # the view already has the image's aspect: x and y pixels are the same metres
    ax.set_facecolor(background)

    in_view = {}
    for i in sorted(range(len(layers)), key=lambda i: layers[i].zorder):  # stable: equal zorders keep the list order
        in_view[i] = _draw_layer(ax, layers[i], metric[i], view)
    handles, labels, seen = [], [], set()
    for i, (layer, geoms) in enumerate(zip(layers, metric)):  # legend rows in the order of the layers
        label = plain_text(layer.legend_label, 80) if layer.legend_label else ""
        if label and label not in seen and (in_view[i] or layer.legend_always):
            seen.add(label)
            types = shapely.get_type_id(_parts(geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]))
            handles.append(_legend_handle(layer, _legend_shape(layer, types)))
            labels.append(label)
    if legend and handles:
        leg = ax.legend(
            handles, labels, loc=legend_loc,
            bbox_to_anchor=(0.99, 0.035, 0, 0) if legend_loc == "lower right" else None,
            prop=_font(7.5), title=plain_text(legend_title if legend_title is not None else _text("legend.title", lang), 60),
            title_fontproperties=_font(8, bold=True), frameon=True, framealpha=0.9, facecolor="white",
            edgecolor="#999999", fancybox=True, borderpad=0.6, labelspacing=0.45, handlelength=2.2,
        )
        leg.set_zorder(20)
        for text in [*leg.get_texts(), leg.get_title()]:
            text.set_parse_math(False)
            text.set_usetex(False)
    if scale_bar:
        _scale_bar(ax, view)
    if north_arrow:
        _north_arrow(ax, view)
    if title:
        ax.annotate(
            plain_text(title, 200), (0, 1), xycoords="axes fraction", xytext=(9, -9), textcoords="offset points",
            ha="left", va="top", wrap=True,
            fontproperties=_font(11, bold=True), color="#111111", zorder=21, parse_math=False, usetex=False,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#999999", "alpha": 0.92},
        )
    if attribution:
        ax.text(
            0.995, 0.006, plain_text(attribution, 200), transform=ax.transAxes, ha="right", va="bottom",
            fontproperties=_font(5.5), color="#555555", zorder=21, parse_math=False, usetex=False,
        )
    return fig


def render_map(
    layers: Sequence[MapLayer],
    extent_lonlat: Sequence[float] | None = None,
    title: str | None = None,
    size_px: tuple[int, int] = DEFAULT_SIZE_PX,
    dpi: float = DEFAULT_DPI,
    **options: Any,
) -> bytes:
    """Draw a static map as PNG bytes (offline, EPSG:5179, NanumGothic).

    Parameters
    ----------
    layers : sequence of MapLayer
        Drawn by ``zorder`` (then in the given order); the legend lists their
        ``legend_label`` rows in the given order. Build them with
        :func:`boundary_layer`, :func:`proposal_layers`, :func:`cluster_layer`,
        :func:`centres_layer`, :func:`highlight_layer` or :class:`MapLayer`.
    extent_lonlat : (min lon, min lat, max lon, max lat), optional
        The area to show (lon first), widened to the image's aspect ratio.
        Default: every layer's features with ``margin`` around them (the city
        when there is nothing to draw). :func:`extent_around` makes one
        around an agenda item.
    title : str, optional
        Plain text in a box at the top left.
    size_px : (int, int)
        Width and height of the PNG in pixels (exactly).
    dpi : float
        Dots per inch: sets the size of text and lines in pixels (points are
        1/72 in). The PNG records it, so ``size_px / dpi`` inches is its print size.
    **options
        Keyword-only options:

        highlight : GeoDataFrame, GeoSeries, geometry or list, optional
            Features (lon/lat) to draw with a halo (:func:`highlight_layer`).
        legend : bool
            Draw the legend (rows of the layers with a ``legend_label``).
        legend_title : str, optional
            Default "범례" / "Legend".
        legend_loc : str
            ``"lower right"`` (default), ``"upper left"``, ... or ``"best"``.
        lang : {"ko", "en"}
            Language of default texts.
        scale_bar, north_arrow : bool
            Draw a scale bar in metres (lower left) and an arrow to true north (upper right).
        attribution : str or None
            Small text at the bottom right; default the NGII/KOSTAT boundary
            attribution of the web map (``None`` for none).
        margin : float
            Fraction of the features' extent added on each side (default extent only).
        background : str
            Background colour.

    Returns
    -------
    bytes
        A PNG of exactly ``size_px``. The same input gives the same bytes.

    Raises
    ------
    ValueError
        Bad extent (not lon/lat, or min >= max), size, dpi or options; layers
        whose coordinates are not lon/lat degrees.
    """
    fig = map_figure(layers, extent_lonlat, title, size_px, dpi, **options)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, facecolor=fig.get_facecolor(), metadata={"Software": None})
    return buf.getvalue()


def render_to_file(path: str | Path, layers: Sequence[MapLayer], extent_lonlat: Sequence[float] | None = None, **kwargs: Any) -> Path:
    """Draw a static map (see :func:`render_map`) and write it to ``path`` as PNG.

    Parameters
    ----------
    path : str or Path
        The file to write (its folder must exist); replaced if it exists.
    layers, extent_lonlat, **kwargs
        As for :func:`render_map`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    png = render_map(layers, extent_lonlat, **kwargs)
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(png)
    tmp.replace(out)
    return out


def layers_bounds(layers: Iterable[MapLayer]) -> tuple[float, float, float, float] | None:
    """The lon/lat bounds (min lon, min lat, max lon, max lat) of the layers' features, or ``None`` if there are none."""
    frames = [layer.frame.geometry for layer in layers if len(layer.frame)]
    geoms = np.concatenate([np.asarray(f.values, dtype=object) for f in frames]) if frames else np.empty(0, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
    if not len(geoms):
        return None
    return tuple(float(v) for v in shapely.total_bounds(geoms))  # type: ignore[return-value]
