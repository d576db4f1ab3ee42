"""The stored tables, as SQLAlchemy 2 declarative models.

Coordinates are WGS84 lon/lat (EPSG:4326) everywhere; geometry attributes are
shapely geometries on every engine (see :class:`store.types.ShapelyGeometry`).
Times are timezone-aware UTC (:class:`store.types.UTCDateTime`).

The models carry no relationships on purpose: repositories return objects
that outlive their session, and a lazy load after the transaction would fail.
Ask the repositories for related rows instead.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from store.types import ShapelyGeometry, UTCDateTime, utcnow

#: Roles a resident account can have.
ROLES: tuple[str, ...] = ("resident", "planner", "centre_staff", "admin")
#: Kinds of proposal: for an area (shared) or for individuals.
PROPOSAL_KINDS: tuple[str, ...] = ("area", "individual")
#: Status a new proposal starts in.
INITIAL_STATUS = "submitted"
#: How a flag was closed: the item was hidden, or a moderator dismissed the flag.
FLAG_RESOLUTIONS: tuple[str, ...] = ("hidden", "dismissed")
#: Phases of a participatory-budget cycle, in the order an admin moves through them.
BUDGET_PHASES: tuple[str, ...] = ("proposals_open", "review", "assemblies", "voting", "allocation", "results")
#: Kinds of co-governance meeting a hub centre holds.
MEETING_KINDS: tuple[str, ...] = ("dong_group", "hub_meeting", "city_assembly")
#: A meeting is prepared (draft), announced with its agenda (published), then held (minutes recorded).
MEETING_STATUSES: tuple[str, ...] = ("draft", "published", "held")
#: What a meeting decided about an agenda item.
MEETING_DECISIONS: tuple[str, ...] = ("adopted", "rejected", "deferred", "merged")

# Stable constraint and index names on both engines, so later migrations
# (SQLite batch mode in particular) can refer to them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _checked_geometry(model: type[Base], geometry: Any) -> BaseGeometry:
    # Checked on assignment, so a wrong geometry fails with a plain
    # ValueError where it is set, not as a database error at flush time.
    column_type = model.__table__.c.geometry.type
    assert isinstance(column_type, ShapelyGeometry)
    return column_type.check(geometry)


def gist_index(table: str, column: str = "geometry") -> Index:
    """A GiST index on a geometry column, created on PostgreSQL only.

    Named like GeoAlchemy2's own (``idx_<table>_<column>``) so its reflection
    recognises it as the column's spatial index.
    """
    return Index(f"idx_{table}_{column}", column, postgresql_using="gist").ddl_if(dialect="postgresql")


class Base(DeclarativeBase):
    """Declarative base of every stored table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class District(Base):
    """A budget district: one administrative dong (행정동)."""

    __tablename__ = "districts"
    __table_args__ = (gist_index("districts"),)

    code: Mapped[str] = mapped_column(String(10), primary_key=True, comment="10-digit administrative dong code")
    gu: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(40))
    voters: Mapped[int] = mapped_column(Integer)
    geometry: Mapped[BaseGeometry] = mapped_column(ShapelyGeometry(("Polygon", "MultiPolygon")))
    approximate: Mapped[bool] = mapped_column(Boolean, default=False, comment="True for a Voronoi cell, not an official boundary")
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("geometry")
    def _check_geometry(self, key: str, geometry: BaseGeometry) -> BaseGeometry:
        return _checked_geometry(District, geometry)


class Centre(Base):
    """A community centre (행정복지센터), one per administrative dong."""

    __tablename__ = "centres"
    __table_args__ = (gist_index("centres"),)

    code: Mapped[str] = mapped_column(String(10), primary_key=True, comment="the dong's 10-digit code")
    name: Mapped[str] = mapped_column(String(60))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    geometry: Mapped[BaseGeometry] = mapped_column(ShapelyGeometry(("Point",)))
    is_hub: Mapped[bool] = mapped_column(Boolean, default=False)
    approximate_location: Mapped[bool] = mapped_column(Boolean, default=False)

    @validates("geometry")
    def _check_geometry(self, key: str, geometry: BaseGeometry) -> BaseGeometry:
        return _checked_geometry(Centre, geometry)


