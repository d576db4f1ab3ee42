"""Repositories: every query and write the rest of the project needs.

A :class:`UnitOfWork` is what ``Store.transaction()`` yields; it holds one
session and exposes one repository per table, so code outside ``store/``
never touches SQLAlchemy. Returned objects are the ORM models of
:mod:`store.models`; they stay readable after the transaction ends
(``expire_on_commit=False``), but changing them then writes nothing.
"""
from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, ColumnElement, Select, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from geo.crs import METRIC_EPSG, STORAGE_EPSG
from geo.grid import lonlat_grid_sums
from store.analysis import Analysis
from store.errors import AlreadySupported, NotFound, UsernameTaken
from store.models import (
    BUDGET_PHASES,
    FLAG_RESOLUTIONS,
    INITIAL_STATUS,
    MEETING_DECISIONS,
    MEETING_KINDS,
    MEETING_STATUSES,
    PROPOSAL_KINDS,
    ROLES,
    AgendaItem,
    AllocationResult,
    Assembly,
    AssemblyEndorsement,
    AuditEntry,
    BudgetCycle,
    Centre,
    Comment,
    District,
    Flag,
    HubCatchment,
    Meeting,
    Minutes,
    Notification,
    Proposal,
    Quota,
    Resident,
    Review,
    SignInAttempt,
    StatusChange,
    Support,
    Village,
    Vote,
)
from store.types import utcnow

_BBOX_COLUMNS = ("minx", "miny", "maxx", "maxy")
_PROPOSAL_REQUIRED = ("title", "body", "category", "kind", "author_id", "geometry")
# What Proposals.update may change: not the key, author or creation time;
# not the status (set_status records history); not the bbox (derived).
_PROPOSAL_UPDATABLE = frozenset(
    {
        "title",
        "body",
        "category",
        "kind",
        "cost_krw",
        "geometry",
        "hub_code",
        "hub_distance_m",
        "district_code",
        "legal_dong_code",
        "legal_dong_name",
        "district_shares",
        "is_demo",
        "hidden",
        "photo_url",
        "updated_at",
    }
)
_VILLAGE_UPDATABLE = frozenset({"name", "district_code", "geometry", "is_demo"})

#: A bounding box in lon/lat degrees: (west, south, east, north).
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class ProposalSummary:
    """One proposal as the map and lists show it, with its counts.

    ``supports`` counts every support; ``comments`` counts the comments the
    public sees, replies included (hidden comments and the replies under a
    hidden comment are not counted).
    """

    id: int
    title: str
    category: str
    status: str
    kind: str
    cost_krw: int | None
    is_demo: bool
    district_code: str | None
    hub_code: str | None
    geometry: BaseGeometry
    supports: int
    comments: int
    hidden: bool
    author_id: int
    created_at: datetime
    updated_at: datetime
    legal_dong_code: str | None = None
    legal_dong_name: str | None = None


def _check_code(code: Any, digits: int, what: str) -> str:
    # Codes are strings of digits; an int would lose leading zeros and
    # PostgreSQL would refuse it for a VARCHAR column (SQLite would not).
    if not isinstance(code, str) or not re.fullmatch(rf"\d{{{digits}}}", code):
        raise ValueError(f"{what} must be a string of {digits} digits, got {code!r}")
    return code


class _Repository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _insert_unique(self, obj: Any, already_there: Callable[[], bool], refusal: Callable[[], Exception]) -> None:
        """Insert ``obj`` inside a SAVEPOINT, turning a unique-key clash into ``refusal``.

        Rolling back only the savepoint keeps everything else the transaction
        did. ``already_there`` tells a unique clash from other integrity errors.
        """
        try:
            with self._session.begin_nested():
                self._session.add(obj)
        except IntegrityError as err:
            if already_there():
                raise refusal() from err
            raise


class Residents(_Repository):
    """Accounts: residents, planners, centre staff, admins."""

    def add(
        self,
        username: str,
        display_name: str,
        role: str = "resident",
        password_hash: str | None = None,
        home_district_code: str | None = None,
        hub_code: str | None = None,
        email: str | None = None,
        is_demo: bool = False,
    ) -> Resident:
        """Create an account.

        Raises
        ------
        UsernameTaken
            When ``username`` is in use (the transaction stays usable).
        ValueError
            For a role not in :data:`store.models.ROLES`.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        resident = Resident(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=password_hash,
            home_district_code=home_district_code,
            hub_code=hub_code,
            email=email,
            is_demo=is_demo,
            created_at=utcnow(),
        )
        self._insert_unique(
            resident,
            already_there=lambda: self.by_username(username) is not None,
            refusal=lambda: UsernameTaken(username),
        )
        return resident

    def get(self, resident_id: int) -> Resident | None:
        """The account with this id, or None."""
        return self._session.get(Resident, resident_id)

    def by_username(self, username: str) -> Resident | None:
        """The account with this username (exact match), or None."""
        return self._session.scalars(select(Resident).where(Resident.username == username)).one_or_none()

    def list(self, role: str | None = None) -> builtins.list[Resident]:
        """All accounts (of one ``role`` if given), by id."""
        stmt = select(Resident).order_by(Resident.id)
        if role is not None:
            stmt = stmt.where(Resident.role == role)
        return builtins.list(self._session.scalars(stmt))

    def display_names(self, resident_ids: Iterable[int]) -> dict[int, str]:
        """``{id: display_name}`` of the given accounts, in one query (unknown ids are left out)."""
        ids = {int(i) for i in resident_ids}
        if not ids:
            return {}
        stmt = select(Resident.id, Resident.display_name).where(Resident.id.in_(ids))
        return {int(i): str(name) for i, name in self._session.execute(stmt)}

    def set_password_hash(self, resident_id: int, password_hash: str) -> Resident:
        """Replace an account's password hash (a rehash with newer parameters)."""
        resident = self._session.get(Resident, resident_id)
        if resident is None:
            raise NotFound("resident", resident_id)
        resident.password_hash = password_hash
        self._session.flush()
        return resident

    def erase_personal_data(self, resident_id: int, display_name: str, at: datetime) -> Resident:
        """Clear an account's personal fields and mark it deleted; the row (and what points to it) stays.

        The username becomes ``deleted:<id>`` (a colon cannot occur in local
        usernames, and an OIDC subject is gone with it); the password hash,
        e-mail, home dong and hub are cleared; the role drops to ``resident``.
        """
        resident = self._session.get(Resident, resident_id)
        if resident is None:
            raise NotFound("resident", resident_id)
        resident.username = f"deleted:{resident_id}"
        resident.display_name = display_name
        resident.password_hash = None
        resident.email = None
        resident.home_district_code = None
        resident.hub_code = None
        resident.role = "resident"
        resident.deleted_at = at
        self._session.flush()
        return resident


class _ByCode(_Repository):
    model: type[District | Centre]
    entity: str

    def _upsert(self, rows: Iterable[Mapping[str, Any]], extra: Callable[[dict[str, Any]], None] | None = None) -> int:
        columns = set(self.model.__table__.columns.keys())
        written = 0
        for row in rows:
            values = dict(row)
            unknown = set(values) - columns
            if unknown:
                raise ValueError(f"unknown {self.model.__tablename__} columns: {sorted(unknown)}")
            code = _check_code(values.get("code"), 10, "code")
            if extra is not None:
                extra(values)
            existing = self._session.get(self.model, code)
            if existing is None:
                self._session.add(self.model(**values))
            else:
                for key, value in values.items():
                    setattr(existing, key, value)
            written += 1
        self._session.flush()
        return written

    def _require(self, code: str) -> Any:
        found = self._session.get(self.model, code)
        if found is None:
            raise NotFound(self.entity, code)
        return found


