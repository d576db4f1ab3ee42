"""The participatory-budget cycle: phases, quotas, review, assemblies, voting, allocation.

One service function per user action, as in :mod:`planning.proposals`: each
re-reads the actor in its own transaction (:func:`planning.auth.actor_in`),
checks the role and the cycle's phase, validates, writes in that one
transaction and records an :mod:`audit_log <store.models.AuditEntry>` row (who,
what, when). Ballots are the exception to the audit log: votes are secret, so
only their time is stored (``votes.cast_at``), not who changed what.

Phases, in order (:data:`PHASES`): ``proposals_open`` → ``review`` →
``assemblies`` → ``voting`` → ``allocation`` → ``results``; a cycle without
voting (``has_voting=False``) skips ``voting`` and ranks by supports instead.
What each phase allows is :func:`phase_allows`.

Money is never over-committed. Every write that commits money in a district
(:func:`approve_proposal`, :func:`run_allocation`) or changes a quota
(:func:`override_quota`, :func:`set_quotas_by_rule`) first locks the
district's ``quotas`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
serialises writers), then reads what is committed and writes, in one
transaction. Locks are taken in district-code order, after the cycle row when
that is locked too, so two services cannot deadlock.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.crs import to_metric
from geo.errors import Refusal
from planning.allocation import AllocationDecision, AllocationProposal, AllocationRules, allocate
from planning.auth import Actor, actor_in, require_role, require_signed_in
from planning.errors import InvalidInput, NotAllowed
from planning.proposals import clean_photo_url
from planning.workflow import (
    ADOPTED,
    CLOSED_STATUSES,
    FIELD_VERIFIED,
    NOT_FUNDABLE,
    REJECTED,
    SHORTLISTED,
    SUBMITTED,
    UNDER_REVIEW,
    transition_in,
)

if TYPE_CHECKING:
    from store import AllocationResult, BudgetCycle, Review, Store

#: Phases of a cycle, in order (the same as :data:`store.BUDGET_PHASES`).
PHASES: tuple[str, ...] = ("proposals_open", "review", "assemblies", "voting", "allocation", "results")
#: Names of the phases: (Korean, English).
PHASE_LABELS: dict[str, tuple[str, str]] = {
    "proposals_open": ("제안 접수", "proposals open"),
    "review": ("검토", "review"),
    "assemblies": ("주민총회", "residents' assemblies"),
    "voting": ("주민 투표", "voting"),
    "allocation": ("예산 배정", "allocation"),
    "results": ("결과 발표", "results"),
}
_BEFORE_VOTING = frozenset({"proposals_open", "review", "assemblies"})
#: The phases in which each action is allowed (see :func:`phase_allows`).
PHASE_ACTIONS: dict[str, frozenset[str]] = {
    "submit_proposal": frozenset({"proposals_open"}),
    "edit_proposal": frozenset({"proposals_open"}),
    "withdraw_proposal": _BEFORE_VOTING,
    "support": _BEFORE_VOTING,
    "comment": frozenset(PHASES),
    "review": frozenset({"review"}),
    "record_assembly": frozenset({"assemblies"}),
    "vote": frozenset({"voting"}),
    # Not during voting: a resident's ballot is checked against the quota
    # shown when it was cast. In allocation a change must be published again.
    "set_quotas": _BEFORE_VOTING | {"allocation"},
    "publish_quotas": _BEFORE_VOTING | {"allocation"},
    "run_allocation": frozenset({"allocation"}),
    "approve": frozenset({"allocation"}),
}
BASIS_POINTS = 10_000
#: Default attendance for an assembly to endorse: 100 basis points = 1 % of the district's voters.
DEFAULT_ENDORSEMENT_THRESHOLD_BP = 100
#: Result code of an admin's approval outside an allocation run.
APPROVED = "approved"
#: Proposal status after a passed / failed review (history is recorded).
PASSED_STATUS = SHORTLISTED
FAILED_STATUS = REJECTED
#: The reason a failed budget review gives the author (status history, notification).
FAILED_REASON = "budget review: not feasible"


class QuotaExceeded(Refusal):
    """Money asked for does not fit what is left of a district's quota."""


class QuotaStatus(NamedTuple):
    """A district's quota in a cycle: ``(quota_krw, committed_krw, left_krw)``.

    ``committed_krw`` is the official cost of the district's *selected*
    proposals (stored allocation results, including approvals). Before the
    allocation nothing is selected, so during voting ``left_krw`` equals the
    quota: that is the budget a resident's ballot (and the drawing panel's
    "left" figure) is measured against; see :func:`ballot_status` for what is
    left of one resident's ballot.
    """

    quota_krw: int
    committed_krw: int
    left_krw: int


# ---------------------------------------------------------------- small helpers


def phase_allows(cycle: Any, action: str) -> bool:
    """True when ``action`` is allowed in the cycle's current phase.

    Parameters
    ----------
    cycle : BudgetCycle or None
        Anything with ``phase`` and ``has_voting``; None (no cycle running)
        allows everything except ``vote``, ``review``, ``record_assembly``,
        ``run_allocation`` and ``approve``.
    action : str
        A key of :data:`PHASE_ACTIONS`: ``submit_proposal``, ``edit_proposal``,
        ``withdraw_proposal``, ``support``, ``comment``, ``review``,
        ``record_assembly``, ``vote``, ``set_quotas``, ``publish_quotas``,
        ``run_allocation``, ``approve``.

    Notes
    -----
    :mod:`planning.proposals` should call this (with the current cycle) at the
    top of ``submit_proposal``, ``edit_proposal`` and ``withdraw_proposal``,
    ``support_proposal`` / ``withdraw_support`` (``support``) and
    ``add_comment``, refusing with :func:`phase_refusal`. In a cycle without
    voting, supports stay open through ``assemblies`` and are the ranking
    signal of :func:`run_allocation`.
    """
    if action not in PHASE_ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {sorted(PHASE_ACTIONS)}")
    if cycle is None:
        return action not in {"vote", "review", "record_assembly", "run_allocation", "approve"}
    return cycle.phase in PHASE_ACTIONS[action]


