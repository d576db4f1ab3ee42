"""Benchmark 2: what the residents' map costs per rerun, in bytes sent and in server time.

The page (``ui/map_page.py``) builds the map on every rerun: the base map
(``ui.mapdata.base_map``: boundaries, centres, legends) with the drawing
control, plus the proposals of the viewport as a feature group
(``layers.proposals.proposal_layer(..., max_features=500)``), and hands both to
``streamlit_folium.st_folium``. Here the same calls are made without a
Streamlit server: ``st_folium`` runs for real, with its component function
swapped for one that records the arguments. Those arguments, serialised with
``json.dumps`` as Streamlit serialises component arguments, are the bytes of
the component message: what goes to the browser whenever the message differs
from the last one (the first load; for our page, every new viewport or
selection, because the changing feature group and the constant base-map
script travel in one message; Streamlit's message cache only skips messages
that are byte-identical).

Cases: stored proposals (1k, 10k, 100k) in a throwaway database, seen at
city zoom (zoom 11, the whole of Goyang) and at a dong zoom (zoom 15 on
화정1동, the dong with the most voters). The viewport is a 560 x 620 px map
(the page's height, and the map column's width the page assumes), padded and snapped to
the 0.01 degree grid as ``layers.viewport.viewport_from_result`` does.

Baseline: the naive map a first implementation would send: every public
proposal (``map_frame`` without a bounding box) as one ``folium.Marker``
(points) or ``folium.GeoJson`` (lines, polygons) with a ``#id title`` tooltip,
all in one ``MarkerCluster`` (Leaflet.markercluster keeps non-point layers
unclustered), on the same base map. It does not depend on the view, so it
is measured once per size. Without popups it is, if anything, smaller than
a first implementation would be.

Metrics per case:

* ``message_kB``: the whole component message (base-map script, header,
  feature group, options), JSON as sent;
* ``layer_kB``: the proposals' part of it (ours: the feature group; naive:
  its script minus the base map's);
* ``rerun_s``: server time of a rerun with the proposals query cached
  (``ui.mapdata.proposals_in_view`` keeps it per snapped viewport until a
  table it reads changes): base map, proposals layer and ``st_folium``;
* ``query_s``: the proposals query on a cache miss (ours:
  ``planning.proposals.map_view`` of the viewport, which counts first and,
  above 500 proposals, has the database count grid clusters instead of
  returning rows; naive: ``map_frame`` of all proposals).

Not included: raster overlays and villages (none registered), tiles (the
default ``none``), a selected proposal.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
import streamlit_folium
from folium.plugins import MarkerCluster
from shapely.geometry import mapping

from bench.database import load_proposals, server_version, throwaway_database
from bench.generate import proposals_frame
from bench.rows import make_row
from bench.scales import Scale, get_scale
from bench.timing import best_of
from geo.boundaries import admin_dongs
from layers.assets import AssetsMissing, use_local_assets
from layers.basemap import BaseMapData, base_map_data, goyang_base_map, village_data
from layers.draw import draw_control
from layers.escape import escape_map_text
from layers.legend import Legend
from layers.proposals import ProposalClusters, ProposalGeoJson, _in_bounds, legend_entries_for_proposals, proposal_layer
from layers.viewport import GOYANG_CENTER, Viewport, snap_bbox
from planning.geography import centres_frame, districts_frame, install_reference_data
from planning.i18n import t
from planning.proposals import MapView, map_frame, map_view
from planning.villages import villages_frame
from store import Store

MAP_WIDTH_PX = 560  # the width ui/map_page.py assumes for the map column (zoom_for_bounds(..., width_px=560))
MAP_HEIGHT_PX = 620  # ui/map_page.py: st_folium(..., height=620)
MAX_FEATURES = 500  # ui/map_page.py
LANG = "ko"
RETURNED_OBJECTS = ["all_drawings", "last_active_drawing", "bounds", "zoom", "last_object_clicked_tooltip"]
DONG_NAME = "화정1동"


def visible_bbox(lat: float, lon: float, zoom: float, width_px: int = MAP_WIDTH_PX, height_px: int = MAP_HEIGHT_PX) -> tuple[float, float, float, float]:
    """Lon/lat bounds of a web-mercator map of ``width_px`` x ``height_px`` centred on (lat, lon) at ``zoom``."""
    world = 256.0 * 2.0**zoom
    x = (lon + 180.0) / 360.0 * world
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * world

    def lon_of(px: float) -> float:
        return px / world * 360.0 - 180.0

    def lat_of(py: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * py / world))))

    return lon_of(x - width_px / 2), lat_of(y + height_px / 2), lon_of(x + width_px / 2), lat_of(y - height_px / 2)


def views() -> dict[str, tuple[Viewport, tuple[float, float]]]:
    """The two cases: ``name -> (snapped viewport, [lat, lon] centre)``."""
    ad = admin_dongs()
    dong = ad[ad["name"] == DONG_NAME].geometry.iloc[0]
    out = {}
    for name, (lat, lon), zoom in (
        ("city zoom 11", GOYANG_CENTER, 11),
        (f"dong zoom 15 ({DONG_NAME})", (dong.y, dong.x), 15),
    ):
        out[name] = (Viewport(bbox=snap_bbox(*visible_bbox(lat, lon, zoom)), zoom=zoom), (lat, lon))
    return out


@contextmanager
def recorded_component() -> Iterator[list[dict[str, Any]]]:
    """Swap streamlit-folium's component function for one that records its arguments."""
    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return kwargs.get("default")

    original = streamlit_folium._component_func
    streamlit_folium._component_func = record
    try:
        yield calls
    finally:
        streamlit_folium._component_func = original


