"""Every repository function, on SQLite and on PostGIS."""
from __future__ import annotations

import json
from datetime import UTC

import pytest
from shapely.geometry import LineString, Point, Polygon
from store_samples import JUGYO, JUGYO_CELL, SEONGSA, World, district_rows, proposal_fields

from store import AlreadySupported, NotFound, Store, UsernameTaken

HOME = Point(126.8321, 37.6581)


# --- residents -------------------------------------------------------------


def test_residents_add_get_by_username_and_list(world: World) -> None:
    with world.store.transaction() as tx:
        staff = tx.residents.add(
            "jugyo.staff", "주교동 담당자", role="centre_staff", hub_code=JUGYO, email="staff@example.kr", password_hash=None
        )
        admin = tx.residents.add("admin", "관리자", role="admin", password_hash="h", is_demo=True)
    with world.store.transaction() as tx:
        got = tx.residents.get(staff.id)
        assert (got.username, got.display_name, got.role, got.hub_code, got.email) == (
            "jugyo.staff",
            "주교동 담당자",
            "centre_staff",
            JUGYO,
            "staff@example.kr",
        )
        assert got.password_hash is None  # an OIDC account
        assert got.is_demo is False and tx.residents.get(admin.id).is_demo is True
        assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == UTC.utcoffset(None)
        assert tx.residents.by_username("minji").id == world.resident_id
        assert tx.residents.by_username("nobody") is None
        assert tx.residents.get(10_000) is None
        assert [r.username for r in tx.residents.list()] == ["minji", "junho", "planner1", "jugyo.staff", "admin"]
        assert [r.username for r in tx.residents.list(role="planner")] == ["planner1"]
        assert tx.residents.list(role="centre_staff")[0].id == staff.id


def test_residents_refuse_a_taken_username_and_keep_the_transaction(world: World) -> None:
    with world.store.transaction() as tx:
        tx.residents.add("seoyeon", "최서연")
        with pytest.raises(UsernameTaken) as refused:
            tx.residents.add("minji", "다른 민지")
        assert refused.value.code == "username_taken"
        assert "이미 쓰이는 아이디" in refused.value.message("ko")
        assert "taken" in refused.value.message("en")
        tx.residents.add("doyun", "정도윤")
    with world.store.transaction() as tx:
        assert {"seoyeon", "doyun"} <= {r.username for r in tx.residents.list()}
        assert tx.residents.by_username("minji").display_name == "김민지"


def test_residents_refuse_an_unknown_role(world: World) -> None:
    with world.store.transaction() as tx, pytest.raises(ValueError, match="role"):
        tx.residents.add("mayor", "시장", role="mayor")


# --- districts -------------------------------------------------------------


