"""My proposals: notifications (unread first), the author's list with each status and why, edit and withdraw while submitted."""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from layers.escape import escape_markdown as md
from planning.categories import categories
from planning.moderation import mark_read, notifications_for
from planning.proposals import edit_proposal, my_proposals, withdraw_proposal
from ui.context import current_actor, get_store, lang, show_refusal, tr
from ui.mapdata import forget_proposals

store = get_store()
actor = current_actor(store)
st.title(tr("mine.title"))
if actor.id is None:
    st.info(tr("signin.required"))
    st.stop()

if st.session_state.get("flash_mine"):
    st.success(st.session_state.pop("flash_mine"))

# --- notifications ----------------------------------------------------------------
notes = notifications_for(store, actor)
unread = [n for n in notes if n.unread]
st.subheader(tr("mine.notifications") + (f" · {tr('mine.notifications.unread', n=len(unread))}" if unread else ""))
if not notes:
    st.caption(tr("mine.notifications.none"))
else:
    if unread and st.button(tr("mine.mark_all_read"), key="notes_read_all"):
        mark_read(store, actor)
        st.rerun()
    for n in notes:  # unread first, then newest first
        with st.container(border=True):
            mark = "🔔 " if n.unread else ""
            st.markdown(f"{mark}{md(n.message(lang()))}  \n{n.created_at:%Y-%m-%d %H:%M}")
            if n.unread and st.button(tr("mine.mark_read"), key=f"note_read_{n.id}"):
                mark_read(store, actor, [n.id])
                st.rerun()

# --- my proposals -------------------------------------------------------------------
st.subheader(tr("mine.title"))
cats = {c.code: c.label(lang()) for c in categories()}
mine = my_proposals(store, actor)
if not mine:
    st.info(tr("mine.none"))
for p in mine:
    header = f"#{p.id} {md(p.title)} · {md(tr('status.' + p.status))}" + (" · 🙈" if p.hidden else "")
    with st.expander(header, expanded=False):
        st.caption(md(tr("card.status", status=tr("status." + p.status))))
        if p.hidden:
            st.warning(md(tr("mine.hidden", reason=p.hidden_reason or "—")))
        if p.rejection_reason:
            st.info(md(tr("card.rejected_reason", reason=p.rejection_reason)))
        if p.merged_into_id is not None:
            st.info(md(tr("card.merged_into", id=p.merged_into_id)))
        st.markdown(md(p.body))
        if not p.can_edit:
            if not p.hidden:
                st.caption(tr("mine.only_submitted") if p.status == "submitted" else tr("mine.closed", status=tr("status." + p.status)))
            continue
        with st.form(f"edit_{p.id}"):
            title = st.text_input(tr("form.title"), value=p.title, max_chars=120, key=f"edit_title_{p.id}")
            body = st.text_area(tr("form.body"), value=p.body, max_chars=5000)
            category = st.selectbox(tr("form.category"), options=list(cats), index=list(cats).index(p.category) if p.category in cats else 0, format_func=cats.get)
            kind = st.radio(tr("form.kind"), options=["individual", "area"], index=0 if p.kind == "individual" else 1, format_func={k: tr(f"form.kind.{k}") for k in ("individual", "area")}.get, horizontal=True)
            cost = st.number_input(tr("form.cost"), min_value=0, max_value=10_000_000_000, value=p.cost_krw, step=1_000_000)
            photo = st.text_input(tr("form.photo"), value=p.photo_url or "")
            save = st.form_submit_button(tr("mine.edit"), key=f"save_{p.id}")
        if save:
            try:
                edit_proposal(store, actor, p.id, title=title, body=body, category=category, kind=kind,
                              cost_krw=None if cost is None else int(cost), photo_url=photo.strip() or None)
            except Refusal as err:
                show_refusal(err)
            else:
                st.session_state["flash_mine"] = tr("mine.saved")
                forget_proposals()
                st.rerun()
        if st.button(tr("mine.withdraw"), key=f"withdraw_{p.id}"):
            try:
                withdraw_proposal(store, actor, p.id)
            except Refusal as err:
                show_refusal(err)
            else:
                st.session_state["flash_mine"] = tr("mine.withdrawn")
                forget_proposals()
                st.rerun()
