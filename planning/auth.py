"""Who is acting, and what they may do: the service layer's permission checks.

Pages show or hide buttons, but the decision is made here: every service
function takes an :class:`Actor` and refuses with a bilingual
:class:`planning.errors.NotAllowed`, whatever the page showed.

An :class:`Actor` is a snapshot of an account. Pages make one per run with
:func:`actor_for` (from the signed-in id kept in the session); services
re-read it inside their own transaction with :func:`actor_in`, so a role
changed or an account removed meanwhile, or an ``Actor`` made up by a
caller, cannot act with rights it does not have in the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planning.errors import NotAllowed, not_allowed_signin
from planning.i18n import t

if TYPE_CHECKING:
    from store import Store

#: The role of someone not signed in (not a stored role).
ANONYMOUS = "anonymous"
#: Roles that see and handle hidden (moderated) content.
MODERATOR_ROLES: tuple[str, ...] = ("planner", "admin")


@dataclass(frozen=True)
class Actor:
    """The person acting: a signed-in account or an anonymous visitor.

    Attributes
    ----------
    id : int or None
        The account id; None when not signed in.
    role : str
        ``resident``, ``planner``, ``centre_staff``, ``admin``, or
        :data:`ANONYMOUS`.
    hub_code : str or None
        The hub a centre-staff member works for.
    home_district_code : str or None
        The administrative dong the person lives in.
    display_name : str
        The name shown to others ("" when anonymous).
    """

    id: int | None
    role: str
    hub_code: str | None = None
    home_district_code: str | None = None
    display_name: str = ""

    @classmethod
    def anonymous(cls) -> Actor:
        """A visitor who is not signed in."""
        return cls(id=None, role=ANONYMOUS)

    @classmethod
    def from_resident(cls, resident: Any) -> Actor:
        """The actor of a stored account (a :class:`store.Resident`)."""
        return cls(
            id=int(resident.id),
            role=str(resident.role),
            hub_code=resident.hub_code,
            home_district_code=resident.home_district_code,
            display_name=str(resident.display_name),
        )

    @property
    def signed_in(self) -> bool:
        """True for an account, False for an anonymous visitor."""
        return self.id is not None

    @property
    def is_moderator(self) -> bool:
        """True for planners and admins, who see hidden proposals and comments."""
        return self.signed_in and self.role in MODERATOR_ROLES

    def has_role(self, *roles: str) -> bool:
        """True when signed in with one of ``roles``."""
        return self.signed_in and self.role in roles


def actor_for(store: Store, resident_id: int | None) -> Actor:
    """The actor for a signed-in account id, or :meth:`Actor.anonymous`.

    An id that matches no account (a stale session after the database was
    reset) gives the anonymous actor: that person is simply signed out.
    """
    if resident_id is None:
        return Actor.anonymous()
    with store.transaction() as tx:
        return actor_in(tx, resident_id)


def actor_in(tx: Any, who: Actor | int | None) -> Actor:
    """``who`` as the store knows it now, read in the transaction ``tx``.

    Parameters
    ----------
    tx : store.UnitOfWork
        The caller's transaction.
    who : Actor, int or None
        An actor, an account id (older callers), or None (anonymous).

    Returns
    -------
    Actor
        Fresh from the ``residents`` row; anonymous when ``who`` is
        anonymous, its account does not exist, or the account was deleted
        (``deleted_at`` set: it keeps its row, but nobody acts with it).
    """
    resident_id = who.id if isinstance(who, Actor) else who
    if resident_id is None:
        return Actor.anonymous()
    if isinstance(resident_id, bool) or not isinstance(resident_id, int):
        raise TypeError(f"expected an Actor, a resident id or None, got {type(who).__name__}")
    resident = tx.residents.get(resident_id)
    if resident is None or getattr(resident, "deleted_at", None) is not None:
        return Actor.anonymous()
    return Actor.from_resident(resident)


def require_signed_in(actor: Actor) -> Actor:
    """Return ``actor`` if signed in, else refuse with ``sign_in_required``."""
    if not actor.signed_in:
        raise not_allowed_signin()
    return actor


def require_role(actor: Actor, *roles: str) -> Actor:
    """Return ``actor`` if signed in with one of ``roles``, else refuse.

    Raises
    ------
    NotAllowed
        ``sign_in_required`` for an anonymous actor; ``role_required``
        (naming the roles that may) for a signed-in one without the role.
    """
    if not roles:
        raise ValueError("require_role needs at least one role")
    require_signed_in(actor)
    if actor.role not in roles:
        raise role_required(*roles)
    return actor


def role_required(*roles: str) -> NotAllowed:
    """The refusal for an account without one of ``roles``."""
    ko = ", ".join(t(f"role.{r}", "ko") for r in roles)
    en = ", ".join(t(f"role.{r}", "en") for r in roles)
    return NotAllowed(
        "role_required",
        f"이 작업은 {ko} 계정만 할 수 있습니다. 권한이 필요하면 관리자에게 문의해 주세요.",
        f"Only {en} accounts may do this. Please ask an administrator if you need the permission.",
    )