def test_districts_upsert_inserts_then_updates(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.districts.count() == 0
        assert tx.districts.upsert(district_rows()) == 2
    with store.transaction() as tx:
        first = tx.districts.get(JUGYO)
        assert (first.gu, first.name, first.voters, first.approximate) == ("덕양구", "주교동", 21000, True)
        assert first.geometry.equals(JUGYO_CELL)
        assert first.updated_at.tzinfo is not None
        first_updated_at = first.updated_at  # `first` itself is updated by the upsert below
        official = JUGYO_CELL.buffer(0.001, join_style="mitre")
        tx.districts.upsert([{"code": JUGYO, "geometry": official, "approximate": False, "source": "official: 행정동경계.shp"}])
    with store.transaction() as tx:
        updated = tx.districts.get(JUGYO)
        assert updated.approximate is False and updated.source == "official: 행정동경계.shp"
        assert updated.geometry.equals(official)
        assert updated.voters == 21000  # columns not in the row keep their value
        assert updated.updated_at > first_updated_at
        assert [d.code for d in tx.districts.list()] == [JUGYO, SEONGSA]
        assert tx.districts.count() == 2
        assert tx.districts.get("4128199999") is None


def test_districts_upsert_refuses_bad_rows(store: Store) -> None:
    row = district_rows()[0]
    with store.transaction() as tx:
        with pytest.raises(ValueError, match="10 digits"):
            tx.districts.upsert([{**row, "code": 4128152000}])
        with pytest.raises(ValueError, match="unknown districts columns"):
            tx.districts.upsert([{**row, "population": 1}])
        assert tx.districts.count() == 0


# --- centres ---------------------------------------------------------------


def test_centres_upsert_list_get_and_set_hub(world: World) -> None:
    with world.store.transaction() as tx:
        assert [c.code for c in tx.centres.list()] == [JUGYO, SEONGSA]
        assert [c.code for c in tx.centres.list(hubs_only=True)] == [JUGYO]
        centre = tx.centres.get(SEONGSA)
        assert (centre.name, centre.district_code, centre.is_hub, centre.approximate_location) == (
            "성사1동 행정복지센터",
            SEONGSA,
            False,
            True,
        )
        assert tx.centres.set_hub(SEONGSA, True).is_hub is True
        tx.centres.set_hub(JUGYO, False)
        assert tx.centres.get("4128199999") is None
        assert tx.centres.upsert([{"code": SEONGSA, "name": "성사1동 주민센터"}]) == 1
    with world.store.transaction() as tx:
        assert [c.code for c in tx.centres.list(hubs_only=True)] == [SEONGSA]
        assert tx.centres.get(SEONGSA).name == "성사1동 주민센터"
        assert tx.centres.get(SEONGSA).is_hub is True


def test_set_hub_of_an_unknown_centre_is_refused(world: World) -> None:
    with world.store.transaction() as tx, pytest.raises(NotFound) as refused:
        tx.centres.set_hub("4128199999", True)
    assert refused.value.code == "not_found"
    assert refused.value.entity == "centre"
    assert "행정복지센터" in refused.value.message("ko") and "4128199999" in refused.value.message("ko")
    assert "community centre" in refused.value.message("en")


# --- proposals -------------------------------------------------------------


def test_proposals_add_stores_every_field(world: World) -> None:
    shares = {JUGYO: 0.75, SEONGSA: 0.25}
    line = LineString([(126.833, 37.656), (126.842, 37.659)])
    with world.store.transaction() as tx:
        p = tx.proposals.add(
            **proposal_fields(
                world.resident_id,
                line,
                hub_code=JUGYO,
                hub_distance_m=412.5,
                district_code=JUGYO,
                legal_dong_code="41281101",
                legal_dong_name="주교동",
                district_shares=json.dumps(shares),
                cost_krw=12_000_000_000,  # beyond 32 bits
                minx=line.bounds[0],
            )
        )
    with world.store.transaction() as tx:
        got = tx.proposals.get(p.id)
    assert (got.title, got.category, got.kind, got.cost_krw, got.status) == (
        "놀이터 그늘막 설치",
        "safety",
        "area",
        12_000_000_000,
        "submitted",
    )
    assert (got.hub_code, got.hub_distance_m, got.district_code) == (JUGYO, 412.5, JUGYO)
    assert (got.legal_dong_code, got.legal_dong_name) == ("41281101", "주교동")
    assert json.loads(got.district_shares) == shares
    assert (got.minx, got.miny, got.maxx, got.maxy) == line.bounds
    assert got.is_demo is False and got.hidden is False
    assert got.author_id == world.resident_id
    assert got.created_at == got.updated_at and got.created_at.tzinfo is not None


def test_proposals_add_takes_shares_as_a_dict(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME, district_shares={SEONGSA: 1}))
        assert json.loads(p.district_shares) == {SEONGSA: 1.0}


