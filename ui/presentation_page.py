"""Presentation mode: a full-width map and one agenda item at a time, in large type, for a projector."""
from __future__ import annotations

import streamlit as st
import streamlit_folium

from geo.errors import Refusal
from layers.assets import AssetsMissing, use_local_assets
from layers.escape import escape_markdown as md
from layers.meeting import agenda_item_layer
from layers.viewport import focus
from planning.meetings import presentation_items, upcoming_meetings
from ui.context import current_actor, get_store, lang, show_refusal, tr
from ui.mapdata import base_map

# Large type for a projector: a fixed style sheet, no user text in it.
st.markdown(
    "<style>.st-key-present-facts p, .st-key-present-facts li {font-size: 1.6rem !important; line-height: 1.5;}"
    " h1 {font-size: 3rem !important;}</style>",
    unsafe_allow_html=True,
)

store = get_store()
actor = current_actor(store)
try:
    use_local_assets()
except AssetsMissing as exc:
    st.error(str(exc))
    st.stop()

meetings = upcoming_meetings(store, actor)
choice = st.session_state.get("present_meeting")
if choice is None and meetings:
    choice = meetings[0].id
labels = {m.id: f"#{m.id} {m.display_title(lang())} · {m.starts_at_kst():%Y-%m-%d %H:%M}" for m in meetings}
if choice is not None and choice not in labels:
    labels[choice] = f"#{choice}"
if not labels:
    st.title(tr("present.title"))
    st.info(tr("present.none"))
    st.stop()
picked = st.selectbox(tr("present.meeting"), list(labels), index=list(labels).index(choice), format_func=labels.get, key="present_pick")
if picked != st.session_state.get("present_meeting"):
    st.session_state["present_meeting"] = picked
    st.session_state["present_index"] = 0
try:
    items = presentation_items(store, actor, picked, lang())
except Refusal as err:
    show_refusal(err)
    st.stop()
if not items:
    st.title(tr("present.title"))
    st.info(tr("present.empty"))
    st.stop()

i = min(max(int(st.session_state.get("present_index", 0)), 0), len(items) - 1)
item = items[i]
st.title(md(item.heading))
prev_col, where_col, next_col = st.columns([1, 2, 1])
if prev_col.button(tr("present.previous"), key="present_prev", disabled=i == 0, use_container_width=True):
    st.session_state["present_index"] = i - 1
    st.rerun()
where_col.markdown(f"<div style='text-align:center;font-size:1.6rem'>{i + 1} / {len(items)}</div>", unsafe_allow_html=True)
if next_col.button(tr("present.next"), key="present_next", disabled=i == len(items) - 1, use_container_width=True):
    st.session_state["present_index"] = i + 1
    st.rerun()

m = base_map(lang())
center, zoom = focus(m, item.extent, width_px=1200, height_px=560)
# One stable map per meeting: the item comes as a feature group with a new centre and zoom,
# which streamlit-folium applies without redrawing the map.
streamlit_folium.st_folium(
    m,
    key=f"present_map_{picked}",
    feature_group_to_add=agenda_item_layer(item.members, item.heading),
    center=center,
    zoom=zoom,
    returned_objects=[],
    use_container_width=True,
    height=560,
)
with st.container(key="present-facts"):
    st.markdown("\n".join(f"- **{md(label)}**: {md(value)}" for label, value in item.facts))
    if item.body:
        st.markdown(md(item.body))
    if item.minutes is not None:
        st.success(tr("mtg.minutes.recorded", decision=tr(f"meeting.decision.{item.minutes.decision}"),
                      yes=item.minutes.votes_for, no=item.minutes.votes_against, abstain=item.minutes.votes_abstain))