class Resident(Base):
    """An account: a resident, planner, centre staff member or admin."""

    __tablename__ = "residents"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str | None] = mapped_column(Text, comment="NULL for accounts that sign in with OIDC")
    role: Mapped[str] = mapped_column(String(20), default="resident")
    home_district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    hub_code: Mapped[str | None] = mapped_column(ForeignKey("centres.code"), comment="the hub a centre_staff member works for")
    email: Mapped[str | None] = mapped_column(String(254))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="when the resident deleted the account; personal fields are cleared"
    )


class SignInAttempt(Base):
    """One password sign-in attempt, kept a short while for the rate limit (:mod:`planning.accounts`).

    ``username`` is what was typed (lower-cased), whether or not an account
    has it; ``client_key`` is the client's IP address (or ``unknown``).
    """

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_username_at", "username", "at"),
        Index("ix_sign_in_attempts_client_key_at", "client_key", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), comment="as typed (lower-cased), whether or not an account has it")
    client_key: Mapped[str] = mapped_column(String(64), comment="the client's IP address, or 'unknown'")
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Proposal(Base):
    """A resident's proposal, drawn on the map.

    ``minx, miny, maxx, maxy`` are the geometry's bounds, kept in step with
    it by :meth:`_keep_bbox`: SQLite answers viewport queries from them, and
    PostGIS uses them to make its float4 index test exact.
    """

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(_in("kind", PROPOSAL_KINDS), name="kind"),
        CheckConstraint("cost_krw IS NULL OR cost_krw >= 0", name="cost_not_negative"),
        gist_index("proposals"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    cost_krw: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(30), default=INITIAL_STATUS, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    geometry: Mapped[BaseGeometry] = mapped_column(ShapelyGeometry())
    minx: Mapped[float] = mapped_column(Float, index=True)
    miny: Mapped[float] = mapped_column(Float, index=True)
    maxx: Mapped[float] = mapped_column(Float, index=True)
    maxy: Mapped[float] = mapped_column(Float, index=True)
    hub_code: Mapped[str | None] = mapped_column(ForeignKey("centres.code"), index=True)
    hub_distance_m: Mapped[float | None] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    legal_dong_code: Mapped[str | None] = mapped_column(String(8), comment="8-digit legal dong (법정동) code")
    legal_dong_name: Mapped[str | None] = mapped_column(String(40))
    district_shares: Mapped[str | None] = mapped_column(Text, comment='JSON text: {"<district code>": share}')
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_url: Mapped[str | None] = mapped_column(Text, comment="http(s) link to a photo, checked by planning")
    hidden_reason: Mapped[str | None] = mapped_column(Text, comment="why a moderator hid it; shown to moderators and the author")
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id"), index=True, comment="the proposal this one was merged into (status merged)"
    )

    @validates("geometry")
    def _keep_bbox(self, key: str, geometry: BaseGeometry) -> BaseGeometry:
        # Every assignment of the geometry goes through here, so the bbox
        # columns cannot drift from it.
        _checked_geometry(Proposal, geometry)
        if geometry.is_empty:
            raise ValueError("a proposal needs a non-empty geometry")
        self.minx, self.miny, self.maxx, self.maxy = (float(v) for v in geometry.bounds)
        return geometry


