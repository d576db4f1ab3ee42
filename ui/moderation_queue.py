"""The moderators' flag queue (part of the review page): hide with a reason, dismiss, unhide."""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from layers.escape import escape_markdown as md
from planning.moderation import dismiss_flags, flag_queue, hide, unhide
from ui.context import show_refusal, tr


def moderation_queue(store, actor, hidden_frame) -> None:
    """Open flags, most-flagged first, each with hide/dismiss; then the hidden proposals, each with unhide."""
    queue = flag_queue(store, actor)
    if not queue:
        st.info(tr("review.mod.none"))
    for item in queue:
        kind = tr(f"review.mod.kind.{item.kind}")
        state = tr("review.mod.hidden") if item.hidden else ""
        with st.expander(f"{kind} #{item.item_id} · {md(item.excerpt)} · {tr('review.mod.count', n=item.count)} {state}"):
            if item.kind == "comment":
                st.caption(tr("review.mod.on_proposal", id=item.proposal_id, title=md(item.proposal_title)))
            for r in item.reasons:
                st.markdown(f"- {md(r.reason)} ({r.created_at:%Y-%m-%d})")
            key = f"{item.kind}_{item.item_id}"
            why = st.text_input(tr("review.mod.reason"), key=f"mod_reason_{key}", max_chars=1000)
            c1, c2 = st.columns(2)
            if c1.button(tr("review.mod.hide"), key=f"mod_hide_{key}", disabled=item.hidden):
                _act(lambda: hide(store, actor, item.kind, item.item_id, why), tr("review.mod.hidden_done"))
            if c2.button(tr("review.mod.dismiss"), key=f"mod_dismiss_{key}"):
                _act(lambda: dismiss_flags(store, actor, item.kind, item.item_id, why), tr("review.mod.dismissed"))
    hidden = hidden_frame[hidden_frame["hidden"]]
    st.subheader(tr("review.mod.hidden_list", n=len(hidden)))
    for row in hidden.itertuples():
        c1, c2 = st.columns([4, 1])
        c1.markdown(f"#{row.id} {md(row.title)}")
        if c2.button(tr("review.mod.unhide"), key=f"mod_unhide_{row.id}"):
            _act(lambda pid=int(row.id): unhide(store, actor, "proposal", pid), tr("review.mod.unhidden"))


def _act(action, done: str) -> None:
    try:
        action()
    except Refusal as err:
        show_refusal(err)
    else:
        st.session_state["flash_review_ok"] = done
        st.rerun()
