"""Import official administrative-dong boundaries (행정동 경계) for the budget districts.

The budget districts are Goyang's 44 administrative dongs. Until an official
boundary file is imported they are approximate cells (see
``geo.boundaries.approximate_districts``); this module turns such a file into
one polygon per dong and says, feature by feature, what it did.

Accepted files:

- the monthly ``TL_SCCO_GEMD`` shapefile of the road-name address service
  (EPSG:5179, attribute text in CP949, often without a ``.cpg``), as ``.shp``
  or as a ``.zip`` holding it;
- the admdongkor / "HangJeongDong" GeoJSON (``adm_nm``, ``adm_cd``,
  ``adm_cd2``, ``sgg``, ``sggnm``; EPSG:4326);
- GeoJSON, GeoPackage or Shapefile exported by the city's GIS, with other
  column names and in any CRS that is declared in the file (EPSG:5186, 5179,
  4326, ...) or given by the caller.

Everything returned is in EPSG:4326 (x = longitude, y = latitude, degrees).
Distances of the location check are measured in EPSG:5179 metres through
:mod:`geo.crs`. Unusable files are refused with
:class:`geo.errors.BoundaryImportError` (Korean and English message); problems
with single features do not refuse the file, they are reported in
:attr:`ImportResult.report`.

Pure functions: no database, no Streamlit.
"""
from __future__ import annotations

import math
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import STORAGE_CRS, lonlat_to_metric, to_metric
from geo.errors import BoundaryImportError

# --- what the importer knows about Goyang and the source formats -------------

#: Names by which the city appears in full dong names ("경기도 고양시덕양구 주교동";
#: since 2022 also "고양특례시"). Longest first: they are stripped in this order.
CITY_NAMES: tuple[str, ...] = ("고양특례시", "고양시", "고양")
PROVINCE_NAMES: tuple[str, ...] = ("경기도", "경기")

#: Columns that usually hold 10-digit administrative codes, most specific first.
#: Used only to break ties: any column whose values look like codes is considered.
PREFERRED_CODE_COLUMNS: tuple[str, ...] = ("adm_cd2", "adm_dr_cd", "adm_cd", "adm_code", "h_code", "emd_cd")
#: Columns that usually hold dong names, used only to break ties.
PREFERRED_NAME_COLUMNS: tuple[str, ...] = ("adm_nm", "emd_kor_nm", "adm_dr_nm", "dong", "name", "행정동명", "행정동")

#: Distance (metres) a matched polygon may lie from the dong's representative
#: point before the match is flagged ``suspicious_location``.
LOCATION_TOLERANCE_M = 200.0

#: A column is a code (or name) column when at least this share of its
#: non-empty values look like codes.
CODE_COLUMN_SHARE = 0.9

#: Refuse zip archives that would unpack to more than this many bytes.
MAX_UNZIPPED_BYTES = 1_000_000_000

SUPPORTED_SUFFIXES = (".shp", ".zip", ".geojson", ".json", ".gpkg")

#: Every outcome a report entry can carry.
OUTCOMES: tuple[str, ...] = (
    "matched",
    "merged",
    "repaired",
    "suspicious_location",
    "not_goyang",
    "unknown_code",
    "unknown_name",
    "ambiguous",
    "empty_geometry",
    "not_polygon",
)
#: Outcomes that mean the feature's polygon was used for a dong.
IMPORTED_OUTCOMES = frozenset({"matched", "merged"})

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_POLYGONAL = ("Polygon", "MultiPolygon")


# --- result types -------------------------------------------------------------


@dataclass(frozen=True)
class ReportEntry:
    """What happened to one feature of the boundary file.

    Attributes
    ----------
    feature : int or None
        0-based position of the feature in the file (row order as read).
        Messages count from 1, as people count rows.
    outcome : str
        One of :data:`OUTCOMES`. Every feature gets exactly one entry with a
        matching outcome (``matched``, ``merged``, ``not_goyang``,
        ``unknown_code``, ``unknown_name``, ``ambiguous``, ``empty_geometry``,
        ``not_polygon``); a feature whose geometry was fixed also gets a
        ``repaired`` entry, and a dong whose polygon misses its representative
        point gets a ``suspicious_location`` entry (on the first feature of the dong).
    ko, en : str
        The reason, in Korean and in English.
    code : str or None
        The code as found in the file (normalised to digits), if any.
    name : str or None
        The name as found in the file, if any.
    adm_code : str or None
        The 10-digit administrative code the feature was matched to, if any.
    """

    feature: int | None
    outcome: str
    ko: str
    en: str
    code: str | None = None
    name: str | None = None
    adm_code: str | None = None

    def message(self, lang: str = "ko") -> str:
        """The reason in ``lang`` (``"ko"`` or ``"en"``)."""
        return self.en if lang == "en" else self.ko


