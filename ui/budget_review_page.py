"""Planners' budget review: feasibility, official cost, field verification and construction of each proposal."""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from layers.escape import escape_markdown as md
from planning.budget import review_proposal
from planning.budget_views import review_rows
from planning.geography import district_choices
from ui.budget_common import cycle_header
from ui.context import current_actor, get_store, show_refusal, tr

store = get_store()
actor = current_actor(store)
st.title(tr("budget.review.title"))
if actor.role not in ("planner", "admin"):
    st.error(tr("budget.review.only"))
    st.stop()

cycle = cycle_header(store)
if cycle.phase != "review":
    st.info(tr("budget.review.closed"))

if st.session_state.get("flash_review"):
    st.success(st.session_state.pop("flash_review"))

districts = {"": tr("budget.all_districts"), **district_choices(store)}
where = st.selectbox(tr("budget.col.district"), options=list(districts), format_func=districts.get, key="review_district")
rows = review_rows(store, actor, cycle.id, where or None)
if not rows:
    st.info(tr("budget.review.none"))
for r in rows:
    verdict = tr("budget.review.passed") if r.passed else tr("budget.review.failed") if r.reviewed else tr("budget.review.pending")
    with st.expander(f"#{r.id} {md(r.title)} · {md(r.district_name)} · {verdict}"):
        st.caption(tr("budget.review.resident_cost", amount=f"{r.resident_cost_krw:,}" if r.resident_cost_krw is not None else "–"))
        feasible = st.checkbox(tr("budget.review.feasible"), value=r.feasible if r.reviewed else True, key=f"rv_feasible_{r.id}")
        cost = st.number_input(
            tr("budget.review.official_cost"), min_value=0, value=r.official_cost_krw if r.reviewed else r.resident_cost_krw,
            step=1_000_000, key=f"rv_cost_{r.id}",
        )
        construction = st.checkbox(tr("budget.review.construction"), value=r.construction, key=f"rv_construction_{r.id}")
        verified = st.date_input(tr("budget.review.verified_on"), value=r.field_verified_on, key=f"rv_date_{r.id}")
        note = st.text_area(tr("budget.review.note"), value=r.field_note, max_chars=2000, key=f"rv_note_{r.id}")
        photo = st.text_input(tr("budget.review.photo"), value=r.field_photo_url or "", key=f"rv_photo_{r.id}")
        if st.button(tr("budget.review.save"), key=f"rv_save_{r.id}", disabled=cycle.phase != "review"):
            try:
                review_proposal(
                    store, actor, cycle.id, r.id,
                    feasible=bool(feasible),
                    official_cost_krw=None if cost is None else int(cost),
                    construction=bool(construction),
                    field_verified_on=verified or None,
                    field_note=note,
                    field_photo_url=photo.strip() or None,
                )
            except Refusal as err:
                show_refusal(err)
            else:
                st.session_state["flash_review"] = tr("budget.review.saved", id=r.id)
                st.rerun()
