"""Proposals: preview, submit, edit, withdraw, comment, support, and what pages show of them.

One service function per user action: each finds out who acts (an
:class:`planning.auth.Actor`, re-read from the store in the action's own
transaction), checks permission, validates its input, writes in one
transaction and records history. Pages, the CLI and tests call these
functions; the read functions (:func:`proposal_card`, :func:`comment_thread`,
:func:`my_proposals`, :func:`map_frame`) apply the same visibility rules.

Visibility: hidden (moderated, :mod:`planning.moderation`) proposals and
comments are seen by planners and admins and by their own author, marked
hidden with the moderator's reason; to everyone else a hidden item does not
exist. Withdrawn proposals stay readable by id but leave the public map;
merged proposals stay on the map (greyed) and their card links to the
proposal they were merged into. Neither takes new supports or comments.
Status changes go through :mod:`planning.workflow`.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import STORAGE_CRS
from geo.linking import link_geometries
from geo.validation import Repair, validate_drawn_geometry
from planning.auth import Actor, actor_in, require_role, require_signed_in
from planning.categories import category_codes
from planning.errors import InvalidInput, NotAllowed, not_allowed_signin
from planning.geography import gazetteer
from planning.i18n import t
from planning.workflow import CLOSED_STATUSES, MERGED, REJECTED, SUBMITTED, WITHDRAWN, no_such_proposal, transition_in

if TYPE_CHECKING:
    from store import BBox, Store

KINDS = ("area", "individual")
TITLE_MAX = 120
BODY_MAX = 5000
COMMENT_MAX = 2000
COST_MAX_KRW = 10_000_000_000  # 100억원: far above any district quota
PHOTO_URL_MAX = 500
REASON_MAX = 1000
#: Statuses left out of the public map. Merged proposals stay on it, greyed,
#: so residents who look for them find the link to where they went.
OFF_PUBLIC_MAP = (WITHDRAWN,)
#: Tables the residents' map reads (:func:`map_frame`, :func:`map_view`): its caches key on their data versions.
MAP_TABLES = ("proposals", "supports", "comments")
#: Columns of :func:`map_frame`, in order.
MAP_COLUMNS = (
    "id",
    "title",
    "category",
    "status",
    "kind",
    "cost_krw",
    "is_demo",
    "district_code",
    "hub_code",
    "supports",
    "comments",
    "geometry",
)


@dataclass(frozen=True)
class Placement:
    """Where a drawn geometry belongs, shown to the resident before submitting."""

    geometry: Any  # shapely, EPSG:4326
    repairs: tuple[Repair, ...]
    hub_code: str
    hub_name: str
    hub_distance_m: float
    district_code: str
    district_name: str
    district_shares: dict[str, float]
    legal_dong_code: str
    legal_dong_name: str


#: Format characters kept by :func:`clean_text`: zero-width (non-)joiners, needed by emoji sequences and some scripts.
_KEPT_FORMAT_CHARS = frozenset("\u200c\u200d")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85\x0b\x0c]")


def _without_controls(text: str) -> str:
    """``text`` with lone surrogates and control, format (bidi marks, BOM), private-use and noncharacters removed.

    A surrogate pair left as two code points (a JSON ``"\\ud83d\\ude00"`` decoded
    leniently) is joined back into its character first; line breaks of every
    kind become ``\\n``; tabs stay. Code points unassigned in this Python's
    Unicode database are kept: they are most often emoji newer than it.
    """
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    text = _LINE_BREAKS.sub("\n", text)
    return "".join(
        ch
        for ch in text
        if ch in "\n\t"
        or ch in _KEPT_FORMAT_CHARS
        or (unicodedata.category(ch) not in _REMOVED_CATEGORIES and not _is_noncharacter(ch))
    )


#: Control, format, surrogate and private-use characters: never kept in a form text.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def _is_noncharacter(ch: str) -> bool:
    """U+FDD0..U+FDEF and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE, ...)."""
    cp = ord(ch)
    return 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE


def clean_text(value: str | None, *, field_ko: str, field_en: str, max_len: int, required: bool = True) -> str:
    """Normalise a form text: control characters removed (newlines and tabs kept), then NFC, trimmed, length-checked.

    Removal comes before normalisation, so characters a removed control
    character kept apart compose (``"e\\u200b\\u0301"`` becomes ``"é"``).
    Text that is not a string, or is hopelessly long, is refused in both languages.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(
            "bad_field",
            f"{field_ko}은(는) 글자로 입력해 주세요.",
            f"Please enter the {field_en} as text.",
        )
    too_long = InvalidInput(
        "too_long_field",
        f"{field_ko}이(가) 너무 깁니다 ({len(value):,}자, 최대 {max_len:,}자). 줄여 주세요.",
        f"The {field_en} is too long ({len(value):,} characters, at most {max_len:,}). Please shorten it.",
    )
    if len(value) > 10 * max_len + 10_000:  # megabytes pasted in: refuse before any work on them
        raise too_long
    text = unicodedata.normalize("NFC", _without_controls(value)).strip()
    if required and not text:
        raise InvalidInput("empty_field", f"{field_ko}을(를) 입력해 주세요.", f"Please enter the {field_en}.")
    if len(text) > max_len:
        raise InvalidInput(
            "too_long_field",
            f"{field_ko}이(가) 너무 깁니다 ({len(text):,}자, 최대 {max_len:,}자). 줄여 주세요.",
            f"The {field_en} is too long ({len(text):,} characters, at most {max_len:,}). Please shorten it.",
        )
    return text


