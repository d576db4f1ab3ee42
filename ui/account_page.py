"""Sign in (OpenID Connect or local account), register, sign out."""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from planning.accounts import authenticate, register
from planning.geography import district_choices
from ui.context import current_actor, get_store, oidc_configured, show_refusal, tr

store = get_store()
actor = current_actor(store)

if actor.id is not None:
    st.title(tr("nav.account"))
    st.write(tr("signin.signed_in_as", name=actor.display_name, role=tr(f"role.{actor.role}")))
    if st.button(tr("signin.signout"), key="signout"):
        st.session_state.pop("resident_id", None)
        if oidc_configured() and getattr(st.user, "is_logged_in", False):
            st.logout()
        st.rerun()
    st.stop()

st.title(tr("signin.title"))
st.caption(tr("signin.required"))
if oidc_configured():
    provider = st.secrets.get("auth_label", "OpenID Connect")
    if st.button(tr("signin.oidc", provider=provider), key="oidc_login"):
        st.login()

sign_in, create = st.tabs([tr("signin.title"), tr("register.title")])
with sign_in:
    with st.form("signin_form"):
        username = st.text_input(tr("signin.username"), key="signin_username")
        password = st.text_input(tr("signin.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(tr("signin.submit"), key="signin_submit")
    st.caption(tr("signin.demo_hint"))
    if submitted:
        try:
            st.session_state["resident_id"] = authenticate(store, username, password)
        except Refusal as err:
            show_refusal(err)
        else:
            st.switch_page("ui/map_page.py")

with create:
    choices = district_choices(store)
    with st.form("register_form"):
        new_username = st.text_input(tr("signin.username"), key="reg_username")
        display_name = st.text_input(tr("register.display_name"), key="reg_display")
        home = st.selectbox(tr("register.home_dong"), options=list(choices), format_func=choices.get, key="reg_home")
        pw1 = st.text_input(tr("signin.password"), type="password", key="reg_pw1")
        pw2 = st.text_input(tr("register.password_again"), type="password", key="reg_pw2")
        created = st.form_submit_button(tr("register.submit"), key="register_submit")
    if created:
        if pw1 != pw2:
            st.error(tr("register.mismatch"))
        else:
            try:
                st.session_state["resident_id"] = register(store, new_username, pw1, display_name, home)
            except Refusal as err:
                show_refusal(err)
            else:
                st.success(tr("register.done"))
                st.switch_page("ui/map_page.py")