@dataclass
class ImportResult:
    """The outcome of matching a boundary file to the administrative dongs.

    Attributes
    ----------
    districts : geopandas.GeoDataFrame
        One row per matched dong, EPSG:4326 (lon/lat degrees), columns
        ``adm_code`` (10 digits), ``gu``, ``name``, ``geometry`` (Polygon or
        MultiPolygon), sorted by ``adm_code``.
    report : list of ReportEntry
        Per-feature entries, in feature order (see :class:`ReportEntry`).
    missing : list of str
        Codes of the dongs that got no polygon; they keep their approximate cell.
    total : int
        Number of dongs in the reference table (44 for Goyang).
    labels : dict
        ``adm_code -> "덕양구 주교동"``, for messages.
    source : dict
        What was learnt about the file: ``path``, ``format``, ``layer``,
        ``encoding``, ``crs`` (as declared or assumed), ``code_column``,
        ``name_column``.
    """

    districts: gpd.GeoDataFrame
    report: list[ReportEntry]
    missing: list[str]
    total: int
    labels: dict[str, str] = field(default_factory=dict, repr=False)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        """Number of dongs that got an official polygon."""
        return len(self.districts)

    def entries(self, outcome: str) -> list[ReportEntry]:
        """The report entries with ``outcome``."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {OUTCOMES}")
        return [e for e in self.report if e.outcome == outcome]

    def for_feature(self, feature: int) -> list[ReportEntry]:
        """The entries of one feature (0-based position); the first is its matching outcome."""
        return [e for e in self.report if e.feature == feature]

    def outcomes(self) -> dict[int, list[str]]:
        """``feature -> [outcome, ...]`` in report order (features only)."""
        out: dict[int, list[str]] = {}
        for e in self.report:
            if e.feature is not None:
                out.setdefault(e.feature, []).append(e.outcome)
        return out

    def summary(self, lang: str = "ko") -> str:
        """A readable report: a headline, counts, then one line per noteworthy entry.

        Parameters
        ----------
        lang : {"ko", "en"}
            Language of the text.

        Returns
        -------
        str
            Several lines of text. Features are numbered from 1 in file order.
        """
        en = lang == "en"
        n_missing = len(self.missing)
        lines: list[str] = []
        if en:
            lines.append(f"Imported {self.imported} of {self.total} administrative dong boundaries.")
        else:
            lines.append(f"{self.total}개 중 {self.imported}개 행정동 경계를 가져왔습니다.")
        if n_missing:
            names = ", ".join(self.labels.get(c, c) for c in self.missing)
            if en:
                lines.append(f"{n_missing} dongs got no polygon and keep their approximate cell: {names}.")
            else:
                lines.append(f"경계가 없는 {n_missing}개 행정동은 근사 경계를 그대로 씁니다: {names}.")
        counts = {o: len(self.entries(o)) for o in OUTCOMES}
        labels_ko = {
            "repaired": "고친 도형",
            "merged": "합친 도형",
            "suspicious_location": "위치가 의심스러운 행정동",
            "not_goyang": "고양시 밖 도형(건너뜀)",
            "unknown_code": "알 수 없는 코드",
            "unknown_name": "알 수 없는 이름",
            "ambiguous": "구를 알 수 없는 이름",
            "empty_geometry": "빈 도형",
            "not_polygon": "면이 아닌 도형",
        }
        labels_en = {
            "repaired": "repaired",
            "merged": "merged",
            "suspicious_location": "suspicious location",
            "not_goyang": "not Goyang (skipped)",
            "unknown_code": "unknown code",
            "unknown_name": "unknown name",
            "ambiguous": "ambiguous name",
            "empty_geometry": "empty geometry",
            "not_polygon": "not a polygon",
        }
        parts = []
        for outcome, label_ko in labels_ko.items():
            if counts[outcome]:
                parts.append(f"{labels_en[outcome]}: {counts[outcome]}" if en else f"{label_ko} {counts[outcome]}개")
        if parts:
            lines.append(("Features: " if en else "도형: ") + ", ".join(parts) + ".")
        for e in self.report:
            if e.outcome == "matched":
                continue
            where = "" if e.feature is None else (f"feature {e.feature + 1}: " if en else f"{e.feature + 1}번 도형: ")
            lines.append(f"- {where}{e.message(lang)}")
        return "\n".join(lines)


# --- reading ------------------------------------------------------------------


def _refuse(code: str, ko: str, en: str) -> BoundaryImportError:
    return BoundaryImportError(code, ko, en)


def read_boundary_file(
    path: str | Path,
    *,
    layer: str | int | None = None,
    assume_epsg: int | None = None,
) -> gpd.GeoDataFrame:
    """Read a boundary file and return its features in EPSG:4326.

    Parameters
    ----------
    path : str or pathlib.Path
        A GeoJSON (``.geojson``/``.json``), GeoPackage (``.gpkg``), Shapefile
        (``.shp`` with its ``.shx``/``.dbf`` beside it) or a ``.zip`` holding one
        of these.
    layer : str or int, optional
        GeoPackage layer (or, in a zip with several shapefiles, the shapefile's
        name without suffix). By default the first polygon layer; in a zip, a
        ``*GEMD*`` shapefile is preferred.
    assume_epsg : int, optional
        EPSG code to use when the file declares no CRS (a shapefile without
        ``.prj``), or when the declared CRS contradicts the coordinates (e.g.
        a GeoJSON, which GDAL always reads as EPSG:4326, holding metres).

    Returns
    -------
    geopandas.GeoDataFrame
        All features and attributes, 2-D, reprojected to EPSG:4326
        (lon/lat degrees). Attribute text is decoded: UTF-8 or CP949 are
        detected for shapefiles (``.cpg`` honoured when it decodes the text)
        and for GeoJSON; text that is CP949 mis-read as Latin-1 is repaired.
        ``gdf.attrs`` holds ``path``, ``format``, ``layer``, ``encoding`` and
        ``crs`` (the source CRS as declared or assumed).

    Raises
    ------
    geo.errors.BoundaryImportError
        With code ``file_not_found``, ``unsupported_format``, ``bad_zip``,
        ``no_boundary_in_zip``, ``incomplete_shapefile``, ``layer_not_found``,
        ``unreadable``, ``empty_file``, ``no_polygons``, ``missing_crs``,
        ``bad_epsg`` or ``crs_mismatch``.
    """
    path = Path(path)
    if not path.is_file():
        raise _refuse(
            "file_not_found",
            f"파일을 찾을 수 없습니다: {path.name}. 파일을 다시 올려 주세요.",
            f"File not found: {path.name}. Upload the file again.",
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise _refuse(
            "unsupported_format",
            f"지원하지 않는 파일 형식입니다({suffix or '확장자 없음'}). "
            "GeoJSON(.geojson), GeoPackage(.gpkg), Shapefile(.shp 또는 .zip)로 올려 주세요.",
            f"Unsupported file type ({suffix or 'no extension'}). "
            "Upload GeoJSON (.geojson), GeoPackage (.gpkg) or a Shapefile (.shp or .zip).",
        )
    if path.stat().st_size == 0:
        raise _refuse(
            "empty_file",
            f"파일 {path.name}이(가) 비어 있습니다(0 바이트). 내보내기를 다시 해서 올려 주세요.",
            f"The file {path.name} is empty (0 bytes). Export it again and upload it.",
        )
    if suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="boundary-") as tmp:
            inner, inner_layer = _extract_from_zip(path, Path(tmp), layer)
            gdf = _read_file(inner, inner_layer, assume_epsg)
            gdf.attrs["format"] = "zip/" + gdf.attrs["format"]
    else:
        gdf = _read_file(path, layer, assume_epsg)
    gdf.attrs["path"] = str(path)
    return gdf


def _read_file(path: Path, layer: str | int | None, assume_epsg: int | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix == ".shp":
        gdf, encoding = _read_shapefile(path)
        fmt, layer_name = "shapefile", path.stem
    elif suffix == ".gpkg":
        layer_name = _pick_gpkg_layer(path, layer)
        gdf = _read_ogr(path, layer=layer_name)
        gdf, encoding = _repair_mojibake(gdf)
        fmt = "geopackage"
    else:
        gdf, encoding = _read_geojson(path)
        fmt, layer_name = "geojson", None

    if len(gdf) == 0:
        raise _refuse(
            "empty_file",
            "파일에 도형이 하나도 없습니다. 행정동 경계가 담긴 파일인지 확인해 주세요.",
            "The file holds no features. Check that it is the administrative-dong boundary file.",
        )
    types = set(gdf.geometry.dropna().geom_type)
    if not (types & {"Polygon", "MultiPolygon", "GeometryCollection"}):
        found = ", ".join(sorted(types)) or "없음/none"
        raise _refuse(
            "no_polygons",
            f"파일에 면(폴리곤) 도형이 없습니다(찾은 도형: {found}). 행정동 경계(면) 파일을 올려 주세요.",
            f"The file holds no polygons (found: {found}). Upload the boundary (polygon) file of the dongs.",
        )

    source_crs = _source_crs(gdf, assume_epsg)
    gdf = gdf.set_crs(source_crs, allow_override=True).to_crs(STORAGE_CRS)
    gdf = gdf.reset_index(drop=True)
    gdf.attrs.update({"format": fmt, "layer": layer_name, "encoding": encoding, "crs": source_crs.to_string()})
    return gdf


def _read_ogr(source: Path | bytes, **kwargs: Any) -> gpd.GeoDataFrame:
    """Read with pyogrio; any failure becomes an ``unreadable`` refusal."""
    name = source.name if isinstance(source, Path) else "GeoJSON"
    try:
        gdf = gpd.read_file(source, engine="pyogrio", force_2d=True, use_arrow=False, **kwargs)
    except Exception as exc:  # GDAL, decoding and I/O errors alike: the file cannot be used
        raise _refuse(
            "unreadable",
            f"파일 {name}을(를) 읽을 수 없습니다. 손상되었거나 지원하지 않는 형식입니다. "
            "GeoJSON, GeoPackage, Shapefile로 다시 내보내 올려 주세요.",
            f"Cannot read {name}: the file is damaged or not in a supported format. "
            "Export it again as GeoJSON, GeoPackage or Shapefile and upload it.",
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise _refuse(
            "no_polygons",
            f"{name}에는 도형이 없고 속성 표만 있습니다. 행정동 경계(면) 파일을 올려 주세요.",
            f"{name} holds a table without geometry. Upload the boundary (polygon) file of the dongs.",
        )
    return gdf


def _sidecar(shp: Path, suffix: str) -> Path | None:
    """The file beside ``shp`` with ``suffix``, in any letter case (Korean releases use ``.SHP``)."""
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def _read_shapefile(shp: Path) -> tuple[gpd.GeoDataFrame, str]:
    missing = [s for s in (".shx", ".dbf") if _sidecar(shp, s) is None]
    if missing:
        parts = ", ".join(missing)
        raise _refuse(
            "incomplete_shapefile",
            f"Shapefile에 필요한 파일({parts})이 없습니다. .shp, .shx, .dbf, .prj를 함께 올리거나 zip으로 묶어 올려 주세요.",
            f"The shapefile is missing {parts}. Upload .shp, .shx, .dbf and .prj together, or as one .zip.",
        )
    declared = None
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None:
        declared = _python_encoding(cpg.read_text(encoding="ascii", errors="ignore"))
    # Read the bytes verbatim (Latin-1 maps each byte to one character), then
    # decode them ourselves: Korean agencies ship CP949 text without a .cpg,
    # and GDAL would then assume ISO-8859-1 and produce mojibake.
    gdf = _read_ogr(shp, encoding="ISO-8859-1")
    candidates = [e for e in (declared, "utf-8", "cp949") if e]
    return _decode_latin1_text(gdf, candidates, fallback=True)


def _python_encoding(cpg_text: str) -> str | None:
    """Map the content of a ``.cpg`` file ("UTF-8", "CP949", "949", "ANSI 949", "65001") to a codec name."""
    text = cpg_text.strip().upper().replace("ANSI", "").strip()
    if not text:
        return None
    if text.isdigit():
        text = "UTF-8" if text == "65001" else f"CP{text}"
    codec = "".join(text.split()).lower()
    return codec if _codec_exists(codec) else None


def _codec_exists(name: str) -> bool:
    try:
        b"".decode(name)
    except LookupError:
        return False
    return True


def _text_columns(gdf: gpd.GeoDataFrame) -> list[str]:
    geom = gdf.geometry.name
    return [c for c in gdf.columns if c != geom and gdf[c].map(lambda v: isinstance(v, str)).any()]


def _decode_latin1_text(
    gdf: gpd.GeoDataFrame, candidates: Sequence[str], *, fallback: bool
) -> tuple[gpd.GeoDataFrame, str]:
    """Re-decode text that was read as Latin-1 with the first candidate codec that decodes all of it.

    Column names are decoded too. Returns the frame and the codec used
    (``"ascii"`` when there was nothing to decode).
    """
    geom = gdf.geometry.name
    text_cols = _text_columns(gdf)
    texts = [str(c) for c in gdf.columns if c != geom]
    for c in text_cols:
        texts.extend(v for v in gdf[c] if isinstance(v, str))
    non_ascii = [t for t in texts if not t.isascii()]
    if not non_ascii:
        return gdf, "ascii"
    raw = [t.encode("latin-1") for t in non_ascii]
    chosen = None
    for codec in candidates:
        try:
            for b in raw:
                b.decode(codec)
        except UnicodeDecodeError:
            continue
        chosen = codec
        break
    errors = "strict"
    if chosen is None:
        if not fallback:
            return gdf, "unknown"
        chosen, errors = "cp949", "replace"  # Korean files: the least bad guess

    def fix(v: Any) -> Any:
        return v.encode("latin-1").decode(chosen, errors=errors) if isinstance(v, str) else v

    out = gdf.copy()
    for c in text_cols:
        out[c] = out[c].map(fix)
    out.columns = [c if c == geom or not isinstance(c, str) else fix(c) for c in out.columns]
    out = out.set_geometry(geom)
    return out, chosen if errors == "strict" else f"{chosen} (with replacement characters)"


def _repair_mojibake(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
    """Fix CP949/UTF-8 text that an earlier tool mis-read as Latin-1 (e.g. "ÁÖ±³µ¿" for "주교동").

    Only applies when every non-ASCII character is in the Latin-1 range, so
    genuine Korean text (code points above U+00FF) is never touched.
    """
    geom = gdf.geometry.name
    texts = [str(c) for c in gdf.columns if c != geom]
    for c in _text_columns(gdf):
        texts.extend(v for v in gdf[c] if isinstance(v, str))
    non_ascii = [t for t in texts if not t.isascii()]
    if not non_ascii or any(max(map(ord, t)) > 0xFF for t in non_ascii):
        return gdf, "utf-8"
    fixed, codec = _decode_latin1_text(gdf, ["utf-8", "cp949"], fallback=False)
    if codec == "unknown":
        return gdf, "utf-8"
    return fixed, f"{codec} (repaired mojibake)"


def _read_geojson(path: Path) -> tuple[gpd.GeoDataFrame, str]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        # GeoJSON must be UTF-8, but files saved by Korean Windows tools are often CP949.
        try:
            data = data.decode("cp949").encode("utf-8")
            encoding = "cp949"
        except UnicodeDecodeError:
            encoding = "unknown"
    if not data.strip():
        raise _refuse(
            "empty_file",
            f"파일 {path.name}에 내용이 없습니다(공백뿐). 내보내기를 다시 해서 올려 주세요.",
            f"The file {path.name} holds only white space. Export it again and upload it.",
        )
    gdf = _read_ogr(data if encoding == "cp949" else path)
    if encoding == "utf-8":
        gdf, encoding = _repair_mojibake(gdf)
    return gdf, encoding


def _pick_gpkg_layer(path: Path, layer: str | int | None) -> str:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise _refuse(
            "unreadable",
            f"GeoPackage {path.name}을(를) 열 수 없습니다. 손상되었거나 GeoPackage가 아닙니다.",
            f"Cannot open the GeoPackage {path.name}: it is damaged or not a GeoPackage.",
        ) from exc
    names = [str(n) for n, _ in layers]
    if layer is not None:
        if isinstance(layer, int) and 0 <= layer < len(names):
            return names[layer]
        if layer in names:
            return str(layer)
        raise _refuse(
            "layer_not_found",
            f"GeoPackage에 '{layer}' 레이어가 없습니다. 있는 레이어: {', '.join(names) or '없음'}.",
            f"The GeoPackage has no layer '{layer}'. Layers: {', '.join(names) or 'none'}.",
        )
    for name, gtype in layers:
        if gtype is not None and "polygon" in str(gtype).lower():
            return str(name)
    spatial = [str(n) for n, t in layers if t is not None]
    if not spatial:
        raise _refuse(
            "no_polygons",
            f"GeoPackage {path.name}에 도형 레이어가 없습니다. 행정동 경계(면) 레이어가 든 파일을 올려 주세요.",
            f"The GeoPackage {path.name} has no geometry layer. Upload a file with the dong boundary (polygon) layer.",
        )
    return spatial[0]  # "Unknown"/"Geometry" layers may still hold polygons: read and check


def _extract_from_zip(path: Path, dest: Path, layer: str | int | None) -> tuple[Path, str | int | None]:
    """Unpack the boundary file of a zip under plain ASCII names; return its path and the layer to read.

    Member names are not used on disk: Korean zips often store CP949 names
    without the UTF-8 flag, and a name could try to escape ``dest``.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise _refuse(
            "bad_zip",
            f"{path.name}은(는) 올바른 zip 파일이 아닙니다. 압축을 다시 해서 올려 주세요.",
            f"{path.name} is not a valid zip archive. Compress the files again and upload.",
        ) from exc
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir() and not Path(i.filename).name.startswith(".")]
        if sum(i.file_size for i in members) > MAX_UNZIPPED_BYTES:
            raise _refuse(
                "bad_zip",
                "zip 파일을 풀면 너무 큽니다(1 GB 초과). 고양시 부분만 담아 다시 올려 주세요.",
                "The zip archive unpacks to more than 1 GB. Upload a file holding Goyang only.",
            )
        shps = sorted((i for i in members if i.filename.lower().endswith(".shp")), key=lambda i: i.filename)
        if shps:
            chosen = _choose_zipped_shapefile(shps, layer, path)
            stem = chosen.filename[: -len(".shp")]
            group = [i for i in members if i.filename[: -len(Path(i.filename).suffix)] == stem
                     and Path(i.filename).suffix.lower() in _SHAPEFILE_PARTS]
            for info in group:
                (dest / ("boundary" + Path(info.filename).suffix.lower())).write_bytes(_read_member(zf, info, path))
            return dest / "boundary.shp", None
        others = sorted(
            (i for i in members if Path(i.filename).suffix.lower() in (".gpkg", ".geojson", ".json")),
            key=lambda i: i.filename,
        )
        if not others:
            raise _refuse(
                "no_boundary_in_zip",
                f"{path.name} 안에 Shapefile(.shp), GeoPackage, GeoJSON이 없습니다. 경계 파일을 넣어 다시 압축해 주세요.",
                f"{path.name} holds no Shapefile (.shp), GeoPackage or GeoJSON. Put the boundary file in the zip.",
            )
        info = others[0]
        target = dest / ("boundary" + Path(info.filename).suffix.lower())
        target.write_bytes(_read_member(zf, info, path))
        return target, layer


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """The bytes of one member; a damaged, encrypted or oddly compressed member is a ``bad_zip`` refusal."""
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError) as exc:
        # RuntimeError: encrypted; NotImplementedError: a compression method Python lacks.
        raise _refuse(
            "bad_zip",
            f"{path.name} 안의 {Path(info.filename).name} 파일이 손상되었거나 암호가 걸려 있어 풀 수 없습니다. "
            "암호 없이 압축을 다시 해서 올려 주세요.",
            f"{Path(info.filename).name} in {path.name} is damaged or encrypted and cannot be unpacked. "
            "Compress the files again without a password and upload.",
        ) from exc