def preview_placement(store: Store, drawn: Any) -> Placement:
    """Validate a drawn geometry and tell where it belongs (hub, district, legal dong).

    Raises :class:`geo.errors.GeometryRefused` with a bilingual message when
    the drawing cannot be used.
    """
    valid = validate_drawn_geometry(drawn)
    row = link_geometries(np.array([valid.geometry], dtype=object), gazetteer(store)).iloc[0]
    return Placement(
        geometry=valid.geometry,
        repairs=valid.repairs,
        hub_code=row.hub_code,
        hub_name=row.hub_name,
        hub_distance_m=float(row.hub_distance_m),
        district_code=row.district_code,
        district_name=row.district_name,
        district_shares=dict(row.district_shares),
        legal_dong_code=row.legal_dong_code,
        legal_dong_name=row.legal_dong_name,
    )


def _check_fields(title: str, body: str, category: str, kind: str, cost_krw: int | None) -> tuple[str, str]:
    title = clean_text(title, field_ko="제목", field_en="title", max_len=TITLE_MAX)
    body = clean_text(body, field_ko="설명", field_en="description", max_len=BODY_MAX)
    if category not in category_codes():
        raise InvalidInput("unknown_category", "분야를 목록에서 골라 주세요.", "Please choose a category from the list.")
    if kind not in KINDS:
        raise InvalidInput(
            "unknown_kind",
            "제안 유형은 '지역(area)' 또는 '개인(individual)'이어야 합니다.",
            "The proposal kind must be 'area' or 'individual'.",
        )
    if cost_krw is not None and (
        isinstance(cost_krw, bool) or not isinstance(cost_krw, (int, np.integer)) or cost_krw < 0 or cost_krw > COST_MAX_KRW
    ):
        raise InvalidInput(
            "bad_cost",
            f"예상 비용은 0원 이상 {COST_MAX_KRW:,}원 이하의 정수로 입력해 주세요.",
            f"The estimated cost must be a whole number of won between 0 and {COST_MAX_KRW:,}.",
        )
    return title, body


