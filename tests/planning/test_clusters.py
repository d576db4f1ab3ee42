"""Clusters of the planners' review set, on both engines: labels, cards, outlines, words, the command line."""
import argparse
import csv
import io
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import mapping

from geo.crs import to_metric, to_storage
from planning.auth import Actor, actor_for
from planning.clusters import (
    ClusterCard,
    ClusterParams,
    add_clusters_parser,
    cli_clusters,
    cluster_frame,
    cluster_hull,
    cluster_proposals,
    clusters_geojson_to_csv,
)
from planning.demo import seed_demo
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data
from planning.proposals import add_comment, submit_proposal, support_proposal
from planning.review import ReviewFilter

HAENGSIN = (126.833004, 37.622148)  # 행신1동's representative point
JUGYO = (126.826798, 37.661888)  # 주교동


def at(origin, dx, dy):
    """The lon/lat point ``dx``, ``dy`` metres from ``origin`` (through EPSG:5179)."""
    o = to_metric(shapely.Point(*origin))
    return to_storage(shapely.Point(o.x + dx, o.y + dy))


def square(origin, dx, dy, side):
    o = to_metric(shapely.Point(*origin))
    return to_storage(shapely.box(o.x + dx, o.y + dy, o.x + dx + side, o.y + dy + side))


def line(origin, *offsets):
    o = to_metric(shapely.Point(*origin))
    return to_storage(shapely.LineString([(o.x + dx, o.y + dy) for dx, dy in offsets]))


@pytest.fixture
def scene(store):
    """A park group of four in 행신1동, a road group of three in 주교동 (one of them a long line), two loners."""
    install_reference_data(store)
    with store.transaction() as tx:
        residents = [tx.residents.add(f"resident{i}", f"주민{i}", home_district_code="4128164000", password_hash="x").id for i in range(4)]
        planner = tx.residents.add("planner1", "이기획", role="planner", password_hash="x").id
    author = actor_for(store, residents[0])

    def submit(geom, title, body, category, cost=None):
        return submit_proposal(store, author, mapping(geom), title, body, category, cost_krw=cost)

    park = [
        submit(at(HAENGSIN, 0, 0), "공원에 벤치를", "공원에 벤치를 놓아 주세요", "culture", 10_000_000),
        submit(at(HAENGSIN, 20, 5), "공원의 나무", "공원의 나무가 말랐습니다", "environment", None),
        submit(square(HAENGSIN, -15, 10, 12), "공원 화장실", "공원 화장실이 낡았어요", "culture", 5_000_000),
        submit(at(HAENGSIN, 10, -20), "놀이터 그늘막", "놀이터에 그늘막이 필요합니다", "culture", 3_000_000),
    ]
    road = [
        submit(at(JUGYO, 0, 0), "횡단보도 설치", "학교 앞 횡단보도를 설치해주세요", "urban", 40_000_000),
        submit(at(JUGYO, 25, 0), "횡단보도 신호등", "횡단보도에 신호등을", "urban", None),
        # 30 m from the two points at its start, 1.5 km long: its centroid is far, its geometry near.
        submit(line(JUGYO, (10, 30), (10, 1500)), "보행로 정비", "보행로가 좁습니다", "urban", None),
    ]
    loners = [
        submit(at(HAENGSIN, 2000, 0), "외딴 제안", "혼자 있는 제안", "welfare", 1_000_000),
        submit(at(JUGYO, -2500, 300), "다른 외딴 제안", "혼자", "economy", None),
    ]
    for r in residents[1:]:
        support_proposal(store, r, park[0])
    support_proposal(store, residents[1], road[0])
    add_comment(store, residents[1], park[1], "공원 산책로도 함께 정비해 주세요")
    add_comment(store, residents[2], park[1], "나무 그늘이 좋아요")
    hidden = add_comment(store, residents[3], park[2], "비밀단어 비밀단어 비밀단어")
    with store.transaction() as tx:
        tx.comments.set_hidden(hidden, True)
    return store, actor_for(store, planner), actor_for(store, residents[0]), park, road, loners


PARAMS = ClusterParams(eps_m=35.0, min_size=3)


