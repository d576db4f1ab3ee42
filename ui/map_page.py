"""Residents' map: browse layers, find a dong, draw and submit a proposal, open a proposal's card."""
from __future__ import annotations

import hashlib
import json

import streamlit as st
import streamlit_folium

from geo.errors import Refusal
from geo.search import find_places
from layers.assets import AssetsMissing, use_local_assets
from layers.draw import draw_control, drawn_circle_to_polygon, is_drawn_circle, latest_drawing
from layers.proposals import clicked_proposal_id, proposal_layer
from layers.viewport import GOYANG_CENTER, GOYANG_ZOOM, viewport_from_result, zoom_for_bounds
from ui.cards import proposal_card_view
from ui.context import current_actor, get_store, lang, tr
from ui.mapdata import base_map, proposals_in_view
from ui.proposal_form import KEPT_DRAWING, kept_drawing, placement_and_form

MAP_MAX_FEATURES = 500  # above this many proposals in view, the map shows grid clusters counted by the database

store = get_store()
actor = current_actor(store)

st.title(tr("app.title"))
st.caption(tr("app.tagline"))

try:
    use_local_assets()
except AssetsMissing as exc:
    st.error(str(exc))
    st.stop()

# --- find a place -------------------------------------------------------------
# Results go into a container that is always there, so the map keeps its place in the
# page's element tree (an element inserted above it would remount the map's iframe).
search_col, results_col = st.columns([2, 3], vertical_alignment="bottom")
query = search_col.text_input(tr("map.search"), key="place_query", placeholder="행신1동 · 4128164000 · 일산서구")
with results_col.container():
    if query.strip():
        places = find_places(query, limit=6)
        if not places:
            st.caption(tr("map.search.none", query=query))
        else:
            picked = st.radio(
                tr("map.search"),
                options=range(len(places)),
                format_func=lambda i: places[i].display_name,
                key="place_pick",
                horizontal=True,
                label_visibility="collapsed",
            )
            place = places[picked]
            target = {"center": [place.centre_lat, place.centre_lon], "zoom": zoom_for_bounds(*place.bounds, width_px=560, height_px=620)}
            if st.session_state.get("map_target") != target:
                st.session_state["map_target"] = target

target = st.session_state.get("map_target", {"center": list(GOYANG_CENTER), "zoom": GOYANG_ZOOM})

# --- the map ------------------------------------------------------------------
map_col, side_col = st.columns([3, 2], gap="medium")
with map_col:
    m = base_map(lang())
    draw_control(lang()).add_to(m)
    # streamlit-folium copies the map's new value (bounds, zoom) into st.session_state["residents_map"] before this
    # run: take the new viewport now, so a pan costs one run (the new view's layer), not two (old layer, then st.rerun)
    pending = viewport_from_result(st.session_state.get("residents_map"))
    if pending is not None and pending != st.session_state.get("map_view"):
        st.session_state["map_view"] = pending
    view = st.session_state.get("map_view")
    zoom = view.zoom if view else GOYANG_ZOOM
    shown = proposals_in_view(view.bbox if view else None, zoom, max_features=MAP_MAX_FEATURES, selected_id=st.session_state.get("selected_proposal"))
    layer = proposal_layer(
        shown.frame,
        zoom=zoom,
        lang=lang(),
        selected_id=st.session_state.get("selected_proposal"),
        bounds=view.bbox if view else None,
        max_features=MAP_MAX_FEATURES,
        clusters=shown.clusters,
    )
    result = streamlit_folium.st_folium(
        m,
        key="residents_map",
        feature_group_to_add=layer,
        center=target["center"],
        zoom=target["zoom"],
        returned_objects=["all_drawings", "last_active_drawing", "bounds", "zoom", "last_object_clicked_tooltip"],
        use_container_width=True,
        height=620,
    )
    st.caption(tr("map.approximate"))

new_view = viewport_from_result(result)
if new_view is not None and new_view != view:
    st.session_state["map_view"] = new_view
    st.rerun()  # fetch the proposals of the new view (the map itself does not reload)

clicked = clicked_proposal_id(result)
if clicked is not None and clicked != st.session_state.get("last_clicked"):
    st.session_state["last_clicked"] = clicked
    st.session_state["selected_proposal"] = clicked
    st.rerun()  # highlight the selection on the map in this same interaction

with side_col:
    drawing = latest_drawing(result)
    if drawing is not None or isinstance((result or {}).get("all_drawings"), list):
        st.session_state.pop(KEPT_DRAWING, None)  # the resident drew (or deleted) on the map since
    else:  # the map remounted after the database was unreachable: the drawing the kept form was for
        drawing = kept_drawing()
    if drawing is not None and is_drawn_circle(drawing):
        drawing = drawn_circle_to_polygon(drawing)
    key = hashlib.sha1(json.dumps(drawing, sort_keys=True).encode()).hexdigest() if drawing else None
    if drawing is not None and key not in st.session_state.setdefault("submitted_drawings", set()):
        placement_and_form(store, actor, drawing, key)
    elif st.session_state.get("selected_proposal") is not None:
        try:
            proposal_card_view(store, actor, st.session_state["selected_proposal"])
        except Refusal as err:
            st.warning(err.message(lang()))
            st.session_state.pop("selected_proposal", None)
    else:
        st.markdown(tr("map.in_view", n=f"{shown.count:,}"))
        st.markdown(tr("map.draw_hint"))