def clean_photo_url(value: str | None) -> str | None:
    """A photo link checked for storage: None when blank, else an ``http(s)://host/...`` URL.

    Refuses (bilingual :class:`InvalidInput`) links longer than
    :data:`PHOTO_URL_MAX` characters, other schemes (``javascript:``,
    ``data:``, ``file:``, ...), links without a host, with spaces or control
    characters, or with a user name or password before the host (which can
    disguise where the link goes).
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        return None
    if len(text) > PHOTO_URL_MAX:
        raise InvalidInput(
            "too_long_field",
            f"사진 링크가 너무 깁니다 ({len(text):,}자, 최대 {PHOTO_URL_MAX}자). 더 짧은 링크를 넣어 주세요.",
            f"The photo link is too long ({len(text):,} characters, at most {PHOTO_URL_MAX}). Please use a shorter link.",
        )
    bad = InvalidInput(
        "bad_photo_url",
        "사진 링크는 http:// 또는 https://로 시작하는 인터넷 주소여야 합니다 (예: https://example.kr/photo.jpg).",
        "The photo link must be a web address starting with http:// or https:// (e.g. https://example.kr/photo.jpg).",
    )
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in text):
        raise bad
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise bad
    return text


_no_such_proposal = no_such_proposal


def _proposal_closed(proposal_id: int, merged_into_id: int | None = None) -> NotAllowed:
    if merged_into_id is not None:
        return NotAllowed(
            "proposal_closed",
            f"제안 {proposal_id}번은 제안 {merged_into_id}번에 병합되었습니다. {merged_into_id}번 제안에 공감하거나 댓글을 달아 주세요.",
            f"Proposal {proposal_id} was merged into proposal {merged_into_id}: please support or comment on that one.",
        )
    return NotAllowed(
        "proposal_closed",
        f"제안 {proposal_id}번은 철회되었거나 숨겨진 제안이라 공감하거나 댓글을 달 수 없습니다.",
        f"Proposal {proposal_id} was withdrawn or hidden: it takes no supports or comments.",
    )


def _not_author() -> NotAllowed:
    return NotAllowed(
        "not_author",
        "자신이 쓴 제안만 수정하거나 철회할 수 있습니다.",
        "You can edit or withdraw only your own proposals.",
    )


def _not_submitted(status: str) -> NotAllowed:
    ko_status, en_status = (t(f"status.{status}", "ko"), t(f"status.{status}", "en")) if _known_status(status) else (status, status)
    return NotAllowed(
        "not_editable",
        f"접수 상태의 제안만 수정하거나 철회할 수 있습니다 (현재 상태: {ko_status}).",
        f"Only proposals still in 'submitted' can be edited or withdrawn (current status: {en_status}).",
    )


def _known_status(status: str) -> bool:
    try:
        t(f"status.{status}")
    except KeyError:
        return False
    return True


def _signed_in(tx: Any, who: Actor | int | None) -> Actor:
    """``who`` re-read in ``tx``; refuses when not signed in or the account is gone."""
    return require_signed_in(actor_in(tx, who))


def _require_phase(tx: Any, action: str) -> None:
    """Refuse ``action`` when the current budget cycle's phase does not allow it (no cycle: allowed)."""
    from planning.budget import current_cycle_in, phase_allows, phase_refusal  # budget imports this module

    cycle = current_cycle_in(tx, for_share=True)  # a phase change waits for this transaction
    if cycle is not None and not phase_allows(cycle, action):
        raise phase_refusal(cycle, action)


def sees_hidden(viewer: Actor, item: Any) -> bool:
    """True when ``viewer`` may see ``item`` (a proposal or comment): not hidden, or a moderator, or its author."""
    return not item.hidden or viewer.is_moderator or (viewer.signed_in and item.author_id == viewer.id)


def _visible(tx: Any, proposal_id: int, viewer: Actor, for_update: bool = False) -> Any:
    """The proposal if ``viewer`` may see it; hidden ones exist only for moderators and their author."""
    p = tx.proposals.get(proposal_id, for_update=for_update)
    if p is None or not sees_hidden(viewer, p):
        raise _no_such_proposal(proposal_id)
    return p


def _open_for_participation(p: Any) -> None:
    """Refuse supports and comments on withdrawn, merged or hidden proposals."""
    if p.status in CLOSED_STATUSES or p.hidden:
        raise _proposal_closed(p.id, p.merged_into_id if p.status == MERGED else None)


def _may_change(actor: Actor, p: Any) -> bool:
    return actor.signed_in and p.author_id == actor.id and p.status == SUBMITTED and not p.hidden


def _check_may_change(actor: Actor, p: Any) -> None:
    if p.author_id != actor.id:
        raise _not_author()
    if p.hidden:  # moderated: frozen, even for an author who is a planner
        raise _no_such_proposal(p.id)
    if p.status != SUBMITTED:
        raise _not_submitted(p.status)


def submit_proposal(
    store: Store,
    author: Actor | int | None,
    drawn: Any,
    title: str,
    body: str,
    category: str,
    kind: str = "individual",
    cost_krw: int | None = None,
    is_demo: bool = False,
    photo_url: str | None = None,
) -> int:
    """Submit a proposal drawn on the map; returns its id.

    Parameters
    ----------
    author : Actor, int or None
        Who submits (an :class:`~planning.auth.Actor`; a bare account id is
        still accepted). Must be signed in.
    drawn : GeoJSON geometry or Feature (dict or text), lon/lat
        Validated with :func:`geo.validation.validate_drawn_geometry` and
        linked to its hub, district and legal dong.
    photo_url : str, optional
        An ``http(s)`` link to a photo (see :func:`clean_photo_url`).

    The proposal and its first status-history entry are written in one
    transaction.
    """
    if author is None:
        raise not_allowed_signin()
    title, body = _check_fields(title, body, category, kind, cost_krw)
    photo = clean_photo_url(photo_url)
    place = preview_placement(store, drawn)
    with store.transaction() as tx:
        me = _signed_in(tx, author)
        _require_phase(tx, "submit_proposal")
        proposal = tx.proposals.add(
            title=title,
            body=body,
            category=category,
            kind=kind,
            cost_krw=None if cost_krw is None else int(cost_krw),
            status=SUBMITTED,
            author_id=me.id,
            geometry=place.geometry,
            hub_code=place.hub_code,
            hub_distance_m=place.hub_distance_m,
            district_code=place.district_code,
            legal_dong_code=place.legal_dong_code,
            legal_dong_name=place.legal_dong_name,
            district_shares=json.dumps(place.district_shares),
            is_demo=is_demo,
            photo_url=photo,
        )
        return proposal.id