def phase_refusal(cycle: Any, action: str) -> NotAllowed:
    """The refusal for ``action`` outside its phases, naming the current phase and the allowed ones."""
    ko_now, en_now = PHASE_LABELS.get(cycle.phase, (cycle.phase, cycle.phase))
    allowed = [p for p in PHASES if p in PHASE_ACTIONS[action]]
    ko_ok = ", ".join(PHASE_LABELS[p][0] for p in allowed)
    en_ok = ", ".join(PHASE_LABELS[p][1] for p in allowed)
    return NotAllowed(
        "phase_closed",
        f"지금은 {cycle.fiscal_year}년 주민참여예산의 '{ko_now}' 단계라서 이 일을 할 수 없습니다 (가능한 단계: {ko_ok}).",
        f"The {cycle.fiscal_year} participatory budget is in its '{en_now}' phase, so this cannot be done now "
        f"(possible in: {en_ok}).",
    )


def current_cycle_in(tx: Any, for_share: bool = False) -> BudgetCycle | None:
    """The current budget cycle (largest fiscal year) inside an open transaction, or None.

    ``for_share``: hold a shared lock on it until the transaction ends, so a
    phase change cannot slip in between the phase check and the write.
    """
    cycles = tx.cycles.list()
    if not cycles:
        return None
    return tx.cycles.get(cycles[0].id, for_share=True) if for_share else cycles[0]


def current_cycle(store: Store) -> BudgetCycle | None:
    """The current budget cycle (largest fiscal year), or None when no cycle was ever created."""
    with store.transaction() as tx:
        return current_cycle_in(tx)


def _require_phase(cycle: Any, action: str) -> None:
    if not phase_allows(cycle, action):
        raise phase_refusal(cycle, action)


def _won(amount: int) -> str:
    return f"{amount:,}원"


def _krw(amount: int) -> str:
    return f"KRW {amount:,}"


def _money(value: Any, what_ko: str, what_en: str) -> int:
    """A non-negative whole amount of won."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | Fraction) or value < 0 or int(value) != value:
        raise InvalidInput(
            "bad_amount",
            f"{what_ko}은(는) 0 이상의 원 단위 정수여야 합니다 (받은 값: {value!r}).",
            f"The {what_en} must be a whole number of won, 0 or more (got {value!r}).",
        )
    return int(value)


def _fraction(value: Any, what_ko: str, what_en: str) -> Fraction:
    """A share from 0 to 1 as an exact fraction (a float is read as the decimal it prints as)."""
    bad = InvalidInput(
        "bad_share",
        f"{what_ko}은(는) 0에서 1 사이의 수여야 합니다 (예: 0.4). 받은 값: {value!r}",
        f"The {what_en} must be a number from 0 to 1 (e.g. 0.4), got {value!r}.",
    )
    if isinstance(value, bool) or value is None:
        raise bad
    try:
        share = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    except (ValueError, TypeError, ZeroDivisionError):
        raise bad from None
    if not 0 <= share <= 1:
        raise bad
    return share


def _to_bp(share: Fraction, what_ko: str, what_en: str) -> int:
    bp = share * BASIS_POINTS
    if bp.denominator != 1:
        raise InvalidInput(
            "share_too_fine",
            f"{what_ko}은(는) 0.01% 단위까지만 정할 수 있습니다 (받은 값: {float(share):.6g}).",
            f"The {what_en} can be set to 0.01 % at the finest (got {float(share):.6g}).",
        )
    return int(bp)


def _rules_json(rules: AllocationRules | Mapping[str, Any] | None) -> str:
    checked = rules if isinstance(rules, AllocationRules) else AllocationRules.from_mapping(rules)
    doc: dict[str, Any] = {"endorsed_first": checked.endorsed_first}
    if checked.construction_share is not None:
        doc["construction_share"] = str(checked.construction_share)
    if checked.pools is not None:
        doc["pools"] = {k: str(v) for k, v in checked.pools.items()}
    return json.dumps(doc, sort_keys=True)


def cycle_rules(cycle: Any) -> AllocationRules:
    """The cycle's :class:`AllocationRules` (stored as JSON text with exact fractions)."""
    return AllocationRules.from_mapping(json.loads(cycle.rules_json or "{}"))


def _cycle(tx: Any, cycle_id: int, for_update: bool = False, for_share: bool = False) -> BudgetCycle:
    cycle = tx.cycles.get(cycle_id, for_update=for_update, for_share=for_share)
    if cycle is None:
        raise InvalidInput(
            "no_such_cycle",
            f"주민참여예산 회차를 찾을 수 없습니다: {cycle_id}. 목록을 새로 고쳐 주세요.",
            f"No participatory-budget cycle {cycle_id} was found. Please refresh the list.",
        )
    return cycle


def _proposal(tx: Any, proposal_id: int, for_update: bool = False) -> Any:
    p = tx.proposals.get(proposal_id, for_update=for_update)
    if p is None or p.status in CLOSED_STATUSES or p.hidden:
        raise InvalidInput(
            "no_such_proposal",
            f"제안을 찾을 수 없거나 철회 또는 병합되었습니다: {proposal_id}.",
            f"Proposal {proposal_id} was not found, or has been withdrawn or merged.",
        )
    return p


