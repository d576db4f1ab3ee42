"""Hub catchments: the administrative dongs each hub centre serves, and a hub's overview.

Rule
    Every administrative dong (budget district) belongs to exactly one hub
    centre:

    1. a hub's own dong (the dong of its community centre) is always its own;
    2. a dong in an admin's explicit list of a hub (:func:`set_catchment`)
       belongs to that hub; a hub with an explicit list serves exactly that
       list (and its own dong);
    3. every other dong goes to the nearest hub *without* an explicit list,
       measured from the dong's own community centre (or, for a dong without
       a centre, a point inside its polygon) to the hub centre, straight-line
       metres in EPSG:5179 (:mod:`geo.crs`), ties to the smaller hub code. If
       every hub has an explicit list, the nearest hub of all.

    Explicit rows of a centre that is no longer a hub are ignored (its dongs
    follow the nearest-hub rule again). This is the same nearest rule as
    :func:`planning.budget.hub_of_district` (which knows nothing of explicit
    lists).

Overview
    :func:`hub_overview` gathers what a hub's page shows: the catchment's
    dongs, the public proposals of the hub's area (linked to the hub or lying
    in its catchment; not hidden, not withdrawn), their clusters (embedded
    DBSCAN, :func:`planning.clusters.cluster_frame`) and the catchment dongs'
    quotas in the current budget cycle with what is committed and left.
    Everything in it is public: no author, no hidden content.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import STORAGE_CRS, to_metric
from planning.auth import Actor, actor_in, require_role
from planning.errors import InvalidInput, NotAllowed
from planning.privacy import suppress_small_groups
from planning.workflow import WITHDRAWN

if TYPE_CHECKING:
    from planning.clusters import ClusterCard, ClusterParams
    from store import Store

#: DBSCAN of a hub's public proposals on its page: 250 m, at least 3 proposals.
OVERVIEW_EPS_M = 250.0
OVERVIEW_MIN_SIZE = 3
#: Columns of :func:`catchment_frame` (plus ``geometry``).
CATCHMENT_COLUMNS = ("code", "gu", "name", "voters", "approximate", "is_hub_dong")


# ---------------------------------------------------------------- refusals


def no_such_hub(code: Any) -> InvalidInput:
    """The refusal for a code that is not a hub centre."""
    text = str(code)[:20]
    return InvalidInput(
        "no_such_hub",
        f"'{text}'은(는) 거점 주민센터가 아닙니다. 거점 센터의 10자리 행정코드를 확인해 주세요 (python -m planning centres --hubs-only).",
        f"'{text}' is not a hub centre. Please check the hub's 10-digit administrative code (python -m planning centres --hubs-only).",
    )


def _no_such_district(codes: Iterable[str]) -> InvalidInput:
    listed = ", ".join(str(c)[:20] for c in codes)
    return InvalidInput(
        "no_such_district",
        f"알 수 없는 행정동 코드입니다: {listed}. 10자리 행정동 코드를 확인해 주세요.",
        f"Unknown administrative dong codes: {listed}. Please check the 10-digit codes.",
    )


# ---------------------------------------------------------------- the rule


def _compute(tx: Any) -> tuple[dict[str, list[str]], set[str]]:
    """``({hub: [district codes]}, {hubs with an explicit list})`` inside a transaction."""
    hubs = tx.centres.list(hubs_only=True)
    if not hubs:
        return {}, set()
    districts = tx.districts.list()
    centres = {c.district_code: c for c in tx.centres.list()}
    hub_codes = [h.code for h in hubs]
    own = {h.district_code: h.code for h in hubs}
    explicit_rows = [r for r in tx.catchments.list() if r.hub_code in set(hub_codes)]
    explicit = {r.district_code: r.hub_code for r in explicit_rows}
    with_lists = {r.hub_code for r in explicit_rows}
    candidates = [h for h in hubs if h.code not in with_lists] or list(hubs)
    cand_xy = shapely.get_coordinates(to_metric(np.array([h.geometry for h in candidates], dtype=object)))
    cand_codes = np.array([h.code for h in candidates])
    order = np.argsort(cand_codes, kind="stable")
    cand_xy, cand_codes = cand_xy[order], cand_codes[order]
    out: dict[str, list[str]] = {code: [] for code in sorted(hub_codes)}
    for d in districts:
        if d.code in own:
            hub = own[d.code]
        elif d.code in explicit:
            hub = explicit[d.code]
        else:
            centre = centres.get(d.code)
            point = centre.geometry if centre is not None else shapely.point_on_surface(d.geometry)
            x, y = shapely.get_coordinates(to_metric(point))[0]
            dist = np.hypot(cand_xy[:, 0] - x, cand_xy[:, 1] - y)
            hub = str(cand_codes[int(np.argmin(dist))])  # argmin takes the first minimum: codes are sorted, ties to the smaller
        out[hub].append(d.code)
    return {h: sorted(codes) for h, codes in out.items()}, with_lists


def catchments(store: Store) -> dict[str, list[str]]:
    """Every hub's catchment: ``{hub code: [district codes, ascending]}``, hubs by code.

    Every stored district is in exactly one list (see the module's rule);
    empty when no centre is a hub.
    """
    with store.transaction() as tx:
        return _compute(tx)[0]


def catchments_in(tx: Any) -> dict[str, list[str]]:
    """:func:`catchments` inside the caller's transaction."""
    return _compute(tx)[0]


def _require_hub(tx: Any, hub_code: Any) -> Any:
    if not isinstance(hub_code, str):
        raise no_such_hub(hub_code)
    hub = tx.centres.get(hub_code)
    if hub is None or not hub.is_hub:
        raise no_such_hub(hub_code)
    return hub


def catchment_of(store: Store, hub_code: str) -> list[str]:
    """The district codes a hub serves, ascending; :class:`InvalidInput` ``no_such_hub`` for a centre that is not a hub."""
    with store.transaction() as tx:
        _require_hub(tx, hub_code)
        return catchments_in(tx)[hub_code]


def catchment_of_in(tx: Any, hub_code: str) -> list[str]:
    """:func:`catchment_of` inside the caller's transaction."""
    _require_hub(tx, hub_code)
    return catchments_in(tx)[hub_code]


def is_explicit(store: Store, hub_code: str) -> bool:
    """True when an admin set the hub's catchment explicitly."""
    with store.transaction() as tx:
        _require_hub(tx, hub_code)
        return bool(tx.catchments.for_hub(hub_code))


def hub_for_district(store: Store, district_code: str) -> str | None:
    """The hub whose catchment holds the district, or None (unknown district, or no hub at all)."""
    with store.transaction() as tx:
        return hub_for_district_in(tx, district_code)


def hub_for_district_in(tx: Any, district_code: str | None) -> str | None:
    """:func:`hub_for_district` inside the caller's transaction."""
    if district_code is None:
        return None
    for hub, codes in catchments_in(tx).items():
        if district_code in codes:
            return hub
    return None


def set_catchment(store: Store, actor: Actor | int | None, hub_code: str, district_codes: Iterable[str]) -> list[str]:
    """Set a hub's catchment explicitly (admins only); returns its catchment afterwards.

    The hub's own dong is always included (it need not be listed). The list
    replaces the hub's earlier explicit list; the change is audited
    (``catchment.set``).

    Raises
    ------
    NotAllowed
        For anyone but admins (``role_required``); ``catchment_taken`` for a
        dong in another hub's explicit list (clear or change that one first)
        or the own dong of another hub.
    InvalidInput
        ``no_such_hub``; ``no_such_district`` for unknown codes;
        ``catchment_empty`` for an empty list (use :func:`clear_catchment`).
    """
    if isinstance(district_codes, str):
        district_codes = [district_codes]
    codes = sorted({str(c).strip() for c in district_codes})
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        hub = _require_hub(tx, hub_code)
        if not codes:
            raise InvalidInput(
                "catchment_empty",
                "행정동을 하나 이상 골라 주세요. 가까운 거점 규칙으로 되돌리려면 '지정 해제'를 쓰세요.",
                "Please choose at least one dong. To go back to the nearest-hub rule, clear the list instead.",
            )
        names = tx.districts.names()
        unknown = [c for c in codes if c not in names]
        if unknown:
            raise _no_such_district(unknown)
        taken = {r.district_code: r.hub_code for r in tx.catchments.list() if r.hub_code != hub_code}
        hub_names = {c.code: c.name for c in tx.centres.list()}
        hubs_own = {c.district_code: c.code for c in tx.centres.list(hubs_only=True) if c.code != hub_code}
        clash = [(c, taken[c]) for c in codes if c in taken] + [(c, hubs_own[c]) for c in codes if c in hubs_own and c not in taken]
        if clash:
            ko = ", ".join(f"{names[c]}({hub_names.get(h, h)})" for c, h in clash)
            en = ", ".join(f"{names[c]} ({hub_names.get(h, h)})" for c, h in clash)
            raise NotAllowed(
                "catchment_taken",
                f"다음 행정동은 이미 다른 거점 센터에 속합니다: {ko}. 한 행정동은 한 거점에만 속할 수 있으니 그 거점의 목록을 먼저 바꿔 주세요.",
                f"These dongs already belong to another hub: {en}. A dong belongs to one hub only: change that hub's list first.",
            )
        stored = tx.catchments.replace(hub_code, sorted(set(codes) | {hub.district_code}), set_by=me.id)
        tx.audit.record(me.id, "catchment.set", f"hub:{hub_code}", {"districts": stored})
        return catchments_in(tx)[hub_code]


def clear_catchment(store: Store, actor: Actor | int | None, hub_code: str) -> list[str]:
    """Remove a hub's explicit list (admins only): the nearest-hub rule applies again; returns its catchment afterwards."""
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        _require_hub(tx, hub_code)
        removed = tx.catchments.clear(hub_code)
        tx.audit.record(me.id, "catchment.clear", f"hub:{hub_code}", {"removed": removed})
        return catchments_in(tx)[hub_code]


def catchment_frame(store: Store, hub_code: str) -> gpd.GeoDataFrame:
    """The dongs of a hub's catchment with their polygons, lon/lat (EPSG:4326), by code.

    Columns :data:`CATCHMENT_COLUMNS` (``code, gu, name, voters,
    approximate, is_hub_dong``) and ``geometry``.
    """
    with store.transaction() as tx:
        hub = _require_hub(tx, hub_code)
        codes = set(catchments_in(tx)[hub_code])
        rows = [
            {
                "code": d.code,
                "gu": d.gu,
                "name": d.name,
                "voters": int(d.voters),
                "approximate": bool(d.approximate),
                "is_hub_dong": d.code == hub.district_code,
                "geometry": d.geometry,
            }
            for d in tx.districts.list()
            if d.code in codes
        ]
    return _frame(rows, CATCHMENT_COLUMNS)


def _frame(rows: list[dict[str, Any]], columns: Iterable[str]) -> gpd.GeoDataFrame:
    cols = list(columns)
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=STORAGE_CRS)[[*cols, "geometry"]]