def json_size(value: Any) -> int:
    """Bytes of ``value`` as Streamlit serialises component arguments (``json.dumps``, ASCII-escaped)."""
    return len(json.dumps(value).encode("utf-8"))


def message_sizes(args: dict[str, Any]) -> dict[str, int]:
    """Sizes of the component message and of its large parts."""
    sent = {k: v for k, v in args.items() if k != "on_change"}  # a Python callback, not sent
    return {
        "message": json_size(sent),
        "script": json_size(args.get("script") or ""),
        "feature_group": json_size(args.get("feature_group") or ""),
        "feature_group_utf8": len((args.get("feature_group") or "").encode("utf-8")),
        "header": json_size(args.get("header") or ""),
    }


class Page:
    """The residents' map page without Streamlit: the cached inputs of ``ui.mapdata``, read once."""

    def __init__(self, store: Store) -> None:
        self.data: BaseMapData = base_map_data(districts_frame(store))
        self.hub_codes = frozenset(centres_frame(store, hubs_only=True)["code"])
        self.villages = village_data(villages_frame(store))

    def base_map(self) -> folium.Map:
        """``ui.mapdata.base_map`` (no raster layers) plus the page's drawing control."""
        m = goyang_base_map("none", tiles_attr=None, hub_codes=self.hub_codes, data=self.data, villages=self.villages)
        Legend(t("layer.proposals", LANG), legend_entries_for_proposals(LANG), position="bottomright").add_to(m)
        draw_control(LANG).add_to(m)
        return m

    def send(self, m: folium.Map, group: folium.FeatureGroup | None, centre: tuple[float, float], zoom: int) -> dict[str, Any]:
        """Run ``st_folium`` as the page calls it; return the component's arguments."""
        with recorded_component() as calls:
            streamlit_folium.st_folium(
                m,
                key="residents_map",
                feature_group_to_add=group,
                center=list(centre),
                zoom=zoom,
                returned_objects=RETURNED_OBJECTS,
                use_container_width=True,
                height=MAP_HEIGHT_PX,
            )
        return calls[-1]

    def ours(self, shown: MapView, view: Viewport, centre: tuple[float, float]) -> tuple[dict[str, Any], folium.FeatureGroup]:
        """One rerun of our page: base map, the viewport's proposals layer (features or clusters), ``st_folium``."""
        m = self.base_map()
        group = proposal_layer(
            shown.frame, zoom=view.zoom, lang=LANG, selected_id=None, bounds=view.bbox, max_features=MAX_FEATURES, clusters=shown.clusters
        )
        return self.send(m, group, centre, view.zoom), group

    def naive(self, frame: gpd.GeoDataFrame, centre: tuple[float, float], zoom: int) -> tuple[dict[str, Any], int]:
        """One rerun of the naive page: every proposal as its own marker or GeoJson in a MarkerCluster."""
        m = self.base_map()
        cluster = MarkerCluster(name="제안 Proposals").add_to(m)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        is_point = shapely.get_type_id(geoms) == 0
        lon, lat = shapely.get_x(np.where(is_point, geoms, None)), shapely.get_y(np.where(is_point, geoms, None))
        added = 0
        for i, (pid, title) in enumerate(zip(frame["id"].tolist(), frame["title"].tolist())):
            tip = f"#{pid} {escape_map_text(title)}"
            if is_point[i]:
                folium.Marker([float(lat[i]), float(lon[i])], tooltip=tip).add_to(cluster)
            else:
                folium.GeoJson(mapping(geoms[i]), tooltip=tip).add_to(cluster)
            added += 1
        return self.send(m, None, centre, zoom), added


def represented(group: folium.FeatureGroup) -> dict[str, int]:
    """What our feature group carries: proposals drawn one by one, clusters, and proposals inside clusters."""
    out = {"features": 0, "clusters": 0, "clustered_proposals": 0}
    for child in group._children.values():
        if isinstance(child, ProposalGeoJson) and not child.config.get("halo"):
            out["features"] += len(child.data["features"])
        elif isinstance(child, ProposalClusters):
            out["clusters"] += len(child.points)
            out["clustered_proposals"] += int(sum(p[2] for p in child.points))
    return out