def edit_proposal(
    store: Store,
    actor: Actor | int | None,
    proposal_id: int,
    *,
    title: str | None = None,
    body: str | None = None,
    category: str | None = None,
    kind: str | None = None,
    cost_krw: int | None = None,
    photo_url: str | None = None,
    drawn: Any = None,
) -> tuple[str, ...]:
    """Edit one's own proposal while it is still ``submitted``; returns the names of the fields changed.

    Parameters
    ----------
    actor : Actor
        Must be the author.
    title, body, category, kind, cost_krw : optional
        New values; None keeps the stored one. They are checked as on
        submission.
    photo_url : str, optional
        A new ``http(s)`` link; ``""`` removes the photo; None keeps it.
    drawn : GeoJSON, optional
        A new geometry: validated, then re-linked to its hub, district,
        legal dong and district shares (the bbox follows it).

    Returns
    -------
    tuple of str
        The fields that changed (``"geometry"`` for a new drawing), sorted;
        empty when nothing changed, and then nothing is written. Otherwise
        the change is written with a history entry in the same status,
        reason ``"edited"``.

    Raises
    ------
    NotAllowed
        ``sign_in_required``; ``not_author`` for anyone but the author;
        ``not_editable`` once the proposal left ``submitted``.
    InvalidInput, geo.errors.GeometryRefused
        For a bad field or drawing (nothing is written).
    """
    # Permission first, so a stranger learns nothing from validation messages.
    with store.transaction() as tx:
        me = _signed_in(tx, actor)
        _check_may_change(me, _visible(tx, proposal_id, me))
        _require_phase(tx, "edit_proposal")
    place = preview_placement(store, drawn) if drawn is not None else None
    photo = None if photo_url is None else clean_photo_url(photo_url)
    with store.transaction() as tx:
        me = _signed_in(tx, actor)
        p = _visible(tx, proposal_id, me, for_update=True)
        _check_may_change(me, p)  # again: the status may have changed meanwhile
        new_kind = p.kind if kind is None else kind
        new_category = p.category if category is None else category
        new_cost = p.cost_krw if cost_krw is None else cost_krw
        new_title, new_body = _check_fields(
            p.title if title is None else title, p.body if body is None else body, new_category, new_kind, new_cost
        )
        wanted: dict[str, Any] = {
            "title": new_title,
            "body": new_body,
            "category": new_category,
            "kind": new_kind,
            "cost_krw": None if new_cost is None else int(new_cost),
        }
        if photo_url is not None:
            wanted["photo_url"] = photo
        changes = {k: v for k, v in wanted.items() if getattr(p, k) != v}
        changed = set(changes)
        if place is not None and place.geometry.wkb != p.geometry.wkb:
            changed.add("geometry")
            changes.update(
                geometry=place.geometry,
                hub_code=place.hub_code,
                hub_distance_m=place.hub_distance_m,
                district_code=place.district_code,
                legal_dong_code=place.legal_dong_code,
                legal_dong_name=place.legal_dong_name,
                district_shares=place.district_shares,
            )
        if not changes:
            return ()
        tx.proposals.update(proposal_id, **changes)
        tx.proposals.set_status(proposal_id, p.status, me.id, "edited")
        return tuple(sorted(changed))


def withdraw_proposal(store: Store, actor: Actor | int | None, proposal_id: int, reason: str = "") -> None:
    """Withdraw one's own proposal while it is ``submitted``: status ``withdrawn``, with history.

    The move is the workflow's (:func:`planning.workflow.transition_in`: the
    author only, from ``submitted``, in a budget phase that allows it). A
    withdrawn proposal leaves the public map and takes no new supports or
    comments; its page stays readable. Refusals as for :func:`edit_proposal`.
    """
    with store.transaction() as tx:
        me = _signed_in(tx, actor)
        p = _visible(tx, proposal_id, me, for_update=True)
        _check_may_change(me, p)  # the author's own words: "not yours", "no longer submitted"
        transition_in(tx, me, p, WITHDRAWN, reason)


