"""Fuzzing the official-boundary import: geo.importer.import_boundaries.

Valid GeoJSON, GeoPackage and zipped Shapefiles (UTF-8 and CP949 text, with
and without .prj) are truncated, have bytes flipped, get hostile features
(drawn-GeoJSON strategies as geometries, hostile attribute text) or become
hostile zips (path traversal, no boundary, many members, a bomb within
reason). Each file ends in a bilingual BoundaryImportError or an import
whose districts are valid, non-empty, lon/lat polygons of known dongs.
"""
from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from fuzz_geojson import drawn
from fuzzkit import assert_bilingual, count, fuzz_settings, outcome
from hypothesis import example, given
from hypothesis import strategies as st

from geo.errors import BoundaryImportError
from geo.importer import import_boundaries

CSV = Path(__file__).resolve().parents[2] / "data" / "goyang_admin_dongs.csv"

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio", "ignore::UserWarning")


@lru_cache(maxsize=1)
def admin() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype={"adm_code": str})


@lru_cache(maxsize=1)
def cells() -> gpd.GeoDataFrame:
    """A 600 m square around each dong's representative point, EPSG:5179, with codes and names."""
    a = admin()
    geoms = [shapely.box(x - 300, y - 300, x + 300, y + 300) for x, y in zip(a["x_5179"], a["y_5179"])]
    return gpd.GeoDataFrame(
        {"adm_cd2": a["adm_code"], "adm_nm": "경기도 고양시" + a["gu"] + " " + a["dong"]}, geometry=geoms, crs="EPSG:5179"
    )


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@lru_cache(maxsize=1)
def good_files() -> dict[str, bytes]:
    """Valid boundary files, by the name they are uploaded under."""
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        g4326 = cells().to_crs("EPSG:4326")
        g4326.to_file(t / "a.geojson", driver="GeoJSON")
        out["admdong.geojson"] = (t / "a.geojson").read_bytes()
        out["admdong_cp949.geojson"] = (t / "a.geojson").read_bytes().decode("utf-8").encode("cp949")
        cells().to_crs("EPSG:5186").to_file(t / "b.gpkg", layer="dongs", driver="GPKG")
        out["boundaries.gpkg"] = (t / "b.gpkg").read_bytes()
        cells().to_file(t / "TL_SCCO_GEMD.shp", encoding="cp949")
        parts = {p.suffix: p.read_bytes() for p in t.glob("TL_SCCO_GEMD.*")}
        out["gemd.zip"] = _zip({f"TL_SCCO_GEMD{s}": b for s, b in parts.items() if s != ".cpg"})  # CP949, no .cpg
        out["gemd_no_prj.zip"] = _zip({f"TL_SCCO_GEMD{s}": b for s, b in parts.items() if s not in (".cpg", ".prj")})
    return out


@st.composite
def damaged_file(draw):
    name = draw(st.sampled_from(sorted(good_files())))
    data = bytearray(good_files()[name])
    kind = draw(st.integers(0, 3))
    if kind == 0:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == 1:
        for _ in range(draw(st.integers(1, 10))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == 2:
        start = draw(st.integers(0, len(data) - 1))
        junk = draw(st.binary(min_size=1, max_size=200))
        data[start : start + len(junk)] = junk
    return name, bytes(data)


hostile_attr = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["4128151000", "41281510", "경기도 고양시덕양구 주교동", "주교동", "'; DROP TABLE districts; --", "\x00", "\u202e동교주"]),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
)


