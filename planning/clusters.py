"""Spatial clusters of the planners' review set (DBSCAN) and their cards.

Planners ask "where do residents ask for the same thing?": the filtered
review set (:func:`planning.review.review_frame`) is clustered with DBSCAN
on the geometries in metres (:mod:`geo.clustering`: geometry-to-geometry
distance, so lines and polygons take part by their shape), either in the
database (PostGIS ``ST_ClusterDBSCAN``, :meth:`store.analysis.Analysis.cluster_dbscan`)
or embedded (shapely and scipy). Both give the same labels: proposals are
taken in id order, a border proposal joins the cluster of its core neighbour
with the lowest id, clusters are numbered ``0, 1, 2, ...`` by their smallest
member id and ``-1`` is noise.

Each cluster gets a :class:`ClusterCard`: how many proposals, supports and
comments, which categories, budget districts, legal dongs and hubs, the
total estimated cost, the words residents use most (titles, descriptions and
visible comments; comments are located by their proposals, so they belong to
their proposal's cluster) and an outline (convex or concave hull computed in
metres, returned in lon/lat).

The same clustering is available without a database on the command line:
``python -m planning clusters FILE.geojson --eps METRES --min-size N
[--by-category] [--out FILE.csv]`` (:func:`add_clusters_parser`,
:func:`cmd_clusters`, :func:`cli_clusters`).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.clustering import NOISE, ClusteringRefused, check_eps, check_min_size, dbscan_by_group, dbscan_labels
from geo.crs import STORAGE_CRS, to_metric, to_storage
from geo.words import top_words
from planning.auth import Actor
from planning.errors import InvalidInput
from planning.review import ReviewFilter, review_frame

if TYPE_CHECKING:
    from store import Store

#: Outline kinds of a cluster.
HULL_KINDS = ("convex", "concave")
#: Where the clustering runs: ``auto`` is the database on PostGIS, embedded on SQLite.
ENGINES = ("auto", "embedded", "database")
#: ``ratio`` of :func:`shapely.concave_hull` (0 = tightest, 1 = convex).
CONCAVE_RATIO = 0.3
#: Margin around every outline, in metres (members on the hull's edge stay inside it).
HULL_MARGIN_M = 10.0
#: Radius of the outline of a cluster whose hull has no area (one or two points, a straight line).
THIN_HULL_BUFFER_M = 30.0
#: Words shown per card.
CARD_WORDS = 8
#: Geometry types the command line accepts.
GEOJSON_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")


def _invalid(refusal: ClusteringRefused) -> InvalidInput:
    return InvalidInput(refusal.code, refusal.ko, refusal.en)


#: Tables :func:`cluster_proposals` reads (review set, cards, names, the actor's role): its caches key on their data versions.
CLUSTER_TABLES = ("proposals", "supports", "comments", "flags", "centres", "districts", "residents")


@dataclass(frozen=True)
class ClusterParams:
    """How to cluster: DBSCAN's distance and size, per category or not, and the outline.

    Parameters
    ----------
    eps_m : float
        Distance in metres (between geometries, not centroids) within which
        proposals are neighbours: greater than 0, at most 20 km.
    min_size : int
        Neighbours, the proposal itself included, that make a proposal a core
        member of a cluster: 1 to 1,000.
    by_category : bool
        Cluster each category on its own.
    hull : {"convex", "concave"}
        The outline drawn for each cluster.

    Raises
    ------
    InvalidInput
        For any value outside these rules, in Korean and English.
    """

    eps_m: float
    min_size: int
    by_category: bool = False
    hull: str = "convex"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "eps_m", check_eps(self.eps_m))
            object.__setattr__(self, "min_size", check_min_size(self.min_size))
        except ClusteringRefused as e:
            raise _invalid(e) from None
        if not isinstance(self.by_category, (bool, np.bool_)):
            raise InvalidInput(
                "bad_by_category",
                "분야별 묶기 여부는 예/아니오(True/False)로 정해 주세요.",
                "Whether to cluster by category must be yes or no (True/False).",
            )
        object.__setattr__(self, "by_category", bool(self.by_category))
        if self.hull not in HULL_KINDS:
            raise InvalidInput(
                "bad_hull",
                f"외곽선 종류 {str(self.hull)[:20]!r}은(는) 쓸 수 없습니다. convex(볼록) 또는 concave(오목) 중에서 고르세요.",
                f"The outline kind {str(self.hull)[:20]!r} is not available. Please choose convex or concave.",
            )


@dataclass(frozen=True)
class ClusterCard:
    """What a planner needs to know about one cluster.

    Attributes
    ----------
    label : int
        The cluster's label (``0, 1, 2, ...``).
    count : int
        Number of proposals.
    proposal_ids : list of int
        Its proposals, ascending.
    supports, comments : int
        Sums over its proposals (visible comments).
    categories : list of (str, int)
        Category codes with their number of proposals, most first (ties by code).
    districts, legal_dongs, hubs : list of (str, str)
        ``(code, name)`` of the budget districts, legal dongs and hub centres
        of its proposals, the most frequent first (ties by code).
    hull : shapely geometry
        The outline in lon/lat (EPSG:4326): a convex or concave hull computed
        in metres, widened by :data:`HULL_MARGIN_M` (or a
        :data:`THIN_HULL_BUFFER_M` buffer when the hull has no area). It
        contains every member.
    cost_total_krw : int or None
        Sum of the estimated costs given; None when no proposal has one.
    cost_known : int
        How many proposals have an estimated cost.
    words : list of (str, int)
        The most frequent words of its titles, descriptions and visible
        comments (:func:`geo.words.top_words`).
    residents : int
        How many distinct residents wrote its proposals (one resident with
        six proposals is one); public pages leave out clusters of fewer than
        :func:`planning.privacy.privacy_k` (:func:`planning.catchments.hub_overview`).
    """

    label: int
    count: int
    proposal_ids: list[int]
    supports: int
    comments: int
    categories: list[tuple[str, int]]
    districts: list[tuple[str, str]]
    legal_dongs: list[tuple[str, str]]
    hubs: list[tuple[str, str]]
    hull: BaseGeometry
    cost_total_krw: int | None
    cost_known: int
    words: list[tuple[str, int]] = field(default_factory=list)
    residents: int = 0


@dataclass(frozen=True)
class ClusterResult:
    """The clustered review set.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The review frame (:data:`planning.review.REVIEW_COLUMNS`, lon/lat)
        with a ``cluster`` column (``-1`` for noise).
    cards : list of ClusterCard
        Largest cluster first (ties by label).
    noise : int
        Proposals in no cluster.
    params : ClusterParams
    engine : str
        ``"database"`` or ``"embedded"``: where the labels were computed.
    """

    frame: gpd.GeoDataFrame
    cards: list[ClusterCard]
    noise: int
    params: ClusterParams
    engine: str

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return len(self.cards)


def cluster_frame(frame: pd.DataFrame, params: ClusterParams) -> pd.Series:
    """Embedded DBSCAN labels of a review frame, proposals taken in id order.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Columns ``id`` and ``geometry`` (lon/lat, EPSG:4326), and
        ``category`` when ``params.by_category``.
    params : ClusterParams

    Returns
    -------
    pandas.Series of int64
        Named ``cluster``, on the frame's index: ``-1`` for noise, clusters
        numbered by their smallest member id, the same labels as
        :meth:`store.analysis.Analysis.cluster_dbscan`.
    """
    crs = getattr(frame, "crs", None)
    if crs is not None and crs.to_epsg() != 4326:
        raise ValueError(f"the review frame must be in EPSG:4326 (lon/lat), not {crs}")
    if len(frame) == 0:
        return pd.Series([], index=frame.index, dtype="int64", name="cluster")
    ids = frame["id"].to_numpy()
    order = np.argsort(ids, kind="stable")
    metric = to_metric(np.asarray(frame.geometry.values, dtype=object)[order])
    try:
        if params.by_category:
            sorted_labels = dbscan_by_group(metric, frame["category"].to_numpy(dtype=object)[order], params.eps_m, params.min_size)
        else:
            sorted_labels = dbscan_labels(metric, params.eps_m, params.min_size)
    except ClusteringRefused as e:
        raise _invalid(e) from None
    labels = np.empty(len(frame), dtype=np.int64)
    labels[order] = sorted_labels
    return pd.Series(labels, index=frame.index, dtype="int64", name="cluster")


def _resolve_engine(store: Store, engine: str) -> str:
    if engine not in ENGINES:
        raise InvalidInput(
            "bad_engine",
            f"계산 방식 {str(engine)[:20]!r}은(는) 없습니다. auto, embedded, database 중에서 고르세요.",
            f"There is no engine {str(engine)[:20]!r}. Please choose auto, embedded or database.",
        )
    postgis = store.backend == "postgresql"
    if engine == "auto":
        return "database" if postgis else "embedded"
    if engine == "database" and not postgis:
        raise InvalidInput(
            "engine_unavailable",
            "이 데이터베이스(SQLite)에서는 데이터베이스 군집 계산을 할 수 없습니다. embedded(내장) 또는 auto를 고르세요.",
            "This database (SQLite) cannot compute clusters itself. Please choose embedded or auto.",
        )
    return engine


def cluster_hull(geoms_metric: Sequence[BaseGeometry] | np.ndarray, kind: str = "convex") -> BaseGeometry:
    """The outline of a cluster's geometries, in metres.

    Parameters
    ----------
    geoms_metric : sequence of shapely geometries
        The members in EPSG:5179.
    kind : {"convex", "concave"}
        Convex hull, or :func:`shapely.concave_hull` (ratio
        :data:`CONCAVE_RATIO`) joined with the members so that no line or
        polygon sticks out.

    Returns
    -------
    shapely.Polygon
        Widened by :data:`HULL_MARGIN_M`, or a :data:`THIN_HULL_BUFFER_M`
        buffer when the hull has no area (one or two points, one straight
        line).
    """
    members = list(geoms_metric)
    collection = shapely.GeometryCollection(members)
    if kind == "concave":
        hull = shapely.union_all([shapely.concave_hull(collection, ratio=CONCAVE_RATIO), *members])
    else:
        hull = collection.convex_hull
    if hull.area <= 1.0:
        return hull.buffer(THIN_HULL_BUFFER_M, quad_segs=4)
    hull = hull.buffer(HULL_MARGIN_M, quad_segs=4)
    if hull.geom_type != "Polygon":  # a concave hull joined with far-reaching members: keep one outline
        hull = hull.convex_hull
    return hull


def _ranked(values: pd.Series) -> list[tuple[Any, int]]:
    counts = Counter(v for v in values if v is not None and not pd.isna(v))
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))


def cluster_cards(store: Store, frame: gpd.GeoDataFrame, labels: pd.Series, hull: str = "convex") -> list[ClusterCard]:
    """The cards of the clusters of ``frame`` (see :class:`ClusterCard`).

    Parameters
    ----------
    store : Store
        For the names of districts and hubs, and the texts of proposals.
    frame : geopandas.GeoDataFrame
        A review frame (lon/lat).
    labels : pandas.Series
        Cluster labels on the frame's index (``-1`` for noise).
    hull : {"convex", "concave"}

    Returns
    -------
    list of ClusterCard
        Largest cluster first, ties by label.
    """
    labels = labels.reindex(frame.index)
    clustered = frame[labels >= 0]
    if len(clustered) == 0:
        return []
    member_ids = [int(i) for i in clustered["id"]]
    with store.transaction() as tx:
        district_names = tx.districts.names()
        hub_names = {c.code: c.name for c in tx.centres.list()}
        texts = tx.analysis.proposal_texts(member_ids)
        authors = {int(r.id): int(r.author_id) for r in tx.proposals.summaries(include_hidden=True, ids=member_ids)}
    metric = pd.Series(list(to_metric(np.asarray(clustered.geometry.values, dtype=object))), index=clustered.index)
    cards = []
    for label, members in clustered.groupby(labels[labels >= 0], sort=True):
        ids = sorted(int(i) for i in members["id"])
        costs = [int(c) for c in members["cost_krw"] if not pd.isna(c)]
        legal = {code: name for code, name in zip(members["legal_dong_code"], members["legal_dong_name"]) if code is not None}
        hull_m = cluster_hull(metric.loc[members.index].tolist(), hull)
        cards.append(
            ClusterCard(
                label=int(label),
                count=len(members),
                proposal_ids=ids,
                supports=int(members["supports"].sum()),
                comments=int(members["comments"].sum()),
                categories=[(str(c), n) for c, n in _ranked(members["category"])],
                districts=[(str(c), district_names.get(c, "")) for c, _ in _ranked(members["district_code"])],
                legal_dongs=[(str(c), str(legal.get(c) or "")) for c, _ in _ranked(members["legal_dong_code"])],
                hubs=[(str(c), hub_names.get(c, "")) for c, _ in _ranked(members["hub_code"])],
                hull=to_storage(hull_m),
                cost_total_krw=sum(costs) if costs else None,
                cost_known=len(costs),
                words=top_words((t for i in ids for t in texts.get(i, [])), n=CARD_WORDS),
                residents=len({authors[i] for i in ids if i in authors}),
            )
        )
    cards.sort(key=lambda c: (-c.count, c.label))
    return cards


def cluster_proposals(
    store: Store,
    actor: Actor | int | None,
    filter: ReviewFilter | None,
    params: ClusterParams,
    engine: str = "auto",
) -> ClusterResult:
    """Cluster the planner's filtered review set and describe each cluster.

    Parameters
    ----------
    store : Store
    actor : Actor or id
        A planner or admin (:class:`~planning.errors.NotAllowed` otherwise).
    filter : ReviewFilter or None
        The review set (None: everything but withdrawn proposals).
    params : ClusterParams
    engine : {"auto", "embedded", "database"}
        ``auto``: in PostGIS when the store is PostgreSQL, else embedded.
        ``database`` on SQLite is refused.

    Returns
    -------
    ClusterResult
        The same labels whichever engine computed them.

    Raises
    ------
    NotAllowed
        For anyone but planners and admins.
    InvalidInput
        For an unknown engine, or ``database`` on SQLite.
    """
    if not isinstance(params, ClusterParams):
        raise TypeError(f"params must be ClusterParams, got {type(params).__name__}")
    used = _resolve_engine(store, engine)
    frame = review_frame(store, actor, filter)
    if used == "database" and len(frame):
        with store.transaction() as tx:
            by_id = tx.analysis.cluster_dbscan(frame["id"].tolist(), params.eps_m, params.min_size, by_category=params.by_category)
        labels = pd.Series(frame["id"].map(by_id).astype("int64").to_numpy(), index=frame.index, name="cluster")
    else:
        labels = cluster_frame(frame, params)
    frame = frame.assign(cluster=labels)
    cards = cluster_cards(store, frame, labels, params.hull)
    return ClusterResult(
        frame=gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS),
        cards=cards,
        noise=int((labels == NOISE).sum()),
        params=params,
        engine=used,
    )


# ---------------------------------------------------------------------------
# Command line: python -m planning clusters FILE.geojson --eps M --min-size N
# ---------------------------------------------------------------------------


def _bad_file(code: str, ko: str, en: str) -> InvalidInput:
    return InvalidInput(code, ko, en)


def read_cluster_features(path: str | Path) -> tuple[list[Any], list[BaseGeometry], list[Any]]:
    """Ids, lon/lat geometries and categories of a GeoJSON FeatureCollection file.

    The id of a feature is its ``id`` member, else its ``id`` property, else
    its position in the file (from 0); the category is its ``category``
    property (optional).

    Raises
    ------
    InvalidInput
        Naming the file or the feature that cannot be used and what to do.
    """
    p = Path(path)
    if not p.is_file():
        raise _bad_file(
            "file_not_found",
            f"파일이 없습니다: {path}. GeoJSON 파일의 경로를 확인해 주세요.",
            f"File not found: {path}. Please check the path of the GeoJSON file.",
        )
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _bad_file(
            "invalid_geojson",
            f"GeoJSON을 읽을 수 없습니다 ({str(e)[:80]}). UTF-8 JSON 파일인지 확인해 주세요.",
            f"Cannot read the GeoJSON ({str(e)[:80]}). Please check that it is a UTF-8 JSON file.",
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise _bad_file(
            "not_feature_collection",
            "GeoJSON FeatureCollection이 아닙니다. 피처(features) 목록이 있는 FeatureCollection을 주세요.",
            "This is not a GeoJSON FeatureCollection. Please give a FeatureCollection with a features list.",
        )
    ids: list[Any] = []
    geoms: list[BaseGeometry] = []
    cats: list[Any] = []
    for i, f in enumerate(doc["features"]):
        n = i + 1
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise _bad_file(
                "bad_feature",
                f"{n}번째 항목이 GeoJSON 피처(Feature)가 아닙니다. 파일을 고쳐 주세요.",
                f"Item {n} is not a GeoJSON Feature. Please correct the file.",
            )
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        fid = f.get("id") if f.get("id") is not None else props.get("id")
        if fid is None:
            fid = i
        elif not isinstance(fid, (str, int, float)) or isinstance(fid, bool):
            raise _bad_file(
                "bad_id",
                f"{n}번째 피처의 id가 문자열이나 숫자가 아닙니다. id를 고쳐 주세요.",
                f"The id of feature {n} is not a string or a number. Please correct it.",
            )
        geometry = f.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in GEOJSON_TYPES:
            raise _bad_file(
                "bad_geometry",
                f"{n}번째 피처(id {fid})에 점, 선 또는 다각형 도형이 없습니다. 도형을 넣어 주세요.",
                f"Feature {n} (id {fid}) has no point, line or polygon geometry. Please add one.",
            )
        try:
            with warnings.catch_warnings():  # NaN coordinates warn; they are refused just below
                warnings.simplefilter("ignore", RuntimeWarning)
                g = shape(geometry)
        except (shapely.errors.GEOSException, ValueError, TypeError, IndexError, KeyError, AttributeError):
            g = None  # malformed coordinates: shapely raises one of these depending on the nesting
        if g is None or g.is_empty or not np.isfinite(shapely.get_coordinates(g)).all():
            raise _bad_file(
                "bad_geometry",
                f"{n}번째 피처(id {fid})의 좌표를 읽을 수 없습니다. 좌표를 고쳐 주세요.",
                f"The coordinates of feature {n} (id {fid}) cannot be read. Please correct them.",
            )
        minx, miny, maxx, maxy = g.bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise _bad_file(
                "not_lonlat",
                f"{n}번째 피처(id {fid})의 좌표가 경위도가 아닙니다. WGS84 경도·위도(EPSG:4326)로 저장해 주세요.",
                f"The coordinates of feature {n} (id {fid}) are not longitude/latitude. Please save the file in WGS84 lon/lat (EPSG:4326).",
            )
        ids.append(fid)
        geoms.append(g)
        cats.append(props.get("category"))
    seen: set[str] = set()
    for fid in ids:
        key = str(fid)
        if key in seen:
            raise _bad_file(
                "duplicate_id",
                f"id {key}가 두 번 이상 나옵니다. 피처마다 다른 id를 주세요.",
                f"The id {key} appears more than once. Please give every feature its own id.",
            )
        seen.add(key)
    return ids, geoms, cats


def _parse_eps(value: Any) -> float:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise InvalidInput(
                "bad_eps",
                f"거리(--eps)는 미터 단위의 숫자여야 합니다 (받은 값: {value[:40]!r}). 예: --eps 150",
                f"The distance (--eps) must be a number of metres (got {value[:40]!r}). For example: --eps 150.",
            ) from None
    return value


def _parse_min_size(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("+").isdigit():
            raise InvalidInput(
                "bad_min_size",
                f"최소 개수(--min-size)는 1 이상의 정수여야 합니다 (받은 값: {value[:40]!r}). 예: --min-size 3",
                f"The minimum size (--min-size) must be a whole number of at least 1 (got {value[:40]!r}). For example: --min-size 3.",
            )
        return int(text)
    return value


def clusters_geojson_to_csv(
    path: str | Path,
    eps: float | str,
    min_size: int | str,
    by_category: bool = False,
    out: TextIO | None = None,
) -> np.ndarray:
    """Cluster the features of a GeoJSON file and write ``id,cluster`` as CSV.

    Parameters
    ----------
    path : str or Path
        A GeoJSON FeatureCollection in lon/lat (see :func:`read_cluster_features`).
    eps : float or str
        Distance in metres (geometry to geometry).
    min_size : int or str
        Neighbours, itself included, that make a feature a core member.
    by_category : bool
        Cluster each ``category`` property value on its own.
    out : text stream, optional
        Where the CSV goes (default standard output).

    Returns
    -------
    numpy.ndarray of int64
        The labels in input order (``-1`` noise). Features are taken in
        input order: a border feature joins the cluster of its core
        neighbour that comes first in the file, and clusters are numbered
        by their first feature.

    Raises
    ------
    InvalidInput
        For a bad file or bad parameters (both languages).
    """
    params = ClusterParams(_parse_eps(eps), _parse_min_size(min_size), by_category=bool(by_category))
    ids, geoms, cats = read_cluster_features(path)
    metric = to_metric(np.array(geoms, dtype=object)) if geoms else np.empty(0, dtype=object)
    try:
        if params.by_category:
            labels = dbscan_by_group(metric, cats, params.eps_m, params.min_size)
        else:
            labels = dbscan_labels(metric, params.eps_m, params.min_size)
    except ClusteringRefused as e:
        raise _invalid(e) from None
    stream = out if out is not None else sys.stdout
    w = csv.writer(stream, lineterminator="\n")
    w.writerow(["id", "cluster"])
    for fid, label in zip(ids, labels):
        w.writerow([fid, int(label)])
    return labels


def _add_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("file", help="GeoJSON FeatureCollection in lon/lat (id: the feature's id, else properties.id, else its position)")
    s.add_argument("--eps", required=True, help="distance in metres between geometries (not centroids), e.g. 150")
    s.add_argument("--min-size", required=True, help="neighbours, the feature itself included, of a core feature, e.g. 3")
    s.add_argument("--by-category", action="store_true", help="cluster each properties.category on its own")
    s.add_argument("--out", default=None, help="write the CSV here instead of standard output")


def add_clusters_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``clusters`` command to ``python -m planning``'s subparsers (handler :func:`cmd_clusters`)."""
    s = subparsers.add_parser("clusters", help="DBSCAN clusters of a GeoJSON file's features in metres: writes id,cluster (-1 noise); no database")
    _add_arguments(s)
    s.set_defaults(fn=cmd_clusters)
    return s


