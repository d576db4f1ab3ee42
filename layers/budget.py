"""The participatory-budget quota map: budget districts coloured by the share of their quota already committed.

Labels come from :mod:`planning.i18n`; district names and amounts reach the
map only through :func:`layers.escape.escape_map_text`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd

from layers.escape import escape_map_text
from layers.legend import Legend, LegendEntry
from planning.i18n import t

#: Classes of the share used: (key, upper bound of the share, colour); checked in order.
QUOTA_CLASSES: tuple[tuple[str, float, str], ...] = (
    ("none", 0.0, "#f7fbff"),
    ("low", 0.5, "#9ecae1"),
    ("mid", 0.9, "#4292c6"),
    ("high", 1.0, "#08519c"),
)
#: Colour of a district without a quota.
NO_QUOTA_COLOUR = "#d9d9d9"


def quota_class(quota_krw: int, committed_krw: int) -> str:
    """The class key of a district: ``no_quota``, ``none`` (nothing committed), ``low`` (< 50 %), ``mid`` (< 90 %), ``high``."""
    if quota_krw <= 0:
        return "no_quota"
    if committed_krw <= 0:
        return "none"
    share = committed_krw / quota_krw
    if share < 0.5:
        return "low"
    if share < 0.9:
        return "mid"
    return "high"


def _colour(key: str) -> str:
    return NO_QUOTA_COLOUR if key == "no_quota" else {k: c for k, _, c in QUOTA_CLASSES}[key]


def quota_legend_entries(lang: str = "ko") -> list[LegendEntry]:
    """Legend rows of the quota map, one per class."""
    keys = [k for k, _, _ in QUOTA_CLASSES] + ["no_quota"]
    return [LegendEntry(t(f"budget.map.class.{k}", lang), "#555555", shape="area", fill=_colour(k)) for k in keys]


def _status(value: Any) -> tuple[int, int]:
    """``(quota_krw, committed_krw)`` of a :class:`planning.budget.QuotaStatus` or any ``(quota, committed, ...)``."""
    if isinstance(value, Mapping):
        return int(value["quota_krw"]), int(value["committed_krw"])
    seq: Sequence = value
    return int(seq[0]), int(seq[1])


def quota_choropleth(districts_gdf: gpd.GeoDataFrame, status_by_code: Mapping[str, Any], lang: str = "ko") -> folium.FeatureGroup:
    """A feature group of the budget districts coloured by the share of quota committed.

    Parameters
    ----------
    districts_gdf : GeoDataFrame
        Budget districts with ``adm_code`` (or ``code``) and ``name``
        columns, in any CRS (drawn in EPSG:4326).
    status_by_code : mapping
        District code -> ``(quota_krw, committed_krw, left_krw)`` (a
        :class:`planning.budget.QuotaStatus`). A district missing here is
        drawn as having no quota.
    lang : str
        ``ko`` or ``en`` for labels.

    Returns
    -------
    folium.FeatureGroup
        The layer; its :class:`Legend` is ``group.legend``, to add to the
        map (a Leaflet control belongs to the map, not to a layer).
    """
    code_col = "adm_code" if "adm_code" in districts_gdf.columns else "code"
    if code_col not in districts_gdf.columns or "name" not in districts_gdf.columns:
        raise ValueError("districts_gdf needs an adm_code (or code) and a name column")
    frame = districts_gdf.to_crs(4326) if districts_gdf.crs is not None and districts_gdf.crs.to_epsg() != 4326 else districts_gdf
    group = folium.FeatureGroup(name=t("budget.map.layer", lang), show=True)
    for code, name, geom in zip(frame[code_col], frame["name"], frame.geometry):
        if geom is None or geom.is_empty:
            continue
        quota, committed = _status(status_by_code[code]) if code in status_by_code else (0, 0)
        key = quota_class(quota, committed)
        colour = _colour(key)
        share = f"{committed / quota:.0%}" if quota > 0 else "–"
        tip = t("budget.map.tooltip", lang, name=name, quota=f"{quota:,}", committed=f"{committed:,}", left=f"{quota - committed:,}", share=share)
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": geom.__geo_interface__},
            style_function=lambda _f, c=colour: {"color": "#555555", "weight": 1, "fillColor": c, "fillOpacity": 0.6},
            tooltip=folium.Tooltip(escape_map_text(tip)),
        ).add_to(group)
    group.legend = Legend(t("budget.map.legend", lang), quota_legend_entries(lang), position="bottomleft")
    return group
