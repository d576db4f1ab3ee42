import pytest

from planning.accounts import authenticate, hash_password, register, verify_password
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data


def test_hash_is_salted_argon2():
    a, b = hash_password("same password"), hash_password("same password")
    assert a != b and a.startswith("$argon2id$")
    assert verify_password(a, "same password") and not verify_password(a, "other")
    assert not verify_password(None, "x") and not verify_password("garbage", "x")


def test_register_and_sign_in(store):
    install_reference_data(store)
    rid = register(store, "Minji.Kim", "a long enough pw", "김민지", "4128164000")
    assert authenticate(store, "minji.kim", "a long enough pw") == rid
    with pytest.raises(NotAllowed) as e:
        authenticate(store, "minji.kim", "wrong password!")
    assert e.value.code == "bad_credentials" and "비밀번호" in e.value.message("ko")
    with pytest.raises(InvalidInput) as e:
        register(store, "minji.kim", "a long enough pw", "다른 사람", None)
    assert e.value.code == "username_taken"


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"username": "x"}, "bad_username"),
        ({"username": "has space"}, "bad_username"),
        ({"password": "short"}, "weak_password"),
        ({"display_name": ""}, "empty_field"),
        ({"home_district_code": "1111111111"}, "bad_district"),
        ({"role": "king"}, "bad_role"),
        ({"role": "centre_staff", "hub_code": None}, "bad_hub"),
    ],
)
def test_register_refusals(store, kwargs, code):
    install_reference_data(store)
    args = {"username": "someone", "password": "long enough pw", "display_name": "누군가", "home_district_code": "4128164000"} | kwargs
    with pytest.raises(InvalidInput) as e:
        register(store, **args)
    assert e.value.code == code


def test_oidc_accounts_are_created_once_without_password(store):
    from planning.accounts import resident_for_oidc

    install_reference_data(store)
    a = resident_for_oidc(store, "google-123", email="minji@example.org", name="김민지")
    assert resident_for_oidc(store, "google-123", email="minji@example.org", name="김민지") == a
    with store.transaction() as tx:
        r = tx.residents.get(a)
        assert r.username == "oidc:google-123" and r.password_hash is None and r.role == "resident" and r.display_name == "김민지"
    with pytest.raises(NotAllowed):
        authenticate(store, "oidc:google-123", "")  # no password sign-in for OIDC accounts
    with pytest.raises(NotAllowed):
        resident_for_oidc(store, "")