def _fundable(p: Any) -> bool:
    """A stored proposal the budget may count: shown, and not rejected, withdrawn or merged."""
    return p is not None and not p.hidden and p.status not in NOT_FUNDABLE


def _cost_of(review: Review | None, proposal: Any) -> int:
    """The cost the budget counts: the official estimate, else the resident's, else 0."""
    if review is not None and review.official_cost_krw is not None:
        return int(review.official_cost_krw)
    return int(proposal.cost_krw or 0)


# ---------------------------------------------------------------- cycle and phases


def create_cycle(
    store: Store,
    actor: Actor | int | None,
    fiscal_year: int,
    *,
    has_voting: bool = True,
    rules: AllocationRules | Mapping[str, Any] | None = None,
    endorsement_threshold: Any = Fraction(DEFAULT_ENDORSEMENT_THRESHOLD_BP, BASIS_POINTS),
) -> int:
    """Open a new cycle for ``fiscal_year`` in phase ``proposals_open`` (admins only); returns its id.

    ``endorsement_threshold`` is the share (0 to 1, default 0.01 = 1 %) of a
    district's voters an assembly's attendance must reach to endorse.
    """
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) or not 2000 <= fiscal_year <= 2100:
        raise InvalidInput(
            "bad_fiscal_year",
            f"회계연도는 2000에서 2100 사이의 연도여야 합니다 (받은 값: {fiscal_year!r}).",
            f"The fiscal year must be a year from 2000 to 2100 (got {fiscal_year!r}).",
        )
    threshold_bp = _to_bp(_fraction(endorsement_threshold, "주민총회 기준", "endorsement threshold"), "주민총회 기준", "endorsement threshold")
    rules_json = _rules_json(rules)
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        if tx.cycles.by_year(fiscal_year) is not None:
            raise InvalidInput(
                "cycle_exists",
                f"{fiscal_year}년 주민참여예산 회차가 이미 있습니다.",
                f"A participatory-budget cycle for {fiscal_year} already exists.",
            )
        cycle = tx.cycles.add(
            fiscal_year,
            created_by=me.id,
            has_voting=bool(has_voting),
            rules_json=rules_json,
            endorsement_threshold_bp=threshold_bp,
            total_krw=0,
            base_per_district_krw=0,
            population_share_bp=0,
        )
        tx.audit.record(
            me.id,
            "cycle.create",
            f"cycle:{cycle.id}",
            {"fiscal_year": fiscal_year, "has_voting": bool(has_voting), "rules": json.loads(rules_json), "threshold_bp": threshold_bp},
        )
        return int(cycle.id)


def next_phase(cycle: Any) -> str | None:
    """The phase after the cycle's current one (``voting`` skipped without voting), or None after ``results``."""
    later = PHASES[PHASES.index(cycle.phase) + 1 :]
    for phase in later:
        if phase == "voting" and not cycle.has_voting:
            continue
        return phase
    return None


def advance_phase(store: Store, actor: Actor | int | None, cycle_id: int) -> str:
    """Move the cycle to its next phase (admins only); returns the new phase.

    Refused after ``results``, and into ``voting`` (or ``allocation`` without
    voting) while the quotas are not published: residents must see them first.
    """
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        cycle = _cycle(tx, cycle_id, for_update=True)
        new = next_phase(cycle)
        if new is None:
            raise NotAllowed(
                "cycle_finished",
                "결과 발표 단계가 마지막 단계입니다. 다음 해의 회차를 새로 만들어 주세요.",
                "Results is the last phase. Please create the next year's cycle.",
            )
        if new in ("voting", "allocation") and cycle.quotas_published_at is None:
            raise NotAllowed(
                "quotas_not_published",
                "지역별 한도액을 먼저 공개해야 다음 단계로 넘어갈 수 있습니다.",
                "Publish the district quotas before moving on to the next phase.",
            )
        old = cycle.phase
        tx.cycles.update(cycle_id, phase=new)
        tx.audit.record(me.id, "cycle.advance", f"cycle:{cycle_id}", {"from": old, "to": new})
        return new


# ---------------------------------------------------------------- quotas


