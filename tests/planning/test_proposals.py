"""Proposal services on both engines: preview, submit, edit, withdraw, comment, support, cards and the map."""
import json

import pytest
import shapely
from shapely.geometry import shape

from geo.errors import GeometryRefused
from planning.accounts import register
from planning.auth import Actor, actor_for
from planning.errors import InvalidInput, NotAllowed
from planning.geography import install_reference_data
from planning.proposals import (
    MAP_COLUMNS,
    ProposalCard,
    add_comment,
    clean_photo_url,
    clean_text,
    comment_thread,
    edit_proposal,
    map_frame,
    my_proposals,
    preview_placement,
    proposal_card,
    submit_proposal,
    support_proposal,
    withdraw_proposal,
    withdraw_support,
)

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



# --- with actors ----------------------------------------------------------------

POINT = {"type": "Point", "coordinates": [LON, LAT]}
# 주엽1동, in Ilsanseo-gu: another dong, legal dong and hub than 행신1동.
JUYEOP = {"type": "Point", "coordinates": [126.77, 37.67]}


@pytest.fixture
def cast(store):
    """Reference data and one actor per role: resident author, another resident, staff, planner, admin."""
    install_reference_data(store)
    # Accounts straight into the store: argon2 hashing (planning.accounts) would
    # make each of the many tests below a second slower.
    with store.transaction() as tx:
        ids = {
            "author": tx.residents.add("minji", "민지", home_district_code="4128164000", password_hash="x").id,
            "other": tx.residents.add("junho", "준호", home_district_code="4128164000", password_hash="x").id,
            "staff": tx.residents.add("staff", "직원", role="centre_staff", hub_code="4128165000", password_hash="x").id,
            "planner": tx.residents.add("planner", "기획", role="planner", password_hash="x").id,
            "admin": tx.residents.add("admin", "관리", role="admin", password_hash="x").id,
        }
    actors = {name: actor_for(store, rid) for name, rid in ids.items()}
    actors["anonymous"] = Actor.anonymous()
    return store, actors


def submit(store, author, drawn=SQUARE, **fields):
    args = {"title": "벤치 설치", "body": "공원에 벤치를", "category": "environment", "kind": "area", "cost_krw": 5_000_000} | fields
    return submit_proposal(store, author, drawn, **args)


def history(store, pid):
    with store.transaction() as tx:
        return [(h.from_status, h.to_status, h.changed_by, h.reason) for h in tx.history.list_for(pid)]


# photo links


def test_photo_url_is_stored_with_the_proposal(cast):
    store, a = cast
    pid = submit(store, a["author"], photo_url="  https://photos.example.kr/벤치.jpg  ")
    empty = submit(store, a["author"], photo_url="")
    with store.transaction() as tx:
        assert tx.proposals.get(pid).photo_url == "https://photos.example.kr/벤치.jpg"
        assert tx.proposals.get(empty).photo_url is None


@pytest.mark.parametrize(
    "url, code",
    [
        ("javascript:alert(1)", "bad_photo_url"),
        ("ftp://example.kr/a.jpg", "bad_photo_url"),
        ("data:image/png;base64,AAAA", "bad_photo_url"),
        ("https://", "bad_photo_url"),
        ("example.kr/photo.jpg", "bad_photo_url"),
        ("https://exa mple.kr/a.jpg", "bad_photo_url"),
        ("https://goyang.go.kr@evil.example/a.jpg", "bad_photo_url"),
        ("https://example.kr:99999/a.jpg", "bad_photo_url"),
        ("https://example.kr/" + "a" * 482, "too_long_field"),  # 501 characters
    ],
)
def test_bad_photo_urls_are_refused(url, code):
    with pytest.raises(InvalidInput) as e:
        clean_photo_url(url)
    assert e.value.code == code
    assert e.value.message("ko") != e.value.message("en")
    assert ("http" in e.value.message("ko")) if code == "bad_photo_url" else ("500" in e.value.message("ko"))