def _choose_zipped_shapefile(shps: list[zipfile.ZipInfo], layer: str | int | None, path: Path) -> zipfile.ZipInfo:
    if len(shps) == 1 and layer is None:
        return shps[0]
    stems = [Path(i.filename).stem for i in shps]
    if layer is not None:
        for info, stem in zip(shps, stems):
            if stem == str(layer):
                return info
        raise _refuse(
            "layer_not_found",
            f"zip 안에 '{layer}' Shapefile이 없습니다. 있는 파일: {', '.join(stems)}.",
            f"The zip holds no shapefile '{layer}'. Shapefiles: {', '.join(stems)}.",
        )
    for info, stem in zip(shps, stems):
        if "GEMD" in stem.upper():  # TL_SCCO_GEMD: the administrative-dong layer of the juso release
            return info
    return shps[0]


def _source_crs(gdf: gpd.GeoDataFrame, assume_epsg: int | None) -> CRS:
    """The CRS of the file's coordinates: declared, or ``assume_epsg`` when missing or contradicted."""
    assumed = None
    if assume_epsg is not None:
        try:
            assumed = CRS.from_epsg(int(assume_epsg))
        except (CRSError, ValueError, TypeError) as exc:
            raise _refuse(
                "bad_epsg",
                f"EPSG:{assume_epsg}은(는) 알 수 없는 좌표계 코드입니다. 예: 5179, 5186, 4326.",
                f"EPSG:{assume_epsg} is not a known coordinate reference system. Examples: 5179, 5186, 4326.",
            ) from exc
    declared = gdf.crs
    if declared is None and assumed is None:
        raise _refuse(
            "missing_crs",
            "파일에 좌표계 정보가 없습니다(Shapefile의 .prj 파일이 없음). .prj 파일을 함께 올리거나 "
            "좌표계를 지정해 주세요(도로명주소 행정동 경계는 보통 EPSG:5179).",
            "The file declares no coordinate reference system (the shapefile's .prj is missing). Upload the "
            ".prj as well, or state the CRS (road-name address boundaries are usually EPSG:5179).",
        )
    minx, miny, maxx, maxy = gdf.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        return assumed if assumed is not None else declared  # no coordinates to judge by: matching refuses later
    looks_like_degrees = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    unit = "도(경위도)" if looks_like_degrees else "미터 같은 큰 값"
    unit_en = "degrees" if looks_like_degrees else "large values like metres"
    if declared is not None and declared.is_geographic != looks_like_degrees and assumed is None:
        raise _refuse(
            "crs_mismatch",
            f"파일은 좌표계를 {declared.to_string()}(으)로 밝히지만 좌표는 {unit}입니다. "
            "올바른 좌표계를 지정해 주세요(예: EPSG:5179 또는 5186).",
            f"The file declares {declared.to_string()} but its coordinates are {unit_en}. "
            "State the correct CRS (e.g. EPSG:5179 or 5186).",
        )
    if assumed is not None and (declared is None or declared.is_geographic != looks_like_degrees):
        if assumed.is_geographic != looks_like_degrees:
            # The stated CRS must fit the coordinates too: degrees read as metres (or
            # metres as degrees) would store boundaries far outside Korea.
            raise _refuse(
                "crs_mismatch",
                f"지정한 좌표계 {assumed.to_string()}이(가) 좌표와 맞지 않습니다(좌표는 {unit}입니다). "
                "올바른 좌표계를 지정해 주세요(예: EPSG:5179 또는 5186).",
                f"The stated CRS {assumed.to_string()} does not fit the coordinates (they are {unit_en}). "
                "State the correct CRS (e.g. EPSG:5179 or 5186).",
            )
        return assumed
    return declared


