"""Exports of the planners' filtered set: CSV, GeoJSON and GeoPackage.

Every export is made from a review frame (:func:`planning.review.review_frame`)
and holds no personal data: no author, no contact, only what a proposal says,
where it is and where it stands. Coordinates are WGS84 lon/lat (GeoJSON RFC
7946 order); the CSV carries the geometry as WKT plus the longitude and
latitude of a representative point, for spreadsheets.
"""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import STORAGE_CRS
from planning.auth import Actor
from planning.errors import InvalidInput
from planning.review import ReviewFilter, review_frame

if TYPE_CHECKING:
    from store import Store

#: Columns of every export, in order (``cluster`` only when the frame has one).
EXPORT_COLUMNS = (
    "id",
    "title",
    "category",
    "status",
    "kind",
    "cost_krw",
    "supports",
    "comments",
    "district_code",
    "district_name",
    "hub_code",
    "hub_name",
    "legal_dong_code",
    "legal_dong_name",
    "created_at",
    "hidden",
    "is_demo",
    "cluster",
)

FORMATS = {"csv": "text/csv", "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_frame(frame: gpd.GeoDataFrame, district_names: Mapping[str, str], hub_names: Mapping[str, str]) -> gpd.GeoDataFrame:
    """The export columns of a review frame, with dong and hub names, lon/lat.

    Parameters
    ----------
    frame : GeoDataFrame
        A review frame (EPSG:4326), optionally with a ``cluster`` column.
    district_names, hub_names : mapping code -> name

    Returns
    -------
    GeoDataFrame
        :data:`EXPORT_COLUMNS` (without ``cluster`` if the frame has none)
        and ``geometry``, sorted by id; ``created_at`` as ISO 8601 text (UTC).
    """
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError("exports are made from lon/lat (EPSG:4326) frames")
    out = pd.DataFrame(index=frame.index)
    for column in EXPORT_COLUMNS:
        if column == "district_name":
            out[column] = frame["district_code"].map(lambda c: district_names.get(c, "") if c else "")
        elif column == "hub_name":
            out[column] = frame["hub_code"].map(lambda c: hub_names.get(c, "") if c else "")
        elif column == "created_at":
            out[column] = pd.to_datetime(frame["created_at"], utc=True).map(lambda ts: ts.isoformat())
        elif column == "cluster":
            if "cluster" in frame.columns:
                out[column] = frame["cluster"].astype("int64")
        else:
            out[column] = frame[column]
    result = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=STORAGE_CRS)
    return result.sort_values("id").reset_index(drop=True)


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(frame: gpd.GeoDataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads Hangul) with ``wkt``, ``lon``, ``lat`` columns.

    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@`` first) is prefixed with an apostrophe.
    """
    table = pd.DataFrame(frame.drop(columns="geometry"))
    for column in ("title", "district_name", "hub_name", "legal_dong_name"):
        if column in table:
            table[column] = table[column].map(_safe_cell)
    points = frame.geometry.representative_point()
    table["lon"] = points.x.round(7)
    table["lat"] = points.y.round(7)
    table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7)
    return table.to_csv(index=False).encode("utf-8-sig")


def to_geojson(frame: gpd.GeoDataFrame) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946: lon/lat), the proposal id as each feature's ``id``."""
    features = []
    properties = [c for c in frame.columns if c != "geometry"]
    for row, geom in zip(frame[properties].itertuples(index=False), frame.geometry):
        props = {}
        for name, value in zip(properties, row):
            if value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            props[name] = value
        features.append({"type": "Feature", "id": int(props["id"]), "properties": props, "geometry": shapely.geometry.mapping(geom)})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")


def to_geopackage(frame: gpd.GeoDataFrame, layer: str = "proposals") -> bytes:
    """A GeoPackage (EPSG:4326) with one layer of the proposals, any geometry type."""
    table = frame.copy()
    table["cost_krw"] = table["cost_krw"].astype("float64")  # nullable ints are written as real
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "proposals.gpkg"
        table.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", geometry_type="Unknown")
        return path.read_bytes()


def export_bytes(frame: gpd.GeoDataFrame, fmt: str) -> bytes:
    """The export of ``frame`` (see :func:`export_frame`) in ``csv``, ``geojson`` or ``gpkg``."""
    if fmt not in FORMATS:
        raise InvalidInput(
            "bad_export_format",
            f"내보내기 형식 '{fmt}'은(는) 지원하지 않습니다. csv, geojson, gpkg 중에서 고르세요.",
            f"Export format '{fmt}' is not supported. Please choose csv, geojson or gpkg.",
        )
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "geojson":
        return to_geojson(frame)
    return to_geopackage(frame)


def read_back(data: bytes, fmt: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read an export back (for checks and round trips)."""
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"district_code": str, "hub_code": str, "legal_dong_code": str})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{fmt}"
        path.write_bytes(data)
        return gpd.read_file(path, engine="pyogrio")


def review_export(store: Store, actor: Actor | int | None, f: ReviewFilter | None, fmt: str, clusters: Mapping[int, int] | None = None) -> bytes:
    """Export the planner's filtered set in ``fmt`` (planners and admins only).

    ``clusters`` (proposal id -> cluster label, -1 for noise) adds a
    ``cluster`` column; proposals without a label get -1.
    """
    if fmt not in FORMATS:
        export_bytes(gpd.GeoDataFrame(), fmt)  # raises the bilingual refusal
    frame = review_frame(store, actor, f)
    if clusters is not None:
        frame["cluster"] = frame["id"].map(lambda i: int(clusters.get(int(i), -1))).astype("int64")
    with store.transaction() as tx:
        district_names = tx.districts.names()
        hub_names = {c.code: c.name for c in tx.centres.list()}
    return export_bytes(export_frame(frame, district_names, hub_names), fmt)