def test_a_proposal_with_a_bad_photo_url_is_not_stored(cast):
    store, a = cast
    with pytest.raises(InvalidInput) as e:
        submit(store, a["author"], photo_url="javascript:alert(1)")
    assert e.value.code == "bad_photo_url"
    assert "https://" in e.value.message("ko") and "must be a web address" in e.value.message("en")
    with store.transaction() as tx:
        assert tx.proposals.count(include_hidden=True) == 0


def test_photo_url_limits():
    assert clean_photo_url(None) is None and clean_photo_url("   ") is None
    longest = "https://example.kr/" + "a" * 481
    assert len(longest) == 500 and clean_photo_url(longest) == longest
    assert clean_photo_url("HTTP://Example.kr/A.JPG") == "HTTP://Example.kr/A.JPG"


def test_an_actor_whose_account_is_gone_cannot_submit(cast):
    store, a = cast
    with pytest.raises(NotAllowed) as e:
        submit(store, Actor(id=999_999, role="resident"))
    assert e.value.code == "sign_in_required"
    with pytest.raises(NotAllowed):
        submit(store, a["anonymous"])


# editing


def test_author_edits_text_and_history_records_it(cast):
    store, a = cast
    pid = submit(store, a["author"], photo_url="https://example.kr/a.jpg")
    with store.transaction() as tx:
        before = tx.proposals.get(pid)
    changed = edit_proposal(store, a["author"], pid, title=" 새 벤치 ", cost_krw=7_000_000, photo_url="")
    assert changed == ("cost_krw", "photo_url", "title")
    with store.transaction() as tx:
        p = tx.proposals.get(pid)
        assert (p.title, p.cost_krw, p.photo_url, p.body, p.status) == ("새 벤치", 7_000_000, None, "공원에 벤치를", "submitted")
        assert p.updated_at > before.updated_at and p.created_at == before.created_at
        assert p.geometry.equals(before.geometry) and p.district_code == before.district_code
    uid = a["author"].id
    assert history(store, pid) == [(None, "submitted", uid, ""), ("submitted", "submitted", uid, "edited")]
    # Nothing new: nothing written.
    assert edit_proposal(store, a["author"], pid, title="새 벤치", cost_krw=7_000_000) == ()
    assert len(history(store, pid)) == 2


def test_edit_relinks_a_geometry_moved_to_another_dong(cast):
    store, a = cast
    pid = submit(store, a["author"], POINT)
    with store.transaction() as tx:
        old = tx.proposals.get(pid)
    place = preview_placement(store, JUYEOP)
    assert (place.district_code, place.legal_dong_code, place.hub_code) != (old.district_code, old.legal_dong_code, old.hub_code)
    assert edit_proposal(store, a["author"], pid, drawn=JUYEOP) == ("geometry",)
    with store.transaction() as tx:
        p = tx.proposals.get(pid)
        assert p.geometry.equals(shape(JUYEOP))
        assert (p.minx, p.miny, p.maxx, p.maxy) == (126.77, 37.67, 126.77, 37.67)
        assert (p.district_code, p.hub_code, p.legal_dong_code, p.legal_dong_name) == (
            place.district_code,
            place.hub_code,
            place.legal_dong_code,
            place.legal_dong_name,
        )
        assert p.hub_distance_m == pytest.approx(place.hub_distance_m)
        assert json.loads(p.district_shares) == place.district_shares == {place.district_code: 1.0}
        # The viewport query finds it at its new place only.
        assert [q.id for q in tx.proposals.in_bbox(126.769, 37.669, 126.771, 37.671)] == [pid]
        assert tx.proposals.in_bbox(LON - 0.0001, LAT - 0.0001, LON + 0.0001, LAT + 0.0001) == []
    card = proposal_card(store, pid, a["anonymous"])
    assert (card.district_name, card.legal_dong_name) == (place.district_name, place.legal_dong_name)
    assert history(store, pid)[-1][1:] == ("submitted", a["author"].id, "edited")


