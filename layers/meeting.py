"""Map layers of a hub centre's area and of a meeting's agenda item (folium, lon/lat in, escaped text).

* :func:`catchment_layer`: the catchment's dongs outlined and filled, named in tooltips;
* :func:`agenda_item_layer`: an agenda item's proposals, each in its category colour with a
  highlight halo, points as circle markers.

Coordinates arrive as GeoJSON (lon/lat); folium places ``[lat, lon]`` itself.
"""
from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import shapely

from layers.escape import escape_map_text
from layers.proposals import HALO_COLOUR, proposal_style

CATCHMENT_COLOUR = "#d35400"


def _check(frame: gpd.GeoDataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks columns: {', '.join(missing)}")
    if len(frame) and (frame.crs is None or frame.crs.to_epsg() != 4326):
        raise ValueError("the frame must be in EPSG:4326 (lon/lat)")


def catchment_layer(districts: gpd.GeoDataFrame, name: str, hub_point: Any = None, hub_name: str = "") -> folium.FeatureGroup:
    """The catchment's dongs (``code, name, geometry``) as one outlined area, with the hub centre marked."""
    _check(districts, ("code", "name", "geometry"))
    group = folium.FeatureGroup(name=escape_map_text(name), show=True)
    features = [
        {"type": "Feature", "properties": {"name": escape_map_text(row.name)}, "geometry": shapely.geometry.mapping(row.geometry)}
        for row in districts.itertuples()
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=lambda _f: {"color": CATCHMENT_COLOUR, "weight": 3, "fillColor": CATCHMENT_COLOUR, "fillOpacity": 0.08},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(group)
    if hub_point is not None:
        folium.CircleMarker(
            location=[hub_point.y, hub_point.x], radius=11, color="#7f2704", weight=3, fill=True, fill_color=CATCHMENT_COLOUR,
            fill_opacity=0.9, tooltip=escape_map_text(hub_name),
        ).add_to(group)
    return group


def agenda_item_layer(members: gpd.GeoDataFrame, name: str) -> folium.FeatureGroup:
    """An agenda item's proposals (``id, title, category, status, geometry``), highlighted."""
    _check(members, ("id", "title", "category", "status", "geometry"))
    group = folium.FeatureGroup(name=escape_map_text(name), show=True)
    for row in members.itertuples():
        tip = escape_map_text(f"#{row.id} {row.title}")
        geom = row.geometry
        if geom.geom_type == "Point":
            folium.CircleMarker(location=[geom.y, geom.x], radius=16, color=HALO_COLOUR, weight=5, fill=False).add_to(group)
            style = proposal_style(row.category, row.status, point=True) | {"radius": 10}
            folium.CircleMarker(location=[geom.y, geom.x], tooltip=tip, **{_snake(k): v for k, v in style.items()}).add_to(group)
            continue
        style = proposal_style(row.category, row.status)
        halo = {"color": HALO_COLOUR, "weight": 10, "opacity": 0.8, "fill": False}
        folium.GeoJson(shapely.geometry.mapping(geom), style_function=lambda _f, s=halo: s).add_to(group)
        folium.GeoJson(shapely.geometry.mapping(geom), style_function=lambda _f, s=style: s, tooltip=tip).add_to(group)
    return group


def _snake(key: str) -> str:
    """Leaflet's camelCase option as folium's keyword (``fillColor`` -> ``fill_color``)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in key)