# ---------------------------------------------------------------- public data of a hub's area


def public_frame(store: Store, hub_code: str | None = None, district_codes: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """The proposals the public sees (not hidden, not withdrawn) as a review-style frame (EPSG:4326), newest first.

    With ``hub_code`` only those of the hub's area: linked to the hub or
    lying in one of ``district_codes`` (selected by the database). The
    columns of :data:`planning.review.REVIEW_COLUMNS` (no author, no
    contact), so the clusters' cards can be made from it.
    """
    from planning.review import frame_from_summaries

    area = None if hub_code is None else (hub_code, list(district_codes))
    with store.transaction() as tx:
        rows = tx.proposals.summaries(include_hidden=False, exclude_statuses=(WITHDRAWN,), area=area)
    return frame_from_summaries(rows)


def in_hub_area(frame: pd.DataFrame, hub_code: str, district_codes: Iterable[str]) -> pd.Series:
    """Rows of a proposals frame in a hub's area: linked to the hub, or lying in one of its catchment dongs."""
    codes = list(district_codes)
    return (frame["hub_code"] == hub_code) | frame["district_code"].isin(codes)


@dataclass(frozen=True)
class QuotaRow:
    """One catchment dong's quota in the current cycle: amount, committed (selected proposals) and left, in won."""

    district_code: str
    name: str
    quota_krw: int | None
    committed_krw: int | None
    left_krw: int | None


@dataclass(frozen=True)
class CatchmentQuotas:
    """The quotas of a catchment's dongs in the current budget cycle.

    ``published`` is False (and the amounts None) while the cycle's quotas
    are not published, or when there is no cycle (``fiscal_year`` None).
    """

    fiscal_year: int | None
    published: bool
    rows: list[QuotaRow]

    @property
    def total_quota_krw(self) -> int | None:
        """Sum of the quotas, or None when not published."""
        return sum(r.quota_krw or 0 for r in self.rows) if self.published else None


def catchment_quotas(store: Store, district_codes: Iterable[str]) -> CatchmentQuotas:
    """The published quotas of these dongs in the current cycle, with committed and left (:class:`planning.budget.QuotaStatus`)."""
    from planning.budget import current_cycle_in

    codes = sorted(set(district_codes))
    with store.transaction() as tx:
        names = tx.districts.names()
        cycle = current_cycle_in(tx)
        published = cycle is not None and cycle.quotas_published_at is not None
        rows = []
        for code in codes:
            if published:
                quota = tx.quotas.get(cycle.id, code)
                amount = 0 if quota is None else int(quota.amount_krw)
                committed = tx.results.committed(cycle.id, code)
                rows.append(QuotaRow(code, names.get(code, code), amount, committed, amount - committed))
            else:
                rows.append(QuotaRow(code, names.get(code, code), None, None, None))
        return CatchmentQuotas(None if cycle is None else int(cycle.fiscal_year), published, rows)


@dataclass(frozen=True)
class HubOverview:
    """What a hub's page shows: its catchment, the public proposals of its area, their clusters, the quotas.

    Attributes
    ----------
    hub_code, hub_name : str
        The hub centre.
    hub_point : shapely Point
        The hub centre's location (lon/lat).
    district_codes : list of str
        The catchment, ascending.
    explicit : bool
        True when an admin set the catchment.
    districts : GeoDataFrame
        :func:`catchment_frame`.
    proposals : GeoDataFrame
        The public proposals of the hub's area (:func:`in_hub_area`), review
        columns (no author) plus ``cluster`` (``-1`` noise), newest first.
    clusters : list of ClusterCard
        Their clusters (largest first), DBSCAN with :data:`OVERVIEW_EPS_M`,
        :data:`OVERVIEW_MIN_SIZE`; words from titles, descriptions and
        visible comments.
    quotas : CatchmentQuotas
        The catchment dongs' quotas in the current cycle.
    suppressed_clusters : int
        Clusters left out because fewer than ``privacy_k`` distinct residents
        wrote them (their proposals stay, with ``cluster`` ``-1``).
    privacy_k : int
        The smallest public group used (:func:`planning.privacy.privacy_k`).
    """

    hub_code: str
    hub_name: str
    hub_point: BaseGeometry
    district_codes: list[str]
    explicit: bool
    districts: gpd.GeoDataFrame
    proposals: gpd.GeoDataFrame
    clusters: list[ClusterCard] = field(default_factory=list)
    quotas: CatchmentQuotas | None = None
    suppressed_clusters: int = 0
    privacy_k: int = 1

    def cluster_hulls(self) -> gpd.GeoDataFrame:
        """The clusters' outlines (EPSG:4326): ``label`` (1, 2, ... as shown), ``cluster`` (the DBSCAN label), ``count``."""
        return cluster_hulls(self.clusters)


def cluster_hulls(cards: Iterable[ClusterCard]) -> gpd.GeoDataFrame:
    """Outlines of cluster cards as a frame (EPSG:4326): ``label`` ("1", "2", ... in the cards' order), ``cluster``, ``count``."""
    cards = list(cards)
    return gpd.GeoDataFrame(
        {
            "label": [str(i) for i in range(1, len(cards) + 1)],
            "cluster": pd.array([c.label for c in cards], dtype="int64"),
            "count": pd.array([c.count for c in cards], dtype="int64"),
        },
        geometry=gpd.GeoSeries([c.hull for c in cards], crs=STORAGE_CRS),
        crs=STORAGE_CRS,
    )


def cluster_public(store: Store, frame: gpd.GeoDataFrame, params: ClusterParams) -> tuple[gpd.GeoDataFrame, list[ClusterCard]]:
    """Embedded DBSCAN of a public frame: the frame with a ``cluster`` column, and the cards (largest first)."""
    from planning.clusters import cluster_cards, cluster_frame

    out = frame.copy()
    labels = cluster_frame(out, params)
    out["cluster"] = labels.astype("int64")
    cards = cluster_cards(store, out, labels) if len(out) else []
    return out, cards


#: Tables :func:`hub_overview` reads (catchments, public proposals and their clusters, the current cycle's quotas):
#: its caches key on their data versions.
OVERVIEW_TABLES = (
    "centres",
    "districts",
    "hub_catchments",
    "proposals",
    "supports",
    "comments",
    "budget_cycles",
    "quotas",
    "reviews",
    "votes",
    "assemblies",
    "assembly_endorsements",
    "allocation_results",
)


def hub_overview(store: Store, actor: Actor | int | None, hub_code: str) -> HubOverview:
    """A hub's page: catchment, public proposals of its area, their clusters, the catchment dongs' quotas.

    Anyone may look (``actor`` may be None): everything is public, and the
    same for every viewer (hidden and withdrawn proposals are left out even
    for planners; authors are never named). Clusters written by fewer than
    :func:`planning.privacy.privacy_k` distinct residents are left out (and
    counted in ``suppressed_clusters``); their proposals stay as noise.

    Raises
    ------
    InvalidInput
        ``no_such_hub``.
    """
    from planning.clusters import ClusterParams

    with store.transaction() as tx:
        actor_in(tx, actor)  # a stale or made-up actor is simply anonymous
        hub = _require_hub(tx, hub_code)
        codes = catchments_in(tx)[hub_code]
        explicit = bool(tx.catchments.for_hub(hub_code))
        hub_name, hub_point = hub.name, hub.geometry
    area = public_frame(store, hub_code, codes)
    area, cards = cluster_public(store, area, ClusterParams(OVERVIEW_EPS_M, OVERVIEW_MIN_SIZE))
    shown = suppress_small_groups(cards, lambda c: c.residents)
    if shown.suppressed:
        hidden_labels = {c.label for c in cards} - {c.label for c in shown.kept}
        area.loc[area["cluster"].isin(hidden_labels), "cluster"] = -1
    return HubOverview(
        hub_code=hub_code,
        hub_name=hub_name,
        hub_point=hub_point,
        district_codes=codes,
        explicit=explicit,
        districts=catchment_frame(store, hub_code),
        proposals=area,
        clusters=shown.kept,
        quotas=catchment_quotas(store, codes),
        suppressed_clusters=shown.suppressed,
        privacy_k=shown.k,
    )


def hub_choices(store: Store) -> dict[str, str]:
    """Hub centres for a picker: code -> name, by name."""
    with store.transaction() as tx:
        hubs = sorted(tx.centres.list(hubs_only=True), key=lambda c: c.name)
    return {c.code: c.name for c in hubs}


def catchment_names(store: Store) -> Mapping[str, list[str]]:
    """``{hub code: [dong names]}`` of every catchment (for an admin's overview), dongs by name."""
    with store.transaction() as tx:
        names = tx.districts.names()
        return {hub: sorted(names.get(c, c) for c in codes) for hub, codes in catchments_in(tx).items()}