def test_clusters_and_cards(scene):
    store, planner, _, park, road, loners = scene
    result = cluster_proposals(store, planner, None, PARAMS)
    assert result.engine == ("database" if store.backend == "postgresql" else "embedded")
    labels = dict(zip(result.frame["id"], result.frame["cluster"]))
    assert [labels[i] for i in park] == [0] * 4  # the park group holds the smallest id: cluster 0
    assert [labels[i] for i in road] == [1] * 3  # the line joins by its geometry
    assert [labels[i] for i in loners] == [-1, -1]
    assert result.noise == 2 and result.n_clusters == 2
    assert result.frame.crs.to_epsg() == 4326 and result.frame["cluster"].dtype == np.int64

    park_card, road_card = result.cards  # largest first
    assert isinstance(park_card, ClusterCard)
    assert (park_card.label, park_card.count, park_card.proposal_ids) == (0, 4, sorted(park))
    assert park_card.supports == 3 and park_card.comments == 2  # the hidden comment is not counted
    assert park_card.categories == [("culture", 3), ("environment", 1)]
    assert park_card.cost_total_krw == 18_000_000 and park_card.cost_known == 3
    assert park_card.districts == [("4128164000", "행신1동")]
    assert park_card.legal_dongs == [("41281128", "행신동")]
    assert len(park_card.hubs) == 1 and park_card.hubs[0][1].endswith("행정복지센터")
    words = dict(park_card.words)
    assert words["공원"] >= 7  # titles, bodies and a visible comment
    assert "나무" in words and "비밀단어" not in words  # hidden comments do not speak
    assert (road_card.label, road_card.count, road_card.supports, road_card.cost_total_krw) == (1, 3, 1, 40_000_000)
    assert road_card.categories == [("urban", 3)] and road_card.words[0][0] == "횡단보도"
    for card in result.cards:
        members = result.frame[result.frame["cluster"] == card.label].geometry
        assert card.hull.geom_type == "Polygon"
        assert all(card.hull.contains(g) for g in members)
        assert not any(card.hull.intersects(g) for g in result.frame[result.frame["cluster"] != card.label].geometry)
        # lon/lat, inside Goyang
        minx, miny, maxx, maxy = card.hull.bounds
        assert 126.6 < minx < maxx < 127.0 and 37.5 < miny < maxy < 37.8


def test_concave_outline_contains_its_members(scene):
    store, planner, *_ = scene
    result = cluster_proposals(store, planner, None, ClusterParams(35.0, 3, hull="concave"), engine="embedded")
    for card in result.cards:
        members = result.frame[result.frame["cluster"] == card.label].geometry
        assert card.hull.geom_type == "Polygon" and all(card.hull.contains(g) for g in members)


def test_by_category_splits_the_park_group(scene):
    store, planner, _, park, road, _ = scene
    result = cluster_proposals(store, planner, None, ClusterParams(35.0, 3, by_category=True))
    labels = dict(zip(result.frame["id"], result.frame["cluster"]))
    # Three culture proposals stay together, the environment one is alone; the road group is all urban.
    assert [labels[i] for i in park] == [0, -1, 0, 0]
    assert [labels[i] for i in road] == [1, 1, 1]


def test_the_filter_decides_what_is_clustered(scene):
    store, planner, _, _, road, _ = scene
    result = cluster_proposals(store, planner, ReviewFilter(categories=("urban",)), PARAMS)
    assert sorted(result.frame["id"]) == sorted(road)
    assert result.n_clusters == 1 and result.cards[0].proposal_ids == sorted(road) and result.noise == 0
    empty = cluster_proposals(store, planner, ReviewFilter(categories=("admin",)), PARAMS)
    assert len(empty.frame) == 0 and empty.cards == [] and empty.noise == 0


def test_only_planners_and_admins(scene):
    store, _, resident, *_ = scene
    for who in (resident, Actor.anonymous()):
        with pytest.raises(NotAllowed):
            cluster_proposals(store, who, None, PARAMS)


def test_engines(scene):
    store, planner, *_ = scene
    with pytest.raises(InvalidInput) as err:
        cluster_proposals(store, planner, None, PARAMS, engine="quantum")
    assert err.value.code == "bad_engine" and "auto" in err.value.ko and "auto" in err.value.en
    embedded = cluster_proposals(store, planner, None, PARAMS, engine="embedded")
    if store.backend == "postgresql":
        database = cluster_proposals(store, planner, None, PARAMS, engine="database")
        assert database.engine == "database"
        assert database.frame["cluster"].tolist() == embedded.frame["cluster"].tolist()
        assert database.cards == embedded.cards
    else:
        with pytest.raises(InvalidInput) as err:
            cluster_proposals(store, planner, None, PARAMS, engine="database")
        assert err.value.code == "engine_unavailable" and "SQLite" in err.value.ko and "SQLite" in err.value.en


