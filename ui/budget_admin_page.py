"""Participatory budget administration: cycles, quotas by rule and by hand, publishing, phases, allocation."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.errors import Refusal
from planning.budget import (
    advance_phase,
    create_cycle,
    next_phase,
    override_quota,
    publish_quotas,
    quota_table,
    run_allocation,
    set_quotas_by_rule,
)
from planning.budget_views import current_cycle_view
from ui.budget_common import phase_name
from ui.context import current_actor, get_store, show_refusal, tr

store = get_store()
actor = current_actor(store)
st.title(tr("budget.admin.title"))
if actor.role != "admin":
    st.error(tr("admin.only"))
    st.stop()

if st.session_state.get("flash_budget_admin"):
    st.success(st.session_state.pop("flash_budget_admin"))


def done(message: str) -> None:
    st.session_state["flash_budget_admin"] = message
    st.rerun()


cycle = current_cycle_view(store)

# ---------------------------------------------------------------- new cycle
with st.expander(tr("budget.admin.create"), expanded=cycle is None):
    year = st.number_input(tr("budget.admin.year"), min_value=2000, max_value=2100, value=dt.date.today().year + 1, step=1, key="new_cycle_year")
    has_voting = st.checkbox(tr("budget.admin.has_voting"), value=True, key="new_cycle_voting")
    endorsed_first = st.checkbox(tr("budget.admin.endorsed_first"), value=False, key="new_cycle_endorsed_first")
    threshold = st.number_input(tr("budget.admin.threshold"), min_value=0.0, max_value=100.0, value=1.0, step=0.5, key="new_cycle_threshold")
    construction_pct = st.number_input(tr("budget.admin.construction_share"), min_value=0, max_value=100, value=None, step=5, key="new_cycle_construction")
    area_pct = st.number_input(tr("budget.admin.area_pool"), min_value=0, max_value=100, value=None, step=5, key="new_cycle_area_pool")
    rules: dict = {"endorsed_first": endorsed_first}
    if construction_pct is not None:
        rules["construction_share"] = str(round(construction_pct / 100, 4))
    if area_pct is not None:
        rules["pools"] = {"area": str(round(area_pct / 100, 4)), "individual": str(round(1 - area_pct / 100, 4))}
    if st.button(tr("budget.admin.create"), key="create_cycle", type="primary"):
        try:
            cid = create_cycle(
                store,
                actor,
                int(year),
                has_voting=has_voting,
                rules=rules,
                endorsement_threshold=str(round(threshold / 100, 4)),
            )
        except Refusal as err:
            show_refusal(err)
        else:
            done(tr("budget.admin.created", year=int(year), id=cid))

if cycle is None:
    st.info(tr("budget.no_cycle"))
    st.stop()

st.subheader(tr("budget.cycle", year=cycle.fiscal_year))
st.markdown(tr("budget.phase_now", phase=phase_name(cycle.phase)))
st.caption(tr("budget.admin.published") if cycle.published else tr("budget.quotas_unpublished"))

# ---------------------------------------------------------------- quotas by rule
st.subheader(tr("budget.admin.rule"))
st.caption(tr("budget.admin.rule.help"))
c1, c2, c3 = st.columns(3)
total = c1.number_input(tr("budget.admin.total"), min_value=0, value=cycle.total_krw or 4_400_000_000, step=100_000_000, key="rule_total")
base = c2.number_input(tr("budget.admin.base"), min_value=0, value=cycle.base_per_district_krw or 50_000_000, step=10_000_000, key="rule_base")
share = c3.number_input(tr("budget.admin.share"), min_value=0.0, max_value=100.0, value=cycle.population_share * 100 or 40.0, step=5.0, key="rule_share")
if st.button(tr("budget.admin.rule.apply"), key="apply_rule", type="primary"):
    try:
        table = set_quotas_by_rule(store, actor, cycle.id, int(total), int(base), str(round(share / 100, 4)))
    except Refusal as err:
        show_refusal(err)
    else:
        done(tr("budget.admin.rule.done", n=len(table), total=f"{sum(table.values()):,}"))

rows = quota_table(store, actor, cycle.id)
if rows:
    frame = pd.DataFrame(
        {
            tr("admin.code"): [r["district_code"] for r in rows],
            tr("budget.col.district"): [r["name"] for r in rows],
            tr("budget.col.voters"): [r["voters"] for r in rows],
            tr("budget.col.quota"): [r["amount_krw"] for r in rows],
            tr("budget.col.overridden"): [r["overridden"] for r in rows],
            tr("budget.col.committed"): [r["committed_krw"] for r in rows],
        }
    )
    st.caption(tr("budget.quota_sum", total=f"{sum(r['amount_krw'] for r in rows):,}"))
    st.dataframe(frame, hide_index=True, key="admin_quota_table")

    st.subheader(tr("budget.admin.override"))
    names = {r["district_code"]: r["name"] for r in rows}
    amounts = {r["district_code"]: r["amount_krw"] for r in rows}
    o1, o2 = st.columns(2)
    code = o1.selectbox(tr("budget.col.district"), options=list(names), format_func=lambda c: f"{names[c]} ({c})", key="override_district")
    amount = o2.number_input(tr("budget.col.quota"), min_value=0, value=int(amounts[code]), step=1_000_000, key="override_amount")
    if st.button(tr("budget.admin.override"), key="override_quota"):
        try:
            override_quota(store, actor, cycle.id, code, int(amount))
        except Refusal as err:
            show_refusal(err)
        else:
            done(tr("budget.admin.override.done", name=names[code], amount=f"{int(amount):,}"))

    if st.button(tr("budget.admin.publish"), key="publish_quotas", disabled=cycle.published):
        try:
            publish_quotas(store, actor, cycle.id)
        except Refusal as err:
            show_refusal(err)
        else:
            done(tr("budget.admin.publish.done"))

# ---------------------------------------------------------------- phases and allocation
st.subheader(tr("budget.admin.phase"))
upcoming = next_phase(cycle)
if upcoming is None:
    st.caption(tr("budget.admin.last_phase"))
elif st.button(tr("budget.admin.advance", phase=phase_name(upcoming)), key="advance_phase"):
    try:
        new = advance_phase(store, actor, cycle.id)
    except Refusal as err:
        show_refusal(err)
    else:
        done(tr("budget.admin.advanced", phase=phase_name(new)))

if cycle.phase == "allocation":
    st.subheader(tr("budget.admin.allocation"))
    if st.button(tr("budget.admin.run"), key="run_allocation", type="primary"):
        try:
            decisions = run_allocation(store, actor, cycle.id)
        except Refusal as err:
            show_refusal(err)
        else:
            done(tr("budget.admin.run.done", selected=sum(d.selected for d in decisions), n=len(decisions)))
