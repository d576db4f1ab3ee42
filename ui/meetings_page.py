"""Community centres' meetings (issue 6): not built yet, said plainly."""
import streamlit as st

from ui.context import tr

st.title(tr("nav.meetings"))
st.info(tr("placeholder.later", issue="#6"))
