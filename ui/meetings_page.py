"""Hub centres' meetings: the hub's area, preparing meetings and agendas, minutes, the meeting packet.

The page lays out widgets; catchments, meetings, minutes (through the
workflow) and packets live in ``planning`` and are tested there.
"""
from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st
import streamlit_folium

from geo.errors import Refusal
from layers.assets import AssetsMissing, use_local_assets
from layers.clusters import cluster_layer
from layers.escape import escape_markdown as md
from layers.meeting import catchment_layer
from layers.proposals import proposal_layer
from layers.viewport import focus
from planning.catchments import hub_choices
from planning.meetings import (
    agenda_candidates,
    create_meeting,
    kst_datetime,
    list_meetings,
    meeting_view,
    publish_meeting,
    record_minutes,
    set_agenda,
)
from planning.packet import build_packet
from planning.privacy import suppressed_note
from ui.cached import overview as cached_overview
from ui.context import current_actor, get_store, lang, show_refusal, tr
from ui.mapdata import base_map

KINDS = ("dong_group", "hub_meeting", "city_assembly")
DECISIONS = ("adopted", "rejected", "deferred", "merged")
SORTS = ("supports", "votes", "cost")

store = get_store()
actor = current_actor(store)
st.title(tr("nav.meetings"))
if actor.role not in ("centre_staff", "admin", "planner"):
    st.error(tr("mtg.only"))
    st.stop()
try:
    use_local_assets()
except AssetsMissing as exc:
    st.error(str(exc))
    st.stop()
if st.session_state.get("flash_meetings"):
    st.success(st.session_state.pop("flash_meetings"))

hubs = hub_choices(store)
if actor.role == "centre_staff":
    if actor.hub_code not in hubs:
        st.error(tr("mtg.no_hub"))
        st.stop()
    hub = actor.hub_code
    st.caption(tr("mtg.your_hub", hub=md(hubs[hub])))
else:
    hub = st.selectbox(tr("mtg.hub"), list(hubs), format_func=hubs.get, key="mtg_hub")


def act(action, done: str) -> None:
    try:
        action()
    except Refusal as err:
        show_refusal(err)
    else:
        st.session_state["flash_meetings"] = done
        st.rerun()


tab_area, tab_prepare, tab_minutes, tab_packet = st.tabs(
    [tr("mtg.tab.area"), tr("mtg.tab.prepare"), tr("mtg.tab.minutes"), tr("mtg.tab.packet")],
    key=f"meetings_tab_{lang()}", on_change="rerun",
)

# --- the hub's area -------------------------------------------------------------------------
with tab_area:
    if tab_area.open is not False:
        overview = cached_overview(hub)
        st.markdown(tr("mtg.area.summary", dongs=md(", ".join(overview.districts["name"])), n=len(overview.proposals), clusters=len(overview.clusters)))
        if overview.explicit:
            st.caption(tr("mtg.area.explicit"))
        if overview.suppressed_clusters:
            st.caption(suppressed_note(overview.suppressed_clusters, overview.privacy_k, lang()))
        m = base_map(lang())
        catchment_layer(overview.districts, tr("mtg.area.layer"), overview.hub_point, overview.hub_name).add_to(m)
        cluster_layer(overview.clusters, lang()).add_to(m)
        center, zoom = focus(m, tuple(overview.districts.total_bounds))
        # one stable map per hub (the proposals come as a feature group, applied without a redraw)
        streamlit_folium.st_folium(
            m, key=f"mtg_area_map_{hub}_{lang()}",
            feature_group_to_add=proposal_layer(overview.proposals, zoom=14, lang=lang(), max_features=5000),
            center=center, zoom=zoom,
            returned_objects=[], use_container_width=True, height=520,
        )
        q = overview.quotas
        if q is None or not q.published:
            st.info(tr("mtg.area.no_quotas"))
        else:
            st.subheader(tr("mtg.area.quotas", year=q.fiscal_year))
            st.dataframe(
                [{tr("budget.col.district"): r.name, tr("budget.col.quota"): r.quota_krw, tr("budget.col.committed"): r.committed_krw,
                  tr("budget.col.left"): r.left_krw} for r in q.rows],
                hide_index=True,
            )

