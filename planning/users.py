"""Managing accounts (admins only): list them, change a role, disable one.

Every function takes the acting :class:`~planning.auth.Actor`, re-reads it
from the store in its own transaction (:func:`planning.auth.actor_in`) and
refuses anyone but an admin with a bilingual
:class:`~planning.errors.NotAllowed`. Every change goes to the audit log
(``user.set_role``, ``user.disable``; subject ``resident:<id>``).

Rules:

* a centre-staff account belongs to a hub centre (``hub_code`` of a centre
  that is a hub); other roles have no hub;
* the city always keeps at least one admin: the last admin cannot be
  demoted or disabled (the admins' rows are locked while this is checked,
  so two admins demoting each other at once cannot both succeed);
* an admin cannot disable their own account (another admin must).

Disabling fits the current model (there is no "disabled" column): the
account's password is removed, so it can no longer sign in with a password,
and it loses any staff role and hub (it becomes a plain resident account
that keeps its proposals, comments and votes). Accounts that sign in with
OpenID Connect have no password; disabling them only removes their role.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from planning.auth import Actor, actor_in, require_role
from planning.errors import InvalidInput, NotAllowed
from planning.i18n import t

if TYPE_CHECKING:
    from store import Store

#: The roles an account can have (as :data:`store.models.ROLES`).
ROLES: tuple[str, ...] = ("resident", "planner", "centre_staff", "admin")
#: Usernames of accounts that sign in with OpenID Connect start with this.
OIDC_PREFIX = "oidc:"


@dataclass(frozen=True)
class UserRow:
    """One account as the admins' list shows it."""

    id: int
    username: str
    display_name: str
    role: str
    hub_code: str | None
    home_district_code: str | None
    email: str | None
    is_demo: bool
    created_at: datetime
    oidc: bool  # signs in with OpenID Connect (no password)
    disabled: bool  # a local account whose password was removed: it cannot sign in


def _row(r: Any) -> UserRow:
    oidc = str(r.username).startswith(OIDC_PREFIX)
    return UserRow(
        id=int(r.id),
        username=str(r.username),
        display_name=str(r.display_name),
        role=str(r.role),
        hub_code=r.hub_code,
        home_district_code=r.home_district_code,
        email=r.email,
        is_demo=bool(r.is_demo),
        created_at=r.created_at,
        oidc=oidc,
        disabled=not oidc and r.password_hash is None,
    )


def _no_such_user(resident_id: Any) -> InvalidInput:
    return InvalidInput(
        "no_such_user",
        f"계정 {str(resident_id)[:20]}번을 찾을 수 없습니다. 계정 목록을 새로 고쳐 주세요.",
        f"Account {str(resident_id)[:20]} was not found. Please refresh the list of accounts.",
    )


def _last_admin() -> NotAllowed:
    return NotAllowed(
        "last_admin",
        "마지막 관리자 계정의 역할은 바꾸거나 비활성화할 수 없습니다. 먼저 다른 계정을 관리자로 지정해 주세요.",
        "The last admin account cannot be demoted or disabled. Please make another account an admin first.",
    )


def _target(tx: Any, resident_id: Any) -> Any:
    if isinstance(resident_id, bool) or not isinstance(resident_id, int):
        raise _no_such_user(resident_id)
    r = tx.residents.get(resident_id)
    if r is None:
        raise _no_such_user(resident_id)
    return r


def _keep_an_admin(tx: Any, target: Any, new_role: str) -> None:
    """Refuse when ``target`` is the only admin and would stop being one (admins' rows locked, in id order)."""
    if target.role != "admin" or new_role == "admin":
        return
    admins = sorted(int(a.id) for a in tx.residents.list(role="admin"))
    for rid in admins:
        tx.lock_resident(rid)
    still = [a for a in tx.residents.list(role="admin") if a.id != target.id]
    if not still:
        raise _last_admin()


