"""Proposal services on both engines: preview, submit, comment, support."""
import json

import pytest
import shapely

from geo.errors import GeometryRefused
from planning.accounts import register
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data
from planning.proposals import add_comment, clean_text, preview_placement, submit_proposal, support_proposal

LON, LAT = 126.833004, 37.622148  # 행신1동's representative point
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[LON, LAT], [LON + 0.002, LAT], [LON + 0.002, LAT + 0.001], [LON, LAT + 0.001], [LON, LAT]]],
}


@pytest.fixture
def ready(store):
    install_reference_data(store)
    rid = register(store, "minji", "correct horse battery", "민지", "4128164000")
    other = register(store, "junho", "another long password", "준호", "4128164000")
    return store, rid, other


def test_preview_says_where_it_belongs(ready):
    store, *_ = ready
    place = preview_placement(store, {"type": "Point", "coordinates": [LON, LAT]})
    assert place.district_code == "4128164000" and place.district_name == "행신1동"
    assert place.legal_dong_name == "행신동" and place.legal_dong_code == "41281128"
    assert place.hub_code == "4128165000"  # 행신2동 hub serves south Deogyang
    assert place.district_shares == {"4128164000": 1.0}


def test_submit_stores_a_linked_proposal(ready):
    store, rid, _ = ready
    pid = submit_proposal(store, rid, SQUARE, "  공원 벤치  ", "벤치를 놓아 주세요.\n감사합니다.", "environment", "area", 12_000_000)
    with store.transaction() as tx:
        p = tx.proposals.get(pid)
        assert p.title == "공원 벤치" and p.body.endswith("감사합니다.")
        assert p.status == "submitted" and p.author_id == rid and p.kind == "area" and p.cost_krw == 12_000_000
        assert p.district_code == "4128164000" and p.hub_code == "4128165000"
        assert p.geometry.equals(shapely.geometry.shape(SQUARE))
        assert json.loads(p.district_shares) == pytest.approx({"4128164000": 1.0})
        assert [h.to_status for h in tx.history.list_for(pid)] == ["submitted"]


def test_anonymous_cannot_submit_comment_or_support(ready):
    store, rid, _ = ready
    with pytest.raises(NotAllowed) as e:
        submit_proposal(store, None, SQUARE, "t", "b", "environment")
    assert "로그인이 필요합니다" in e.value.message("ko") and "sign in" in e.value.message("en")
    pid = submit_proposal(store, rid, SQUARE, "t", "b", "environment")
    with pytest.raises(NotAllowed):
        add_comment(store, None, pid, "hi")
    with pytest.raises(NotAllowed):
        support_proposal(store, None, pid)
    with pytest.raises(NotAllowed):
        support_proposal(store, 999_999, pid)  # an id that is no account


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"title": "   "}, "empty_field"),
        ({"title": "x" * 121}, "too_long_field"),
        ({"body": ""}, "empty_field"),
        ({"category": "rockets"}, "unknown_category"),
        ({"kind": "village"}, "unknown_kind"),
        ({"cost_krw": -5}, "bad_cost"),
        ({"cost_krw": 1.5}, "bad_cost"),
        ({"cost_krw": True}, "bad_cost"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_stored(ready, fields, code):
    store, rid, _ = ready
    args = {"title": "제목", "body": "내용", "category": "environment", "kind": "individual", "cost_krw": None} | fields
    with pytest.raises(InvalidInput) as e:
        submit_proposal(store, rid, SQUARE, **args)
    assert e.value.code == code
    assert e.value.message("ko") and e.value.message("en") and e.value.message("ko") != e.value.message("en")
    with store.transaction() as tx:
        assert tx.proposals.count() == 0


def test_bad_geometry_is_refused_and_nothing_is_stored(ready):
    store, rid, _ = ready
    with pytest.raises(GeometryRefused) as e:
        submit_proposal(store, rid, {"type": "Point", "coordinates": [126.978, 37.5665]}, "t", "b", "environment")
    assert e.value.code == "outside_city"
    with store.transaction() as tx:
        assert tx.proposals.count() == 0


def test_comment_and_support(ready):
    store, rid, other = ready
    pid = submit_proposal(store, rid, {"type": "Point", "coordinates": [LON, LAT]}, "가로등", "어두워요", "urban")
    cid = add_comment(store, other, pid, "찬성합니다 <b>정말</b>")
    assert support_proposal(store, other, pid) == 1
    assert support_proposal(store, rid, pid) == 2
    with pytest.raises(Exception) as e:  # the store's AlreadySupported refusal
        support_proposal(store, other, pid)
    assert "already" in str(e.value).lower() or "이미" in str(e.value)
    with store.transaction() as tx:
        assert tx.supports.count_for(pid) == 2
        comments = tx.comments.list_for(pid)
        assert [c.id for c in comments] == [cid] and comments[0].body == "찬성합니다 <b>정말</b>"  # stored as typed; escaped when shown


def test_support_of_missing_proposal(ready):
    store, rid, _ = ready
    with pytest.raises(InvalidInput) as e:
        support_proposal(store, rid, 424242)
    assert e.value.code == "no_such_proposal" and "424242" in e.value.message("en")


def test_clean_text_removes_control_characters_and_normalises():
    assert clean_text("a\x00b\u200fc\n d\t", field_ko="제목", field_en="title", max_len=10) == "abc\n d"
    # decomposed Hangul (NFD) becomes composed (NFC)
    import unicodedata

    assert clean_text(unicodedata.normalize("NFD", "한글"), field_ko="x", field_en="x", max_len=5) == "한글"