# --- meetings and agendas -------------------------------------------------------------------------
with tab_prepare:
    if tab_prepare.open is not False:
        meetings = list_meetings(store, actor, hub)
        with st.expander(tr("mtg.new"), expanded=not meetings):
            c1, c2, c3 = st.columns(3)
            kind = c1.selectbox(tr("mtg.kind"), KINDS, format_func={k: tr(f"meeting.kind.{k}") for k in KINDS}.get, key="mtg_new_kind")
            day = c2.date_input(tr("mtg.day"), value=dt.date.today() + dt.timedelta(days=14), key="mtg_new_day")
            at = c3.time_input(tr("mtg.time"), value=dt.time(19, 0), key="mtg_new_time")
            place = st.text_input(tr("mtg.place"), key="mtg_new_place", max_chars=200)
            title = st.text_input(tr("mtg.title_optional"), key="mtg_new_title", max_chars=200)
            if st.button(tr("mtg.create"), key="mtg_create", type="primary"):
                act(lambda: create_meeting(store, actor, hub, kind, kst_datetime(day, at), place, title), tr("mtg.created"))
        if not meetings:
            st.info(tr("mtg.none"))
        else:
            labels = {m.id: f"#{m.id} {m.display_title(lang())} · {m.starts_at_kst():%Y-%m-%d %H:%M} · {tr('mtg.status.' + m.status)}" for m in meetings}
            chosen = st.selectbox(tr("mtg.pick"), list(labels), format_func=labels.get, key="mtg_pick")
            view = meeting_view(store, actor, chosen)
            info = view.meeting
            st.markdown(tr("mtg.facts", kind=tr(f"meeting.kind.{info.kind}"), when=f"{info.starts_at_kst():%Y-%m-%d %H:%M}", place=md(info.place)))
            st.markdown(f"**{tr('mtg.agenda')}**")
            for item in view.items:
                st.markdown(f"{item.position}. {md(item.title)} · {', '.join(f'#{i}' for i in item.proposal_ids)} · {tr('mtg.supports', n=item.supports)}")
            if view.can_prepare and info.status == "draft":
                sort_by = st.radio(tr("mtg.sort"), SORTS, format_func={s: tr(f"mtg.sort.{s}") for s in SORTS}.get, key="mtg_sort", horizontal=True)
                candidates = agenda_candidates(store, actor, hub, sort_by)
                if not candidates:
                    st.info(tr("mtg.no_candidates"))
                names = {c.key: f"{md(c.title)} · {tr('mtg.supports', n=c.supports)} · {c.cost_krw or 0:,}원" for c in candidates}
                current = [f"p:{i.proposal_ids[0]}" if i.kind == "proposal" else f"c:{i.cluster_label}" for i in view.items]
                picked = st.multiselect(tr("mtg.pick_items"), list(names), default=[k for k in current if k in names], format_func=names.get, key=f"mtg_items_{chosen}")
                b1, b2 = st.columns(2)
                by_key = {c.key: c for c in candidates}
                if b1.button(tr("mtg.save_agenda"), key="mtg_save_agenda"):
                    act(lambda: set_agenda(store, actor, chosen, [by_key[k] for k in picked]), tr("mtg.agenda_saved"))
                if b2.button(tr("mtg.publish"), key="mtg_publish", type="primary", disabled=not view.items):
                    act(lambda: publish_meeting(store, actor, chosen), tr("mtg.published"))
            if view.items and st.button(tr("mtg.present"), key="mtg_present"):
                st.session_state["present_meeting"] = chosen
                st.session_state["present_index"] = 0
                st.switch_page("ui/presentation_page.py")

