"""The planners' cluster layer: one outline per cluster of proposals, with its card.

Takes the :class:`planning.clusters.ClusterCard` list of a clustering and
draws each cluster's hull (lon/lat) as a polygon coloured from a fixed
palette by label, with a tooltip (label, size, main category) and a popup
summarising the card (supports, comments, categories, districts, legal
dongs, hubs, estimated cost, frequent words), plus the label at the hull's
representative point.

Escaping: every text from data (names, codes, words residents wrote) goes
through :func:`layers.escape.escape_map_text`. Coordinates: the hulls go to
``folium.GeoJson`` as GeoJSON (``[lon, lat]``); the label markers get
``[lat, lon]`` through :func:`geo.crs.folium_latlon`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
from folium.features import DivIcon
from shapely.geometry import mapping

from geo.crs import folium_latlon
from layers.escape import escape_map_text
from planning.categories import categories

#: Cluster colours, picked by ``label % len(PALETTE)`` (colour-blind friendly, Tableau 10).
PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
#: Names listed per line of the popup before "…".
POPUP_MAX_NAMES = 6

_TEXTS: dict[str, tuple[str, str]] = {
    "layer": ("제안 군집", "Proposal clusters"),
    "title": ("군집 {label}", "Cluster {label}"),
    "size": ("제안 {n}건", "{n} proposals"),
    "counts": ("지지 {supports} · 댓글 {comments}", "{supports} supports · {comments} comments"),
    "categories": ("분야", "Categories"),
    "districts": ("예산 구역", "Budget districts"),
    "legal_dongs": ("법정동", "Legal dongs"),
    "hubs": ("거점 센터", "Hub centres"),
    "cost": ("예상 비용 합계", "Estimated cost, total"),
    "cost_value": ("{total}원 ({known}/{n}건 기준)", "KRW {total} ({known} of {n} with an estimate)"),
    "cost_none": ("비용 정보 없음", "no estimates"),
    "words": ("많이 쓰인 말", "Frequent words"),
}


def _text(key: str, lang: str, **kwargs: Any) -> str:
    ko, en = _TEXTS[key]
    return (en if lang == "en" else ko).format(**kwargs)


def cluster_colour(label: int) -> str:
    """The colour of a cluster: the same label always gets the same colour."""
    return PALETTE[int(label) % len(PALETTE)]


def _category_label(code: str, lang: str) -> str:
    for c in categories():
        if c.code == code:
            return c.label(lang)
    return code


def _names(pairs: Sequence[tuple[str, str]]) -> str:
    shown = [escape_map_text(name or code) for code, name in pairs[:POPUP_MAX_NAMES]]
    if len(pairs) > POPUP_MAX_NAMES:
        shown.append("…")
    return ", ".join(shown) if shown else "–"


def cluster_tooltip(card: Any, lang: str = "ko") -> str:
    """The tooltip of a cluster (escaped HTML): label, size and main category."""
    parts = [escape_map_text(_text("title", lang, label=card.label)), escape_map_text(_text("size", lang, n=card.count))]
    if card.categories:
        parts.append(escape_map_text(_category_label(card.categories[0][0], lang)))
    return " · ".join(parts)


def cluster_popup_html(card: Any, lang: str = "ko") -> str:
    """The popup of a cluster (escaped HTML): the card in a few lines."""
    cats = ", ".join(f"{escape_map_text(_category_label(code, lang))} {int(n)}" for code, n in card.categories) or "–"
    if card.cost_total_krw is None:
        cost = escape_map_text(_text("cost_none", lang))
    else:
        cost = escape_map_text(_text("cost_value", lang, total=f"{int(card.cost_total_krw):,}", known=card.cost_known, n=card.count))
    words = ", ".join(f"{escape_map_text(w)} ({int(n)})" for w, n in card.words) or "–"
    rows = [
        ("categories", cats),
        ("districts", _names(card.districts)),
        ("legal_dongs", _names(card.legal_dongs)),
        ("hubs", _names(card.hubs)),
        ("cost", cost),
        ("words", words),
    ]
    head = (
        f"<b>{escape_map_text(_text('title', lang, label=card.label))}</b> · "
        f"{escape_map_text(_text('size', lang, n=card.count))}<br>"
        f"{escape_map_text(_text('counts', lang, supports=card.supports, comments=card.comments))}"
    )
    body = "".join(f"<br><b>{escape_map_text(_text(key, lang))}</b>: {value}" for key, value in rows)
    return f"<div style='min-width:220px'>{head}{body}</div>"


def cluster_layer(cards: Sequence[Any], lang: str = "ko", show_labels: bool = True) -> folium.FeatureGroup:
    """A feature group with one outlined polygon per cluster.

    Parameters
    ----------
    cards : sequence of planning.clusters.ClusterCard
        Each with ``label``, ``count``, ``hull`` (lon/lat) and the card fields.
    lang : {"ko", "en"}
        Language of the tooltip and popup labels.
    show_labels : bool
        Also put each cluster's label at its hull's representative point.

    Returns
    -------
    folium.FeatureGroup
    """
    group = folium.FeatureGroup(name=_text("layer", lang), show=True)
    # Largest first, so smaller outlines are drawn on top and stay clickable.
    for card in sorted(cards, key=lambda c: (-c.count, c.label)):
        hull = card.hull
        if hull is None or hull.is_empty:
            continue
        colour = cluster_colour(card.label)
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": mapping(hull)},
            style_function=lambda _f, c=colour: {"color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.18, "dashArray": "4 3"},
            highlight_function=lambda _f, c=colour: {"weight": 4, "fillOpacity": 0.3},
            tooltip=folium.Tooltip(cluster_tooltip(card, lang)),
            popup=folium.Popup(cluster_popup_html(card, lang), max_width=360),
        ).add_to(group)
        if show_labels:
            p = hull.representative_point()
            folium.Marker(
                location=folium_latlon(p.x, p.y),
                icon=DivIcon(
                    html=(
                        f"<div style='font:bold 12px sans-serif;color:{colour};text-shadow:0 0 3px #fff'>"
                        f"{int(card.label)}</div>"
                    ),
                    icon_size=(24, 16),
                    icon_anchor=(12, 8),
                ),
                tooltip=folium.Tooltip(cluster_tooltip(card, lang)),
            ).add_to(group)
    return group