def add_comment(
    store: Store,
    author: Actor | int | None,
    proposal_id: int,
    body: str,
    is_demo: bool = False,
    parent_id: int | None = None,
) -> int:
    """Comment on a proposal, or reply to a comment with ``parent_id``; returns the comment id.

    Threads are one level deep: a reply to a reply is attached to the
    top-level comment. Withdrawn, merged and hidden proposals take no
    comments (``proposal_closed``); a hidden comment cannot be replied to
    except by planners and admins (``no_such_comment`` otherwise).
    """
    if author is None:
        raise not_allowed_signin()
    body = clean_text(body, field_ko="댓글", field_en="comment", max_len=COMMENT_MAX)
    with store.transaction() as tx:
        me = _signed_in(tx, author)
        p = _visible(tx, proposal_id, me)
        _open_for_participation(p)
        _require_phase(tx, "comment")
        if parent_id is not None:
            parent = tx.comments.get(parent_id)
            if parent is None or parent.proposal_id != proposal_id or (parent.hidden and not me.is_moderator):
                raise InvalidInput(
                    "no_such_comment",
                    f"답글을 달 댓글({parent_id}번)을 이 제안에서 찾을 수 없습니다. 새로 고친 뒤 다시 시도해 주세요.",
                    f"The comment {parent_id} to reply to is not on this proposal. Please refresh and try again.",
                )
        return tx.comments.add(proposal_id=proposal_id, author_id=me.id, body=body, is_demo=is_demo, parent_id=parent_id).id


def support_proposal(store: Store, supporter: Actor | int | None, proposal_id: int) -> int:
    """Support a proposal (once per resident); returns the new support count.

    Withdrawn, merged and hidden proposals are refused; a second support
    raises the store's :class:`store.AlreadySupported`.
    """
    if supporter is None:
        raise not_allowed_signin()
    with store.transaction() as tx:
        me = _signed_in(tx, supporter)
        p = _visible(tx, proposal_id, me)
        _open_for_participation(p)
        _require_phase(tx, "support")
        tx.supports.add(proposal_id, me.id)
        return tx.supports.count_for(proposal_id)


def withdraw_support(store: Store, actor: Actor | int | None, proposal_id: int) -> int:
    """Take back one's support; returns the new support count (unchanged if there was none)."""
    with store.transaction() as tx:
        me = _signed_in(tx, actor)
        _visible(tx, proposal_id, me)
        _require_phase(tx, "support")
        tx.supports.remove(proposal_id, me.id)
        return tx.supports.count_for(proposal_id)


# --- what pages show ------------------------------------------------------------


@dataclass(frozen=True)
class CommentView:
    """One comment as shown: text as typed (escape it when rendering), with its author as the viewer may see them.

    ``author_id`` and ``author_name`` are filled only for viewers who may see
    the author (:func:`planning.privacy.may_see_identity`); for everyone else
    they are None and "", and pages show :func:`planning.privacy.author_label`.
    """

    id: int
    proposal_id: int
    parent_id: int | None
    author_id: int | None
    author_name: str
    body: str
    created_at: datetime
    hidden: bool
    is_demo: bool
    hidden_reason: str | None = None  # shown to moderators and the comment's author
    viewer_flagged: bool = False  # the viewer has an open flag on it
    open_flags: int = 0  # open flags on it; counted for moderators only
    can_flag: bool = False  # the viewer may report it
    author_shown: bool = False  # the viewer may see who wrote it (author_id, author_name filled)
    author_is_viewer: bool = False  # the viewer wrote it
    author_role: str | None = None  # the author's role (the public sees officials labelled by role)


#: A top-level comment and its replies, oldest first.
Thread = tuple[CommentView, list[CommentView]]


def _thread(tx: Any, proposal_id: int, viewer: Actor, hub_code: str | None = None) -> list[Thread]:
    from planning.privacy import may_see_identity

    # Hidden comments: moderators see all, authors their own (marked hidden).
    comments = [c for c in tx.comments.list_for(proposal_id, include_hidden=True) if sees_hidden(viewer, c)]
    names = tx.residents.display_names(c.author_id for c in comments)
    roles = {a: (r.role if (r := tx.residents.get(a)) is not None else None) for a in {c.author_id for c in comments}}
    shown = {c.id: may_see_identity(viewer, c.author_id, hub_code) for c in comments}
    flagged: set[int] = set()
    open_flags: dict[int, int] = {}
    if viewer.signed_in:
        for f in tx.flags.open_for_comments(c.id for c in comments):
            if f.resident_id == viewer.id:
                flagged.add(f.comment_id)
            if viewer.is_moderator:
                open_flags[f.comment_id] = open_flags.get(f.comment_id, 0) + 1
    views = [
        CommentView(
            id=c.id,
            proposal_id=c.proposal_id,
            parent_id=c.parent_id,
            author_id=c.author_id if shown[c.id] else None,
            author_name=names.get(c.author_id, "") if shown[c.id] else "",
            body=c.body,
            created_at=c.created_at,
            hidden=bool(c.hidden),
            is_demo=bool(c.is_demo),
            hidden_reason=c.hidden_reason if c.hidden else None,
            viewer_flagged=c.id in flagged,
            open_flags=open_flags.get(c.id, 0),
            can_flag=viewer.signed_in and c.author_id != viewer.id and not c.hidden and c.id not in flagged,
            author_shown=shown[c.id],
            author_is_viewer=viewer.signed_in and c.author_id == viewer.id,
            author_role=roles.get(c.author_id),
        )
        for c in comments
    ]
    replies: dict[int, list[CommentView]] = {}
    for v in views:
        if v.parent_id is not None:
            replies.setdefault(v.parent_id, []).append(v)
    # A reply whose top-level comment the viewer cannot see goes with it: it
    # answers something the viewer cannot see.
    return [(v, replies.get(v.id, [])) for v in views if v.parent_id is None]