# --- matching -----------------------------------------------------------------


def _compact(text: str) -> str:
    """NFC, no whitespace, "제1동" -> "1동" (older official spelling)."""
    s = unicodedata.normalize("NFC", text)
    s = re.sub(r"\s+", "", s)
    return re.sub(r"제(\d+)동$", r"\1동", s)


def _normalise_code(value: Any) -> str | None:
    """A code as a digit string ("4128151000"), or the trimmed text when it is not digits; None when empty."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else str(value)
    s = str(value).strip()
    m = re.fullmatch(r"(\d+)\.0*", s)
    return (m.group(1) if m else s) or None


@dataclass(frozen=True)
class _Table:
    """The reference dongs, indexed for matching."""

    rows: pd.DataFrame  # adm_code, gu, dong, lon, lat
    by_code: dict[str, int]
    by_code8: dict[str, int]
    by_name: dict[str, list[int]]
    names_longest_first: tuple[str, ...]
    gus: tuple[str, ...]
    gu_by_prefix: dict[str, str]
    city_prefixes: frozenset[str]

    def label(self, i: int) -> str:
        return f"{self.rows.at[i, 'gu']} {self.rows.at[i, 'dong']}"

    def lookup_code(self, code: str | None) -> int | None:
        if not code or not code.isdigit():
            return None
        if len(code) == 10:
            return self.by_code.get(code)
        if len(code) == 8:
            return self.by_code8.get(code)
        return None

    def in_city(self, code: str) -> bool:
        return code[:4] in self.city_prefixes


def _table(admin_dongs: pd.DataFrame) -> _Table:
    df = pd.DataFrame(admin_dongs)
    name_col = "dong" if "dong" in df.columns else "name"
    for col in ("adm_code", "gu", name_col):
        if col not in df.columns:
            raise ValueError(f"admin_dongs needs columns adm_code, gu and dong (or name); missing {col!r}")
    if {"lon", "lat"} <= set(df.columns):
        lon, lat = df["lon"].astype(float).to_numpy(), df["lat"].astype(float).to_numpy()
    elif isinstance(admin_dongs, gpd.GeoDataFrame):
        pts = admin_dongs.to_crs(STORAGE_CRS).geometry.representative_point()
        lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    else:
        raise ValueError("admin_dongs needs lon and lat columns (EPSG:4326) or a point geometry")
    rows = pd.DataFrame(
        {
            "adm_code": [_normalise_code(v) for v in df["adm_code"]],
            "gu": [unicodedata.normalize("NFC", str(v)).strip() for v in df["gu"]],
            "dong": [unicodedata.normalize("NFC", str(v)).strip() for v in df[name_col]],
            "lon": lon,
            "lat": lat,
        }
    )
    bad = [c for c in rows["adm_code"] if not (c and c.isdigit() and len(c) == 10)]
    if bad:
        raise ValueError(f"admin_dongs.adm_code must be 10-digit codes; got {bad[:3]}")
    if rows["adm_code"].duplicated().any():
        raise ValueError("admin_dongs.adm_code has duplicates")
    by_code = {c: i for i, c in enumerate(rows["adm_code"])}
    # 8-digit codes (the 10-digit code without its trailing "00") appear in some releases.
    prefix8: dict[str, list[int]] = {}
    for i, c in enumerate(rows["adm_code"]):
        if c.endswith("00"):
            prefix8.setdefault(c[:8], []).append(i)
    by_code8 = {p: ix[0] for p, ix in prefix8.items() if len(ix) == 1}
    by_name: dict[str, list[int]] = {}
    for i, d in enumerate(rows["dong"]):
        by_name.setdefault(_compact(d), []).append(i)
    gu_by_prefix: dict[str, str] = {}
    for c, g in zip(rows["adm_code"], rows["gu"]):
        gu_by_prefix.setdefault(c[:5], g)
    return _Table(
        rows=rows,
        by_code=by_code,
        by_code8=by_code8,
        by_name=by_name,
        names_longest_first=tuple(sorted(by_name, key=len, reverse=True)),
        gus=tuple(sorted(set(rows["gu"]), key=len, reverse=True)),
        gu_by_prefix=gu_by_prefix,
        city_prefixes=frozenset(c[:4] for c in rows["adm_code"]),
    )


@dataclass(frozen=True)
class _NameMatch:
    outcome: str  # matched, not_goyang, unknown_name, ambiguous
    row: int | None = None
    gu_in_name: str | None = None
    candidates: tuple[int, ...] = ()


def _strip_city(region: str, table: _Table) -> tuple[str, set[str]]:
    """Remove the province, city and gu names of the city from a compact region prefix.

    Returns what is left (non-empty means another region) and the gus named.
    """
    gus = {g for g in table.gus if g in region}
    rest = region
    for token in (*table.gus, *PROVINCE_NAMES, *CITY_NAMES):
        rest = rest.replace(token, "")
    return rest, gus


def _match_name(text: str, table: _Table, gu_hints: set[str]) -> _NameMatch:
    compact = _compact(text)
    if not compact:
        return _NameMatch("unknown_name")
    dong = next(
        (d for d in table.names_longest_first
         if compact == d or (compact.endswith(d) and compact[: -len(d)][-1] in "도시구군")),
        None,
    )
    if dong is None:
        tokens = unicodedata.normalize("NFC", text).split()
        if len(tokens) > 1:
            rest, _ = _strip_city(_compact("".join(tokens[:-1])), table)
            if rest:
                return _NameMatch("not_goyang")
        return _NameMatch("unknown_name")
    rest, gus_named = _strip_city(compact[: -len(dong)], table)
    if rest:
        return _NameMatch("not_goyang")
    candidates = table.by_name[dong]
    gu_in_name = None
    if gus_named:
        gu_in_name = max(gus_named, key=len)
        candidates = [i for i in candidates if table.rows.at[i, "gu"] == gu_in_name]
        if not candidates:
            return _NameMatch("unknown_name", gu_in_name=gu_in_name)
    if len(candidates) > 1 and gu_hints:
        narrowed = [i for i in candidates if table.rows.at[i, "gu"] in gu_hints]
        if narrowed:
            candidates = narrowed
    if len(candidates) > 1:
        return _NameMatch("ambiguous", candidates=tuple(candidates))
    return _NameMatch("matched", row=candidates[0], gu_in_name=gu_in_name)


def _attribute_columns(gdf: gpd.GeoDataFrame) -> list[str]:
    geom = gdf.geometry.name
    return [c for c in gdf.columns if c != geom]


def _preference(column: Any, preferred: Sequence[str]) -> int:
    name = str(column).lower()
    return preferred.index(name) if name in preferred else len(preferred)


def _find_code_column(gdf: gpd.GeoDataFrame, table: _Table) -> tuple[str | None, str | None]:
    """The column holding codes of the dongs (by hits in the table), and a region-code column.

    The region-code column holds digit codes (5, 8 or 10 digits) of which some
    start with the city's prefix: it tells Goyang features from others even
    when it does not identify the dong (e.g. legal-dong codes).
    """
    best: tuple[int, int, int] | None = None
    best_col = None
    region_col, region_key = None, None
    for pos, col in enumerate(_attribute_columns(gdf)):
        codes = [c for c in (_normalise_code(v) for v in gdf[col]) if c]
        if not codes:
            continue
        digit_codes = [c for c in codes if c.isdigit()]
        share = len(digit_codes) / len(codes)
        if share < CODE_COLUMN_SHARE:
            continue
        hits = sum(table.lookup_code(c) is not None for c in digit_codes)
        codelike = sum(len(c) in (8, 10) for c in digit_codes) / len(codes)
        if hits and codelike >= CODE_COLUMN_SHARE:
            key = (hits, -_preference(col, PREFERRED_CODE_COLUMNS), -pos)
            if best is None or key > best:
                best, best_col = key, col
        regional = sum(len(c) in (5, 8, 10) for c in digit_codes) / len(codes)
        in_city = sum(table.in_city(c) for c in digit_codes)
        if regional >= CODE_COLUMN_SHARE and in_city:
            rkey = (int(all(len(c) == 10 for c in digit_codes)), in_city, -pos)
            if region_key is None or rkey > region_key:
                region_key, region_col = rkey, col
    return best_col, region_col


def _find_name_column(gdf: gpd.GeoDataFrame, table: _Table, exclude: Iterable[Any]) -> str | None:
    excluded = set(exclude)
    best, best_col = None, None
    for pos, col in enumerate(_attribute_columns(gdf)):
        if col in excluded:
            continue
        values = [v for v in gdf[col] if isinstance(v, str) and v.strip()]
        if not values:
            continue
        hits = sum(_match_name(v, table, set()).outcome in ("matched", "ambiguous") for v in values)
        if not hits:
            continue
        key = (hits, -_preference(col, PREFERRED_NAME_COLUMNS), -pos)
        if best is None or key > best:
            best, best_col = key, col
    return best_col


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    """The polygonal part of ``geom`` (Polygon or MultiPolygon), or None when it has none."""
    if geom.geom_type in _POLYGONAL:
        return geom
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            polys.append(part)
        elif part.geom_type == "MultiPolygon":
            polys.extend(part.geoms)
        elif part.geom_type == "GeometryCollection":
            sub = _polygonal_part(part)
            if sub is not None:
                polys.extend(shapely.get_parts(sub))
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    if not polys:
        return None
    merged = shapely.union_all(polys)
    return merged if merged.geom_type in _POLYGONAL else MultiPolygon(
        [p for p in shapely.get_parts(merged) if p.geom_type == "Polygon"]
    )


def _clean_geometry(geom: BaseGeometry) -> tuple[BaseGeometry | None, str | None, tuple[str, str] | None]:
    """Check and repair one feature's geometry.

    Returns ``(geometry, problem, repair)``: ``problem`` is ``empty_geometry`` or
    ``not_polygon`` (geometry then None); ``repair`` is a (ko, en) description
    when the geometry had to be changed.
    """
    if geom is None or geom.is_empty:
        return None, "empty_geometry", None
    poly = _polygonal_part(geom)
    if poly is None:
        return None, "not_polygon", None
    notes_ko, notes_en = [], []
    if poly is not geom:
        notes_ko.append("면이 아닌 부분(점·선)을 버렸습니다")
        notes_en.append("dropped non-polygonal parts (points, lines)")
    if not poly.is_valid:
        reason = shapely.is_valid_reason(poly)
        repaired = _polygonal_part(shapely.make_valid(poly))
        notes_ko.append(f"유효하지 않은 도형({reason})을 make_valid로 고쳤습니다")
        notes_en.append(f"repaired invalid geometry ({reason}) with make_valid")
        if repaired is None or repaired.is_empty:
            return None, "empty_geometry", ("; ".join(notes_ko), "; ".join(notes_en))
        poly = repaired
    if notes_ko:
        return poly, None, ("; ".join(notes_ko), "; ".join(notes_en))
    return poly, None, None


def _describe(code: str | None, name: str | None) -> tuple[str, str]:
    parts = [p for p in (f"코드 {code}" if code else None, f"이름 '{name}'" if name else None) if p]
    parts_en = [p for p in (f"code {code}" if code else None, f"name '{name}'" if name else None) if p]
    return (", ".join(parts) or "코드·이름 없음", ", ".join(parts_en) or "no code or name")


def match_admin_dongs(
    gdf: gpd.GeoDataFrame,
    admin_dongs: pd.DataFrame,
    *,
    location_tolerance_m: float = LOCATION_TOLERANCE_M,
) -> ImportResult:
    """Match the features of a boundary file to the administrative dongs.

    Strategy, in order:

    1. a column of 10-digit (or 8-digit, without the trailing ``00``)
       administrative codes found in ``admin_dongs`` (``adm_cd2``, ``ADM_CD``,
       ``ADM_DR_CD`` or any column whose values look like that; the one with
       most hits wins);
    2. otherwise a column of names, full ("경기도 고양시덕양구 주교동") or short
       ("주교동"), spaces ignored; a gu in the name, a region-code column or a gu
       name in another column decides between dongs of the same name.

    Features outside the city (codes not starting with the city's prefix,
    ``4128`` for Goyang, or names of other regions) are reported as
    ``not_goyang``. Invalid polygons are repaired with ``shapely.make_valid``
    keeping only polygonal parts (``repaired``); several features of one dong
    are merged (``merged``). A dong whose polygon lies farther than
    ``location_tolerance_m`` from its representative point is flagged
    ``suspicious_location`` but still imported.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features as read by :func:`read_boundary_file`. Any CRS; reprojected to
        EPSG:4326 if needed. Must have a CRS.
    admin_dongs : pandas.DataFrame
        The reference dongs: ``adm_code`` (10 digits), ``gu``, ``dong`` (or
        ``name``), and ``lon``/``lat`` (EPSG:4326 degrees) or a point geometry,
        e.g. ``data/goyang_admin_dongs.csv`` read with ``dtype={"adm_code": str}``
        or ``geo.boundaries.admin_dongs()``.
    location_tolerance_m : float, default 200
        Allowed distance in metres (measured in EPSG:5179) between a matched
        polygon and the dong's representative point.

    Returns
    -------
    ImportResult
        Districts in EPSG:4326 and the report.

    Raises
    ------
    geo.errors.BoundaryImportError
        ``missing_crs`` when ``gdf`` has no CRS; ``no_match_column`` when no
        column holds codes or names of the city's dongs.
    """
    table = _table(admin_dongs)
    if gdf.crs is None:
        raise _refuse(
            "missing_crs",
            "도형에 좌표계 정보가 없습니다. 좌표계를 지정해 주세요(예: EPSG:5179).",
            "The features have no coordinate reference system. State the CRS (e.g. EPSG:5179).",
        )
    source = {k: gdf.attrs.get(k) for k in ("path", "format", "layer", "encoding", "crs")}
    if gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(STORAGE_CRS)
    gdf = gdf.reset_index(drop=True)

    code_col, region_col = _find_code_column(gdf, table)
    name_col = _find_name_column(gdf, table, exclude=[c for c in (code_col, region_col) if c is not None])
    if code_col is None and name_col is None:
        if region_col is not None and all(len(c) == 10 for c in
                                          (x for x in map(_normalise_code, gdf[region_col]) if x and x.isdigit())):
            code_col = region_col  # 10-digit codes of the city, none known: report them as unknown
        else:
            # A column of 10-digit codes without a single hit in the city still
            # tells other regions apart (e.g. a file of Seoul only).
            code_col = _foreign_code_column(gdf)
    if code_col is None and name_col is None:
        columns = ", ".join(map(str, _attribute_columns(gdf))) or "없음/none"
        raise _refuse(
            "no_match_column",
            "고양시 행정동의 코드(10자리 행정기관코드)나 이름이 든 열을 찾지 못했습니다. "
            f"파일의 열: {columns}. 행정동 코드(adm_cd2, ADM_CD 등)나 이름(adm_nm, EMD_KOR_NM 등) 열이 있는 파일을 올려 주세요.",
            "Found no column with codes (10-digit administrative codes) or names of Goyang's dongs. "
            f"Columns in the file: {columns}. Upload a file with a dong code (adm_cd2, ADM_CD, ...) "
            "or name (adm_nm, EMD_KOR_NM, ...) column.",
        )

    other_text_cols = [c for c in _text_columns(gdf) if c not in (code_col, name_col)]
    geoms_by_row: dict[int, list[tuple[int, BaseGeometry]]] = {}
    primary: dict[int, ReportEntry] = {}
    extra: dict[int, list[ReportEntry]] = {}

    for pos in range(len(gdf)):
        code = _normalise_code(gdf.at[pos, code_col]) if code_col is not None else None
        raw_name = gdf.at[pos, name_col] if name_col is not None else None
        name = raw_name.strip() if isinstance(raw_name, str) and raw_name.strip() else None
        region = _normalise_code(gdf.at[pos, region_col]) if region_col is not None else None
        found = _Found(pos, code or (region if region and region.isdigit() else None), name)

        row, ident = _identify(code, name, region, table, gdf, pos, other_text_cols)
        if ident.outcome == "not_goyang":
            primary[pos] = found.entry(
                "not_goyang",
                f"고양시 행정동이 아니어서 건너뛰었습니다({found.ko}).",
                f"Not a Goyang dong, skipped ({found.en}).",
            )
            continue

        adm = None if row is None else str(table.rows.at[row, "adm_code"])
        geom, problem, repair = _clean_geometry(gdf.geometry.iat[pos])
        if problem == "empty_geometry":
            primary[pos] = found.entry(
                "empty_geometry",
                f"도형이 비어 있거나 고친 뒤 면적이 남지 않아 쓸 수 없습니다({found.ko}).",
                f"The geometry is empty, or has no area left after repair ({found.en}).",
                adm,
            )
            continue
        if problem == "not_polygon":
            gtype = gdf.geometry.iat[pos].geom_type
            primary[pos] = found.entry(
                "not_polygon",
                f"면(폴리곤)이 아닌 {gtype} 도형이라 경계로 쓸 수 없습니다({found.ko}).",
                f"A {gtype} is not a polygon and cannot be a boundary ({found.en}).",
                adm,
            )
            continue
        if row is None or geom is None:
            primary[pos] = _unmatched_entry(ident, code, name, table, found)
            continue

        geoms_by_row.setdefault(row, []).append((pos, geom))
        label = table.label(row)
        primary[pos] = found.entry("matched", f"{label}({adm})에 연결했습니다.", f"Matched to {label} ({adm}).", adm)
        if repair is not None:
            extra.setdefault(pos, []).append(
                found.entry(
                    "repaired",
                    f"{label}: {repair[0]}. 경계를 확인해 주세요.",
                    f"{label}: {repair[1]}. Check the boundary.",
                    adm,
                )
            )

    records = []
    for row, items in sorted(geoms_by_row.items()):
        adm = table.rows.at[row, "adm_code"]
        label = table.label(row)
        positions = [p for p, _ in items]
        if len(items) == 1:
            geom = items[0][1]
        else:
            geom = _polygonal_part(shapely.union_all([g for _, g in items]))
            numbers = ", ".join(str(p + 1) for p in positions)
            for p in positions:
                old = primary[p]
                primary[p] = ReportEntry(
                    p, "merged",
                    f"{label}({adm})의 도형 {len(items)}개({numbers}번)를 하나로 합쳤습니다.",
                    f"Merged {len(items)} features ({numbers}) of {label} ({adm}) into one.",
                    code=old.code, name=old.name, adm_code=adm,
                )
        distance_m = _distance_to_point_m(geom, table.rows.at[row, "lon"], table.rows.at[row, "lat"])
        if distance_m > location_tolerance_m:
            first = positions[0]
            shown = "매우 멀리" if not math.isfinite(distance_m) else f"{distance_m:,.0f} m"
            shown_en = "very far" if not math.isfinite(distance_m) else f"{distance_m:,.0f} m"
            extra.setdefault(first, []).append(
                ReportEntry(
                    first, "suspicious_location",
                    f"{label}의 대표 지점이 가져온 경계에서 {shown} 떨어져 있습니다. 좌표계(CRS)나 코드·이름이 "
                    "잘못되었을 수 있습니다. 가져오기는 했으니 지도에서 확인해 주세요.",
                    f"The representative point of {label} lies {shown_en} from the imported polygon. The CRS or "
                    "the code/name may be wrong. It was imported anyway: check it on the map.",
                    code=primary[first].code, name=primary[first].name, adm_code=adm,
                )
            )
        records.append({"adm_code": adm, "gu": table.rows.at[row, "gu"], "name": table.rows.at[row, "dong"],
                        "geometry": geom})

    report: list[ReportEntry] = []
    for pos in range(len(gdf)):
        report.append(primary[pos])
        report.extend(extra.get(pos, []))

    districts = gpd.GeoDataFrame(
        pd.DataFrame(records, columns=["adm_code", "gu", "name", "geometry"]), geometry="geometry", crs=STORAGE_CRS
    )
    districts = districts.sort_values("adm_code").reset_index(drop=True)
    matched_rows = set(geoms_by_row)
    missing = [c for i, c in enumerate(table.rows["adm_code"]) if i not in matched_rows]
    source.update({"code_column": code_col, "name_column": name_col})
    return ImportResult(
        districts=districts,
        report=report,
        missing=sorted(missing),
        total=len(table.rows),
        labels={table.rows.at[i, "adm_code"]: table.label(i) for i in range(len(table.rows))},
        source=source,
    )


@dataclass(frozen=True)
class _Found:
    """A feature's position and the code and name found in it, for report entries."""

    pos: int
    code: str | None
    name: str | None

    @property
    def ko(self) -> str:
        return _describe(self.code, self.name)[0]

    @property
    def en(self) -> str:
        return _describe(self.code, self.name)[1]

    def entry(self, outcome: str, ko: str, en: str, adm_code: str | None = None) -> ReportEntry:
        return ReportEntry(self.pos, outcome, ko, en, code=self.code, name=self.name, adm_code=adm_code)


