"""Co-governance meetings of the hub centres: agenda, publication, presentation, minutes.

Life of a meeting
    ``draft`` → ``published`` → ``held``. Centre staff create a meeting of
    their hub (:func:`create_meeting`: kind, start time, place, title), pick
    its agenda among the hub area's shortlisted proposals and their clusters
    (:func:`agenda_candidates`, :func:`set_agenda`; only while it is a
    draft), then publish it (:func:`publish_meeting`): from then on residents
    see it and its agenda (:func:`upcoming_meetings`, :func:`meeting_view`).
    At the meeting the agenda is shown one item at a time
    (:func:`presentation_items`) and the decision on each item is recorded
    (:func:`record_minutes`); the meeting is ``held`` once every item has
    minutes, or when staff close it (:func:`close_meeting`).

Who may
    *Prepare* (create, edit, set the agenda, publish, delete a draft, close):
    centre staff of the meeting's hub, planners and admins. *Decide* (record
    minutes): centre staff of the meeting's hub and admins. Centre staff of
    another hub and residents are refused (bilingual
    :class:`~planning.errors.NotAllowed`).

Decisions go through the workflow
    ``adopted``, ``rejected`` (the note is required: the author reads it) and
    ``merged`` (into ``merge_into``) are made by
    :func:`planning.workflow.transition_in` with the acting person, so the
    status table, the history, the locks and the authors' notifications are
    the workflow's. The history reason reads ``meeting #N (for F, against A,
    abstain B): note``. ``deferred`` changes no status: the proposal's
    history gets an entry with the same status and the reason ``deferred at
    meeting #N: note``, and its author is notified (``meeting_deferred``). A
    cluster item's decision applies to each of its proposals (for a merge:
    every member but ``merge_into`` goes into ``merge_into``), all in one
    transaction: one refusal changes nothing. Note that the workflow lets
    centre staff decide only proposals *linked to their hub*; a proposal that
    lies in the catchment but is linked to another hub
    (:attr:`AgendaCandidate.staff_may_decide` False) needs a planner or an
    admin at the workflow's step, or an admin's minutes.

Visibility
    Published and held meetings are public. Drafts exist only for those who
    may prepare them (``no_such_meeting`` for everyone else). Residents and
    anonymous visitors never see hidden proposals (an item whose proposals
    are all hidden is left out), authors' names, or who prepared or recorded
    anything. :func:`upcoming_meetings` lists published meetings from today
    (KST) on: a resident by default sees those of the hub whose catchment
    holds their home dong (:mod:`planning.catchments`); anonymous visitors,
    residents without a home dong and staff see every hub's unless they ask
    for one hub (``hub_code``), which anyone may do since meetings are public.

Votes
    The current budget cycle's vote counts are shown only once its voting is
    over (phases ``allocation`` and ``results``), as on the budget page;
    before that ``votes`` is None.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import STORAGE_CRS, to_metric, to_storage
from planning.auth import Actor, actor_in, require_signed_in, role_required
from planning.catchments import (
    catchment_of_in,
    cluster_public,
    hub_for_district_in,
    no_such_hub,
    public_frame,
)
from planning.errors import InvalidInput, NotAllowed
from planning.i18n import t
from planning.workflow import ADOPTED, MERGED, REJECTED, SHORTLISTED, transition_in

if TYPE_CHECKING:
    from store import Store

#: Kinds of meeting (labels ``meeting.kind.<kind>``).
KINDS: tuple[str, ...] = ("dong_group", "hub_meeting", "city_assembly")
#: Statuses of a meeting, in order (labels ``meeting.status.<status>``).
DRAFT, PUBLISHED, HELD = "draft", "published", "held"
MEETING_STATUSES: tuple[str, ...] = (DRAFT, PUBLISHED, HELD)
#: Decisions of the minutes (labels ``meeting.decision.<decision>``).
DEFERRED = "deferred"
DECISIONS: tuple[str, ...] = (ADOPTED, REJECTED, DEFERRED, MERGED)
#: Orders of :func:`agenda_candidates`.
SORT_KEYS: tuple[str, ...] = ("supports", "votes", "cost")
#: Roles that may prepare a meeting (centre staff only for their own hub).
PREPARE_ROLES: tuple[str, ...] = ("centre_staff", "planner", "admin")
#: Roles that may record minutes (centre staff only for their own hub).
DECIDE_ROLES: tuple[str, ...] = ("centre_staff", "admin")
#: DBSCAN of the shortlisted proposals offered as agenda clusters: 300 m, at least 2 proposals.
CANDIDATE_EPS_M = 300.0
CANDIDATE_MIN_SIZE = 2
#: Metres around an item's proposals on its map.
ITEM_PAD_M = 400.0
PLACE_MAX = 200
TITLE_MAX = 200
NOTES_MAX = 4000
NOTE_MAX = 800  # the workflow's reason (1000) holds the meeting number, the vote and the note
MAX_ITEMS = 60
MAX_VOTES = 10_000_000
KST = timezone(timedelta(hours=9))
_VOTES_VISIBLE_PHASES = ("allocation", "results")


# ---------------------------------------------------------------- refusals and small helpers


def no_such_meeting(meeting_id: Any) -> InvalidInput:
    """The refusal for a meeting that does not exist for this viewer (missing, or a draft they may not see)."""
    return InvalidInput(
        "no_such_meeting",
        f"회의 {str(meeting_id)[:20]}번을 찾을 수 없습니다. 회의 목록을 새로 고쳐 주세요.",
        f"Meeting {str(meeting_id)[:20]} was not found. Please refresh the list of meetings.",
    )


def _not_this_hub(hub_name: str) -> NotAllowed:
    return NotAllowed(
        "not_this_hub",
        f"이 회의는 {hub_name}의 회의입니다. 그 거점 센터의 직원, 도시계획가 또는 관리자만 준비하거나 결정을 기록할 수 있습니다.",
        f"This is a meeting of {hub_name}. Only that hub centre's staff, planners or admins may prepare it or record its decisions.",
    )


def _clean(value: Any, ko: str, en: str, max_len: int, required: bool) -> str:
    from planning.proposals import clean_text  # proposals imports the workflow, which is fine; kept lazy like the workflow does

    if value is not None and not isinstance(value, str):
        raise InvalidInput("bad_text", f"{ko}은(는) 글자로 적어 주세요.", f"The {en} must be text.")
    return clean_text(value, field_ko=ko, field_en=en, max_len=max_len, required=required)


def _check_kind(kind: Any) -> str:
    if kind not in KINDS:
        ko = ", ".join(t(f"meeting.kind.{k}", "ko") for k in KINDS)
        en = ", ".join(t(f"meeting.kind.{k}", "en") for k in KINDS)
        raise InvalidInput(
            "bad_meeting_kind",
            f"회의 종류 {str(kind)[:30]!r}은(는) 없습니다. 다음 중에서 고르세요: {ko}.",
            f"There is no kind of meeting {str(kind)[:30]!r}. Please choose one of: {en}.",
        )
    return str(kind)


def _check_when(starts_at: Any) -> datetime:
    if not isinstance(starts_at, datetime):
        raise InvalidInput(
            "bad_meeting_time",
            "회의 일시를 날짜와 시각으로 골라 주세요.",
            "Please give the meeting's date and time.",
        )
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise InvalidInput(
            "naive_meeting_time",
            "회의 시각에 시간대가 없습니다. 한국 시간(KST)으로 골라 주세요 (planning.meetings.kst_datetime).",
            "The meeting time has no time zone. Please give it in Korean time (KST; planning.meetings.kst_datetime).",
        )
    return starts_at.astimezone(UTC)


def kst_datetime(day: date, at: time) -> datetime:
    """A calendar day and a clock time in Korean time as an aware datetime (what :func:`create_meeting` takes)."""
    return datetime.combine(day, at.replace(tzinfo=None), KST)


def _start_of_today_kst(now: datetime | None = None) -> datetime:
    now = (now or datetime.now(UTC)).astimezone(KST)
    return datetime.combine(now.date(), time(0), KST).astimezone(UTC)


def _hub(tx: Any, hub_code: Any) -> Any:
    hub = tx.centres.get(hub_code) if isinstance(hub_code, str) else None
    if hub is None or not hub.is_hub:
        raise no_such_hub(hub_code)
    return hub


def _may_prepare(me: Actor, hub_code: str) -> bool:
    if not me.signed_in:
        return False
    if me.role in ("planner", "admin"):
        return True
    return me.role == "centre_staff" and me.hub_code == hub_code


def _may_decide(me: Actor, hub_code: str) -> bool:
    if not me.signed_in:
        return False
    if me.role == "admin":
        return True
    return me.role == "centre_staff" and me.hub_code == hub_code


def _require_preparer(tx: Any, me: Actor, hub_code: str) -> None:
    require_signed_in(me)
    if _may_prepare(me, hub_code):
        return
    if me.role == "centre_staff":
        hub = tx.centres.get(hub_code)
        raise _not_this_hub(hub.name if hub is not None else hub_code)
    raise role_required(*PREPARE_ROLES)


def _require_decider(tx: Any, me: Actor, hub_code: str) -> None:
    require_signed_in(me)
    if _may_decide(me, hub_code):
        return
    if me.role == "centre_staff":
        hub = tx.centres.get(hub_code)
        raise _not_this_hub(hub.name if hub is not None else hub_code)
    raise role_required(*DECIDE_ROLES)


def _meeting(tx: Any, me: Actor, meeting_id: Any, for_update: bool = False) -> Any:
    """The meeting if ``me`` may see it (drafts: only those who may prepare it)."""
    if isinstance(meeting_id, bool) or not isinstance(meeting_id, (int, np.integer)):
        raise no_such_meeting(meeting_id)
    m = tx.meetings.get(int(meeting_id), for_update=for_update)
    if m is None or (m.status == DRAFT and not _may_prepare(me, m.hub_code)):
        raise no_such_meeting(meeting_id)
    return m


def _audit(tx: Any, me: Actor, action: str, meeting_id: int, detail: Mapping[str, Any] | None = None) -> None:
    tx.audit.record(me.id, action, f"meeting:{meeting_id}", dict(detail or {}))


def _visible_votes(tx: Any) -> dict[int, int] | None:
    """The current cycle's vote counts once its voting is over; None before (votes stay secret while they are cast)."""
    from planning.budget import current_cycle_in

    cycle = current_cycle_in(tx)
    if cycle is None or cycle.phase not in _VOTES_VISIBLE_PHASES:
        return None
    return tx.votes.counts(cycle.id)


