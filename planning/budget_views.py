"""Read-models of the participatory-budget cycle for the pages (no writes; planners' review rows need the role).

The services that change a cycle are in :mod:`planning.budget`; these only
gather what the budget pages show: the running cycle, the ballot of a
district, the proposals to review, the endorsable proposals of a hub's
districts, the stored results with names and titles.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from planning.auth import Actor, actor_in, require_role
from planning.budget import BASIS_POINTS, QuotaStatus, current_cycle_in, require_quota_reader
from planning.workflow import CLOSED_STATUSES, NOT_FUNDABLE

if TYPE_CHECKING:
    from store import Store


@dataclass(frozen=True)
class CycleView:
    """What the pages show of a cycle."""

    id: int
    fiscal_year: int
    phase: str
    has_voting: bool
    published: bool
    total_krw: int
    base_per_district_krw: int
    population_share: float
    endorsement_threshold: float


def _view(c: Any) -> CycleView:
    return CycleView(
        id=int(c.id),
        fiscal_year=int(c.fiscal_year),
        phase=str(c.phase),
        has_voting=bool(c.has_voting),
        published=c.quotas_published_at is not None,
        total_krw=int(c.total_krw or 0),
        base_per_district_krw=int(c.base_per_district_krw or 0),
        population_share=int(c.population_share_bp or 0) / BASIS_POINTS,
        endorsement_threshold=int(c.endorsement_threshold_bp or 0) / BASIS_POINTS,
    )


def current_cycle_view(store: Store) -> CycleView | None:
    """The current cycle (:func:`planning.budget.current_cycle_in`: largest fiscal year) as a view, or None."""
    with store.transaction() as tx:
        cycle = current_cycle_in(tx)
        return None if cycle is None else _view(cycle)


def quota_status_by_district(store: Store, actor: Actor | int | None, cycle_id: int) -> dict[str, QuotaStatus]:
    """District code -> ``(quota_krw, committed_krw, left_krw)`` for every district with a quota.

    Anyone once the quotas are published; before that planners and admins
    only (:func:`planning.budget.require_quota_reader`).
    """
    with store.transaction() as tx:
        require_quota_reader(tx, actor, cycle_id)
        return {
            q.district_code: QuotaStatus(int(q.amount_krw), c, int(q.amount_krw) - c)
            for q in tx.quotas.list(cycle_id)
            for c in (tx.results.committed(cycle_id, q.district_code),)
        }


@dataclass(frozen=True)
class BallotItem:
    """A proposal on a district's ballot, with the cost the quota counts (official estimate)."""

    id: int
    title: str
    category: str
    kind: str
    cost_krw: int


def ballot_items(store: Store, cycle_id: int, district_code: str) -> list[BallotItem]:
    """The proposals of ``district_code`` that passed review in the cycle, by id."""
    with store.transaction() as tx:
        out = []
        for r in tx.reviews.list(cycle_id, passed_only=True):
            p = tx.proposals.get(r.proposal_id)
            if p is None or p.hidden or p.status in NOT_FUNDABLE or p.district_code != district_code:
                continue
            cost = int(r.official_cost_krw) if r.official_cost_krw is not None else int(p.cost_krw or 0)
            out.append(BallotItem(int(p.id), p.title, p.category, p.kind, cost))
        return sorted(out, key=lambda b: b.id)


@dataclass(frozen=True)
class ReviewRow:
    """A proposal to review, with its review in the cycle if there is one."""

    id: int
    title: str
    district_code: str | None
    district_name: str
    resident_cost_krw: int | None
    reviewed: bool
    feasible: bool
    official_cost_krw: int | None
    construction: bool
    field_verified_on: date | None
    field_note: str
    field_photo_url: str | None
    passed: bool


def review_rows(store: Store, actor: Actor | int | None, cycle_id: int, district_code: str | None = None) -> list[ReviewRow]:
    """Visible proposals, not withdrawn or merged (of one district if given), oldest first, with their reviews.

    Planners and admins only (:data:`planning.review.REVIEW_ROLES`): the
    reviews hold planners' field notes and photos, which are not public.
    Anyone else is refused (:class:`~planning.errors.NotAllowed`).
    """
    from planning.review import REVIEW_ROLES

    with store.transaction() as tx:
        require_role(actor_in(tx, actor), *REVIEW_ROLES)
        names = tx.districts.names()
        reviews = {r.proposal_id: r for r in tx.reviews.list(cycle_id)}
        out = []
        for p in reversed(tx.proposals.list(district_code=district_code)):
            if p.status in CLOSED_STATUSES:
                continue
            r = reviews.get(p.id)
            out.append(
                ReviewRow(
                    id=int(p.id),
                    title=p.title,
                    district_code=p.district_code,
                    district_name=names.get(p.district_code, p.district_code or ""),
                    resident_cost_krw=p.cost_krw,
                    reviewed=r is not None,
                    feasible=bool(r.feasible) if r else False,
                    official_cost_krw=r.official_cost_krw if r else None,
                    construction=bool(r.construction) if r else False,
                    field_verified_on=r.field_verified_on if r else None,
                    field_note=r.field_note if r else "",
                    field_photo_url=r.field_photo_url if r else None,
                    passed=bool(r.passed) if r else False,
                )
            )
        return out