@pytest.mark.parametrize("store_url", [pytest.param("postgis", marks=pytest.mark.postgis)], indirect=True)
def test_database_and_embedded_agree_on_demo_data(store):
    seed_demo(store, n_proposals=300, n_residents=12, seed=8)
    with store.transaction() as tx:
        planner = actor_for(store, tx.residents.by_username("demo-planner").id)
    for params in (ClusterParams(400.0, 3), ClusterParams(700.0, 2, by_category=True, hull="concave")):
        database = cluster_proposals(store, planner, None, params, engine="database")
        embedded = cluster_proposals(store, planner, None, params, engine="embedded")
        assert database.frame["cluster"].tolist() == embedded.frame["cluster"].tolist()
        assert database.cards == embedded.cards
        assert database.n_clusters >= 3 and database.noise > 0


def test_cluster_frame_takes_proposals_in_id_order():
    # Ids in reverse order: labels are numbered by the smallest id, whatever the row order.
    geoms = [shapely.Point(126.80, 37.60), shapely.Point(126.8001, 37.60), at(JUGYO, 0, 0), at(JUGYO, 5, 0), at(HAENGSIN, 3000, 0)]
    frame = gpd.GeoDataFrame({"id": [50, 40, 30, 20, 10], "category": ["a"] * 5}, geometry=geoms, crs=4326, index=list("vwxyz"))
    labels = cluster_frame(frame, ClusterParams(20.0, 2))
    assert labels.name == "cluster" and list(labels.index) == list("vwxyz")
    assert labels.tolist() == [1, 1, 0, 0, -1]
    assert cluster_frame(frame.iloc[:0], ClusterParams(20.0, 2)).tolist() == []
    with pytest.raises(ValueError, match="4326"):
        cluster_frame(frame.to_crs(5179), ClusterParams(20.0, 2))


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"eps_m": 0, "min_size": 3}, "bad_eps"),
        ({"eps_m": float("nan"), "min_size": 3}, "bad_eps"),
        ({"eps_m": 25_000, "min_size": 3}, "eps_too_large"),
        ({"eps_m": 100, "min_size": 0}, "bad_min_size"),
        ({"eps_m": 100, "min_size": 2.5}, "bad_min_size"),
        ({"eps_m": 100, "min_size": 3, "hull": "round"}, "bad_hull"),
        ({"eps_m": 100, "min_size": 3, "by_category": "yes"}, "bad_by_category"),
    ],
)
def test_parameters_are_refused_in_both_languages(kwargs, code):
    with pytest.raises(InvalidInput) as err:
        ClusterParams(**kwargs)
    assert err.value.code == code
    assert err.value.ko != err.value.en and err.value.message("ko") and err.value.message("en")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in err.value.ko) and err.value.en.isascii()


def test_thin_clusters_still_get_an_outline():
    one = cluster_hull([shapely.Point(0, 0)])
    two = cluster_hull([shapely.Point(0, 0), shapely.Point(40, 0)], "concave")
    straight = cluster_hull([shapely.LineString([(0, 0), (100, 0)])])
    for hull in (one, two, straight):
        assert hull.geom_type == "Polygon" and hull.area > 1000
    assert two.contains(shapely.Point(40, 0)) and straight.contains(shapely.Point(100, 0))


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def write_fc(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return str(path)


def feature(geom, fid=None, prop_id=None, category=None):
    f = {"type": "Feature", "properties": {}, "geometry": mapping(geom)}
    if fid is not None:
        f["id"] = fid
    if prop_id is not None:
        f["properties"]["id"] = prop_id
    if category is not None:
        f["properties"]["category"] = category
    return f


def cli_features():
    return [
        feature(at(JUGYO, 0, 0), fid="a"),
        feature(at(JUGYO, 2000, 0), prop_id=7),  # noise
        feature(at(JUGYO, 10, 0), fid="c", category="x"),
        feature(at(JUGYO, 0, 10), category="y"),  # id: its position, 3
        feature(line(JUGYO, (5, 15), (5, 2000)), fid="e"),
    ]


def test_cli_writes_id_and_cluster_in_input_order(tmp_path):
    path = write_fc(tmp_path / "in.geojson", cli_features())
    out = io.StringIO()
    assert cli_clusters([path, "--eps", "20", "--min-size", "3"], out=out) == 0
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["id", "cluster"], ["a", "0"], ["7", "-1"], ["c", "0"], ["3", "0"], ["e", "0"]]
    out = io.StringIO()
    assert cli_clusters([path, "--eps", "20", "--min-size", "2", "--by-category"], out=out) == 0
    assert list(csv.reader(io.StringIO(out.getvalue())))[1:] == [["a", "0"], ["7", "-1"], ["c", "-1"], ["3", "-1"], ["e", "0"]]


