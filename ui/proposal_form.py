"""The panel beside the map after a drawing: where it belongs, and the proposal form."""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from layers.draw import latest_drawing
from layers.escape import escape_markdown
from planning.budget import published_quota_status, submission_closed
from planning.categories import categories
from planning.geography import district_choices
from planning.proposals import preview_placement, submit_proposal
from ui.context import lang, show_refusal, tr
from ui.mapdata import forget_proposals

#: The proposal form's widget keys, and the plain session keys that keep its values and drawing across a failed run.
FORM_KEYS = ("pf_title", "pf_body", "pf_category", "pf_kind", "pf_cost", "pf_photo")
KEPT_INPUTS = "proposal_form_kept"
KEPT_DRAWING = "proposal_drawing_kept"


def keep_form_inputs() -> None:
    """Keep what the resident entered in the proposal form when a run fails before drawing the form.

    Streamlit forgets the values of widgets a run did not draw; when the
    database is unreachable the page stops before the form, so the values
    (and the drawing the map sent) are copied to plain session keys, and
    :func:`placement_and_form` puts them back the next time it draws the form.
    """
    kept = {k: st.session_state[k] for k in FORM_KEYS if k in st.session_state}
    if kept:
        st.session_state[KEPT_INPUTS] = {**st.session_state.get(KEPT_INPUTS, {}), **kept}
    drawing = latest_drawing(st.session_state.get("residents_map"))
    if drawing is not None:
        st.session_state[KEPT_DRAWING] = drawing


def kept_drawing() -> dict | None:
    """The drawing kept by :func:`keep_form_inputs`, for the map page when the remounted map sends none."""
    return st.session_state.get(KEPT_DRAWING)


def _restore_form_inputs() -> None:
    for key, value in st.session_state.pop(KEPT_INPUTS, {}).items():
        st.session_state[key] = value  # before the widgets exist: they start from these values


def _distance(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def placement_and_form(store, actor, drawing: dict, drawing_key: str) -> None:
    """Show the placement of ``drawing`` and, for a signed-in resident, the form to submit it."""
    try:
        place = preview_placement(store, drawing)
    except Refusal as err:
        show_refusal(err)
        return
    st.subheader(tr("place.title"))
    for repair in place.repairs:
        st.warning(repair.message(lang()))
    st.markdown(
        "  \n".join(
            [
                escape_markdown(tr("place.hub", name=place.hub_name, distance=_distance(place.hub_distance_m))),
                escape_markdown(tr("place.district", name=place.district_name)),
                escape_markdown(tr("place.legal_dong", name=place.legal_dong_name)),
            ]
        )
    )
    if len(place.district_shares) > 1:
        names = district_choices(store)
        shares = ", ".join(
            f"{names.get(code, code)} {share:.0%}" for code, share in sorted(place.district_shares.items(), key=lambda kv: -kv[1])
        )
        st.caption(tr("place.shares", shares=shares))
    quota = published_quota_status(store, place.district_code)
    if quota is None:
        st.caption(tr("place.quota_unset"))
    else:
        st.markdown(escape_markdown(tr("place.quota", left=f"{quota.left_krw:,}원", total=f"{quota.quota_krw:,}원")))
    if actor.id is None:
        st.info(tr("signin.required"))
        return
    closed = submission_closed(store)
    if closed is not None:
        st.info(closed.message(lang()))
        return
    cats = {c.code: c.label(lang()) for c in categories()}
    _restore_form_inputs()
    with st.form("proposal_form", clear_on_submit=False):
        title = st.text_input(tr("form.title"), max_chars=120, key="pf_title")
        body = st.text_area(tr("form.body"), max_chars=5000, key="pf_body")
        category = st.selectbox(tr("form.category"), options=list(cats), format_func=cats.get, key="pf_category")
        kind = st.radio(
            tr("form.kind"), options=["individual", "area"], format_func={k: tr(f"form.kind.{k}") for k in ("individual", "area")}.get, key="pf_kind", horizontal=True
        )
        cost = st.number_input(tr("form.cost"), min_value=0, max_value=10_000_000_000, value=None, step=1_000_000, key="pf_cost")
        photo = st.text_input(tr("form.photo"), key="pf_photo", placeholder="https://")
        sent = st.form_submit_button(tr("form.submit"), type="primary", key="pf_submit")
    if sent:
        try:
            pid = submit_proposal(
                store,
                actor,
                drawing,
                title=title,
                body=body,
                category=category,
                kind=kind,
                cost_krw=None if cost is None else int(cost),
                photo_url=photo.strip() or None,
            )
        except Refusal as err:
            show_refusal(err)
            return
        # submit_proposal returned: the transaction committed, so only now does the page say "submitted"
        st.session_state.pop(KEPT_DRAWING, None)
        st.session_state["submitted_drawings"].add(drawing_key)
        st.session_state["selected_proposal"] = pid
        st.session_state["flash"] = tr("form.submitted", id=pid)
        forget_proposals()
        st.rerun()