def bench_map_payload(scale: str | Scale = "quick") -> list[dict[str, Any]]:
    """Measure our residents' map against the naive map for each of the scale's ``map_sizes``.

    Proposals are generated once for the largest size and stored in a
    throwaway database (``scale.db``) in growing prefixes, so each size is a
    superset of the previous one. Returns four rows per size and view
    (``message_kB``, ``layer_kB``, ``rerun_s``, ``query_s``); the
    ``message_kB`` row's ``check`` says the measured layer holds exactly the
    proposals of the viewport (ours) and every proposal (naive).
    """
    sc = get_scale(scale)
    try:
        use_local_assets()  # as the page does: links to /app/static, no CDN
        assets = "local"
    except AssetsMissing:
        assets = "cdn (run python -m layers.assets install)"
    sizes = sorted(sc.map_sizes)
    everything = proposals_frame(max(sizes, default=0))
    the_views = views()
    rows: list[dict[str, Any]] = []
    with throwaway_database(sc.db) as url:
        store = Store.open(url)
        try:
            install_reference_data(store)
            page = Page(store)
            db = server_version(store)
            loaded = 0
            for n in sizes:
                load_proposals(store, everything.iloc[loaded:n])
                loaded = n
                rows += _bench_size(sc, store, page, n, the_views, {"database": db, "assets": assets})
        finally:
            store.dispose()
    return rows


def _bench_size(
    sc: Scale, store: Store, page: Page, n: int, the_views: dict[str, tuple[Viewport, tuple[float, float]]], common: dict[str, Any]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    all_query = best_of(lambda: map_frame(store), sc.repeats, sc.budget_s)
    everyone = all_query.result
    naive = None
    if n <= sc.naive_max:
        city_centre = next(iter(the_views.values()))[1]
        # one run: it is slow and its time varies little; a second would only double the wait
        naive_run = best_of(lambda: page.naive(everyone, city_centre, 11), 1)
        args, added = naive_run.result
        naive = {"time": naive_run, "sizes": message_sizes(args), "added": added}
    for case, (view, centre) in the_views.items():
        query = best_of(lambda: map_view(store, view.bbox, view.zoom, max_features=MAX_FEATURES), sc.repeats, sc.budget_s)
        shown = query.result
        rerun = best_of(lambda: page.ours(shown, view, centre), sc.repeats, sc.budget_s)
        args, group = rerun.result
        ours = message_sizes(args)
        got = represented(group)
        frame = map_frame(store, bbox=view.bbox)  # the check's reference: every public proposal in the viewport
        in_view = int(_in_bounds(frame, view.bbox, 0.25).sum()) if len(frame) else 0
        ours_ok = got["features"] + got["clustered_proposals"] == in_view and (got["clusters"] == 0) == (in_view <= MAX_FEATURES)
        naive_ok = naive is None or naive["added"] == len(everyone)
        form = "features" if got["clusters"] == 0 else "clusters"
        details = {
            **common,
            "bbox": view.bbox,
            "zoom": view.zoom,
            "proposals_in_query": len(shown.frame) if shown.clusters is None else shown.count,
            "ours_query": "map_view: rows" if shown.clusters is None else "map_view: count(*) + grid cells aggregated by the database",
            "proposals_in_view": in_view,
            "layer_form": form,
            **{f"layer_{k}": v for k, v in got.items()},
            "ours_bytes": ours,
            "naive_bytes": naive["sizes"] if naive else None,
            "naive_measured": "once per size (the naive map does not depend on the view)" if naive else f"skipped above {sc.naive_max:,} proposals",
        }
        naive_sizes = naive["sizes"] if naive else None
        kb = 1000.0
        rows.append(
            make_row("map_payload", case, sc.name, n, "message_kB", "kB", ours["message"] / kb,
                     naive_sizes["message"] / kb if naive_sizes else None, check=ours_ok and naive_ok, details=details)
        )
        rows.append(
            make_row("map_payload", case, sc.name, n, "layer_kB", "kB", ours["feature_group"] / kb,
                     (naive_sizes["script"] - ours["script"]) / kb if naive_sizes else None,
                     details={"ours_utf8_kB": ours["feature_group_utf8"] / kb})
        )
        rows.append(
            make_row("map_payload", case, sc.name, n, "rerun_s", "s", rerun.best_s,
                     naive["time"].best_s if naive else None, runs=len(rerun.runs_s),
                     details={"ours_runs_s": rerun.runs_s, "naive_runs_s": naive["time"].runs_s if naive else None})
        )
        rows.append(
            make_row("map_payload", case, sc.name, n, "query_s", "s", query.best_s, all_query.best_s, runs=len(query.runs_s),
                     details={"ours_runs_s": query.runs_s, "naive_runs_s": all_query.runs_s, "ours_rows": len(shown.frame) if shown.clusters is None else len(shown.clusters), "naive_rows": len(everyone)})
        )
    return rows