def _foreign_code_column(gdf: gpd.GeoDataFrame) -> str | None:
    """A column of 10-digit codes none of which is in the city (a file of another region)."""
    for col in sorted(_attribute_columns(gdf), key=lambda c: _preference(c, PREFERRED_CODE_COLUMNS)):
        codes = [c for c in (_normalise_code(v) for v in gdf[col]) if c]
        if codes and sum(c.isdigit() and len(c) == 10 for c in codes) / len(codes) >= CODE_COLUMN_SHARE:
            return col
    return None


def _identify(
    code: str | None,
    name: str | None,
    region: str | None,
    table: _Table,
    gdf: gpd.GeoDataFrame,
    pos: int,
    other_text_cols: list[str],
) -> tuple[int | None, _NameMatch]:
    """Which dong a feature is: by code when it has one, else by name."""
    if code and code.isdigit():
        row = table.lookup_code(code)
        if row is not None:
            return row, _NameMatch("matched", row=row)
        if not table.in_city(code):
            return None, _NameMatch("not_goyang")
        return None, _NameMatch("unknown_code")
    if region and region.isdigit() and not table.in_city(region):
        return None, _NameMatch("not_goyang")
    if name is None:
        return None, _NameMatch("unknown_name" if code is None else "unknown_code")
    hints: set[str] = set()
    if region and region.isdigit() and region[:5] in table.gu_by_prefix:
        hints.add(table.gu_by_prefix[region[:5]])
    for col in other_text_cols:
        value = gdf.at[pos, col]
        if isinstance(value, str):
            compact = _compact(value)
            hints.update(g for g in table.gus if g in compact)
    match = _match_name(name, table, hints)
    return match.row, match


