"""Local accounts: registration and password sign-in (argon2id hashes)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from planning.errors import InvalidInput, NotAllowed
from planning.proposals import clean_text

if TYPE_CHECKING:
    from store import Store

ROLES = ("resident", "planner", "centre_staff", "admin")
_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
PASSWORD_MIN = 10


def hash_password(password: str) -> str:
    """A salted argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def register(
    store: "Store",
    username: str,
    password: str,
    display_name: str,
    home_district_code: str | None,
    role: str = "resident",
    hub_code: str | None = None,
    is_demo: bool = False,
) -> int:
    """Create a local account; returns the resident id."""
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "bad_username",
            "아이디는 영문 소문자·숫자·'.', '_', '-'로 3~32자여야 합니다.",
            "The username must be 3 to 32 lowercase letters, digits, '.', '_' or '-'.",
        )
    if len(password or "") < PASSWORD_MIN:
        raise InvalidInput(
            "weak_password",
            f"비밀번호는 {PASSWORD_MIN}자 이상이어야 합니다.",
            f"The password must have at least {PASSWORD_MIN} characters.",
        )
    display_name = clean_text(display_name, field_ko="표시 이름", field_en="display name", max_len=40)
    if role not in ROLES:
        raise InvalidInput("bad_role", "알 수 없는 역할입니다.", "Unknown role.")
    with store.transaction() as tx:
        if tx.residents.by_username(username) is not None:
            raise InvalidInput(
                "username_taken",
                "이미 쓰이는 아이디입니다. 다른 아이디를 골라 주세요.",
                "This username is taken. Please choose another one.",
            )
        if home_district_code is not None and tx.districts.get(home_district_code) is None:
            raise InvalidInput("bad_district", "거주 동을 목록에서 골라 주세요.", "Please choose your home dong from the list.")
        if role == "centre_staff":
            hub = tx.centres.get(hub_code) if hub_code else None
            if hub is None:
                raise InvalidInput(
                    "bad_hub", "주민센터 직원은 소속 주민센터가 있어야 합니다.", "Centre staff must belong to a community centre."
                )
        resident = tx.residents.add(
            username=username,
            display_name=display_name,
            password_hash=hash_password(password),
            role=role,
            home_district_code=home_district_code,
            hub_code=hub_code,
            is_demo=is_demo,
        )
        return resident.id


def authenticate(store: "Store", username: str, password: str) -> int:
    """The id of the account whose password matches, or a bilingual refusal."""
    with store.transaction() as tx:
        r = tx.residents.by_username((username or "").strip().lower())
        if r is None or not verify_password(r.password_hash, password or ""):
            raise NotAllowed(
                "bad_credentials",
                "아이디 또는 비밀번호가 맞지 않습니다.",
                "The username or password is wrong.",
            )
        return r.id


def resident_for_oidc(store: "Store", subject: str, email: str | None = None, name: str | None = None) -> int:
    """The account of an OpenID Connect user, created as a resident on first sign-in.

    The username is ``oidc:<subject>`` (a colon cannot occur in local
    usernames, so the two kinds never collide); no password is stored.
    """
    if not subject:
        raise NotAllowed("oidc_no_subject", "로그인 정보에 사용자 식별자가 없습니다.", "The sign-in carried no user identifier.")
    username = f"oidc:{subject}"[:64]
    with store.transaction() as tx:
        r = tx.residents.by_username(username)
        if r is not None:
            return r.id
        display = clean_text(name or (email or "").split("@")[0] or "주민", field_ko="표시 이름", field_en="display name", max_len=40)
        return tx.residents.add(username=username, display_name=display, role="resident", email=email, password_hash=None).id