def test_proposals_add_refuses_bad_fields(world: World) -> None:
    with world.store.transaction() as tx:
        with pytest.raises(NotFound, match="10000"):
            tx.proposals.add(**proposal_fields(10_000, HOME))
        with pytest.raises(TypeError, match="missing"):
            tx.proposals.add(**{k: v for k, v in proposal_fields(world.resident_id, HOME).items() if k != "title"})
        with pytest.raises(TypeError):
            tx.proposals.add(**proposal_fields(world.resident_id, HOME, colour="red"))
        with pytest.raises(ValueError, match="kind"):
            tx.proposals.add(**proposal_fields(world.resident_id, HOME, kind="city"))
        with pytest.raises(ValueError, match="bounds"):
            tx.proposals.add(**proposal_fields(world.resident_id, HOME, minx=0.0))
        with pytest.raises(ValueError, match="JSON"):
            tx.proposals.add(**proposal_fields(world.resident_id, HOME, district_shares="{not json"))
        with pytest.raises(ValueError, match="object"):
            tx.proposals.add(**proposal_fields(world.resident_id, HOME, district_shares="[1, 2]"))
        assert tx.proposals.count(include_hidden=True) == 0


def test_proposals_list_and_count_filter_and_page(world: World) -> None:
    with world.store.transaction() as tx:
        ids = []
        for i, (status, district) in enumerate(
            [("submitted", JUGYO), ("submitted", SEONGSA), ("accepted", JUGYO), ("submitted", JUGYO)]
        ):
            ids.append(
                tx.proposals.add(
                    **proposal_fields(
                        world.resident_id,
                        HOME,
                        title=f"제안 {i}",
                        status=status,
                        district_code=district,
                        hub_code=JUGYO if district == JUGYO else SEONGSA,
                    )
                ).id
            )
        tx.proposals.get(ids[3]).hidden = True  # moderated away
    a, b, c, hidden = ids
    with world.store.transaction() as tx:
        assert [p.id for p in tx.proposals.list()] == [c, b, a]  # newest first, hidden left out
        assert [p.id for p in tx.proposals.list(include_hidden=True)] == [hidden, c, b, a]
        assert [p.id for p in tx.proposals.list(status="submitted")] == [b, a]
        assert [p.id for p in tx.proposals.list(district_code=JUGYO)] == [c, a]
        assert [p.id for p in tx.proposals.list(hub_code=SEONGSA)] == [b]
        assert [p.id for p in tx.proposals.list(status="submitted", district_code=JUGYO, include_hidden=True)] == [hidden, a]
        assert [p.id for p in tx.proposals.list(limit=2)] == [c, b]
        assert [p.id for p in tx.proposals.list(limit=2, offset=2)] == [a]
        assert [p.id for p in tx.proposals.list(offset=1)] == [b, a]
        assert tx.proposals.list(status="rejected") == []
        assert tx.proposals.count() == 3
        assert tx.proposals.count(include_hidden=True) == 4
        assert tx.proposals.count(status="submitted") == 2
        assert tx.proposals.count(district_code=JUGYO, include_hidden=True) == 3
        assert tx.proposals.count(hub_code=SEONGSA) == 1
        assert tx.proposals.get(hidden).hidden is True
        assert tx.proposals.get(10_000) is None


def test_set_status_records_history(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        created = p.updated_at
    with world.store.transaction() as tx:
        change = tx.proposals.set_status(p.id, "under_review", world.planner_id, "예산 검토를 시작합니다.")
        assert (change.from_status, change.to_status, change.changed_by) == ("submitted", "under_review", world.planner_id)
        tx.proposals.set_status(p.id, "accepted", world.planner_id, reason="주민총회 의결")
    with world.store.transaction() as tx:
        got = tx.proposals.get(p.id)
        assert got.status == "accepted"
        assert got.updated_at > created
        history = tx.history.list_for(p.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, "submitted"),
        ("submitted", "under_review"),
        ("under_review", "accepted"),
    ]
    assert [h.changed_by for h in history] == [world.resident_id, world.planner_id, world.planner_id]
    assert [h.reason for h in history] == ["", "예산 검토를 시작합니다.", "주민총회 의결"]
    assert history[0].changed_at <= history[1].changed_at <= history[2].changed_at
    assert all(h.proposal_id == p.id for h in history)


