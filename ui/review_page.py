"""Planners' review workspace (issue 5): not built yet, said plainly."""
import streamlit as st

from ui.context import tr

st.title(tr("nav.review"))
st.info(tr("placeholder.later", issue="#5"))
