"""Proposal-density rasters ("heat maps") of the planners' review set, and of any GeoJSON file.

* :func:`density_raster`: the filtered review set (:func:`planning.review.review_frame`,
  planners and admins only) as a count or kernel-density GeoTIFF in EPSG:5179,
  registered in the raster registry (kind ``density``) so that it shows as an
  overlay with a legend and its value appears on proposal cards;
* :func:`heatmap_from_geojson`: the same raster from a GeoJSON file, without a database;
* :func:`add_heatmap_parser` and :func:`cmd_heatmap`:
  ``python -m planning heatmap FILE.geojson --cell METRES --method count|kde [--bandwidth METRES] --out FILE.tif``.

Every proposal takes part once, at its representative point
(:func:`geo.rasterize.representative_xy`): a point itself, the middle of a
line by length, a point inside a polygon. The grid is aligned to multiples of
the cell size in EPSG:5179 and covers at least the city, so rasters of
different selections line up cell for cell.

Privacy (issue 8): :func:`density_raster` is for planners and admins only
(the review set includes hidden proposals); its rasters are registered with
kind ``density``, which the public map and the public cards never show
(:data:`planning.privacy.PUBLIC_RASTER_KINDS`), so no small-cell suppression
is applied here.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import shapely
from shapely.geometry import shape

from geo.boundaries import city_outline_metric
from geo.errors import Refusal
from geo.rasterize import Grid, check_density_params, point_density
from layers.rasters import RasterLayer, RasterRegistry, write_density_geotiff
from planning.auth import Actor, actor_in, require_role
from planning.errors import InvalidInput
from planning.review import REVIEW_ROLES, ReviewFilter, review_frame

if TYPE_CHECKING:
    from store import Store

#: Density rasters kept in the registry; registering one more removes the oldest.
MAX_DENSITY_LAYERS = 10

UNITS = {
    "count": "제안/셀 · proposals per cell",
    "kde": "제안/km² · proposals/km²",
}


@dataclass(frozen=True)
class DensityResult:
    """A density raster that was written (and perhaps registered).

    Attributes
    ----------
    path : Path
        The GeoTIFF (the registry's copy when registered).
    key : str
        Registry key derived from the parameters and the filter.
    layer : RasterLayer or None
        The registered layer (``None`` when not registered).
    method : str
        ``count`` or ``kde``.
    cell_m : float
    bandwidth_m : float or None
        The bandwidth used (the default filled in), ``None`` for ``count``.
    features : int
        Features placed on the grid.
    total : float
        Sum of the counts, or the kernel density's integral (features);
        equals ``features`` up to float rounding.
    max_value : float
        Largest cell value (per cell or per km²).
    grid : Grid
        The raster's grid in EPSG:5179.
    skipped : int
        Features without a geometry that were left out (GeoJSON only).
    """

    path: Path
    key: str
    layer: RasterLayer | None
    method: str
    cell_m: float
    bandwidth_m: float | None
    features: int
    total: float
    max_value: float
    grid: Grid
    skipped: int = 0


def require_reviewer(store: Store, actor: Actor | int | None) -> Actor:
    """The actor, when a planner or admin (:data:`planning.review.REVIEW_ROLES`); :class:`~planning.errors.NotAllowed` otherwise."""
    with store.transaction() as tx:
        return require_role(actor_in(tx, actor), *REVIEW_ROLES)


def _as_invalid(e: Refusal) -> InvalidInput:
    return e if isinstance(e, InvalidInput) else InvalidInput(e.code, e.ko, e.en)


def _params(cell_m: Any, method: Any, bandwidth_m: Any) -> tuple[float, str, float | None]:
    try:
        return check_density_params(cell_m, method, bandwidth_m)
    except Refusal as e:
        raise _as_invalid(e) from None


def describe_filter(f: ReviewFilter | None, lang: str = "ko") -> str:
    """The review filter in a few words, for raster titles and tags (``"전체 제안"`` / ``"all proposals"`` when empty)."""
    f = f or ReviewFilter()
    en = lang == "en"
    parts: list[str] = []
    if f.district_codes:
        codes = ", ".join(f.district_codes[:3]) + (" …" if len(f.district_codes) > 3 else "")
        parts.append(f"districts {codes}" if en else f"행정동 {codes}")
    if f.hub_codes:
        codes = ", ".join(f.hub_codes[:3]) + (" …" if len(f.hub_codes) > 3 else "")
        parts.append(f"hubs {codes}" if en else f"거점 {codes}")
    if f.categories:
        parts.append(("categories " if en else "분야 ") + ", ".join(f.categories))
    if f.statuses:
        parts.append(("status " if en else "상태 ") + ", ".join(f.statuses))
    if f.since or f.until:
        a = f.since.isoformat() if f.since else "…"
        b = f.until.isoformat() if f.until else "…"
        parts.append(f"{a} – {b}")
    if f.proposal_ids is not None:
        parts.append(f"{len(f.proposal_ids)} selected proposals" if en else f"선택한 제안 {len(f.proposal_ids)}건")
    if not f.include_hidden:
        parts.append("without hidden" if en else "숨김 제외")
    if f.include_withdrawn and not f.statuses:
        parts.append("with withdrawn" if en else "철회 포함")
    if not parts:
        return "all proposals" if en else "전체 제안"
    return "; ".join(parts)


def density_key(method: str, cell_m: float, bandwidth_m: float | None, f: ReviewFilter | None) -> str:
    """The registry key of a density raster: method, cell, bandwidth and a hash of the filter.

    The same parameters and filter give the same key, so computing again
    replaces the layer instead of adding one.
    """
    doc = json.dumps(dataclasses.asdict(f or ReviewFilter()), default=str, sort_keys=True)
    digest = hashlib.sha1(doc.encode("utf-8")).hexdigest()[:8]
    bw = "" if bandwidth_m is None else f"-bw{_num(bandwidth_m)}"
    return f"density-{method}-c{_num(cell_m)}{bw}-{digest}".replace(".", "p")


def _num(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


def _titles(method: str, cell_m: float, bandwidth_m: float | None, filter_ko: str, filter_en: str) -> tuple[str, str]:
    if method == "count":
        ko = f"제안 밀도 ({_num(cell_m)} m 셀별 개수) · {filter_ko}"
        en = f"Proposal density (count per {_num(cell_m)} m cell) · {filter_en}"
    else:
        ko = f"제안 밀도 (커널, 대역폭 {_num(bandwidth_m or 0)} m, {_num(cell_m)} m 셀) · {filter_ko}"
        en = f"Proposal density (kernel, bandwidth {_num(bandwidth_m or 0)} m, {_num(cell_m)} m cells) · {filter_en}"
    return ko[:200], en[:200]


def _compute(geoms: np.ndarray, cell_m: float, method: str, bandwidth_m: float | None, bounds) -> tuple[np.ndarray, Grid]:
    try:
        return point_density(geoms, cell_m, method, bandwidth_m, bounds=bounds)
    except Refusal as e:
        raise _as_invalid(e) from None


def _total(arr: np.ndarray, method: str, cell_m: float) -> float:
    if method == "count":
        return float(arr.sum(dtype=np.int64))
    return float(arr.sum(dtype=np.float64) * (cell_m / 1000.0) ** 2)


def density_raster(
    store: Store,
    actor: Actor | int | None,
    review_filter: ReviewFilter | None,
    cell_m: float,
    method: str,
    bandwidth_m: float | None = None,
    register: bool = True,
    *,
    registry: RasterRegistry | None = None,
    out: str | Path | None = None,
) -> DensityResult:
    """The planners' filtered proposals as a density GeoTIFF, registered as a map layer.

    Parameters
    ----------
    store : Store
    actor : Actor or id
        A planner or admin (:class:`~planning.errors.NotAllowed` otherwise,
        from :func:`planning.review.review_frame`).
    review_filter : ReviewFilter or None
        The review set (``None``: everything but withdrawn proposals).
    cell_m : float
        Cell size in metres (10 .. 5,000).
    method : {"count", "kde"}
        Proposals per cell, or a Gaussian kernel density in proposals per km²
        (see :func:`geo.rasterize.point_density`).
    bandwidth_m : float, optional
        ``kde`` only: the kernel's standard deviation in metres (default 500
        m, at least two cells).
    register : bool
        Register the raster (kind ``density``, key :func:`density_key`,
        replacing the one with the same parameters and filter) in
        ``registry``; at most :data:`MAX_DENSITY_LAYERS` density layers are
        kept, the oldest go first.
    registry : RasterRegistry, optional
        Defaults to the one at ``settings.raster_dir()``.
    out : path, optional
        Also keep the GeoTIFF here (required to keep it when not registering;
        otherwise a temporary file is written and its path returned, the
        caller removes it).

    Returns
    -------
    DensityResult

    Raises
    ------
    NotAllowed
        Not a planner or admin.
    InvalidInput
        ``bad_cell``, ``bad_method``, ``bad_bandwidth``, ``grid_too_large``,
        ``no_proposals`` (the filter leaves nothing).
    """
    require_reviewer(store, actor)  # the role first: nobody else learns even what a bad parameter is
    cell, method, bw = _params(cell_m, method, bandwidth_m)
    frame = review_frame(store, actor, review_filter)
    if len(frame) == 0:
        raise InvalidInput(
            "no_proposals",
            "조건에 맞는 제안이 없어 밀도 지도를 만들 수 없습니다. 조건을 넓혀 주세요.",
            "No proposals match the filter, so there is no density to map. Please widen the filter.",
        )
    geoms = np.asarray(frame.geometry.to_numpy(), dtype=object)
    arr, grid = _compute(geoms, cell, method, bw, city_outline_metric().bounds)
    filter_ko, filter_en = describe_filter(review_filter, "ko"), describe_filter(review_filter, "en")
    title_ko, title_en = _titles(method, cell, bw, filter_ko, filter_en)
    key = density_key(method, cell, bw, review_filter)
    features = len(frame)
    total = _total(arr, method, cell)
    meta = {
        "method": method,
        "cell_m": _num(cell),
        "bandwidth_m": "" if bw is None else _num(bw),
        "filter_ko": filter_ko,
        "filter_en": filter_en,
        "feature_count": str(features),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    def write(path: Path) -> Path:
        return write_density_geotiff(
            path, arr, grid.transform, method=method, cell_m=cell, bandwidth_m=bw, feature_count=features,
            filter_ko=filter_ko, filter_en=filter_en, title_ko=title_ko, title_en=title_en, units=UNITS[method],
            crs_epsg=grid.epsg,
        )

    layer: RasterLayer | None = None
    if out is not None:
        path = write(Path(out))
    else:
        fd, tmp = tempfile.mkstemp(suffix=".tif", prefix=f"{key}-")
        os.close(fd)
        path = write(Path(tmp))
    if register:
        if registry is None:
            from settings import raster_dir

            registry = RasterRegistry(raster_dir())
        try:
            layer = registry.register(
                path, key, title_ko, title_en, units=UNITS[method], colormap="YlOrRd", classification="quantile",
                n_classes=5, opacity=0.65, replace=True, kind="density", zero_is_transparent=True, meta=meta,
            )
        finally:
            if out is None:
                path.unlink(missing_ok=True)
        _prune_density_layers(registry, keep=key)
        path = layer.path
    return DensityResult(
        path=path, key=key, layer=layer, method=method, cell_m=cell, bandwidth_m=bw, features=features,
        total=total, max_value=float(np.nanmax(arr)), grid=grid,
    )


def _prune_density_layers(registry: RasterRegistry, keep: str, limit: int = MAX_DENSITY_LAYERS) -> None:
    layers = registry.list(["density"])
    if len(layers) <= limit:
        return
    oldest_first = sorted(layers, key=lambda layer: layer.meta.get("created", ""))
    for layer in oldest_first[: len(layers) - limit]:
        if layer.key != keep:
            try:
                registry.remove(layer.key)
            except KeyError:  # another session removed it first
                pass


# ---------------------------------------------------------------------------
# GeoJSON files and the command line
# ---------------------------------------------------------------------------


def read_geojson_geometries(path: str | Path) -> tuple[np.ndarray, int]:
    """The geometries of a GeoJSON FeatureCollection (WGS84 lon/lat) and how many features had none.

    Raises
    ------
    InvalidInput
        ``file_not_found``, ``bad_geojson``, ``not_feature_collection``,
        ``bad_crs``, ``bad_geometry``, ``not_lonlat``, ``no_features``.
    """
    p = Path(path)
    name = p.name
    if not p.is_file():
        raise InvalidInput("file_not_found", f"파일이 없습니다: {path}", f"File not found: {path}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidInput(
            "bad_geojson",
            f"'{name}'을(를) GeoJSON으로 읽을 수 없습니다({e}). UTF-8 GeoJSON 파일인지 확인해 주세요.",
            f"'{name}' cannot be read as GeoJSON ({e}). Check that it is a UTF-8 GeoJSON file.",
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InvalidInput(
            "not_feature_collection",
            f"'{name}'은(는) GeoJSON FeatureCollection이 아닙니다. 피처 모음(FeatureCollection)으로 저장해 주세요.",
            f"'{name}' is not a GeoJSON FeatureCollection. Save it as a FeatureCollection.",
        )
    crs = doc.get("crs")
    if crs is not None:
        crs_name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
        if not any(s in crs_name.upper() for s in ("CRS84", "EPSG::4326", "EPSG:4326")):
            raise InvalidInput(
                "bad_crs",
                f"'{name}'의 좌표계({crs_name or '?'})는 쓸 수 없습니다. GeoJSON은 경위도(WGS84, EPSG:4326)로 저장해 주세요.",
                f"The CRS of '{name}' ({crs_name or '?'}) cannot be used. Save the GeoJSON in longitude/latitude (WGS84, EPSG:4326).",
            )
    geoms: list[Any] = []
    skipped = 0
    for i, f in enumerate(doc["features"]):
        g = f.get("geometry") if isinstance(f, dict) else None
        if g is None:
            skipped += 1
            continue
        try:
            geom = shape(g)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError, shapely.errors.GEOSException):
            geom = None
        if geom is None or geom.is_empty:
            raise InvalidInput(
                "bad_geometry",
                f"{i + 1}번째 피처의 도형을 읽을 수 없습니다. GeoJSON 도형(Point, LineString, Polygon 등)인지 확인해 주세요.",
                f"The geometry of feature {i + 1} cannot be read. Check that it is a GeoJSON geometry (Point, LineString, Polygon, ...).",
            )
        minx, miny, maxx, maxy = geom.bounds
        if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise InvalidInput(
                "not_lonlat",
                f"{i + 1}번째 피처의 좌표가 경위도가 아닙니다. GeoJSON은 경도·위도(WGS84) 순서로 저장해야 합니다(미터 좌표 불가).",
                f"The coordinates of feature {i + 1} are not longitude/latitude. GeoJSON must be in WGS84 lon/lat (not metres).",
            )
        geoms.append(geom)
    if not geoms:
        raise InvalidInput(
            "no_features",
            f"'{name}'에 도형이 있는 피처가 없습니다. 도형이 있는 파일을 쓰세요.",
            f"'{name}' has no features with a geometry. Use a file with features.",
        )
    return np.array(geoms, dtype=object), skipped


def heatmap_from_geojson(
    path: str | Path,
    cell_m: float,
    method: str,
    bandwidth_m: float | None = None,
    out: str | Path = "heatmap.tif",
) -> DensityResult:
    """A density GeoTIFF (EPSG:5179) of the features of a GeoJSON file; no database, nothing registered.

    Parameters
    ----------
    path : path
        GeoJSON FeatureCollection in WGS84 lon/lat; features without a
        geometry are skipped (counted in ``skipped``).
    cell_m, method, bandwidth_m
        As in :func:`density_raster`.
    out : path
        The GeoTIFF to write (replaced atomically).

    Returns
    -------
    DensityResult
        ``layer`` is ``None``.

    Raises
    ------
    InvalidInput
        Bad parameters (checked before the file is read), a bad file (see
        :func:`read_geojson_geometries`), ``grid_too_large``, or
        ``cannot_write``.
    """
    cell, method, bw = _params(cell_m, method, bandwidth_m)
    geoms, skipped = read_geojson_geometries(path)
    arr, grid = _compute(geoms, cell, method, bw, None)
    name = Path(path).name
    title_ko, title_en = _titles(method, cell, bw, f"파일 {name}", f"file {name}")
    try:
        written = write_density_geotiff(
            out, arr, grid.transform, method=method, cell_m=cell, bandwidth_m=bw, feature_count=len(geoms),
            filter_ko=f"GeoJSON 파일 {name}", filter_en=f"GeoJSON file {name}", title_ko=title_ko, title_en=title_en,
            units=UNITS[method], crs_epsg=grid.epsg,
        )
    except OSError as e:
        raise InvalidInput(
            "cannot_write",
            f"결과 파일을 쓸 수 없습니다: {out} ({e.strerror or e}). 쓸 수 있는 위치를 고르세요.",
            f"Cannot write the output file: {out} ({e.strerror or e}). Choose a writable location.",
        ) from None
    return DensityResult(
        path=Path(written), key=density_key(method, cell, bw, None), layer=None, method=method, cell_m=cell, bandwidth_m=bw,
        features=len(geoms), total=_total(arr, method, cell), max_value=float(np.nanmax(arr)), grid=grid, skipped=skipped,
    )


def _number_arg(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise InvalidInput(
            "bad_number",
            f"{flag} 값 {text!r}는 숫자가 아닙니다. 미터 단위 숫자(예: {flag} 100)를 넣어 주세요.",
            f"The value {text!r} of {flag} is not a number. Give metres as a number (e.g. {flag} 100).",
        )
    return v


def cmd_heatmap(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``heatmap FILE --cell M --method count|kde [--bandwidth M] --out FILE.tif``.

    Exit status 0 when the GeoTIFF was written; 2 on bad input (parameters
    or file), with the reason in Korean and English on standard error.
    """
    out = out or sys.stdout
    try:
        cell = _number_arg(args.cell, "--cell")
        bandwidth = _number_arg(args.bandwidth, "--bandwidth")
        if args.method == "count" and bandwidth is not None:
            raise InvalidInput(
                "bandwidth_without_kde",
                "--bandwidth는 --method kde에서만 씁니다. 대역폭을 빼거나 kde를 고르세요.",
                "--bandwidth only applies to --method kde. Leave it out or choose kde.",
            )
        result = heatmap_from_geojson(args.file, cell, args.method, bandwidth, args.out)  # type: ignore[arg-type]
    except Refusal as e:
        print(f"{e.code}: {e.ko} / {e.en}", file=sys.stderr)
        return 2
    g = result.grid
    bw = f", bandwidth {_num(result.bandwidth_m)} m" if result.bandwidth_m is not None else ""
    print(
        f"밀도 래스터 저장 / density raster written: {result.path} "
        f"({result.features} features, {result.method}{bw}, {g.width}×{g.height} cells of {_num(g.cell_m)} m, EPSG:{g.epsg})",
        file=out,
    )
    if result.skipped:
        print(f"도형이 없는 피처 {result.skipped}개 제외 / {result.skipped} features without geometry skipped", file=out)
    return 0


def add_heatmap_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``heatmap`` command to ``python -m planning``'s subparsers; its handler is :func:`cmd_heatmap`.

    Numbers and the method are checked by the handler (not argparse), so a
    bad value is refused in both languages with exit status 2.
    """
    s = subparsers.add_parser(
        "heatmap",
        help="density GeoTIFF (EPSG:5179) of the features of a GeoJSON file: count per cell or kernel density per km²",
    )
    s.add_argument("file", help="GeoJSON FeatureCollection in WGS84 lon/lat")
    s.add_argument("--cell", required=True, help="cell size in metres (10 to 5000)")
    s.add_argument("--method", default="count", help="count (features per cell, default) or kde (Gaussian kernel, per km²)")
    s.add_argument("--bandwidth", default=None, help="kde only: kernel standard deviation in metres (default 500)")
    s.add_argument("--out", required=True, help="GeoTIFF to write")
    s.set_defaults(fn=cmd_heatmap)
    return s