def _official_costs(tx: Any) -> dict[int, int]:
    """``{proposal id: official cost}`` of the current cycle's reviews that give one."""
    from planning.budget import current_cycle_in

    cycle = current_cycle_in(tx)
    if cycle is None:
        return {}
    return {int(r.proposal_id): int(r.official_cost_krw) for r in tx.reviews.list(cycle.id) if r.official_cost_krw is not None}


def _int_or_none(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _extent(geoms: Sequence[BaseGeometry], pad_m: float = ITEM_PAD_M) -> tuple[float, float, float, float] | None:
    """Lon/lat bounds around the geometries, padded by ``pad_m`` metres (measured in EPSG:5179)."""
    arr = np.array([g for g in geoms if g is not None and not g.is_empty], dtype=object)
    if not len(arr):
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(to_metric(arr))
    box = shapely.box(minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m)
    step = max(maxx - minx, maxy - miny, 2 * pad_m, 1.0) / 32
    return tuple(float(v) for v in shapely.bounds(to_storage(shapely.segmentize(box, step))))  # type: ignore[return-value]


# ---------------------------------------------------------------- what pages get


@dataclass(frozen=True)
class MeetingInfo:
    """A meeting as lists show it (public facts only: nobody is named)."""

    id: int
    hub_code: str
    hub_name: str
    kind: str
    starts_at: datetime  # aware, UTC
    place: str
    title: str  # as given; see display_title()
    status: str
    notes: str
    published_at: datetime | None
    held_at: datetime | None
    item_count: int

    def display_title(self, lang: str = "ko") -> str:
        """The title, or "<hub>의 <kind>" when none was given."""
        return self.title or t("meeting.untitled", lang, hub=self.hub_name, kind=t(f"meeting.kind.{self.kind}", lang))

    def starts_at_kst(self) -> datetime:
        """The start time in Korean time."""
        return self.starts_at.astimezone(KST)


@dataclass(frozen=True)
class AgendaProposal:
    """One proposal of an agenda item, public facts only."""

    id: int
    title: str
    category: str
    status: str
    kind: str
    supports: int
    votes: int | None
    cost_krw: int | None  # the resident's estimate
    official_cost_krw: int | None  # the planners' review in the current cycle
    district_code: str | None
    district_name: str
    hub_code: str | None
    geometry: BaseGeometry
    hidden: bool = False  # only ever True for staff viewers

    @property
    def cost(self) -> int | None:
        """The cost that counts: the official estimate when reviewed, else the resident's."""
        return self.official_cost_krw if self.official_cost_krw is not None else self.cost_krw


@dataclass(frozen=True)
class MinutesView:
    """The recorded decision on one agenda item."""

    decision: str
    note: str
    votes_for: int
    votes_against: int
    votes_abstain: int
    merge_into_id: int | None
    recorded_at: datetime


@dataclass(frozen=True)
class AgendaItemView:
    """One agenda item: a proposal, or a cluster of proposals (its snapshot)."""

    id: int
    position: int
    kind: str  # "proposal" | "cluster"
    title: str
    proposals: list[AgendaProposal]
    cluster_label: int | None = None
    minutes: MinutesView | None = None

    @property
    def proposal_ids(self) -> list[int]:
        """Ids of the item's proposals (those the viewer may see), ascending."""
        return sorted(p.id for p in self.proposals)

    @property
    def supports(self) -> int:
        return sum(p.supports for p in self.proposals)

    @property
    def cost_krw(self) -> int | None:
        """Sum of the costs that count (official when reviewed); None when none is known."""
        known = [p.cost for p in self.proposals if p.cost is not None]
        return sum(known) if known else None


@dataclass(frozen=True)
class MeetingView:
    """A meeting with its agenda, as one viewer may see it, and what that viewer may do."""

    meeting: MeetingInfo
    items: list[AgendaItemView]
    can_prepare: bool = False  # edit, set the agenda, publish (drafts), close
    can_record: bool = False  # record minutes (published or held)

    @property
    def id(self) -> int:
        return self.meeting.id

    @property
    def proposal_ids(self) -> list[int]:
        """Every proposal on the agenda (cluster items expanded), ascending."""
        return sorted({pid for item in self.items for pid in item.proposal_ids})


@dataclass(frozen=True)
class AgendaCandidate:
    """A shortlisted proposal of the hub's area, or a cluster of them, that can go on an agenda.

    ``key`` is ``"p:<id>"`` or ``"c:<label>"``; pass the candidate itself,
    or ``{"proposal_id": id}`` / ``{"cluster": label}``, to :func:`set_agenda`.
    """

    key: str
    kind: str  # "proposal" | "cluster"
    title: str
    proposal_ids: tuple[int, ...]
    categories: tuple[str, ...]
    district_codes: tuple[str, ...]
    supports: int
    votes: int | None
    cost_krw: int | None  # official cost when reviewed, else the estimate; summed over a cluster's known costs
    staff_may_decide: bool  # every proposal is linked to this hub (the workflow lets its staff decide)
    geometry: BaseGeometry  # the proposal, or the cluster's outline (lon/lat)
    proposal_id: int | None = None
    cluster_label: int | None = None


# ---------------------------------------------------------------- reading


def _info(tx: Any, m: Any, hub_names: Mapping[str, str] | None = None) -> MeetingInfo:
    names = hub_names if hub_names is not None else {c.code: c.name for c in tx.centres.list()}
    return MeetingInfo(
        id=int(m.id),
        hub_code=m.hub_code,
        hub_name=names.get(m.hub_code, m.hub_code),
        kind=m.kind,
        starts_at=m.starts_at,
        place=m.place,
        title=m.title or "",
        status=m.status,
        notes=m.notes or "",
        published_at=m.published_at,
        held_at=m.held_at,
        item_count=len(tx.meetings.items(m.id)),
    )


def _members(item: Any) -> list[int]:
    if item.proposal_id is not None:
        return [int(item.proposal_id)]
    return [int(i) for i in json.loads(item.cluster_proposal_ids or "[]")]


def _agenda_proposals(tx: Any, ids: Iterable[int], me: Actor) -> dict[int, AgendaProposal]:
    """Public facts of the given proposals in one query (hidden ones only for staff who may prepare)."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return {}
    names = tx.districts.names()
    votes = _visible_votes(tx)
    official = _official_costs(tx)
    out = {}
    for r in tx.proposals.summaries(include_hidden=me.is_moderator, ids=wanted):
        out[r.id] = AgendaProposal(
            id=r.id,
            title=r.title,
            category=r.category,
            status=r.status,
            kind=r.kind,
            supports=r.supports,
            votes=None if votes is None else votes.get(r.id, 0),
            cost_krw=r.cost_krw,
            official_cost_krw=official.get(r.id),
            district_code=r.district_code,
            district_name=names.get(r.district_code, "") if r.district_code else "",
            hub_code=r.hub_code,
            geometry=r.geometry,
            hidden=bool(r.hidden),
        )
    return out


def _view(tx: Any, me: Actor, m: Any) -> MeetingView:
    items = tx.meetings.items(m.id)
    minutes = tx.meetings.minutes(m.id)
    facts = _agenda_proposals(tx, (pid for item in items for pid in _members(item)), me)
    out = []
    for item in items:
        members = [facts[pid] for pid in _members(item) if pid in facts]
        if not members:  # every proposal hidden from this viewer (or deleted demo data)
            continue
        mins = minutes.get(item.id)
        if item.proposal_id is not None:
            kind, title = "proposal", members[0].title
        else:
            kind, title = "cluster", item.cluster_title or ", ".join(f"#{p.id}" for p in members)
        out.append(
            AgendaItemView(
                id=int(item.id),
                position=int(item.position),
                kind=kind,
                title=title,
                proposals=members,
                cluster_label=item.cluster_label,
                minutes=None
                if mins is None
                else MinutesView(
                    decision=mins.decision,
                    note=mins.note or "",
                    votes_for=int(mins.votes_for),
                    votes_against=int(mins.votes_against),
                    votes_abstain=int(mins.votes_abstain),
                    merge_into_id=mins.merge_into_id,
                    recorded_at=mins.recorded_at,
                ),
            )
        )
    return MeetingView(
        meeting=_info(tx, m),
        items=out,
        can_prepare=_may_prepare(me, m.hub_code),
        can_record=_may_decide(me, m.hub_code) and m.status in (PUBLISHED, HELD),
    )


def meeting_view(store: Store, viewer: Actor | int | None, meeting_id: int) -> MeetingView:
    """A meeting and its agenda as ``viewer`` may see it.

    Published and held meetings: anyone. Drafts: those who may prepare them
    (``no_such_meeting`` for everyone else, as for a missing id). Residents
    and anonymous visitors get public facts only (hidden proposals left out).
    """
    with store.transaction() as tx:
        me = actor_in(tx, viewer)
        return _view(tx, me, _meeting(tx, me, meeting_id))


def upcoming_meetings(
    store: Store, viewer: Actor | int | None, hub_code: str | None = None, *, now: datetime | None = None
) -> list[MeetingInfo]:
    """Published meetings from today (Korean time) on, soonest first.

    A resident with a home dong sees by default the meetings of the hub whose
    catchment holds it; anyone else (and anyone giving ``hub_code``) sees
    every hub's, or that one hub's. ``now`` is for tests.
    """
    with store.transaction() as tx:
        me = actor_in(tx, viewer)
        if hub_code is not None:
            _hub(tx, hub_code)
            hubs: list[str] | None = [hub_code]
        elif me.signed_in and me.role == "resident" and me.home_district_code:
            home = hub_for_district_in(tx, me.home_district_code)
            hubs = [home] if home is not None else []
        else:
            hubs = None
        names = {c.code: c.name for c in tx.centres.list()}
        rows = tx.meetings.list(hub_codes=hubs, statuses=[PUBLISHED], starts_from=_start_of_today_kst(now))
        return [_info(tx, m, names) for m in rows]


def list_meetings(store: Store, actor: Actor | int | None, hub_code: str) -> list[MeetingInfo]:
    """Every meeting of a hub, drafts and past ones included, soonest first (for those who may prepare them)."""
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        _hub(tx, hub_code)
        _require_preparer(tx, me, hub_code)
        names = {c.code: c.name for c in tx.centres.list()}
        return [_info(tx, m, names) for m in tx.meetings.list(hub_codes=[hub_code])]


def next_published_meeting(store: Store, hub_code: str, *, now: datetime | None = None) -> MeetingInfo | None:
    """The hub's next published meeting (from today, KST), or None."""
    found = upcoming_meetings(store, None, hub_code, now=now)
    return found[0] if found else None


# ---------------------------------------------------------------- preparing


def create_meeting(
    store: Store,
    actor: Actor | int | None,
    hub_code: str,
    kind: str,
    starts_at: datetime,
    place: str,
    title: str = "",
    notes: str = "",
) -> MeetingInfo:
    """Create a meeting of a hub as a draft.

    Parameters
    ----------
    actor : Actor or id
        Centre staff of ``hub_code``, a planner or an admin.
    hub_code : str
        A hub centre's code.
    kind : {"dong_group", "hub_meeting", "city_assembly"}
    starts_at : datetime
        Timezone-aware (e.g. :func:`kst_datetime`); stored in UTC.
    place : str
        Required, at most :data:`PLACE_MAX` characters.
    title, notes : str
        Optional (the title defaults to "<hub>의 <kind>" when shown).

    Raises
    ------
    NotAllowed
        ``sign_in_required``, ``role_required``, ``not_this_hub``.
    InvalidInput
        ``no_such_hub``, ``bad_meeting_kind``, ``bad_meeting_time``,
        ``naive_meeting_time``, ``empty_field``, ``too_long_field``.
    """
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        require_signed_in(me)
        _hub(tx, hub_code)
        _require_preparer(tx, me, hub_code)
        m = tx.meetings.add(
            hub_code,
            _check_kind(kind),
            _check_when(starts_at),
            _clean(place, "장소", "place", PLACE_MAX, True),
            title=_clean(title, "제목", "title", TITLE_MAX, False),
            created_by=me.id,
            notes=_clean(notes, "메모", "notes", NOTES_MAX, False),
        )
        _audit(tx, me, "meeting.create", m.id, {"hub_code": hub_code, "kind": m.kind, "starts_at": m.starts_at.isoformat()})
        return _info(tx, m)


def _refuse_held(m: Any) -> None:
    if m.status == HELD:
        raise NotAllowed(
            "meeting_held",
            f"회의 {m.id}번은 이미 열렸습니다. 열린 회의는 바꿀 수 없습니다.",
            f"Meeting {m.id} has been held; it cannot be changed any more.",
        )


def update_meeting(
    store: Store,
    actor: Actor | int | None,
    meeting_id: int,
    *,
    kind: str | None = None,
    starts_at: datetime | None = None,
    place: str | None = None,
    title: str | None = None,
    notes: str | None = None,
) -> MeetingInfo:
    """Change a draft or published meeting's kind, time, place, title or notes (those given); not once held."""
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        m = _meeting(tx, me, meeting_id, for_update=True)
        _require_preparer(tx, me, m.hub_code)
        _refuse_held(m)
        fields: dict[str, Any] = {}
        if kind is not None:
            fields["kind"] = _check_kind(kind)
        if starts_at is not None:
            fields["starts_at"] = _check_when(starts_at)
        if place is not None:
            fields["place"] = _clean(place, "장소", "place", PLACE_MAX, True)
        if title is not None:
            fields["title"] = _clean(title, "제목", "title", TITLE_MAX, False)
        if notes is not None:
            fields["notes"] = _clean(notes, "메모", "notes", NOTES_MAX, False)
        if fields:
            tx.meetings.update(m.id, **fields)
            _audit(tx, me, "meeting.update", m.id, {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in fields.items()})
        return _info(tx, m)


def delete_meeting(store: Store, actor: Actor | int | None, meeting_id: int) -> None:
    """Delete a draft meeting with its agenda (a published meeting stays: residents have seen it)."""
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        m = _meeting(tx, me, meeting_id, for_update=True)
        _require_preparer(tx, me, m.hub_code)
        if m.status != DRAFT:
            raise NotAllowed(
                "meeting_not_draft",
                f"회의 {m.id}번은 이미 공개되어 지울 수 없습니다.",
                f"Meeting {m.id} has been published, so it cannot be deleted.",
            )
        tx.meetings.delete(m.id)
        _audit(tx, me, "meeting.delete", m.id, {"hub_code": m.hub_code})


def _candidate_frame(store: Store, hub_code: str, codes: list[str]) -> gpd.GeoDataFrame:
    frame = public_frame(store, hub_code, codes)
    keep = (frame["status"] == SHORTLISTED).to_numpy()
    return gpd.GeoDataFrame(frame[keep].reset_index(drop=True), geometry="geometry", crs=STORAGE_CRS)


def _cluster_title(card: Any) -> str:
    words = [w for w, _ in card.words[:3]]
    return " · ".join(words) if words else ", ".join(f"#{i}" for i in card.proposal_ids)


def _sort(candidates: list[AgendaCandidate], sort_by: str) -> list[AgendaCandidate]:
    if sort_by == "supports":
        key = lambda c: (-c.supports, c.proposal_ids[0], c.kind)
    elif sort_by == "votes":
        key = lambda c: (-(c.votes or 0), -c.supports, c.proposal_ids[0], c.kind)
    else:  # cost: cheapest first, unknown costs last
        key = lambda c: (c.cost_krw is None, c.cost_krw or 0, c.proposal_ids[0], c.kind)
    return sorted(candidates, key=key)


def _candidates(store: Store, hub_code: str, codes: list[str], sort_by: str) -> list[AgendaCandidate]:
    from planning.clusters import ClusterParams

    frame = _candidate_frame(store, hub_code, codes)
    with store.transaction() as tx:
        votes = _visible_votes(tx)
        official = _official_costs(tx)
    frame, cards = cluster_public(store, frame, ClusterParams(CANDIDATE_EPS_M, CANDIDATE_MIN_SIZE))
    out: list[AgendaCandidate] = []
    by_id = {}
    for r in frame.itertuples(index=False):
        pid = int(r.id)
        cost = official.get(pid, _int_or_none(r.cost_krw))
        c = AgendaCandidate(
            key=f"p:{pid}",
            kind="proposal",
            title=r.title,
            proposal_ids=(pid,),
            categories=(r.category,),
            district_codes=(r.district_code,) if r.district_code else (),
            supports=int(r.supports),
            votes=None if votes is None else votes.get(pid, 0),
            cost_krw=cost,
            staff_may_decide=r.hub_code == hub_code,
            geometry=r.geometry,
            proposal_id=pid,
        )
        by_id[pid] = c
        out.append(c)
    for card in cards:
        members = [by_id[i] for i in card.proposal_ids]
        costs = [m.cost_krw for m in members if m.cost_krw is not None]
        out.append(
            AgendaCandidate(
                key=f"c:{card.label}",
                kind="cluster",
                title=_cluster_title(card),
                proposal_ids=tuple(card.proposal_ids),
                categories=tuple(c for c, _ in card.categories),
                district_codes=tuple(c for c, _ in card.districts),
                supports=sum(m.supports for m in members),
                votes=None if votes is None else sum(m.votes or 0 for m in members),
                cost_krw=sum(costs) if costs else None,
                staff_may_decide=all(m.staff_may_decide for m in members),
                geometry=card.hull,
                cluster_label=card.label,
            )
        )
    return _sort(out, sort_by)


def _check_sort(sort_by: Any) -> str:
    if sort_by not in SORT_KEYS:
        raise InvalidInput(
            "bad_sort",
            f"정렬 기준 {str(sort_by)[:20]!r}은(는) 없습니다. supports(공감), votes(투표), cost(비용) 중에서 고르세요.",
            f"There is no order {str(sort_by)[:20]!r}. Please choose supports, votes or cost.",
        )
    return str(sort_by)


def agenda_candidates(store: Store, actor: Actor | int | None, hub_code: str, sort_by: str = "supports") -> list[AgendaCandidate]:
    """What can go on a hub's agenda: its area's shortlisted proposals, and clusters of them.

    The hub's area is its catchment plus the proposals linked to it
    (:func:`planning.catchments.in_hub_area`); hidden and withdrawn proposals
    are never offered. Clusters: embedded DBSCAN of those proposals
    (:data:`CANDIDATE_EPS_M`, :data:`CANDIDATE_MIN_SIZE`).

    Parameters
    ----------
    sort_by : {"supports", "votes", "cost"}
        Most supports first; most votes first (then supports; votes count
        only once the cycle's voting is over); cheapest first (official cost
        when reviewed, unknown costs last). Ties by the smallest proposal id,
        a proposal before a cluster.

    Raises
    ------
    NotAllowed
        Anyone but centre staff of the hub, planners and admins.
    InvalidInput
        ``no_such_hub``, ``bad_sort``.
    """
    _check_sort(sort_by)
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        require_signed_in(me)
        _hub(tx, hub_code)
        _require_preparer(tx, me, hub_code)
        codes = catchment_of_in(tx, hub_code)
    return _candidates(store, hub_code, codes, sort_by)


def _not_on_agenda(pid: int, ko: str, en: str) -> InvalidInput:
    return InvalidInput("not_agenda_proposal", f"제안 {pid}번은 안건에 올릴 수 없습니다: {ko}", f"Proposal {pid} cannot go on the agenda: {en}")


def _check_agenda_proposal(tx: Any, p: Any, pid: int, hub_code: str, codes: Sequence[str]) -> None:
    def status_label(status: str, lang: str) -> str:
        return t(f"status.{status}", lang)

    if p is None or p.hidden:
        raise _not_on_agenda(pid, "찾을 수 없거나 숨겨진 제안입니다.", "it does not exist or is hidden.")
    if p.status != SHORTLISTED:
        raise _not_on_agenda(
            pid,
            f"'{status_label(p.status, 'ko')}' 상태입니다. '{status_label(SHORTLISTED, 'ko')}' 상태의 제안만 올릴 수 있습니다.",
            f"it is '{status_label(p.status, 'en')}'. Only '{status_label(SHORTLISTED, 'en')}' proposals can.",
        )
    if p.hub_code != hub_code and p.district_code not in codes:
        raise _not_on_agenda(pid, "이 거점 센터의 권역 밖에 있습니다.", "it lies outside this hub centre's area.")


def _resolve_items(items: Sequence[Any], candidates: Callable[[], list[AgendaCandidate]]) -> list[dict[str, Any]]:
    """The requested items as repository rows (cluster labels resolved against the current candidates)."""
    resolved: list[dict[str, Any]] = []
    clusters: dict[int, AgendaCandidate] | None = None
    for n, item in enumerate(items, start=1):
        if isinstance(item, AgendaCandidate):
            item = {"proposal_id": item.proposal_id} if item.kind == "proposal" else {"cluster": list(item.proposal_ids), "title": item.title, "label": item.cluster_label}
        if not isinstance(item, Mapping) or ("proposal_id" in item) == ("cluster" in item):
            raise InvalidInput(
                "bad_agenda_item",
                f"{n}번째 안건이 올바르지 않습니다. 제안 하나({{'proposal_id': 번호}}) 또는 묶음({{'cluster': 묶음 번호}})으로 주세요.",
                f"Agenda item {n} is not valid. Give one proposal ({{'proposal_id': id}}) or a cluster ({{'cluster': label}}).",
            )
        if "proposal_id" in item:
            pid = item["proposal_id"]
            if isinstance(pid, bool) or not isinstance(pid, (int, np.integer)):
                raise InvalidInput("bad_agenda_item", f"{n}번째 안건의 제안 번호가 숫자가 아닙니다.", f"The proposal id of agenda item {n} is not a number.")
            resolved.append({"proposal_id": int(pid)})
            continue
        cluster = item["cluster"]
        label = item.get("label")
        title = item.get("title")
        if isinstance(cluster, (int, np.integer)) and not isinstance(cluster, bool):
            if clusters is None:
                clusters = {c.cluster_label: c for c in candidates() if c.kind == "cluster"}  # type: ignore[misc]
            found = clusters.get(int(cluster))
            if found is None:
                raise InvalidInput(
                    "no_such_cluster",
                    f"묶음 {int(cluster)}번이 지금의 후보에 없습니다. 후보 목록을 새로 고쳐 주세요.",
                    f"Cluster {int(cluster)} is not among the current candidates. Please refresh the list.",
                )
            ids, label, title = list(found.proposal_ids), found.cluster_label, title or found.title
        elif isinstance(cluster, (list, tuple, set, frozenset)) and all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in cluster
        ):
            ids = sorted({int(i) for i in cluster})
        else:
            raise InvalidInput(
                "bad_agenda_item",
                f"{n}번째 안건의 묶음은 묶음 번호나 제안 번호 목록이어야 합니다.",
                f"The cluster of agenda item {n} must be a cluster label or a list of proposal ids.",
            )
        if len(ids) < 2:
            raise InvalidInput(
                "cluster_too_small",
                f"{n}번째 안건의 묶음에 제안이 두 건 이상 있어야 합니다. 한 건이면 제안으로 올려 주세요.",
                f"The cluster of agenda item {n} needs at least two proposals; put a single one on as a proposal.",
            )
        text = _clean(title if title is not None else "", "묶음 제목", "cluster title", TITLE_MAX, False)
        resolved.append(
            {
                "cluster_proposal_ids": ids,
                "cluster_label": None if label is None else int(label),
                "cluster_title": text or ", ".join(f"#{i}" for i in ids),
            }
        )
    return resolved


