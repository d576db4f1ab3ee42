"""What the budget pages share: phase names in the current language and the cycle header."""
from __future__ import annotations

import streamlit as st

from planning.budget import PHASE_LABELS
from planning.budget_views import current_cycle_view
from ui.context import lang, tr


def phase_name(phase: str | None) -> str:
    """A phase's name in the interface language ("–" for none)."""
    ko, en = PHASE_LABELS.get(phase or "", (phase or "–", phase or "–"))
    return en if lang() == "en" else ko


def cycle_header(store):
    """The current cycle under a subheader with its phase; stops the page when there is no cycle."""
    cycle = current_cycle_view(store)
    if cycle is None:
        st.info(tr("budget.no_cycle"))
        st.stop()
    st.subheader(tr("budget.cycle", year=cycle.fiscal_year))
    st.caption(tr("budget.phase_now", phase=phase_name(cycle.phase)))
    return cycle
