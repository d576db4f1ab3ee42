"""Privacy on public maps and cards (planning/privacy.py, issue 8), on SQLite and PostGIS.

Who may see an author (the author, planners, admins, the linked hub's centre
staff; never anonymous visitors or other residents); what a card, a comment
thread and a map layer show the public (no name, no account id, no home
dong); a hub's public clusters and a meeting packet's outlines leave out
groups of fewer than k *distinct* residents (one resident with six proposals
is one resident) and say so; the planners' tables and density rasters are
refused to everyone else; planners still see every cluster.
"""
from __future__ import annotations

import json

import folium
import geopandas as gpd
import pytest
from pypdf import PdfReader
from shapely.geometry import Point

from layers.proposals import proposal_layer
from planning.aggregates import by_dong, by_hexagon
from planning.auth import Actor, actor_for
from planning.catchments import hub_overview
from planning.clusters import ClusterParams, cluster_proposals
from planning.errors import NotAllowed
from planning.geography import install_reference_data
from planning.heatmap import density_raster
from planning.i18n import t
from planning.privacy import (
    PUBLIC_RASTER_KINDS,
    author_label,
    distinct_residents,
    may_see_identity,
    privacy_k,
    public_raster_kinds,
    suppress_small_groups,
    suppressed_note,
)
from planning.proposals import comment_thread, proposal_card
from settings import get_settings

HAENGSIN1 = "4128164000"  # 행신1동 (where the proposals lie)
DAEDEOK = "4128167000"  # 대덕동 (the author's home: must never show)
HUB = "4128165000"  # 행신2동: hub of south Deogyang
OTHER_HUB = "4128162100"  # 화정1동
LON, LAT = 126.833004, 37.622148  # in 행신1동
AUTHOR_NAME = "김비밀작성자"


@pytest.fixture
def set_k(monkeypatch):
    """``set_k(n)``: GOYANG_PRIVACY_K=n for the rest of the test (settings re-read; restored afterwards)."""

    def set_to(k: int | str | None) -> None:
        if k is None:
            monkeypatch.delenv("GOYANG_PRIVACY_K", raising=False)
        else:
            monkeypatch.setenv("GOYANG_PRIVACY_K", str(k))
        get_settings.cache_clear()

    yield set_to
    get_settings.cache_clear()


# ---------------------------------------------------------------- plain functions


def test_privacy_k_follows_the_setting(set_k):
    set_k(None)
    assert privacy_k() == 5  # the default
    set_k(7)
    assert privacy_k() == 7
    set_k(0)
    with pytest.raises(ValueError, match="GOYANG_PRIVACY_K"):
        privacy_k()


def test_who_may_see_an_author():
    author = Actor(id=10, role="resident", home_district_code=DAEDEOK, display_name=AUTHOR_NAME)
    assert may_see_identity(author, 10, HUB)  # themself
    assert not may_see_identity(Actor.anonymous(), 10, HUB)
    assert not may_see_identity(Actor(id=11, role="resident", home_district_code=DAEDEOK), 10, HUB)  # a neighbour
    assert may_see_identity(Actor(id=12, role="planner"), 10, None)
    assert may_see_identity(Actor(id=13, role="admin"), 10, None)
    assert may_see_identity(Actor(id=14, role="centre_staff", hub_code=HUB), 10, HUB)  # the linked hub's staff
    assert not may_see_identity(Actor(id=15, role="centre_staff", hub_code=OTHER_HUB), 10, HUB)
    assert not may_see_identity(Actor(id=16, role="centre_staff", hub_code=HUB), 10, None)  # no linked hub
    assert not may_see_identity(Actor(id=None, role="planner"), 10, HUB)  # not signed in is never enough


def test_suppression_counts_distinct_residents(set_k):
    one_busy_resident = ("a", [1, 1, 1, 1, 1, 1])  # six proposals, one resident
    five_people = ("b", [1, 2, 3, 4, 5])
    four_people = ("c", [2, 3, 4, 4, 5, None])
    assert distinct_residents(one_busy_resident[1]) == 1 and distinct_residents(four_people[1]) == 4
    groups = [one_busy_resident, five_people, four_people]
    set_k(None)  # default 5
    got = suppress_small_groups(groups, lambda g: g[1])
    assert ([g[0] for g in got.kept], got.suppressed, got.k) == (["b"], 2, 5)
    got = suppress_small_groups(groups, lambda g: g[1], k=4)
    assert ([g[0] for g in got.kept], got.suppressed) == (["b", "c"], 1)
    got = suppress_small_groups(groups, lambda g: len(set(g[1])), k=2)  # a count given directly (None counts here)
    assert [g[0] for g in got.kept] == ["b", "c"]
    assert suppress_small_groups(groups, lambda g: g[1], k=1).suppressed == 0
    assert suppressed_note(0, 5, "ko") == ""
    ko, en = suppressed_note(2, 5, "ko"), suppressed_note(2, 5, "en")
    assert "5명 미만" in ko and "개인정보" in ko and "fewer than 5 residents" in en and "privacy" in en


