"""The planners' review set: one filter, one frame, used by every review tool.

The review table, the clusters, the density rasters, the choropleths and the
exports all start from :func:`review_frame` with a :class:`ReviewFilter`, so
"the filtered set" means the same thing everywhere. Planners and admins see
hidden (moderated) proposals here, marked ``hidden``; the frame never holds
authors' names or contacts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geo.crs import STORAGE_CRS
from planning.auth import Actor, actor_in, require_role
from planning.errors import InvalidInput

if TYPE_CHECKING:
    from store import Store

#: Roles that may open the review workspace.
REVIEW_ROLES = ("planner", "admin")

#: Columns of :func:`review_frame`, in order (plus ``geometry``).
REVIEW_COLUMNS = (
    "id",
    "title",
    "category",
    "status",
    "kind",
    "cost_krw",
    "supports",
    "comments",
    "district_code",
    "hub_code",
    "legal_dong_code",
    "legal_dong_name",
    "created_at",
    "updated_at",
    "hidden",
    "is_demo",
)

_KST = timezone(timedelta(hours=9))


@dataclass(frozen=True)
class ReviewFilter:
    """What the planner narrowed the review set to; an empty field means "any".

    ``since`` and ``until`` are calendar days in Korean time (KST), both
    included. ``proposal_ids`` restricts to given proposals (for example the
    members of a cluster). Withdrawn proposals are left out unless
    ``include_withdrawn``; hidden ones are kept (planners see them) unless
    ``include_hidden`` is False.
    """

    district_codes: tuple[str, ...] = ()
    hub_codes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    include_hidden: bool = True
    include_withdrawn: bool = False
    proposal_ids: tuple[int, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        for name in ("district_codes", "hub_codes", "categories", "statuses"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value))
        if self.proposal_ids is not None:
            object.__setattr__(self, "proposal_ids", tuple(int(i) for i in self.proposal_ids))
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                raise InvalidInput(
                    "bad_date",
                    "기간의 날짜가 올바르지 않습니다. 날짜(예: 2026-05-01)를 고르세요.",
                    "A date of the period is not valid. Please pick a calendar date (e.g. 2026-05-01).",
                )
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidInput(
                "empty_period",
                "기간의 시작일이 종료일보다 늦습니다. 시작일을 종료일 이전으로 고르세요.",
                "The period starts after it ends. Please pick a start date on or before the end date.",
            )

    def window_utc(self) -> tuple[datetime | None, datetime | None]:
        """``[start, end)`` in UTC for the KST days ``since``..``until`` (None where open)."""
        start = None if self.since is None else datetime.combine(self.since, time(0), _KST).astimezone(timezone.utc)
        end = None if self.until is None else datetime.combine(self.until + timedelta(days=1), time(0), _KST).astimezone(timezone.utc)
        return start, end


def apply_filter(frame: pd.DataFrame, f: ReviewFilter) -> pd.DataFrame:
    """Rows of a review frame that pass ``f`` (order kept)."""
    keep = pd.Series(True, index=frame.index)
    if f.district_codes:
        keep &= frame["district_code"].isin(f.district_codes)
    if f.hub_codes:
        keep &= frame["hub_code"].isin(f.hub_codes)
    if f.categories:
        keep &= frame["category"].isin(f.categories)
    if f.statuses:
        keep &= frame["status"].isin(f.statuses)
    elif not f.include_withdrawn:
        keep &= frame["status"] != "withdrawn"
    if not f.include_hidden:
        keep &= ~frame["hidden"].astype(bool)
    start, end = f.window_utc()
    if start is not None:
        keep &= frame["created_at"] >= pd.Timestamp(start)
    if end is not None:
        keep &= frame["created_at"] < pd.Timestamp(end)
    if f.proposal_ids is not None:
        keep &= frame["id"].isin(f.proposal_ids)
    return frame[keep]


def frame_from_summaries(rows: list[Any]) -> gpd.GeoDataFrame:
    """A review frame (EPSG:4326) from ``tx.proposals.summaries`` rows."""
    data = {
        "id": pd.array([r.id for r in rows], dtype="int64"),
        "title": pd.array([r.title for r in rows], dtype=object),
        "category": pd.array([r.category for r in rows], dtype=object),
        "status": pd.array([r.status for r in rows], dtype=object),
        "kind": pd.array([r.kind for r in rows], dtype=object),
        "cost_krw": pd.array([r.cost_krw for r in rows], dtype="Int64"),
        "supports": pd.array([r.supports for r in rows], dtype="int64"),
        "comments": pd.array([r.comments for r in rows], dtype="int64"),
        "district_code": pd.array([r.district_code for r in rows], dtype=object),
        "hub_code": pd.array([r.hub_code for r in rows], dtype=object),
        "legal_dong_code": pd.array([r.legal_dong_code for r in rows], dtype=object),
        "legal_dong_name": pd.array([r.legal_dong_name for r in rows], dtype=object),
        "created_at": pd.to_datetime(pd.Series([r.created_at for r in rows], dtype=object), utc=True),
        "updated_at": pd.to_datetime(pd.Series([r.updated_at for r in rows], dtype=object), utc=True),
        "hidden": pd.array([r.hidden for r in rows], dtype=bool),
        "is_demo": pd.array([r.is_demo for r in rows], dtype=bool),
    }
    frame = pd.DataFrame(data)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([r.geometry for r in rows], crs=STORAGE_CRS), crs=STORAGE_CRS)


def review_frame(store: Store, actor: Actor | int | None, f: ReviewFilter | None = None) -> gpd.GeoDataFrame:
    """The proposals a planner reviews, filtered, as a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    store : Store
    actor : Actor or id
        Must be a planner or admin (:class:`~planning.errors.NotAllowed` otherwise).
    f : ReviewFilter, optional
        Defaults to everything but withdrawn proposals.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`REVIEW_COLUMNS` and ``geometry`` (lon/lat), newest
        first; ``cost_krw`` is nullable, ``created_at``/``updated_at`` are
        UTC timestamps, ``comments`` counts visible comments.
    """
    f = f or ReviewFilter()
    with store.transaction() as tx:
        require_role(actor_in(tx, actor), *REVIEW_ROLES)
        rows = tx.proposals.summaries(include_hidden=True)
    frame = frame_from_summaries(rows)
    out = apply_filter(frame, f)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=STORAGE_CRS)


#: Every proposal status, in workflow order (labels: ``status.<name>`` in planning.i18n).
STATUSES = ("submitted", "under_review", "field_verified", "shortlisted", "adopted", "rejected", "merged", "withdrawn")
#: Statuses a planner may set on many proposals at once (merging needs a survivor; withdrawing is the author's).
BULK_TARGETS = ("under_review", "field_verified", "shortlisted", "adopted", "rejected")


@dataclass(frozen=True)
class ReviewChoices:
    """What the review filters offer: code -> label, in display order."""

    districts: dict[str, str]
    hubs: dict[str, str]
    categories: dict[str, str]
    statuses: dict[str, str]


def review_choices(store: Store, lang: str = "ko") -> ReviewChoices:
    """Options of the review filters: districts by gu and name, hub centres, categories, statuses."""
    from planning.categories import categories
    from planning.i18n import t

    with store.transaction() as tx:
        districts = sorted(tx.districts.list(), key=lambda d: (d.gu, d.name))
        hubs = sorted(tx.centres.list(hubs_only=True), key=lambda c: c.name)
    return ReviewChoices(
        districts={d.code: f"{d.gu} {d.name}" for d in districts},
        hubs={c.code: c.name for c in hubs},
        categories={c.code: c.label(lang) for c in categories()},
        statuses={s: t(f"status.{s}", lang) for s in STATUSES},
    )


def review_table(frame: pd.DataFrame, choices: ReviewChoices, lang: str = "ko") -> pd.DataFrame:
    """The review frame as planners read it: labels instead of codes, in the interface language.

    Columns (keys of ``review.col.*`` in planning.i18n): id, title, category,
    status, district, hub, supports, comments, cost_krw, created (KST date),
    hidden, and cluster when the frame has one. User text stays as data:
    the page shows it in a data grid, which does not interpret markup.
    """
    from planning.i18n import t

    table = pd.DataFrame(
        {
            "id": frame["id"].astype("int64"),
            "title": frame["title"],
            "category": frame["category"].map(lambda c: choices.categories.get(c, c)),
            "status": frame["status"].map(lambda s: choices.statuses.get(s, s)),
            "district": frame["district_code"].map(lambda c: choices.districts.get(c, "") if c else ""),
            "hub": frame["hub_code"].map(lambda c: choices.hubs.get(c, "") if c else ""),
            "supports": frame["supports"].astype("int64"),
            "comments": frame["comments"].astype("int64"),
            "cost_krw": frame["cost_krw"],
            "created": pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert("Asia/Seoul").dt.date,
            "hidden": frame["hidden"].astype(bool),
        }
    )
    if "cluster" in frame.columns:
        table["cluster"] = frame["cluster"].astype("int64")
    table.columns = [t(f"review.col.{c}", lang) for c in table.columns]
    return table.reset_index(drop=True)
