"""고양시 주민참여 지도 — entry: configuration, language, sign-in state, navigation by role.

Thin by design: pages live in ``ui/``; logic in ``planning``, ``layers``, ``geo``.
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="고양시 주민참여 지도 · Goyang community map", page_icon="🗺️", layout="wide")

from layers.escape import escape_markdown  # noqa: E402
from store.errors import DatabaseUnavailable, is_connection_failure  # noqa: E402
from ui.context import current_actor, get_store, show_refusal, tr  # noqa: E402
from ui.navigation import pages_for  # noqa: E402
from ui.proposal_form import keep_form_inputs  # noqa: E402

#: The label of the button that runs the page again after the database was unreachable.
RETRY_LABEL = "다시 시도 · Retry"


def main() -> None:
    """The sidebar (language first: it needs no database), the signed-in account, the pages."""
    with st.sidebar:
        st.radio(
            "언어 · Language",
            options=["ko", "en"],
            format_func=lambda code: {"ko": "한국어", "en": "English"}[code],
            key="lang",
            horizontal=True,
        )
    store = get_store()
    actor = current_actor(store)
    with st.sidebar:
        if actor.id is not None:
            st.caption(tr("signin.signed_in_as", name=escape_markdown(actor.display_name), role=tr(f"role.{actor.role}")))
        else:
            st.caption(tr("signin.required"))

    st.navigation(pages_for(actor)).run()


try:
    main()
except Exception as err:  # the database down (at start, loading the map, saving): a message, not a traceback
    if not (isinstance(err, DatabaseUnavailable) or is_connection_failure(err)):
        raise
    keep_form_inputs()  # this run drew no form: Streamlit would forget what the resident typed
    show_refusal(err if isinstance(err, DatabaseUnavailable) else DatabaseUnavailable())
    st.button(RETRY_LABEL, key="db_retry", type="primary")  # a click runs the page again
