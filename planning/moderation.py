"""Moderation and notifications: flags, the moderators' queue, hiding, and what authors are told.

* **Flags.** A signed-in person reports a proposal or a comment with a
  reason (:func:`flag`): one open flag per person and item (a second one is
  refused politely), not of one's own item, not of what one cannot see.
* **Queue.** Planners and admins see the open flags grouped by item, with
  counts and reasons (:func:`flag_queue`), then hide the item with a reason
  (:func:`hide`; its open flags are closed as ``hidden``), show it again
  (:func:`unhide`) or dismiss the flags (:func:`dismiss_flags`). Each of these
  is recorded in the audit log (``moderation.hide``, ``moderation.unhide``,
  ``moderation.dismiss``).
* **Hidden content stays stored.** Moderators see it marked hidden with the
  reason; its author sees it too, marked the same way; nobody else sees it
  (the visibility rules are applied by :mod:`planning.proposals`).
* **Notifications.** Authors are told when their item is hidden or shown
  again, and (by :mod:`planning.workflow`) when someone else changes their
  proposal's status, rejects it (with the reason) or merges it (with the
  surviving proposal's number). The text is made when read, in the reader's
  language, from ``notify.<kind>`` of :mod:`planning.i18n`
  (:func:`notifications_for`, :func:`mark_read`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from planning.auth import Actor, actor_in, require_role, require_signed_in
from planning.errors import InvalidInput, NotAllowed
from planning.i18n import t
from planning.proposals import clean_text, sees_hidden
from planning.workflow import no_such_proposal

if TYPE_CHECKING:
    from store import Store

#: What can be flagged and hidden.
ITEM_KINDS: tuple[str, ...] = ("proposal", "comment")
#: Notification kinds; each has a message ``notify.<kind>`` in :mod:`planning.i18n`.
NOTIFICATION_KINDS: tuple[str, ...] = (
    "status_changed",
    "rejected",
    "merged",
    "merged_in",
    "proposal_hidden",
    "proposal_unhidden",
    "comment_hidden",
    "comment_unhidden",
)
FLAG_REASON_MAX = 500
HIDE_REASON_MAX = 1000
EXCERPT_CHARS = 80


# ---------------------------------------------------------------- notifications


def notify_in(tx: Any, resident_id: int, kind: str, *, proposal_id: int | None = None, comment_id: int | None = None, **params: Any) -> Any:
    """Store a notification for ``resident_id`` in the caller's transaction; returns the stored row.

    ``params`` fill the message ``notify.<kind>`` (``id``, ``title``,
    ``status``, ``reason``, ``survivor``, ...); they are stored as JSON.
    """
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; known: {NOTIFICATION_KINDS}")
    return tx.notifications.add(resident_id, kind, proposal_id=proposal_id, comment_id=comment_id, params=params)


def notification_text(kind: str, params: dict[str, Any], lang: str = "ko") -> str:
    """The message of a notification in ``lang``: ``notify.<kind>`` filled, then the reason if there is one."""
    values = {k: v for k, v in params.items() if k != "reason"}
    if "status" in values:
        try:
            values["status"] = t(f"status.{values['status']}", lang)
        except KeyError:
            pass
    text = t(f"notify.{kind}", lang, **values)
    reason = str(params.get("reason") or "").strip()
    return text + t("notify.reason", lang, reason=reason) if reason else text


@dataclass(frozen=True)
class NotificationView:
    """One notification as shown: the message in both languages (user text in it is as typed: escape it)."""

    id: int
    kind: str
    proposal_id: int | None
    comment_id: int | None
    created_at: datetime
    read_at: datetime | None
    message_ko: str
    message_en: str

    @property
    def unread(self) -> bool:
        """True until it is marked read."""
        return self.read_at is None

    def message(self, lang: str = "ko") -> str:
        """The message in ``lang``."""
        return self.message_en if lang == "en" else self.message_ko


def _view(n: Any) -> NotificationView:
    params = json.loads(n.params or "{}")
    return NotificationView(
        id=int(n.id),
        kind=n.kind,
        proposal_id=n.proposal_id,
        comment_id=n.comment_id,
        created_at=n.created_at,
        read_at=n.read_at,
        message_ko=notification_text(n.kind, params, "ko"),
        message_en=notification_text(n.kind, params, "en"),
    )


def notifications_for(store: Store, actor: Actor | int | None, unread_only: bool = False) -> list[NotificationView]:
    """The signed-in person's notifications: unread first, then newest first (only unread ones with ``unread_only``)."""
    with store.transaction() as tx:
        me = require_signed_in(actor_in(tx, actor))
        return [_view(n) for n in tx.notifications.list_for(me.id, unread_only=unread_only)]