def comment_thread(store: Store, proposal_id: int, viewer: Actor) -> list[Thread]:
    """The comments of a proposal as threads: ``[(comment, [reply, ...]), ...]``, oldest first.

    Hidden comments (and the replies under a hidden comment) are left out
    unless ``viewer`` is a planner or admin, or wrote the hidden comment
    (then it is marked hidden, with the moderator's reason). A hidden
    proposal has no thread for the public (``no_such_proposal``). Authors
    are named only to those :func:`planning.privacy.may_see_identity` allows.
    """
    with store.transaction() as tx:
        me = actor_in(tx, viewer)
        p = _visible(tx, proposal_id, me)
        return _thread(tx, proposal_id, me, p.hub_code)


@dataclass(frozen=True)
class ProposalCard:
    """Everything a proposal's card shows, for one viewer.

    Text fields are as typed: escape them when rendering (``layers.escape``).
    ``author_id`` and ``author_name`` are filled only for viewers who may see
    the author (:func:`planning.privacy.may_see_identity`: the author, planners,
    admins, the linked hub's centre staff); anonymous visitors and other
    residents get None and "" (pages show :func:`planning.privacy.author_label`).
    The author's home dong is never on a card.
    """

    id: int
    title: str
    body: str
    category: str
    kind: str
    status: str
    cost_krw: int | None
    photo_url: str | None
    created_at: datetime
    updated_at: datetime
    author_id: int | None
    author_name: str
    district_code: str | None
    district_name: str | None
    hub_code: str | None
    hub_name: str | None
    hub_distance_m: float | None
    legal_dong_code: str | None
    legal_dong_name: str | None
    district_shares: dict[str, float]
    geometry: Any  # shapely, EPSG:4326
    supports: int
    viewer_supports: bool
    thread: list[Thread] = field(default_factory=list)  # as from comment_thread()
    comment_count: int = 0  # comments and replies the viewer sees
    is_demo: bool = False
    hidden: bool = False
    can_edit: bool = False
    can_withdraw: bool = False
    can_support: bool = False
    can_comment: bool = False
    hidden_reason: str | None = None  # shown to moderators and the author
    rejection_reason: str | None = None  # why it was rejected (status ``rejected``)
    merged_into_id: int | None = None  # status ``merged``: the proposal it went into
    merged_ids: tuple[int, ...] = ()  # proposals merged into this one
    viewer_flagged: bool = False  # the viewer has an open flag on it
    can_flag: bool = False  # the viewer may report it
    open_flags: int = 0  # open flags on it; counted for moderators only
    can_moderate: bool = False  # the viewer is a planner or admin
    author_shown: bool = False  # the viewer may see who wrote it (author_id, author_name filled)
    author_is_viewer: bool = False  # the viewer wrote it
    author_role: str | None = None  # the author's role (the public sees officials labelled by role)