def test_only_planners_and_admins_see_density_values_on_cards():
    for who in (Actor.anonymous(), Actor(1, "resident"), Actor(2, "centre_staff", hub_code=HUB)):
        assert public_raster_kinds(who) == PUBLIC_RASTER_KINDS
        assert "density" not in PUBLIC_RASTER_KINDS
    for who in (Actor(3, "planner"), Actor(4, "admin")):
        assert public_raster_kinds(who) is None


def test_the_map_layer_never_carries_an_author():
    frame = gpd.GeoDataFrame(
        {
            "id": [1, 2],
            "title": ["가로등", "벤치"],
            "category": ["safety", "environment"],
            "status": ["submitted", "submitted"],
            "is_demo": [False, False],
            "supports": [3, 0],
            "comments": [1, 0],
            "author_id": [987654, 987654],
            "author_name": [AUTHOR_NAME, AUTHOR_NAME],
            "home_district_code": [DAEDEOK, DAEDEOK],
        },
        geometry=[Point(LON, LAT), Point(LON + 0.001, LAT)],
        crs="EPSG:4326",
    )
    for max_features in (1500, 1):  # features, and grid clusters
        m = folium.Map(location=[LAT, LON], zoom_start=12, tiles=None)
        fg = proposal_layer(frame, zoom=14, max_features=max_features, selected_id=1)
        fg.add_to(m)
        html = m.get_root().render()
        assert AUTHOR_NAME not in html and "987654" not in html and DAEDEOK not in html
    fg = proposal_layer(frame, zoom=14)
    [layer] = [c for c in fg._children.values() if hasattr(c, "data_json")]
    data = json.loads(layer.data_json)
    assert len(data["features"]) == 2
    assert {k for f in data["features"] for k in f["properties"]} <= {"i", "k", "t", "n", "m", "d"}


# ---------------------------------------------------------------- store: cards, comments, refusals


@pytest.fixture
def cast(store):
    install_reference_data(store)
    with store.transaction() as tx:
        ids = {
            "author": tx.residents.add("author", AUTHOR_NAME, home_district_code=DAEDEOK, password_hash="x").id,
            "other": tx.residents.add("other", "이웃주민", home_district_code=HAENGSIN1, password_hash="x").id,
            "planner": tx.residents.add("planner", "기획담당", role="planner", password_hash="x").id,
            "admin": tx.residents.add("admin", "관리담당", role="admin", password_hash="x").id,
            "staff": tx.residents.add("staff", "행신직원", role="centre_staff", hub_code=HUB, password_hash="x").id,
            "far_staff": tx.residents.add("far_staff", "화정직원", role="centre_staff", hub_code=OTHER_HUB, password_hash="x").id,
        }
    people = {name: actor_for(store, rid) for name, rid in ids.items()}
    people["anonymous"] = Actor.anonymous()
    return store, people


def _proposal(tx, author: int, x: float = 0.0, y: float = 0.0, **fields) -> int:
    values = {
        "title": "그늘막 설치",
        "body": "여름에 그늘이 필요해요",
        "category": "environment",
        "kind": "area",
        "author_id": author,
        "geometry": Point(LON + x, LAT + y),
        "hub_code": HUB,
        "district_code": HAENGSIN1,
    }
    values.update(fields)
    return tx.proposals.add(**values).id


def test_cards_and_comments_name_the_author_only_to_those_allowed(cast):
    store, a = cast
    with store.transaction() as tx:
        pid = _proposal(tx, a["author"].id)
        mine = tx.comments.add(pid, a["author"].id, "제가 올렸어요").id
        planners = tx.comments.add(pid, a["planner"].id, "검토하겠습니다").id
    for who in ("anonymous", "other", "far_staff"):
        card = proposal_card(store, pid, a[who])
        assert (card.author_id, card.author_name, card.author_shown, card.author_is_viewer) == (None, "", False, False), who
        assert AUTHOR_NAME not in repr(card) and DAEDEOK not in repr(card), who
        assert (author_label(card, "ko"), author_label(card, "en")) == ("주민", "Resident")
        comments = {c.id: c for c, _ in card.thread}
        assert [c.author_id for c in comments.values()] == [None, None] and [c.author_name for c in comments.values()] == ["", ""]
        assert author_label(comments[mine], "en") == "Resident"
        assert author_label(comments[planners], "ko") == t("role.planner", "ko")  # an official, not named
        assert "기획담당" not in repr(card)
        assert [c.author_name for c, _ in comment_thread(store, pid, a[who])] == ["", ""]
    card = proposal_card(store, pid, a["author"])
    assert (card.author_id, card.author_name, card.author_shown, card.author_is_viewer) == (a["author"].id, AUTHOR_NAME, True, True)
    assert (author_label(card, "ko"), author_label(card, "en")) == ("나", "You")
    assert DAEDEOK not in repr(card)  # the home dong is on no card, not even the author's own
    own = {c.id: c for c, _ in card.thread}
    assert author_label(own[mine], "en") == "You" and author_label(own[planners], "ko") == "도시계획가"  # another resident: not named
    for who in ("planner", "admin", "staff"):
        card = proposal_card(store, pid, a[who])
        assert (card.author_id, card.author_name, card.author_shown) == (a["author"].id, AUTHOR_NAME, True), who
        assert author_label(card, "en") == AUTHOR_NAME
        assert DAEDEOK not in repr(card)
        assert [c.author_name for c, _ in card.thread] == [AUTHOR_NAME, "기획담당"]