@st.composite
def hostile_geojson(draw):
    """A FeatureCollection whose features carry hostile geometries and attributes (as text, like a file)."""
    features = []
    base = cells().to_crs("EPSG:4326")
    for _ in range(draw(st.integers(0, 6))):
        geom = draw(drawn())
        if isinstance(geom, (str, bytes)) or draw(st.booleans()):
            i = draw(st.integers(0, len(base) - 1))
            geom = shapely.geometry.mapping(base.geometry.iloc[i]) if draw(st.booleans()) else geom
        if isinstance(geom, bytes):
            geom = geom.decode("utf-8", "replace")
        features.append(
            {
                "type": "Feature",
                "properties": {draw(st.sampled_from(["adm_cd2", "adm_nm", "EMD_KOR_NM", "x"])): draw(hostile_attr)},
                "geometry": geom,
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    if draw(st.booleans()):
        doc["crs"] = {"type": "name", "properties": {"name": draw(st.sampled_from(["EPSG:5179", "EPSG:4326", "urn:bogus", ""]))}}
    text = json.dumps(doc, allow_nan=True, default=str)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949"]))
    return draw(st.sampled_from(["fuzz.geojson", "fuzz.json"])), text.encode(encoding, "replace")


def bomb_zip(size: int) -> bytes:
    """A deflated member of ``size`` zero bytes (about 1/1000 of that compressed) named like a shapefile part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("TL_SCCO_GEMD.shp", "w", force_zip64=True) as f:
            chunk = b"\x00" * 1_000_000
            for _ in range(size // len(chunk)):
                f.write(chunk)
        zf.writestr("TL_SCCO_GEMD.shx", b"\x00" * 100)
        zf.writestr("TL_SCCO_GEMD.dbf", b"\x00" * 100)
    return buf.getvalue()


@st.composite
def hostile_zip(draw):
    files = dict(good_files())
    inner = _zip(
        {
            draw(st.sampled_from(["../../evil.shp", "/abs/TL_SCCO_GEMD.shp", "a/b/c.shp", "x.SHP", "경계.shp", "\u202ephs.exe"])): b"\x00" * 200,
            draw(st.sampled_from(["../../evil.dbf", "x.dbf", "경계.dbf"])): b"\x03" * 40,
            "x.shx": b"\x00" * 100,
        }
    )
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return "traversal.zip", inner
    if choice == 1:
        return "readme.zip", _zip({"README.txt": b"hello", "data.csv": b"a,b\n1,2\n"})
    if choice == 2:  # the good archive nested inside another
        return "nested.zip", _zip({"inner.zip": files["gemd.zip"]})
    if choice == 3:
        return "many.zip", _zip({f"part{i}.shp": b"" for i in range(draw(st.integers(1, 300)))})
    return "empty.zip", _zip({})


def check_import(name: str, data: bytes, assume_epsg: int | None = None) -> str:
    """Import ``data`` uploaded as ``name``: a bilingual refusal, or valid districts of known dongs."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            result = import_boundaries(path, admin(), assume_epsg=assume_epsg)
        except BoundaryImportError as err:
            assert_bilingual(err)
            outcome("boundary file (geo.importer.import_boundaries)", False)
            return err.code
    d = result.districts
    assert set(d["adm_code"]) <= set(admin()["adm_code"])
    assert d["adm_code"].is_unique
    for geom in d.geometry:
        assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid and not geom.is_empty
        xy = shapely.get_coordinates(geom)
        assert all(math.isfinite(v) for v in xy.ravel())
        assert ((xy[:, 0] > 124) & (xy[:, 0] < 132) & (xy[:, 1] > 33) & (xy[:, 1] < 39)).all(), "not lon/lat in Korea"
    for entry in result.report:
        assert entry.message("ko").strip() and entry.message("en").strip()
    assert result.summary("ko").strip() and result.summary("en").strip()
    outcome("boundary file (geo.importer.import_boundaries)", True)
    return "imported"


def test_good_files_import():
    """The undamaged files import (the fuzzed ones start from these); without .prj only with an EPSG."""
    for name, data in sorted(good_files().items()):
        count("boundary file (geo.importer.import_boundaries)")
        outcome = check_import(name, data)
        assert outcome == ("missing_crs" if name == "gemd_no_prj.zip" else "imported"), name
    count("boundary file (geo.importer.import_boundaries)", 3)
    assert check_import("gemd_no_prj.zip", good_files()["gemd_no_prj.zip"], assume_epsg=5179) == "imported"
    # Metres read as degrees stored boundaries at lon 940,000 before the fix (found by the fuzz run).
    assert check_import("gemd_no_prj.zip", good_files()["gemd_no_prj.zip"], assume_epsg=4326) == "crs_mismatch"
    assert check_import("admdong.geojson", good_files()["admdong.geojson"], assume_epsg=5179) == "imported"  # declared CRS fits


@fuzz_settings(scale=1)
@given(damaged_file(), st.sampled_from([None, None, 5179, 4326, 0, -1, 999999]))
def test_damaged_files(file, assume_epsg):
    count("boundary file (geo.importer.import_boundaries)")
    check_import(*file, assume_epsg=assume_epsg)


@fuzz_settings(scale=1)
@given(hostile_geojson())
@example(("deep.geojson", ("[" * 100_000 + "]" * 100_000).encode()))
@example(("nan.geojson", b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[NaN,1],[2,Infinity],[3,3],[NaN,1]]]}}]}'))
def test_hostile_geojson(file):
    count("boundary file (geo.importer.import_boundaries)")
    check_import(*file)


@fuzz_settings(scale=0.5)
@given(hostile_zip())
def test_hostile_zips(file):
    count("boundary file (geo.importer.import_boundaries)")
    check_import(*file)


def test_zip_bombs_within_reason(tmp_path):
    """A 60 MB member compressed to ~60 kB is unpacked and refused; a zip claiming more than 1 GB is refused unread."""
    count("boundary file (geo.importer.import_boundaries)", 2)
    assert check_import("bomb.zip", bomb_zip(60_000_000)) in ("unreadable", "empty_file", "no_polygons")
    # A central directory claiming 2 GB: refused before anything is unpacked.
    data = bytearray(_zip({"TL_SCCO_GEMD.shp": b"\x00" * 1000, "TL_SCCO_GEMD.shx": b"", "TL_SCCO_GEMD.dbf": b""}))
    for start in range(len(data) - 4):
        if data[start : start + 4] == b"PK\x01\x02" and data[start + 46 : start + 46 + 16] == b"TL_SCCO_GEMD.shp":
            data[start + 24 : start + 28] = (2_000_000_000).to_bytes(4, "little")  # uncompressed size
    assert check_import("claims.zip", bytes(data)) == "bad_zip"