def test_set_status_of_an_unknown_proposal_is_refused(world: World) -> None:
    with world.store.transaction() as tx:
        with pytest.raises(NotFound) as refused:
            tx.proposals.set_status(10_000, "accepted", world.planner_id, "")
        assert refused.value.entity == "proposal"
        assert tx.history.list_for(10_000) == []


def test_demo_proposals_are_counted_and_deleted_with_what_hangs_off_them(world: World) -> None:
    with world.store.transaction() as tx:
        real = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        demo = [tx.proposals.add(**proposal_fields(world.other_resident_id, HOME, is_demo=True)) for _ in range(3)]
        for d in demo:
            tx.comments.add(d.id, world.resident_id, "데모 댓글", is_demo=True)
            tx.supports.add(d.id, world.resident_id)
            tx.proposals.set_status(d.id, "under_review", world.planner_id, "")
        real_comment = tx.comments.add(real.id, world.other_resident_id, "진짜 댓글")
        tx.comments.add(real.id, world.other_resident_id, "데모가 남긴 댓글", is_demo=True)
        tx.supports.add(real.id, world.other_resident_id)
        assert tx.proposals.count_demo() == 3
    with world.store.transaction() as tx:
        assert tx.proposals.delete_demo() == 3
    with world.store.transaction() as tx:
        assert tx.proposals.count_demo() == 0
        assert [p.id for p in tx.proposals.list(include_hidden=True)] == [real.id]
        assert [c.id for c in tx.comments.list_for(real.id, include_hidden=True)] == [real_comment.id]
        assert tx.supports.counts() == {real.id: 1}
        assert all(tx.history.list_for(d.id) == [] for d in demo)
        assert len(tx.history.list_for(real.id)) == 1
        assert tx.residents.get(world.other_resident_id) is not None  # accounts stay
        assert tx.proposals.delete_demo() == 0


# --- comments --------------------------------------------------------------


