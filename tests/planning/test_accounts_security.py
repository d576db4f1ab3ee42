"""Account security and personal data (issue 8), on SQLite and PostGIS through the ``store`` fixture.

Rate limits by username and by client with an injected clock, session
expiry, rehash of old argon2 parameters, the dummy verification for unknown
usernames, the personal-data export, and account deletion that keeps
counts and budget results while the person can no longer sign in.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import pytest
from argon2 import PasswordHasher

import planning.accounts as accounts
from planning.accounts import (
    ATTEMPT_RETENTION,
    ATTEMPT_WINDOW,
    DELETED_DISPLAY_NAME,
    MAX_FAILURES_PER_CLIENT,
    MAX_FAILURES_PER_USERNAME,
    TooManyAttempts,
    authenticate,
    client_key_from,
    delete_account,
    export_personal_data,
    personal_data_json,
    register,
    resident_for_oidc,
    session_actor,
    session_valid,
)
from planning.auth import Actor, actor_for
from planning.errors import NotAllowed
from planning.geography import install_reference_data

HAENGSIN1 = "4128164000"  # 행신1동
LON, LAT = 126.833004, 37.622148
PW = "correct horse battery"
M = 1_000_000
T0 = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
IP_A, IP_B = "203.0.113.7", "198.51.100.9"


def _two_residents(store, home=None):
    return store, register(store, "minji", PW, "김민지", home), register(store, "junho", PW, "이준호", home)


@pytest.fixture
def accounts_store(store):
    """Two residents; no reference data (the sign-in tests do not need the map)."""
    return _two_residents(store)


def _fail(store, username, client, at, password="wrong password!"):
    with pytest.raises(NotAllowed) as e:
        authenticate(store, username, password, client_key=client, now=at)
    return e.value


# ---------------------------------------------------------------- rate limit


def test_five_failures_lock_the_username_for_fifteen_minutes(accounts_store):
    store, minji, _ = accounts_store
    for i in range(MAX_FAILURES_PER_USERNAME):
        assert _fail(store, "minji", IP_A, T0 + timedelta(minutes=i)).code == "bad_credentials"
    # locked: even the right password, even from another client, is refused without being checked
    e = _fail(store, "minji", IP_B, T0 + timedelta(minutes=5), password=PW)
    assert isinstance(e, TooManyAttempts) and e.code == "too_many_attempts"
    assert e.retry_at == T0 + ATTEMPT_WINDOW  # when the first failure leaves the window
    assert "10분 뒤" in e.message("ko") and "10:15 KST" in e.message("ko")
    assert "try again in 10 minute(s)" in e.message("en") and "10:15 KST" in e.message("en")
    # another username is not locked
    assert authenticate(store, "junho", PW, client_key=IP_B, now=T0 + timedelta(minutes=5))
    # one failure has aged out: the right password works again
    assert authenticate(store, "minji", PW, client_key=IP_A, now=T0 + ATTEMPT_WINDOW) == minji


def test_twenty_failures_from_one_client_lock_that_client(accounts_store):
    store, minji, junho = accounts_store
    with store.transaction() as tx:  # spread over usernames, under each username's own limit
        for i in range(MAX_FAILURES_PER_CLIENT - 1):
            tx.sign_in_attempts.record(f"nobody{i % 5}", IP_A, False, at=T0 + timedelta(seconds=i))
    _fail(store, "nobody9", IP_A, T0 + timedelta(minutes=1))  # the 20th
    e = _fail(store, "minji", IP_A, T0 + timedelta(minutes=4), password=PW)
    assert e.code == "too_many_attempts" and e.retry_at == T0 + ATTEMPT_WINDOW
    assert authenticate(store, "minji", PW, client_key=IP_B, now=T0 + timedelta(minutes=4)) == minji  # other clients fine
    assert authenticate(store, "junho", PW, client_key=IP_A, now=T0 + ATTEMPT_WINDOW) == junho
    # an unknown address is no one client: failures from "unknown" never lock everyone out
    with store.transaction() as tx:
        for i in range(MAX_FAILURES_PER_CLIENT):
            tx.sign_in_attempts.record(f"nobody{i % 5}", "unknown", False, at=T0 + timedelta(seconds=i))
    assert authenticate(store, "junho", PW, client_key=None, now=T0 + timedelta(minutes=1)) == junho


def test_a_success_does_not_reset_other_clients_counters(accounts_store):
    store, minji, _ = accounts_store
    with store.transaction() as tx:  # an attacker
        for i in range(MAX_FAILURES_PER_USERNAME - 1):
            tx.sign_in_attempts.record("minji", IP_A, False, at=T0 + timedelta(minutes=i))
    assert authenticate(store, "minji", PW, client_key=IP_B, now=T0 + timedelta(minutes=5)) == minji  # the owner
    _fail(store, "minji", IP_A, T0 + timedelta(minutes=6))  # the attacker's 5th failure: locked now
    assert _fail(store, "minji", IP_A, T0 + timedelta(minutes=7), password=PW).code == "too_many_attempts"
    # whereas the owner's own mistakes are forgiven by their own success
    with store.transaction() as tx:
        for i in range(MAX_FAILURES_PER_USERNAME - 1):
            tx.sign_in_attempts.record("junho", IP_B, False, at=T0 + timedelta(minutes=i))
    authenticate(store, "junho", PW, client_key=IP_B, now=T0 + timedelta(minutes=5))
    with store.transaction() as tx:
        for i in range(MAX_FAILURES_PER_USERNAME - 1):
            tx.sign_in_attempts.record("junho", IP_B, False, at=T0 + timedelta(minutes=6 + i))
    assert authenticate(store, "junho", PW, client_key=IP_B, now=T0 + timedelta(minutes=11))


def test_attempts_are_recorded_and_old_ones_pruned(accounts_store):
    store, _, _ = accounts_store
    _fail(store, "Minji ", IP_A, T0)
    _fail(store, "ghost", None, T0)
    with store.transaction() as tx:
        rows = tx.sign_in_attempts.since(T0, username="minji") + tx.sign_in_attempts.since(T0, username="ghost")
        assert [(a.username, a.client_key, a.succeeded) for a in rows] == [("minji", IP_A, False), ("ghost", "unknown", False)]
    authenticate(store, "junho", PW, client_key=IP_B, now=T0 + ATTEMPT_RETENTION + timedelta(seconds=1))
    with store.transaction() as tx:
        assert tx.sign_in_attempts.count() == 1  # only the new success is left


def test_client_key_is_the_first_forwarded_hop_or_the_connection():
    assert client_key_from("203.0.113.7, 10.0.0.1", "10.0.0.1") == "203.0.113.7"
    assert client_key_from(None, "2001:db8::1") == "2001:db8::1"
    assert client_key_from("not an ip", "198.51.100.9") == "198.51.100.9"
    assert client_key_from("", None) == "unknown"


# ---------------------------------------------------------------- hashing


def test_an_old_hash_is_replaced_at_sign_in(accounts_store):
    store, _, _ = accounts_store
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PW)
    assert accounts.needs_rehash(old)
    with store.transaction() as tx:
        rid = tx.residents.add(username="oldtimer", display_name="옛 주민", password_hash=old).id
    assert authenticate(store, "oldtimer", PW, now=T0) == rid
    with store.transaction() as tx:
        new = tx.residents.get(rid).password_hash
    assert new != old and new.startswith("$argon2id$") and not accounts.needs_rehash(new)
    assert authenticate(store, "oldtimer", PW, now=T0) == rid


def test_unknown_usernames_cost_a_verification_too(accounts_store, monkeypatch):
    store, _, _ = accounts_store
    checked: list[str | None] = []
    real = accounts.verify_password

    def counting(password_hash, password):
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    _fail(store, "nobody", IP_A, T0)
    resident_for_oidc(store, "google-1", name="외부")
    _fail(store, "oidc:google-1", IP_A, T0)  # an account without a password
    assert checked == [accounts._dummy_hash(), accounts._dummy_hash()]
    assert checked[0].startswith("$argon2id$")


# ---------------------------------------------------------------- sessions


def test_sessions_expire_when_idle_or_old():
    assert session_valid(T0, T0, T0 + timedelta(minutes=60))
    assert not session_valid(T0, T0, T0 + timedelta(minutes=60, seconds=1))  # idle an hour
    assert session_valid(T0, T0 + timedelta(hours=11, minutes=30), T0 + timedelta(hours=12))
    assert not session_valid(T0, T0 + timedelta(hours=11, minutes=59), T0 + timedelta(hours=12, seconds=1))  # 12 h in all
    assert not session_valid(None, None, T0)


# ---------------------------------------------------------------- personal data


def _square(i: int) -> dict:
    x = LON + 0.0005 * i
    return {"type": "Polygon", "coordinates": [[[x, LAT], [x + 0.0003, LAT], [x + 0.0003, LAT + 0.0003], [x, LAT + 0.0003], [x, LAT]]]}


@pytest.fixture
def busy_store(store):
    """A cycle in its allocation phase where minji proposed, commented, supported, flagged and voted."""
    from planning.budget import advance_phase, cast_votes, create_cycle, publish_quotas, review_proposal, set_quotas_by_rule
    from planning.moderation import flag
    from planning.proposals import add_comment, submit_proposal, support_proposal

    install_reference_data(store)
    store, minji, junho = _two_residents(store, HAENGSIN1)
    admin = register(store, "admin", PW, "관리자", None, role="admin")
    planner = register(store, "planner", PW, "이기획", None, role="planner")
    cid = create_cycle(store, admin, 2027)
    set_quotas_by_rule(store, admin, cid, 4_400 * M, 50 * M, Fraction(2, 5))
    publish_quotas(store, admin, cid)
    mine = submit_proposal(store, minji, _square(0), "놀이터 그늘막", "설명", "environment", "area", 10 * M)
    theirs = submit_proposal(store, junho, _square(1), "가로등", "설명", "environment", "area", 10 * M)
    support_proposal(store, minji, theirs)
    support_proposal(store, junho, mine)
    add_comment(store, minji, theirs, "좋은 생각이에요")
    add_comment(store, junho, mine, "찬성합니다")
    flag(store, minji, "proposal", theirs, "중복 같아요")
    with store.transaction() as tx:
        tx.notifications.add(minji, "status_changed", proposal_id=mine, params={"to": "shortlisted"})
    authenticate(store, "minji", PW, client_key=IP_A)
    advance_phase(store, admin, cid)
    for pid in (mine, theirs):
        review_proposal(store, planner, cid, pid, feasible=True, official_cost_krw=20 * M, construction=False)
    advance_phase(store, admin, cid)  # assemblies
    advance_phase(store, admin, cid)  # voting
    cast_votes(store, minji, cid, [mine, theirs])
    cast_votes(store, junho, cid, [theirs])
    advance_phase(store, admin, cid)  # allocation
    return store, {"minji": minji, "junho": junho, "admin": admin, "mine": mine, "theirs": theirs, "cycle": cid}


def _check_export(store, ids):
    """The export holds everything about minji and nothing secret, nothing of junho's."""
    data = export_personal_data(store, actor_for(store, ids["minji"]))
    assert json.loads(json.dumps(data)) == data  # JSON-serialisable as it is
    assert data["account"]["username"] == "minji" and data["account"]["display_name"] == "김민지"
    assert data["account"]["home_district_code"] == HAENGSIN1 and data["account"]["has_password"] is True
    assert "password_hash" not in data["account"] and "$argon2" not in json.dumps(data)
    assert [p["id"] for p in data["proposals"]] == [ids["mine"]] and data["proposals"][0]["geometry"]["type"] == "Polygon"
    assert [c["body"] for c in data["comments"]] == ["좋은 생각이에요"]
    assert [s["proposal_id"] for s in data["supports"]] == [ids["theirs"]]
    assert sorted(v["proposal_id"] for v in data["votes"]) == sorted([ids["mine"], ids["theirs"]])
    assert [f["reason"] for f in data["flags"]] == ["중복 같아요"]
    assert "status_changed" in [n["kind"] for n in data["notifications"]]
    assert {n["resident_id"] for n in data["notifications"]} == {ids["minji"]}
    assert [(a["client_key"], a["succeeded"]) for a in data["sign_in_attempts"]] == [(IP_A, True)]
    # nothing of junho's
    assert "이준호" not in json.dumps(data, ensure_ascii=False) and "찬성합니다" not in json.dumps(data, ensure_ascii=False)
    assert json.loads(personal_data_json(store, actor_for(store, ids["minji"])))["account"]["id"] == ids["minji"]
    with pytest.raises(NotAllowed) as e:
        export_personal_data(store, Actor.anonymous())
    assert e.value.code == "sign_in_required"


