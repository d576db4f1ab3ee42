"""Residents' assemblies (주민총회) for centre staff and admins: date, attendance and endorsed proposals per district."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.errors import Refusal
from planning.budget import eligible_proposal_ids, record_assembly
from planning.budget_views import assemblies_of, districts_of_hub, proposal_titles
from ui.budget_common import cycle_header
from ui.context import current_actor, get_store, show_refusal, tr

store = get_store()
actor = current_actor(store)
st.title(tr("budget.assemblies.title"))
if actor.role not in ("centre_staff", "admin"):
    st.error(tr("budget.assemblies.only"))
    st.stop()

cycle = cycle_header(store)
if cycle.phase != "assemblies":
    st.info(tr("budget.assemblies.closed"))

if st.session_state.get("flash_assembly"):
    st.success(st.session_state.pop("flash_assembly"))

districts = districts_of_hub(store, None if actor.role == "admin" else actor.hub_code)
if not districts:
    st.info(tr("budget.assemblies.no_districts"))
    st.stop()

code = st.selectbox(tr("budget.col.district"), options=list(districts), format_func=lambda c: f"{districts[c]} ({c})", key="assembly_district")
held_on = st.date_input(tr("budget.assemblies.held_on"), value=dt.date.today(), key="assembly_date")
attendance = st.number_input(tr("budget.assemblies.attendance"), min_value=0, value=0, step=1, key="assembly_attendance")
eligible = eligible_proposal_ids(store, cycle.id, code)
titles = proposal_titles(store, eligible)
endorsed = st.multiselect(
    tr("budget.assemblies.endorsed"), options=eligible, format_func=lambda i: f"#{i} {titles.get(i, '')}", key="assembly_endorsed"
)
if not eligible:
    st.caption(tr("budget.assemblies.no_eligible"))
if st.button(tr("budget.assemblies.record"), key="record_assembly", type="primary", disabled=cycle.phase != "assemblies"):
    try:
        aid = record_assembly(store, actor, cycle.id, code, held_on, int(attendance), endorsed)
    except Refusal as err:
        show_refusal(err)
    else:
        st.session_state["flash_assembly"] = tr("budget.assemblies.recorded", id=aid)
        st.rerun()

st.subheader(tr("budget.assemblies.recorded_list"))
recorded = assemblies_of(store, cycle.id, list(districts))
if recorded:
    st.dataframe(
        pd.DataFrame(
            {
                tr("budget.col.district"): [r["name"] for r in recorded],
                tr("budget.assemblies.held_on"): [r["held_on"] for r in recorded],
                tr("budget.assemblies.attendance"): [r["attendance"] for r in recorded],
                tr("budget.assemblies.endorsed"): [r["endorsed"] for r in recorded],
            }
        ),
        hide_index=True,
        key="assemblies_table",
    )
else:
    st.caption(tr("budget.assemblies.none"))