def test_planners_tables_and_density_rasters_are_refused_to_the_public(cast, tmp_path):
    store, a = cast
    with store.transaction() as tx:
        _proposal(tx, a["author"].id)
    for who in ("anonymous", "other", "staff"):
        for call in (
            lambda: by_dong(store, a[who]),
            lambda: by_hexagon(store, a[who]),
            lambda: density_raster(store, a[who], None, 200.0, "count", register=False, out=tmp_path / "x.tif"),
        ):
            with pytest.raises(NotAllowed):
                call()
    assert not (tmp_path / "x.tif").exists()
    assert int(by_dong(store, a["planner"])["proposals"].sum()) == 1  # the planners still get them


# ---------------------------------------------------------------- store: public clusters and packets


def test_public_clusters_need_k_distinct_residents_and_planners_see_all(cast, set_k, tmp_path):
    store, a = cast
    with store.transaction() as tx:
        neighbours = [tx.residents.add(f"n{i}", f"이웃{i}", home_district_code=HAENGSIN1, password_hash="x").id for i in range(3)]
        # one resident, six proposals within metres of each other: one cluster of ONE resident
        busy = [_proposal(tx, a["author"].id, x=0.0002 * i) for i in range(6)]
        # three residents, one proposal each, about 900 m east: one cluster of three residents
        shared = [_proposal(tx, r, x=0.01 + 0.0002 * i) for i, r in enumerate(neighbours)]
    set_k(1)
    view = hub_overview(store, None, HUB)
    assert sorted(c.proposal_ids for c in view.clusters) == sorted([busy, shared])
    assert sorted(c.residents for c in view.clusters) == [1, 3] and view.suppressed_clusters == 0
    set_k(2)  # one resident with six proposals is still one resident
    view = hub_overview(store, a["planner"], HUB)  # the same for every viewer
    assert [c.proposal_ids for c in view.clusters] == [shared] and (view.suppressed_clusters, view.privacy_k) == (1, 2)
    labels = view.proposals.set_index("id")["cluster"]
    assert (labels[busy] == -1).all() and (labels[shared] >= 0).all()  # the proposals stay, ungrouped
    assert sorted(view.proposals["id"]) == sorted(busy + shared)
    assert len(view.cluster_hulls()) == 1
    set_k(3)
    assert [c.residents for c in hub_overview(store, None, HUB).clusters] == [3]
    set_k(None)  # default 5: nothing public
    view = hub_overview(store, None, HUB)
    assert (view.clusters, view.suppressed_clusters, view.privacy_k) == ([], 2, 5)
    assert (view.proposals["cluster"] == -1).all()
    # the planners' own clustering is not suppressed, and says how many residents
    result = cluster_proposals(store, a["planner"], None, ClusterParams(250.0, 3))
    assert sorted((c.proposal_ids, c.residents) for c in result.cards) == sorted([(busy, 1), (shared, 3)])

    # a meeting packet (the shortlist of the hub) prints the note and no names
    from planning.packet import build_packet

    with store.transaction() as tx:
        for pid in (busy[0], shared[0]):
            tx.proposals.set_status(pid, "under_review", None, "test")
            tx.proposals.set_status(pid, "shortlisted", None, "test")
    files = build_packet(store, HUB, tmp_path / "packet", lang="en")
    text = "\n".join(page.extract_text() for page in PdfReader(files.pdf).pages)
    flat = " ".join(text.split())
    assert "2 group(s) of fewer than 5 residents are hidden to protect privacy" in flat, flat[:800]
    for secret in (AUTHOR_NAME, "이웃0", "기획담당"):
        assert secret not in text
        for path in (files.geojson, files.csv):
            assert secret not in path.read_text(encoding="utf-8")