def _unmatched_entry(
    ident: _NameMatch, code: str | None, name: str | None, table: _Table, found: _Found
) -> ReportEntry:
    what_ko, what_en = found.ko, found.en
    entry = found.entry
    if ident.outcome == "unknown_code":
        return entry(
            "unknown_code",
            f"코드 {code}은(는) 고양시 코드지만 {len(table.rows)}개 행정동 목록에 없습니다({what_ko}). "
            "행정동이 나뉘거나 합쳐지기 전후의 파일인지 확인해 주세요.",
            f"Code {code} is a Goyang code but not one of the {len(table.rows)} dongs ({what_en}). "
            "Check whether the file predates or postdates a split or merger of dongs.",
        )
    if ident.outcome == "ambiguous":
        options = ", ".join(table.label(i) for i in ident.candidates)
        return entry(
            "ambiguous",
            f"이름 '{name}'인 행정동이 여러 구에 있습니다({options}). 이름에 구를 넣거나(예: 덕양구 {name}) "
            "행정동 코드 열이 있는 파일을 올려 주세요.",
            f"More than one gu has a dong named '{name}' ({options}). Include the gu in the name "
            f"(e.g. 덕양구 {name}) or upload a file with a dong code column.",
        )
    if ident.gu_in_name:
        return entry(
            "unknown_name",
            f"{ident.gu_in_name}에는 '{name}'에 맞는 행정동이 없습니다({what_ko}).",
            f"{ident.gu_in_name} has no dong matching '{name}' ({what_en}).",
        )
    return entry(
        "unknown_name",
        f"고양시 행정동 목록에 맞는 이름이 없습니다({what_ko}). 이름이 바뀐 행정동인지 확인해 주세요.",
        f"No Goyang dong matches this feature ({what_en}). Check whether the dong was renamed.",
    )