def list_users(store: Store, actor: Actor | int | None, role: str | None = None) -> list[UserRow]:
    """Every account (of one ``role`` if given), by id (admins only)."""
    if role is not None and role not in ROLES:
        raise _bad_role(role)
    with store.transaction() as tx:
        require_role(actor_in(tx, actor), "admin")
        return [_row(r) for r in tx.residents.list(role=role)]


def _bad_role(role: Any) -> InvalidInput:
    ko = ", ".join(t(f"role.{r}", "ko") for r in ROLES)
    en = ", ".join(t(f"role.{r}", "en") for r in ROLES)
    return InvalidInput(
        "bad_role",
        f"역할 {str(role)[:30]!r}은(는) 없습니다. 다음 중에서 고르세요: {ko}.",
        f"There is no role {str(role)[:30]!r}. Please choose one of: {en}.",
    )


def set_role(store: Store, actor: Actor | int | None, resident_id: int, role: str, hub_code: str | None = None) -> UserRow:
    """Give an account a role (admins only); returns the account as changed.

    Parameters
    ----------
    resident_id : int
        The account.
    role : {"resident", "planner", "centre_staff", "admin"}
    hub_code : str, optional
        Required for (and only for) ``centre_staff``: the hub centre the
        person works for.

    Raises
    ------
    NotAllowed
        ``sign_in_required``, ``role_required`` (not an admin), ``last_admin``.
    InvalidInput
        ``no_such_user``, ``bad_role``, ``hub_required``, ``hub_unexpected``,
        ``no_such_hub``.
    """
    if role not in ROLES:
        raise _bad_role(role)
    if role == "centre_staff" and not hub_code:
        raise InvalidInput(
            "hub_required",
            "주민센터 직원에게는 소속 거점 주민센터를 골라 주세요.",
            "Please choose the hub centre a centre-staff member works for.",
        )
    if role != "centre_staff" and hub_code is not None:
        raise InvalidInput(
            "hub_unexpected",
            "소속 거점 주민센터는 주민센터 직원에게만 정할 수 있습니다.",
            "A hub centre can only be given to centre staff.",
        )
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        target = _target(tx, resident_id)
        if role == "centre_staff":
            hub = tx.centres.get(hub_code) if isinstance(hub_code, str) else None
            if hub is None or not hub.is_hub:
                raise InvalidInput(
                    "no_such_hub",
                    f"거점 주민센터 {str(hub_code)[:20]}을(를) 찾을 수 없습니다. 목록에서 거점 센터를 골라 주세요.",
                    f"Hub centre {str(hub_code)[:20]} was not found. Please choose a hub centre from the list.",
                )
        _keep_an_admin(tx, target, role)
        before = {"role": target.role, "hub_code": target.hub_code}
        target.role = role
        target.hub_code = hub_code if role == "centre_staff" else None
        tx.flush()
        tx.audit.record(me.id, "user.set_role", f"resident:{target.id}", {"from": before, "to": {"role": role, "hub_code": target.hub_code}})
        return _row(target)


def disable_user(store: Store, actor: Actor | int | None, resident_id: int) -> UserRow:
    """Disable an account (admins only): no more password sign-in, no staff role or hub; returns it as changed.

    The account's proposals, comments, supports and votes stay. See the
    module's notes for what this means for OpenID Connect accounts.

    Raises
    ------
    NotAllowed
        ``sign_in_required``, ``role_required``, ``last_admin``,
        ``disable_self`` (an admin's own account).
    InvalidInput
        ``no_such_user``.
    """
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        target = _target(tx, resident_id)
        if target.id == me.id:
            raise NotAllowed(
                "disable_self",
                "자신의 계정은 비활성화할 수 없습니다. 다른 관리자에게 부탁해 주세요.",
                "You cannot disable your own account. Please ask another admin.",
            )
        _keep_an_admin(tx, target, "resident")
        before = {"role": target.role, "hub_code": target.hub_code, "had_password": target.password_hash is not None}
        target.password_hash = None
        target.role = "resident"
        target.hub_code = None
        tx.flush()
        tx.audit.record(me.id, "user.disable", f"resident:{target.id}", {"before": before})
        return _row(target)
