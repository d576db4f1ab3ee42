"""What every page needs: the store, the language, the signed-in actor."""
from __future__ import annotations

import streamlit as st

from planning.auth import Actor, actor_for
from planning.geography import install_reference_data
from planning.i18n import DEFAULT_LANG, t
from settings import get_settings
from store import Store


@st.cache_resource(show_spinner=False)
def get_store() -> Store:
    """One store per process (engine and connection pool), with reference data installed.

    Migrates on start unless ``GOYANG_MIGRATE=off`` (several instances: a
    release step migrates once, see ``docs/deployment.md``).
    """
    store = Store.open(migrate=get_settings().migrate_on_start)
    with store.exclusive("install_reference_data"):  # instances starting together
        install_reference_data(store)
    return store


def lang() -> str:
    """The interface language: Korean unless the visitor switched to English."""
    return st.session_state.get("lang", DEFAULT_LANG)


def tr(key: str, **values: object) -> str:
    """``t`` in the current language."""
    return t(key, lang(), **values)


def oidc_configured() -> bool:
    """True when an OpenID Connect provider is configured in ``[auth]`` of the secrets."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def current_actor(store: Store) -> Actor:
    """The signed-in resident (OIDC or local account), or the anonymous visitor."""
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        from planning.accounts import resident_for_oidc

        rid = resident_for_oidc(store, subject=str(st.user.get("sub", "")), email=st.user.get("email"), name=st.user.get("name"))
        return actor_for(store, rid)
    rid = st.session_state.get("resident_id")
    if rid is None:
        return Actor.anonymous()
    actor = actor_for(store, rid)
    if actor.id is None:  # the account is gone
        st.session_state.pop("resident_id", None)
    return actor


def show_refusal(err, *, where=st) -> None:
    """Show a bilingual refusal in the current language."""
    where.error(err.message(lang()))