def compute_quota_table(
    total_krw: int,
    base_per_district_krw: int,
    population_share: Any,
    voters_by_district: Mapping[str, int],
) -> dict[str, int]:
    """Each district's quota in whole won under the base-plus-population rule (pure).

    Every district gets ``base_per_district_krw``. What is left of the total
    (``total - base * districts``) is split in two: ``population_share`` of it
    (0 to 1) in proportion to the districts' voter counts, the rest in equal
    parts. Amounts are exact fractions until the end; each is then rounded
    down to the won and the won lost to rounding (fewer than the number of
    districts) go one each to the districts with the largest rounded-off
    fractions, ties to the smaller code (largest-remainder method). So the
    quotas add up to ``total_krw`` exactly and the result does not depend on
    the order of ``voters_by_district``.

    Parameters
    ----------
    total_krw, base_per_district_krw : int
        Whole won, 0 or more.
    population_share : number, Fraction, Decimal or str
        0 to 1 (``0.4`` is read exactly as 2/5).
    voters_by_district : mapping
        District code -> voter count (0 or more).

    Raises
    ------
    InvalidInput
        Negative or fractional amounts, a share outside 0..1, no districts,
        bases that add up to more than the total, or a population share
        with no voters at all.
    """
    total = _money(total_krw, "총액", "total")
    base = _money(base_per_district_krw, "지역 기본액", "base amount per district")
    share = _fraction(population_share, "인구 비례 몫", "population share")
    voters = {str(k): _money(v, f"{k} 선거인 수", f"voter count of {k}") for k, v in voters_by_district.items()}
    if not voters:
        raise InvalidInput("no_districts", "예산 구역이 없습니다.", "There are no budget districts.")
    n = len(voters)
    rest = total - base * n
    if rest < 0:
        raise InvalidInput(
            "base_exceeds_total",
            f"지역 기본액 {_won(base)} × {n}개 지역 = {_won(base * n)}이 총액 {_won(total)}보다 많습니다.",
            f"The base amount {_krw(base)} × {n} districts = {_krw(base * n)} is more than the total {_krw(total)}.",
        )
    all_voters = sum(voters.values())
    if share > 0 and all_voters == 0:
        raise InvalidInput(
            "no_voters",
            "선거인 수가 모두 0이라 인구 비례로 나눌 수 없습니다.",
            "All voter counts are 0, so nothing can be split by population.",
        )
    exact: dict[str, Fraction] = {}
    for code, v in voters.items():
        by_population = rest * share * Fraction(v, all_voters) if share > 0 else Fraction(0)
        exact[code] = base + rest * (1 - share) / n + by_population
    table = {code: int(amount) for code, amount in exact.items()}  # floor: all amounts >= 0
    short = total - sum(table.values())
    for code in sorted(exact, key=lambda c: (-(exact[c] - table[c]), c))[:short]:
        table[code] += 1
    return dict(sorted(table.items()))


def _check_not_below_committed(tx: Any, cycle_id: int, district_code: str, amount: int) -> None:
    committed = tx.results.committed(cycle_id, district_code)
    if amount < committed:
        raise QuotaExceeded(
            "quota_below_committed",
            f"{district_code} 지역은 이미 {_won(committed)}이 배정되어 있어 한도액을 {_won(amount)}으로 줄일 수 없습니다.",
            f"District {district_code} already has {_krw(committed)} committed; its quota cannot go down to {_krw(amount)}.",
        )


def set_quotas_by_rule(
    store: Store,
    actor: Actor | int | None,
    cycle_id: int,
    total_krw: int,
    base_per_district_krw: int,
    population_share: Any,
) -> dict[str, int]:
    """Set the total and rule, and every district's quota from it (admins only); returns the table.

    Uses the stored districts' voter counts (:func:`compute_quota_table`).
    Overrides are replaced; the table must be published again
    (:func:`publish_quotas`). Refused when a district would get less than it
    already has committed.
    """
    share = _fraction(population_share, "인구 비례 몫", "population share")
    share_bp = _to_bp(share, "인구 비례 몫", "population share")
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        cycle = _cycle(tx, cycle_id, for_update=True)
        _require_phase(cycle, "set_quotas")
        voters = {d.code: int(d.voters) for d in tx.districts.list()}
        table = compute_quota_table(total_krw, base_per_district_krw, share, voters)
        tx.quotas.list(cycle_id, for_update=True)
        for code, amount in table.items():
            _check_not_below_committed(tx, cycle_id, code, amount)
            tx.quotas.set(cycle_id, code, amount, overridden=False, updated_by=me.id)
        tx.cycles.update(
            cycle_id,
            total_krw=int(total_krw),
            base_per_district_krw=int(base_per_district_krw),
            population_share_bp=share_bp,
            quotas_published_at=None,
        )
        tx.audit.record(
            me.id,
            "quotas.set_by_rule",
            f"cycle:{cycle_id}",
            {"total_krw": int(total_krw), "base_per_district_krw": int(base_per_district_krw), "population_share_bp": share_bp, "table": table},
        )
        return table


def override_quota(store: Store, actor: Actor | int | None, cycle_id: int, district_code: str, amount_krw: int) -> None:
    """Set one district's quota by hand (admins only); marks it overridden and unpublishes the table.

    The other districts keep theirs, so the quotas may then add up to more
    or less than the cycle's total (:func:`quota_table` shows the sum).
    Refused below what the district already has committed.
    """
    amount = _money(amount_krw, "한도액", "quota")
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        cycle = _cycle(tx, cycle_id, for_update=True)
        _require_phase(cycle, "set_quotas")
        quota = tx.quotas.get(cycle_id, district_code, for_update=True)
        if quota is None:
            raise InvalidInput(
                "no_quota",
                f"{district_code} 지역의 한도액이 아직 없습니다. 먼저 규칙으로 한도액 표를 만들어 주세요.",
                f"District {district_code} has no quota yet. Please compute the table by rule first.",
            )
        _check_not_below_committed(tx, cycle_id, district_code, amount)
        before = int(quota.amount_krw)
        tx.quotas.set(cycle_id, district_code, amount, overridden=True, updated_by=me.id)
        tx.cycles.update(cycle_id, quotas_published_at=None)
        tx.audit.record(me.id, "quota.override", f"quota:{cycle_id}:{district_code}", {"from": before, "to": amount})


def publish_quotas(store: Store, actor: Actor | int | None, cycle_id: int) -> None:
    """Publish the cycle's quota table (admins only); every district must have a quota."""
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        cycle = _cycle(tx, cycle_id, for_update=True)
        _require_phase(cycle, "publish_quotas")
        amounts = tx.quotas.amounts(cycle_id)
        missing = sorted(set(tx.districts.names()) - set(amounts))
        if not amounts or missing:
            raise InvalidInput(
                "quotas_incomplete",
                f"한도액이 없는 지역이 있습니다 ({len(missing)}곳). 규칙으로 한도액 표를 먼저 만들어 주세요.",
                f"{len(missing)} districts have no quota. Please compute the table by rule first.",
            )
        tx.cycles.update(cycle_id, quotas_published_at=datetime.now(UTC))
        tx.audit.record(me.id, "quotas.publish", f"cycle:{cycle_id}", {"sum_krw": sum(amounts.values()), "table": amounts})


