"""The account page (AppTest): personal-data download, account deletion, session expiry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from planning.accounts import DELETED_DISPLAY_NAME

DEMO_PW = "goyang-demo-2026"


def _texts(at) -> str:
    parts = [e.value for e in at.error] + [e.value for e in at.warning] + [e.value for e in at.success] + [e.value for e in at.title]
    return "\n".join(str(p) for p in parts)


def _resident(app_store, username):
    with app_store.transaction() as tx:
        return tx.residents.by_username(username)


def test_download_and_delete_my_account(make_app, app_store):
    me = _resident(app_store, "demo-resident")
    at = make_app("demo-resident").run()
    at.switch_page("ui/account_page.py").run()
    assert not at.exception, at.exception
    download = at.download_button(key="export_data")
    assert download.label == "내 정보 내려받기 (JSON)"  # its content: tests/planning/test_accounts_security.py
    assert "계정 삭제" in "\n".join(e.label for e in at.expander)
    assert "되돌릴 수 없습니다" in _texts(at)

    at.text_input(key="delete_password").input("not my password")
    at.button(key="delete_submit").click().run()
    assert "삭제하지 않았습니다" in _texts(at)
    assert at.session_state["resident_id"] == me.id and _resident(app_store, "demo-resident") is not None

    at.text_input(key="delete_password").input(DEMO_PW)
    at.button(key="delete_submit").click().run()
    assert not at.exception, at.exception
    assert "resident_id" not in at.session_state
    assert "계정을 삭제했습니다" in _texts(at)
    assert _resident(app_store, "demo-resident") is None
    with app_store.transaction() as tx:
        assert tx.residents.get(me.id).display_name == DELETED_DISPLAY_NAME


def test_an_expired_session_signs_out_with_a_notice(make_app):
    at = make_app("demo-resident", lang="en")
    now = datetime.now(timezone.utc)
    at.session_state["session_started_at"] = now - timedelta(hours=12, minutes=1)
    at.session_state["session_last_seen"] = now - timedelta(minutes=1)
    at.run()
    assert not at.exception, at.exception
    assert "signed out because the session was idle or too old" in _texts(at)
    assert "resident_id" not in at.session_state


def test_a_fresh_session_stays_signed_in(make_app):
    at = make_app("demo-resident")
    now = datetime.now(timezone.utc)
    at.session_state["session_started_at"] = now - timedelta(hours=11)
    at.session_state["session_last_seen"] = now - timedelta(minutes=59)
    at.run()
    assert not at.exception, at.exception
    assert "resident_id" in at.session_state and "로그아웃되었습니다" not in _texts(at)