@pytest.mark.parametrize("who", ["other", "planner", "admin", "staff"])
def test_only_the_author_may_edit_or_withdraw(cast, who):
    store, a = cast
    pid = submit(store, a["author"])
    for action in (lambda: edit_proposal(store, a[who], pid, title="가로채기"), lambda: withdraw_proposal(store, a[who], pid)):
        with pytest.raises(NotAllowed) as e:
            action()
        assert e.value.code == "not_author"
        assert "자신이 쓴 제안만" in e.value.message("ko") and "only your own proposals" in e.value.message("en")
    # Even with a bad drawing, a stranger hears "not yours", not what is wrong with the drawing.
    with pytest.raises(NotAllowed):
        edit_proposal(store, a[who], pid, drawn={"type": "Point", "coordinates": [126.978, 37.5665]})
    with pytest.raises(NotAllowed) as e:
        edit_proposal(store, a["anonymous"], pid, title="x")
    assert e.value.code == "sign_in_required"
    with store.transaction() as tx:
        assert tx.proposals.get(pid).title == "벤치 설치" and tx.proposals.get(pid).status == "submitted"
    assert len(history(store, pid)) == 1


def test_edit_and_withdraw_only_while_submitted(cast):
    store, a = cast
    pid = submit(store, a["author"])
    with store.transaction() as tx:
        tx.proposals.set_status(pid, "under_review", a["planner"].id, "검토 시작")
    for action in (lambda: edit_proposal(store, a["author"], pid, title="늦은 수정"), lambda: withdraw_proposal(store, a["author"], pid)):
        with pytest.raises(NotAllowed) as e:
            action()
        assert e.value.code == "not_editable"
        assert "접수 상태의 제안만" in e.value.message("ko") and "검토 중" in e.value.message("ko")
        assert "Only proposals still in 'submitted'" in e.value.message("en") and "under review" in e.value.message("en")
    card = proposal_card(store, pid, a["author"])
    assert not card.can_edit and not card.can_withdraw


def test_bad_edits_are_refused_and_nothing_changes(cast):
    store, a = cast
    pid = submit(store, a["author"])
    for kwargs, error, code in [
        ({"title": "  "}, InvalidInput, "empty_field"),
        ({"category": "rockets"}, InvalidInput, "unknown_category"),
        ({"cost_krw": -1}, InvalidInput, "bad_cost"),
        ({"photo_url": "javascript:x"}, InvalidInput, "bad_photo_url"),
        ({"title": "좋은 제목", "drawn": {"type": "Point", "coordinates": [126.978, 37.5665]}}, GeometryRefused, "outside_city"),
    ]:
        with pytest.raises(error) as e:
            edit_proposal(store, a["author"], pid, **kwargs)
        assert e.value.code == code
    with store.transaction() as tx:
        assert tx.proposals.get(pid).title == "벤치 설치"
    assert len(history(store, pid)) == 1
    with pytest.raises(InvalidInput) as e:
        edit_proposal(store, a["author"], 424242, title="x")
    assert e.value.code == "no_such_proposal"


# withdrawing


def test_author_withdraws_and_the_proposal_closes(cast):
    store, a = cast
    pid = submit(store, a["author"])
    kept = submit(store, a["author"], title="남는 제안")
    assert support_proposal(store, a["other"], pid) == 1
    withdraw_proposal(store, a["author"], pid, reason="  다른 제안과 합칩니다 ")
    assert history(store, pid)[-1] == ("submitted", "withdrawn", a["author"].id, "다른 제안과 합칩니다")
    with pytest.raises(NotAllowed) as e:
        support_proposal(store, a["other"], pid)
    assert e.value.code == "proposal_closed" and "철회" in e.value.message("ko") and "withdrawn" in e.value.message("en")
    with pytest.raises(NotAllowed):
        add_comment(store, a["other"], pid, "늦었네요")
    with pytest.raises(NotAllowed) as e:
        withdraw_proposal(store, a["author"], pid)
    assert e.value.code == "not_editable"
    assert list(map_frame(store)["id"]) == [kept]  # off the public map
    card = proposal_card(store, pid, a["other"])  # still readable
    assert card.status == "withdrawn" and card.supports == 1 and not card.can_support and not card.can_comment
    assert withdraw_support(store, a["other"], pid) == 0  # taking back a support is still possible


