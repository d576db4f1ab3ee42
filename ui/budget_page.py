"""Participatory budget for everyone: the current cycle's phase, the quota table and map, the ballot, the results."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import streamlit_folium

from geo.errors import Refusal
from layers.budget import quota_choropleth
from layers.escape import escape_markdown as md
from planning.budget import PHASES, ballot_status, cast_votes, quota_table
from planning.budget_views import ballot_items, current_cycle_view, district_card, quota_status_by_district, result_rows
from planning.geography import districts_frame
from ui.budget_common import phase_name
from ui.context import current_actor, get_store, lang, show_refusal, tr
from ui.mapdata import base_map

store = get_store()
actor = current_actor(store)
st.title(tr("budget.title"))

cycle = current_cycle_view(store)
if cycle is None:
    st.info(tr("budget.no_cycle"))
    st.stop()


st.subheader(tr("budget.cycle", year=cycle.fiscal_year))
steps = [p for p in PHASES if cycle.has_voting or p != "voting"]
st.markdown(" → ".join(f"**{phase_name(p)}**" if p == cycle.phase else phase_name(p) for p in steps))
st.caption(tr("budget.phase_now", phase=phase_name(cycle.phase)))

# ---------------------------------------------------------------- quotas
st.subheader(tr("budget.quotas"))
if not cycle.published:
    st.info(tr("budget.quotas_unpublished"))
else:
    rows = quota_table(store, actor, cycle.id)
    table = pd.DataFrame(
        {
            tr("budget.col.district"): [r["name"] for r in rows],
            tr("budget.col.voters"): [r["voters"] for r in rows],
            tr("budget.col.quota"): [r["amount_krw"] for r in rows],
            tr("budget.col.committed"): [r["committed_krw"] for r in rows],
            tr("budget.col.left"): [r["amount_krw"] - r["committed_krw"] for r in rows],
        }
    )
    st.caption(tr("budget.quota_sum", total=f"{sum(r['amount_krw'] for r in rows):,}"))
    st.dataframe(table, hide_index=True, key="budget_quota_table")
    m = base_map(lang())
    layer = quota_choropleth(districts_frame(store), quota_status_by_district(store, actor, cycle.id), lang())
    layer.add_to(m)
    layer.legend.add_to(m)
    streamlit_folium.st_folium(m, key="budget_map", returned_objects=[], use_container_width=True, height=460)

    st.subheader(tr("budget.district_card"))
    names = {r["district_code"]: r["name"] for r in rows}
    default = actor.home_district_code if actor.home_district_code in names else next(iter(names))
    code = st.selectbox(tr("budget.district_pick"), options=list(names), index=list(names).index(default), format_func=names.get, key="budget_card_district")
    card = district_card(store, actor, cycle.id, code, lang())
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("budget.col.quota"), tr("budget.krw", amount=f"{card.quota_krw:,}"))
    c2.metric(tr("budget.col.committed"), tr("budget.krw", amount=f"{card.committed_krw:,}"))
    c3.metric(tr("budget.col.left"), tr("budget.krw", amount=f"{card.left_krw:,}"))
    st.caption(tr("budget.card.proposals", n=len(card.proposals)))
    for p in card.proposals:
        votes = "" if p["votes"] is None else f" · {tr('budget.col.votes')} {p['votes']}"
        cost = tr("budget.krw", amount=f"{p['cost_krw']:,}")
        st.markdown(f"#{p['id']} {md(p['title'])} · {md(cost)}{md(votes)}")
    if not card.votes_visible:
        st.caption(tr("budget.card.votes_hidden"))
    for r in card.results:
        st.markdown(f"{'✅' if r['selected'] else '▫️'} #{r['proposal_id']} {md(r['title'])}: {md(r['reason'])}")

# ---------------------------------------------------------------- ballot
if cycle.phase == "voting":
    st.subheader(tr("budget.ballot"))
    if actor.id is None:
        st.info(tr("budget.ballot.signin"))
    elif actor.role != "resident":
        st.info(tr("budget.ballot.residents_only"))
    elif actor.home_district_code is None:
        st.warning(tr("budget.ballot.no_home"))
    else:
        if st.session_state.get("flash_ballot"):
            st.success(st.session_state.pop("flash_ballot"))
        status = ballot_status(store, actor, cycle.id)
        items = ballot_items(store, cycle.id, actor.home_district_code)
        st.caption(tr("budget.ballot.help", quota=f"{status.quota_krw:,}"))
        if not items:
            st.info(tr("budget.ballot.empty"))
        chosen: list[int] = []
        for item in items:
            label = f"#{item.id} {md(item.title)} · {tr('budget.krw', amount=f'{item.cost_krw:,}')}"
            if st.checkbox(label, value=item.id in status.proposal_ids, key=f"ballot_{item.id}"):
                chosen.append(item.id)
        cost = sum(i.cost_krw for i in items if i.id in chosen)
        left = status.quota_krw - cost
        c1, c2, c3 = st.columns(3)
        c1.metric(tr("budget.col.quota"), tr("budget.krw", amount=f"{status.quota_krw:,}"))
        c2.metric(tr("budget.ballot.chosen"), tr("budget.krw", amount=f"{cost:,}"))
        c3.metric(tr("budget.col.left"), tr("budget.krw", amount=f"{left:,}"))
        if left < 0:
            st.warning(tr("budget.ballot.over", over=f"{-left:,}"))
        if st.button(tr("budget.ballot.cast"), key="cast_ballot", type="primary"):
            try:
                ids = cast_votes(store, actor, cycle.id, chosen)
            except Refusal as err:
                show_refusal(err)
            else:
                st.session_state["flash_ballot"] = tr("budget.ballot.cast_ok", n=len(ids))
                st.rerun()

# ---------------------------------------------------------------- results
if cycle.phase in ("allocation", "results"):
    st.subheader(tr("budget.results"))
    results = result_rows(store, cycle.id, lang())
    if not results:
        st.info(tr("budget.results.none"))
    else:
        frame = pd.DataFrame(
            {
                tr("budget.col.district"): [r["district"] for r in results],
                tr("budget.col.rank"): [r["rank"] for r in results],
                tr("budget.col.proposal"): [f"#{r['proposal_id']} {r['title']}" for r in results],
                tr("budget.col.votes"): [r["votes"] for r in results],
                tr("budget.col.cost"): [r["cost_krw"] for r in results],
                tr("budget.col.selected"): [r["selected"] for r in results],
                tr("budget.col.reason"): [r["reason"] for r in results],
            }
        )
        st.caption(tr("budget.results.summary", selected=sum(r["selected"] for r in results), n=len(results)))
        st.dataframe(frame, hide_index=True, key="budget_results")
