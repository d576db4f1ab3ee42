"""The database going away and coming back, for real: a TCP proxy between the store and PostgreSQL is cut.

The store connects to PostGIS through :class:`tcp_proxy.TcpProxy`; cutting
it closes the listening socket and every live connection, as a failed
network link or a restarting server would. A call during the cut is refused
with :class:`store.errors.DatabaseUnavailable` (both languages) and stores
nothing; after the restore the same call stores exactly one record; pooled
connections the cut killed are replaced without an error; a cut shorter than
the connect retries goes unnoticed; a connection lost inside the unit of
work or at COMMIT rolls back and is never re-run. The app (Streamlit AppTest)
shows the message and a retry button instead of a traceback, keeps what the
resident typed in the proposal form, and stores the proposal once when they
submit again.
"""
from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
import streamlit as st
from scenario import counts, people, snapshot, square
from sqlalchemy import event
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest
from tcp_proxy import TcpProxy

import settings
from planning.proposals import submit_proposal
from store import CONNECT_RETRY_DELAYS_S, Store
from store.errors import DatabaseUnavailable
from tests.ui.conftest import APP, FakeMap

pytestmark = pytest.mark.postgis

KO = "데이터베이스에 잠시 연결할 수 없습니다. 입력한 내용은 그대로 있으니 잠시 후 다시 시도하세요."
EN = "The database cannot be reached right now. What you entered is kept; try again in a moment."


@pytest.fixture
def outage(postgis_url):
    """(direct store, store through the proxy, proxy, account ids) on a fresh PostGIS database."""
    direct = Store.open(postgis_url)
    ids = people(direct, "admin", "r1")
    target = make_url(postgis_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    proxied = Store.open(proxy.url_for(postgis_url), migrate=False)
    try:
        yield direct, proxied, proxy, ids
    finally:
        proxy.close()
        proxied.dispose()
        direct.dispose()


def submit(store: Store, author: int, title: str, i: int = 0) -> int:
    return submit_proposal(store, author, square(i), title, "설명", "environment", "area", 10_000_000)


def titled(direct: Store, title: str) -> int:
    with direct.transaction() as tx:
        return sum(1 for p in tx.proposals.list(include_hidden=True) if p.title == title)


def test_a_cut_is_refused_in_both_languages_and_the_same_call_later_stores_once(outage):
    direct, store, proxy, ids = outage
    submit(store, ids["r1"], "첫 제안")
    assert proxy.live_connections() >= 1  # the pool keeps a connection through the proxy
    before = counts(snapshot(direct))

    proxy.cut()
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as refused:
        submit(store, ids["r1"], "끊긴 제안", 1)
    assert time.monotonic() - started >= sum(CONNECT_RETRY_DELAYS_S)  # it tried again before giving up
    err = refused.value
    assert (err.code, err.commit_unknown) == ("database_unavailable", False)
    assert err.message("ko") == KO and err.message("en") == EN
    assert counts(snapshot(direct)) == before and titled(direct, "끊긴 제안") == 0

    proxy.restore()
    submit(store, ids["r1"], "끊긴 제안", 1)
    assert titled(direct, "끊긴 제안") == 1
    assert counts(snapshot(direct))["proposals"] == before["proposals"] + 1


def test_pooled_connections_killed_by_a_cut_are_replaced_and_a_short_cut_goes_unnoticed(outage):
    direct, store, proxy, ids = outage
    submit(store, ids["r1"], "하나")
    store.data_versions()
    accepted = proxy.accepted
    proxy.cut()  # kills the pooled connection; nothing uses the store meanwhile
    proxy.restore()
    assert proxy.live_connections() == 0
    submit(store, ids["r1"], "둘", 1)  # no error: the dead pooled connection was replaced
    assert proxy.accepted > accepted
    assert titled(direct, "둘") == 1 and store.data_versions("proposals") == direct.data_versions("proposals")

    # A cut shorter than the connect retries: the call waits and succeeds, once.
    proxy.cut()
    threading.Timer(CONNECT_RETRY_DELAYS_S[0] + 0.05, proxy.restore).start()
    submit(store, ids["r1"], "잠깐 끊김", 2)
    assert titled(direct, "잠깐 끊김") == 1


def test_a_connection_lost_in_the_unit_of_work_or_at_commit_rolls_back_and_is_not_rerun(outage):
    direct, store, proxy, ids = outage
    ran = []

    def audit_audit_entries():
        with direct.transaction() as tx:
            return len(tx.audit.list(action="fault.test"))

    with pytest.raises(DatabaseUnavailable) as refused:
        with store.transaction() as tx:
            ran.append("inside")
            tx.districts.list()
            proxy.cut()  # the link goes away in the middle of the unit of work
            tx.audit.record(ids["admin"], "fault.test", "x", {})
            tx.flush()
    assert refused.value.commit_unknown is False and ran == ["inside"]
    assert audit_audit_entries() == 0
    proxy.restore()

    def cut_before_commit(conn):  # noqa: ANN001 - the COMMIT is about to be sent: the link goes now
        proxy.cut()

    event.listen(store.engine, "commit", cut_before_commit)
    ran.clear()
    try:
        with pytest.raises(DatabaseUnavailable) as refused:
            with store.transaction() as tx:
                ran.append("inside")
                tx.audit.record(ids["admin"], "fault.test", "y", {})
    finally:
        event.remove(store.engine, "commit", cut_before_commit)
    err = refused.value
    assert err.commit_unknown is True and ran == ["inside"]  # never re-run behind the caller's back
    assert "저장되었는지 확인할 수 없습니다" in err.message("ko") and "not known whether it was saved" in err.message("en")
    assert audit_audit_entries() == 0  # this COMMIT never left; the message still asks to check first
    proxy.restore()
    with store.transaction() as tx:
        tx.audit.record(ids["admin"], "fault.test", "z", {})
    assert audit_audit_entries() == 1


LON, LAT = 126.833004, 37.622148  # 행신1동
SQUARE = {
    "type": "Feature",
    "properties": {},
    "geometry": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + 0.002, LAT], [LON + 0.002, LAT + 0.001], [LON, LAT + 0.001], [LON, LAT]]]},
}