# supporting


def test_withdraw_support(cast):
    store, a = cast
    pid = submit(store, a["author"])
    assert support_proposal(store, a["other"], pid) == 1
    assert support_proposal(store, a["planner"], pid) == 2
    assert proposal_card(store, pid, a["other"]).viewer_supports
    assert withdraw_support(store, a["other"], pid) == 1
    assert withdraw_support(store, a["other"], pid) == 1  # again: nothing to take back
    assert not proposal_card(store, pid, a["other"]).viewer_supports
    assert support_proposal(store, a["other"], pid) == 2  # and support again
    with pytest.raises(NotAllowed) as e:
        withdraw_support(store, a["anonymous"], pid)
    assert e.value.code == "sign_in_required"
    with pytest.raises(InvalidInput):
        withdraw_support(store, a["other"], 424242)


def test_hidden_proposals_take_no_support(cast):
    store, a = cast
    pid = submit(store, a["author"])
    with store.transaction() as tx:
        tx.proposals.set_hidden(pid, True)
    with pytest.raises(InvalidInput) as e:  # to the public it does not exist
        support_proposal(store, a["other"], pid)
    assert e.value.code == "no_such_proposal"
    with pytest.raises(NotAllowed) as e:  # a planner sees it, but it is closed
        support_proposal(store, a["planner"], pid)
    assert e.value.code == "proposal_closed"
    with store.transaction() as tx:
        assert tx.supports.count_for(pid) == 0


# comments and replies


def test_replies_are_threaded_one_level_deep(cast):
    store, a = cast
    pid = submit(store, a["author"])
    first = add_comment(store, a["other"], pid, "좋아요")
    second = add_comment(store, a["author"], pid, "질문 있어요")
    reply = add_comment(store, a["author"], pid, "고맙습니다", parent_id=first)
    reply_to_reply = add_comment(store, a["planner"], pid, "검토할게요", parent_id=reply)
    threads = comment_thread(store, pid, a["anonymous"])
    assert [(c.id, [r.id for r in replies]) for c, replies in threads] == [(first, [reply, reply_to_reply]), (second, [])]
    top, replies = threads[0]
    assert (top.author_name, top.body, top.parent_id) == ("", "좋아요", None)  # the public sees no names (planning/privacy.py)
    assert [(r.author_name, r.parent_id) for r in replies] == [("", first), ("", first)]
    top, replies = comment_thread(store, pid, a["planner"])[0]  # planners do
    assert (top.author_name, top.body, top.parent_id) == ("준호", "좋아요", None)
    assert [(r.author_name, r.parent_id) for r in replies] == [("민지", first), ("기획", first)]
    other = submit(store, a["author"], title="다른 제안")
    with pytest.raises(InvalidInput) as e:
        add_comment(store, a["other"], other, "엉뚱한 답글", parent_id=first)
    assert e.value.code == "no_such_comment" and str(first) in e.value.message("ko")
    with pytest.raises(InvalidInput):
        add_comment(store, a["other"], pid, "없는 댓글에", parent_id=999_999)


