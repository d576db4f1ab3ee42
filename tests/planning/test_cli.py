"""The operators' command line, run in-process through planning.cli.main."""
import csv
import io
import json

import pytest

from planning.cli import main

LON, LAT = 126.826798, 37.661888  # 주교동


def run(args, store_url):
    out = io.StringIO()
    code = main(["--database-url", store_url, *args], out=out)
    return code, out.getvalue()


def fc(features):
    return {"type": "FeatureCollection", "features": features}


def feature(fid, gtype, coords):
    return {"type": "Feature", "properties": {"id": fid}, "geometry": {"type": gtype, "coordinates": coords}}


def test_init_db_then_centres_csv(store_url):
    code, _ = run(["init-db"], store_url)
    assert code == 0
    code, text = run(["centres", "--format", "csv"], store_url)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 44
    assert {"code", "name", "lon", "lat", "is_hub"} <= set(rows[0])
    hubs = [r for r in rows if r["is_hub"] == "true"]
    assert len(hubs) == 11
    jugyo = next(r for r in rows if r["code"] == "4128151000")
    assert jugyo["name"] == "주교동 행정복지센터"
    assert float(jugyo["lon"]) == pytest.approx(LON) and float(jugyo["lat"]) == pytest.approx(LAT)


def test_set_hub_changes_linking(store_url, tmp_path):
    run(["init-db"], store_url)
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(fc([feature("a", "Point", [126.952727, 37.66199])])))  # 효자동
    _, before = run(["link", str(path)], store_url)
    assert next(csv.DictReader(io.StringIO(before)))["hub_code"] != "4128156000"
    assert run(["set-hub", "4128156000", "--on"], store_url)[0] == 0
    _, after = run(["link", str(path)], store_url)
    row = next(csv.DictReader(io.StringIO(after)))
    assert row["hub_code"] == "4128156000" and row["hub_name"] == "효자동 행정복지센터"
    assert float(row["hub_distance_m"]) == pytest.approx(0.0, abs=0.01)


def test_link_csv_with_refusals_exits_2(store_url, tmp_path):
    path = tmp_path / "in.geojson"
    path.write_text(
        json.dumps(
            fc(
                [
                    feature("p1", "Point", [LON, LAT]),
                    feature("l1", "LineString", [[LON, LAT], [LON + 0.003, LAT + 0.002]]),
                    feature("g1", "Polygon", [[[LON, LAT], [LON + 0.002, LAT], [LON + 0.002, LAT + 0.002], [LON, LAT]]]),
                    feature("seoul", "Point", [126.978, 37.5665]),
                    feature("nan", "Point", ["x", 1]),
                ]
            )
        ),
        encoding="utf-8",
    )
    code, text = run(["--lang", "en", "link", str(path)], store_url)
    assert code == 2
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert list(rows) == ["p1", "l1", "g1", "seoul", "nan"]
    p1 = rows["p1"]
    assert p1["district_code"] == "4128151000" and p1["district_name"] == "주교동"
    assert p1["legal_dong_code"] == "41281101" and p1["legal_dong_name"] == "주교동"
    assert len(p1["hub_code"]) == 10 and p1["hub_name"].endswith("행정복지센터") and float(p1["hub_distance_m"]) >= 0
    assert p1["error"] == ""
    assert rows["seoul"]["error"].startswith("outside_city:") and "outside Goyang" in rows["seoul"]["error"]
    assert rows["seoul"]["hub_code"] == ""
    assert rows["nan"]["error"].startswith("malformed_coordinates:")


def test_link_all_good_exits_0_and_geojson_output(store_url, tmp_path):
    path = tmp_path / "in.geojson"
    path.write_text(json.dumps(fc([feature(7, "Point", [LON, LAT])])))
    code, text = run(["link", str(path), "--format", "geojson"], store_url)
    assert code == 0
    doc = json.loads(text)
    f = doc["features"][0]
    assert f["properties"]["id"] == "7" and f["properties"]["district_code"] == "4128151000"
    assert f["geometry"]["coordinates"] == [LON, LAT]  # GeoJSON stays lon, lat


def test_link_missing_id_is_a_refusal(store_url, tmp_path):
    path = tmp_path / "in.geojson"
    path.write_text(json.dumps(fc([{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [LON, LAT]}}])))
    code, text = run(["link", str(path)], store_url)
    assert code == 2
    assert "missing_id" in text and "id 속성이 없습니다" in text


@pytest.mark.parametrize(
    "content, message",
    [(None, "file not found"), ("{broken", "cannot read GeoJSON"), ('{"type": "Point", "coordinates": [1, 2]}', "not a GeoJSON FeatureCollection")],
)
def test_link_bad_command_exits_1(store_url, tmp_path, capsys, content, message):
    path = tmp_path / "in.geojson"
    if content is not None:
        path.write_text(content)
    code, _ = run(["link", str(path)], store_url)
    assert code == 1
    assert message in capsys.readouterr().err


def test_unknown_command_exits_1(store_url):
    assert run(["no-such-command"], store_url)[0] == 1


def test_set_hub_unknown_code_is_refused(store_url, capsys):
    code, _ = run(["set-hub", "9999999999", "--on"], store_url)
    assert code == 1
    assert "9999999999" in capsys.readouterr().err