class Districts(_ByCode):
    """Budget districts (administrative dongs) and their polygons."""

    model = District
    entity = "district"

    def upsert(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or update districts by ``code``; returns the number of rows written.

        Each row is a dict of :class:`~store.models.District` columns;
        ``geometry`` is a shapely Polygon or MultiPolygon in lon/lat. Columns a
        row leaves out keep their stored value (their default for a new row);
        ``updated_at`` is set to now unless given.
        """

        def stamp(values: dict[str, Any]) -> None:
            values.setdefault("updated_at", utcnow())

        return self._upsert(rows, stamp)

    def list(self) -> builtins.list[District]:
        """All districts, by code."""
        return builtins.list(self._session.scalars(select(District).order_by(District.code)))

    def get(self, code: str) -> District | None:
        """The district with this code, or None."""
        return self._session.get(District, code)

    def names(self) -> dict[str, str]:
        """``{code: name}`` of every district, without loading polygons."""
        return {str(c): str(n) for c, n in self._session.execute(select(District.code, District.name).order_by(District.code))}

    def versions(self) -> tuple[tuple[str, str, str], ...]:
        """``(code, updated_at, source)`` of every district, without loading polygons (a cheap cache key)."""
        rows = self._session.execute(select(District.code, District.updated_at, District.source).order_by(District.code))
        return tuple((str(c), str(u), str(s)) for c, u, s in rows)

    def count(self) -> int:
        """How many districts are stored."""
        return int(self._session.scalar(select(func.count()).select_from(District)) or 0)


class Centres(_ByCode):
    """Community centres (one per administrative dong) and the hub designation."""

    model = Centre
    entity = "centre"

    def upsert(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or update centres by ``code``; returns the number of rows written.

        Each row is a dict of :class:`~store.models.Centre` columns;
        ``geometry`` is a shapely Point in lon/lat.
        """
        return self._upsert(rows)

    def list(self, hubs_only: bool = False) -> builtins.list[Centre]:
        """All centres (only hubs if ``hubs_only``), by code."""
        stmt = select(Centre).order_by(Centre.code)
        if hubs_only:
            stmt = stmt.where(Centre.is_hub.is_(True))
        return builtins.list(self._session.scalars(stmt))

    def get(self, code: str) -> Centre | None:
        """The centre with this code, or None."""
        return self._session.get(Centre, code)

    def set_hub(self, code: str, is_hub: bool) -> Centre:
        """Make the centre a hub or not; raises :class:`NotFound` for an unknown code."""
        centre: Centre = self._require(code)
        centre.is_hub = bool(is_hub)
        self._session.flush()
        return centre


class Proposals(_Repository):
    """Proposals, their viewport queries, status changes and demo data."""

    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _require(self, proposal_id: int) -> Proposal:
        proposal = self._session.get(Proposal, proposal_id)
        if proposal is None:
            raise NotFound("proposal", proposal_id)
        return proposal

    def add(self, **fields: Any) -> Proposal:
        """Store a new proposal and its first status-history entry.

        Parameters
        ----------
        **fields
            :class:`~store.models.Proposal` columns. Required: ``title``,
            ``body``, ``category``, ``kind`` (``area`` | ``individual``),
            ``author_id`` and ``geometry`` (shapely, lon/lat). ``status``
            defaults to ``submitted``. The bbox columns are derived from the
            geometry; if given they must equal its bounds.
            ``district_shares`` is JSON text, or a dict that is serialised.

        Raises
        ------
        NotFound
            When the author does not exist.
        TypeError, ValueError
            For a missing or unknown field, a bad kind, bbox or JSON.
        """
        missing = [name for name in _PROPOSAL_REQUIRED if fields.get(name) is None]
        if missing:
            raise TypeError(f"missing proposal fields: {missing}")
        if fields["kind"] not in PROPOSAL_KINDS:
            raise ValueError(f"kind must be one of {PROPOSAL_KINDS}, got {fields['kind']!r}")
        given_bbox = {name: fields.pop(name) for name in _BBOX_COLUMNS if name in fields}
        fields["district_shares"] = _shares_json(fields.get("district_shares"))
        if self._session.get(Resident, fields["author_id"]) is None:
            raise NotFound("resident", fields["author_id"])
        fields.setdefault("status", INITIAL_STATUS)
        fields.setdefault("created_at", utcnow())
        fields.setdefault("updated_at", fields["created_at"])

        proposal = Proposal(**fields)  # the geometry validator fills the bbox
        mismatched = {k: v for k, v in given_bbox.items() if v != getattr(proposal, k)}
        if mismatched:
            raise ValueError(f"bbox values {mismatched} differ from the geometry's bounds {proposal.geometry.bounds}")
        self._session.add(proposal)
        self._session.flush()  # assigns proposal.id
        self._session.add(
            StatusChange(
                proposal_id=proposal.id,
                from_status=None,
                to_status=proposal.status,
                changed_by=proposal.author_id,
                reason="",
                changed_at=proposal.created_at,
            )
        )
        self._session.flush()
        return proposal

    def get(self, proposal_id: int, for_update: bool = False) -> Proposal | None:
        """The proposal with this id (hidden or not), or None.

        With ``for_update`` the row is locked until the transaction ends
        (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite locks the whole
        database for a writer anyway), so a check of its status and the
        write that depends on it cannot interleave with another session's.
        """
        if for_update:
            return self._session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
        return self._session.get(Proposal, proposal_id)

    def update(self, proposal_id: int, **fields: Any) -> Proposal:
        """Change some columns of a proposal; ``updated_at`` is set to now unless given.

        Parameters
        ----------
        proposal_id : int
            The proposal.
        **fields
            Columns to change: ``title``, ``body``, ``category``, ``kind``,
            ``cost_krw``, ``geometry`` (the bbox columns follow it),
            ``hub_code``, ``hub_distance_m``, ``district_code``,
            ``legal_dong_code``, ``legal_dong_name``, ``district_shares``
            (dict or JSON text), ``photo_url``, ``is_demo``, ``hidden``,
            ``updated_at``. The status changes only through
            :meth:`set_status`, which records history.

        Raises
        ------
        NotFound
            For an unknown proposal.
        TypeError, ValueError
            For a field that cannot be changed here, a required field set
            to None, a bad kind, geometry or JSON.
        """
        not_updatable = set(fields) - _PROPOSAL_UPDATABLE
        if not_updatable:
            raise TypeError(f"these proposal fields cannot be changed with update(): {sorted(not_updatable)}")
        nulled = [name for name in _PROPOSAL_REQUIRED if name in fields and fields[name] is None]
        if nulled:
            raise TypeError(f"proposal fields cannot be None: {nulled}")
        if "kind" in fields and fields["kind"] not in PROPOSAL_KINDS:
            raise ValueError(f"kind must be one of {PROPOSAL_KINDS}, got {fields['kind']!r}")
        if "district_shares" in fields:
            fields["district_shares"] = _shares_json(fields["district_shares"])
        proposal = self._require(proposal_id)
        fields.setdefault("updated_at", utcnow())
        for name, value in fields.items():
            setattr(proposal, name, value)  # the geometry validator keeps the bbox in step
        self._session.flush()
        return proposal

    def by_author(self, author_id: int) -> builtins.list[Proposal]:
        """Every proposal of one author, hidden and withdrawn ones included, newest first."""
        stmt = select(Proposal).where(Proposal.author_id == author_id).order_by(Proposal.created_at.desc(), Proposal.id.desc())
        return builtins.list(self._session.scalars(stmt))

    def set_hidden(self, proposal_id: int, hidden: bool, reason: str | None = None, by: int | None = None) -> Proposal:
        """Hide a proposal from the public (moderation) or show it again; :class:`NotFound` if unknown.

        Hiding stores ``reason``, ``by`` (the moderator's id) and the time;
        showing it again clears them (the audit log keeps what happened).
        """
        proposal = self._require(proposal_id)
        _set_hidden(proposal, hidden, reason, by)
        self._session.flush()
        return proposal

    def set_merged_into(self, proposal_id: int, survivor_id: int | None) -> Proposal:
        """Record the proposal ``proposal_id`` was merged into (None clears it); the status is the workflow's, via :meth:`set_status`."""
        proposal = self._require(proposal_id)
        if survivor_id is not None:
            self._require(survivor_id)
        proposal.merged_into_id = survivor_id
        self._session.flush()
        return proposal

    def merged_into(self, survivor_id: int) -> builtins.list[int]:
        """Ids of the proposals merged into ``survivor_id``, ascending."""
        stmt = select(Proposal.id).where(Proposal.merged_into_id == survivor_id).order_by(Proposal.id)
        return [int(i) for i in self._session.scalars(stmt)]

    @staticmethod
    def _where(
        status: str | None, district_code: str | None, hub_code: str | None, include_hidden: bool
    ) -> builtins.list[ColumnElement[bool]]:
        conditions: builtins.list[ColumnElement[bool]] = []
        if status is not None:
            conditions.append(Proposal.status == status)
        if district_code is not None:
            conditions.append(Proposal.district_code == district_code)
        if hub_code is not None:
            conditions.append(Proposal.hub_code == hub_code)
        if not include_hidden:
            conditions.append(Proposal.hidden.is_(False))
        return conditions

    def list(
        self,
        status: str | None = None,
        district_code: str | None = None,
        hub_code: str | None = None,
        include_hidden: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Proposal]:
        """Proposals matching every filter given, newest first.

        Hidden proposals are left out unless ``include_hidden``; ``limit`` and
        ``offset`` page through the result.
        """
        stmt: Select[Proposal] = (
            select(Proposal)
            .where(*self._where(status, district_code, hub_code, include_hidden))
            .order_by(Proposal.created_at.desc(), Proposal.id.desc())
            .offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return builtins.list(self._session.scalars(stmt))

    def count(
        self,
        status: str | None = None,
        district_code: str | None = None,
        hub_code: str | None = None,
        include_hidden: bool = False,
    ) -> int:
        """How many proposals match the filters (same meaning as in :meth:`list`)."""
        stmt = select(func.count()).select_from(Proposal).where(*self._where(status, district_code, hub_code, include_hidden))
        return int(self._session.scalar(stmt) or 0)

    def in_bbox(
        self, minx: float, miny: float, maxx: float, maxy: float, include_hidden: bool = False
    ) -> builtins.list[Proposal]:
        """Proposals whose bounding box overlaps the lon/lat box, by id.

        Parameters
        ----------
        minx, miny, maxx, maxy : float
            The viewport in degrees (west, south, east, north), edges included.

        Notes
        -----
        This is a bounding-box test, what a map viewport needs: a line whose
        bbox overlaps the viewport is returned even if the line itself passes
        outside it. PostGIS answers with ``geometry && ST_MakeEnvelope(...)``
        through the GiST index, then re-checks the exact bbox columns,
        because the index compares float4-rounded boxes and would let in
        geometries a few centimetres outside. SQLite uses the bbox columns
        alone. Both engines return the same proposals.
        """
        stmt = select(Proposal).where(self._bbox_condition(minx, miny, maxx, maxy)).order_by(Proposal.id)
        if not include_hidden:
            stmt = stmt.where(Proposal.hidden.is_(False))
        return builtins.list(self._session.scalars(stmt))

    def _bbox_condition(self, minx: float, miny: float, maxx: float, maxy: float) -> ColumnElement[bool]:
        """Bbox overlap with the lon/lat box: GiST ``&&`` plus exact columns on PostGIS, columns on SQLite."""
        if minx > maxx or miny > maxy:
            raise ValueError(f"empty box: ({minx}, {miny}, {maxx}, {maxy})")
        exact: builtins.list[ColumnElement[bool]] = [
            Proposal.minx <= maxx,
            Proposal.maxx >= minx,
            Proposal.miny <= maxy,
            Proposal.maxy >= miny,
        ]
        if self._dialect() == "postgresql":
            envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, STORAGE_EPSG)
            exact.insert(0, Proposal.geometry.op("&&", return_type=Boolean)(envelope))
        return and_(*exact)

    def _public_filter(self, stmt: Select, bbox: BBox | None, include_hidden: bool, exclude_statuses: Collection[str]) -> Select:
        if bbox is not None:
            stmt = stmt.where(self._bbox_condition(*bbox))
        if not include_hidden:
            stmt = stmt.where(Proposal.hidden.is_(False))
        if exclude_statuses:
            stmt = stmt.where(Proposal.status.not_in(builtins.list(exclude_statuses)))
        return stmt

    def count_in(self, bbox: BBox | None = None, include_hidden: bool = False, *, exclude_statuses: Collection[str] = ()) -> int:
        """How many proposals :meth:`summaries` would return with the same filters (one ``count(*)``)."""
        stmt = self._public_filter(select(func.count()).select_from(Proposal), bbox, include_hidden, exclude_statuses)
        return int(self._session.scalar(stmt) or 0)

    def grid_cells(
        self,
        cell_m: float,
        bbox: BBox | None = None,
        include_hidden: bool = False,
        *,
        exclude_statuses: Collection[str] = (),
    ) -> Any:
        """Proposals counted on the EPSG:5179 grid of side ``cell_m`` (:mod:`geo.grid`), at their representative points.

        Each proposal counts once at its point on surface (``ST_PointOnSurface``,
        GEOS's ``point_on_surface``), filtered as :meth:`summaries` filters.
        On PostGIS the database projects and groups (only one row per
        non-empty cell comes back); on SQLite the geometries are read and
        :func:`geo.grid.lonlat_grid_sums` groups them.

        Returns
        -------
        ndarray of shape (k, 5)
            ``i, j, count, sum_x, sum_y`` per non-empty cell, sorted by ``(i, j)``.
        """
        if not cell_m > 0:
            raise ValueError("cell_m must be positive")
        if self._dialect() == "postgresql":
            point = func.ST_Transform(func.ST_PointOnSurface(Proposal.geometry), METRIC_EPSG)
            inner = self._public_filter(
                select(func.ST_X(point).label("x"), func.ST_Y(point).label("y")), bbox, include_hidden, exclude_statuses
            ).subquery()
            i = func.floor(inner.c.x / float(cell_m))
            j = func.floor(inner.c.y / float(cell_m))
            stmt = (
                select(i.label("i"), j.label("j"), func.count(), func.sum(inner.c.x), func.sum(inner.c.y))
                .group_by(i, j)
                .order_by(i, j)
            )
            rows = self._session.execute(stmt).all()
            return np.array([[float(v) for v in r] for r in rows]).reshape(-1, 5)
        geoms = self._session.scalars(self._public_filter(select(Proposal.geometry), bbox, include_hidden, exclude_statuses)).all()
        geoms = np.asarray([g for g in geoms if g is not None and not g.is_empty], dtype=object)
        if not len(geoms):
            return np.zeros((0, 5))
        reps = shapely.point_on_surface(geoms)
        return lonlat_grid_sums(shapely.get_x(reps), shapely.get_y(reps), cell_m)

    def summaries(
        self,
        bbox: BBox | None = None,
        include_hidden: bool = False,
        limit: int | None = None,
        *,
        exclude_statuses: Collection[str] = (),
        author_id: int | None = None,
        ids: Collection[int] | None = None,
        area: tuple[str, Collection[str]] | None = None,
    ) -> builtins.list[ProposalSummary]:
        """Proposals for the map with their support and comment counts, in one query.

        Parameters
        ----------
        bbox : (west, south, east, north), optional
            Only proposals whose bbox overlaps this lon/lat box, edges
            included (the same test, and on PostGIS the same GiST index, as
            :meth:`in_bbox`).
        include_hidden : bool
            Also hidden (moderated) proposals.
        limit : int, optional
            At most this many, newest first.
        exclude_statuses : collection of str
            Leave out proposals in these statuses (the public map leaves out
            ``withdrawn``).
        author_id : int, optional
            Only this author's proposals.
        ids : collection of int, optional
            Only these proposals.
        area : (hub code, district codes), optional
            Only proposals linked to this hub or lying in one of these
            budget districts (a hub's area).

        Returns
        -------
        list of ProposalSummary
            Newest first (then by id, descending). The counts are computed by
            the database in the same statement (correlated subqueries on the
            indexed ``proposal_id`` columns), not one query per proposal.
        """
        supports = select(func.count()).where(Support.proposal_id == Proposal.id).correlate(Proposal).scalar_subquery()
        comments = (
            select(func.count())
            .select_from(Comment)
            .where(Comment.proposal_id == Proposal.id, _comment_shown())
            .correlate(Proposal)
            .scalar_subquery()
        )
        stmt = select(
            Proposal.id,
            Proposal.title,
            Proposal.category,
            Proposal.status,
            Proposal.kind,
            Proposal.cost_krw,
            Proposal.is_demo,
            Proposal.district_code,
            Proposal.hub_code,
            Proposal.geometry,
            supports.label("supports"),
            comments.label("comments"),
            Proposal.hidden,
            Proposal.author_id,
            Proposal.created_at,
            Proposal.updated_at,
            Proposal.legal_dong_code,
            Proposal.legal_dong_name,
        ).order_by(Proposal.created_at.desc(), Proposal.id.desc())
        if bbox is not None:
            stmt = stmt.where(self._bbox_condition(*bbox))
        if not include_hidden:
            stmt = stmt.where(Proposal.hidden.is_(False))
        if exclude_statuses:
            stmt = stmt.where(Proposal.status.not_in(builtins.list(exclude_statuses)))
        if author_id is not None:
            stmt = stmt.where(Proposal.author_id == author_id)
        if ids is not None:
            stmt = stmt.where(Proposal.id.in_(sorted({int(i) for i in ids})))
        if area is not None:
            hub, districts = area
            stmt = stmt.where((Proposal.hub_code == hub) | Proposal.district_code.in_(sorted(set(districts))))
        if limit is not None:
            stmt = stmt.limit(limit)
        return [
            ProposalSummary(
                id=int(r.id),
                title=r.title,
                category=r.category,
                status=r.status,
                kind=r.kind,
                cost_krw=None if r.cost_krw is None else int(r.cost_krw),
                is_demo=bool(r.is_demo),
                district_code=r.district_code,
                hub_code=r.hub_code,
                geometry=r.geometry,
                supports=int(r.supports),
                comments=int(r.comments),
                hidden=bool(r.hidden),
                author_id=int(r.author_id),
                created_at=r.created_at,
                updated_at=r.updated_at,
                legal_dong_code=r.legal_dong_code,
                legal_dong_name=r.legal_dong_name,
            )
            for r in self._session.execute(stmt)
        ]

    def set_status(self, proposal_id: int, to_status: str, changed_by: int | None, reason: str = "") -> StatusChange:
        """Change a proposal's status and record the change in its history.

        Whether the change is allowed is the workflow's decision
        (``planning``); this only writes it. Raises :class:`NotFound` for an
        unknown proposal.
        """
        proposal = self._require(proposal_id)
        now = utcnow()
        change = StatusChange(
            proposal_id=proposal.id,
            from_status=proposal.status,
            to_status=to_status,
            changed_by=changed_by,
            reason=reason,
            changed_at=now,
        )
        proposal.status = to_status
        proposal.updated_at = now
        self._session.add(change)
        self._session.flush()
        return change

    def count_demo(self) -> int:
        """How many demo proposals are stored."""
        return int(self._session.scalar(select(func.count()).select_from(Proposal).where(Proposal.is_demo.is_(True))) or 0)

    def delete_demo(self) -> int:
        """Delete the demo proposals with their comments, supports, history, flags and notifications, and every demo comment.

        Returns the number of proposals deleted. Demo accounts stay.
        """
        demo_ids = select(Proposal.id).where(Proposal.is_demo.is_(True)).scalar_subquery()
        # Replies to a comment about to go (a real reply to a demo comment)
        # become top-level comments rather than block the delete.
        doomed = (
            select(Comment.id).where((Comment.proposal_id.in_(demo_ids)) | (Comment.is_demo.is_(True))).scalar_subquery()
        )
        self._session.execute(
            update(Comment).where(Comment.parent_id.in_(doomed)).values(parent_id=None),
            execution_options={"synchronize_session": "fetch"},
        )
        # Flags and notifications about what goes, go too; a real proposal
        # merged into a demo one keeps its status but loses the link.
        for note in (Flag, Notification):
            self._session.execute(
                delete(note).where(note.proposal_id.in_(demo_ids) | note.comment_id.in_(doomed)),
                execution_options={"synchronize_session": "fetch"},
            )
        self._session.execute(
            update(Proposal).where(Proposal.merged_into_id.in_(demo_ids), Proposal.is_demo.is_(False)).values(merged_into_id=None),
            execution_options={"synchronize_session": "fetch"},
        )
        # Meeting minutes keep their decision but lose a link to a demo
        # proposal; agenda items of demo proposals go, with their minutes.
        self._session.execute(
            update(Minutes).where(Minutes.merge_into_id.in_(demo_ids)).values(merge_into_id=None),
            execution_options={"synchronize_session": "fetch"},
        )
        demo_items = select(AgendaItem.id).where(AgendaItem.proposal_id.in_(demo_ids)).scalar_subquery()
        self._session.execute(delete(Minutes).where(Minutes.item_id.in_(demo_items)), execution_options={"synchronize_session": "fetch"})
        self._session.execute(
            delete(AgendaItem).where(AgendaItem.proposal_id.in_(demo_ids)), execution_options={"synchronize_session": "fetch"}
        )
        for child in (Support, Comment, StatusChange):
            self._session.execute(
                delete(child).where(child.proposal_id.in_(demo_ids)), execution_options={"synchronize_session": "fetch"}
            )
        self._session.execute(delete(Comment).where(Comment.is_demo.is_(True)), execution_options={"synchronize_session": "fetch"})
        result = self._session.execute(
            delete(Proposal).where(Proposal.is_demo.is_(True)), execution_options={"synchronize_session": "fetch"}
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _shares_json(shares: Any) -> str | None:
    """District shares as canonical JSON text; a dict is serialised, text is checked."""
    if shares is None:
        return None
    if isinstance(shares, str):
        try:
            parsed = json.loads(shares)
        except json.JSONDecodeError as err:
            raise ValueError(f"district_shares is not JSON: {err}") from err
    else:
        parsed = shares
    if not isinstance(parsed, Mapping):
        # A value problem (JSON of the wrong shape), hence ValueError.
        raise ValueError("district_shares must be a JSON object {district code: share}")  # noqa: TRY004
    return json.dumps({str(k): float(v) for k, v in parsed.items()}, ensure_ascii=False, sort_keys=True)


def _comment_shown() -> ColumnElement[bool]:
    """A comment the public sees: not hidden, and not a reply under a hidden comment."""
    parent = aliased(Comment)
    hidden_parent = select(parent.id).where(parent.id == Comment.parent_id, parent.hidden.is_(True)).exists()
    return and_(Comment.hidden.is_(False), ~hidden_parent)


class Comments(_Repository):
    """Comments on proposals."""

    def add(self, proposal_id: int, author_id: int, body: str, is_demo: bool = False, parent_id: int | None = None) -> Comment:
        """Add a comment, or a reply when ``parent_id`` is given.

        Threads are one level deep: a reply to a reply is attached to the
        top-level comment that reply belongs to.

        Raises
        ------
        NotFound
            For an unknown proposal, author or parent comment.
        ValueError
            When the parent comment is on another proposal.
        """
        if self._session.get(Proposal, proposal_id) is None:
            raise NotFound("proposal", proposal_id)
        if self._session.get(Resident, author_id) is None:
            raise NotFound("resident", author_id)
        if parent_id is not None:
            parent = self._session.get(Comment, parent_id)
            if parent is None:
                raise NotFound("comment", parent_id)
            if parent.proposal_id != proposal_id:
                raise ValueError(f"comment {parent_id} is on proposal {parent.proposal_id}, not {proposal_id}")
            parent_id = parent.parent_id if parent.parent_id is not None else parent.id
        comment = Comment(
            proposal_id=proposal_id,
            author_id=author_id,
            body=body,
            is_demo=is_demo,
            hidden=False,
            created_at=utcnow(),
            parent_id=parent_id,
        )
        self._session.add(comment)
        self._session.flush()
        return comment

    def get(self, comment_id: int) -> Comment | None:
        """The comment with this id (hidden or not), or None."""
        return self._session.get(Comment, comment_id)

    def set_hidden(self, comment_id: int, hidden: bool, reason: str | None = None, by: int | None = None) -> Comment:
        """Hide a comment from the public (moderation) or show it again; :class:`NotFound` if unknown.

        As :meth:`Proposals.set_hidden`: hiding stores the reason, who and when.
        """
        comment = self._session.get(Comment, comment_id)
        if comment is None:
            raise NotFound("comment", comment_id)
        _set_hidden(comment, hidden, reason, by)
        self._session.flush()
        return comment

    def move(self, from_proposal_id: int, to_proposal_id: int) -> int:
        """Move every comment (and reply) of one proposal to another; returns how many moved.

        Replies keep their parents, which move with them.
        """
        result = self._session.execute(
            update(Comment).where(Comment.proposal_id == from_proposal_id).values(proposal_id=to_proposal_id),
            execution_options={"synchronize_session": "fetch"},
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def list_for(self, proposal_id: int, include_hidden: bool = False) -> builtins.list[Comment]:
        """The comments on a proposal, oldest first.

        Without ``include_hidden``: the ones the public sees (not hidden
        comments, nor the replies under a hidden comment).
        """
        stmt = select(Comment).where(Comment.proposal_id == proposal_id).order_by(Comment.created_at, Comment.id)
        if not include_hidden:
            stmt = stmt.where(_comment_shown())
        return builtins.list(self._session.scalars(stmt))

    def by_author(self, author_id: int) -> builtins.list[Comment]:
        """Every comment one person wrote (hidden ones too), oldest first."""
        stmt = select(Comment).where(Comment.author_id == author_id).order_by(Comment.created_at, Comment.id)
        return builtins.list(self._session.scalars(stmt))


class Supports(_Repository):
    """Residents' supports for proposals (one per resident and proposal)."""

    def _find(self, proposal_id: int, resident_id: int) -> Support | None:
        stmt = select(Support).where(Support.proposal_id == proposal_id, Support.resident_id == resident_id)
        return self._session.scalars(stmt).one_or_none()

    def by_resident(self, resident_id: int) -> builtins.list[Support]:
        """Every support one person gave, oldest first."""
        stmt = select(Support).where(Support.resident_id == resident_id).order_by(Support.created_at, Support.id)
        return builtins.list(self._session.scalars(stmt))

    def add(self, proposal_id: int, resident_id: int) -> Support:
        """Record a resident's support.

        Raises
        ------
        AlreadySupported
            When this resident already supports the proposal. Only the
            attempted row is rolled back (SAVEPOINT): earlier work in the
            transaction stays, and the transaction can go on.
        NotFound
            For an unknown proposal or resident.
        """
        if self._session.get(Proposal, proposal_id) is None:
            raise NotFound("proposal", proposal_id)
        if self._session.get(Resident, resident_id) is None:
            raise NotFound("resident", resident_id)
        support = Support(proposal_id=proposal_id, resident_id=resident_id, created_at=utcnow())
        # No check-then-insert: the unique constraint decides, so two
        # sessions racing for the same support cannot both succeed.
        self._insert_unique(
            support,
            already_there=lambda: self._find(proposal_id, resident_id) is not None,
            refusal=lambda: AlreadySupported(proposal_id, resident_id),
        )
        return support

    def remove(self, proposal_id: int, resident_id: int) -> bool:
        """Withdraw a support; True if there was one."""
        result = self._session.execute(
            delete(Support).where(Support.proposal_id == proposal_id, Support.resident_id == resident_id),
            execution_options={"synchronize_session": "fetch"},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def count_for(self, proposal_id: int) -> int:
        """How many residents support the proposal."""
        stmt = select(func.count()).select_from(Support).where(Support.proposal_id == proposal_id)
        return int(self._session.scalar(stmt) or 0)

    def has(self, proposal_id: int, resident_id: int) -> bool:
        """True when the resident supports the proposal."""
        return self._find(proposal_id, resident_id) is not None

    def move(self, from_proposal_id: int, to_proposal_id: int) -> tuple[int, int]:
        """Move the supports of one proposal to another: ``(moved, dropped)``.

        A resident who supports both keeps one support (the target's); their
        support of the source is dropped.
        """
        both = select(Support.resident_id).where(Support.proposal_id == to_proposal_id).scalar_subquery()
        dropped = self._session.execute(
            delete(Support).where(Support.proposal_id == from_proposal_id, Support.resident_id.in_(both)),
            execution_options={"synchronize_session": "fetch"},
        )
        moved = self._session.execute(
            update(Support).where(Support.proposal_id == from_proposal_id).values(proposal_id=to_proposal_id),
            execution_options={"synchronize_session": "fetch"},
        )
        return int(moved.rowcount or 0), int(dropped.rowcount or 0)  # type: ignore[attr-defined]

    def counts(self) -> dict[int, int]:
        """Support counts of every proposal that has at least one: ``{proposal_id: count}``."""
        stmt = select(Support.proposal_id, func.count()).group_by(Support.proposal_id)
        return {int(pid): int(n) for pid, n in self._session.execute(stmt)}


def _set_hidden(item: Proposal | Comment, hidden: bool, reason: str | None, by: int | None) -> None:
    item.hidden = bool(hidden)
    if hidden:
        item.hidden_reason = reason
        item.hidden_by = by
        item.hidden_at = utcnow()
    else:
        item.hidden_reason = None
        item.hidden_by = None
        item.hidden_at = None


class History(_Repository):
    """Status history of proposals."""

    def latest_reasons(self, proposal_ids: Iterable[int], to_status: str) -> dict[int, str]:
        """``{proposal_id: reason}`` of the latest change *into* ``to_status`` of each proposal (one query)."""
        ids = {int(i) for i in proposal_ids}
        if not ids:
            return {}
        stmt = (
            select(StatusChange.proposal_id, StatusChange.reason)
            .where(
                StatusChange.proposal_id.in_(ids),
                StatusChange.to_status == to_status,
                (StatusChange.from_status.is_(None)) | (StatusChange.from_status != to_status),
            )
            .order_by(StatusChange.changed_at, StatusChange.id)
        )
        return {int(pid): str(reason or "") for pid, reason in self._session.execute(stmt)}

    def list_for(self, proposal_id: int) -> builtins.list[StatusChange]:
        """A proposal's status changes, oldest first (the first has ``from_status`` None)."""
        stmt = (
            select(StatusChange)
            .where(StatusChange.proposal_id == proposal_id)
            .order_by(StatusChange.changed_at, StatusChange.id)
        )
        return builtins.list(self._session.scalars(stmt))


class Villages(_Repository):
    """Villages (마을): neighbourhood polygons drawn or imported by admins."""

    def _require(self, village_id: int) -> Village:
        village = self._session.get(Village, village_id)
        if village is None:
            raise NotFound("village", village_id)
        return village

    def add(
        self,
        name: str,
        district_code: str,
        geometry: BaseGeometry,
        created_by: int | None = None,
        is_demo: bool = False,
        created_at: datetime | None = None,
    ) -> Village:
        """Store a village; ``geometry`` is a shapely Polygon or MultiPolygon in lon/lat.

        Raises
        ------
        NotFound
            For an unknown district or creator.
        TypeError, ValueError
            For a geometry that is not a non-empty (Multi)Polygon, or a bad code.
        """
        _check_code(district_code, 10, "district_code")
        if self._session.get(District, district_code) is None:
            raise NotFound("district", district_code)
        if created_by is not None and self._session.get(Resident, created_by) is None:
            raise NotFound("resident", created_by)
        village = Village(
            name=name,
            district_code=district_code,
            geometry=geometry,
            created_by=created_by,
            is_demo=is_demo,
            created_at=created_at or utcnow(),
        )
        self._session.add(village)
        self._session.flush()
        return village

    def get(self, village_id: int) -> Village | None:
        """The village with this id, or None."""
        return self._session.get(Village, village_id)

    def list(self, district_code: str | None = None) -> builtins.list[Village]:
        """All villages (of one district if given), by name then id."""
        stmt = select(Village).order_by(Village.name, Village.id)
        if district_code is not None:
            stmt = stmt.where(Village.district_code == district_code)
        return builtins.list(self._session.scalars(stmt))

    def update(self, village_id: int, **fields: Any) -> Village:
        """Change ``name``, ``district_code``, ``geometry`` or ``is_demo``; :class:`NotFound` if unknown."""
        not_updatable = set(fields) - _VILLAGE_UPDATABLE
        if not_updatable:
            raise TypeError(f"these village fields cannot be changed with update(): {sorted(not_updatable)}")
        nulled = [name for name, value in fields.items() if value is None]
        if nulled:
            raise TypeError(f"village fields cannot be None: {nulled}")
        if "district_code" in fields:
            _check_code(fields["district_code"], 10, "district_code")
            if self._session.get(District, fields["district_code"]) is None:
                raise NotFound("district", fields["district_code"])
        village = self._require(village_id)
        for name, value in fields.items():
            setattr(village, name, value)
        self._session.flush()
        return village

    def delete(self, village_id: int) -> None:
        """Delete a village; :class:`NotFound` if unknown."""
        self._session.delete(self._require(village_id))
        self._session.flush()

    def delete_demo(self) -> int:
        """Delete the demo villages; returns how many."""
        result = self._session.execute(
            delete(Village).where(Village.is_demo.is_(True)), execution_options={"synchronize_session": "fetch"}
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]



# ---------------------------------------------------------------- budget cycle

_CYCLE_UPDATABLE = frozenset(
    {
        "phase",
        "total_krw",
        "base_per_district_krw",
        "population_share_bp",
        "rules_json",
        "endorsement_threshold_bp",
        "has_voting",
        "quotas_published_at",
    }
)
_REVIEW_FIELDS = frozenset(
    {
        "feasible",
        "official_cost_krw",
        "field_verified_on",
        "field_note",
        "field_photo_url",
        "construction",
        "passed",
        "reviewed_by",
        "reviewed_at",
    }
)


class Cycles(_Repository):
    """Participatory-budget cycles (one per fiscal year)."""

    def add(self, fiscal_year: int, created_by: int | None = None, **fields: Any) -> BudgetCycle:
        """Store a new cycle in its first phase; ``fields`` are :class:`BudgetCycle` columns.

        A second cycle for the same fiscal year fails with an ``IntegrityError``
        from the unique key (the service checks :meth:`by_year` first).
        """
        unknown = set(fields) - _CYCLE_UPDATABLE
        if unknown:
            raise TypeError(f"unknown budget_cycles fields: {sorted(unknown)}")
        fields.setdefault("phase", BUDGET_PHASES[0])
        cycle = BudgetCycle(fiscal_year=fiscal_year, created_by=created_by, created_at=utcnow(), **fields)
        self._session.add(cycle)
        self._session.flush()
        return cycle

    def get(self, cycle_id: int, for_update: bool = False, for_share: bool = False) -> BudgetCycle | None:
        """The cycle with this id, or None.

        ``for_update`` locks its row until the transaction ends (a phase
        change); ``for_share`` takes a shared lock: any number of residents
        acting in the current phase hold it at once, and a phase change waits
        for them (PostgreSQL; SQLite's write lock already serialises both).
        """
        if for_update:
            return self._session.get(BudgetCycle, cycle_id, with_for_update=True, populate_existing=True)
        if for_share:
            return self._session.get(BudgetCycle, cycle_id, with_for_update={"read": True}, populate_existing=True)
        return self._session.get(BudgetCycle, cycle_id)

    def by_year(self, fiscal_year: int) -> BudgetCycle | None:
        """The cycle of a fiscal year, or None."""
        return self._session.scalars(select(BudgetCycle).where(BudgetCycle.fiscal_year == fiscal_year)).one_or_none()

    def list(self) -> builtins.list[BudgetCycle]:
        """Every cycle, newest fiscal year first."""
        return builtins.list(self._session.scalars(select(BudgetCycle).order_by(BudgetCycle.fiscal_year.desc())))

    def update(self, cycle_id: int, **fields: Any) -> BudgetCycle:
        """Change some columns of a cycle (not its year); ``ValueError`` for an unknown phase."""
        unknown = set(fields) - _CYCLE_UPDATABLE
        if unknown:
            raise TypeError(f"these budget_cycles fields cannot be changed: {sorted(unknown)}")
        if "phase" in fields and fields["phase"] not in BUDGET_PHASES:
            raise ValueError(f"phase must be one of {BUDGET_PHASES}, got {fields['phase']!r}")
        cycle = self._session.get(BudgetCycle, cycle_id)
        if cycle is None:
            raise KeyError(cycle_id)
        for name, value in fields.items():
            setattr(cycle, name, value)
        self._session.flush()
        return cycle


class Quotas(_Repository):
    """Each budget district's quota in a cycle."""

    def get(self, cycle_id: int, district_code: str, for_update: bool = False) -> Quota | None:
        """The quota row, or None.

        With ``for_update`` the row is locked (``SELECT ... FOR UPDATE`` on
        PostgreSQL; SQLite serialises writers anyway) until the transaction
        ends: every write that commits money in the district takes this lock
        first, so a check of what is left and the write cannot interleave.
        """
        stmt = select(Quota).where(Quota.cycle_id == cycle_id, Quota.district_code == district_code)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self._session.scalars(stmt).one_or_none()

    def list(self, cycle_id: int, for_update: bool = False) -> builtins.list[Quota]:
        """The cycle's quotas by district code (locked, in code order, with ``for_update``)."""
        stmt = select(Quota).where(Quota.cycle_id == cycle_id).order_by(Quota.district_code)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return builtins.list(self._session.scalars(stmt))

    def amounts(self, cycle_id: int) -> dict[str, int]:
        """``{district_code: amount_krw}`` of the cycle."""
        stmt = select(Quota.district_code, Quota.amount_krw).where(Quota.cycle_id == cycle_id)
        return {str(c): int(a) for c, a in self._session.execute(stmt)}

    def set(self, cycle_id: int, district_code: str, amount_krw: int, overridden: bool, updated_by: int | None) -> Quota:
        """Insert or update one district's quota."""
        _check_code(district_code, 10, "district_code")
        quota = self.get(cycle_id, district_code)
        if quota is None:
            quota = Quota(cycle_id=cycle_id, district_code=district_code)
            self._session.add(quota)
        quota.amount_krw = int(amount_krw)
        quota.overridden = bool(overridden)
        quota.updated_by = updated_by
        quota.updated_at = utcnow()
        self._session.flush()
        return quota


class Audit(_Repository):
    """The audit log: every change to the budget cycle, with who and when."""

    def record(self, actor_id: int | None, action: str, subject: str, detail: Mapping[str, Any] | None = None) -> AuditEntry:
        """Append one entry; ``detail`` is stored as JSON text."""
        entry = AuditEntry(
            actor_id=actor_id,
            action=action,
            subject=subject,
            detail=json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str),
            at=utcnow(),
        )
        self._session.add(entry)
        self._session.flush()
        return entry

    def by_actor(self, actor_id: int) -> builtins.list[AuditEntry]:
        """Entries of changes one person made, oldest first."""
        stmt = select(AuditEntry).where(AuditEntry.actor_id == actor_id).order_by(AuditEntry.at, AuditEntry.id)
        return builtins.list(self._session.scalars(stmt))

    def list(self, subject_prefix: str | None = None, action: str | None = None) -> builtins.list[AuditEntry]:
        """Entries oldest first, optionally those whose subject starts with ``subject_prefix`` or of one ``action``."""
        stmt = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
        if subject_prefix is not None:
            stmt = stmt.where(AuditEntry.subject.startswith(subject_prefix, autoescape=True))
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        return builtins.list(self._session.scalars(stmt))


class Reviews(_Repository):
    """Planners' reviews of proposals, one per proposal and cycle."""

    def get(self, cycle_id: int, proposal_id: int) -> Review | None:
        """The review of a proposal in a cycle, or None."""
        stmt = select(Review).where(Review.cycle_id == cycle_id, Review.proposal_id == proposal_id)
        return self._session.scalars(stmt).one_or_none()

    def put(self, cycle_id: int, proposal_id: int, **fields: Any) -> Review:
        """Insert or replace the review of a proposal in a cycle."""
        unknown = set(fields) - _REVIEW_FIELDS
        if unknown:
            raise TypeError(f"unknown review fields: {sorted(unknown)}")
        review = self.get(cycle_id, proposal_id)
        if review is None:
            review = Review(cycle_id=cycle_id, proposal_id=proposal_id)
            self._session.add(review)
        fields.setdefault("reviewed_at", utcnow())
        for name, value in fields.items():
            setattr(review, name, value)
        self._session.flush()
        return review

    def list(self, cycle_id: int, passed_only: bool = False) -> builtins.list[Review]:
        """The cycle's reviews by proposal id (only passed ones with ``passed_only``)."""
        stmt = select(Review).where(Review.cycle_id == cycle_id).order_by(Review.proposal_id)
        if passed_only:
            stmt = stmt.where(Review.passed.is_(True))
        return builtins.list(self._session.scalars(stmt))


class Assemblies(_Repository):
    """Residents' assemblies (주민총회) and the proposals they endorsed."""

    def add(
        self,
        cycle_id: int,
        district_code: str,
        held_on: date,
        attendance: int,
        recorded_by: int | None,
        endorsed_proposal_ids: Iterable[int] = (),
    ) -> Assembly:
        """Store an assembly with the proposals it endorsed."""
        _check_code(district_code, 10, "district_code")
        assembly = Assembly(
            cycle_id=cycle_id,
            district_code=district_code,
            held_on=held_on,
            attendance=int(attendance),
            recorded_by=recorded_by,
            recorded_at=utcnow(),
        )
        self._session.add(assembly)
        self._session.flush()
        for pid in sorted({int(p) for p in endorsed_proposal_ids}):
            self._session.add(AssemblyEndorsement(assembly_id=assembly.id, proposal_id=pid))
        self._session.flush()
        return assembly

    def list(self, cycle_id: int, district_code: str | None = None) -> builtins.list[Assembly]:
        """The cycle's assemblies (of one district if given), by date then id."""
        stmt = select(Assembly).where(Assembly.cycle_id == cycle_id).order_by(Assembly.held_on, Assembly.id)
        if district_code is not None:
            stmt = stmt.where(Assembly.district_code == district_code)
        return builtins.list(self._session.scalars(stmt))

    def endorsed_ids(self, assembly_id: int) -> builtins.list[int]:
        """Ids of the proposals an assembly endorsed, ascending."""
        stmt = (
            select(AssemblyEndorsement.proposal_id)
            .where(AssemblyEndorsement.assembly_id == assembly_id)
            .order_by(AssemblyEndorsement.proposal_id)
        )
        return [int(p) for p in self._session.scalars(stmt)]

    def best_attendance(self, cycle_id: int) -> dict[int, int]:
        """``{proposal_id: attendance}``: the largest attendance of an assembly of the cycle that endorsed each proposal.

        Only assemblies of the proposal's own district count.
        """
        stmt = (
            select(AssemblyEndorsement.proposal_id, func.max(Assembly.attendance))
            .join(Assembly, Assembly.id == AssemblyEndorsement.assembly_id)
            .join(Proposal, Proposal.id == AssemblyEndorsement.proposal_id)
            .where(Assembly.cycle_id == cycle_id, Assembly.district_code == Proposal.district_code)
            .group_by(AssemblyEndorsement.proposal_id)
        )
        return {int(p): int(a) for p, a in self._session.execute(stmt)}


class Votes(_Repository):
    """Residents' ballots: one vote per resident, proposal and cycle."""

    def ballot(self, cycle_id: int, resident_id: int) -> builtins.list[int]:
        """The proposal ids a resident votes for in a cycle, ascending."""
        stmt = (
            select(Vote.proposal_id)
            .where(Vote.cycle_id == cycle_id, Vote.resident_id == resident_id)
            .order_by(Vote.proposal_id)
        )
        return [int(p) for p in self._session.scalars(stmt)]

    def by_resident(self, resident_id: int) -> builtins.list[Vote]:
        """Every vote one person cast, in every cycle, by cycle then proposal."""
        stmt = select(Vote).where(Vote.resident_id == resident_id).order_by(Vote.cycle_id, Vote.proposal_id)
        return builtins.list(self._session.scalars(stmt))

    def replace_ballot(self, cycle_id: int, resident_id: int, proposal_ids: Iterable[int]) -> builtins.list[int]:
        """Replace a resident's whole ballot in a cycle; returns the new ballot."""
        self._session.execute(
            delete(Vote).where(Vote.cycle_id == cycle_id, Vote.resident_id == resident_id),
            execution_options={"synchronize_session": "fetch"},
        )
        now = utcnow()
        ids = sorted({int(p) for p in proposal_ids})
        for pid in ids:
            self._session.add(Vote(cycle_id=cycle_id, resident_id=resident_id, proposal_id=pid, cast_at=now))
        self._session.flush()
        return ids

    def count_for_proposal(self, proposal_id: int) -> int:
        """How many votes the proposal has, over every cycle."""
        stmt = select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id)
        return int(self._session.scalar(stmt) or 0)

    def counts(self, cycle_id: int) -> dict[int, int]:
        """``{proposal_id: votes}`` of the cycle (proposals with at least one vote)."""
        stmt = select(Vote.proposal_id, func.count()).where(Vote.cycle_id == cycle_id).group_by(Vote.proposal_id)
        return {int(p): int(n) for p, n in self._session.execute(stmt)}


class Results(_Repository):
    """Stored allocation results of a cycle."""

    def replace(self, cycle_id: int, rows: Iterable[Mapping[str, Any]]) -> int:
        """Delete the cycle's results and store ``rows`` (:class:`AllocationResult` columns); returns how many."""
        self._session.execute(
            delete(AllocationResult).where(AllocationResult.cycle_id == cycle_id),
            execution_options={"synchronize_session": "fetch"},
        )
        now = utcnow()
        n = 0
        for row in rows:
            values = {"computed_at": now, **row, "cycle_id": cycle_id}
            self._session.add(AllocationResult(**values))
            n += 1
        self._session.flush()
        return n

    def get(self, cycle_id: int, proposal_id: int) -> AllocationResult | None:
        """The stored result of one proposal, or None."""
        stmt = select(AllocationResult).where(AllocationResult.cycle_id == cycle_id, AllocationResult.proposal_id == proposal_id)
        return self._session.scalars(stmt).one_or_none()

    def put(self, cycle_id: int, proposal_id: int, **fields: Any) -> AllocationResult:
        """Insert or update the result of one proposal."""
        result = self.get(cycle_id, proposal_id)
        if result is None:
            result = AllocationResult(cycle_id=cycle_id, proposal_id=proposal_id)
            self._session.add(result)
        fields.setdefault("computed_at", utcnow())
        for name, value in fields.items():
            setattr(result, name, value)
        self._session.flush()
        return result

    def list(self, cycle_id: int) -> builtins.list[AllocationResult]:
        """The cycle's results by district code and rank."""
        stmt = (
            select(AllocationResult)
            .where(AllocationResult.cycle_id == cycle_id)
            .order_by(AllocationResult.district_code, AllocationResult.rank, AllocationResult.proposal_id)
        )
        return builtins.list(self._session.scalars(stmt))

    def committed(self, cycle_id: int, district_code: str) -> int:
        """Total cost in won of the district's selected proposals in the cycle."""
        stmt = select(func.coalesce(func.sum(AllocationResult.cost_krw), 0)).where(
            AllocationResult.cycle_id == cycle_id,
            AllocationResult.district_code == district_code,
            AllocationResult.selected.is_(True),
        )
        return int(self._session.scalar(stmt) or 0)


# ---------------------------------------------------------------- moderation


def _subject(proposal_id: int | None, comment_id: int | None) -> ColumnElement[bool]:
    if (proposal_id is None) == (comment_id is None):
        raise ValueError("give exactly one of proposal_id and comment_id")
    return Flag.proposal_id == proposal_id if proposal_id is not None else Flag.comment_id == comment_id


class Flags(_Repository):
    """Reports of proposals and comments (flags), open until a moderator resolves them."""

    def _open(self, resident_id: int, proposal_id: int | None, comment_id: int | None) -> Flag | None:
        stmt = select(Flag).where(_subject(proposal_id, comment_id), Flag.resident_id == resident_id, Flag.resolved_at.is_(None))
        return self._session.scalars(stmt).one_or_none()

    def by_resident(self, resident_id: int) -> builtins.list[Flag]:
        """Every flag one person raised (open and resolved), oldest first."""
        stmt = select(Flag).where(Flag.resident_id == resident_id).order_by(Flag.created_at, Flag.id)
        return builtins.list(self._session.scalars(stmt))

    def add(self, resident_id: int, reason: str, proposal_id: int | None = None, comment_id: int | None = None) -> Flag | None:
        """Store an open flag of one item; None (nothing stored) when this person already has one open on it.

        The partial unique index decides, inside a SAVEPOINT: two sessions
        racing cannot both store one, and the transaction stays usable.
        """
        _subject(proposal_id, comment_id)
        flag = Flag(resident_id=resident_id, proposal_id=proposal_id, comment_id=comment_id, reason=reason, created_at=utcnow())
        try:
            with self._session.begin_nested():
                self._session.add(flag)
        except IntegrityError:
            if self._open(resident_id, proposal_id, comment_id) is not None:
                return None
            raise
        return flag

    def has_open(self, resident_id: int, proposal_id: int | None = None, comment_id: int | None = None) -> bool:
        """True when this person has an open flag on the item."""
        return self._open(resident_id, proposal_id, comment_id) is not None

    def open_for(self, proposal_id: int | None = None, comment_id: int | None = None) -> builtins.list[Flag]:
        """The open flags of one item, oldest first."""
        stmt = select(Flag).where(_subject(proposal_id, comment_id), Flag.resolved_at.is_(None)).order_by(Flag.created_at, Flag.id)
        return builtins.list(self._session.scalars(stmt))

    def open_for_comments(self, comment_ids: Iterable[int]) -> builtins.list[Flag]:
        """The open flags of several comments, in one query, oldest first."""
        ids = {int(i) for i in comment_ids}
        if not ids:
            return []
        stmt = select(Flag).where(Flag.comment_id.in_(ids), Flag.resolved_at.is_(None)).order_by(Flag.created_at, Flag.id)
        return builtins.list(self._session.scalars(stmt))

    def open_all(self) -> builtins.list[Flag]:
        """Every open flag, oldest first."""
        stmt = select(Flag).where(Flag.resolved_at.is_(None)).order_by(Flag.created_at, Flag.id)
        return builtins.list(self._session.scalars(stmt))

    def resolve(self, resolution: str, by: int | None, proposal_id: int | None = None, comment_id: int | None = None) -> int:
        """Close the item's open flags as ``hidden`` or ``dismissed``; returns how many."""
        if resolution not in FLAG_RESOLUTIONS:
            raise ValueError(f"resolution must be one of {FLAG_RESOLUTIONS}, got {resolution!r}")
        result = self._session.execute(
            update(Flag)
            .where(_subject(proposal_id, comment_id), Flag.resolved_at.is_(None))
            .values(resolved_at=utcnow(), resolved_by=by, resolution=resolution),
            execution_options={"synchronize_session": "fetch"},
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Notifications(_Repository):
    """Messages to one account (the text is made by ``planning`` from ``kind`` and ``params``)."""

    def add(
        self,
        resident_id: int,
        kind: str,
        proposal_id: int | None = None,
        comment_id: int | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Notification:
        """Store an unread notification; ``params`` is stored as JSON text."""
        note = Notification(
            resident_id=resident_id,
            kind=kind,
            proposal_id=proposal_id,
            comment_id=comment_id,
            params=json.dumps(dict(params or {}), ensure_ascii=False, sort_keys=True, default=str),
            created_at=utcnow(),
        )
        self._session.add(note)
        self._session.flush()
        return note

    def list_for(self, resident_id: int, unread_only: bool = False) -> builtins.list[Notification]:
        """A person's notifications: unread first, then newest first."""
        stmt = (
            select(Notification)
            .where(Notification.resident_id == resident_id)
            .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
        )
        if unread_only:
            stmt = stmt.where(Notification.read_at.is_(None))
        return builtins.list(self._session.scalars(stmt))

    def unread_count(self, resident_id: int) -> int:
        """How many unread notifications a person has."""
        stmt = select(func.count()).select_from(Notification).where(
            Notification.resident_id == resident_id, Notification.read_at.is_(None)
        )
        return int(self._session.scalar(stmt) or 0)

    def mark_read(self, resident_id: int, notification_ids: Iterable[int] | None = None) -> int:
        """Mark a person's unread notifications read (only ``notification_ids`` if given); returns how many.

        Notifications of other people are never touched, whatever ids are given.
        """
        stmt = update(Notification).where(Notification.resident_id == resident_id, Notification.read_at.is_(None))
        if notification_ids is not None:
            stmt = stmt.where(Notification.id.in_([int(i) for i in notification_ids]))
        result = self._session.execute(stmt.values(read_at=utcnow()), execution_options={"synchronize_session": "fetch"})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def delete_for(self, resident_id: int) -> int:
        """Delete every notification to one person; returns how many."""
        result = self._session.execute(
            delete(Notification).where(Notification.resident_id == resident_id), execution_options={"synchronize_session": "fetch"}
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SignInAttempts(_Repository):
    """Password sign-in attempts, for the rate limit of :mod:`planning.accounts`."""

    def record(self, username: str, client_key: str, succeeded: bool, at: datetime | None = None) -> SignInAttempt:
        """Store one attempt (``username`` and ``client_key`` cut to 64 characters)."""
        attempt = SignInAttempt(username=username[:64], client_key=client_key[:64], succeeded=bool(succeeded), at=at or utcnow())
        self._session.add(attempt)
        self._session.flush()
        return attempt

    def since(self, since: datetime, username: str | None = None, client_key: str | None = None) -> builtins.list[SignInAttempt]:
        """Attempts at or after ``since`` for ``username`` and/or from ``client_key``, oldest first."""
        if username is None and client_key is None:
            raise ValueError("give a username, a client key or both")
        stmt = select(SignInAttempt).where(SignInAttempt.at >= since).order_by(SignInAttempt.at, SignInAttempt.id)
        if username is not None:
            stmt = stmt.where(SignInAttempt.username == username[:64])
        if client_key is not None:
            stmt = stmt.where(SignInAttempt.client_key == client_key[:64])
        return builtins.list(self._session.scalars(stmt))

    def for_username(self, username: str) -> builtins.list[SignInAttempt]:
        """Every stored attempt for ``username``, oldest first."""
        stmt = select(SignInAttempt).where(SignInAttempt.username == username[:64]).order_by(SignInAttempt.at, SignInAttempt.id)
        return builtins.list(self._session.scalars(stmt))

    def delete_for_username(self, username: str) -> int:
        """Delete every stored attempt for ``username``; returns how many."""
        result = self._session.execute(
            delete(SignInAttempt).where(SignInAttempt.username == username[:64]), execution_options={"synchronize_session": "fetch"}
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def prune(self, before: datetime) -> int:
        """Delete the attempts older than ``before``; returns how many."""
        result = self._session.execute(
            delete(SignInAttempt).where(SignInAttempt.at < before), execution_options={"synchronize_session": False}
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def count(self) -> int:
        """How many attempts are stored."""
        return int(self._session.scalar(select(func.count()).select_from(SignInAttempt)) or 0)


# ---------------------------------------------------------------- meetings

_MEETING_UPDATABLE = frozenset({"kind", "starts_at", "place", "title", "status", "notes", "published_at", "held_at"})


class Catchments(_Repository):
    """Admins' explicit hub catchments: which administrative dongs a hub serves."""

    def list(self) -> builtins.list[HubCatchment]:
        """Every explicit row, by hub code then district code."""
        stmt = select(HubCatchment).order_by(HubCatchment.hub_code, HubCatchment.district_code)
        return builtins.list(self._session.scalars(stmt))

    def for_hub(self, hub_code: str) -> builtins.list[str]:
        """The district codes of a hub's explicit list, ascending (empty when it has none)."""
        stmt = select(HubCatchment.district_code).where(HubCatchment.hub_code == hub_code).order_by(HubCatchment.district_code)
        return [str(c) for c in self._session.scalars(stmt)]

    def replace(self, hub_code: str, district_codes: Iterable[str], set_by: int | None = None) -> builtins.list[str]:
        """Make ``district_codes`` the hub's explicit list (replacing its earlier one); returns the codes stored.

        A dong already in another hub's list fails with an ``IntegrityError``
        (the dong is the primary key): the service checks first.
        """
        _check_code(hub_code, 10, "hub_code")
        codes = sorted({_check_code(c, 10, "district_code") for c in district_codes})
        self.clear(hub_code)
        now = utcnow()
        for code in codes:
            self._session.add(HubCatchment(district_code=code, hub_code=hub_code, set_by=set_by, set_at=now))
        self._session.flush()
        return codes

    def clear(self, hub_code: str) -> int:
        """Remove a hub's explicit list (it goes back to the nearest-hub rule); returns how many rows went."""
        result = self._session.execute(
            delete(HubCatchment).where(HubCatchment.hub_code == hub_code), execution_options={"synchronize_session": "fetch"}
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Meetings(_Repository):
    """Co-governance meetings, their agenda items and minutes."""

    def add(
        self,
        hub_code: str,
        kind: str,
        starts_at: datetime,
        place: str,
        title: str = "",
        created_by: int | None = None,
        notes: str = "",
    ) -> Meeting:
        """Store a new meeting in ``draft``; :class:`NotFound` for an unknown hub centre."""
        _check_code(hub_code, 10, "hub_code")
        if kind not in MEETING_KINDS:
            raise ValueError(f"kind must be one of {MEETING_KINDS}, got {kind!r}")
        if self._session.get(Centre, hub_code) is None:
            raise NotFound("centre", hub_code)
        meeting = Meeting(
            hub_code=hub_code,
            kind=kind,
            starts_at=starts_at,
            place=place,
            title=title,
            status=MEETING_STATUSES[0],
            notes=notes,
            created_by=created_by,
            created_at=utcnow(),
        )
        self._session.add(meeting)
        self._session.flush()
        return meeting

    def get(self, meeting_id: int, for_update: bool = False) -> Meeting | None:
        """The meeting with this id, or None; ``for_update`` locks its row until the transaction ends."""
        if for_update:
            return self._session.get(Meeting, meeting_id, with_for_update=True, populate_existing=True)
        return self._session.get(Meeting, meeting_id)

    def list(
        self,
        hub_codes: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
        starts_from: datetime | None = None,
    ) -> builtins.list[Meeting]:
        """Meetings matching every filter given (of these hubs, in these statuses, starting at or after ``starts_from``), by start time then id."""
        stmt = select(Meeting).order_by(Meeting.starts_at, Meeting.id)
        if hub_codes is not None:
            stmt = stmt.where(Meeting.hub_code.in_(builtins.list(hub_codes)))
        if statuses is not None:
            stmt = stmt.where(Meeting.status.in_(builtins.list(statuses)))
        if starts_from is not None:
            stmt = stmt.where(Meeting.starts_at >= starts_from)
        return builtins.list(self._session.scalars(stmt))

    def update(self, meeting_id: int, **fields: Any) -> Meeting:
        """Change some columns of a meeting (not its hub or creator); :class:`NotFound` if unknown."""
        unknown = set(fields) - _MEETING_UPDATABLE
        if unknown:
            raise TypeError(f"these meetings fields cannot be changed: {sorted(unknown)}")
        if "kind" in fields and fields["kind"] not in MEETING_KINDS:
            raise ValueError(f"kind must be one of {MEETING_KINDS}, got {fields['kind']!r}")
        if "status" in fields and fields["status"] not in MEETING_STATUSES:
            raise ValueError(f"status must be one of {MEETING_STATUSES}, got {fields['status']!r}")
        meeting = self._session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound("meeting", meeting_id)
        for name, value in fields.items():
            setattr(meeting, name, value)
        self._session.flush()
        return meeting

    def delete(self, meeting_id: int) -> None:
        """Delete a meeting with its agenda and minutes; :class:`NotFound` if unknown."""
        meeting = self._session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound("meeting", meeting_id)
        items = select(AgendaItem.id).where(AgendaItem.meeting_id == meeting_id).scalar_subquery()
        self._session.execute(delete(Minutes).where(Minutes.item_id.in_(items)), execution_options={"synchronize_session": "fetch"})
        self._session.execute(delete(AgendaItem).where(AgendaItem.meeting_id == meeting_id), execution_options={"synchronize_session": "fetch"})
        self._session.delete(meeting)
        self._session.flush()

    def items(self, meeting_id: int) -> builtins.list[AgendaItem]:
        """The meeting's agenda, by position."""
        stmt = select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        return builtins.list(self._session.scalars(stmt))

    def item(self, item_id: int) -> AgendaItem | None:
        """One agenda item, or None."""
        return self._session.get(AgendaItem, item_id)

    def replace_agenda(self, meeting_id: int, items: Iterable[Mapping[str, Any]]) -> builtins.list[AgendaItem]:
        """Replace the whole agenda (and any minutes of the old one) with ``items``, numbered 1, 2, 3, ...

        Each item is ``{"proposal_id": id}`` or ``{"cluster_proposal_ids": [ids],
        "cluster_label": int or None, "cluster_title": str}``; the member ids
        are stored as JSON text, ascending.
        """
        if self._session.get(Meeting, meeting_id) is None:
            raise NotFound("meeting", meeting_id)
        old = select(AgendaItem.id).where(AgendaItem.meeting_id == meeting_id).scalar_subquery()
        self._session.execute(delete(Minutes).where(Minutes.item_id.in_(old)), execution_options={"synchronize_session": "fetch"})
        self._session.execute(delete(AgendaItem).where(AgendaItem.meeting_id == meeting_id), execution_options={"synchronize_session": "fetch"})
        self._session.flush()
        stored = []
        for position, item in enumerate(items, start=1):
            members = item.get("cluster_proposal_ids")
            if (item.get("proposal_id") is None) == (members is None):
                raise ValueError("an agenda item has exactly one of proposal_id and cluster_proposal_ids")
            row = AgendaItem(
                meeting_id=meeting_id,
                position=position,
                proposal_id=None if item.get("proposal_id") is None else int(item["proposal_id"]),
                cluster_label=None if item.get("cluster_label") is None else int(item["cluster_label"]),
                cluster_title=item.get("cluster_title") if members is not None else None,
                cluster_proposal_ids=None if members is None else json.dumps(sorted({int(i) for i in members})),
            )
            self._session.add(row)
            stored.append(row)
        self._session.flush()
        return stored

    def minutes(self, meeting_id: int) -> dict[int, Minutes]:
        """``{item_id: minutes}`` of the meeting's items that have minutes."""
        stmt = select(Minutes).join(AgendaItem, AgendaItem.id == Minutes.item_id).where(AgendaItem.meeting_id == meeting_id)
        return {int(m.item_id): m for m in self._session.scalars(stmt)}

    def add_minutes(
        self,
        item_id: int,
        decision: str,
        note: str = "",
        votes_for: int = 0,
        votes_against: int = 0,
        votes_abstain: int = 0,
        merge_into_id: int | None = None,
        recorded_by: int | None = None,
    ) -> Minutes:
        """Store the minutes of one agenda item (at most one per item: a second fails on the unique key)."""
        if decision not in MEETING_DECISIONS:
            raise ValueError(f"decision must be one of {MEETING_DECISIONS}, got {decision!r}")
        row = Minutes(
            item_id=item_id,
            decision=decision,
            note=note,
            votes_for=int(votes_for),
            votes_against=int(votes_against),
            votes_abstain=int(votes_abstain),
            merge_into_id=merge_into_id,
            recorded_by=recorded_by,
            recorded_at=utcnow(),
        )
        self._session.add(row)
        self._session.flush()
        return row

    def on_agenda(self, proposal_ids: Iterable[int]) -> dict[int, builtins.list[int]]:
        """``{proposal_id: [meeting id, ...]}``: the meetings whose agenda names each proposal as a proposal item."""
        ids = {int(i) for i in proposal_ids}
        if not ids:
            return {}
        stmt = (
            select(AgendaItem.proposal_id, AgendaItem.meeting_id)
            .where(AgendaItem.proposal_id.in_(ids))
            .order_by(AgendaItem.proposal_id, AgendaItem.meeting_id)
        )
        out: dict[int, builtins.list[int]] = {}
        for pid, mid in self._session.execute(stmt):
            out.setdefault(int(pid), []).append(int(mid))
        return out


class UnitOfWork:
    """One transaction's view of the store, with a repository per table.

    Obtained from ``Store.transaction()``; everything done through it is
    committed together when the ``with`` block ends, or rolled back if it
    raises.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self.residents = Residents(session)
        self.districts = Districts(session)
        self.centres = Centres(session)
        self.proposals = Proposals(session)
        self.comments = Comments(session)
        self.supports = Supports(session)
        self.history = History(session)
        self.villages = Villages(session)
        self.cycles = Cycles(session)
        self.quotas = Quotas(session)
        self.audit = Audit(session)
        self.reviews = Reviews(session)
        self.assemblies = Assemblies(session)
        self.votes = Votes(session)
        self.results = Results(session)
        self.flags = Flags(session)
        self.notifications = Notifications(session)
        self.catchments = Catchments(session)
        self.meetings = Meetings(session)
        self.sign_in_attempts = SignInAttempts(session)
        self.analysis = Analysis(session)

    def lock_resident(self, resident_id: int) -> None:
        """Lock a resident's row until the transaction ends (``SELECT ... FOR UPDATE``), e.g. to serialise one person's ballots."""
        self._session.execute(select(Resident.id).where(Resident.id == resident_id).with_for_update())

    def flush(self) -> None:
        """Send pending writes to the database now (ids, constraint checks) without committing."""
        self._session.flush()