def proposal_card(store: Store, proposal_id: int, viewer: Actor) -> ProposalCard:
    """The card of a proposal as ``viewer`` may see it, read in one transaction.

    Hidden proposals are shown only to planners, admins and their author
    (marked hidden, with the moderator's reason); everyone else gets
    ``no_such_proposal`` (:class:`InvalidInput`), as for a missing id.
    ``can_*`` say what this viewer may do; the services check again.
    """
    from planning.privacy import may_see_identity

    with store.transaction() as tx:
        me = actor_in(tx, viewer)
        p = _visible(tx, proposal_id, me)
        author = tx.residents.get(p.author_id)
        shown = may_see_identity(me, p.author_id, p.hub_code)
        district = tx.districts.get(p.district_code) if p.district_code else None
        hub = tx.centres.get(p.hub_code) if p.hub_code else None
        threads = _thread(tx, proposal_id, me, p.hub_code)
        open_ = p.status not in CLOSED_STATUSES and not p.hidden
        flags = tx.flags.open_for(proposal_id=p.id) if me.signed_in else []
        flagged = any(f.resident_id == me.id for f in flags)
        rejection = tx.history.latest_reasons([p.id], REJECTED).get(p.id) if p.status == REJECTED else None
        return ProposalCard(
            id=p.id,
            title=p.title,
            body=p.body,
            category=p.category,
            kind=p.kind,
            status=p.status,
            cost_krw=p.cost_krw,
            photo_url=p.photo_url,
            created_at=p.created_at,
            updated_at=p.updated_at,
            author_id=p.author_id if shown else None,
            author_name=(author.display_name if author else "") if shown else "",
            district_code=p.district_code,
            district_name=district.name if district else None,
            hub_code=p.hub_code,
            hub_name=hub.name if hub else None,
            hub_distance_m=p.hub_distance_m,
            legal_dong_code=p.legal_dong_code,
            legal_dong_name=p.legal_dong_name,
            district_shares=json.loads(p.district_shares) if p.district_shares else {},
            geometry=p.geometry,
            supports=tx.supports.count_for(p.id),
            viewer_supports=me.signed_in and tx.supports.has(p.id, me.id),
            thread=threads,
            comment_count=sum(1 + len(replies) for _, replies in threads),
            is_demo=bool(p.is_demo),
            hidden=bool(p.hidden),
            can_edit=_may_change(me, p),
            can_withdraw=_may_change(me, p),
            can_support=me.signed_in and open_,
            can_comment=me.signed_in and open_,
            hidden_reason=p.hidden_reason if p.hidden else None,
            rejection_reason=rejection,
            merged_into_id=p.merged_into_id if p.status == MERGED else None,
            merged_ids=tuple(tx.proposals.merged_into(p.id)),
            viewer_flagged=flagged,
            can_flag=me.signed_in and p.author_id != me.id and not p.hidden and not flagged,
            open_flags=len(flags) if me.is_moderator else 0,
            can_moderate=me.is_moderator,
            author_shown=shown,
            author_is_viewer=me.signed_in and p.author_id == me.id,
            author_role=author.role if author else None,
        )


@dataclass(frozen=True)
class MyProposal:
    """One entry of the author's "my proposals" list, with what the edit form needs."""

    id: int
    title: str
    body: str
    photo_url: str | None
    category: str
    kind: str
    status: str
    cost_krw: int | None
    created_at: datetime
    updated_at: datetime
    supports: int
    comments: int
    hidden: bool
    is_demo: bool
    can_edit: bool
    can_withdraw: bool
    hidden_reason: str | None = None  # why a moderator hid it
    rejection_reason: str | None = None  # why it was rejected (status ``rejected``)
    merged_into_id: int | None = None  # status ``merged``: the proposal it went into


def my_proposals(store: Store, actor: Actor | int | None) -> list[MyProposal]:
    """The signed-in author's proposals, newest first, withdrawn and hidden ones included.

    Three queries whatever the number of proposals (the texts, the counts
    computed by the database, the rejection reasons). A hidden proposal is
    listed (``hidden`` True, with the moderator's reason) so its author
    knows it was moderated, but it cannot be edited. A rejected one carries
    the reason, a merged one the proposal it went into.
    """
    with store.transaction() as tx:
        me = _signed_in(tx, actor)
        own = {p.id: p for p in tx.proposals.by_author(me.id)}
        rows = tx.proposals.summaries(include_hidden=True, author_id=me.id)
        rejections = tx.history.latest_reasons([r.id for r in rows if r.status == REJECTED], REJECTED)
    out = []
    for r in rows:
        may = r.status == SUBMITTED and not r.hidden
        p = own.get(r.id)
        body, photo_url = (p.body, p.photo_url) if p is not None else ("", None)
        out.append(
            MyProposal(
                id=r.id,
                title=r.title,
                body=body,
                photo_url=photo_url,
                category=r.category,
                kind=r.kind,
                status=r.status,
                cost_krw=r.cost_krw,
                created_at=r.created_at,
                updated_at=r.updated_at,
                supports=r.supports,
                comments=r.comments,
                hidden=r.hidden,
                is_demo=r.is_demo,
                can_edit=may,
                can_withdraw=may,
                hidden_reason=p.hidden_reason if p is not None and r.hidden else None,
                rejection_reason=rejections.get(r.id) if r.status == REJECTED else None,
                merged_into_id=p.merged_into_id if p is not None and r.status == MERGED else None,
            )
        )
    return out