#: Who sees a cycle's quota table before it is published (admins set it, planners review costs against it).
QUOTA_DRAFT_READERS: tuple[str, ...] = ("planner", "admin")


def quotas_unpublished() -> NotAllowed:
    """The refusal to show a quota table that is not published yet."""
    return NotAllowed(
        "quotas_unpublished",
        "이 주기의 지역별 한도액은 아직 공개되지 않았습니다. 관리자가 공개한 뒤에 다시 확인해 주세요.",
        "This cycle's district quotas are not published yet. Please check again once an administrator publishes them.",
    )


def require_quota_reader(tx: Any, actor: Actor | int | None, cycle_id: int) -> BudgetCycle:
    """The cycle, when ``actor`` may read its quotas (read in ``tx``); a refusal otherwise.

    Once published, anyone (signed in or not) may. Before that only
    :data:`QUOTA_DRAFT_READERS` may: anyone else is refused
    (``sign_in_required`` when anonymous, ``quotas_unpublished`` otherwise).
    """
    cycle = _cycle(tx, cycle_id)
    if cycle.quotas_published_at is None:
        me = require_signed_in(actor_in(tx, actor))
        if me.role not in QUOTA_DRAFT_READERS:
            raise quotas_unpublished()
    return cycle


def quota_table(store: Store, actor: Actor | int | None, cycle_id: int) -> list[dict[str, Any]]:
    """The cycle's quotas as rows ``district_code, name, voters, amount_krw, overridden, committed_krw``, by code.

    Anyone once published; before that planners and admins only, whatever a
    page shows (:func:`require_quota_reader`).
    """
    with store.transaction() as tx:
        require_quota_reader(tx, actor, cycle_id)
        names = tx.districts.names()
        voters = {d.code: int(d.voters) for d in tx.districts.list()}
        return [
            {
                "district_code": q.district_code,
                "name": names.get(q.district_code, q.district_code),
                "voters": voters.get(q.district_code, 0),
                "amount_krw": int(q.amount_krw),
                "overridden": bool(q.overridden),
                "committed_krw": tx.results.committed(cycle_id, q.district_code),
            }
            for q in tx.quotas.list(cycle_id)
        ]


def district_quota_status(store: Store, cycle_id: int, district_code: str) -> QuotaStatus:
    """``(quota_krw, committed_krw, left_krw)`` of a district in a cycle; see :class:`QuotaStatus`.

    A district without a quota has ``(0, committed, -committed)`` (no quota:
    nothing can be spent).
    """
    with store.transaction() as tx:
        _cycle(tx, cycle_id)
        quota = tx.quotas.get(cycle_id, district_code)
        amount = 0 if quota is None else int(quota.amount_krw)
        committed = tx.results.committed(cycle_id, district_code)
        return QuotaStatus(amount, committed, amount - committed)


# ---------------------------------------------------------------- review


def review_proposal(
    store: Store,
    actor: Actor | int | None,
    cycle_id: int,
    proposal_id: int,
    *,
    feasible: bool,
    official_cost_krw: int | None,
    construction: bool,
    field_verified_on: date | None = None,
    field_note: str = "",
    field_photo_url: str | None = None,
) -> Review:
    """Record (or redo) a planner's review of a proposal in the review phase (planners and admins).

    The official cost estimate replaces the resident's in every budget sum.
    The proposal passes (is eligible for assemblies, voting and allocation)
    when it is feasible and has an official cost. Its status moves through
    the workflow (:mod:`planning.workflow`), each step in the history:
    ``submitted`` → ``under_review`` → ``field_verified`` (with a field
    verification date) → ``shortlisted`` when it passes; → ``rejected`` with
    the reason :data:`FAILED_REASON` when it does not. A rejected proposal
    reviewed again is reopened first (``rejected`` → ``under_review``). The
    author is told the outcome once. An adopted proposal's review can be
    corrected if it still passes; a failing review of it is refused
    (``status_final``, nothing written).
    """
    if not isinstance(feasible, bool) or not isinstance(construction, bool):
        raise TypeError("feasible and construction must be bool")
    cost = None if official_cost_krw is None else _money(official_cost_krw, "공식 비용 추정액", "official cost estimate")
    if feasible and cost is None:
        raise InvalidInput(
            "official_cost_required",
            "실행 가능한 제안에는 공식 비용 추정액을 적어 주세요.",
            "Please give the official cost estimate of a feasible proposal.",
        )
    if field_verified_on is not None and not isinstance(field_verified_on, date):
        raise InvalidInput("bad_date", "현장 확인 날짜가 올바르지 않습니다.", "The field-verification date is not a date.")
    note = str(field_note or "").strip()
    if len(note) > 2000:
        raise InvalidInput("too_long_field", "현장 확인 메모는 2,000자까지입니다.", "The field note may be at most 2,000 characters.")
    photo = clean_photo_url(field_photo_url)
    passed = feasible and cost is not None
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "planner", "admin")
        cycle = _cycle(tx, cycle_id)
        _require_phase(cycle, "review")
        p = _proposal(tx, proposal_id, for_update=True)
        review = tx.reviews.put(
            cycle_id,
            proposal_id,
            feasible=feasible,
            official_cost_krw=cost,
            field_verified_on=field_verified_on,
            field_note=note,
            field_photo_url=photo,
            construction=construction,
            passed=passed,
            reviewed_by=me.id,
        )
        steps = _review_steps(p.status, passed, field_verified_on is not None)
        for i, (to_status, reason) in enumerate(steps):
            transition_in(tx, me, p, to_status, reason, notify=i == len(steps) - 1)
        tx.audit.record(
            me.id,
            "proposal.review",
            f"proposal:{proposal_id}",
            {
                "cycle_id": cycle_id,
                "feasible": feasible,
                "official_cost_krw": cost,
                "resident_cost_krw": p.cost_krw,
                "construction": construction,
                "field_verified_on": field_verified_on,
                "passed": passed,
            },
        )
        return review


