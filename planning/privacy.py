"""Privacy on public maps and cards (issue 8): who may see an author, and the smallest public group.

Rules
    * **Identity.** A proposal's or comment's author is named only to the
      author themself, to planners and admins, and to the centre staff of
      the hub the proposal is linked to (they prepare and decide its
      meetings). Everyone else - anonymous visitors and other residents -
      sees "주민 / Resident" (or the role, for a planner, admin or centre
      staff member writing as such), never the name, the account id or the
      home dong (:func:`may_see_identity`, :func:`author_label`).
    * **Small groups.** Public aggregates (a hub's cluster cards, the cluster
      outlines of a meeting packet) leave out every group with fewer than
      ``k`` *distinct* residents (:func:`privacy_k`, setting
      ``GOYANG_PRIVACY_K``, default 5): one resident with six proposals is one
      resident (:func:`suppress_small_groups`).
    * **Planner-only outputs.** The per-dong and per-hexagon tables
      (:mod:`planning.aggregates`) and the density rasters
      (:mod:`planning.heatmap`) are the planners' and admins' only; the public
      never gets them, so they are not suppressed. Cards show the public only
      the raster kinds of :func:`public_raster_kinds`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from planning.auth import Actor
from planning.i18n import t

T = TypeVar("T")

#: Roles that see every author's name.
IDENTITY_ROLES: tuple[str, ...] = ("planner", "admin")
#: Roles whose comments are labelled with the role for the public (they write as officials).
OFFICIAL_ROLES: tuple[str, ...] = ("planner", "admin", "centre_staff")
#: Raster kinds whose value the public sees on a card (density rasters are made from the review set, hidden proposals included).
PUBLIC_RASTER_KINDS: tuple[str, ...] = ("reference", "uploaded")


def privacy_k() -> int:
    """The smallest public group: distinct residents (``settings.get_settings().privacy_k``, 1-100, default 5)."""
    from settings import get_settings

    return int(get_settings().privacy_k)


def may_see_identity(actor: Actor, author_id: int | None, hub_code: str | None = None) -> bool:
    """True when ``actor`` may see who ``author_id`` is (name, account id).

    Parameters
    ----------
    actor : Actor
        The viewer.
    author_id : int or None
        The author of the proposal or comment.
    hub_code : str, optional
        The hub the proposal is linked to: its centre staff may see the name.
    """
    if not actor.signed_in:
        return False
    if author_id is not None and actor.id == author_id:
        return True
    if actor.role in IDENTITY_ROLES:
        return True
    return actor.role == "centre_staff" and hub_code is not None and actor.hub_code == hub_code


def author_label(item: Any, lang: str) -> str:
    """The author as shown: "나 / You" for the author, the name when allowed, else "주민 / Resident" or the role.

    ``item`` is a :class:`planning.proposals.ProposalCard` or
    :class:`planning.proposals.CommentView` (fields ``author_is_viewer``,
    ``author_shown``, ``author_name``, ``author_role``).
    """
    if getattr(item, "author_is_viewer", False):
        return t("privacy.you", lang)
    if getattr(item, "author_shown", False) and item.author_name:
        return str(item.author_name)
    role = getattr(item, "author_role", None)
    if role in OFFICIAL_ROLES:
        return t(f"role.{role}", lang)
    return t("privacy.resident", lang)


def public_raster_kinds(actor: Actor) -> tuple[str, ...] | None:
    """Raster kinds whose values ``actor`` sees on a card: None (all) for planners and admins, else :data:`PUBLIC_RASTER_KINDS`."""
    return None if actor.has_role(*IDENTITY_ROLES) else PUBLIC_RASTER_KINDS


@dataclass(frozen=True)
class Suppressed(Generic[T]):
    """What is left of some groups after :func:`suppress_small_groups`.

    Attributes
    ----------
    kept : list
        The groups with at least ``k`` distinct residents, in their order.
    suppressed : int
        How many groups were left out.
    k : int
        The threshold used.
    """

    kept: list[T] = field(default_factory=list)
    suppressed: int = 0
    k: int = 1


def distinct_residents(author_ids: Iterable[Any]) -> int:
    """How many different residents are among ``author_ids`` (None ignored)."""
    return len({int(a) for a in author_ids if a is not None})


def suppress_small_groups(groups: Iterable[T], authors: Callable[[T], Iterable[Any]] | Callable[[T], int], k: int | None = None) -> Suppressed[T]:
    """Keep the groups with at least ``k`` distinct residents.

    Parameters
    ----------
    groups : iterable
        Groups (cluster cards, cells, ...).
    authors : callable
        A group's author ids (counted distinct), or directly its number of
        distinct residents (an int).
    k : int, optional
        The threshold; default :func:`privacy_k`.
    """
    k = privacy_k() if k is None else int(k)
    kept: list[T] = []
    dropped = 0
    for g in groups:
        got = authors(g)
        n = got if isinstance(got, int) else distinct_residents(got)
        if n >= k:
            kept.append(g)
        else:
            dropped += 1
    return Suppressed(kept=kept, suppressed=dropped, k=k)


def suppressed_note(n: int, k: int, lang: str) -> str:
    """The bilingual note under a public aggregate that left out ``n`` groups ("" when none)."""
    return t("privacy.suppressed", lang, n=n, k=k) if n else ""