def cmd_clusters(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``clusters``: 0 when written, 2 for a bad file or parameter, 1 when the output cannot be written.

    Errors go to standard error in Korean and English.
    """
    try:
        if args.out is None:
            clusters_geojson_to_csv(args.file, args.eps, args.min_size, args.by_category, out)
            return 0
        # Read and check everything before creating the output file.
        buffer = io.StringIO()
        labels = clusters_geojson_to_csv(args.file, args.eps, args.min_size, args.by_category, buffer)
    except InvalidInput as e:
        print(f"{e.code}: {e}", file=sys.stderr)
        return 2
    try:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(buffer.getvalue())
    except OSError as e:
        print(f"결과 파일을 쓸 수 없습니다 / cannot write the output file: {args.out} ({e.strerror})", file=sys.stderr)
        return 1
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    noise = int((labels == NOISE).sum())
    print(
        f"군집 결과 저장 / clusters written: {args.out} "
        f"(피처 / features {len(labels)}, 군집 / clusters {n_clusters}, 잡음 / noise {noise})",
        file=out,
    )
    return 0


def cli_clusters(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """``clusters`` as a program of its own: parse ``argv`` (``FILE --eps M --min-size N ...``) and run it.

    Returns the exit status: 0 done, 2 bad file or parameter, 1 bad command
    line or unwritable output.
    """
    parser = argparse.ArgumentParser(prog="python -m planning clusters", description="DBSCAN clusters of GeoJSON features / GeoJSON 피처의 DBSCAN 군집")
    parser.add_argument("--lang", choices=["ko", "en"], default="ko")
    _add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse printed the usage already
        return 0 if e.code == 0 else 1
    return cmd_clusters(args, out or sys.stdout)
