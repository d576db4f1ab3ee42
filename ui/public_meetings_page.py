"""Upcoming meetings and their agendas, for everyone (residents see their hub's by default)."""
from __future__ import annotations

import streamlit as st

from layers.escape import escape_markdown as md
from planning.catchments import hub_choices
from planning.meetings import meeting_view, upcoming_meetings
from ui.context import current_actor, get_store, lang, tr

store = get_store()
actor = current_actor(store)
st.title(tr("public_mtg.title"))
hubs = hub_choices(store)
options = [None, *hubs]
hub = st.selectbox(tr("mtg.hub"), options, format_func={None: tr("public_mtg.mine_or_all"), **hubs}.get, key="public_mtg_hub")
meetings = upcoming_meetings(store, actor, hub)
if not meetings:
    st.info(tr("public_mtg.none"))
for m in meetings:
    with st.expander(f"{m.starts_at_kst():%Y-%m-%d %H:%M} · {md(m.display_title(lang()))} · {md(m.hub_name)}", expanded=len(meetings) == 1):
        st.markdown(tr("mtg.facts", kind=tr(f"meeting.kind.{m.kind}"), when=f"{m.starts_at_kst():%Y-%m-%d %H:%M}", place=md(m.place)))
        view = meeting_view(store, actor, m.id)
        for item in view.items:
            st.markdown(f"{item.position}. {md(item.title)} · {', '.join(f'#{i}' for i in item.proposal_ids)} · {tr('mtg.supports', n=item.supports)}")
