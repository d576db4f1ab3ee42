"""What every page needs: the store, the language, the signed-in actor."""
from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from planning.accounts import client_key_from, session_actor, session_valid
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


_SESSION_STARTED = "session_started_at"
_SESSION_LAST_SEEN = "session_last_seen"


def start_session(resident_id: int) -> None:
    """Sign ``resident_id`` in for this browser session, recording when (for :func:`planning.accounts.session_valid`)."""
    now = datetime.now(timezone.utc)
    st.session_state["resident_id"] = resident_id
    st.session_state[_SESSION_STARTED] = now
    st.session_state[_SESSION_LAST_SEEN] = now


def end_session() -> None:
    """Sign out of the local account (an OIDC sign-in is ended with ``st.logout``)."""
    for key in ("resident_id", _SESSION_STARTED, _SESSION_LAST_SEEN):
        st.session_state.pop(key, None)


def client_key() -> str:
    """This visitor's rate-limit key: the first ``X-Forwarded-For`` hop, else the connection's IP address."""
    try:
        headers, ip = st.context.headers, st.context.ip_address
    except Exception:  # no browser connection (bare script run)
        return client_key_from(None, None)
    return client_key_from(headers.get("X-Forwarded-For"), ip)


def current_actor(store: Store) -> Actor:
    """The signed-in resident (OIDC or local account), or the anonymous visitor.

    A local session that was idle too long or is too old ends here, with a
    notice; so does one whose account was deleted meanwhile.
    """
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        from planning.accounts import resident_for_oidc

        rid = resident_for_oidc(store, subject=str(st.user.get("sub", "")), email=st.user.get("email"), name=st.user.get("name"))
        return actor_for(store, rid)
    rid = st.session_state.get("resident_id")
    if rid is None:
        return Actor.anonymous()
    now = datetime.now(timezone.utc)
    if _SESSION_STARTED not in st.session_state:  # signed in by other code than start_session: starts now
        st.session_state[_SESSION_STARTED] = st.session_state[_SESSION_LAST_SEEN] = now
    if not session_valid(st.session_state.get(_SESSION_STARTED), st.session_state.get(_SESSION_LAST_SEEN), now):
        end_session()
        st.warning(tr("accounts.session_expired"))
        return Actor.anonymous()
    st.session_state[_SESSION_LAST_SEEN] = now
    actor = session_actor(store, rid)
    if actor.id is None:  # the account is gone or was deleted
        end_session()
    return actor


def show_refusal(err, *, where=st) -> None:
    """Show a bilingual refusal in the current language."""
    where.error(err.message(lang()))
