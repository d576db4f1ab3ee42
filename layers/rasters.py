"""Raster layers: GeoTIFFs shown as coloured overlays with a legend.

Residents and planners see rasters (the platform's proposal-density raster,
land use, flood risk uploaded by admins) as images over the map. This module

* writes GeoTIFFs the one way the platform writes them (:func:`write_geotiff`:
  tiled 256x256, or smaller multiples of 16 for small rasters with
  ``block_size=None``, deflate with predictor, metadata tags, atomically);
* keeps uploaded rasters in a directory with an ``index.json``
  (:class:`RasterRegistry`), refusing files it cannot show with a bilingual
  :class:`RasterRefused`;
* turns a layer into an RGBA image in web mercator (EPSG:3857) with lon/lat
  bounds and legend classes (:func:`overlay_image`, cached on the file's path,
  mtime and size plus the layer's styling), and into folium objects
  (:func:`folium_overlay`, :func:`legend_html`);
* reads the value under lon/lat points (:func:`sample_values`) for proposal cards;
* writes proposal-density rasters with the tags that say how they were made
  (:func:`write_density_geotiff`) and registers admins' uploads from their
  bytes (:meth:`RasterRegistry.register_upload`). Every layer has a ``kind``:
  ``reference``, ``uploaded`` or ``density``.

CRS: rasters may be stored in any CRS (the platform writes EPSG:5179, metres).
Points in and bounds out are WGS84 lon/lat (EPSG:4326). Warping the pixels
to EPSG:3857 is done by rasterio/GDAL; points are moved with :mod:`geo.crs`
when the raster is in EPSG:5179 and with :func:`rasterio.warp.transform`
otherwise.

Colours: ColorBrewer schemes (Cynthia A. Brewer, Penn State, Apache-2.0
licence) and viridis (Stéfan van der Walt and Nathaniel Smith, CC0), written
here as colour stops so that matplotlib is not needed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import folium
import numpy as np
import rasterio
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import CRSError, RasterioError
from rasterio.windows import Window

from geo.crs import METRIC_EPSG, STORAGE_EPSG, folium_bounds, lonlat_to_metric
from geo.errors import Refusal
from layers.escape import escape_map_text  # HTML and JS-template-literal safe, like every map text

WEB_MERCATOR_EPSG = 3857
"""What Leaflet draws in; an ``ImageOverlay`` is stretched linearly in this CRS."""

GOYANG_LONLAT_BBOX: tuple[float, float, float, float] = (126.6, 37.55, 127.05, 37.8)
"""Goyang's bounding box (west, south, east, north) in lon/lat degrees, with a margin."""

DEFAULT_MAX_PIXELS = 25_000_000
"""Largest raster (width x height) the registry accepts: Goyang at 5 m is about 30 M."""

INDEX_NAME = "index.json"
INDEX_FORMAT = "goyang-raster-index"
INDEX_VERSION = 1

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_MAX_CATEGORIES = 256  # a legend with more rows is unreadable; more codes means it is not categorical
_QUANTILE_SAMPLE = 2_000_000  # quantiles of more valid pixels are estimated on an evenly strided sample
_SAMPLE_WINDOW_MAX_PIXELS = 4_000_000  # sample_values reads one window up to this size, else cell by cell

Classification = Literal["quantile", "equal_interval"]

RASTER_KINDS = ("reference", "uploaded", "density")
"""Where a layer comes from: the platform's reference data (voter density), an
admin's upload (land use, flood risk), or a planner's proposal-density raster."""

SOFTWARE = "goyang-community-map (layers.rasters)"
"""Written in the ``software`` and ``TIFFTAG_SOFTWARE`` tags of the GeoTIFFs the platform makes."""

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
"""Largest uploaded file :meth:`RasterRegistry.register_upload` accepts."""


# ---------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------


class RasterRefused(Refusal):
    """A raster file or layer setting that cannot be accepted or shown."""


class RasterIndexCorrupt(RasterRefused):
    """The registry's ``index.json`` cannot be read; it is left untouched for repair."""


def _refuse(code: str, ko: str, en: str) -> RasterRefused:
    return RasterRefused(code, ko, en)


# ---------------------------------------------------------------------------
# Colour maps
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Colormap:
    """A named list of colour stops.

    ``sequential`` maps are interpolated between stops, starting at ``start``
    (0..1) so the lightest class is not white on a white map; ``qualitative``
    maps hand out their stops in order, for categories.
    """

    name: str
    stops: tuple[str, ...]
    kind: Literal["sequential", "qualitative"] = "sequential"
    start: float = 0.0

    def colours(self, n: int) -> list[str]:
        """``n`` hex colours (``#rrggbb``) from this map, low to high."""
        if n <= 0:
            return []
        if self.kind == "qualitative":
            return [self.stops[i % len(self.stops)] for i in range(n)]
        rgb = np.array([_hex_to_rgb(s) for s in self.stops], dtype=float)
        ts = np.linspace(self.start, 1.0, n) if n > 1 else np.array([(self.start + 1.0) / 2])
        pos = np.linspace(0.0, 1.0, len(self.stops))
        out = np.column_stack([np.interp(ts, pos, rgb[:, c]) for c in range(3)])
        return [_rgb_to_hex(row) for row in out]


def _hex_to_rgb(s: str) -> tuple[int, int, int]:
    return int(s[1:3], 16), int(s[3:5], 16), int(s[5:7], 16)


def _rgb_to_hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


COLORMAPS: dict[str, Colormap] = {
    c.name: c
    for c in (
        Colormap(
            "YlOrRd",
            ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"),
            start=0.12,
        ),
        Colormap(
            "Blues",
            ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"),
            start=0.2,
        ),
        Colormap(
            "Greens",
            ("#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"),
            start=0.2,
        ),
        Colormap(
            "viridis",
            ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"),
        ),
        Colormap(
            "Set2",
            ("#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3"),
            kind="qualitative",
        ),
        Colormap(
            "Paired",
            (
                "#a6cee3", "#1f78b4", "#b2df8a", "#33a02c", "#fb9a99", "#e31a1c",
                "#fdbf6f", "#ff7f00", "#cab2d6", "#6a3d9a", "#ffff99", "#b15928",
            ),
            kind="qualitative",
        ),
    )
}