def map_frame(
    store: Store,
    bbox: BBox | None = None,
    include_hidden: bool = False,
    viewer: Actor | None = None,
    ids: Collection[int] | None = None,
) -> gpd.GeoDataFrame:
    """The proposals for the map as a GeoDataFrame in EPSG:4326, from one query.

    Parameters
    ----------
    bbox : (west, south, east, north), optional
        Only proposals whose bounding box overlaps this lon/lat box
        (degrees, edges included); on PostGIS through the GiST index.
    include_hidden : bool
        The staff map: hidden and withdrawn proposals too. Needs ``viewer``
        to be a planner or admin (:class:`NotAllowed` otherwise). The public
        map (the default) leaves both out (merged proposals stay, greyed by
        the map's status style; hidden ones are left out even for their
        author, who finds them under "my proposals").
    viewer : Actor, optional
        Who looks; only needed with ``include_hidden``.
    ids : collection of int, optional
        Only these proposals (still filtered as above).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`MAP_COLUMNS` (``id, title, category, status, kind,
        cost_krw, is_demo, district_code, hub_code, supports, comments,
        geometry``), newest first; ``cost_krw`` is a nullable integer,
        ``comments`` counts the comments the public sees.
    """
    with store.transaction() as tx:
        if include_hidden:
            require_role(actor_in(tx, viewer), "planner", "admin")
        rows = tx.proposals.summaries(
            bbox=bbox,
            include_hidden=include_hidden,
            exclude_statuses=() if include_hidden else OFF_PUBLIC_MAP,
            ids=ids,
        )
    columns = {name: [getattr(r, name) for r in rows] for name in MAP_COLUMNS}
    frame = pd.DataFrame(
        {
            "id": pd.array(columns["id"], dtype="int64"),
            "title": pd.array(columns["title"], dtype=object),
            "category": pd.array(columns["category"], dtype=object),
            "status": pd.array(columns["status"], dtype=object),
            "kind": pd.array(columns["kind"], dtype=object),
            "cost_krw": pd.array(columns["cost_krw"], dtype="Int64"),
            "is_demo": pd.array(columns["is_demo"], dtype=bool),
            "district_code": pd.array(columns["district_code"], dtype=object),
            "hub_code": pd.array(columns["hub_code"], dtype=object),
            "supports": pd.array(columns["supports"], dtype="int64"),
            "comments": pd.array(columns["comments"], dtype="int64"),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(columns["geometry"], crs=STORAGE_CRS), crs=STORAGE_CRS)


@dataclass(frozen=True)
class MapView:
    """What the residents' map shows of a viewport.

    Attributes
    ----------
    count : int
        Public proposals in the viewport.
    frame : GeoDataFrame
        Every one of them (:func:`map_frame`) when there are at most
        ``max_features``; otherwise only the selected proposal (if any).
    clusters : list or None
        When there are more: ``[lat, lon, count, radius_px, label]`` per grid
        cell (:func:`layers.proposals.clusters_from_cells`), counted by the
        database on PostGIS; None in the features form.
    """

    count: int
    frame: gpd.GeoDataFrame
    clusters: list[list[Any]] | None


def map_view(
    store: Store,
    bbox: BBox | None,
    zoom: float,
    *,
    max_features: int = 500,
    selected_id: int | None = None,
    cluster_px: float = 40.0,
    max_clusters: int = 2000,
) -> MapView:
    """The residents' map of a viewport: proposals one by one, or grid clusters counted without fetching them.

    A ``count(*)`` decides. Up to ``max_features`` proposals come as
    :func:`map_frame` rows; above that only their representative points are
    counted per grid cell of ``cluster_px`` screen pixels at ``zoom``
    (``tx.proposals.grid_cells``: on PostGIS the database projects and
    groups, so 100,000 proposals cost one aggregate query, not 100,000 rows),
    and the selected proposal, if any, is fetched alone to be drawn on top.
    """
    from layers.proposals import GOYANG_LAT, cluster_cell_m, clusters_from_cells

    with store.transaction() as tx:
        count = tx.proposals.count_in(bbox=bbox, exclude_statuses=OFF_PUBLIC_MAP)
        if count <= max_features:
            cells = None
        else:
            lat = (bbox[1] + bbox[3]) / 2 if bbox is not None else GOYANG_LAT
            cells = tx.proposals.grid_cells(cluster_cell_m(zoom, lat, cluster_px), bbox=bbox, exclude_statuses=OFF_PUBLIC_MAP)
    if cells is None:
        return MapView(count=count, frame=map_frame(store, bbox=bbox), clusters=None)
    selected = map_frame(store, ids=[selected_id]) if selected_id is not None else map_frame(store, ids=[])
    return MapView(count=count, frame=selected, clusters=clusters_from_cells(cells, max_clusters=max_clusters))
