"""Streamlit pages. Thin: widgets in, service calls, widgets out.

Everything a page decides lives in ``planning``, ``layers`` or ``geo``; this
package only lays out widgets and keeps UI state in ``st.session_state``.
"""
