"""AppTest fixtures: the app on a fresh SQLite database with demo accounts, st_folium patched.

AppTest does not run custom components, so ``streamlit_folium.st_folium`` is
replaced by a function returning what the browser would send (a drawing, a
click, bounds). Pages call it as ``streamlit_folium.st_folium`` so the patch
reaches them.
"""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import settings
from planning.demo import seed_demo
from store import Store

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def app_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    settings.get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    store = Store.open(url)
    seed_demo(store, n_proposals=30, n_residents=5)
    yield store
    store.dispose()
    st.cache_resource.clear()
    st.cache_data.clear()
    settings.get_settings.cache_clear()


class FakeMap:
    """Stands in for the map component: returns ``result`` and records the calls."""

    def __init__(self):
        self.result: dict = {}
        self.calls: list[dict] = []

    def __call__(self, fig, **kwargs):
        self.calls.append({"fig": fig, **kwargs})
        return dict(self.result)


@pytest.fixture
def fake_map():
    fm = FakeMap()
    with mock.patch("streamlit_folium.st_folium", fm):
        yield fm


@pytest.fixture
def make_app(app_store, fake_map):
    def make(username: str | None = None, lang: str = "ko") -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if username:
            with app_store.transaction() as tx:
                at.session_state["resident_id"] = tx.residents.by_username(username).id
        if lang != "ko":
            at.session_state["lang"] = lang
        return at

    return make