def test_cli_writes_a_file_and_reports(tmp_path):
    path = write_fc(tmp_path / "in.geojson", cli_features())
    target = tmp_path / "out.csv"
    out = io.StringIO()
    assert cli_clusters([path, "--eps", "20", "--min-size", "3", "--out", str(target)], out=out) == 0
    assert target.read_text(encoding="utf-8").splitlines()[0] == "id,cluster"
    assert "군집 결과 저장" in out.getvalue() and "clusters written" in out.getvalue()
    assert cli_clusters([path, "--eps", "20", "--min-size", "3", "--out", str(tmp_path / "no" / "dir.csv")], out=io.StringIO()) == 1


@pytest.mark.parametrize(
    "content, args, code, ko, en",
    [
        (None, ["--eps", "20", "--min-size", "3"], "file_not_found", "파일이 없습니다", "File not found"),
        ("{not json", ["--eps", "20", "--min-size", "3"], "invalid_geojson", "읽을 수 없습니다", "Cannot read"),
        ('{"type": "Feature"}', ["--eps", "20", "--min-size", "3"], "not_feature_collection", "FeatureCollection", "FeatureCollection"),
        ("points", ["--eps", "abc", "--min-size", "3"], "bad_eps", "거리", "distance"),
        ("points", ["--eps", "-5", "--min-size", "3"], "bad_eps", "거리", "distance"),
        ("points", ["--eps", "20", "--min-size", "1.5"], "bad_min_size", "최소 개수", "minimum size"),
        ("dup", ["--eps", "20", "--min-size", "3"], "duplicate_id", "두 번", "more than once"),
        ("projected", ["--eps", "20", "--min-size", "3"], "not_lonlat", "경위도", "longitude/latitude"),
        ("nogeom", ["--eps", "20", "--min-size", "3"], "bad_geometry", "도형", "geometry"),
        ("malformed", ["--eps", "20", "--min-size", "3"], "bad_geometry", "좌표", "coordinates"),
        ("nan", ["--eps", "20", "--min-size", "3"], "bad_geometry", "좌표", "coordinates"),
    ],
)
def test_cli_bad_input_exits_2_in_both_languages(tmp_path, capsys, content, args, code, ko, en):
    path = tmp_path / "in.geojson"
    if content == "points" or content is None:
        write_fc(path, cli_features()) if content else None
    elif content == "dup":
        write_fc(path, [feature(at(JUGYO, 0, 0), fid="a"), feature(at(JUGYO, 5, 0), prop_id="a")])
    elif content == "projected":
        write_fc(path, [feature(shapely.Point(941079.7, 1962265.3), fid=1)])
    elif content == "nogeom":
        write_fc(path, [{"type": "Feature", "properties": {"id": 1}, "geometry": None}])
    elif content in ("malformed", "nan"):
        coords = [[126.8, 37.6], [126.9]] if content == "malformed" else [[126.8, 37.6], [float("nan"), 37.6]]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": 1, "properties": {}, "geometry": {"type": "Point", "coordinates": [126.8, 37.6]}},
            {"type": "Feature", "id": 2, "properties": {}, "geometry": {"type": "LineString", "coordinates": coords}},
        ]}), encoding="utf-8")
    else:
        path.write_text(content, encoding="utf-8")
    out = io.StringIO()
    assert cli_clusters([str(path), *args], out=out) == 2
    err = capsys.readouterr().err
    assert err.startswith(code + ":") and ko in err and en in err
    assert out.getvalue() == ""  # nothing half-written


def test_cli_usage_errors_exit_1(tmp_path):
    path = write_fc(tmp_path / "in.geojson", cli_features())
    assert cli_clusters([path, "--min-size", "3"], out=io.StringIO()) == 1  # --eps is required


def test_subcommand_wiring_and_the_function_behind_it(tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", default="ko")
    add_clusters_parser(parser.add_subparsers(dest="command", required=True))
    path = write_fc(tmp_path / "in.geojson", cli_features())
    args = parser.parse_args(["clusters", path, "--eps", "20", "--min-size", "3"])
    out = io.StringIO()
    assert args.fn(args, out) == 0 and out.getvalue().splitlines()[1] == "a,0"
    labels = clusters_geojson_to_csv(path, 20, 3, out=io.StringIO())
    assert labels.tolist() == [0, -1, 0, 0, 0]
    with pytest.raises(InvalidInput):
        clusters_geojson_to_csv(path, 0, 3, out=io.StringIO())
    empty = write_fc(tmp_path / "empty.geojson", [])
    out = io.StringIO()
    assert clusters_geojson_to_csv(empty, 20, 3, out=out).tolist() == [] and out.getvalue() == "id,cluster\n"
