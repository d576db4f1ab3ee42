"""Raster layers the platform derives from its own reference data, and raster values at a proposal.

* :func:`register_voter_density`: the adult-population density raster (kind ``reference``);
* :func:`raster_values_at`: what every registered raster (reference, uploaded,
  density) holds at a proposal's representative point, for its card.
"""
from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.boundaries import city_outline
from geo.crs import metric_to_lonlat, to_metric
from geo.rasterize import rasterize_density, representative_xy
from layers.rasters import RasterLayer, RasterRefused, RasterRegistry, sample_values, write_geotiff
from planning.errors import InvalidInput
from planning.geography import districts_frame

if TYPE_CHECKING:
    from store import Store

VOTER_DENSITY_KEY = "voter-density"


def register_voter_density(store: Store, registry: RasterRegistry, cell_m: float = 200.0) -> RasterLayer:
    """Register (or refresh) the adult-population density raster: 2022 voters per km² of each budget district.

    Each cell takes the density of the district it falls in, so the raster is
    only as fine as the district polygons (approximate cells until official
    boundaries are imported, which the title says).
    """
    d = districts_frame(store)
    arr, grid = rasterize_density(d.geometry.values, d["voters"].to_numpy(), cell_m=cell_m, clip=city_outline())
    approximate = bool(d["approximate"].any())
    suffix_ko, suffix_en = (" (근사 경계)", " (approximate boundaries)") if approximate else ("", "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "voter_density.tif"
        write_geotiff(
            path,
            arr,
            grid.transform,
            crs_epsg=grid.epsg,
            nodata=np.nan,
            title="Eligible voters per km2 by administrative dong, 2022",
            units="voters/km2",
            source="National Election Commission 2022; district polygons from the store",
        )
        return registry.register(
            path,
            VOTER_DENSITY_KEY,
            "성인 인구 밀도 (2022 선거인수/km²)" + suffix_ko,
            "Adult population density (2022 voters/km²)" + suffix_en,
            units="명/km² · voters/km²",
            colormap="YlOrRd",
            classification="quantile",
            n_classes=5,
            opacity=0.55,
            replace=True,
            kind="reference",
        )


#: What a card shows for a raster without a value at the proposal (nodata, NaN, outside the raster).
NO_VALUE = {"ko": "값 없음", "en": "no value"}
#: What a card shows for a raster whose file cannot be read (missing or damaged); the other rasters still show.
UNREADABLE = {"ko": "읽을 수 없음", "en": "cannot be read"}


def format_raster_value(value: float) -> str:
    """A raster value as card text: thousands separators, at most three significant decimals below 1000."""
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def representative_lonlat(geometry_lonlat: BaseGeometry | Mapping[str, Any]) -> tuple[float, float]:
    """The representative point of a lon/lat geometry, as the density rasters place it (:func:`geo.rasterize.representative_xy`).

    Raises
    ------
    InvalidInput
        ``bad_geometry`` for a missing, empty or unreadable geometry.
    """
    try:
        geom = geometry_lonlat if isinstance(geometry_lonlat, BaseGeometry) else shape(geometry_lonlat)  # type: ignore[arg-type]
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
        geom = None
    xs = ys = np.empty(0)
    if geom is not None and not geom.is_empty:
        xs, ys, _ = representative_xy(np.array([to_metric(geom)], dtype=object))
    if xs.size == 0:
        raise InvalidInput(
            "bad_geometry",
            "제안의 도형이 없거나 읽을 수 없어 래스터 값을 찾을 수 없습니다. 도형을 다시 그려 주세요.",
            "The proposal has no readable geometry, so no raster value can be looked up. Please draw it again.",
        )
    lon, lat = metric_to_lonlat(xs, ys)
    return float(lon[0]), float(lat[0])


def raster_values_at(
    geometry_lonlat: BaseGeometry | Mapping[str, Any],
    lang: str = "ko",
    registry: RasterRegistry | None = None,
    kinds: Sequence[str] | None = None,
) -> list[tuple[str, str, str]]:
    """The value of every registered raster at a proposal, for its card.

    Parameters
    ----------
    geometry_lonlat : shapely geometry or GeoJSON geometry mapping
        The proposal, WGS84 lon/lat. Sampled at its representative point
        (a point itself, the middle of a line, a point inside a polygon),
        the same point the density rasters count it at.
    lang : {"ko", "en"}
    registry : RasterRegistry, optional
        Defaults to the one at ``settings.raster_dir()``.
    kinds : sequence of str, optional
        Only layers of these kinds (``reference``, ``uploaded``, ``density``).

    Returns
    -------
    list of (title, value_text, unit)
        In registration order. ``value_text`` is the formatted value (the
        category's name for a categorical layer), ``"값 없음"``/``"no value"``
        on nodata or outside the raster (``unit`` is then empty), and
        ``"읽을 수 없음"``/``"cannot be read"`` when the layer's file is
        missing or damaged.

    Raises
    ------
    InvalidInput
        ``bad_geometry``.
    """
    lang = "en" if lang == "en" else "ko"
    lon, lat = representative_lonlat(geometry_lonlat)
    if registry is None:
        from settings import raster_dir

        registry = RasterRegistry(raster_dir())
    rows: list[tuple[str, str, str]] = []
    for layer in registry.list(kinds):
        try:
            value = float(sample_values(layer, lon, lat))
        except RasterRefused:
            rows.append((layer.title(lang), UNREADABLE[lang], ""))
            continue
        if not math.isfinite(value):
            rows.append((layer.title(lang), NO_VALUE[lang], ""))
        elif layer.categorical:
            label = layer.category_labels.get(value)
            text = (label[1] if lang == "en" else label[0]) if label else (
                f"code {format_raster_value(value)}" if lang == "en" else f"코드 {format_raster_value(value)}"
            )
            rows.append((layer.title(lang), text, ""))
        else:
            rows.append((layer.title(lang), format_raster_value(value), layer.units))
    return rows


def upload_raster(
    store: Store,
    actor: Any,
    data: bytes,
    filename: str,
    title_ko: str,
    title_en: str | None = None,
    *,
    units: str = "",
    categorical: bool = False,
    registry: RasterRegistry | None = None,
) -> RasterLayer:
    """Register a GeoTIFF an admin uploaded (land use, flood risk, ...) as a map layer (admins only).

    The layer then shows on every map as an overlay with its legend and its
    value at a proposal's location shows on the proposal's card. A file
    that is not a readable GeoTIFF is refused in both languages and nothing
    is registered.
    """
    from planning.auth import actor_in, require_role
    from settings import raster_dir

    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
    registry = registry or RasterRegistry(raster_dir())
    try:
        layer = registry.register_upload(
            data, title_ko, title_en=title_en or None, filename=filename, units=units, categorical=categorical
        )
    except RasterRefused as e:
        raise InvalidInput(e.code, e.message("ko"), e.message("en")) from e
    with store.transaction() as tx:
        tx.audit.record(me.id, "raster.upload", f"raster:{layer.key}", {"file": filename, "title": title_ko, "categorical": categorical})
    return layer


def remove_raster(store: Store, actor: Any, key: str, registry: RasterRegistry | None = None) -> None:
    """Remove an uploaded or density raster layer (admins only); the platform's reference layers stay."""
    from planning.auth import actor_in, require_role
    from settings import raster_dir

    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
    registry = registry or RasterRegistry(raster_dir())
    try:
        layer = registry.get(key)
    except KeyError:
        raise InvalidInput("no_such_layer", f"'{key}' 레이어가 없습니다. 목록을 새로 고쳐 주세요.", f"There is no layer '{key}'. Please reload the list.") from None
    if layer.kind == "reference":
        raise InvalidInput(
            "reference_layer",
            f"'{layer.title('ko')}'은(는) 플랫폼 기준 레이어라 지울 수 없습니다.",
            f"'{layer.title('en')}' is a reference layer of the platform and cannot be removed.",
        )
    registry.remove(key)
    with store.transaction() as tx:
        tx.audit.record(me.id, "raster.remove", f"raster:{key}", {})
