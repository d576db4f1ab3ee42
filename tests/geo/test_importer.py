"""Tests of the official-boundary importer (geo/importer.py).

Fixture files are written to tmp_path from realistic geometry: Voronoi cells
of the 44 representative points (EPSG:5179), clipped to a buffer of their hull,
then saved in the formats and CRSs the real sources use.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geo.errors import BoundaryImportError
from geo.importer import (
    OUTCOMES,
    ImportResult,
    import_boundaries,
    match_admin_dongs,
    read_boundary_file,
)

CSV = Path(__file__).resolve().parents[2] / "data" / "goyang_admin_dongs.csv"
SEOUL_CODE = "1111051500"  # 서울특별시 종로구 청운효자동


# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype={"adm_code": str})


@pytest.fixture(scope="module")
def cells(admin: pd.DataFrame) -> gpd.GeoDataFrame:
    """One polygon per dong in EPSG:5179 (metres): Voronoi cells clipped to the hull + 1.5 km."""
    pts = shapely.points(admin["x_5179"].to_numpy(float), admin["y_5179"].to_numpy(float))
    area = shapely.convex_hull(shapely.multipoints(pts)).buffer(1500)
    diagram = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=area.buffer(5000))
    parts = shapely.get_parts(diagram)
    tree = shapely.STRtree(parts)
    owner = dict(zip(*tree.query(pts, predicate="within")))
    geoms = [shapely.intersection(parts[owner[i]], area) for i in range(len(pts))]
    gdf = gpd.GeoDataFrame(admin[["adm_code", "gu", "dong"]].copy(), geometry=geoms, crs="EPSG:5179")
    assert gdf.geometry.is_valid.all() and len(gdf) == 44
    return gdf


def admdongkor(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """admdongkor / HangJeongDong attributes, EPSG:4326."""
    out = cells.to_crs("EPSG:4326")
    return gpd.GeoDataFrame(
        {
            "adm_nm": "경기도 고양시" + out["gu"] + " " + out["dong"],
            "adm_cd": [f"31{101 + i:05d}" for i in range(len(out))],  # KOSTAT 7-digit scheme: not our codes
            "adm_cd2": out["adm_code"],
            "sgg": out["adm_code"].str[:5],
            "sido": "41",
            "sidonm": "경기도",
            "sggnm": "고양시" + out["gu"],
        },
        geometry=out.geometry.values,
        crs="EPSG:4326",
    )


def write_cp949_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write like the juso TL_SCCO_GEMD release: CP949 text, no .cpg."""
    gdf.to_file(path, encoding="cp949")
    path.with_suffix(".cpg").unlink()
    return path


