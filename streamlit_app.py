"""고양시 주민참여 지도 — entry: configuration, language, sign-in state, navigation by role.

Thin by design: pages live in ``ui/``; logic in ``planning``, ``layers``, ``geo``.
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="고양시 주민참여 지도 · Goyang community map", page_icon="🗺️", layout="wide")

from ui.context import current_actor, get_store, tr  # noqa: E402  (set_page_config must come first)
from ui.navigation import pages_for  # noqa: E402

store = get_store()
with st.sidebar:
    st.radio(
        "언어 · Language",
        options=["ko", "en"],
        format_func=lambda code: {"ko": "한국어", "en": "English"}[code],
        key="lang",
        horizontal=True,
    )
actor = current_actor(store)
with st.sidebar:
    if actor.id is not None:
        st.caption(tr("signin.signed_in_as", name=actor.display_name, role=tr(f"role.{actor.role}")))
    else:
        st.caption(tr("signin.required"))

st.navigation(pages_for(actor)).run()