def test_comments_add_and_list_for(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        other = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        first = tx.comments.add(p.id, world.other_resident_id, "좋은 제안입니다! 👍")
        hidden = tx.comments.add(p.id, world.resident_id, "광고 글")
        hidden.hidden = True
        last = tx.comments.add(proposal_id=p.id, author_id=world.planner_id, body="검토하겠습니다.", is_demo=True)
        tx.comments.add(other.id, world.resident_id, "다른 제안에 단 댓글")
    with world.store.transaction() as tx:
        shown = tx.comments.list_for(p.id)
        assert [c.id for c in shown] == [first.id, last.id]
        assert [c.body for c in shown] == ["좋은 제안입니다! 👍", "검토하겠습니다."]
        assert [c.is_demo for c in shown] == [False, True]
        assert [c.id for c in tx.comments.list_for(p.id, include_hidden=True)] == [first.id, hidden.id, last.id]
        assert shown[0].author_id == world.other_resident_id and shown[0].created_at.tzinfo is not None
        assert tx.comments.list_for(10_000) == []


def test_comments_on_unknown_proposals_or_by_unknown_authors_are_refused(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        with pytest.raises(NotFound, match="10000"):
            tx.comments.add(10_000, world.resident_id, "어디에?")
        with pytest.raises(NotFound) as refused:
            tx.comments.add(p.id, 10_000, "누구?")
        assert refused.value.entity == "resident"


# --- supports --------------------------------------------------------------


def test_supports_add_remove_count(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        q = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        support = tx.supports.add(p.id, world.resident_id)
        assert (support.proposal_id, support.resident_id) == (p.id, world.resident_id)
        tx.supports.add(p.id, world.other_resident_id)
        tx.supports.add(q.id, world.other_resident_id)
    with world.store.transaction() as tx:
        assert tx.supports.count_for(p.id) == 2
        assert tx.supports.counts() == {p.id: 2, q.id: 1}
        assert tx.supports.remove(p.id, world.resident_id) is True
        assert tx.supports.remove(p.id, world.resident_id) is False
    with world.store.transaction() as tx:
        assert tx.supports.count_for(p.id) == 1
        assert tx.supports.count_for(10_000) == 0
        assert tx.supports.counts() == {p.id: 1, q.id: 1}
        tx.supports.add(p.id, world.resident_id)  # supporting again after withdrawing is fine
        assert tx.supports.count_for(p.id) == 2


def test_a_second_support_is_refused_and_nothing_else_is_lost(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        tx.supports.add(p.id, world.resident_id)
        tx.supports.add(p.id, world.other_resident_id)
        with pytest.raises(AlreadySupported) as refused:
            tx.supports.add(p.id, world.resident_id)
        # The same transaction goes on: only the refused row was rolled back.
        comment = tx.comments.add(p.id, world.resident_id, "지지했어요")
        assert tx.supports.count_for(p.id) == 2
    assert refused.value.code == "already_supported"
    assert refused.value.message("ko").startswith("이미 이 제안을 지지")
    assert "already supported" in refused.value.message("en")
    assert (refused.value.proposal_id, refused.value.resident_id) == (p.id, world.resident_id)
    with world.store.transaction() as tx:
        # Again in a later transaction, against the committed row.
        with pytest.raises(AlreadySupported):
            tx.supports.add(p.id, world.other_resident_id)
        tx.supports.add(p.id, world.planner_id)
    with world.store.transaction() as tx:
        assert tx.proposals.get(p.id) is not None
        assert tx.supports.count_for(p.id) == 3
        assert [c.id for c in tx.comments.list_for(p.id)] == [comment.id]


def test_supports_of_unknown_proposals_or_residents_are_refused(world: World) -> None:
    with world.store.transaction() as tx:
        p = tx.proposals.add(**proposal_fields(world.resident_id, HOME))
        with pytest.raises(NotFound):
            tx.supports.add(10_000, world.resident_id)
        with pytest.raises(NotFound):
            tx.supports.add(p.id, 10_000)
        assert tx.supports.counts() == {}


# --- Korean text -----------------------------------------------------------


def test_korean_text_round_trips(world: World) -> None:
    title = "행신동 어린이공원 — 그늘막·음수대 설치 (2026년 주민참여예산) 🌳"
    body = "여름철 폭염에 대비하여\n그늘막 3개와 음수대 1개를 설치해 주세요.\t감사합니다 「고양시」"
    with world.store.transaction() as tx:
        p = tx.proposals.add(
            **proposal_fields(world.resident_id, Polygon(JUGYO_CELL.exterior), title=title, body=body, legal_dong_name="행신동")
        )
        tx.comments.add(p.id, world.other_resident_id, body)
        tx.residents.add("한글아이디", "한글 이름 ㄱㄴㄷ")
    with world.store.transaction() as tx:
        got = tx.proposals.get(p.id)
        assert (got.title, got.body, got.legal_dong_name) == (title, body, "행신동")
        assert tx.comments.list_for(p.id)[0].body == body
        # Looked up by Korean text in SQL, not only read back.
        assert tx.residents.by_username("한글아이디").display_name == "한글 이름 ㄱㄴㄷ"
        assert tx.districts.get(JUGYO).name == "주교동" and tx.districts.get(JUGYO).gu == "덕양구"


def test_district_versions_change_when_a_polygon_is_replaced(store):
    import shapely

    with store.transaction() as tx:
        tx.districts.upsert([{"code": "4128164000", "gu": "덕양구", "name": "행신1동", "voters": 1, "geometry": shapely.box(126.8, 37.6, 126.9, 37.7), "approximate": True, "source": "a"}])
    with store.transaction() as tx:
        before = tx.districts.versions()
        assert [v[0] for v in before] == ["4128164000"] and before[0][2] == "a"
        tx.districts.upsert([{"code": "4128164000", "gu": "덕양구", "name": "행신1동", "voters": 1, "geometry": shapely.box(126.8, 37.6, 126.85, 37.7), "approximate": False, "source": "b"}])
    with store.transaction() as tx:
        assert tx.districts.versions() != before