def tl_scco_gemd(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """TL_SCCO_GEMD-like attributes (names only; EMD_CD holds legal-dong style codes), EPSG:5179."""
    return gpd.GeoDataFrame(
        {
            "EMD_CD": [f"4128{c[4]}{101 + i:03d}" for i, c in enumerate(cells["adm_code"])],
            "EMD_KOR_NM": cells["dong"],
            "EMD_ENG_NM": [f"Dong-{i}" for i in range(len(cells))],
        },
        geometry=cells.geometry.values,
        crs="EPSG:5179",
    )


def assert_points_inside(result: ImportResult, admin: pd.DataFrame) -> None:
    """Each dong's representative point (lon, lat) lies in its imported polygon: axis order and CRS are right."""
    assert result.districts.crs.to_epsg() == 4326
    points = admin.set_index("adm_code")
    for row in result.districts.itertuples():
        p = Point(points.at[row.adm_code, "lon"], points.at[row.adm_code, "lat"])
        assert row.geometry.covers(p), f"{row.adm_code} {row.name}: point not inside its polygon"
    minx, miny, maxx, maxy = result.districts.total_bounds
    assert 126.6 < minx < maxx < 127.1 and 37.5 < miny < maxy < 37.8


def outcomes(result: ImportResult) -> dict[int, list[str]]:
    return result.outcomes()


def primary(result: ImportResult) -> list[str]:
    """The matching outcome of each feature, in file order (geometry placement ignored)."""
    return [result.for_feature(i)[0].outcome for i in sorted(result.outcomes())]


def primary_codes(result: ImportResult) -> list[str | None]:
    return [result.for_feature(i)[0].adm_code for i in sorted(result.outcomes())]


# --- reading and matching the real formats -----------------------------------


def test_admdongkor_geojson_matches_all_by_code(tmp_path, cells, admin):
    path = tmp_path / "HangJeongDong.geojson"
    admdongkor(cells).to_file(path, driver="GeoJSON")

    result = import_boundaries(path, admin)

    assert result.imported == 44 and result.missing == []
    assert {o for os_ in outcomes(result).values() for o in os_} == {"matched"}
    assert result.source["code_column"] == "adm_cd2"
    assert list(result.districts.columns) == ["adm_code", "gu", "name", "geometry"]
    assert list(result.districts["adm_code"]) == sorted(admin["adm_code"])
    joined = result.districts.merge(admin[["adm_code", "gu", "dong"]], on="adm_code", suffixes=("", "_csv"))
    assert len(joined) == 44
    assert (joined["name"] == joined["dong"]).all() and (joined["gu"] == joined["gu_csv"]).all()
    assert_points_inside(result, admin)
    assert result.summary("ko").startswith("44개 중 44개 행정동 경계를 가져왔습니다.")
    assert result.summary("en").startswith("Imported 44 of 44 administrative dong boundaries.")


def test_geopackage_in_5186_picks_first_polygon_layer_and_matches_names(tmp_path, cells, admin):
    path = tmp_path / "city_gis.gpkg"
    centres = gpd.GeoDataFrame(
        {"label": admin["dong"]}, geometry=gpd.points_from_xy(admin["lon"], admin["lat"]), crs="EPSG:4326"
    )
    centres.to_crs("EPSG:5186").to_file(path, layer="centres", driver="GPKG")
    polys = gpd.GeoDataFrame(
        {"OBJECTID": range(1, 45), "행정동명": cells["gu"] + " " + cells["dong"], "AREA_M2": cells.area},
        geometry=cells.geometry.values,
        crs="EPSG:5179",
    ).to_crs("EPSG:5186")
    polys.to_file(path, layer="admin_dong", driver="GPKG")

    gdf = read_boundary_file(path)
    assert gdf.attrs["layer"] == "admin_dong" and gdf.crs.to_epsg() == 4326
    assert "EPSG:5186" in gdf.attrs["crs"]

    result = match_admin_dongs(gdf, admin)
    assert result.imported == 44
    assert result.source["name_column"] == "행정동명" and result.source["code_column"] is None
    assert_points_inside(result, admin)

    # the points layer can be asked for, and is refused as not a boundary
    with pytest.raises(BoundaryImportError) as exc:
        read_boundary_file(path, layer="centres")
    assert exc.value.code == "no_polygons"
    with pytest.raises(BoundaryImportError) as exc:
        read_boundary_file(path, layer="nope")
    assert exc.value.code == "layer_not_found" and "admin_dong" in exc.value.en


def test_cp949_shapefile_without_cpg_in_5179(tmp_path, cells, admin):
    path = write_cp949_shapefile(tl_scco_gemd(cells), tmp_path / "TL_SCCO_GEMD.shp")
    assert not path.with_suffix(".cpg").exists()

    gdf = read_boundary_file(path)
    assert gdf.attrs["encoding"] == "cp949"
    assert set(gdf["EMD_KOR_NM"]) == set(admin["dong"])  # decoded, not mojibake

    result = match_admin_dongs(gdf, admin)
    assert result.imported == 44
    assert result.source["name_column"] == "EMD_KOR_NM"
    assert "EPSG:5179" in result.source["crs"]
    assert_points_inside(result, admin)


def test_utf8_shapefile_without_cpg_and_korean_column_name(tmp_path, cells, admin):
    gdf = gpd.GeoDataFrame({"동이름": cells["dong"]}, geometry=cells.geometry.values, crs="EPSG:5179")
    path = tmp_path / "utf8.shp"
    gdf.to_file(path, encoding="utf-8")
    path.with_suffix(".cpg").unlink(missing_ok=True)

    read = read_boundary_file(path)
    assert read.attrs["encoding"] == "utf-8"
    assert "동이름" in read.columns
    assert match_admin_dongs(read, admin).imported == 44


def test_cpg_declaring_cp949_is_honoured(tmp_path, cells, admin):
    path = tmp_path / "with_cpg.shp"
    tl_scco_gemd(cells).to_file(path, encoding="cp949")
    assert path.with_suffix(".cpg").read_text().strip().upper() == "CP949"
    gdf = read_boundary_file(path)
    assert gdf.attrs["encoding"] == "cp949"
    assert match_admin_dongs(gdf, admin).imported == 44


def test_zipped_shapefile_prefers_gemd_layer(tmp_path, cells, admin):
    folder = tmp_path / "release"
    folder.mkdir()
    write_cp949_shapefile(tl_scco_gemd(cells), folder / "TL_SCCO_GEMD.shp")
    province = gpd.GeoDataFrame(
        {"CTPRVN_CD": ["41"], "CTP_KOR_NM": ["경기도"]},
        geometry=[shapely.union_all(cells.geometry.values).buffer(10_000)],
        crs="EPSG:5179",
    )
    write_cp949_shapefile(province, folder / "TL_SCCO_CTPRVN.shp")
    archive = tmp_path / "juso_202405.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.iterdir()):
            # Korean releases often use upper-case suffixes
            zf.write(f, "202405/" + f.stem + f.suffix.upper())

    result = import_boundaries(archive, admin)
    assert result.source["format"] == "zip/shapefile"
    assert result.imported == 44
    assert_points_inside(result, admin)

    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(archive, admin, layer="TL_SCCO_CTPRVN")
    assert exc.value.code == "no_match_column"


# --- a realistic messy file ------------------------------------------------------


def bowtie_around(x: float, y: float, d: float = 300.0) -> Polygon:
    """A self-intersecting polygon whose crossing point is (x, y)."""
    return Polygon([(x - d, y - d), (x + d, y + d), (x + d, y - d), (x - d, y + d)])


@pytest.fixture()
def messy(tmp_path, cells, admin) -> tuple[Path, dict[str, int]]:
    """admdongkor-style GeoJSON with missing dongs, Seoul features, a bowtie, a split dong and bad geometries."""
    base = admdongkor(cells).to_crs("EPSG:5179")
    by_code = base.set_index("adm_cd2")
    pts = admin.set_index("adm_code")
    rows = []

    def add(code: str, name: str, geom, tag: str | None = None) -> None:
        rows.append({"adm_nm": name, "adm_cd2": code, "geometry": geom, "tag": tag})

    dropped = {"4128151000", "4128761000"}  # 주교동, 가좌동 absent from the file
    bowtie_code, split_code = "4128162100", "4128553000"  # 화정1동, 정발산동
    point_code, empty_code = "4128167000", "4128560000"  # 대덕동 as a point, 고봉동 without geometry
    for code, r in by_code.iterrows():
        if code in dropped:
            continue
        if code == bowtie_code:
            add(code, r["adm_nm"], bowtie_around(pts.at[code, "x_5179"], pts.at[code, "y_5179"]), "bowtie")
        elif code == split_code:
            x = pts.at[code, "x_5179"]
            minx, miny, maxx, maxy = r.geometry.bounds
            add(code, r["adm_nm"], r.geometry.intersection(box(minx - 1, miny - 1, x + 100, maxy + 1)), "split-a")
            add(code, r["adm_nm"], r.geometry.intersection(box(x + 100, miny - 1, maxx + 1, maxy + 1)), "split-b")
        elif code == point_code:
            add(code, r["adm_nm"], Point(pts.at[code, "x_5179"], pts.at[code, "y_5179"]), "point")
        elif code == empty_code:
            add(code, r["adm_nm"], None, "empty")
        else:
            add(code, r["adm_nm"], r.geometry)
    seoul = box(953_000, 1_953_000, 954_000, 1_954_000)  # central Seoul, EPSG:5179
    add(SEOUL_CODE, "서울특별시 종로구 청운효자동", seoul, "seoul")
    add("1114055000", "서울특별시 중구 주교동", seoul.buffer(-100), "seoul-jugyo")  # same dong name as Goyang's
    add("4128157000", "경기도 고양시덕양구 삼송동", box(947_000, 1_962_000, 947_500, 1_962_500), "old-code")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5179").to_crs("EPSG:4326")
    path = tmp_path / "messy.geojson"
    gdf.to_file(path, driver="GeoJSON")
    index = {}
    for i, tag in enumerate(gdf["tag"]):
        if tag:
            index[tag] = i
    return path, index


def test_messy_file_outcomes(messy, admin):
    path, at = messy
    result = import_boundaries(path, admin)
    got = result.outcomes()

    expected = {i: ["matched"] for i in got}
    expected[at["bowtie"]] = ["matched", "repaired"]
    expected[at["split-a"]] = ["merged"]
    expected[at["split-b"]] = ["merged"]
    expected[at["point"]] = ["not_polygon"]
    expected[at["empty"]] = ["empty_geometry"]
    expected[at["seoul"]] = ["not_goyang"]
    expected[at["seoul-jugyo"]] = ["not_goyang"]
    expected[at["old-code"]] = ["unknown_code"]
    assert got == expected
    assert len(got) == 46  # every feature is reported

    # dropped (2), point-only (1) and empty (1) dongs are missing and keep their cell
    assert result.missing == sorted(["4128151000", "4128761000", "4128167000", "4128560000"])
    assert result.imported == 40
    assert_points_inside(result, admin)

    # the split dong is one polygon again, as large as both halves
    merged = result.districts.set_index("adm_code").at["4128553000", "geometry"]
    assert merged.geom_type == "Polygon"
    # the bowtie came back as two valid triangles
    bowtie = result.districts.set_index("adm_code").at["4128162100", "geometry"]
    assert bowtie.is_valid and bowtie.geom_type == "MultiPolygon" and len(bowtie.geoms) == 2

    seoul = result.for_feature(at["seoul"])[0]
    assert seoul.code == SEOUL_CODE and seoul.adm_code is None
    assert "고양시 행정동이 아니" in seoul.ko and "Not a Goyang dong" in seoul.en
    repaired = next(e for e in result.report if e.outcome == "repaired")
    assert "Self-intersection" in repaired.en and "make_valid" in repaired.ko
    old = result.for_feature(at["old-code"])[0]
    assert old.code == "4128157000" and "목록에 없습니다" in old.ko and "not one of the 44" in old.en


def test_messy_file_summary_in_both_languages(messy, admin):
    path, at = messy
    result = import_boundaries(path, admin)
    ko, en = result.summary("ko"), result.summary("en")
    assert ko.splitlines()[0] == "44개 중 40개 행정동 경계를 가져왔습니다."
    assert en.splitlines()[0] == "Imported 40 of 44 administrative dong boundaries."
    assert "근사 경계를 그대로 씁니다" in ko and "덕양구 주교동" in ko and "일산서구 가좌동" in ko
    assert "keep their approximate cell" in en and "덕양구 주교동" in en
    assert "고양시 밖 도형(건너뜀) 2개" in ko and "not Goyang (skipped): 2" in en
    assert f"{at['seoul'] + 1}번 도형" in ko and f"feature {at['seoul'] + 1}:" in en
    assert ko != en


# --- location sanity check -------------------------------------------------------


def test_wrong_prj_is_flagged_suspicious_but_imported(tmp_path, cells, admin):
    """Coordinates in EPSG:5186 whose .prj says EPSG:5179: every dong lands far away."""
    wrong = tl_scco_gemd(cells).to_crs("EPSG:5186").set_crs("EPSG:5179", allow_override=True)
    path = write_cp949_shapefile(wrong, tmp_path / "wrong_prj.shp")

    result = import_boundaries(path, admin)
    assert result.imported == 44
    flagged = result.entries("suspicious_location")
    assert len(flagged) == 44
    assert all("좌표계" in e.ko and "CRS" in e.en for e in flagged)
    assert "위치가 의심스러운 행정동 44개" in result.summary("ko")


def test_swapped_names_are_flagged(tmp_path, cells, admin):
    gdf = admdongkor(cells)
    i, j = 0, 43  # 주교동 and 가좌동, far apart
    gdf.loc[[i, j], "adm_cd2"] = gdf.loc[[j, i], "adm_cd2"].to_numpy()
    path = tmp_path / "swapped.geojson"
    gdf.to_file(path, driver="GeoJSON")
    result = import_boundaries(path, admin)
    flagged = {e.adm_code for e in result.entries("suspicious_location")}
    assert flagged == {"4128151000", "4128761000"}
    assert result.outcomes()[i] == ["matched", "suspicious_location"]


def test_small_shift_is_within_tolerance(tmp_path, cells, admin):
    gdf = admdongkor(cells).to_crs("EPSG:5179")
    gdf["geometry"] = gdf.geometry.translate(30, -30)  # a datum-sized nudge inside the tolerance
    path = tmp_path / "nudged.geojson"
    gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    assert import_boundaries(path, admin).entries("suspicious_location") == []


# --- name matching -----------------------------------------------------------------


def named(cells: gpd.GeoDataFrame, names: list[str], **extra) -> gpd.GeoDataFrame:
    geoms = cells.to_crs("EPSG:4326").geometry.values[: len(names)]
    return gpd.GeoDataFrame({"name": names, **extra}, geometry=list(geoms), crs="EPSG:4326")


def test_name_forms_and_spacing(cells, admin):
    names = [
        "경기도 고양시덕양구 주교동",
        "경기도  고양시 덕양구   원신동 ",
        "고양특례시 덕양구 흥도동",
        "덕양구 성사1동",
        "성사2동",
        "효자동",
        "삼송 1동",
    ]
    result = match_admin_dongs(named(cells, names), admin)
    assert [e.outcome for e in result.report] == ["matched"] * 7
    assert [e.adm_code for e in result.report] == list(admin["adm_code"][:7])


def test_names_of_other_cities_and_unknown_names(cells, admin):
    names = ["서울특별시 중구 주교동", "서울특별시 종로구 청운효자동", "고양시 덕양구 없는동", "일산동구 주교동", "주교동"]
    result = match_admin_dongs(named(cells, names), admin)
    assert primary(result) == ["not_goyang", "not_goyang", "unknown_name", "unknown_name", "matched"]
    third = result.for_feature(3)[0]
    assert "일산동구" in third.ko and "'일산동구 주교동'" in third.en


def test_same_dong_name_in_two_gus_uses_the_gu(cells, admin):
    twin = admin.copy()
    twin.loc[twin["dong"] == "마두1동", "dong"] = "주교동"  # pretend 일산동구 also has a 주교동
    jugyo_d, jugyo_i = "4128151000", "4128556000"
    assert set(twin.loc[twin["dong"] == "주교동", "adm_code"]) == {jugyo_d, jugyo_i}

    result = match_admin_dongs(named(cells, ["주교동", "일산동구 주교동", "고양시덕양구 주교동"]), twin)
    assert primary(result) == ["ambiguous", "matched", "matched"]
    assert primary_codes(result) == [None, jugyo_i, jugyo_d]
    first = result.for_feature(0)[0]
    assert "덕양구 주교동" in first.ko and "일산동구 주교동" in first.en

    # a gu column (or a region code) resolves the bare name
    with_gu = named(cells, ["주교동", "주교동"], SGG_NM=["고양시일산동구", "고양시덕양구"])
    assert primary_codes(match_admin_dongs(with_gu, twin)) == [jugyo_i, jugyo_d]
    with_code = named(cells, ["주교동", "주교동"], EMD_CD=["41285101", "41281101"])
    assert primary_codes(match_admin_dongs(with_code, twin)) == [jugyo_i, jugyo_d]


def test_region_code_marks_other_cities_when_matching_by_name(cells, admin):
    # bare names are ambiguous across the country; the legal-dong code column tells Seoul apart
    gdf = named(cells, ["효자동", "효자동"], EMD_CD=["41281105", "11110115"])
    result = match_admin_dongs(gdf, admin)
    assert primary(result) == ["matched", "not_goyang"]
    assert result.for_feature(1)[0].code == "11110115"


def test_eight_digit_and_numeric_codes(cells, admin):
    gdf = gpd.GeoDataFrame(
        {"ADM_DR_CD": [int(c[:8]) for c in admin["adm_code"]]},  # 8-digit codes stored as numbers
        geometry=cells.to_crs("EPSG:4326").geometry.values,
        crs="EPSG:4326",
    )
    result = match_admin_dongs(gdf, admin)
    assert result.imported == 44 and result.source["code_column"] == "ADM_DR_CD"
    assert_points_inside(result, admin)


def test_file_of_another_city_only(cells, admin):
    gdf = gpd.GeoDataFrame(
        {"adm_cd2": [SEOUL_CODE, "1111053000"], "adm_nm": ["서울특별시 종로구 청운효자동", "서울특별시 종로구 사직동"]},
        geometry=[box(0, 0, 1, 1), box(1, 1, 2, 2)],
        crs="EPSG:4326",
    )
    result = match_admin_dongs(gdf, admin)
    assert [e.outcome for e in result.report] == ["not_goyang", "not_goyang"]
    assert result.imported == 0 and len(result.missing) == 44
    assert result.summary("ko").startswith("44개 중 0개")


def test_no_usable_column_is_refused(cells, admin):
    gdf = gpd.GeoDataFrame({"OBJECTID": range(3), "remark": ["a", "b", "c"]},
                           geometry=list(cells.to_crs("EPSG:4326").geometry.values[:3]), crs="EPSG:4326")
    with pytest.raises(BoundaryImportError) as exc:
        match_admin_dongs(gdf, admin)
    assert exc.value.code == "no_match_column"
    assert "OBJECTID" in exc.value.ko and "remark" in exc.value.en


def test_admin_table_as_geodataframe_with_name_column(cells, admin):
    table = gpd.GeoDataFrame(
        {"adm_code": admin["adm_code"], "gu": admin["gu"], "name": admin["dong"]},
        geometry=gpd.points_from_xy(admin["lon"], admin["lat"]),
        crs="EPSG:4326",
    )
    result = match_admin_dongs(admdongkor(cells), table)
    assert result.imported == 44


def test_match_reprojects_input_and_requires_crs(cells, admin):
    projected = admdongkor(cells).to_crs("EPSG:5186")
    result = match_admin_dongs(projected, admin)
    assert result.districts.crs.to_epsg() == 4326
    assert_points_inside(result, admin)
    with pytest.raises(BoundaryImportError) as exc:
        match_admin_dongs(projected.set_crs(None, allow_override=True), admin)
    assert exc.value.code == "missing_crs"


# --- encodings -----------------------------------------------------------------------


def test_cp949_encoded_geojson(tmp_path, cells, admin):
    src = json.loads(admdongkor(cells).to_json())
    path = tmp_path / "cp949.geojson"
    path.write_bytes(json.dumps(src, ensure_ascii=False).encode("cp949"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    gdf = read_boundary_file(path)
    assert gdf.attrs["encoding"] == "cp949"
    assert gdf["adm_nm"].iloc[0] == "경기도 고양시덕양구 주교동"


def test_mojibake_from_an_earlier_tool_is_repaired(tmp_path, cells, admin):
    names = [s.encode("cp949").decode("latin-1") for s in cells["dong"]]  # "ÁÖ±³µ¿" for "주교동"
    gdf = gpd.GeoDataFrame({"EMD_KOR_NM": names}, geometry=cells.geometry.values, crs="EPSG:5179")
    path = tmp_path / "mojibake.gpkg"
    gdf.to_file(path, layer="emd", driver="GPKG")
    read = read_boundary_file(path)
    assert read.attrs["encoding"] == "cp949 (repaired mojibake)"
    assert list(read["EMD_KOR_NM"]) == list(cells["dong"])
    assert match_admin_dongs(read, admin).imported == 44


# --- CRS -------------------------------------------------------------------------------


def test_shapefile_without_prj_is_refused_unless_epsg_given(tmp_path, cells, admin):
    path = write_cp949_shapefile(tl_scco_gemd(cells), tmp_path / "no_prj.shp")
    path.with_suffix(".prj").unlink()

    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(path, admin)
    err = exc.value
    assert err.code == "missing_crs"
    assert ".prj" in err.ko and "좌표계" in err.ko
    assert ".prj" in err.en and "coordinate reference system" in err.en
    assert err.message("en") == err.en and err.message("ko") == err.ko

    result = import_boundaries(path, admin, assume_epsg=5179)
    assert result.imported == 44 and result.source["crs"] == "EPSG:5179"
    assert_points_inside(result, admin)

    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(path, admin, assume_epsg=999_999)
    assert exc.value.code == "bad_epsg"


def test_geojson_holding_metres_is_refused_unless_epsg_given(tmp_path, cells, admin):
    gdf = admdongkor(cells).to_crs("EPSG:5179")
    src = json.loads(gdf.to_json())
    src.pop("crs", None)  # RFC 7946 GeoJSON has no crs member: readers assume WGS84
    path = tmp_path / "metres.geojson"
    path.write_text(json.dumps(src, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(BoundaryImportError) as exc:
        read_boundary_file(path)
    assert exc.value.code == "crs_mismatch" and "EPSG" in exc.value.en

    result = import_boundaries(path, admin, assume_epsg=5179)
    assert result.imported == 44
    assert_points_inside(result, admin)


# --- refusals ---------------------------------------------------------------------------


def assert_bilingual(err: BoundaryImportError) -> None:
    assert err.ko and err.en and err.ko != err.en
    assert any("\uac00" <= ch <= "\ud7a3" for ch in err.ko)  # Hangul in the Korean message
    assert err.en.isascii() or any(ch.isascii() for ch in err.en)
    assert str(err) == f"{err.ko} / {err.en}"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.geojson", b"", "empty_file"),
        ("empty.gpkg", b"", "empty_file"),
        ("blank.geojson", b"  \n\n ", "empty_file"),
        ("empty_collection.geojson", b'{"type": "FeatureCollection", "features": []}', "empty_file"),
        ("garbage.geojson", bytes(range(256)) * 8, "unreadable"),
        ("garbage.gpkg", b"\x00\x01not a geopackage" * 100, "unreadable"),
        ("garbage.zip", b"PK\x03\x04 this is not a zip", "bad_zip"),
        ("boundaries.csv", b"adm_code,wkt\n", "unsupported_format"),
    ],
)
def test_unusable_files_are_refused(tmp_path, admin, name, content, code):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(path, admin)
    assert exc.value.code == code
    assert_bilingual(exc.value)


def test_garbage_shapefile_is_refused(tmp_path, admin):
    for suffix in (".shp", ".shx", ".dbf"):
        (tmp_path / f"junk{suffix}").write_bytes(b"\xff" * 300)
    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(tmp_path / "junk.shp", admin)
    assert exc.value.code == "unreadable"
    assert_bilingual(exc.value)


def test_shapefile_missing_dbf_is_refused(tmp_path, cells, admin):
    path = write_cp949_shapefile(tl_scco_gemd(cells), tmp_path / "partial.shp")
    path.with_suffix(".dbf").unlink()
    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(path, admin)
    assert exc.value.code == "incomplete_shapefile" and ".dbf" in exc.value.en


def test_points_only_and_lines_only_files_are_refused(tmp_path, admin):
    points = gpd.GeoDataFrame(
        {"adm_cd2": admin["adm_code"]}, geometry=gpd.points_from_xy(admin["lon"], admin["lat"]), crs="EPSG:4326"
    )
    path = tmp_path / "points.geojson"
    points.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(path, admin)
    assert exc.value.code == "no_polygons" and "Point" in exc.value.en
    assert_bilingual(exc.value)

    lines = gpd.GeoDataFrame({"adm_cd2": ["4128151000"]}, geometry=[LineString([(126.8, 37.6), (126.9, 37.7)])],
                             crs="EPSG:4326")
    path = tmp_path / "lines.gpkg"
    lines.to_file(path, layer="lines", driver="GPKG")
    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(path, admin)
    assert exc.value.code == "no_polygons"


def test_zip_without_boundary_and_missing_file(tmp_path, admin):
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "no shapes here")
    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(archive, admin)
    assert exc.value.code == "no_boundary_in_zip"
    with pytest.raises(BoundaryImportError) as exc:
        import_boundaries(tmp_path / "absent.geojson", admin)
    assert exc.value.code == "file_not_found"


def test_outcome_vocabulary():
    assert set(OUTCOMES) == {
        "matched", "repaired", "merged", "not_goyang", "unknown_code", "unknown_name",
        "ambiguous", "empty_geometry", "not_polygon", "suspicious_location",
    }