def unread_count(store: Store, actor: Actor | int | None) -> int:
    """How many unread notifications the signed-in person has (0 for an anonymous visitor)."""
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        return tx.notifications.unread_count(me.id) if me.signed_in else 0


def mark_read(store: Store, actor: Actor | int | None, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the signed-in person's notifications read (all, or only ``notification_ids``); returns how many changed.

    Ids of other people's notifications are ignored: nobody can mark what is not theirs.
    """
    with store.transaction() as tx:
        me = require_signed_in(actor_in(tx, actor))
        return tx.notifications.mark_read(me.id, None if notification_ids is None else list(notification_ids))


# ---------------------------------------------------------------- items


def _check_kind(kind: str) -> None:
    if kind not in ITEM_KINDS:
        raise InvalidInput(
            "unknown_item_kind",
            f"신고·숨김 대상은 제안(proposal) 또는 댓글(comment)이어야 합니다 (받은 값: {kind!r}).",
            f"Only a proposal or a comment can be flagged or hidden (got {kind!r}).",
        )


def _no_such_comment(comment_id: int) -> InvalidInput:
    return InvalidInput(
        "no_such_comment",
        f"댓글 {comment_id}번을 찾을 수 없습니다. 새로 고친 뒤 다시 시도해 주세요.",
        f"Comment {comment_id} was not found. Please refresh and try again.",
    )


def _item(tx: Any, me: Actor, kind: str, item_id: int, *, lock: bool = False) -> tuple[Any, Any]:
    """``(item, proposal)`` if ``me`` may see the item; the proposal row is locked with ``lock``."""
    _check_kind(kind)
    if kind == "proposal":
        p = tx.proposals.get(int(item_id), for_update=lock)
        if p is None or not sees_hidden(me, p):
            raise no_such_proposal(item_id)
        return p, p
    c = tx.comments.get(int(item_id))
    if c is None:
        raise _no_such_comment(item_id)
    p = tx.proposals.get(c.proposal_id, for_update=lock)
    if p is None or not sees_hidden(me, p) or not sees_hidden(me, c):
        raise _no_such_comment(item_id)
    return c, p


def _subject(kind: str, item_id: int) -> dict[str, int | None]:
    return {"proposal_id": int(item_id), "comment_id": None} if kind == "proposal" else {"proposal_id": None, "comment_id": int(item_id)}


def _what(kind: str, item_id: int) -> tuple[str, str]:
    return (f"제안 {item_id}번", f"proposal {item_id}") if kind == "proposal" else (f"댓글 {item_id}번", f"comment {item_id}")


# ---------------------------------------------------------------- flags


def flag(store: Store, actor: Actor | int | None, kind: str, item_id: int, reason: str) -> int:
    """Report a proposal or a comment to the moderators with a reason; returns the flag's id.

    Parameters
    ----------
    kind : ``"proposal"`` or ``"comment"``
    item_id : int
    reason : str
        Why (required, at most :data:`FLAG_REASON_MAX` characters).

    Raises
    ------
    NotAllowed
        ``sign_in_required``; ``own_item`` (one's own proposal or comment);
        ``already_hidden``; ``already_flagged`` (this person's flag on the
        item is still open: it is being looked at).
    InvalidInput
        ``no_such_proposal`` / ``no_such_comment`` (also for what the person
        cannot see), ``empty_field`` / ``too_long_field`` for the reason.
    """
    why = clean_text(reason, field_ko="신고 사유", field_en="reason for the report", max_len=FLAG_REASON_MAX)
    with store.transaction() as tx:
        me = require_signed_in(actor_in(tx, actor))
        item, _ = _item(tx, me, kind, item_id)
        ko, en = _what(kind, item_id)
        if item.author_id == me.id:
            raise NotAllowed(
                "own_item",
                f"자신이 쓴 {'제안' if kind == 'proposal' else '댓글'}은 신고할 수 없습니다. 고치거나 철회해 주세요.",
                f"You cannot report your own {kind}. You can edit or withdraw it instead.",
            )
        if item.hidden:
            raise NotAllowed(
                "already_hidden",
                f"{ko}은(는) 이미 운영자가 숨겼습니다.",
                f"A moderator has already hidden {en}.",
            )
        stored = tx.flags.add(me.id, why, **_subject(kind, item_id))
        if stored is None:
            raise NotAllowed(
                "already_flagged",
                f"{ko}은(는) 이미 신고하셨습니다. 운영자가 확인하고 있으니 조금만 기다려 주세요. 알려 주셔서 고맙습니다.",
                f"You have already reported {en}; the moderators are looking at it. Thank you for letting us know.",
            )
        return int(stored.id)


@dataclass(frozen=True)
class FlagReason:
    """One open flag: who reported, why, when."""

    flag_id: int
    reporter_id: int
    reporter_name: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class FlaggedItem:
    """An item with open flags, as the moderators' queue shows it (text as typed: escape it)."""

    kind: str
    item_id: int
    proposal_id: int
    proposal_title: str
    excerpt: str  # the proposal's title, or the start of the comment
    author_id: int
    author_name: str
    hidden: bool
    count: int
    reasons: tuple[FlagReason, ...]
    first_flagged_at: datetime
    last_flagged_at: datetime


def flag_queue(store: Store, actor: Actor | int | None) -> list[FlaggedItem]:
    """The open flags grouped by item (planners and admins): most-flagged first, then the longest waiting."""
    with store.transaction() as tx:
        require_role(actor_in(tx, actor), "planner", "admin")
        flags = tx.flags.open_all()
        groups: dict[tuple[str, int], list[Any]] = {}
        for f in flags:
            key = ("proposal", int(f.proposal_id)) if f.proposal_id is not None else ("comment", int(f.comment_id))
            groups.setdefault(key, []).append(f)
        items: list[tuple[tuple[str, int], Any, Any]] = []
        for key in groups:
            kind, item_id = key
            item = tx.proposals.get(item_id) if kind == "proposal" else tx.comments.get(item_id)
            proposal = item if kind == "proposal" else tx.proposals.get(item.proposal_id)
            items.append((key, item, proposal))
        names = tx.residents.display_names(
            [f.resident_id for f in flags] + [item.author_id for _, item, _ in items]
        )
        out = []
        for (kind, item_id), item, proposal in items:
            fs = groups[(kind, item_id)]
            text = item.title if kind == "proposal" else item.body
            out.append(
                FlaggedItem(
                    kind=kind,
                    item_id=item_id,
                    proposal_id=int(proposal.id),
                    proposal_title=proposal.title,
                    excerpt=text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…",
                    author_id=int(item.author_id),
                    author_name=names.get(item.author_id, ""),
                    hidden=bool(item.hidden),
                    count=len(fs),
                    reasons=tuple(FlagReason(int(f.id), int(f.resident_id), names.get(f.resident_id, ""), f.reason, f.created_at) for f in fs),
                    first_flagged_at=fs[0].created_at,
                    last_flagged_at=fs[-1].created_at,
                )
            )
        return sorted(out, key=lambda i: (-i.count, i.first_flagged_at, i.kind, i.item_id))


# ---------------------------------------------------------------- hiding


def hide(store: Store, actor: Actor | int | None, kind: str, item_id: int, reason: str) -> int:
    """Hide a proposal or a comment from the public with a reason (planners and admins); returns the flags closed.

    The item stays stored; moderators and its author still see it, marked
    hidden with the reason. Its open flags are closed as ``hidden``; the
    author is notified (unless the moderator is the author); the audit log
    records it (``moderation.hide``).
    """
    why = clean_text(reason, field_ko="숨김 사유", field_en="reason for hiding", max_len=HIDE_REASON_MAX)
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "planner", "admin")
        item, proposal = _item(tx, me, kind, item_id, lock=True)
        ko, en = _what(kind, item_id)
        if item.hidden:
            raise InvalidInput(
                "already_hidden",
                f"{ko}은(는) 이미 숨겨져 있습니다 (사유: {item.hidden_reason or '-'}).",
                f"{en.capitalize()} is already hidden (reason: {item.hidden_reason or '-'}).",
            )
        repo = tx.proposals if kind == "proposal" else tx.comments
        repo.set_hidden(item.id, True, reason=why, by=me.id)
        closed = tx.flags.resolve("hidden", me.id, **_subject(kind, item_id))
        tx.audit.record(me.id, "moderation.hide", f"{kind}:{item_id}", {"reason": why, "flags_closed": closed, "proposal_id": proposal.id})
        if item.author_id != me.id:
            notify_in(
                tx,
                item.author_id,
                f"{kind}_hidden",
                proposal_id=proposal.id,
                comment_id=None if kind == "proposal" else item.id,
                id=proposal.id,
                title=proposal.title,
                reason=why,
            )
        return closed


def unhide(store: Store, actor: Actor | int | None, kind: str, item_id: int, reason: str = "") -> None:
    """Show a hidden proposal or comment again (planners and admins); the author is notified, the audit log records it."""
    why = clean_text(reason, field_ko="사유", field_en="reason", max_len=HIDE_REASON_MAX, required=False)
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "planner", "admin")
        item, proposal = _item(tx, me, kind, item_id, lock=True)
        ko, en = _what(kind, item_id)
        if not item.hidden:
            raise InvalidInput("not_hidden", f"{ko}은(는) 숨겨져 있지 않습니다.", f"{en.capitalize()} is not hidden.")
        before = item.hidden_reason
        repo = tx.proposals if kind == "proposal" else tx.comments
        repo.set_hidden(item.id, False)
        tx.audit.record(me.id, "moderation.unhide", f"{kind}:{item_id}", {"reason": why, "hidden_reason": before, "proposal_id": proposal.id})
        if item.author_id != me.id:
            notify_in(
                tx,
                item.author_id,
                f"{kind}_unhidden",
                proposal_id=proposal.id,
                comment_id=None if kind == "proposal" else item.id,
                id=proposal.id,
                title=proposal.title,
                reason=why,
            )


def dismiss_flags(store: Store, actor: Actor | int | None, kind: str, item_id: int, reason: str = "") -> int:
    """Close an item's open flags without hiding it (planners and admins); returns how many; audit ``moderation.dismiss``."""
    why = clean_text(reason, field_ko="사유", field_en="reason", max_len=HIDE_REASON_MAX, required=False)
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "planner", "admin")
        _item(tx, me, kind, item_id, lock=True)
        ko, en = _what(kind, item_id)
        closed = tx.flags.resolve("dismissed", me.id, **_subject(kind, item_id))
        if not closed:
            raise InvalidInput("no_open_flags", f"{ko}에는 처리할 신고가 없습니다.", f"{en.capitalize()} has no open reports.")
        tx.audit.record(me.id, "moderation.dismiss", f"{kind}:{item_id}", {"reason": why, "flags_closed": closed})
        return closed
