"""A proposal's card: facts, status (with the rejection reason or the proposal it was merged into),
support, comments (threaded one level), reports (flags) and, for planners and admins, moderation.

All user text is escaped.
"""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from layers.escape import escape_markdown as md
from planning.categories import categories
from planning.moderation import dismiss_flags, flag, hide, unhide
from planning.privacy import author_label, public_raster_kinds
from planning.proposals import add_comment, proposal_card, support_proposal, withdraw_support
from planning.reference_layers import raster_values_at
from ui.context import lang, show_refusal, tr
from ui.mapdata import forget_proposals

#: Reasons offered when reporting (labels ``card.flag.reason.<code>``).
FLAG_REASONS = ("spam", "abuse", "privacy", "off_topic", "other")


def _krw(value: int | None) -> str:
    return "—" if value is None else f"{value:,}원"


def proposal_card_view(store, actor, proposal_id: int) -> None:
    """Render the card of ``proposal_id`` for ``actor``."""
    if st.session_state.get("flash"):
        st.success(st.session_state.pop("flash"))
    card = proposal_card(store, proposal_id, actor)
    cats = {c.code: c.label(lang()) for c in categories()}
    st.subheader(f"#{card.id} {md(card.title)}")
    if card.hidden:
        st.warning(md(tr("card.hidden", reason=card.hidden_reason or "—")))
    if card.is_demo:
        st.caption("🧪 " + tr("card.demo"))
    st.markdown(
        "  \n".join(
            [
                (
                    f"**{md(cats.get(card.category, card.category))}** · {md(tr('card.status', status=tr('status.' + card.status)))}"
                    f" · {md(tr('form.kind.' + card.kind))}"
                ),
                f"{md(card.district_name)} · {md(card.legal_dong_name)} · {md(card.hub_name)}",
                f"{md(tr('card.cost'))}: {md(_krw(card.cost_krw))}",
                f"{md(author_label(card, lang()))} · {card.created_at:%Y-%m-%d}",
            ]
        )
    )
    if card.rejection_reason:
        st.info(md(tr("card.rejected_reason", reason=card.rejection_reason)))
    if card.merged_into_id is not None:
        st.info(md(tr("card.merged_into", id=card.merged_into_id)))
        if st.button(tr("card.open_merged", id=card.merged_into_id), key=f"open_merged_{card.id}"):
            st.session_state["selected_proposal"] = card.merged_into_id
            st.rerun()
    if card.merged_ids:
        st.caption(md(tr("card.merged_here", ids=", ".join(f"#{i}" for i in card.merged_ids))))
    st.markdown(md(card.body))
    values = raster_values_at(card.geometry, lang(), kinds=public_raster_kinds(actor))
    if values:
        st.caption(tr("card.rasters") + " · " + " · ".join(md(f"{title}: {value} {unit}".strip()) for title, value, unit in values))
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
            elif card.can_support and st.button(tr("card.support"), key=f"support_{card.id}", type="primary"):
                support_proposal(store, actor, card.id)
                forget_proposals()
                st.rerun()
        except Refusal as err:
            show_refusal(err)
    _flag_part(store, actor, "proposal", card.id, flagged=card.viewer_flagged, can_flag=card.can_flag)
    if card.can_moderate:
        _moderation(store, actor, "proposal", card.id, hidden=card.hidden, open_flags=card.open_flags)
    for comment, replies in card.thread:
        with st.container(border=True):
            _comment(store, actor, comment, prefix="", can_moderate=card.can_moderate)
            for reply in replies:
                _comment(store, actor, reply, prefix="↳ ", can_moderate=card.can_moderate)
            if actor.id is not None and card.can_comment and not comment.hidden:
                _comment_form(store, actor, card.id, parent_id=comment.id, label=tr("card.reply"))
    if actor.id is not None:
        if card.can_comment:
            _comment_form(store, actor, card.id, parent_id=None, label=tr("card.comment"))
    else:
        st.caption(tr("signin.required"))


def _comment(store, actor, comment, prefix: str, can_moderate: bool) -> None:
    st.markdown(f"{prefix}**{md(author_label(comment, lang()))}** · {comment.created_at:%Y-%m-%d}  \n{md(comment.body)}")
    if comment.hidden:
        st.caption(md(tr("card.comment_hidden", reason=comment.hidden_reason or "—")))
    _flag_part(store, actor, "comment", comment.id, flagged=comment.viewer_flagged, can_flag=comment.can_flag)
    if can_moderate:
        _moderation(store, actor, "comment", comment.id, hidden=comment.hidden, open_flags=comment.open_flags)


def _flag_part(store, actor, kind: str, item_id: int, *, flagged: bool, can_flag: bool) -> None:
    """"Reported" for what the viewer already flagged, else a report form (signed-in viewers, not their own items)."""
    if flagged:
        st.caption(tr("card.flagged"))
        return
    if actor.id is None or not can_flag:
        return
    key = f"flag_{kind}_{item_id}"
    with st.expander(tr("card.flag")), st.form(key, clear_on_submit=True):
        why = st.selectbox(
            tr("card.flag.reason"), options=FLAG_REASONS, format_func={c: tr(f"card.flag.reason.{c}") for c in FLAG_REASONS}.get, key=f"{key}_why"
        )
        detail = st.text_input(tr("card.flag.detail"), key=f"{key}_detail", max_chars=400)
        sent = st.form_submit_button(tr("card.flag.send"), key=f"{key}_send")
    if sent:
        reason = tr(f"card.flag.reason.{why}") + (f": {detail.strip()}" if detail.strip() else "")
        try:
            flag(store, actor, kind, item_id, reason)
        except Refusal as err:
            show_refusal(err)
            return
        st.session_state["flash"] = tr("card.flag.sent")
        st.rerun()


def _moderation(store, actor, kind: str, item_id: int, *, hidden: bool, open_flags: int) -> None:
    """Planners' and admins' controls: hide with a reason, show again, dismiss the reports."""
    if open_flags:
        st.caption(tr("card.open_flags", n=open_flags))
    key = f"mod_{kind}_{item_id}"
    with st.expander(tr("card.moderate")):
        reason = st.text_input(tr("card.moderate.reason"), key=f"{key}_reason", max_chars=1000)
        cols = st.columns(2)
        try:
            if hidden:
                if cols[0].button(tr("card.unhide"), key=f"unhide_{kind}_{item_id}"):
                    unhide(store, actor, kind, item_id, reason)
                    _done(tr("card.unhide.done"))
            elif cols[0].button(tr("card.hide"), key=f"hide_{kind}_{item_id}"):
                hide(store, actor, kind, item_id, reason)
                _done(tr("card.hide.done"))
            if open_flags and cols[1].button(tr("card.dismiss"), key=f"dismiss_{kind}_{item_id}"):
                n = dismiss_flags(store, actor, kind, item_id, reason)
                _done(tr("card.dismiss.done", n=n))
        except Refusal as err:
            show_refusal(err)


def _done(message: str) -> None:
    st.session_state["flash"] = message
    forget_proposals()
    st.rerun()


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