# ---------------------------------------------------------------------------
# The layer
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RasterLayer:
    """A GeoTIFF and how to show it.

    Parameters
    ----------
    key : str
        Slug (``a-z``, ``0-9``, ``-``, ``_``; up to 63 characters), unique in a registry.
    title_ko, title_en : str
        Title in the layer control and the legend.
    path : Path
        The GeoTIFF (any CRS with an EPSG-transformable definition).
    units : str
        Units of the pixel values, e.g. ``"proposals per cell"``; shown in the legend.
    colormap : str
        A name in :data:`COLORMAPS`.
    classes : sequence of float, optional
        Explicit class edges ``[b0, b1, ..., bk]`` (strictly increasing) giving
        ``k`` classes ``[b0, b1), ..., [bk-1, bk]``. Values below ``b0`` or above
        ``bk`` fall into the first or last class, whose legend label then
        becomes open-ended. Without it, ``n_classes`` classes by ``classification``.
    opacity : float
        0..1, applied by Leaflet to the whole image.
    categorical : bool
        Pixel values are codes (land use); each code gets its own colour.
    category_labels : mapping, optional
        ``{code: (ko, en)}`` legend labels for categorical layers.
    band : int
        1-based band to show.
    classification : {"quantile", "equal_interval"}
        How classes are computed (on valid pixels only) when ``classes`` is not given.
    n_classes : int
        Number of computed classes (fewer when values repeat).
    kind : {"reference", "uploaded", "density"}
        Where the layer comes from (:data:`RASTER_KINDS`).
    zero_is_transparent : bool
        Draw pixels whose value is 0 transparent and leave them out of the
        classes (density rasters: no proposals there). Sampling still
        returns 0.
    meta : mapping of str to str
        How the layer was made (a density raster's method, cell, bandwidth,
        filter, feature count), for pages that list layers.
    """

    key: str
    title_ko: str
    title_en: str
    path: Path
    units: str = ""
    colormap: str = "YlOrRd"
    classes: tuple[float, ...] | None = None
    opacity: float = 0.7
    categorical: bool = False
    category_labels: Mapping[float, tuple[str, str]] = field(default_factory=dict)
    band: int = 1
    classification: Classification = "quantile"
    n_classes: int = 5
    kind: str = "uploaded"
    zero_is_transparent: bool = False
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalise once so the cache key is stable and hashable parts are tuples/floats.
        object.__setattr__(self, "path", Path(self.path))
        if not isinstance(self.key, str) or not _KEY.match(self.key):
            raise _refuse(
                "bad_key",
                f"레이어 키 {self.key!r}는 쓸 수 없습니다. 영문 소문자·숫자·-·_ 로 63자 이내로 정해 주세요.",
                f"Layer key {self.key!r} is not allowed: use lower-case letters, digits, '-' and '_' (up to 63).",
            )
        if self.colormap not in COLORMAPS:
            names = ", ".join(COLORMAPS)
            raise _refuse(
                "unknown_colormap",
                f"색상표 {self.colormap!r}가 없습니다. 다음 중에서 고르세요: {names}",
                f"Unknown colour map {self.colormap!r}; choose one of: {names}",
            )
        if not (isinstance(self.opacity, (int, float)) and 0.0 <= float(self.opacity) <= 1.0):
            raise _refuse("bad_opacity", "불투명도는 0과 1 사이여야 합니다.", "Opacity must be between 0 and 1.")
        object.__setattr__(self, "opacity", float(self.opacity))
        if self.classification not in ("quantile", "equal_interval"):
            raise _refuse(
                "bad_classification",
                "분류 방식은 quantile(분위수) 또는 equal_interval(등간격)이어야 합니다.",
                "Classification must be 'quantile' or 'equal_interval'.",
            )
        if not (isinstance(self.n_classes, int) and 1 <= self.n_classes <= 12):
            raise _refuse("bad_n_classes", "등급 수는 1에서 12 사이여야 합니다.", "The number of classes must be 1 to 12.")
        if not (isinstance(self.band, int) and self.band >= 1):
            raise _refuse("bad_band", "밴드 번호는 1 이상이어야 합니다.", "The band number must be 1 or more.")
        if self.classes is not None:
            try:
                edges = tuple(float(b) for b in self.classes)
            except (TypeError, ValueError):
                edges = ()
            if len(edges) < 2 or not all(math.isfinite(b) for b in edges) or any(b >= c for b, c in itertools.pairwise(edges)):
                raise _refuse(
                    "bad_classes",
                    "등급 경계는 두 개 이상의, 차례로 커지는 숫자여야 합니다(예: 0, 5, 10, 20).",
                    "Class breaks must be two or more strictly increasing numbers (e.g. 0, 5, 10, 20).",
                )
            object.__setattr__(self, "classes", edges)
        labels: dict[float, tuple[str, str]] = {}
        for code, pair in dict(self.category_labels or {}).items():
            try:
                ko, en = pair
                labels[float(code)] = (str(ko), str(en))
            except (TypeError, ValueError):
                raise _refuse(
                    "bad_category_labels",
                    "범주 이름은 {코드: (한국어, 영어)} 형식이어야 합니다.",
                    "Category labels must be {code: (Korean, English)}.",
                ) from None
        object.__setattr__(self, "category_labels", labels)
        if self.kind not in RASTER_KINDS:
            raise _refuse(
                "bad_kind",
                f"레이어 종류 {self.kind!r}는 없습니다. reference(기준), uploaded(업로드), density(밀도) 중 하나여야 합니다.",
                f"Layer kind {self.kind!r} does not exist; it must be reference, uploaded or density.",
            )
        object.__setattr__(self, "zero_is_transparent", bool(self.zero_is_transparent))
        object.__setattr__(self, "meta", {str(k): str(v) for k, v in dict(self.meta or {}).items()})

    def title(self, lang: str = "ko") -> str:
        """The title in ``lang`` (``"ko"`` or ``"en"``)."""
        return self.title_en if lang == "en" else self.title_ko


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def write_geotiff(
    path: str | os.PathLike[str],
    array: np.ndarray,
    transform: Affine,
    crs_epsg: int | None = METRIC_EPSG,
    nodata: float | None = None,
    tags: Mapping[str, object] | None = None,
    *,
    title: str = "",
    units: str = "",
    source: str = "",
    block_size: int | None = 256,
    band_description: str = "",
) -> Path:
    """Write a tiled, deflate-compressed GeoTIFF; the platform's one raster writer.

    Parameters
    ----------
    path : path-like
        Destination. Written to a temporary file in the same directory and
        renamed, so a reader (the app) never sees a half-written raster.
    array : ndarray
        ``(rows, cols)`` for one band or ``(bands, rows, cols)``. Row 0 is north
        when ``transform`` has a negative y scale (the usual north-up grid).
    transform : affine.Affine
        Pixel to CRS coordinates, e.g. ``rasterio.transform.from_origin(x_west, y_north, cell_m, cell_m)``.
    crs_epsg : int or None
        EPSG code of the coordinates (default EPSG:5179, metres). ``None``
        writes no CRS (only useful to produce refusable test files).
    nodata : float, optional
        Value marking cells without data (``numpy.nan`` allowed for float arrays).
    tags : mapping, optional
        Extra dataset tags.
    title, units, source : str
        Stored as tags ``title``, ``units``, ``source``; a ``created`` tag
        (UTC, ISO 8601) is added unless ``tags`` carries one. ``units`` is
        also every band's unit (``src.units``).
    block_size : int or None
        Side of the square tiles, a multiple of 16 (a GeoTIFF rule). ``None``
        picks the smallest multiple of 16 that holds the raster, up to 256
        (:func:`tile_size`), so a small raster is not padded to 256x256.
    band_description : str
        Description of every band (``src.descriptions``).

    Returns
    -------
    Path
        ``path``.
    """
    dest = Path(path)
    data = np.asarray(array)
    if data.ndim == 2:
        data = data[np.newaxis, ...]
    if data.ndim != 3 or 0 in data.shape:
        raise ValueError(f"array must be (rows, cols) or (bands, rows, cols) and not empty, not shape {np.shape(array)}")
    if data.dtype == np.bool_:
        data = data.astype(np.uint8)
    if data.dtype.kind not in "uif":
        raise ValueError(f"array dtype must be integer or float, not {data.dtype}")
    block = tile_size(data.shape[2], data.shape[1]) if block_size is None else int(block_size)
    if block < 16 or block % 16:
        raise ValueError(f"block_size must be a positive multiple of 16, not {block_size!r}")
    if nodata is not None and data.dtype.kind in "ui":
        info = np.iinfo(data.dtype)
        if not (math.isfinite(nodata) and float(nodata).is_integer() and info.min <= nodata <= info.max):
            raise ValueError(f"nodata {nodata!r} cannot be stored in {data.dtype}")
    all_tags = {"title": title, "units": units, "source": source, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    all_tags.update({str(k): v for k, v in (tags or {}).items()})
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "transform": transform,
        "crs": CRS.from_epsg(crs_epsg) if crs_epsg is not None else None,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": block,
        "blockysize": block,
        "compress": "deflate",
        # Horizontal differencing (2) suits integers, floating-point prediction (3) floats.
        "predictor": 3 if data.dtype.kind == "f" else 2,
        "BIGTIFF": "IF_SAFER",
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_name = _new_temp_file(dest.parent, dest.name)
    try:
        with rasterio.open(tmp_name, "w", **profile) as dst:
            dst.write(data)
            dst.update_tags(**{k: str(v) for k, v in all_tags.items()})
            for b in range(1, data.shape[0] + 1):
                if band_description:
                    dst.set_band_description(b, band_description)
                if units:
                    dst.set_band_unit(b, units)
        _fsync_file(tmp_name)
        os.replace(tmp_name, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(dest.parent)
    return dest


def tile_size(width: int, height: int, largest: int = 256) -> int:
    """Tile side for a ``width`` x ``height`` raster: the smallest multiple of 16 holding it, at most ``largest``.

    Never exactly the raster's width when avoidable: rasterio (``profile["tiled"]``)
    and other readers take a block as wide as the image for a striped layout,
    so such a tile is made 16 pixels wider (or half as wide at ``largest``).
    """
    need = max(int(width), int(height), 1)
    t = int(min(largest, 16 * math.ceil(need / 16)))
    if t == int(width):
        t = t + 16 if t + 16 <= largest else (t // 2 if (t // 2) % 16 == 0 and t // 2 >= 16 else t)
    return t


def write_density_geotiff(
    path: str | os.PathLike[str],
    array: np.ndarray,
    transform: Affine,
    *,
    method: str,
    cell_m: float,
    feature_count: int,
    bandwidth_m: float | None = None,
    filter_ko: str = "",
    filter_en: str = "",
    title_ko: str = "",
    title_en: str = "",
    units: str = "",
    crs_epsg: int = METRIC_EPSG,
    extra_tags: Mapping[str, object] | None = None,
) -> Path:
    """Write a proposal-density raster with the metadata that says how it was made.

    The file is a GeoTIFF in ``crs_epsg`` (EPSG:5179), tiled (:func:`tile_size`:
    256x256, or the smallest multiple of 16 for a small raster), deflate
    with a predictor, through :func:`write_geotiff`. Nodata is ``-1`` for a
    count grid (integers; 0 is a real count) and NaN for a kernel density.

    Parameters
    ----------
    path : path-like
    array : ndarray
        ``(rows, cols)``: counts (integers) for ``count``, features per km²
        (floats) for ``kde``.
    transform : affine.Affine
    method : {"count", "kde"}
    cell_m : float
    feature_count : int
        Number of features the raster was made from.
    bandwidth_m : float, optional
        The kernel's bandwidth (``kde``).
    filter_ko, filter_en : str
        The selection, in words.
    title_ko, title_en : str
    units : str
    crs_epsg : int
    extra_tags : mapping, optional

    Notes
    -----
    Dataset tags: ``title`` (English), ``title_ko``, ``title_en``, ``method``,
    ``kernel`` (``gaussian`` or ``none``), ``cell_m``, ``bandwidth_m`` (``none``
    for counts), ``filter`` (English), ``filter_ko``, ``filter_en``,
    ``feature_count``, ``created`` (UTC ISO 8601), ``software``, ``units``,
    ``source``; and the TIFF tags ``TIFFTAG_SOFTWARE``,
    ``TIFFTAG_DATETIME``, ``TIFFTAG_IMAGEDESCRIPTION``. The band's
    description and unit are set too.
    """
    data = np.asarray(array)
    if data.ndim != 2:
        raise ValueError(f"a density raster has one band: (rows, cols), not shape {data.shape}")
    if data.dtype.kind in "ui":
        data = data.astype(np.int32)
        nodata: float = -1
    else:
        data = data.astype(np.float32)
        nodata = float("nan")
    now = datetime.now(UTC)
    tags: dict[str, object] = {
        "title_ko": title_ko,
        "title_en": title_en,
        "method": method,
        "kernel": "gaussian" if method == "kde" else "none",
        "cell_m": _fmt_plain(cell_m),
        "bandwidth_m": "none" if bandwidth_m is None else _fmt_plain(bandwidth_m),  # GDAL drops empty tags
        "filter": filter_en,
        "filter_ko": filter_ko,
        "filter_en": filter_en,
        "feature_count": int(feature_count),
        "created": now.isoformat(timespec="seconds"),
        "software": SOFTWARE,
        "TIFFTAG_SOFTWARE": SOFTWARE,
        "TIFFTAG_DATETIME": now.strftime("%Y:%m:%d %H:%M:%S"),
        "TIFFTAG_IMAGEDESCRIPTION": title_en,
    }
    tags.update({str(k): v for k, v in (extra_tags or {}).items()})
    description = "proposals per cell" if method == "count" else "proposals per km2 (Gaussian kernel density)"
    return write_geotiff(
        path, data, transform, crs_epsg=crs_epsg, nodata=nodata, tags=tags,
        title=title_en, units=units, source="proposals of the review set", block_size=None, band_description=description,
    )


def _fmt_plain(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _new_temp_file(directory: Path, name: str) -> str:
    """Create an empty, uniquely named hidden file next to ``name`` (same file system, so rename is atomic).

    Unlike ``tempfile.mkstemp`` (mode 0600) the mode follows the umask, so the
    renamed file is as readable as any other file the process writes.
    """
    while True:
        tmp = directory / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return str(tmp)
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue


def _fsync_file(path: str | os.PathLike[str]) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is; not possible on every OS.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` by temp file + fsync + rename: a crash leaves the old or the new file."""
    tmp_name = _new_temp_file(path.parent, path.name)
    try:
        with open(tmp_name, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


# ---------------------------------------------------------------------------
# Validation of files
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RasterInfo:
    """What validation learned about a GeoTIFF (bounds in lon/lat degrees)."""

    width: int
    height: int
    count: int
    dtype: str
    crs: str
    nodata: float | None
    lonlat_bounds: tuple[float, float, float, float]


def _printable(text: str | None) -> str:
    """``text`` without control, format (bidi marks), surrogate or unassigned characters."""
    if not text:
        return ""
    import unicodedata

    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")  # pairs joined, lone ones gone
    return unicodedata.normalize("NFC", "".join(ch for ch in text if unicodedata.category(ch)[0] != "C"))


def _upload_file_name(filename: Any) -> str:
    """The upload's base name, safe to create in a temporary folder and to show in messages.

    Folders, control characters (NUL included), lone surrogates, ``.``/``..``
    are dropped; the name is cut to 150 UTF-8 bytes, keeping its suffix.
    ``upload.tif`` when nothing is left.
    """
    name = _printable(str(filename or "")).replace("\\", "/")
    name = name.rsplit("/", 1)[-1].strip()
    if name.strip(".") == "":
        return "upload.tif"
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix.encode("utf-8")) > 10:
        stem, suffix = name, ""
    while len(name.encode("utf-8")) > 150:
        stem = stem[:-1]
        name = f"{stem}.{suffix}" if suffix else stem
    return name.strip() or "upload.tif"


def _unreadable(name: str) -> RasterRefused:
    return _refuse(
        "unreadable",
        f"'{name}' 파일을 읽을 수 없습니다. 파일이 잘렸거나 손상되었을 수 있습니다. 원본 파일을 다시 올려 주세요.",
        f"'{name}' cannot be read: the file may be truncated or damaged. Upload the original file again.",
    )


def inspect_geotiff(
    path: str | os.PathLike[str],
    band: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    read_data: bool = True,
    categorical: bool = False,
) -> RasterInfo:
    """Check that a file is a GeoTIFF the map can show; refuse it otherwise.

    Parameters
    ----------
    path : path-like
        The file.
    band : int, optional
        Band to show; required when the file has more than one band.
    max_pixels : int
        Largest accepted width x height.
    read_data : bool
        Also read every block of ``band`` (finds truncated or corrupt data,
        and rasters with no valid pixel). Header checks alone are cheap.
    categorical : bool
        Also refuse more than 256 distinct codes (needs ``read_data``).

    Returns
    -------
    RasterInfo

    Raises
    ------
    RasterRefused
        ``missing_file``, ``not_geotiff``, ``unreadable``, ``multiband``,
        ``bad_band``, ``too_large``, ``no_crs``, ``crs_unusable``,
        ``outside_goyang``, ``no_valid_pixels``, ``too_many_categories``.
    """
    p = Path(path)
    name = p.name
    try:
        with open(p, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise _refuse("missing_file", f"'{name}' 파일이 없습니다.", f"File '{name}' does not exist.") from None
    except OSError:
        raise _unreadable(name) from None
    # The magic number separates "another format" (a PNG renamed .tif) from "a damaged TIFF".
    if head not in _TIFF_MAGIC:
        raise _not_geotiff(name, head)
    try:
        # driver="GTiff" stops GDAL from opening the file as anything else by content.
        with rasterio.open(p, driver="GTiff") as src:
            info = _check_header(src, name, band, max_pixels)
            if read_data:
                _check_data(src, name, band or 1, categorical)
            return info
    except RasterRefused:
        raise
    except (RasterioError, OSError):
        raise _unreadable(name) from None


def _not_geotiff(name: str, head: bytes) -> RasterRefused:
    if not head:
        return _refuse(
            "not_geotiff",
            f"'{name}' 파일이 비어 있습니다. GeoTIFF(.tif) 파일을 올려 주세요.",
            f"'{name}' is empty. Upload a GeoTIFF (.tif) file.",
        )
    kind = "PNG" if head.startswith(b"\x89PNG") else "JPEG" if head.startswith(b"\xff\xd8") else None
    what_ko = f"{kind} 이미지입니다" if kind else "TIFF 형식이 아닙니다"
    what_en = f"it is a {kind} image" if kind else "it is not in TIFF format"
    return _refuse(
        "not_geotiff",
        f"'{name}'은(는) GeoTIFF 파일이 아닙니다({what_ko}). 좌표가 든 GeoTIFF(.tif)로 저장해 다시 올려 주세요.",
        f"'{name}' is not a GeoTIFF file ({what_en}). Save it as a georeferenced GeoTIFF (.tif) and upload it again.",
    )


def _check_header(src: rasterio.io.DatasetReader, name: str, band: int | None, max_pixels: int) -> RasterInfo:
    if band is None and src.count > 1:
        raise _refuse(
            "multiband",
            f"'{name}'에 밴드가 {src.count}개 있습니다. 지도에 표시할 밴드 하나를 band= 로 지정해 주세요.",
            f"'{name}' has {src.count} bands. Choose the one band to show with band=.",
        )
    if band is not None and not 1 <= band <= src.count:
        raise _refuse(
            "bad_band",
            f"'{name}'에는 밴드 {band}가 없습니다(1–{src.count}번만 있음).",
            f"'{name}' has no band {band} (it has bands 1–{src.count}).",
        )
    pixels = src.width * src.height
    if pixels > max_pixels:
        raise _refuse(
            "too_large",
            f"'{name}'이(가) 너무 큽니다({src.width}×{src.height} = {pixels:,} 픽셀, 최대 {max_pixels:,}). "
            "해상도를 낮추거나 고양시 범위로 잘라 주세요.",
            f"'{name}' is too large ({src.width}×{src.height} = {pixels:,} pixels, at most {max_pixels:,}). "
            "Lower its resolution or clip it to Goyang.",
        )
    if src.crs is None:
        raise _refuse(
            "no_crs",
            f"'{name}'에 좌표계(CRS) 정보가 없습니다. 좌표계를 지정한 GeoTIFF(예: EPSG:5179)로 다시 저장해 주세요.",
            f"'{name}' has no coordinate reference system (CRS). Save it again as a GeoTIFF with a CRS (e.g. EPSG:5179).",
        )
    try:
        west, south, east, north = rasterio.warp.transform_bounds(src.crs, CRS.from_epsg(STORAGE_EPSG), *src.bounds)
    except (CRSError, RasterioError):
        raise _refuse(
            "crs_unusable",
            f"'{name}'의 좌표계를 경위도로 바꿀 수 없습니다. EPSG 코드가 있는 좌표계(예: EPSG:5179)로 저장해 주세요.",
            f"The CRS of '{name}' cannot be converted to longitude/latitude. Save it with an EPSG CRS (e.g. EPSG:5179).",
        ) from None
    gw, gs, ge, gn = GOYANG_LONLAT_BBOX
    finite = all(math.isfinite(v) for v in (west, south, east, north))
    if not finite or west > ge or east < gw or south > gn or north < gs:
        where = f"{west:.3f}–{east:.3f}, {south:.3f}–{north:.3f}" if finite else "?"
        raise _refuse(
            "outside_goyang",
            f"'{name}'의 범위(경도·위도 {where})가 고양시(경도 {gw}–{ge}, 위도 {gs}–{gn})와 겹치지 않습니다. "
            "좌표계와 범위가 맞는지 확인해 주세요.",
            f"The extent of '{name}' (lon, lat {where}) does not overlap Goyang (lon {gw}–{ge}, lat {gs}–{gn}). "
            "Check its CRS and extent.",
        )
    return RasterInfo(
        width=src.width,
        height=src.height,
        count=src.count,
        dtype=src.dtypes[(band or 1) - 1],
        crs=src.crs.to_string(),
        nodata=src.nodata,
        lonlat_bounds=(west, south, east, north),
    )


def _check_data(src: rasterio.io.DatasetReader, name: str, band: int, categorical: bool) -> None:
    # Reading every block is what finds a truncated or corrupt file whose header is intact.
    any_valid = False
    codes: set[float] = set()
    for _, window in src.block_windows(band):
        values, _ = _valid_values(src.read(band, window=window, masked=True))
        if values.size:
            any_valid = True
            if categorical and len(codes) <= _MAX_CATEGORIES:
                codes.update(np.unique(values).tolist())
    if not any_valid:
        raise _refuse(
            "no_valid_pixels",
            f"'{name}'에 값이 있는 픽셀이 없습니다(모두 nodata). 다른 파일을 올려 주세요.",
            f"'{name}' has no valid pixels (all nodata). Upload another file.",
        )
    if categorical and len(codes) > _MAX_CATEGORIES:
        raise _refuse(
            "too_many_categories",
            f"'{name}'의 서로 다른 값이 {_MAX_CATEGORIES}개를 넘어 범주형으로 표시할 수 없습니다. 연속값 레이어로 올려 주세요.",
            f"'{name}' has more than {_MAX_CATEGORIES} distinct values, too many for categories. Upload it as a continuous layer.",
        )


def _valid_values(masked: np.ma.MaskedArray) -> tuple[np.ndarray, np.ndarray]:
    """Valid values (float64, 1-D) and the 2-D validity mask: not nodata/masked and not NaN."""
    data = np.ma.getdata(masked).astype(np.float64, copy=False)
    valid = ~np.ma.getmaskarray(masked) & np.isfinite(data)
    return data[valid], valid


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


class RasterRegistry:
    """Raster layers kept in a directory: ``index.json`` plus one GeoTIFF per layer.

    The index is re-read on every call, so several instances (Streamlit
    sessions, the CLI) see each other's changes. Every write goes to a
    temporary file that is renamed into place; a new layer's GeoTIFF gets a
    fresh file name and the index is written after it, so a crash leaves at
    worst an unreferenced file, never an index entry without its file. A
    damaged index raises :class:`RasterIndexCorrupt` and is never reset.

    Parameters
    ----------
    directory : path-like
        Created if missing (e.g. ``settings.VAR_DIR / "rasters"``).
    max_pixels : int
        Largest accepted raster (width x height).
    """

    def __init__(self, directory: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.directory = Path(directory)
        self.max_pixels = int(max_pixels)
        self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def index_path(self) -> Path:
        return self.directory / INDEX_NAME

    # -- public ---------------------------------------------------------------

    def list(self, kinds: Sequence[str] | None = None) -> list[RasterLayer]:
        """All layers, in registration order; only those of ``kinds`` (see :data:`RASTER_KINDS`) when given."""
        layers = [self._layer(e) for e in self._load()]
        if kinds is None:
            return layers
        wanted = {kinds} if isinstance(kinds, str) else set(kinds)
        return [layer for layer in layers if layer.kind in wanted]

    def get(self, key: str) -> RasterLayer:
        """The layer ``key``; ``KeyError`` when there is none."""
        for e in self._load():
            if e["key"] == key:
                return self._layer(e)
        raise KeyError(key)

    def register(
        self,
        src_path: str | os.PathLike[str],
        key: str,
        title_ko: str,
        title_en: str,
        *,
        units: str = "",
        colormap: str = "YlOrRd",
        classes: Sequence[float] | None = None,
        opacity: float = 0.7,
        categorical: bool = False,
        category_labels: Mapping[float, tuple[str, str]] | None = None,
        band: int | None = None,
        classification: Classification = "quantile",
        n_classes: int = 5,
        replace: bool = False,
        kind: str = "uploaded",
        zero_is_transparent: bool = False,
        meta: Mapping[str, str] | None = None,
    ) -> RasterLayer:
        """Validate a GeoTIFF, copy it into the registry and record it.

        Parameters
        ----------
        src_path : path-like
            The uploaded GeoTIFF (any CRS; must overlap Goyang). Not modified.
        key, title_ko, title_en, units, colormap, classes, opacity, categorical, category_labels, classification, n_classes
            As in :class:`RasterLayer`.
        band : int, optional
            Band to show; required when the file has several bands.
        replace : bool
            Replace an existing layer with the same key (else refused).
        kind, zero_is_transparent, meta
            As in :class:`RasterLayer` (``kind`` defaults to ``"uploaded"``).

        Returns
        -------
        RasterLayer
            The registered layer, its ``path`` inside the registry directory.

        Raises
        ------
        RasterRefused
            The file or a setting cannot be accepted (see :func:`inspect_geotiff`),
            or ``duplicate_key``.
        RasterIndexCorrupt
            The index cannot be read.
        """
        # Checking the settings first refuses a bad colour map before copying a large file.
        layer = RasterLayer(
            key=key, title_ko=title_ko, title_en=title_en, path=Path(src_path), units=units, colormap=colormap,
            classes=tuple(classes) if classes is not None else None, opacity=opacity, categorical=categorical,
            category_labels=dict(category_labels or {}), band=band or 1, classification=classification, n_classes=n_classes,
            kind=kind, zero_is_transparent=zero_is_transparent, meta=dict(meta or {}),
        )
        # Header checks on the upload are cheap and refuse most bad files before any copy.
        inspect_geotiff(src_path, band=band, max_pixels=self.max_pixels, read_data=False)
        with self._locked():
            entries = self._load()
            old = next((e for e in entries if e["key"] == key), None)
            if old is not None and not replace:
                raise _refuse(
                    "duplicate_key",
                    f"'{key}' 레이어가 이미 있습니다. 다른 키를 쓰거나 교체(replace)를 선택해 주세요.",
                    f"A layer '{key}' already exists. Use another key or choose to replace it.",
                )
            file_name = f"{key}-{uuid.uuid4().hex[:12]}.tif"
            final = self.directory / file_name
            tmp_name = _new_temp_file(self.directory, file_name)
            try:
                shutil.copyfile(src_path, tmp_name)
                _fsync_file(tmp_name)
                # Validate the copy, block by block: what we keep is what we checked.
                info = inspect_geotiff(tmp_name, band=band, max_pixels=self.max_pixels, read_data=True, categorical=categorical)
                os.replace(tmp_name, final)
            except BaseException as exc:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)
                if isinstance(exc, RasterRefused) and exc.code != "duplicate_key":
                    # Messages name the upload, not our temporary copy.
                    tmp_base = Path(tmp_name).name
                    src_base = Path(src_path).name
                    raise RasterRefused(exc.code, exc.ko.replace(tmp_base, src_base), exc.en.replace(tmp_base, src_base)) from None
                raise
            entry = {
                "key": key,
                "title_ko": layer.title_ko,
                "title_en": layer.title_en,
                "file": file_name,
                "units": layer.units,
                "colormap": layer.colormap,
                "classes": list(layer.classes) if layer.classes is not None else None,
                "opacity": layer.opacity,
                "categorical": layer.categorical,
                "category_labels": [[code, ko, en] for code, (ko, en) in layer.category_labels.items()],
                "band": layer.band,
                "classification": layer.classification,
                "n_classes": layer.n_classes,
                "kind": layer.kind,
                "zero_is_transparent": layer.zero_is_transparent,
                "meta": dict(layer.meta),
                "source_name": Path(src_path).name,
                "crs": info.crs,
                "width": info.width,
                "height": info.height,
                "registered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            new_entries = [entry if e is old else e for e in entries] if old is not None else [*entries, entry]
            try:
                self._save(new_entries)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    final.unlink()
                raise
            if old is not None:
                # Only now: until the index names the new file, the old one must stay.
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / old["file"]).unlink()
            return self._layer(entry)

    def register_upload(
        self,
        data: bytes,
        title: str,
        *,
        title_en: str | None = None,
        filename: str = "upload.tif",
        key: str | None = None,
        units: str = "",
        colormap: str = "YlOrRd",
        categorical: bool = False,
        category_labels: Mapping[float, tuple[str, str]] | None = None,
        band: int | None = None,
        opacity: float = 0.7,
        classification: Classification = "quantile",
        n_classes: int = 5,
        replace: bool = False,
        max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    ) -> RasterLayer:
        """Register a GeoTIFF an admin uploaded (land use, flood risk, ...) from its bytes.

        What a page calls with ``st.file_uploader``'s ``getvalue()`` and a title.
        The bytes go to a temporary file named like the upload, are checked
        and copied in by :meth:`register` (``kind="uploaded"``), and the
        temporary file is removed, whatever happens.

        Parameters
        ----------
        data : bytes
            The uploaded file.
        title : str
            Title in the layer control (Korean; also English unless ``title_en``).
        title_en : str, optional
        filename : str
            The upload's name, used in messages and kept as ``source_name``.
        key : str, optional
            Defaults to the file name's stem as a slug (``flood_risk.tif`` ->
            ``flood_risk``; ``upload`` when nothing is left), with ``-2``,
            ``-3``, ... when taken (unless ``replace``).
        units, colormap, categorical, category_labels, band, opacity, classification, n_classes, replace
            As in :meth:`register`.
        max_bytes : int
            Largest accepted upload.

        Returns
        -------
        RasterLayer

        Raises
        ------
        RasterRefused
            ``missing_title``, ``title_too_long``, ``file_too_large``, and every
            refusal of :meth:`register` (``not_geotiff`` for another format or
            an empty file, ``unreadable`` for a truncated one, ...), naming the
            upload.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be the uploaded bytes")
        title_ko = _printable(title).strip() if isinstance(title, str) else ""
        title_en_clean = _printable(title_en).strip() if isinstance(title_en, str) else ""
        if not title_ko:
            raise _refuse(
                "missing_title",
                "레이어 제목이 비어 있습니다. 지도에 보일 제목(예: 침수 위험도)을 넣어 주세요.",
                "The layer title is empty. Give the title shown on the map (e.g. Flood risk).",
            )
        if len(title_ko) > 120 or len(title_en_clean) > 120:
            raise _refuse(
                "title_too_long",
                "레이어 제목은 120자 이내로 써 주세요.",
                "Keep the layer title to 120 characters or fewer.",
            )
        safe_name = _upload_file_name(filename)
        if len(data) > max_bytes:
            raise _refuse(
                "file_too_large",
                f"'{safe_name}' 파일이 너무 큽니다({len(data):,} 바이트, 최대 {max_bytes:,}). 해상도를 낮추거나 고양시 범위로 잘라 주세요.",
                f"'{safe_name}' is too large ({len(data):,} bytes, at most {max_bytes:,}). Lower its resolution or clip it to Goyang.",
            )
        if key is None:
            base = re.sub(r"[^a-z0-9_-]+", "-", Path(safe_name).stem.lower()).strip("-_")[:50] or "upload"
            if not base[0].isalnum():
                base = "upload-" + base
            taken = {e["key"] for e in self._load()}
            key = base
            n = 2
            while key in taken and not replace:
                key = f"{base}-{n}"
                n += 1
        import tempfile

        with tempfile.TemporaryDirectory(prefix="goyang-upload-") as tmp:
            tmp_path = Path(tmp) / safe_name
            tmp_path.write_bytes(bytes(data))
            return self.register(
                tmp_path, key, title_ko, title_en_clean or title_ko, units=units, colormap=colormap, opacity=opacity,
                categorical=categorical, category_labels=category_labels, band=band, classification=classification,
                n_classes=n_classes, replace=replace, kind="uploaded",
            )

    def remove(self, key: str) -> None:
        """Forget layer ``key`` and delete its file; ``KeyError`` when there is none."""
        with self._locked():
            entries = self._load()
            old = next((e for e in entries if e["key"] == key), None)
            if old is None:
                raise KeyError(key)
            self._save([e for e in entries if e is not old])
            with contextlib.suppress(FileNotFoundError):
                (self.directory / old["file"]).unlink()

    # -- internals ------------------------------------------------------------

    def _layer(self, e: Mapping[str, Any]) -> RasterLayer:
        return RasterLayer(
            key=e["key"], title_ko=e["title_ko"], title_en=e["title_en"], path=self.directory / e["file"],
            units=e.get("units", ""), colormap=e.get("colormap", "YlOrRd"),
            classes=tuple(e["classes"]) if e.get("classes") is not None else None, opacity=e.get("opacity", 0.7),
            categorical=bool(e.get("categorical", False)),
            category_labels={code: (ko, en) for code, ko, en in e.get("category_labels", [])},
            band=e.get("band", 1), classification=e.get("classification", "quantile"), n_classes=e.get("n_classes", 5),
            kind=e.get("kind", "uploaded"), zero_is_transparent=bool(e.get("zero_is_transparent", False)),
            meta=e.get("meta") or {},
        )

    def _corrupt(self, detail_ko: str, detail_en: str) -> RasterIndexCorrupt:
        p = self.index_path
        return RasterIndexCorrupt(
            "index_corrupt",
            f"래스터 레이어 목록 파일({p})이 손상되어 읽을 수 없습니다: {detail_ko}. "
            "파일은 그대로 두었습니다. 백업에서 복구하거나 관리자에게 알려 주세요.",
            f"The raster layer index ({p}) is damaged and cannot be read: {detail_en}. "
            "It was left as it is; restore it from a backup or tell an administrator.",
        )

    def _load(self) -> list[dict[str, Any]]:
        p = self.index_path
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []  # a new registry; an existing but broken index is never treated like this
        except (OSError, UnicodeDecodeError) as exc:
            raise self._corrupt(f"읽기 오류 {exc}", f"read error {exc}") from exc
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self._corrupt(f"JSON 오류 {exc}", f"invalid JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != INDEX_FORMAT or not isinstance(doc.get("layers"), list):
            raise self._corrupt("형식이 맞지 않습니다", "not a raster layer index")
        if doc.get("version") != INDEX_VERSION:
            raise self._corrupt(
                f"지원하지 않는 버전 {doc.get('version')!r}", f"unsupported version {doc.get('version')!r}"
            )
        entries = doc["layers"]
        seen: set[str] = set()
        for i, e in enumerate(entries):
            ok = (
                isinstance(e, dict)
                and all(isinstance(e.get(k), str) for k in ("key", "title_ko", "title_en", "file"))
                # A bare file name only: a hand-edited index must not point outside the directory.
                and e["file"] == Path(e["file"]).name
                and e["file"] not in ("", ".", "..", INDEX_NAME)
                and e["key"] not in seen
            )
            if not ok:
                raise self._corrupt(f"{i + 1}번째 항목이 잘못되었습니다", f"entry {i + 1} is invalid")
            seen.add(e["key"])
            try:
                self._layer(e)
            except (RasterRefused, TypeError, ValueError) as exc:
                raise self._corrupt(f"{i + 1}번째 항목이 잘못되었습니다", f"entry {i + 1} is invalid ({exc})") from exc
        return entries

    def _save(self, entries: list[dict[str, Any]]) -> None:
        doc = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "layers": entries}
        _atomic_write_text(self.index_path, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Two admins registering at once must not lose one another's entry (read-modify-write).
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: atomic renames only
            yield
            return
        with open(self.directory / ".lock", "a+") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------------
# Classes and legend
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendClass:
    """One legend row: a colour and what it stands for.

    ``lower``/``upper`` bound the class in the layer's units (``None`` when
    open-ended); ``value`` is the code of a categorical class.
    """

    colour: str
    label_ko: str
    label_en: str
    lower: float | None = None
    upper: float | None = None
    value: float | None = None

    def label(self, lang: str = "ko") -> str:
        """The label in ``lang``."""
        return self.label_en if lang == "en" else self.label_ko


def _fmt(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def class_breaks(values: np.ndarray, n_classes: int, classification: Classification = "quantile") -> np.ndarray:
    """Class edges ``[min, ..., max]`` for valid ``values`` (1-D, finite).

    Quantile edges that coincide (many equal values, e.g. zero counts) are
    merged, so there may be fewer than ``n_classes`` classes; a constant raster
    has one class ``[v, v]``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no valid values to classify")
    vmin, vmax = float(values.min()), float(values.max())
    if vmin == vmax:
        return np.array([vmin, vmax])
    if classification == "equal_interval":
        return np.linspace(vmin, vmax, n_classes + 1)
    sample = values if values.size <= _QUANTILE_SAMPLE else values[:: values.size // _QUANTILE_SAMPLE + 1]
    edges = np.quantile(sample, np.linspace(0.0, 1.0, n_classes + 1))
    edges[0], edges[-1] = vmin, vmax  # exact even when the quantiles were estimated on a sample
    return np.unique(edges)


def _continuous_legend(edges: np.ndarray, vmin: float, vmax: float, colours: list[str]) -> list[LegendClass]:
    """Legend rows for class ``edges``; end classes are open-ended when data lie beyond the edges."""
    k = max(len(edges) - 1, 1)
    legend = []
    for i in range(k):
        lo, hi = float(edges[i]), float(edges[min(i + 1, len(edges) - 1)])
        open_low = i == 0 and vmin < lo
        open_high = i == k - 1 and vmax > hi
        if open_low and open_high:
            ko = en = f"{_fmt(vmin)} – {_fmt(vmax)}"
        elif open_low:
            ko, en = f"{_fmt(hi)} 미만", f"< {_fmt(hi)}"
        elif open_high:
            ko, en = f"{_fmt(lo)} 이상", f"≥ {_fmt(lo)}"
        elif lo == hi:
            ko = en = _fmt(lo)
        else:
            ko = en = f"{_fmt(lo)} – {_fmt(hi)}"
        legend.append(
            LegendClass(colours[i], ko, en, lower=None if open_low else lo, upper=None if open_high else hi)
        )
    return legend


def _classify(data: np.ndarray, valid: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Class index per pixel: 0 for invalid, 1..k for classes (values on an inner edge go up)."""
    k = max(len(edges) - 1, 1)
    idx = np.zeros(data.shape, dtype=np.uint16)
    inner = edges[1:-1]
    idx[valid] = np.clip(np.searchsorted(inner, data[valid], side="right"), 0, k - 1).astype(np.uint16) + 1
    return idx


# ---------------------------------------------------------------------------
# Overlay image
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OverlayImage:
    """A raster ready for ``folium.raster_layers.ImageOverlay``.

    Attributes
    ----------
    rgba : ndarray
        ``(rows, cols, 4)`` uint8, north-up, in EPSG:3857 (web mercator);
        alpha 0 where there is no data. Read-only: it is shared by the cache.
    bounds : list
        ``[[south, west], [north, east]]`` in degrees (EPSG:4326).
    legend : tuple of LegendClass
        Low to high (or by code for categorical layers).
    breaks : tuple of float
        Class edges in the layer's units (empty for categorical layers).
    value_range : tuple of float
        Smallest and largest valid value.
    """

    rgba: np.ndarray
    bounds: list[list[float]]
    legend: tuple[LegendClass, ...]
    breaks: tuple[float, ...]
    value_range: tuple[float, float]


@dataclass(frozen=True)
class _OverlayKey:
    """Everything the image depends on: the file's identity and the styling that changes pixels or labels."""

    path: str
    mtime_ns: int
    size: int
    band: int
    colormap: str
    classes: tuple[float, ...] | None
    classification: str
    n_classes: int
    categorical: bool
    category_labels: tuple[tuple[float, str, str], ...]
    max_size: int
    zero_is_transparent: bool = False


def overlay_key(layer: RasterLayer, max_size: int = 1024) -> _OverlayKey:
    """The cache key of :func:`overlay_image` (usable with ``st.cache_data`` too)."""
    try:
        st = os.stat(layer.path)
    except FileNotFoundError:
        raise _refuse(
            "missing_file",
            f"'{layer.key}' 레이어의 파일({layer.path.name})이 없습니다.",
            f"The file of layer '{layer.key}' ({layer.path.name}) is missing.",
        ) from None
    return _OverlayKey(
        path=str(layer.path.resolve()),
        mtime_ns=st.st_mtime_ns,
        size=st.st_size,
        band=layer.band,
        colormap=layer.colormap,
        classes=layer.classes,
        classification=layer.classification,
        n_classes=layer.n_classes,
        categorical=layer.categorical,
        category_labels=tuple(sorted((c, ko, en) for c, (ko, en) in layer.category_labels.items())),
        max_size=int(max_size),
        zero_is_transparent=layer.zero_is_transparent,
    )


def overlay_image(layer: RasterLayer, max_size: int = 1024) -> OverlayImage:
    """The layer as an RGBA image in web mercator, with lon/lat bounds and legend.

    Parameters
    ----------
    layer : RasterLayer
        Any CRS; warped to EPSG:3857 by GDAL.
    max_size : int
        Longest side of the image in pixels (the source resolution is kept
        when smaller). The whole image travels to the browser on every rerun.

    Returns
    -------
    OverlayImage
        Cached on (path, mtime, size, styling, ``max_size``): Streamlit reruns
        reuse it; rewriting the file changes the key.

    Notes
    -----
    Pixels are classified at source resolution (nodata, masked and NaN
    pixels, and zeros of a ``zero_is_transparent`` layer, get class 0) and the class indices are warped, nearest neighbour
    when enlarging and the most frequent class when shrinking, so colours are
    never blended across classes or into nodata.
    """
    if max_size < 1:
        raise ValueError("max_size must be at least 1")
    cached = _render_overlay(overlay_key(layer, max_size))
    # A fresh bounds list: callers may mutate it, the cached image must not change.
    return dataclasses.replace(cached, bounds=[list(b) for b in cached.bounds])


def clear_overlay_cache() -> None:
    """Forget every cached overlay image."""
    _render_overlay.cache_clear()


@lru_cache(maxsize=32)  # up to 32 images of at most 1024x1024x4 bytes: 128 MB worst case
def _render_overlay(key: _OverlayKey) -> OverlayImage:
    cmap = COLORMAPS[key.colormap]
    try:
        with rasterio.open(key.path, driver="GTiff") as src:
            if not 1 <= key.band <= src.count:
                raise _refuse(
                    "bad_band",
                    f"'{Path(key.path).name}'에는 밴드 {key.band}가 없습니다.",
                    f"'{Path(key.path).name}' has no band {key.band}.",
                )
            if src.crs is None:
                raise _refuse(
                    "no_crs",
                    f"'{Path(key.path).name}'에 좌표계(CRS) 정보가 없습니다.",
                    f"'{Path(key.path).name}' has no coordinate reference system (CRS).",
                )
            masked = src.read(key.band, masked=True)
            src_crs, src_transform, src_bounds = src.crs, src.transform, src.bounds
            width, height = src.width, src.height
    except RasterRefused:
        raise
    except (RasterioError, OSError):
        raise _unreadable(Path(key.path).name) from None

    data = np.ma.getdata(masked).astype(np.float64, copy=False)
    valid = ~np.ma.getmaskarray(masked) & np.isfinite(data)
    if key.zero_is_transparent:
        valid &= data != 0
    values = data[valid]
    if values.size == 0:
        raise _refuse(
            "no_valid_pixels",
            f"'{Path(key.path).name}'에 값이 있는 픽셀이 없습니다.",
            f"'{Path(key.path).name}' has no valid pixels.",
        )
    value_range = (float(values.min()), float(values.max()))

    if key.categorical:
        codes = np.unique(values)
        if len(codes) > _MAX_CATEGORIES:  # layers built in code skip the registry's check
            raise _refuse(
                "too_many_categories",
                f"'{Path(key.path).name}'의 서로 다른 값이 {_MAX_CATEGORIES}개를 넘어 범주형으로 표시할 수 없습니다.",
                f"'{Path(key.path).name}' has more than {_MAX_CATEGORIES} distinct values, too many for categories.",
            )
        labels = {c: (ko, en) for c, ko, en in key.category_labels}
        colours = cmap.colours(len(codes))
        legend = tuple(
            LegendClass(col, *labels.get(float(c), (f"코드 {_fmt(c)}", f"code {_fmt(c)}")), value=float(c))
            for c, col in zip(codes, colours, strict=True)
        )
        index = np.zeros(data.shape, dtype=np.uint16)
        index[valid] = np.searchsorted(codes, values).astype(np.uint16) + 1
        breaks: tuple[float, ...] = ()
    else:
        edges = np.asarray(key.classes, dtype=np.float64) if key.classes is not None else class_breaks(
            values, key.n_classes, key.classification  # type: ignore[arg-type]
        )
        colours = cmap.colours(max(len(edges) - 1, 1))
        legend = tuple(_continuous_legend(edges, *value_range, colours))
        index = _classify(data, valid, edges)
        breaks = tuple(float(b) for b in edges)

    dst_crs = CRS.from_epsg(WEB_MERCATOR_EPSG)
    dst_transform, dst_w, dst_h = rasterio.warp.calculate_default_transform(src_crs, dst_crs, width, height, *src_bounds)
    shrinking = max(dst_w, dst_h) > key.max_size
    if shrinking:
        scale = key.max_size / max(dst_w, dst_h)
        dst_w, dst_h = max(1, round(dst_w * scale)), max(1, round(dst_h * scale))
        dst_transform, dst_w, dst_h = rasterio.warp.calculate_default_transform(
            src_crs, dst_crs, width, height, *src_bounds, dst_width=dst_w, dst_height=dst_h
        )
    warped = np.zeros((dst_h, dst_w), dtype=np.uint16)
    rasterio.warp.reproject(
        source=index,
        destination=warped,
        src_transform=src_transform,
        src_crs=src_crs,
        src_nodata=0,
        dst_transform=dst_transform,
        dst_crs=dst_crs,
        dst_nodata=0,
        # Class indices are labels, not quantities: never average them.
        resampling=Resampling.mode if shrinking else Resampling.nearest,
    )

    palette = np.zeros((len(legend) + 1, 4), dtype=np.uint8)  # row 0: fully transparent
    for i, entry in enumerate(legend, start=1):
        palette[i, :3] = _hex_to_rgb(entry.colour)
        palette[i, 3] = 255  # the layer's opacity is applied by Leaflet to the whole image
    rgba = palette[warped]
    rgba.flags.writeable = False

    left, top = dst_transform.c, dst_transform.f
    right, bottom = left + dst_transform.a * dst_w, top + dst_transform.e * dst_h
    west, south, east, north = rasterio.warp.transform_bounds(
        dst_crs, CRS.from_epsg(STORAGE_EPSG), min(left, right), min(top, bottom), max(left, right), max(top, bottom)
    )
    return OverlayImage(
        rgba=rgba,
        bounds=folium_bounds(west, south, east, north),
        legend=legend,
        breaks=breaks,
        value_range=value_range,
    )


# ---------------------------------------------------------------------------
# folium
# ---------------------------------------------------------------------------


def folium_overlay(layer: RasterLayer, lang: str = "ko", max_size: int = 1024, show: bool = True) -> folium.raster_layers.ImageOverlay:
    """The layer as a folium ``ImageOverlay`` for a map with a ``LayerControl``.

    Parameters
    ----------
    layer : RasterLayer
    lang : {"ko", "en"}
        Language of the name shown in the layer control.
    max_size : int
        As in :func:`overlay_image`.
    show : bool
        Whether the layer is on when the map opens.

    Notes
    -----
    The image is already in EPSG:3857, so ``mercator_project=False``: folium's
    ``mercator_project=True`` would stretch an image assumed to be in lon/lat a
    second time. Leaflet's layer control sets layer names as HTML, so the
    name is escaped.
    """
    img = overlay_image(layer, max_size)
    return folium.raster_layers.ImageOverlay(
        image=img.rgba,
        bounds=img.bounds,
        origin="upper",
        mercator_project=False,
        pixelated=True,
        name=escape_map_text(layer.title(lang)),
        overlay=True,
        control=True,
        show=show,
        opacity=layer.opacity,
        interactive=False,
    )


def legend_html(layer: RasterLayer, lang: str = "ko", max_size: int = 1024) -> str:
    """A small HTML legend for the layer: title, units and one swatch per class.

    Every text (title, units, labels) is escaped for HTML and JavaScript
    template literals; colours come from :data:`COLORMAPS`. Uses the same
    cached computation as :func:`overlay_image`.
    """
    img = overlay_image(layer, max_size)
    title = escape_map_text(layer.title(lang))
    units = f' <span style="font-weight:400;color:#555">({escape_map_text(layer.units)})</span>' if layer.units else ""
    rows = "".join(
        '<div style="margin:2px 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:16px;height:11px;background:{c.colour};opacity:{layer.opacity:.2f};'
        'border:1px solid rgba(0,0,0,.25);vertical-align:middle;margin-right:5px"></span>'
        f"{escape_map_text(c.label(lang))}</div>"
        for c in img.legend
    )
    return (
        f'<div class="goyang-raster-legend" data-layer="{escape_map_text(layer.key)}" '
        'style="background:rgba(255,255,255,.92);padding:6px 9px;border-radius:6px;'
        'box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 system-ui,sans-serif;color:#222">'
        f'<div style="font-weight:600;margin-bottom:3px">{title}{units}</div>{rows}</div>'
    )


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------


def sample_values(layer: RasterLayer, lon: float | Sequence[float] | np.ndarray, lat: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """The layer's value under each lon/lat point.

    Parameters
    ----------
    layer : RasterLayer
    lon, lat : float or array-like
        WGS84 degrees (EPSG:4326); broadcast against each other.

    Returns
    -------
    ndarray of float64
        Same shape as the broadcast input; the value of the cell containing
        the point, in the layer's units; NaN outside the raster, on nodata
        or masked cells, and for non-finite input.
    """
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    shape = lon_a.shape
    lon_f, lat_f = lon_a.ravel(), lat_a.ravel()
    out = np.full(lon_f.shape, np.nan)
    finite = np.isfinite(lon_f) & np.isfinite(lat_f)
    if not finite.any():
        return out.reshape(shape)
    try:
        with rasterio.open(layer.path, driver="GTiff") as src:
            if src.crs is None:
                raise _refuse(
                    "no_crs",
                    f"'{layer.path.name}'에 좌표계(CRS) 정보가 없습니다.",
                    f"'{layer.path.name}' has no coordinate reference system (CRS).",
                )
            if src.crs.to_epsg() == METRIC_EPSG:
                xs, ys = lonlat_to_metric(lon_f[finite], lat_f[finite])
            else:
                xs_l, ys_l = rasterio.warp.transform(CRS.from_epsg(STORAGE_EPSG), src.crs, lon_f[finite].tolist(), lat_f[finite].tolist())
                xs, ys = np.asarray(xs_l, dtype=np.float64), np.asarray(ys_l, dtype=np.float64)
            cols_f, rows_f = ~src.transform @ (xs, ys)
            cols_f, rows_f = np.asarray(cols_f, dtype=np.float64), np.asarray(rows_f, dtype=np.float64)
            with np.errstate(invalid="ignore"):
                inside = (
                    np.isfinite(cols_f) & np.isfinite(rows_f)
                    & (cols_f >= 0) & (cols_f < src.width) & (rows_f >= 0) & (rows_f < src.height)
                )
            rows = np.floor(rows_f[inside]).astype(np.int64)
            cols = np.floor(cols_f[inside]).astype(np.int64)
            vals = _read_cells(src, layer.band, rows, cols)
    except RasterRefused:
        raise
    except (RasterioError, OSError):
        raise _unreadable(layer.path.name) from None
    finite_idx = np.flatnonzero(finite)
    out[finite_idx[inside]] = vals
    return out.reshape(shape)


def _read_cells(src: rasterio.io.DatasetReader, band: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values at (row, col) cells, NaN where masked or NaN."""
    if rows.size == 0:
        return np.empty(0)
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())
    if (r1 - r0 + 1) * (c1 - c0 + 1) <= _SAMPLE_WINDOW_MAX_PIXELS:
        # Points of one proposal are close together: one small window read.
        block = src.read(band, window=Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1), masked=True)
        picked = block[rows - r0, cols - c0]
        return np.ma.filled(picked.astype(np.float64), np.nan)
    # Points spread over a large raster: read only the cells needed.
    out = np.full(rows.shape, np.nan)
    cells, inverse = np.unique(np.column_stack([rows, cols]), axis=0, return_inverse=True)
    cell_vals = np.empty(len(cells))
    for i, (r, c) in enumerate(cells):
        v = src.read(band, window=Window(int(c), int(r), 1, 1), masked=True)[0, 0]
        cell_vals[i] = np.nan if v is np.ma.masked else float(v)
    out[:] = cell_vals[inverse.ravel()]
    return out