@pytest.mark.parametrize(
    # "other" wrote both hidden comments: an author sees their own hidden comments, marked hidden.
    "who, sees_hidden", [("anonymous", False), ("author", False), ("other", True), ("staff", False), ("planner", True), ("admin", True)]
)
def test_hidden_comments_are_shown_to_planners_admins_and_their_author_only(cast, who, sees_hidden):
    store, a = cast
    pid = submit(store, a["author"])
    shown = add_comment(store, a["other"], pid, "좋은 생각")
    hidden = add_comment(store, a["other"], pid, "광고 글")
    under_hidden = add_comment(store, a["author"], pid, "광고네요", parent_id=hidden)
    hidden_reply = add_comment(store, a["other"], pid, "욕설", parent_id=shown)
    with store.transaction() as tx:
        tx.comments.set_hidden(hidden, True)
        tx.comments.set_hidden(hidden_reply, True)
    threads = comment_thread(store, pid, a[who])
    got = [(c.id, [r.id for r in replies]) for c, replies in threads]
    if sees_hidden:
        assert got == [(shown, [hidden_reply]), (hidden, [under_hidden])]
        assert [c.hidden for c, _ in threads] == [False, True]
    else:
        assert got == [(shown, [])]
    card = proposal_card(store, pid, a[who])
    assert [(c.id, [r.id for r in rs]) for c, rs in card.thread] == got
    assert card.comment_count == (4 if sees_hidden else 1)
    if a[who].signed_in and not a[who].is_moderator:
        with pytest.raises(InvalidInput) as e:  # no replying to what one cannot see (or to one's own hidden comment)
            add_comment(store, a[who], pid, "답", parent_id=hidden)
        assert e.value.code == "no_such_comment"


# cards, visibility and lists


@pytest.mark.parametrize(
    # The author sees their hidden proposal, marked hidden (and frozen: see below).
    "who, may_see", [("anonymous", False), ("author", True), ("other", False), ("staff", False), ("planner", True), ("admin", True)]
)
def test_hidden_proposals_are_shown_to_planners_admins_and_their_author_only(cast, who, may_see):
    store, a = cast
    pid = submit(store, a["author"])
    with store.transaction() as tx:
        tx.proposals.set_hidden(pid, True)
    if may_see:
        card = proposal_card(store, pid, a[who])
        assert card.hidden and card.title == "벤치 설치" and not card.can_support and not card.can_comment
        assert comment_thread(store, pid, a[who]) == []
    else:
        for read in (lambda: proposal_card(store, pid, a[who]), lambda: comment_thread(store, pid, a[who])):
            with pytest.raises(InvalidInput) as e:
                read()
            assert e.value.code == "no_such_proposal"
            assert f"제안 {pid}번을 찾을 수 없습니다" in e.value.message("ko") and "was not found" in e.value.message("en")
        if a[who].signed_in:
            with pytest.raises(InvalidInput):
                add_comment(store, a[who], pid, "보이지 않는 제안")


def test_hidden_proposals_are_frozen_even_for_their_author(cast):
    store, a = cast
    mine = submit(store, a["author"])
    planners = submit(store, a["planner"])
    with store.transaction() as tx:
        tx.proposals.set_hidden(mine, True)
        tx.proposals.set_hidden(planners, True)
    for who, pid in (("author", mine), ("planner", planners)):
        for action in (lambda: edit_proposal(store, a[who], pid, title="몰래"), lambda: withdraw_proposal(store, a[who], pid)):
            with pytest.raises(InvalidInput) as e:
                action()
            assert e.value.code == "no_such_proposal"
    assert not proposal_card(store, planners, a["planner"]).can_edit
    with store.transaction() as tx:
        assert [tx.proposals.get(p).title for p in (mine, planners)] == ["벤치 설치", "벤치 설치"]


def test_card_shows_everything_for_each_viewer(cast):
    store, a = cast
    pid = submit(store, a["author"], SQUARE, photo_url="https://example.kr/a.jpg", cost_krw=12_000_000)
    support_proposal(store, a["other"], pid)
    add_comment(store, a["other"], pid, "<b>찬성</b>")
    card = proposal_card(store, pid, a["author"])
    assert isinstance(card, ProposalCard)
    assert (card.title, card.body, card.category, card.kind, card.status) == ("벤치 설치", "공원에 벤치를", "environment", "area", "submitted")
    assert (card.cost_krw, card.photo_url, card.author_name, card.is_demo, card.hidden) == (
        12_000_000,
        "https://example.kr/a.jpg",
        "민지",
        False,
        False,
    )
    assert (card.district_code, card.district_name, card.legal_dong_name) == ("4128164000", "행신1동", "행신동")
    assert card.hub_code == "4128165000" and card.hub_name.startswith("행신2동")
    assert card.district_shares == {"4128164000": 1.0}
    assert card.geometry.equals(shape(SQUARE)) and card.created_at.tzinfo is not None
    assert (card.supports, card.viewer_supports, card.comment_count) == (1, False, 1)
    assert card.thread[0][0].body == "<b>찬성</b>"  # as typed; the page escapes it
    assert (card.can_edit, card.can_withdraw, card.can_support, card.can_comment) == (True, True, True, True)
    other = proposal_card(store, pid, a["other"])
    assert (other.viewer_supports, other.can_edit, other.can_withdraw, other.can_support) == (True, False, False, True)
    public = proposal_card(store, pid, a["anonymous"])
    assert (public.viewer_supports, public.can_edit, public.can_support, public.can_comment) == (False, False, False, False)
    with pytest.raises(InvalidInput):
        proposal_card(store, 424242, a["anonymous"])