def _review_steps(status: str, passed: bool, verified: bool) -> list[tuple[str, str]]:
    """The workflow moves that take a proposal in ``status`` to a review's outcome: ``[(to_status, reason), ...]``."""
    steps: list[tuple[str, str]] = []
    if status == REJECTED and passed:
        steps.append((UNDER_REVIEW, "budget review: reviewed again"))
        status = UNDER_REVIEW
    if status == SUBMITTED:
        steps.append((UNDER_REVIEW, "budget review"))
        status = UNDER_REVIEW
    if passed:
        if status == UNDER_REVIEW and verified:
            steps.append((FIELD_VERIFIED, "budget review: field verified"))
            status = FIELD_VERIFIED
        if status not in (PASSED_STATUS, ADOPTED):  # an adopted proposal's review may still be corrected
            steps.append((PASSED_STATUS, "budget review: passed"))
    elif status != FAILED_STATUS:
        steps.append((FAILED_STATUS, FAILED_REASON))
    return steps


def eligible_proposal_ids(store: Store, cycle_id: int, district_code: str | None = None) -> list[int]:
    """Ids of the proposals that passed review in the cycle (of one district if given), ascending."""
    with store.transaction() as tx:
        out = []
        for r in tx.reviews.list(cycle_id, passed_only=True):
            p = tx.proposals.get(r.proposal_id)
            if not _fundable(p):
                continue
            if district_code is None or p.district_code == district_code:
                out.append(int(p.id))
        return out


# ---------------------------------------------------------------- assemblies


def hub_of_district(tx: Any, district_code: str) -> str | None:
    """The hub centre a district belongs to: the hub nearest its own centre (metres), ties to the smaller code.

    The same nearest-hub rule as proposal linking (README, "Linking rules"),
    applied to the district's community centre. Permission checks
    (:func:`record_assembly`) use the hub catchments instead
    (:func:`planning.catchments.hub_for_district_in`), which also honour an
    admin's explicit catchment lists.
    """
    hubs = tx.centres.list(hubs_only=True)
    own = [c for c in tx.centres.list() if c.district_code == district_code]
    if not hubs or not own:
        return None
    here = to_metric(own[0].geometry)
    return min(hubs, key=lambda h: (to_metric(h.geometry).distance(here), h.code)).code


def record_assembly(
    store: Store,
    actor: Actor | int | None,
    cycle_id: int,
    district_code: str,
    held_on: date,
    attendance: int,
    endorsed_proposal_ids: Iterable[int] = (),
) -> int:
    """Record a district's residents' assembly in the assemblies phase; returns its id.

    Allowed to centre staff of the hub whose catchment holds the district
    (:func:`planning.catchments.hub_for_district_in`: an admin's explicit
    catchment lists first, else the nearest hub) and to admins. The endorsed
    proposals must be proposals of that district that passed review in this
    cycle.
    """
    from planning.catchments import hub_for_district_in  # catchments imports this module lazily

    if not isinstance(held_on, date):
        raise InvalidInput("bad_date", "주민총회 날짜가 올바르지 않습니다.", "The assembly date is not a date.")
    count = _money(attendance, "참석자 수", "attendance")
    ids = sorted({int(p) for p in endorsed_proposal_ids})
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "centre_staff", "admin")
        cycle = _cycle(tx, cycle_id)
        district = tx.districts.get(district_code)
        if district is None:
            raise InvalidInput("no_such_district", f"예산 구역이 없습니다: {district_code}.", f"No budget district {district_code}.")
        if me.role == "centre_staff" and (me.hub_code is None or me.hub_code != hub_for_district_in(tx, district_code)):
            raise NotAllowed(
                "not_your_hub",
                f"{district.name}은(는) 담당 거점 센터의 지역이 아닙니다. 그 지역 거점 센터 직원이나 관리자가 기록할 수 있습니다.",
                f"{district_code} does not belong to your hub centre. Staff of its hub or an admin can record it.",
            )
        _require_phase(cycle, "record_assembly")
        passed = {r.proposal_id for r in tx.reviews.list(cycle_id, passed_only=True)}
        for pid in ids:
            p = _proposal(tx, pid)
            if p.district_code != district_code or pid not in passed:
                raise InvalidInput(
                    "not_endorsable",
                    f"제안 {pid}은(는) 이 지역의 검토 통과 제안이 아니어서 선정할 수 없습니다.",
                    f"Proposal {pid} is not a proposal of this district that passed review, so it cannot be endorsed.",
                )
        assembly = tx.assemblies.add(cycle_id, district_code, held_on, count, me.id, ids)
        tx.audit.record(
            me.id,
            "assembly.record",
            f"assembly:{assembly.id}",
            {"cycle_id": cycle_id, "district_code": district_code, "held_on": held_on, "attendance": count, "endorsed": ids},
        )
        return int(assembly.id)


