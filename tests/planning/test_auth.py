"""Actors and permission checks, on both engines."""
import dataclasses

import pytest

from planning.accounts import register
from planning.auth import ANONYMOUS, Actor, actor_for, actor_in, require_role, require_signed_in
from planning.errors import NotAllowed
from planning.geography import install_reference_data

HOME = "4128164000"  # 행신1동
HUB = "4128165000"  # 행신2동, a hub


@pytest.fixture
def people(store):
    install_reference_data(store)
    ids = {
        "resident": register(store, "minji", "correct horse battery", "민지", HOME),
        "planner": register(store, "planner", "correct horse battery", "이기획", None, role="planner"),
        "staff": register(store, "staff", "correct horse battery", "직원", None, role="centre_staff", hub_code=HUB),
        "admin": register(store, "admin", "correct horse battery", "관리자님", None, role="admin"),
    }
    return store, ids


def test_actor_for_reads_the_account(people):
    store, ids = people
    me = actor_for(store, ids["resident"])
    assert me == Actor(id=ids["resident"], role="resident", hub_code=None, home_district_code=HOME, display_name="민지")
    assert me.signed_in and not me.is_moderator
    staff = actor_for(store, ids["staff"])
    assert (staff.role, staff.hub_code) == ("centre_staff", HUB) and not staff.is_moderator
    assert actor_for(store, ids["planner"]).is_moderator and actor_for(store, ids["admin"]).is_moderator
    with pytest.raises(dataclasses.FrozenInstanceError):
        me.role = "admin"


def test_no_id_or_an_unknown_id_is_anonymous(people):
    store, _ = people
    for who in (None, 999_999):
        a = actor_for(store, who)
        assert a == Actor.anonymous()
        assert (a.id, a.role, a.display_name, a.signed_in, a.is_moderator) == (None, ANONYMOUS, "", False, False)
        assert not a.has_role(ANONYMOUS)  # not a role anyone can be granted


def test_require_signed_in(people):
    store, ids = people
    assert require_signed_in(actor_for(store, ids["resident"])).id == ids["resident"]
    with pytest.raises(NotAllowed) as e:
        require_signed_in(Actor.anonymous())
    assert e.value.code == "sign_in_required"
    assert "로그인이 필요합니다" in e.value.message("ko") and "sign in" in e.value.message("en")


def test_require_role_names_the_roles_that_may(people):
    store, ids = people
    planner = actor_for(store, ids["planner"])
    assert require_role(planner, "planner", "admin") is planner
    with pytest.raises(NotAllowed) as e:
        require_role(actor_for(store, ids["resident"]), "admin")
    assert e.value.code == "role_required"
    assert "관리자" in e.value.message("ko") and "계정만" in e.value.message("ko")
    assert "Only admin accounts" in e.value.message("en")
    with pytest.raises(NotAllowed) as e:
        require_role(actor_for(store, ids["staff"]), "planner", "admin")
    assert "도시계획가, 관리자" in e.value.message("ko") and "planner, admin" in e.value.message("en")
    with pytest.raises(NotAllowed) as e:
        require_role(Actor.anonymous(), "admin")
    assert e.value.code == "sign_in_required"  # first sign in, then the role matters
    with pytest.raises(ValueError):
        require_role(planner)


def test_actor_in_trusts_the_store_not_the_caller(people):
    store, ids = people
    forged = Actor(id=ids["resident"], role="admin", display_name="가짜 관리자")
    with store.transaction() as tx:
        fresh = actor_in(tx, forged)
        assert (fresh.role, fresh.display_name) == ("resident", "민지")
        assert actor_in(tx, ids["admin"]).role == "admin"  # a bare id, as older callers pass
        assert actor_in(tx, None) == Actor.anonymous()
        assert actor_in(tx, Actor(id=999_999, role="admin")) == Actor.anonymous()
        with pytest.raises(TypeError):
            actor_in(tx, "admin")
    with pytest.raises(NotAllowed) as e, store.transaction() as tx:
        require_role(actor_in(tx, forged), "admin")
    assert e.value.code == "role_required"