@pytest.fixture
def app_through_proxy(outage, monkeypatch):
    direct, store, proxy, ids = outage
    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    settings.get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    fake_map = FakeMap()
    fake_map.result = {"all_drawings": [SQUARE], "last_active_drawing": SQUARE, "bounds": None, "zoom": 12}
    try:
        with mock.patch("streamlit_folium.st_folium", fake_map):
            yield direct, proxy, ids
    finally:
        st.cache_resource.clear()  # disposes nothing: the cached store's pool dies with the proxy
        st.cache_data.clear()
        settings.get_settings.cache_clear()


def test_the_proposal_form_survives_an_outage_and_submits_once(app_through_proxy):
    direct, proxy, ids = app_through_proxy
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["resident_id"] = ids["r1"]
    at.run()
    assert not at.exception, at.exception
    title, body = "정전 중 제안", "버스정류장 옆에 벤치가 필요합니다."
    at.text_input(key="pf_title").input(title)
    at.text_area(key="pf_body").input(body)
    at.number_input(key="pf_cost").set_value(15_000_000)

    proxy.cut()
    at.button(key="pf_submit").click().run()
    assert not at.exception, at.exception  # a message, not a traceback
    assert KO in [e.value for e in at.error]
    assert "db_retry" in [b.key for b in at.button]
    assert titled(direct, title) == 0 and "flash" not in at.session_state  # no "submitted" notice

    at.button(key="db_retry").click().run()  # still down: the same message again
    assert KO in [e.value for e in at.error]

    proxy.restore()
    at.button(key="db_retry").click().run()
    assert not at.exception, at.exception
    assert at.text_input(key="pf_title").value == title and at.text_area(key="pf_body").value == body
    assert at.number_input(key="pf_cost").value == 15_000_000
    assert titled(direct, title) == 0
    at.button(key="pf_submit").click().run()
    assert not at.exception, at.exception
    assert titled(direct, title) == 1
    assert at.session_state["selected_proposal"] is not None
