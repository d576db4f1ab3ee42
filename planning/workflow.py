"""The one state machine of proposal statuses: who may move a proposal where, and why.

Every status change of a proposal goes through here: planners' review moves,
centre staff's meeting decisions, an author's withdrawal, the budget review
(:func:`planning.budget.review_proposal`), merges. Each change is written to
the proposal's status history (``tx.proposals.set_status``: who, when, why),
the proposal's row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL),
and the author is notified when someone else changed it
(:mod:`planning.moderation` keeps the notifications).

The table (:data:`TRANSITIONS`), from each status to the statuses it may go
to and who may make that move:

==============  ==================================================================
from            to (who)
==============  ==================================================================
submitted       under_review (R), rejected (R, reason), merged (R), withdrawn (author)
under_review    field_verified (R), shortlisted (R), rejected (R, reason), merged (R)
field_verified  shortlisted (R), rejected (R, reason), merged (R), under_review (R)
shortlisted     adopted (R, H), rejected (R, H, reason), merged (R, H), under_review (R)
rejected        under_review (R, reason: reopening)
adopted         — (final)
merged          — (final)
withdrawn       — (final)
==============  ==================================================================

R: planners and admins; H: centre staff of the proposal's hub (meeting
decisions on a shortlisted proposal); author: the resident who submitted it.

Refusals are bilingual (:class:`planning.errors.NotAllowed` /
:class:`planning.errors.InvalidInput`) and say what is wrong and what can be
done instead (the statuses that may follow, who may make the move).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from geo.errors import Refusal
from planning.auth import Actor, actor_in, require_signed_in
from planning.errors import InvalidInput, NotAllowed
from planning.i18n import t

if TYPE_CHECKING:
    from store import StatusChange, Store

SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
FIELD_VERIFIED = "field_verified"
SHORTLISTED = "shortlisted"
ADOPTED = "adopted"
REJECTED = "rejected"
MERGED = "merged"
WITHDRAWN = "withdrawn"
#: Every status, in the order of the workflow (labels: ``status.<status>`` in :mod:`planning.i18n`).
STATUSES: tuple[str, ...] = (SUBMITTED, UNDER_REVIEW, FIELD_VERIFIED, SHORTLISTED, ADOPTED, REJECTED, MERGED, WITHDRAWN)
#: Statuses nothing follows.
FINAL_STATUSES: frozenset[str] = frozenset({ADOPTED, MERGED, WITHDRAWN})
#: Closed proposals: no new supports or comments, never in a budget (their page stays readable).
CLOSED_STATUSES: frozenset[str] = frozenset({WITHDRAWN, MERGED})
#: Statuses a budget cycle leaves out (not eligible, not on a ballot, not allocated).
NOT_FUNDABLE: frozenset[str] = frozenset({REJECTED, WITHDRAWN, MERGED})

#: Who may make a move: planners and admins ...
REVIEWERS = "reviewers"
#: ... centre staff of the proposal's hub ...
HUB_STAFF = "hub_staff"
#: ... the proposal's author.
AUTHOR = "author"
_REVIEWER_ROLES = ("planner", "admin")
_WHO_LABELS: dict[str, tuple[str, str]] = {
    REVIEWERS: ("도시계획가와 관리자", "planners and admins"),
    HUB_STAFF: ("제안이 속한 거점 센터의 직원", "staff of the proposal's hub centre"),
    AUTHOR: ("제안한 주민 본인", "the proposal's author"),
}
REASON_MAX = 1000


@dataclass(frozen=True)
class Move:
    """One allowed transition: who may make it, and whether it needs a reason."""

    who: frozenset[str]
    reason_required: bool = False


_R = frozenset({REVIEWERS})
_MEETING = frozenset({REVIEWERS, HUB_STAFF})
_AUTHOR = frozenset({AUTHOR})

#: The transition table: status -> {next status: :class:`Move`}. Final statuses map to ``{}``.
TRANSITIONS: dict[str, dict[str, Move]] = {
    SUBMITTED: {UNDER_REVIEW: Move(_R), REJECTED: Move(_R, True), MERGED: Move(_R), WITHDRAWN: Move(_AUTHOR)},
    UNDER_REVIEW: {FIELD_VERIFIED: Move(_R), SHORTLISTED: Move(_R), REJECTED: Move(_R, True), MERGED: Move(_R)},
    FIELD_VERIFIED: {SHORTLISTED: Move(_R), REJECTED: Move(_R, True), MERGED: Move(_R), UNDER_REVIEW: Move(_R)},
    SHORTLISTED: {ADOPTED: Move(_MEETING), REJECTED: Move(_MEETING, True), MERGED: Move(_MEETING), UNDER_REVIEW: Move(_R)},
    REJECTED: {UNDER_REVIEW: Move(_R, True)},
    ADOPTED: {},
    MERGED: {},
    WITHDRAWN: {},
}


# ---------------------------------------------------------------- the table, asked


def _label(status: str, lang: str) -> str:
    try:
        return t(f"status.{status}", lang)
    except KeyError:
        return status


def _labels(statuses: Iterable[str], lang: str) -> str:
    return ", ".join(f"'{_label(s, lang)}'" for s in statuses)


def _ordered(statuses: Iterable[str]) -> tuple[str, ...]:
    wanted = set(statuses)
    return tuple(s for s in STATUSES if s in wanted)


def may_make(move: Move, actor: Actor, proposal: Any = None) -> bool:
    """True when ``actor`` may make ``move`` on ``proposal`` (author and hub rules need the proposal)."""
    if not actor.signed_in:
        return False
    if REVIEWERS in move.who and actor.role in _REVIEWER_ROLES:
        return True
    if proposal is None:
        return False
    if HUB_STAFF in move.who and actor.role == "centre_staff" and actor.hub_code is not None and actor.hub_code == proposal.hub_code:
        return True
    # A hidden proposal is frozen for its author (moderators may still move it).
    return AUTHOR in move.who and actor.id == proposal.author_id and not getattr(proposal, "hidden", False)


def allowed_targets(status: str, actor: Actor | None = None, proposal: Any = None) -> tuple[str, ...]:
    """The statuses a proposal in ``status`` may move to, in workflow order.

    Parameters
    ----------
    status : str
        The current status.
    actor : Actor, optional
        Only the moves this person may make. Without ``proposal`` the author
        and hub-staff rules cannot be decided, so only role rules count.
    proposal : optional
        The proposal (anything with ``author_id``, ``hub_code``, ``hidden``).

    Notes
    -----
    The budget phase is not looked at here (a withdrawal also needs a phase
    that allows it); :func:`transition` checks it.
    """
    moves = TRANSITIONS.get(status, {})
    if actor is None:
        return _ordered(moves)
    return _ordered(s for s, move in moves.items() if may_make(move, actor, proposal))


def needs_reason(from_status: str, to_status: str) -> bool:
    """True when the move needs a reason (a rejection, or reopening a rejected proposal)."""
    move = TRANSITIONS.get(from_status, {}).get(to_status)
    return bool(move and move.reason_required)


# ---------------------------------------------------------------- refusals


def no_such_proposal(proposal_id: int) -> InvalidInput:
    """The refusal for a proposal that does not exist for this viewer (missing, or hidden from them)."""
    return InvalidInput(
        "no_such_proposal",
        f"제안 {proposal_id}번을 찾을 수 없습니다. 목록을 새로 고쳐 주세요.",
        f"Proposal {proposal_id} was not found. Please refresh the list.",
    )


def _unknown_status(status: str) -> InvalidInput:
    return InvalidInput(
        "unknown_status",
        f"알 수 없는 상태입니다: '{status}'. 가능한 상태: {_labels(STATUSES, 'ko')}.",
        f"Unknown status '{status}'. The statuses are: {_labels(STATUSES, 'en')}.",
    )


def _mine_sentence(actor: Actor, proposal: Any) -> tuple[str, str]:
    mine = allowed_targets(proposal.status, actor, proposal)
    if mine:
        return f" 이 계정으로 바꿀 수 있는 상태: {_labels(mine, 'ko')}.", f" You can move it to: {_labels(mine, 'en')}."
    return " 이 계정으로는 이 제안의 상태를 바꿀 수 없습니다.", " You cannot change this proposal's status."


def _refuse_move(actor: Actor, proposal: Any, to_status: str) -> Refusal:
    """Why ``actor`` may not move ``proposal`` to ``to_status``, with what can be done instead."""
    here = proposal.status
    if to_status == here:
        return InvalidInput(
            "already_in_status",
            f"제안 {proposal.id}번은 이미 '{_label(here, 'ko')}' 상태입니다.",
            f"Proposal {proposal.id} is already '{_label(here, 'en')}'.",
        )
    if here in FINAL_STATUSES or not TRANSITIONS.get(here):
        return NotAllowed(
            "status_final",
            f"제안 {proposal.id}번은 '{_label(here, 'ko')}' 상태라서 더 이상 상태를 바꿀 수 없습니다 (마지막 단계).",
            f"Proposal {proposal.id} is '{_label(here, 'en')}', a final status: its status cannot change any more.",
        )
    move = TRANSITIONS[here].get(to_status)
    mine_ko, mine_en = _mine_sentence(actor, proposal)
    if move is None:
        nexts = allowed_targets(here)
        return NotAllowed(
            "transition_not_allowed",
            f"'{_label(here, 'ko')}' 상태의 제안은 '{_label(to_status, 'ko')}'(으)로 바꿀 수 없습니다. "
            f"다음 상태로 가능한 것: {_labels(nexts, 'ko')}.{mine_ko}",
            f"A proposal that is '{_label(here, 'en')}' cannot become '{_label(to_status, 'en')}'. "
            f"It can go on to: {_labels(nexts, 'en')}.{mine_en}",
        )
    if AUTHOR in move.who and actor.id == proposal.author_id and getattr(proposal, "hidden", False):
        return NotAllowed(
            "proposal_hidden",
            f"제안 {proposal.id}번은 운영자가 숨긴 제안이라 바꿀 수 없습니다. 궁금한 점은 운영자에게 문의해 주세요.",
            f"Proposal {proposal.id} was hidden by a moderator, so it cannot be changed. Please ask the moderators about it.",
        )
    who = [w for w in (REVIEWERS, HUB_STAFF, AUTHOR) if w in move.who]
    who_ko = ", ".join(_WHO_LABELS[w][0] for w in who)
    who_en = ", ".join(_WHO_LABELS[w][1] for w in who)
    return NotAllowed(
        "transition_not_permitted",
        f"'{_label(here, 'ko')}'에서 '{_label(to_status, 'ko')}'(으)로 바꾸는 일은 {who_ko}만 할 수 있습니다.{mine_ko}",
        f"Only {who_en} may move a proposal from '{_label(here, 'en')}' to '{_label(to_status, 'en')}'.{mine_en}",
    )


def _reason_required(to_status: str) -> InvalidInput:
    return InvalidInput(
        "reason_required",
        f"'{_label(to_status, 'ko')}'(으)로 바꾸려면 사유를 적어 주세요. 사유는 제안한 주민에게 그대로 전해집니다.",
        f"Please give a reason for moving the proposal to '{_label(to_status, 'en')}': its author will read it.",
    )


def _clean_reason(reason: str | None) -> str:
    from planning.proposals import clean_text  # proposals imports this module

    return clean_text(reason, field_ko="사유", field_en="reason", max_len=REASON_MAX, required=False)


def _require_phase_for(tx: Any, to_status: str) -> None:
    """A withdrawal needs a budget phase that allows it (as the author's withdraw button always did)."""
    if to_status != WITHDRAWN:
        return
    from planning.budget import current_cycle_in, phase_allows, phase_refusal  # budget imports this module

    cycle = current_cycle_in(tx)
    if cycle is not None and not phase_allows(cycle, "withdraw_proposal"):
        raise phase_refusal(cycle, "withdraw_proposal")


def check_move(tx: Any, actor: Actor, proposal: Any, to_status: str, reason: str | None = "") -> str:
    """Check that ``actor`` may move ``proposal`` to ``to_status`` now; returns the cleaned reason.

    Raises the refusal :func:`transition` would raise, and writes nothing.
    """
    if to_status not in STATUSES:
        raise _unknown_status(to_status)
    require_signed_in(actor)
    move = TRANSITIONS.get(proposal.status, {}).get(to_status)
    if move is None or not may_make(move, actor, proposal):
        raise _refuse_move(actor, proposal, to_status)
    _require_phase_for(tx, to_status)
    why = _clean_reason(reason)
    if move.reason_required and not why:
        raise _reason_required(to_status)
    return why


# ---------------------------------------------------------------- making the move


def _notify_author(tx: Any, actor: Actor, proposal: Any, kind: str, **params: Any) -> None:
    if proposal.author_id == actor.id:
        return
    from planning.moderation import notify_in  # moderation imports proposals, which imports this module

    notify_in(tx, proposal.author_id, kind, proposal_id=proposal.id, id=proposal.id, title=proposal.title, **params)


def transition_in(
    tx: Any,
    actor: Actor | int | None,
    proposal: Any,
    to_status: str,
    reason: str | None = "",
    merge_into: int | None = None,
    *,
    notify: bool = True,
) -> StatusChange:
    """Move ``proposal`` to ``to_status`` inside the caller's transaction ``tx``; returns the history entry.

    For services that change a status as part of their own work (the budget
    review). ``proposal`` should be locked by the caller
    (``tx.proposals.get(id, for_update=True)``); ``actor`` is re-read in
    ``tx``. ``merge_into`` is the surviving proposal's id, needed for (and
    only for) ``merged`` (see :func:`merge`). With ``notify`` False the author
    is not told (a service that makes several steps tells them once).
    """
    me = actor_in(tx, actor)
    if to_status == MERGED:
        if merge_into is None:
            raise InvalidInput(
                "merge_target_required",
                "병합하려면 합칠 대상 제안의 번호를 골라 주세요.",
                "To merge a proposal, choose the proposal it is merged into.",
            )
        return _merge_in(tx, me, proposal, int(merge_into), reason, notify=notify).change
    if merge_into is not None:
        raise InvalidInput(
            "merge_target_unexpected",
            "합칠 대상 제안은 '병합'으로 바꿀 때만 고를 수 있습니다.",
            "A proposal to merge into can only be given when merging.",
        )
    why = check_move(tx, me, proposal, to_status, reason)
    change = tx.proposals.set_status(proposal.id, to_status, me.id, why)
    if notify:
        if to_status == REJECTED:
            _notify_author(tx, me, proposal, "rejected", reason=why)
        else:
            _notify_author(tx, me, proposal, "status_changed", status=to_status, reason=why)
    return change


def _locked(tx: Any, me: Actor, proposal_id: int) -> Any:
    """The proposal, row locked, if ``me`` may see it (hidden ones: moderators and the author only)."""
    p = tx.proposals.get(int(proposal_id), for_update=True)
    if p is None or (p.hidden and not (me.is_moderator or (me.signed_in and me.id == p.author_id))):
        raise no_such_proposal(proposal_id)
    return p


def _lock_in_order(tx: Any, *proposal_ids: int) -> None:
    """Lock several proposal rows in id order, so two merges cannot deadlock."""
    for pid in sorted({int(p) for p in proposal_ids}):
        tx.proposals.get(pid, for_update=True)


def transition(
    store: Store,
    actor: Actor | int | None,
    proposal_id: int,
    to_status: str,
    reason: str | None = "",
    *,
    merge_into: int | None = None,
) -> StatusChange:
    """Move a proposal to ``to_status`` in its own transaction; returns the status-history entry.

    Parameters
    ----------
    actor : Actor
        Who acts; re-read from the store. See :data:`TRANSITIONS` for who may
        make which move.
    proposal_id : int
        The proposal; its row is locked while the move is checked and made.
    to_status : str
        One of :data:`STATUSES`.
    reason : str
        Why; required for ``rejected`` and for reopening a rejected proposal.
        The author reads it (status history and notification).
    merge_into : int, optional
        For ``merged``: the surviving proposal (see :func:`merge`).

    Raises
    ------
    NotAllowed
        ``sign_in_required``; ``status_final``; ``transition_not_allowed``
        (naming the statuses that may follow); ``transition_not_permitted``
        (naming who may); ``proposal_hidden``; ``phase_closed``; and the
        refusals of :func:`merge`.
    InvalidInput
        ``no_such_proposal``; ``unknown_status``; ``already_in_status``;
        ``reason_required``; ``merge_target_required``.
    """
    with store.transaction() as tx:
        me = require_signed_in(actor_in(tx, actor))
        if to_status == MERGED and merge_into is not None:
            _lock_in_order(tx, proposal_id, merge_into)
        p = _locked(tx, me, proposal_id)
        return transition_in(tx, me, p, to_status, reason, merge_into)


@dataclass(frozen=True)
class BulkResult:
    """What :func:`bulk_transition` did: the ids changed, and why each other id was refused."""

    changed: tuple[int, ...]
    refused: dict[int, Refusal] = field(default_factory=dict)


def bulk_transition(
    store: Store, actor: Actor | int | None, proposal_ids: Iterable[int], to_status: str, reason: str | None = ""
) -> BulkResult:
    """Move several proposals to ``to_status``, each on its own (one transaction per proposal).

    A refused proposal changes nothing and does not stop the others; its
    refusal is in :attr:`BulkResult.refused`. Ids are taken once each, in the
    order given. Merges need :func:`merge` (one target each).
    """
    changed: list[int] = []
    refused: dict[int, Refusal] = {}
    for pid in dict.fromkeys(int(p) for p in proposal_ids):
        try:
            transition(store, actor, pid, to_status, reason)
        except Refusal as err:
            refused[pid] = err
        else:
            changed.append(pid)
    return BulkResult(tuple(changed), refused)


# ---------------------------------------------------------------- merging


@dataclass(frozen=True)
class MergeResult:
    """A merge: the loser's history entry, and what moved to the survivor."""

    change: Any  # store.StatusChange of the loser
    loser_id: int
    survivor_id: int
    supports_moved: int
    supports_dropped: int  # residents who supported both keep one support
    comments_moved: int


def _merge_refusals(tx: Any, loser: Any, survivor: Any) -> None:
    lid = loser.id
    if survivor is None:
        raise InvalidInput(
            "merge_target_missing",
            "합칠 대상 제안을 찾을 수 없습니다. 번호를 확인해 주세요.",
            "The proposal to merge into was not found. Please check its number.",
        )
    sid = survivor.id
    if sid == lid:
        raise InvalidInput(
            "merge_into_itself",
            f"제안 {lid}번을 자기 자신에 병합할 수 없습니다. 다른 제안을 골라 주세요.",
            f"Proposal {lid} cannot be merged into itself. Please choose another proposal.",
        )
    if survivor.status == MERGED:
        target = f"{survivor.merged_into_id}" if survivor.merged_into_id is not None else "?"
        raise NotAllowed(
            "merge_chain",
            f"제안 {sid}번은 이미 {target}번에 병합되었습니다. 병합이 이어지지 않도록 {target}번에 직접 병합해 주세요.",
            f"Proposal {sid} was itself merged into #{target}. Merges do not chain: merge into #{target} directly.",
        )
    if survivor.status in (WITHDRAWN, REJECTED):
        raise NotAllowed(
            "merge_target_closed",
            f"제안 {sid}번은 '{_label(survivor.status, 'ko')}' 상태라 다른 제안을 합칠 수 없습니다. 진행 중인 제안을 골라 주세요.",
            f"Proposal {sid} is '{_label(survivor.status, 'en')}', so nothing can be merged into it. Please choose an open proposal.",
        )
    if survivor.hidden:
        raise NotAllowed(
            "merge_target_hidden",
            f"제안 {sid}번은 숨겨진 제안이라 주민이 볼 수 없으므로 다른 제안을 합칠 수 없습니다.",
            f"Proposal {sid} is hidden from residents, so nothing can be merged into it.",
        )
    merged_here = tx.proposals.merged_into(lid)
    if merged_here:
        ids = ", ".join(f"#{i}" for i in merged_here)
        raise NotAllowed(
            "merge_chain",
            f"제안 {ids}이(가) 이미 {lid}번에 병합되어 있어 {lid}번은 다른 제안에 병합할 수 없습니다 (병합은 이어지지 않습니다). "
            f"대신 {sid}번을 {lid}번에 병합해 주세요.",
            f"Proposals {ids} were merged into #{lid}, so #{lid} cannot itself be merged (merges do not chain). "
            f"Merge #{sid} into #{lid} instead.",
        )
    votes = tx.votes.count_for_proposal(lid)
    if votes:
        raise NotAllowed(
            "merge_has_votes",
            f"제안 {lid}번에는 주민참여예산 투표 {votes:,}표가 있습니다. 병합하면 주민의 표가 옮겨지거나 사라지므로 병합할 수 없습니다. "
            "투표 결과가 나온 뒤 결정하거나, 사유를 적어 미채택으로 처리해 주세요.",
            f"Proposal {lid} has {votes:,} participatory-budget votes. Merging would move or drop residents' votes, so it "
            "cannot be merged. Decide once the vote is over, or reject it with a reason.",
        )


def _merge_in(tx: Any, me: Actor, loser: Any, survivor_id: int, reason: str | None, *, notify: bool = True) -> MergeResult:
    why = check_move(tx, me, loser, MERGED, reason)
    survivor = tx.proposals.get(survivor_id, for_update=True)
    _merge_refusals(tx, loser, survivor)
    moved, dropped = tx.supports.move(loser.id, survivor.id)
    comments = tx.comments.move(loser.id, survivor.id)
    tx.proposals.set_merged_into(loser.id, survivor.id)
    suffix = f": {why}" if why else ""
    change = tx.proposals.set_status(loser.id, MERGED, me.id, f"merged into #{survivor.id}{suffix}")
    tx.proposals.set_status(survivor.id, survivor.status, me.id, f"#{loser.id} merged into this proposal{suffix}")
    tx.audit.record(
        me.id,
        "proposal.merge",
        f"proposal:{loser.id}",
        {
            "into": survivor.id,
            "reason": why,
            "supports_moved": moved,
            "supports_dropped": dropped,
            "comments_moved": comments,
        },
    )
    if notify:
        _notify_author(tx, me, loser, "merged", survivor=survivor.id, survivor_title=survivor.title, reason=why)
        _notify_author(tx, me, survivor, "merged_in", loser=loser.id, loser_title=loser.title, reason=why)
    return MergeResult(change, int(loser.id), int(survivor.id), moved, dropped, comments)


def merge(store: Store, actor: Actor | int | None, loser_id: int, survivor_id: int, reason: str | None = "") -> MergeResult:
    """Merge proposal ``loser_id`` into ``survivor_id``: the loser becomes ``merged``; its supports and comments move.

    The loser keeps its page (status ``merged``, ``merged_into_id`` pointing
    at the survivor); its supports move to the survivor (a resident who
    supported both keeps one support), its comments and replies too. Both
    histories record the merge with who and why; the audit log records what
    moved; both authors are notified (unless they made the merge).

    Who may: as for any move to ``merged`` (:data:`TRANSITIONS`). Both rows
    are locked, in id order.

    Raises
    ------
    InvalidInput
        ``merge_into_itself``, ``merge_target_missing``, ``no_such_proposal``,
        and the refusals of :func:`transition`.
    NotAllowed
        ``merge_chain`` (the survivor is itself merged, or other proposals
        were merged into the loser), ``merge_target_closed`` (a withdrawn or
        rejected survivor), ``merge_target_hidden``, ``merge_has_votes`` (the
        loser has budget votes), and the refusals of :func:`transition`.
    """
    with store.transaction() as tx:
        me = require_signed_in(actor_in(tx, actor))
        _lock_in_order(tx, loser_id, survivor_id)
        loser = _locked(tx, me, loser_id)
        return _merge_in(tx, me, loser, int(survivor_id), reason)


def status_history(store: Store, viewer: Actor | int | None, proposal_id: int) -> list[Any]:
    """A proposal's status history, oldest first, for anyone who may see the proposal.

    Hidden proposals: only moderators and the author (``no_such_proposal`` otherwise).
    """
    with store.transaction() as tx:
        me = actor_in(tx, viewer)
        p = tx.proposals.get(int(proposal_id))
        if p is None or (p.hidden and not (me.is_moderator or (me.signed_in and me.id == p.author_id))):
            raise no_such_proposal(proposal_id)
        return tx.history.list_for(p.id)