def _refuse_not_draft(m: Any) -> None:
    if m.status != DRAFT:
        raise NotAllowed(
            "agenda_locked",
            f"회의 {m.id}번은 이미 공개되어 안건을 바꿀 수 없습니다. 안건은 준비 중일 때만 바꿀 수 있습니다.",
            f"Meeting {m.id} has been published: its agenda can only change while it is a draft.",
        )


def _check_agenda(tx: Any, m: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    codes = catchment_of_in(tx, m.hub_code)
    seen: set[int] = set()
    for row in rows:
        ids = [row["proposal_id"]] if row.get("proposal_id") is not None else list(row["cluster_proposal_ids"])
        for pid in ids:
            if pid in seen:
                raise InvalidInput(
                    "duplicate_agenda_proposal",
                    f"제안 {pid}번이 안건에 두 번 들어 있습니다. 한 번만 올려 주세요.",
                    f"Proposal {pid} is on the agenda twice. Please put it on once.",
                )
            seen.add(pid)
            _check_agenda_proposal(tx, tx.proposals.get(pid), pid, m.hub_code, codes)


def set_agenda(store: Store, actor: Actor | int | None, meeting_id: int, items: Sequence[Any]) -> MeetingView:
    """Replace a draft meeting's agenda with ``items``, numbered in the order given.

    Parameters
    ----------
    items : sequence
        Each ``{"proposal_id": id}``, ``{"cluster": label}`` (a cluster of
        :func:`agenda_candidates`, its members and title taken now),
        ``{"cluster": [id, id, ...], "title": "..."}``, or an
        :class:`AgendaCandidate`. At most :data:`MAX_ITEMS`; empty clears it.

    Raises
    ------
    NotAllowed
        ``agenda_locked`` (not a draft), and the preparers' role refusals.
    InvalidInput
        ``not_agenda_proposal`` (missing, hidden, not shortlisted, outside
        the hub's area), ``duplicate_agenda_proposal``, ``no_such_cluster``,
        ``cluster_too_small``, ``bad_agenda_item``, ``too_many_items``,
        ``no_such_meeting``.
    """
    items = list(items)
    if len(items) > MAX_ITEMS:
        raise InvalidInput(
            "too_many_items",
            f"안건이 너무 많습니다 ({len(items)}건, 최대 {MAX_ITEMS}건).",
            f"Too many agenda items ({len(items)}, at most {MAX_ITEMS}).",
        )
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        m = _meeting(tx, me, meeting_id)
        _require_preparer(tx, me, m.hub_code)
        _refuse_not_draft(m)
        hub_code, codes = m.hub_code, catchment_of_in(tx, m.hub_code)
    rows = _resolve_items(items, lambda: _candidates(store, hub_code, codes, "supports"))
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        m = _meeting(tx, me, meeting_id, for_update=True)
        _require_preparer(tx, me, m.hub_code)
        _refuse_not_draft(m)
        _check_agenda(tx, m, rows)
        tx.meetings.replace_agenda(m.id, rows)
        _audit(tx, me, "meeting.agenda", m.id, {"items": [r.get("proposal_id") or r.get("cluster_proposal_ids") for r in rows]})
        return _view(tx, me, m)


def publish_meeting(store: Store, actor: Actor | int | None, meeting_id: int) -> MeetingInfo:
    """Publish a draft meeting: residents see it and its agenda from now on.

    The agenda must not be empty, and is checked again (every proposal still
    shortlisted, visible and in the hub's area).
    """
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        m = _meeting(tx, me, meeting_id, for_update=True)
        _require_preparer(tx, me, m.hub_code)
        if m.status != DRAFT:
            raise NotAllowed(
                "meeting_not_draft",
                f"회의 {m.id}번은 이미 공개되었습니다.",
                f"Meeting {m.id} is already published.",
            )
        items = tx.meetings.items(m.id)
        if not items:
            raise InvalidInput(
                "agenda_empty",
                "안건이 없는 회의는 공개할 수 없습니다. 안건을 먼저 골라 주세요.",
                "A meeting without an agenda cannot be published. Please choose its agenda first.",
            )
        _check_agenda(
            tx,
            m,
            [{"proposal_id": i.proposal_id} if i.proposal_id is not None else {"cluster_proposal_ids": _members(i)} for i in items],
        )
        tx.meetings.update(m.id, status=PUBLISHED, published_at=datetime.now(UTC))
        _audit(tx, me, "meeting.publish", m.id, {"items": len(items)})
        return _info(tx, m)


def close_meeting(store: Store, actor: Actor | int | None, meeting_id: int) -> MeetingInfo:
    """Mark a published meeting held, whether or not every item has minutes (those without stay undecided)."""
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        m = _meeting(tx, me, meeting_id, for_update=True)
        _require_preparer(tx, me, m.hub_code)
        if m.status != PUBLISHED:
            raise NotAllowed(
                "meeting_not_published",
                f"회의 {m.id}번은 공개된 회의가 아니라서 마칠 수 없습니다 (지금: {t(f'meeting.status.{m.status}', 'ko')}).",
                f"Meeting {m.id} is not a published meeting, so it cannot be closed (now: {t(f'meeting.status.{m.status}', 'en')}).",
            )
        tx.meetings.update(m.id, status=HELD, held_at=datetime.now(UTC))
        _audit(tx, me, "meeting.close", m.id)
        return _info(tx, m)


# ---------------------------------------------------------------- minutes


def _votes(value: Any, ko: str, en: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= MAX_VOTES:
        raise InvalidInput(
            "bad_vote_count",
            f"{ko} 수는 0 이상의 정수로 적어 주세요.",
            f"The number of votes {en} must be a whole number of at least 0.",
        )
    return int(value)


def record_minutes(
    store: Store,
    actor: Actor | int | None,
    meeting_id: int,
    item_id: int,
    decision: str,
    note: str = "",
    votes_for: int = 0,
    votes_against: int = 0,
    votes_abstain: int = 0,
    merge_into: int | None = None,
) -> MeetingView:
    """Record the decision on one agenda item and apply it to its proposals (see the module's notes).

    Parameters
    ----------
    actor : Actor or id
        Centre staff of the meeting's hub, or an admin.
    decision : {"adopted", "rejected", "deferred", "merged"}
    note : str
        Required for ``rejected`` (its author reads it); at most :data:`NOTE_MAX` characters.
    votes_for, votes_against, votes_abstain : int
        The meeting's vote on the item (0 or more).
    merge_into : int, optional
        For ``merged`` (required then): the proposal the item's proposals go into.

    Returns
    -------
    MeetingView
        The meeting afterwards (``held`` once every item has minutes).

    Raises
    ------
    NotAllowed
        ``meeting_not_published`` (a draft), ``minutes_exist``, the deciders'
        role refusals, and every refusal of :func:`planning.workflow.transition_in`
        (e.g. ``transition_not_allowed`` for a proposal no longer
        shortlisted, ``transition_not_permitted`` for a proposal linked to
        another hub).
    InvalidInput
        ``unknown_decision``, ``reason_required``, ``merge_target_required``,
        ``bad_vote_count``, ``no_such_agenda_item``, ``no_such_meeting``.
    """
    if decision not in DECISIONS:
        ko = ", ".join(t(f"meeting.decision.{d}", "ko") for d in DECISIONS)
        en = ", ".join(t(f"meeting.decision.{d}", "en") for d in DECISIONS)
        raise InvalidInput(
            "unknown_decision",
            f"결정 {str(decision)[:20]!r}은(는) 없습니다. 다음 중에서 고르세요: {ko}.",
            f"There is no decision {str(decision)[:20]!r}. Please choose one of: {en}.",
        )
    yes = _votes(votes_for, "찬성", "for")
    no = _votes(votes_against, "반대", "against")
    abstain = _votes(votes_abstain, "기권", "abstaining")
    text = _clean(note, "메모", "note", NOTE_MAX, False)
    if decision == REJECTED and not text:
        raise InvalidInput(
            "reason_required",
            "미채택으로 기록하려면 사유를 메모에 적어 주세요. 사유는 제안한 주민에게 그대로 전해집니다.",
            "To record a rejection, please give the reason in the note: the proposal's author will read it.",
        )
    if decision == MERGED and merge_into is None:
        raise InvalidInput(
            "merge_target_required",
            "병합으로 기록하려면 합칠 대상 제안의 번호를 골라 주세요.",
            "To record a merge, choose the proposal the item is merged into.",
        )
    if decision != MERGED and merge_into is not None:
        raise InvalidInput(
            "merge_target_unexpected",
            "합칠 대상 제안은 '병합'으로 기록할 때만 고를 수 있습니다.",
            "A proposal to merge into can only be given when recording a merge.",
        )
    if merge_into is not None and (isinstance(merge_into, bool) or not isinstance(merge_into, (int, np.integer))):
        raise InvalidInput("merge_target_missing", "합칠 대상 제안의 번호가 숫자가 아닙니다.", "The proposal to merge into must be a number.")
    with store.transaction() as tx:
        me = actor_in(tx, actor)
        require_signed_in(me)
        m = _meeting(tx, me, meeting_id, for_update=True)
        _require_decider(tx, me, m.hub_code)
        if m.status == DRAFT:
            raise NotAllowed(
                "meeting_not_published",
                f"회의 {m.id}번은 아직 공개되지 않았습니다. 회의를 공개한 뒤 결정을 기록해 주세요.",
                f"Meeting {m.id} is not published yet. Publish it before recording decisions.",
            )
        item = tx.meetings.item(int(item_id)) if isinstance(item_id, (int, np.integer)) and not isinstance(item_id, bool) else None
        if item is None or item.meeting_id != m.id:
            raise InvalidInput(
                "no_such_agenda_item",
                f"회의 {m.id}번에 안건 {str(item_id)[:20]}번이 없습니다. 화면을 새로 고쳐 주세요.",
                f"Meeting {m.id} has no agenda item {str(item_id)[:20]}. Please refresh the page.",
            )
        if item.id in tx.meetings.minutes(m.id):
            raise NotAllowed(
                "minutes_exist",
                f"안건 {item.position}번의 결정은 이미 기록되었습니다.",
                f"The decision on item {item.position} has already been recorded.",
            )
        members = _members(item)
        target = None if merge_into is None else int(merge_into)
        # lock every row involved in id order (as the workflow's merge does), so two decisions cannot deadlock
        for pid in sorted(set(members) | ({target} if target is not None else set())):
            tx.proposals.get(pid, for_update=True)
        tally = f"for {yes}, against {no}, abstain {abstain}"
        reason = f"meeting #{m.id} ({tally})" + (f": {text}" if text else "")
        for pid in members:
            p = tx.proposals.get(pid)
            if p is None:
                continue  # a deleted demo proposal of a cluster snapshot
            if decision == DEFERRED:
                tx.proposals.set_status(p.id, p.status, me.id, f"deferred at meeting #{m.id} ({tally})" + (f": {text}" if text else ""))
                if p.author_id != me.id:
                    tx.notifications.add(
                        p.author_id, "meeting_deferred", proposal_id=p.id,
                        params={"id": p.id, "title": p.title, "meeting": m.id, "reason": text},
                    )
            elif decision == MERGED:
                if p.id == target:
                    continue  # a cluster merged into one of its own members: that one stays
                transition_in(tx, me, p, MERGED, reason, merge_into=target)
            else:
                transition_in(tx, me, p, decision, reason)
        tx.meetings.add_minutes(
            item.id, decision, text, yes, no, abstain, merge_into_id=target, recorded_by=me.id
        )
        _audit(tx, me, "meeting.minutes", m.id, {"item": item.position, "decision": decision, "proposals": members, "merge_into": target, "votes": [yes, no, abstain]})
        if m.status == PUBLISHED and len(tx.meetings.minutes(m.id)) == len(tx.meetings.items(m.id)):
            tx.meetings.update(m.id, status=HELD, held_at=datetime.now(UTC))
        return _view(tx, me, m)


# ---------------------------------------------------------------- presentation


@dataclass(frozen=True)
class PresentationItem:
    """One agenda item as the presentation (and the packet) shows it: i of n, with its map.

    ``members`` holds the item's proposals for the map (EPSG:4326: ``id,
    title, category, status, geometry``); ``extent`` is the lon/lat box
    around them with :data:`ITEM_PAD_M` metres (min lon, min lat, max lon,
    max lat); ``geometry`` is their union. ``facts`` are (label, value)
    pairs in the requested language. Nothing names a person.
    """

    number: int
    total: int
    item_id: int
    kind: str
    title: str
    heading: str  # "안건 1. ..." / "Item 1. ..."
    category: str  # the most frequent category
    categories: tuple[str, ...]
    statuses: tuple[str, ...]
    proposal_ids: tuple[int, ...]
    supports: int
    votes: int | None
    cost_krw: int | None  # the residents' estimates (sum of known)
    official_cost_krw: int | None  # the planners' official costs (sum of known)
    district_codes: tuple[str, ...]
    dongs: tuple[str, ...]
    body: str  # the proposal's description; for a cluster, its proposals one per line
    geometry: BaseGeometry
    extent: tuple[float, float, float, float]
    members: gpd.GeoDataFrame
    facts: list[tuple[str, Any]] = field(default_factory=list)
    minutes: MinutesView | None = None


def _sum_known(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def presentation_items(store: Store, viewer: Actor | int | None, meeting_id: int, lang: str = "ko") -> list[PresentationItem]:
    """The meeting's agenda items one by one, each with its facts and map extent (see :class:`PresentationItem`).

    The same visibility as :func:`meeting_view` (drafts for those who may prepare them).
    """
    from planning.categories import categories

    view = meeting_view(store, viewer, meeting_id)
    labels = {c.code: c.label(lang) for c in categories()}
    with store.transaction() as tx:
        bodies = {pid: text[1] for pid, text in tx.analysis.proposal_texts(view.proposal_ids).items()}
    return [_presentation(item, i, len(view.items), labels, bodies, lang) for i, item in enumerate(view.items, start=1)]


def _presentation(
    item: AgendaItemView, number: int, total: int, labels: Mapping[str, str], bodies: Mapping[int, str], lang: str
) -> PresentationItem:
    ps = sorted(item.proposals, key=lambda p: p.id)
    counts: dict[str, int] = {}
    for p in ps:
        counts[p.category] = counts.get(p.category, 0) + 1
    cats = tuple(sorted(counts, key=lambda c: (-counts[c], c)))
    statuses = tuple(dict.fromkeys(p.status for p in ps))
    dongs = tuple(dict.fromkeys(p.district_name for p in ps if p.district_name))
    codes = tuple(dict.fromkeys(p.district_code for p in ps if p.district_code))
    votes = None if any(p.votes is None for p in ps) else sum(p.votes or 0 for p in ps)
    estimate = _sum_known(p.cost_krw for p in ps)
    official = _sum_known(p.official_cost_krw for p in ps)
    members = gpd.GeoDataFrame(
        {
            "id": pd.array([p.id for p in ps], dtype="int64"),
            "title": [p.title for p in ps],
            "category": [p.category for p in ps],
            "status": [p.status for p in ps],
        },
        geometry=gpd.GeoSeries([p.geometry for p in ps], crs=STORAGE_CRS),
        crs=STORAGE_CRS,
    )
    if item.kind == "proposal":
        body = bodies.get(ps[0].id, "")
    else:
        body = "\n".join(f"#{p.id} {p.title}" for p in ps)
    facts: list[tuple[str, Any]] = [
        (t("meeting.fact.category", lang), ", ".join(labels.get(c, c) for c in cats)),
        (t("meeting.fact.status", lang), ", ".join(t(f"status.{s}", lang) for s in statuses)),
        (t("meeting.fact.dongs", lang), ", ".join(dongs)),
        (t("meeting.fact.proposal_ids", lang), ", ".join(f"#{p.id}" for p in ps)),
        (t("meeting.fact.supports", lang), sum(p.supports for p in ps)),
    ]
    if votes is not None:
        facts.append((t("meeting.fact.votes", lang), votes))
    facts.append((t("meeting.fact.cost", lang), estimate if estimate is not None else "—"))
    if official is not None:
        facts.append((t("meeting.fact.official_cost", lang), official))
    if item.minutes is not None:
        mins = item.minutes
        decided = t(f"meeting.decision.{mins.decision}", lang)
        if mins.merge_into_id is not None:
            decided += f" → #{mins.merge_into_id}"
        facts.append((t("meeting.fact.decision", lang), decided))
        facts.append((t("meeting.fact.vote_count", lang), t("meeting.minutes.votes", lang, yes=f"{mins.votes_for:,}", no=f"{mins.votes_against:,}", abstain=f"{mins.votes_abstain:,}")))
        if mins.note:
            facts.append((t("meeting.fact.note", lang), mins.note))
    title = item.title if item.kind == "proposal" else t("meeting.item.cluster", lang, title=item.title)
    geoms = [p.geometry for p in ps]
    extent = _extent(geoms) or (0.0, 0.0, 0.0, 0.0)
    return PresentationItem(
        number=number,
        total=total,
        item_id=item.id,
        kind=item.kind,
        title=title,
        heading=t("meeting.item", lang, n=number, title=title),
        category=cats[0] if cats else "",
        categories=cats,
        statuses=statuses,
        proposal_ids=tuple(p.id for p in ps),
        supports=sum(p.supports for p in ps),
        votes=votes,
        cost_krw=estimate,
        official_cost_krw=official,
        district_codes=codes,
        dongs=dongs,
        body=body,
        geometry=shapely.union_all(np.array(geoms, dtype=object)),
        extent=extent,
        members=members,
        facts=facts,
        minutes=item.minutes,
    )


def shortlist_items(store: Store, hub_code: str, lang: str = "ko") -> list[PresentationItem]:
    """The hub area's shortlisted public proposals as presentation items (most supports first): the packet's agenda when no meeting is planned."""
    from planning.categories import categories

    with store.transaction() as tx:
        _hub(tx, hub_code)
        codes = catchment_of_in(tx, hub_code)
    frame = _candidate_frame(store, hub_code, codes)
    anon = Actor.anonymous()
    with store.transaction() as tx:
        facts = _agenda_proposals(tx, frame["id"].tolist(), anon)
        bodies = {pid: text[1] for pid, text in tx.analysis.proposal_texts(list(facts)).items()}
    ordered = sorted(facts.values(), key=lambda p: (-p.supports, p.id))
    labels = {c.code: c.label(lang) for c in categories()}
    items = [AgendaItemView(id=0, position=i, kind="proposal", title=p.title, proposals=[p]) for i, p in enumerate(ordered, start=1)]
    return [_presentation(item, i, len(items), labels, bodies, lang) for i, item in enumerate(items, start=1)]


def packet_agenda(
    store: Store,
    hub_code: str,
    meeting_id: int | None = None,
    lang: str = "ko",
    *,
    viewer: Actor | int | None = None,
    now: datetime | None = None,
) -> tuple[MeetingInfo | None, list[PresentationItem]]:
    """The meeting and agenda a hub's packet is made of, with public content only.

    ``meeting_id`` given: that meeting, which must be the hub's. Without a
    ``viewer`` (the operators' command line) any meeting, drafts included;
    with one, only a meeting the viewer may see (:func:`meeting_view`).
    Either way the items hold only what the public sees (hidden proposals
    are left out). ``meeting_id`` None: the hub's next published meeting, or
    when there is none ``(None, shortlisted proposals of the hub's area)``
    (:func:`shortlist_items`).

    Raises
    ------
    InvalidInput
        ``no_such_hub``; ``no_such_meeting`` (also for another hub's meeting).
    """
    from planning.categories import categories

    with store.transaction() as tx:
        _hub(tx, hub_code)
    if meeting_id is None:
        upcoming = next_published_meeting(store, hub_code, now=now)
        if upcoming is None:
            return None, shortlist_items(store, hub_code, lang)
        meeting_id = upcoming.id
    anon = Actor.anonymous()
    with store.transaction() as tx:
        if viewer is not None:
            m = _meeting(tx, actor_in(tx, viewer), meeting_id)
        elif isinstance(meeting_id, (int, np.integer)) and not isinstance(meeting_id, bool):
            m = tx.meetings.get(int(meeting_id))
        else:
            m = None
        if m is None or m.hub_code != hub_code:
            raise no_such_meeting(meeting_id)
        view = _view(tx, anon, m)
        bodies = {pid: text[1] for pid, text in tx.analysis.proposal_texts(view.proposal_ids).items()}
    labels = {c.code: c.label(lang) for c in categories()}
    items = [_presentation(item, i, len(view.items), labels, bodies, lang) for i, item in enumerate(view.items, start=1)]
    return view.meeting, items