def _endorsed_ids(tx: Any, cycle: Any) -> set[int]:
    voters = {d.code: int(d.voters) for d in tx.districts.list()}
    out = set()
    for pid, attendance in tx.assemblies.best_attendance(cycle.id).items():
        p = tx.proposals.get(pid)
        if p is None or p.kind != "area":
            continue
        # attendance / voters >= threshold_bp / 10000, in integers.
        if attendance * BASIS_POINTS >= cycle.endorsement_threshold_bp * voters.get(p.district_code, 0):
            out.add(pid)
    return out


def is_endorsed(store: Store, cycle_id: int, proposal_id: int) -> bool:
    """True when an area proposal was endorsed by an assembly of its district whose attendance reached the threshold.

    The threshold is the cycle's ``endorsement_threshold_bp`` (default 1 %) of
    the district's voter count (the residents counted by the store). Individual
    proposals are never assembly-endorsed.
    """
    with store.transaction() as tx:
        return proposal_id in _endorsed_ids(tx, _cycle(tx, cycle_id))


# ---------------------------------------------------------------- voting


def cast_votes(store: Store, actor: Actor | int | None, cycle_id: int, proposal_ids: Iterable[int]) -> list[int]:
    """Replace a resident's ballot in the voting phase; returns the ballot (ids ascending).

    Only residents with a home district vote, for proposals of that district
    that passed review; the official costs together may not exceed the
    district's quota (knapsack ballot): :class:`QuotaExceeded` says the
    amounts. An empty list withdraws the ballot. Ballots can be changed until
    the phase ends. One resident's ballots are serialised by a lock on their
    account row.
    """
    ids = sorted({int(p) for p in proposal_ids})
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "resident")
        tx.lock_resident(me.id)
        cycle = _cycle(tx, cycle_id, for_share=True)  # a phase change waits for ballots being cast
        _require_phase(cycle, "vote")
        if me.home_district_code is None:
            raise NotAllowed(
                "no_home_district",
                "계정에 사는 동이 없어 투표할 수 없습니다. 계정 설정에서 사는 동을 정해 주세요.",
                "Your account has no home district, so you cannot vote. Please set it in your account.",
            )
        reviews = {r.proposal_id: r for r in tx.reviews.list(cycle_id, passed_only=True)}
        total = 0
        for pid in ids:
            p = tx.proposals.get(pid)
            ok = _fundable(p) and pid in reviews
            if not ok or p.district_code != me.home_district_code:
                raise InvalidInput(
                    "not_on_ballot",
                    f"제안 {pid}은(는) 내가 사는 지역의 투표 대상(검토 통과) 제안이 아닙니다.",
                    f"Proposal {pid} is not on your district's ballot (proposals that passed review).",
                )
            total += _cost_of(reviews[pid], p)
        quota = tx.quotas.get(cycle_id, me.home_district_code)
        limit = 0 if quota is None else int(quota.amount_krw)
        if total > limit:
            raise QuotaExceeded(
                "ballot_over_quota",
                f"고른 제안의 비용 합계 {_won(total)}이 우리 지역 한도액 {_won(limit)}을 {_won(total - limit)} 넘습니다. "
                "제안을 빼고 다시 투표해 주세요.",
                f"The proposals you chose cost {_krw(total)} together, {_krw(total - limit)} more than your district's "
                f"quota of {_krw(limit)}. Please remove some and vote again.",
            )
        return tx.votes.replace_ballot(cycle_id, me.id, ids)


@dataclass(frozen=True)
class BallotStatus:
    """A resident's ballot: the proposals, their cost, and what is left of the quota for more."""

    proposal_ids: list[int]
    quota_krw: int
    ballot_cost_krw: int
    left_krw: int


def ballot_status(store: Store, actor: Actor | int | None, cycle_id: int) -> BallotStatus:
    """The signed-in resident's ballot in the cycle and what is left of their district's quota for it."""
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "resident")
        _cycle(tx, cycle_id)
        ids = tx.votes.ballot(cycle_id, me.id)
        cost = sum(_cost_of(tx.reviews.get(cycle_id, pid), tx.proposals.get(pid)) for pid in ids)
        quota = tx.quotas.get(cycle_id, me.home_district_code) if me.home_district_code else None
        limit = 0 if quota is None else int(quota.amount_krw)
        return BallotStatus(ids, limit, cost, limit - cost)


# ---------------------------------------------------------------- allocation


def _allocation_inputs(tx: Any, cycle: Any) -> list[AllocationProposal]:
    counts = tx.votes.counts(cycle.id) if cycle.has_voting else tx.supports.counts()
    endorsed = _endorsed_ids(tx, cycle)
    out = []
    for r in tx.reviews.list(cycle.id):
        p = tx.proposals.get(r.proposal_id)
        # Rejected proposals stay in, as ineligible: the results explain them too.
        if p is None or p.hidden or p.status in CLOSED_STATUSES or p.district_code is None:
            continue
        out.append(
            AllocationProposal(
                id=int(p.id),
                district_code=p.district_code,
                cost_krw=_cost_of(r, p),
                votes=counts.get(int(p.id), 0),
                kind=p.kind,
                category=p.category,
                construction=bool(r.construction),
                eligible=bool(r.passed) and _fundable(p),
                endorsed=int(p.id) in endorsed,
            )
        )
    return out