def _snapshot(store, ids):
    from planning.budget import run_allocation

    decisions = run_allocation(store, ids["admin"], ids["cycle"])
    with store.transaction() as tx:
        return {
            "votes": tx.votes.counts(ids["cycle"]),
            "supports": tx.supports.counts(),
            "comments": {pid: len(tx.comments.list_for(pid)) for pid in (ids["mine"], ids["theirs"])},
            "proposals": {pid: (tx.proposals.get(pid).title, tx.proposals.get(pid).author_id) for pid in (ids["mine"], ids["theirs"])},
            "allocation": sorted((int(d.id), d.selected, d.votes, d.rank) for d in decisions),
        }


def _junho(store, ids):
    with store.transaction() as tx:
        r = tx.residents.get(ids["junho"])
        return (r.username, r.display_name, r.email, r.home_district_code, r.password_hash, r.deleted_at,
                len(tx.notifications.list_for(ids["junho"])), len(tx.comments.by_author(ids["junho"])))


def test_export_then_deletion_that_anonymises_and_keeps_counts_and_budget_results(busy_store):
    """One busy store for both (its set-up is the slow part): the export first, then the deletion."""
    store, ids = busy_store
    _check_export(store, ids)
    minji = actor_for(store, ids["minji"])
    before, junho_before = _snapshot(store, ids), _junho(store, ids)

    with pytest.raises(NotAllowed) as e:
        delete_account(store, minji, "not my password", client_key=IP_A)
    assert e.value.code == "delete_not_confirmed" and "삭제하지 않았습니다" in e.value.message("ko")
    assert "not deleted" in e.value.message("en")
    assert actor_for(store, ids["minji"]).display_name == "김민지"  # nothing changed

    kept = delete_account(store, minji, PW, client_key=IP_A)
    assert kept == {"proposals": 1, "comments": 1, "supports": 1, "votes": 2}
    with store.transaction() as tx:
        r = tx.residents.get(ids["minji"])
        assert (r.username, r.display_name) == (f"deleted:{ids['minji']}", DELETED_DISPLAY_NAME)
        assert (r.password_hash, r.email, r.home_district_code, r.hub_code) == (None, None, None, None)
        assert r.deleted_at is not None
        assert tx.notifications.list_for(ids["minji"]) == [] and tx.sign_in_attempts.for_username("minji") == []
        [entry] = tx.audit.list(action="account_deleted")
        assert (entry.actor_id, entry.subject) == (ids["minji"], f"resident:{ids['minji']}") and "minji" not in entry.detail
        assert tx.residents.display_names([ids["minji"]]) == {ids["minji"]: DELETED_DISPLAY_NAME}
    assert _snapshot(store, ids) == before  # counts, authorship and the allocation unchanged
    assert _junho(store, ids) == junho_before  # someone else's data untouched

    # the account is unusable: no sign-in under the old name, no session, no second deletion
    assert _fail(store, "minji", IP_B, T0, password=PW).code == "bad_credentials"
    assert session_actor(store, ids["minji"]) == Actor.anonymous()
    with pytest.raises(NotAllowed):
        delete_account(store, minji, PW)
    with pytest.raises(NotAllowed):
        export_personal_data(store, minji)
    # the freed username can be registered afresh, as a new account
    assert register(store, "minji", PW, "새 민지", None) != ids["minji"]


def test_deletion_of_an_account_without_password_and_its_rate_limit(accounts_store):
    store, minji, _ = accounts_store
    oidc = actor_for(store, resident_for_oidc(store, "google-7", email="a@example.org", name="외부 주민"))
    with pytest.raises(NotAllowed):
        delete_account(store, oidc, "")
    delete_account(store, oidc, "탈퇴")
    with store.transaction() as tx:
        assert tx.residents.by_username("oidc:google-7") is None
    # wrong confirmations count as failed sign-ins of that username
    for i in range(MAX_FAILURES_PER_USERNAME):
        with pytest.raises(NotAllowed):
            delete_account(store, actor_for(store, minji), "guess", client_key=IP_A, now=T0 + timedelta(seconds=i))
    with pytest.raises(TooManyAttempts):
        delete_account(store, actor_for(store, minji), PW, client_key=IP_A, now=T0 + timedelta(minutes=1))
    assert session_actor(store, minji).display_name == "김민지"