# --- minutes ------------------------------------------------------------------------------------------
with tab_minutes:
    if tab_minutes.open is not False:
        meetings = [m for m in list_meetings(store, actor, hub) if m.status in ("published", "held")]
        if not meetings:
            st.info(tr("mtg.minutes.none"))
        else:
            labels = {m.id: f"#{m.id} {m.display_title(lang())} · {m.starts_at_kst():%Y-%m-%d}" for m in meetings}
            chosen = st.selectbox(tr("mtg.pick"), list(labels), format_func=labels.get, key="mtg_minutes_pick")
            view = meeting_view(store, actor, chosen)
            for item in view.items:
                with st.expander(f"{item.position}. {md(item.title)}", expanded=item.minutes is None):
                    if item.minutes is not None:
                        st.success(tr("mtg.minutes.recorded", decision=tr(f"meeting.decision.{item.minutes.decision}"),
                                      yes=item.minutes.votes_for, no=item.minutes.votes_against, abstain=item.minutes.votes_abstain))
                        if item.minutes.note:
                            st.caption(md(item.minutes.note))
                        continue
                    k = f"{chosen}_{item.id}"
                    decision = st.radio(tr("mtg.minutes.decision"), DECISIONS, format_func={d: tr(f"meeting.decision.{d}") for d in DECISIONS}.get, key=f"mn_decision_{k}", horizontal=True)
                    v1, v2, v3 = st.columns(3)
                    yes = v1.number_input(tr("mtg.minutes.for"), min_value=0, step=1, key=f"mn_for_{k}")
                    no = v2.number_input(tr("mtg.minutes.against"), min_value=0, step=1, key=f"mn_against_{k}")
                    abstain = v3.number_input(tr("mtg.minutes.abstain"), min_value=0, step=1, key=f"mn_abstain_{k}")
                    merge_into = st.number_input(tr("mtg.minutes.merge_into"), min_value=1, step=1, value=None, key=f"mn_merge_{k}") if decision == "merged" else None
                    note = st.text_area(tr("mtg.minutes.note"), key=f"mn_note_{k}", max_chars=800)
                    if st.button(tr("mtg.minutes.save"), key=f"mn_save_{k}", disabled=not view.can_record):
                        act(
                            lambda item=item, decision=decision, note=note, yes=yes, no=no, abstain=abstain, merge_into=merge_into: record_minutes(
                                store, actor, chosen, item.id, decision, note, int(yes), int(no), int(abstain), None if merge_into is None else int(merge_into)
                            ),
                            tr("mtg.minutes.saved"),
                        )

# --- the meeting packet -----------------------------------------------------------------------------
with tab_packet:
    if tab_packet.open is not False:
        st.caption(tr("mtg.packet.help"))
        published = [m for m in list_meetings(store, actor, hub) if m.status in ("published", "held")]
        options = [None, *[m.id for m in published]]
        labels = {None: tr("mtg.packet.next"), **{m.id: f"#{m.id} {m.display_title(lang())} · {m.starts_at_kst():%Y-%m-%d}" for m in published}}
        which = st.selectbox(tr("mtg.pick"), options, format_func=labels.get, key="mtg_packet_pick")
        if st.button(tr("mtg.packet.make"), key="mtg_packet_make", type="primary"):
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    files = build_packet(store, hub, Path(tmp), meeting_id=which, lang=lang(), viewer=actor)
                    buffer = io.BytesIO()
                    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                        for path in sorted(Path(tmp).rglob("*")):
                            if path.is_file():
                                z.write(path, path.relative_to(tmp))
                    st.session_state["mtg_packet"] = (files.pdf.name, files.pdf.read_bytes(), buffer.getvalue(), files.pages)
            except Refusal as err:
                show_refusal(err)
        if st.session_state.get("mtg_packet"):
            pdf_name, pdf_bytes, zip_bytes, pages = st.session_state["mtg_packet"]
            st.success(tr("mtg.packet.made", pages=pages))
            c1, c2 = st.columns(2)
            c1.download_button(tr("mtg.packet.pdf"), pdf_bytes, file_name=pdf_name, mime="application/pdf", key="mtg_packet_pdf", on_click="ignore")
            c2.download_button(tr("mtg.packet.zip"), zip_bytes, file_name="meeting-packet.zip", mime="application/zip", key="mtg_packet_zip", on_click="ignore")