def _distance_to_point_m(geom: BaseGeometry, lon: float, lat: float) -> float:
    """Distance in metres (EPSG:5179) from a lon/lat polygon to a lon/lat point; 0 when inside."""
    x, y = lonlat_to_metric([lon], [lat])
    metric = to_metric(geom)
    d = float(shapely.distance(metric, Point(float(x[0]), float(y[0]))))
    return d if math.isfinite(d) else math.inf


# --- both ---------------------------------------------------------------------


def import_boundaries(
    path: str | Path,
    admin_dongs: pd.DataFrame,
    assume_epsg: int | None = None,
    *,
    layer: str | int | None = None,
    location_tolerance_m: float = LOCATION_TOLERANCE_M,
) -> ImportResult:
    """Read an official boundary file and match it to the administrative dongs.

    Parameters
    ----------
    path : str or pathlib.Path
        The boundary file (see :func:`read_boundary_file`).
    admin_dongs : pandas.DataFrame
        The reference dongs (see :func:`match_admin_dongs`).
    assume_epsg : int, optional
        EPSG code of the coordinates when the file declares none or a wrong one.
    layer : str or int, optional
        GeoPackage layer, or shapefile name inside a zip.
    location_tolerance_m : float, default 200
        Metres a polygon may lie from its dong's representative point before
        it is flagged ``suspicious_location``.

    Returns
    -------
    ImportResult
        Districts in EPSG:4326 (lon/lat degrees) and the per-feature report.

    Raises
    ------
    geo.errors.BoundaryImportError
        When the file cannot be used at all (see :func:`read_boundary_file`
        and :func:`match_admin_dongs`).
    """
    gdf = read_boundary_file(path, layer=layer, assume_epsg=assume_epsg)
    return match_admin_dongs(gdf, admin_dongs, location_tolerance_m=location_tolerance_m)