def test_my_proposals(cast):
    store, a = cast
    first = submit(store, a["author"], title="첫째", photo_url="https://example.kr/1.jpg")
    second = submit(store, a["author"], title="둘째")
    third = submit(store, a["author"], title="셋째")
    submit(store, a["other"], title="남의 것")
    withdraw_proposal(store, a["author"], first)
    support_proposal(store, a["other"], second)
    add_comment(store, a["other"], second, "응원해요")
    with store.transaction() as tx:
        tx.proposals.set_hidden(third, True)
    mine = my_proposals(store, a["author"])
    assert [(m.id, m.status, m.hidden) for m in mine] == [(third, "submitted", True), (second, "submitted", False), (first, "withdrawn", False)]
    assert [(m.supports, m.comments) for m in mine] == [(0, 0), (1, 1), (0, 0)]
    assert [(m.title, m.body, m.photo_url) for m in mine] == [
        ("셋째", "공원에 벤치를", None),
        ("둘째", "공원에 벤치를", None),
        ("첫째", "공원에 벤치를", "https://example.kr/1.jpg"),
    ]
    assert [(m.can_edit, m.can_withdraw) for m in mine] == [(False, False), (True, True), (False, False)]
    assert my_proposals(store, a["planner"]) == []
    with pytest.raises(NotAllowed):
        my_proposals(store, a["anonymous"])


# the map


def test_map_frame_counts_filters_and_crs(cast):
    store, a = cast
    near = submit(store, a["author"], POINT, title="여기")
    far = submit(store, a["other"], JUYEOP, title="저기", cost_krw=None)
    hidden = submit(store, a["author"], POINT, title="숨김")
    gone = submit(store, a["author"], POINT, title="철회")
    for who in ("other", "planner", "admin"):
        support_proposal(store, a[who], near)
    support_proposal(store, a["author"], far)
    c = add_comment(store, a["other"], near, "좋아요")
    add_comment(store, a["author"], near, "감사", parent_id=c)
    spam = add_comment(store, a["other"], near, "광고")
    with store.transaction() as tx:
        tx.proposals.set_hidden(hidden, True)
        tx.comments.set_hidden(spam, True)
    withdraw_proposal(store, a["author"], gone)

    frame = map_frame(store)
    assert tuple(frame.columns) == MAP_COLUMNS and frame.crs.to_epsg() == 4326
    assert list(frame["id"]) == [far, near]  # newest first; hidden and withdrawn left out
    row = frame.set_index("id").loc[near]
    assert (row["title"], row["status"], row["kind"], row["category"]) == ("여기", "submitted", "area", "environment")
    assert (row["supports"], row["comments"], row["cost_krw"], bool(row["is_demo"])) == (3, 2, 5_000_000, False)
    assert (row["district_code"], row["hub_code"]) == ("4128164000", "4128165000")
    assert row["geometry"].equals(shape(POINT))
    assert frame.set_index("id").loc[far, "cost_krw"] is pd_na()
    # Counts agree with the brute-force counts of the store.
    with store.transaction() as tx:
        for r in frame.itertuples():
            assert r.supports == tx.supports.count_for(r.id)
            assert r.comments == len(tx.comments.list_for(r.id))

    around_near = (LON - 0.001, LAT - 0.001, LON + 0.001, LAT + 0.001)
    assert list(map_frame(store, bbox=around_near)["id"]) == [near]
    assert map_frame(store, bbox=(127.5, 38.5, 127.6, 38.6)).empty
    assert tuple(map_frame(store, bbox=(127.5, 38.5, 127.6, 38.6)).columns) == MAP_COLUMNS


