"""A proposal's card: facts, support, comments (threaded one level). All user text is escaped."""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from layers.escape import escape_markdown as md
from planning.categories import categories
from planning.proposals import add_comment, proposal_card, support_proposal, withdraw_support
from ui.context import lang, show_refusal, tr
from ui.mapdata import forget_proposals


def _krw(value: int | None) -> str:
    return "—" if value is None else f"{value:,}원"


def proposal_card_view(store, actor, proposal_id: int) -> None:
    """Render the card of ``proposal_id`` for ``actor``."""
    if st.session_state.get("flash"):
        st.success(st.session_state.pop("flash"))
    card = proposal_card(store, proposal_id, actor)
    cats = {c.code: c.label(lang()) for c in categories()}
    st.subheader(f"#{card.id} {md(card.title)}")
    if card.is_demo:
        st.caption("🧪 " + tr("card.demo"))
    st.markdown(
        "  \n".join(
            [
                f"**{md(cats.get(card.category, card.category))}** · {md(tr('card.status', status=tr('status.' + card.status)))}"
                f" · {md(tr('form.kind.' + card.kind))}",
                f"{md(card.district_name)} · {md(card.legal_dong_name)} · {md(card.hub_name)}",
                f"{md(tr('card.cost'))}: {md(_krw(card.cost_krw))}",
                f"{md(card.author_name)} · {card.created_at:%Y-%m-%d}",
            ]
        )
    )
    st.markdown(md(card.body))
    if card.photo_url:
        st.markdown(f"📷 {md(card.photo_url)}")
    c1, c2 = st.columns(2)
    c1.metric(tr("card.supports", n=""), card.supports)
    c2.metric(tr("card.comments", n=""), sum(1 + len(replies) for _, replies in card.thread))
    if actor.id is not None:
        try:
            if card.viewer_supports:
                if st.button(tr("card.unsupport"), key=f"unsupport_{card.id}"):
                    withdraw_support(store, actor, card.id)
                    forget_proposals()
                    st.rerun()
            elif st.button(tr("card.support"), key=f"support_{card.id}", type="primary"):
                support_proposal(store, actor, card.id)
                forget_proposals()
                st.rerun()
        except Refusal as err:
            show_refusal(err)
    for comment, replies in card.thread:
        with st.container(border=True):
            st.markdown(f"**{md(comment.author_name)}** · {comment.created_at:%Y-%m-%d}  \n{md(comment.body)}")
            for reply in replies:
                st.markdown(f"↳ **{md(reply.author_name)}** · {reply.created_at:%Y-%m-%d}  \n{md(reply.body)}")
            if actor.id is not None:
                _comment_form(store, actor, card.id, parent_id=comment.id, label=tr("card.reply"))
    if actor.id is not None:
        _comment_form(store, actor, card.id, parent_id=None, label=tr("card.comment"))
    else:
        st.caption(tr("signin.required"))


def _comment_form(store, actor, proposal_id: int, parent_id: int | None, label: str) -> None:
    key = f"comment_{proposal_id}_{parent_id or 0}"
    with st.form(key, clear_on_submit=True):
        body = st.text_area(label, key=f"{key}_body", height=68 if parent_id else 100)
        sent = st.form_submit_button(label, key=f"{key}_send")
    if sent:
        try:
            add_comment(store, actor, proposal_id, body, parent_id=parent_id)
        except Refusal as err:
            show_refusal(err)
            return
        forget_proposals()
        st.rerun()
