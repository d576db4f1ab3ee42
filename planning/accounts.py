"""Local accounts: registration, password sign-in, sessions and personal data.

Passwords are argon2id hashes, rehashed at sign-in when the hasher's
parameters have grown. Password sign-ins are rate limited through the store
(table ``sign_in_attempts``), so the limit holds across app instances: at
most :data:`MAX_FAILURES_PER_USERNAME` failed attempts per username and
:data:`MAX_FAILURES_PER_CLIENT` per client (IP address) within
:data:`ATTEMPT_WINDOW`. A session ends after :data:`SESSION_IDLE` without
activity or :data:`SESSION_MAX` in all (:func:`session_valid`). A resident
can download everything stored about them (:func:`export_personal_data`)
and delete their account (:func:`delete_account`): the personal fields are
cleared, their proposals, comments, supports and votes stay, anonymised
(Personal Information Protection Act).
"""
from __future__ import annotations

import ipaddress
import json
import math
import re
import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import shapely
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from shapely.geometry.base import BaseGeometry

from planning.auth import Actor, actor_in, require_signed_in
from planning.errors import InvalidInput, NotAllowed, not_allowed_signin
from planning.i18n import t
from planning.proposals import clean_text

if TYPE_CHECKING:
    from store import Store

ROLES = ("resident", "planner", "centre_staff", "admin")
_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
PASSWORD_MIN = 10


#: Failed password attempts allowed per username within :data:`ATTEMPT_WINDOW`.
MAX_FAILURES_PER_USERNAME = 5
#: Failed password attempts allowed per client key (IP address) within :data:`ATTEMPT_WINDOW`.
MAX_FAILURES_PER_CLIENT = 20
#: How far back failed attempts count.
ATTEMPT_WINDOW = timedelta(minutes=15)
#: Attempts older than this are deleted (at every sign-in).
ATTEMPT_RETENTION = timedelta(days=1)
#: A session ends after this long without activity...
SESSION_IDLE = timedelta(minutes=60)
#: ...and at the latest this long after signing in.
SESSION_MAX = timedelta(hours=12)
#: The display name a deleted account keeps, so its proposals read as by a former resident.
DELETED_DISPLAY_NAME = "탈퇴한 주민"
#: What an account without a password (OpenID Connect) types to confirm its deletion.
DELETE_CONFIRM_WORDS = ("탈퇴", "delete")
#: The client key when the client's address is unknown.
UNKNOWN_CLIENT = "unknown"
_KST = timezone(timedelta(hours=9), "KST")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


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