def pd_na():
    import pandas as pd

    return pd.NA


def test_the_staff_map_needs_a_planner_or_admin(cast):
    store, a = cast
    shown = submit(store, a["author"], POINT)
    hidden = submit(store, a["author"], POINT)
    gone = submit(store, a["author"], POINT)
    with store.transaction() as tx:
        tx.proposals.set_hidden(hidden, True)
    withdraw_proposal(store, a["author"], gone)
    for who in ("planner", "admin"):
        assert set(map_frame(store, include_hidden=True, viewer=a[who])["id"]) == {shown, hidden, gone}
    for who in ("anonymous", "author", "staff"):
        with pytest.raises(NotAllowed):
            map_frame(store, include_hidden=True, viewer=a[who])
    with pytest.raises(NotAllowed):
        map_frame(store, include_hidden=True)  # no viewer: the public
    with pytest.raises(NotAllowed):  # a made-up planner is checked against the store
        map_frame(store, include_hidden=True, viewer=Actor(id=a["author"].id, role="planner"))
    assert list(map_frame(store, viewer=a["planner"])["id"]) == [shown]


def test_map_view_features_below_the_limit_and_database_clusters_above(ready):
    import numpy as np

    from geo.grid import lonlat_grid_sums
    from layers.proposals import cluster_cell_m, clusters_from_cells
    from planning.proposals import map_view

    store, rid, other = ready
    ids = []
    for k in range(12):
        ids.append(submit_proposal(store, rid if k % 2 else other, {"type": "Point", "coordinates": [LON + k * 0.004, LAT + (k % 3) * 0.003]},
                                   f"제안 {k}", "설명", "environment", "area", None))
    withdraw_proposal(store, rid, ids[1])
    bbox = (126.80, 37.60, 126.90, 37.66)
    few = map_view(store, bbox, 14, max_features=20)
    assert few.clusters is None and few.count == 11 and sorted(few.frame["id"]) == sorted(set(ids) - {ids[1]})

    many = map_view(store, bbox, 14, max_features=5, selected_id=ids[4])
    assert many.count == 11 and many.frame["id"].tolist() == [ids[4]]  # only the selection is fetched
    assert sum(c[2] for c in many.clusters) == 11
    frame = map_frame(store, bbox=bbox)
    cell = cluster_cell_m(14, (bbox[1] + bbox[3]) / 2)
    want = clusters_from_cells(lonlat_grid_sums(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), cell))
    assert [c[2:] for c in many.clusters] == [c[2:] for c in want]
    np.testing.assert_allclose([c[:2] for c in many.clusters], [c[:2] for c in want], atol=1e-6)
    for lat, lon, *_ in many.clusters:  # folium order: [lat, lon]
        assert 37.5 < lat < 37.8 and 126.6 < lon < 127.1
    assert map_view(store, bbox, 14, max_features=5).frame.empty
    assert map_view(store, (127.5, 38.0, 127.6, 38.1), 14, max_features=0).count == 0


def test_clean_text_keeps_emoji_newer_than_the_unicode_database_and_drops_noncharacters() -> None:
    from planning.proposals import clean_text

    text = "a\u200f\u202eb\U0001FAE8\uFFFE\U000F0000\U0010FFFF\uFDD0x\U0001F469\u200d\U0001F4BB"
    # RLM/RLO (format), private use and noncharacters go; the unassigned-here U+1FAE8 (Unicode 15) and ZWJ stay
    assert clean_text(text, field_ko="제목", field_en="title", max_len=99) == "ab\U0001FAE8x\U0001F469\u200d\U0001F4BB"
