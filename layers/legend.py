"""A small map legend, drawn by Leaflet as a map control.

The legend is a Leaflet control created in the map script (not a separate HTML
block) so that streamlit-folium, which re-assembles the map from each element's
script, keeps it. Its HTML is built here from escaped labels and passed to
JavaScript as JSON.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from branca.element import MacroElement
from folium.template import Template

from layers.escape import escape_map_text

_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


@dataclass(frozen=True)
class LegendEntry:
    """One row: a swatch (``line``, ``area`` or ``dot``) in ``colour`` with a label."""

    label: str
    colour: str
    shape: Literal["line", "area", "dot", "hub"] = "line"
    fill: str | None = None
    dashed: bool = False

    def __post_init__(self) -> None:
        for c in (self.colour, self.fill):
            if c is not None and not _COLOUR.match(c):
                raise ValueError(f"legend colours are hex codes like #1f78b4, not {c!r}")


def _swatch(e: LegendEntry) -> str:
    fill = e.fill or e.colour
    dash = "dashed" if e.dashed else "solid"
    if e.shape == "line":
        return f'<span style="display:inline-block;width:22px;height:0;border-top:3px {dash} {e.colour};vertical-align:middle"></span>'
    if e.shape == "area":
        return (
            f'<span style="display:inline-block;width:18px;height:12px;border:2px {dash} {e.colour};'
            f'background:{fill};opacity:.85;vertical-align:middle"></span>'
        )
    size = 14 if e.shape == "hub" else 9
    return (
        f'<span style="display:inline-block;width:{size}px;height:{size}px;border-radius:50%;'
        f'border:2px solid {e.colour};background:{fill};vertical-align:middle;margin:0 {(22 - size - 4) // 2}px"></span>'
    )


def legend_html(title: str, entries: Sequence[LegendEntry]) -> str:
    """The legend's HTML (labels escaped, colours validated)."""
    rows = "".join(
        f'<div style="margin:2px 0;white-space:nowrap">{_swatch(e)}&nbsp;{escape_map_text(e.label)}</div>' for e in entries
    )
    return (
        '<div class="goyang-legend" style="background:rgba(255,255,255,.92);padding:6px 9px;border-radius:6px;'
        'box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,sans-serif;color:#222">'
        f'<div style="font-weight:600;margin-bottom:3px">{escape_map_text(title)}</div>{rows}</div>'
    )


class HtmlControl(MacroElement):
    """A Leaflet control showing ready-made HTML (its text must already be escaped)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function (map) {
                var div = L.DomUtil.create('div', 'goyang-legend-control');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html: str, position: str = "bottomright"):
        super().__init__()
        self._name = "HtmlControl"
        self.position = position
        self.html = html


class Legend(HtmlControl):
    """A Leaflet control showing :func:`legend_html`; add it to a ``folium.Map``."""

    def __init__(self, title: str, entries: Sequence[LegendEntry], position: str = "bottomright"):
        super().__init__(legend_html(title, entries), position)
        self._name = "Legend"


class OverlayLegend(MacroElement):
    """A legend control shown only while its overlay layer is switched on in the layer control.

    ``html`` must already be escaped; ``layer`` is the folium layer it explains.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function (map) {
                var div = L.DomUtil.create('div', 'goyang-legend-control goyang-overlay-legend');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            (function (map, control, layer) {
                function sync() {
                    if (map.hasLayer(layer)) { control.addTo(map); } else { control.remove(); }
                }
                map.on('overlayadd overlayremove layeradd layerremove', sync);
                sync();
            })({{ this._parent.get_name() }}, {{ this.get_name() }}, {{ this.layer_name }});
        {% endmacro %}
        """
    )

    def __init__(self, html: str, layer, position: str = "bottomright"):
        super().__init__()
        self._name = "OverlayLegend"
        self.position = position
        self.html = html
        self.layer_name = layer.get_name()