def districts_of_hub(store: Store, hub_code: str | None) -> dict[str, str]:
    """Code -> name of the districts in ``hub_code``'s catchment (all districts for None), by code.

    The same rule as :func:`planning.budget.record_assembly` checks
    (:func:`planning.catchments.catchments_in`).
    """
    from planning.catchments import catchments_in

    with store.transaction() as tx:
        names = tx.districts.names()
        if hub_code is None:
            return dict(sorted(names.items()))
        mine = set(catchments_in(tx).get(hub_code, []))
        return {code: names[code] for code in sorted(names) if code in mine}


def assemblies_of(store: Store, cycle_id: int, district_codes: list[str] | None = None) -> list[dict[str, Any]]:
    """Recorded assemblies (``district_code, name, held_on, attendance, endorsed``), by district and date."""
    with store.transaction() as tx:
        names = tx.districts.names()
        rows = []
        for a in tx.assemblies.list(cycle_id):
            if district_codes is not None and a.district_code not in district_codes:
                continue
            rows.append(
                {
                    "district_code": a.district_code,
                    "name": names.get(a.district_code, a.district_code),
                    "held_on": a.held_on,
                    "attendance": int(a.attendance),
                    "endorsed": ", ".join(f"#{i}" for i in tx.assemblies.endorsed_ids(a.id)),
                }
            )
        return sorted(rows, key=lambda r: (r["district_code"], r["held_on"]))


def proposal_titles(store: Store, ids: list[int]) -> dict[int, str]:
    """Id -> title of the given proposals (missing and hidden ones left out: these pages are not the moderators')."""
    with store.transaction() as tx:
        out = {}
        for pid in ids:
            p = tx.proposals.get(pid)
            if p is not None and not p.hidden:
                out[int(pid)] = p.title
        return out


def result_rows(store: Store, cycle_id: int, lang: str = "ko") -> list[dict[str, Any]]:
    """The stored allocation results with district names and titles, by district and rank.

    Columns ``district_code, district, rank, proposal_id, title, votes, cost_krw, selected, reason``
    (the reason in ``lang``).
    """
    with store.transaction() as tx:
        names = tx.districts.names()
        rows = []
        for r in tx.results.list(cycle_id):
            p = tx.proposals.get(r.proposal_id)
            rows.append(
                {
                    "district_code": r.district_code,
                    "district": names.get(r.district_code, r.district_code),
                    "rank": int(r.rank),
                    "proposal_id": int(r.proposal_id),
                    "title": p.title if p is not None and not p.hidden else "",  # hidden after the run: no title
                    "votes": int(r.votes),
                    "cost_krw": int(r.cost_krw),
                    "selected": bool(r.selected),
                    "reason": r.reason_en if lang == "en" else r.reason_ko,
                }
            )
        return rows


@dataclass(frozen=True)
class DistrictCard:
    """One district in a cycle: its quota and use, its eligible proposals with votes (once voting closed), its results."""

    code: str
    name: str
    quota_krw: int
    committed_krw: int
    left_krw: int
    proposals: list[dict[str, Any]]
    votes_visible: bool
    results: list[dict[str, Any]]


def district_card(store: Store, actor: Actor | int | None, cycle_id: int, district_code: str, lang: str = "ko") -> DistrictCard:
    """The card of ``district_code``: vote counts are withheld while voting is still open.

    It shows the district's quota: anyone once the quotas are published,
    before that planners and admins only (:func:`planning.budget.require_quota_reader`).
    """
    from planning.budget import district_quota_status

    with store.transaction() as tx:
        require_quota_reader(tx, actor, cycle_id)
    status = district_quota_status(store, cycle_id, district_code)
    items = ballot_items(store, cycle_id, district_code)
    with store.transaction() as tx:
        cycle = tx.cycles.get(cycle_id)
        name = tx.districts.names().get(district_code, district_code)
        visible = cycle is not None and cycle.phase in ("allocation", "results")
        counts = tx.votes.counts(cycle_id) if visible else {}
    proposals = [
        {"id": i.id, "title": i.title, "cost_krw": i.cost_krw, "votes": counts.get(i.id, 0) if visible else None} for i in items
    ]
    results = [r for r in result_rows(store, cycle_id, lang) if r["district_code"] == district_code]
    return DistrictCard(district_code, name, status.quota_krw, status.committed_krw, status.left_krw, proposals, visible, results)