class Comment(Base):
    """A comment on a proposal, or a reply to one (threads are one level deep).

    ``parent_id`` is None for a top-level comment; a reply's parent is always
    a top-level comment of the same proposal (the repository keeps it so).
    """

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id"), index=True, comment="the top-level comment this replies to; NULL for a top-level comment"
    )
    hidden_reason: Mapped[str | None] = mapped_column(Text, comment="why a moderator hid it; shown to moderators and the author")
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Support(Base):
    """One resident's support for one proposal (at most one per pair)."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("proposal_id", "resident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusChange(Base):
    """One step of a proposal's status history."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30), comment="NULL for the first entry")
    to_status: Mapped[str] = mapped_column(String(30))
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Village(Base):
    """A village (마을): a neighbourhood polygon that admins draw or import.

    ``district_code`` is the budget district holding most of its area.
    """

    __tablename__ = "villages"
    __table_args__ = (gist_index("villages"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True, comment="the district holding most of it")
    geometry: Mapped[BaseGeometry] = mapped_column(ShapelyGeometry(("Polygon", "MultiPolygon")))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    @validates("geometry")
    def _check_geometry(self, key: str, geometry: BaseGeometry) -> BaseGeometry:
        checked = _checked_geometry(Village, geometry)
        if checked.is_empty:
            raise ValueError("a village needs a non-empty polygon")
        return checked


class BudgetCycle(Base):
    """One participatory-budget cycle (one per fiscal year) and its quota rule.

    Shares are stored exactly as basis points (1/10000): ``population_share_bp``
    of 4000 is 40 %, ``endorsement_threshold_bp`` of 100 is 1 %. ``rules_json``
    holds the :class:`planning.allocation.AllocationRules` fields as JSON text.
    """

    __tablename__ = "budget_cycles"
    __table_args__ = (
        CheckConstraint(_in("phase", BUDGET_PHASES), name="phase"),
        CheckConstraint("total_krw >= 0 AND base_per_district_krw >= 0", name="amounts_not_negative"),
        CheckConstraint("population_share_bp BETWEEN 0 AND 10000", name="population_share_range"),
        CheckConstraint("endorsement_threshold_bp BETWEEN 0 AND 10000", name="threshold_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, unique=True)
    phase: Mapped[str] = mapped_column(String(20), default=BUDGET_PHASES[0])
    total_krw: Mapped[int] = mapped_column(BigInteger, default=0)
    base_per_district_krw: Mapped[int] = mapped_column(BigInteger, default=0)
    population_share_bp: Mapped[int] = mapped_column(Integer, default=0, comment="share of the total split by voters, in basis points")
    rules_json: Mapped[str] = mapped_column(Text, default="{}", comment="JSON text: AllocationRules fields")
    endorsement_threshold_bp: Mapped[int] = mapped_column(Integer, default=100, comment="assembly attendance needed, basis points of voters")
    has_voting: Mapped[bool] = mapped_column(Boolean, default=True)
    quotas_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Quota(Base):
    """A budget district's quota in one cycle, in whole won."""

    __tablename__ = "quotas"
    __table_args__ = (
        UniqueConstraint("cycle_id", "district_code"),
        CheckConstraint("amount_krw >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("budget_cycles.id"))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    amount_krw: Mapped[int] = mapped_column(BigInteger)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One recorded change: who did what to which subject, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120), index=True, comment="e.g. cycle:3, quota:3:4128152000")
    detail: Mapped[str] = mapped_column(Text, default="{}", comment="JSON text")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(Base):
    """A planner's review of a proposal in one cycle (feasibility, official cost, field check)."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("proposal_id", "cycle_id"),
        CheckConstraint("official_cost_krw IS NULL OR official_cost_krw >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("budget_cycles.id"), index=True)
    feasible: Mapped[bool] = mapped_column(Boolean)
    official_cost_krw: Mapped[int | None] = mapped_column(BigInteger, comment="replaces the resident's estimate")
    field_verified_on: Mapped[date | None] = mapped_column(Date)
    field_note: Mapped[str] = mapped_column(Text, default="")
    field_photo_url: Mapped[str | None] = mapped_column(Text)
    construction: Mapped[bool] = mapped_column(Boolean, default=False)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assembly(Base):
    """A district's residents' assembly (주민총회) in one cycle."""

    __tablename__ = "assemblies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("budget_cycles.id"), index=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    attendance: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssemblyEndorsement(Base):
    """A proposal endorsed by an assembly."""

    __tablename__ = "assembly_endorsements"
    __table_args__ = (PrimaryKeyConstraint("assembly_id", "proposal_id"),)

    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)


class Vote(Base):
    """One resident's vote for one proposal in one cycle."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("cycle_id", "resident_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("budget_cycles.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AllocationResult(Base):
    """The stored allocation decision for one proposal of a cycle.

    ``cost_krw`` is the cost the decision used (the official estimate);
    ``code`` is a reason code of :mod:`planning.allocation`, or ``approved``
    for an admin's approval outside a run.
    """

    __tablename__ = "allocation_results"
    __table_args__ = (UniqueConstraint("cycle_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("budget_cycles.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    selected: Mapped[bool] = mapped_column(Boolean)
    rank: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    cost_krw: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(30))
    reason_ko: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flag(Base):
    """A signed-in person's report of a proposal or a comment, for the moderators.

    Exactly one of ``proposal_id`` and ``comment_id`` is set. A flag is open
    until ``resolved_at``; each person has at most one open flag per item
    (partial unique indexes, on both engines).
    """

    __tablename__ = "flags"
    __table_args__ = (
        CheckConstraint("(proposal_id IS NULL) <> (comment_id IS NULL)", name="one_subject"),
        CheckConstraint(f"resolution IS NULL OR {_in('resolution', FLAG_RESOLUTIONS)}", name="resolution"),
        Index(
            "ux_flags_open_proposal",
            "proposal_id",
            "resident_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index(
            "ux_flags_open_comment",
            "comment_id",
            "resident_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True, comment="who reported it")
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    resolution: Mapped[str | None] = mapped_column(String(20), comment="hidden | dismissed; NULL while open")


class Notification(Base):
    """A message to one account: a status change, a rejection, a merge, a moderation.

    The text is not stored: ``kind`` names a message of :mod:`planning.i18n`
    (``notify.<kind>``) and ``params`` (JSON text) fills it, so each reader
    gets it in their language.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True, comment="who is told")
    kind: Mapped[str] = mapped_column(String(40))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    params: Mapped[str] = mapped_column(Text, default="{}", comment="JSON text: the message's values")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HubCatchment(Base):
    """An admin's explicit catchment: the administrative dong ``district_code`` belongs to hub ``hub_code``.

    A hub with rows here serves exactly those dongs (and its own);
    every other dong goes to the nearest hub (:mod:`planning.catchments`).
    A dong is in at most one explicit list (it is the primary key).
    """

    __tablename__ = "hub_catchments"

    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    hub_code: Mapped[str] = mapped_column(ForeignKey("centres.code"), index=True)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Meeting(Base):
    """A co-governance meeting of a hub centre: when, where, what kind, and where it stands."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(_in("kind", MEETING_KINDS), name="kind"),
        CheckConstraint(_in("status", MEETING_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hub_code: Mapped[str] = mapped_column(ForeignKey("centres.code"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="when the last minutes were recorded or the meeting was closed")


class AgendaItem(Base):
    """One item of a meeting's agenda: a proposal, or a snapshot of a cluster of proposals.

    Exactly one of ``proposal_id`` and ``cluster_proposal_ids`` is set.
    A cluster item keeps what the cluster was when the agenda was set (its
    label, members as JSON text and a title): clusters are recomputed, the
    agenda is not.
    """

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("meeting_id", "position"),
        CheckConstraint("(proposal_id IS NULL) <> (cluster_proposal_ids IS NULL)", name="one_subject"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    position: Mapped[int] = mapped_column(Integer, comment="1, 2, 3, ... in the meeting's order")
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    cluster_label: Mapped[int | None] = mapped_column(Integer)
    cluster_title: Mapped[str | None] = mapped_column(String(200))
    cluster_proposal_ids: Mapped[str | None] = mapped_column(Text, comment="JSON text: [proposal id, ...] of a cluster item")


class Minutes(Base):
    """What the meeting decided about one agenda item, with the vote count."""

    __tablename__ = "minutes"
    __table_args__ = (
        CheckConstraint(_in("decision", MEETING_DECISIONS), name="decision"),
        CheckConstraint("votes_for >= 0 AND votes_against >= 0 AND votes_abstain >= 0", name="votes_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(20))
    merge_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)
    votes_abstain: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataVersion(Base):
    """A counter per table, raised by every transaction that wrote to the table.

    Caches key on these counters (:meth:`store.Store.data_versions`), so a
    change made by any process sharing the database invalidates exactly the
    cached results that read the changed tables. The store raises them itself
    at commit (:mod:`store.versions`); nothing else writes here.
    """

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True, comment="table name")
    version: Mapped[int] = mapped_column(BigInteger, default=0, comment="raised by one for every committed transaction that wrote the table")