def needs_rehash(password_hash: str) -> bool:
    """True when ``password_hash`` was made with other (older) argon2 parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when there is no usable account, so an unknown
    # username costs about as long as a wrong password.
    return _hasher.hash(secrets.token_urlsafe(24))


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


def client_key_from(forwarded_for: str | None, ip_address: str | None) -> str:
    """The rate-limit key of a client: the first hop of ``X-Forwarded-For``, else the connection's address.

    Only a well-formed IP address is used; otherwise :data:`UNKNOWN_CLIENT`.
    """
    for candidate in ((forwarded_for or "").split(",")[0], ip_address or ""):
        candidate = candidate.strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return UNKNOWN_CLIENT


def _bad_credentials() -> NotAllowed:
    return NotAllowed(
        "bad_credentials",
        "아이디 또는 비밀번호가 맞지 않습니다.",
        "The username or password is wrong.",
    )


class TooManyAttempts(NotAllowed):
    """Too many failed sign-in attempts; ``retry_at`` (UTC) is when the next one is accepted."""

    def __init__(self, retry_at: datetime, now: datetime) -> None:
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        at = retry_at.astimezone(_KST).strftime("%H:%M")
        super().__init__(
            "too_many_attempts",
            t("accounts.too_many_attempts", "ko", minutes=minutes, time=at),
            t("accounts.too_many_attempts", "en", minutes=minutes, time=at),
        )
        self.retry_at = retry_at


def counted_failures(attempts: Iterable[Any]) -> list[datetime]:
    """The times of the failed attempts that count towards a limit, oldest first.

    A failure stops counting once the same username signed in successfully
    from the same client at or after it; failures from other clients still
    count (a success never resets someone else's counter).
    """
    attempts = list(attempts)
    last_success: dict[tuple[str, str], datetime] = {}
    for a in attempts:
        if a.succeeded:
            key = (a.username, a.client_key)
            last_success[key] = max(a.at, last_success.get(key, a.at))
    return sorted(
        a.at
        for a in attempts
        if not a.succeeded and not ((a.username, a.client_key) in last_success and last_success[(a.username, a.client_key)] >= a.at)
    )


def _retry_at(failures: list[datetime], limit: int) -> datetime | None:
    """When the limit lifts (None when not reached): when enough counted failures have left the window."""
    if len(failures) < limit:
        return None
    return failures[len(failures) - limit] + ATTEMPT_WINDOW


def _limit_refusal(tx: Any, username: str, client_key: str, now: datetime) -> TooManyAttempts | None:
    since = now - ATTEMPT_WINDOW  # an attempt exactly ATTEMPT_WINDOW old no longer counts

    def recent(**who: str) -> list[Any]:
        return [a for a in tx.sign_in_attempts.since(since, **who) if a.at > since]

    by_name = _retry_at(counted_failures(recent(username=username)), MAX_FAILURES_PER_USERNAME)
    by_client = None
    if client_key != UNKNOWN_CLIENT:  # not one client but everyone whose address is unknown: never lock them all out
        by_client = _retry_at(counted_failures(recent(client_key=client_key)), MAX_FAILURES_PER_CLIENT)
    retry = max((r for r in (by_name, by_client) if r is not None), default=None)
    return None if retry is None else TooManyAttempts(retry, now)


def authenticate(
    store: "Store", username: str, password: str, client_key: str | None = None, now: datetime | None = None
) -> int:
    """The id of the account whose password matches, or a bilingual refusal.

    Every attempt is recorded (username as typed, ``client_key``, success)
    and old ones pruned. Refuses with ``too_many_attempts`` (saying when to
    try again) without checking the password once the username or the
    client has too many recent failures, and with ``bad_credentials`` for a
    wrong password, an unknown username, an account without a password or
    a deleted account alike (each costing one argon2 verification). A hash
    made with older parameters is replaced on success.
    """
    now = now or _utcnow()
    name = (username or "").strip().lower()[:64]
    client = (client_key or UNKNOWN_CLIENT)[:64]
    password = password or ""
    resident_id: int | None = None
    with store.transaction() as tx:
        tx.sign_in_attempts.prune(now - ATTEMPT_RETENTION)
        refusal = _limit_refusal(tx, name, client, now)
        if refusal is None:
            r = tx.residents.by_username(name)
            usable = r is not None and r.deleted_at is None and bool(r.password_hash)
            matches = verify_password(r.password_hash if usable else _dummy_hash(), password)
            ok = usable and matches
            tx.sign_in_attempts.record(name, client, ok, at=now)
            if ok:
                resident_id = int(r.id)
                if needs_rehash(r.password_hash):
                    tx.residents.set_password_hash(resident_id, hash_password(password))
    # Raised after the commit, so the failed attempt stays recorded.
    if refusal is not None:
        raise refusal
    if resident_id is None:
        raise _bad_credentials()
    return resident_id


def session_valid(started_at: datetime | None, last_seen: datetime | None, now: datetime) -> bool:
    """True while a session is neither idle for longer than :data:`SESSION_IDLE` nor older than :data:`SESSION_MAX`."""
    if started_at is None or last_seen is None:
        return False
    return now - last_seen <= SESSION_IDLE and now - started_at <= SESSION_MAX


def session_actor(store: "Store", resident_id: int | None) -> Actor:
    """The actor of a signed-in session; anonymous when the account is gone or was deleted."""
    if resident_id is None:
        return Actor.anonymous()
    with store.transaction() as tx:
        r = tx.residents.get(resident_id)
        if r is None or r.deleted_at is not None:
            return Actor.anonymous()
        return Actor.from_resident(r)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseGeometry):
        return json.loads(shapely.to_geojson(value))
    return value


def _row(obj: Any, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """A stored row as a JSON-serialisable dict of its columns."""
    return {c.name: _plain(getattr(obj, c.key)) for c in type(obj).__table__.columns if c.name not in leave_out}


def _own_account(tx: Any, actor: Actor) -> Any:
    me = actor_in(tx, require_signed_in(actor))
    r = tx.residents.get(me.id) if me.signed_in else None
    if r is None or r.deleted_at is not None:
        raise not_allowed_signin()
    return r


def export_personal_data(store: "Store", actor: Actor) -> dict[str, Any]:
    """Everything stored about the signed-in resident, as a JSON-serialisable dict.

    The account (all fields but the password hash), their proposals,
    comments, supports, votes, flags, notifications, sign-in attempts and
    the audit entries of changes they made.
    """
    with store.transaction() as tx:
        r = _own_account(tx, actor)
        minimal = ("minx", "miny", "maxx", "maxy")
        return {
            "exported_at": _utcnow().isoformat(),
            "account": _row(r, leave_out=("password_hash",)) | {"has_password": bool(r.password_hash)},
            "proposals": [_row(p, leave_out=minimal) for p in tx.proposals.by_author(r.id)],
            "comments": [_row(c) for c in tx.comments.by_author(r.id)],
            "supports": [_row(s) for s in tx.supports.by_resident(r.id)],
            "votes": [_row(v) for v in tx.votes.by_resident(r.id)],
            "flags": [_row(f) for f in tx.flags.by_resident(r.id)],
            "notifications": [_row(n) for n in tx.notifications.list_for(r.id)],
            "sign_in_attempts": [_row(a) for a in tx.sign_in_attempts.for_username(r.username)],
            "audit_log": [_row(e) for e in tx.audit.by_actor(r.id)],
        }


def personal_data_json(store: "Store", actor: Actor) -> str:
    """:func:`export_personal_data` as indented UTF-8 JSON text (the download of the account page)."""
    return json.dumps(export_personal_data(store, actor), ensure_ascii=False, indent=2, sort_keys=True)


def delete_account(
    store: "Store", actor: Actor, password: str, client_key: str | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Delete the signed-in resident's account, confirmed by their password.

    Accounts without a password (OpenID Connect) confirm with one of
    :data:`DELETE_CONFIRM_WORDS`. The personal fields are cleared (see
    :meth:`store.repositories.Residents.erase_personal_data`), notifications
    and sign-in attempts deleted; proposals, comments, supports, votes and
    flags stay, attached to the anonymised account, so counts and budget
    results do not change. The deletion is audited. A wrong confirmation
    counts as a failed sign-in attempt (same rate limit). Returns how many
    proposals, comments, supports and votes were kept.
    """
    now = now or _utcnow()
    client = (client_key or UNKNOWN_CLIENT)[:64]
    kept: dict[str, int] | None = None
    with store.transaction() as tx:
        r = _own_account(tx, actor)
        refusal: NotAllowed | None = _limit_refusal(tx, r.username, client, now)
        if refusal is None:
            if r.password_hash:
                confirmed = verify_password(r.password_hash, password or "")
            else:
                confirmed = (password or "").strip().lower() in DELETE_CONFIRM_WORDS
            if not confirmed:
                tx.sign_in_attempts.record(r.username, client, False, at=now)
                refusal = NotAllowed(
                    "delete_not_confirmed",
                    t("accounts.delete.not_confirmed", "ko"),
                    t("accounts.delete.not_confirmed", "en"),
                )
            else:
                kept = {
                    "proposals": len(tx.proposals.by_author(r.id)),
                    "comments": len(tx.comments.by_author(r.id)),
                    "supports": len(tx.supports.by_resident(r.id)),
                    "votes": len(tx.votes.by_resident(r.id)),
                }
                tx.sign_in_attempts.delete_for_username(r.username)
                removed = tx.notifications.delete_for(r.id)
                tx.residents.erase_personal_data(r.id, DELETED_DISPLAY_NAME, now)
                tx.audit.record(r.id, "account_deleted", f"resident:{r.id}", kept | {"notifications_removed": removed})
    if refusal is not None:
        raise refusal
    assert kept is not None
    return kept


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