def run_allocation(store: Store, actor: Actor | int | None, cycle_id: int) -> list[AllocationDecision]:
    """Run the allocation (admins, allocation phase) and replace the cycle's stored results; returns the decisions.

    Inputs come from the store: the proposals reviewed in this cycle
    (eligible when they passed), their official costs, votes (or supports
    when the cycle has no voting), assembly endorsements, the published
    quotas and the cycle's rules; :func:`planning.allocation.allocate`
    decides. Approvals made by hand are replaced too. The cycle row and all
    its quota rows are locked first, so no approval or quota edit can
    interleave.
    """
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        cycle = _cycle(tx, cycle_id, for_update=True)
        _require_phase(cycle, "run_allocation")
        if cycle.quotas_published_at is None:
            raise NotAllowed(
                "quotas_not_published",
                "지역별 한도액을 먼저 공개해 주세요.",
                "Please publish the district quotas first.",
            )
        quotas = {q.district_code: int(q.amount_krw) for q in tx.quotas.list(cycle_id, for_update=True)}
        decisions = allocate(_allocation_inputs(tx, cycle), quotas, cycle_rules(cycle), district_names=tx.districts.names())
        tx.results.replace(
            cycle_id,
            (
                {
                    "proposal_id": int(d.id),
                    "district_code": d.district_code,
                    "selected": d.selected,
                    "rank": d.rank,
                    "votes": d.votes,
                    "cost_krw": d.cost_krw,
                    "code": d.code,
                    "reason_ko": d.reason_ko,
                    "reason_en": d.reason_en,
                }
                for d in decisions
            ),
        )
        tx.audit.record(
            me.id,
            "allocation.run",
            f"cycle:{cycle_id}",
            {
                "proposals": len(decisions),
                "selected": [int(d.id) for d in decisions if d.selected],
                "signal": "votes" if cycle.has_voting else "supports",
            },
        )
        return decisions


def allocation_results(store: Store, cycle_id: int) -> list[AllocationResult]:
    """The cycle's stored results, by district and rank."""
    with store.transaction() as tx:
        _cycle(tx, cycle_id)
        return tx.results.list(cycle_id)


def approve_proposal(store: Store, actor: Actor | int | None, cycle_id: int, proposal_id: int) -> QuotaStatus:
    """Select one eligible proposal by hand in the allocation phase (admins only); returns its district's status after.

    Locks the district's quota row, then checks that the proposal's official
    cost fits what is left (quota − committed) and stores it as selected
    (code ``approved``), all in one transaction: concurrent approvals in one
    district are serialised and cannot together exceed the quota.
    Approving a proposal already selected changes nothing.
    """
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        cycle = _cycle(tx, cycle_id)
        _require_phase(cycle, "approve")
        p = _proposal(tx, proposal_id)
        review = tx.reviews.get(cycle_id, proposal_id)
        if review is None or not review.passed or p.district_code is None:
            raise InvalidInput(
                "not_eligible",
                f"제안 {proposal_id}은(는) 검토를 통과하지 않아 배정할 수 없습니다.",
                f"Proposal {proposal_id} did not pass review, so it cannot be funded.",
            )
        quota = tx.quotas.get(cycle_id, p.district_code, for_update=True)
        limit = 0 if quota is None else int(quota.amount_krw)
        committed = tx.results.committed(cycle_id, p.district_code)
        existing = tx.results.get(cycle_id, proposal_id)
        if existing is not None and existing.selected:
            return QuotaStatus(limit, committed, limit - committed)
        cost = _cost_of(review, p)
        if committed + cost > limit:
            raise QuotaExceeded(
                "quota_exceeded",
                f"제안 {proposal_id}의 비용 {_won(cost)}이 {p.district_code} 지역의 남은 한도 {_won(limit - committed)}"
                f"(한도 {_won(limit)}, 배정 {_won(committed)})보다 많습니다.",
                f"Proposal {proposal_id} costs {_krw(cost)}, more than the {_krw(limit - committed)} left of district "
                f"{p.district_code}'s quota ({_krw(limit)}, {_krw(committed)} committed).",
            )
        tx.results.put(
            cycle_id,
            proposal_id,
            district_code=p.district_code,
            selected=True,
            rank=existing.rank if existing is not None else 0,
            votes=existing.votes if existing is not None else 0,
            cost_krw=cost,
            code=APPROVED,
            reason_ko=f"관리자가 승인했습니다 (비용 {_won(cost)}, 승인 뒤 남은 한도 {_won(limit - committed - cost)}).",
            reason_en=f"Approved by an admin (cost {_krw(cost)}, {_krw(limit - committed - cost)} left after it).",
        )
        tx.audit.record(
            me.id,
            "proposal.approve",
            f"proposal:{proposal_id}",
            {"cycle_id": cycle_id, "district_code": p.district_code, "cost_krw": cost, "committed_before": committed, "quota_krw": limit},
        )
        return QuotaStatus(limit, committed + cost, limit - committed - cost)


def published_quota_status(store: Store, district_code: str) -> QuotaStatus | None:
    """The district's quota, committed and left in the current cycle, once its quotas are published; else None.

    This is what residents see while drawing: during proposals, review,
    assemblies and voting nothing is committed yet, so ``left`` equals the
    quota; after allocation it is what the selected proposals leave.
    """
    with store.transaction() as tx:
        cycle = current_cycle_in(tx)
        if cycle is None or cycle.quotas_published_at is None:
            return None
        cycle_id = cycle.id
    return district_quota_status(store, cycle_id, district_code)


def submission_closed(store: Store) -> NotAllowed | None:
    """Why new proposals cannot be submitted now (the current cycle's phase), or None when they can."""
    with store.transaction() as tx:
        cycle = current_cycle_in(tx)
        if cycle is None or phase_allows(cycle, "submit_proposal"):
            return None
        return phase_refusal(cycle, "submit_proposal")
