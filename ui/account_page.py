"""Sign in (OpenID Connect or local account), register, sign out; download or delete my personal data."""
from __future__ import annotations

import streamlit as st

from geo.errors import Refusal
from planning.accounts import authenticate, delete_account, personal_data_json, register
from planning.geography import district_choices
from ui.context import client_key, current_actor, end_session, get_store, oidc_configured, show_refusal, start_session, tr

store = get_store()
actor = current_actor(store)

if actor.id is not None:
    st.title(tr("nav.account"))
    st.write(tr("signin.signed_in_as", name=actor.display_name, role=tr(f"role.{actor.role}")))
    if st.button(tr("signin.signout"), key="signout"):
        end_session()
        if oidc_configured() and getattr(st.user, "is_logged_in", False):
            st.logout()
        st.rerun()

    st.subheader(tr("accounts.data.title"))
    st.caption(tr("accounts.data.help"))
    st.download_button(
        tr("accounts.data.download"),
        data=personal_data_json(store, actor),
        file_name=f"goyang-personal-data-{actor.id}.json",
        mime="application/json",
        key="export_data",
    )
    with st.expander(tr("accounts.delete.title")):
        st.warning(tr("accounts.delete.warning"))
        with st.form("delete_account_form"):
            confirmation = st.text_input(tr("accounts.delete.password"), type="password", key="delete_password")
            delete = st.form_submit_button(tr("accounts.delete.submit"), key="delete_submit")
    if delete:
        try:
            delete_account(store, actor, confirmation, client_key=client_key())
        except Refusal as err:
            show_refusal(err)
        else:
            end_session()
            st.session_state["account_deleted"] = True
            if oidc_configured() and getattr(st.user, "is_logged_in", False):
                st.logout()
            st.rerun()
    st.stop()

if st.session_state.pop("account_deleted", False):
    st.success(tr("accounts.delete.done"))

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
            start_session(authenticate(store, username, password, client_key=client_key()))
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
                start_session(register(store, new_username, pw1, display_name, home))
            except Refusal as err:
                show_refusal(err)
            else:
                st.success(tr("register.done"))
                st.switch_page("ui/map_page.py")
