"""Page logic with Streamlit's AppTest, for each role, signed in and out."""
from __future__ import annotations

import pytest
import shapely

from tests.ui.conftest import APP  # noqa: F401  (documents which script runs)

LON, LAT = 126.833004, 37.622148  # 행신1동
SQUARE = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[LON, LAT], [LON + 0.002, LAT], [LON + 0.002, LAT + 0.001], [LON, LAT + 0.001], [LON, LAT]]],
    },
}
XSS = "<img src=x onerror=alert(1)>${alert(2)}"


def text_of(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.title] + [e.value for e in at.subheader]
    parts += [e.value for e in at.caption] + [e.value for e in at.info] + [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.success]
    return "\n".join(str(p) for p in parts)


def drawn(feature):
    return {"all_drawings": [feature], "last_active_drawing": feature, "bounds": None, "zoom": 12}


@pytest.mark.parametrize(
    "user, staff_pages",
    [
        (None, []),
        ("demo-resident", []),
        ("demo-planner", ["review"]),
        ("demo-centre", ["meetings"]),
        ("demo-admin", ["review", "meetings", "admin"]),
    ],
)
def test_map_page_runs_for_every_role(make_app, fake_map, user, staff_pages):
    at = make_app(user).run()
    assert not at.exception, at.exception
    assert "고양시 주민참여 지도" in text_of(at)
    assert fake_map.calls, "the map component was not called"
    call = fake_map.calls[-1]
    assert call["key"] == "residents_map" and call["feature_group_to_add"] is not None
    # the sidebar says who is signed in
    caption = "\n".join(c.value for c in at.sidebar.caption)
    assert ("로그인됨" in caption) == (user is not None)


@pytest.mark.parametrize(
    "user, page, expect",
    [
        ("demo-resident", "ui/mine_page.py", "내 제안"),
        (None, "ui/account_page.py", "로그인"),
        ("demo-resident", "ui/account_page.py", "로그아웃"),
        ("demo-planner", "ui/review_page.py", "제안 검토"),
        ("demo-centre", "ui/meetings_page.py", "권역"),
        (None, "ui/public_meetings_page.py", "회의 일정"),
        ("demo-centre", "ui/presentation_page.py", "발표 모드"),
        ("demo-admin", "ui/admin_page.py", "거점 지정"),
    ],
)
def test_each_page_for_its_roles(make_app, user, page, expect):
    at = make_app(user).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    body = text_of(at) + "\n".join(b.label for b in at.button) + "\n".join(t.label for t in at.tabs)
    assert expect in body


@pytest.mark.parametrize(
    "user, page",
    [(None, "ui/mine_page.py"), (None, "ui/admin_page.py"), ("demo-resident", "ui/admin_page.py"), ("demo-planner", "ui/meetings_page.py"), ("demo-resident", "ui/presentation_page.py"),
     ("demo-centre", "ui/review_page.py"), ("demo-resident", "ui/review_page.py")],
)
def test_pages_are_not_offered_outside_their_roles(make_app, user, page):
    at = make_app(user).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)


def test_sign_in_with_a_demo_account_and_a_wrong_password(make_app, app_store):
    at = make_app().run()
    at.switch_page("ui/account_page.py").run()
    at.text_input(key="signin_username").input("demo-resident")
    at.text_input(key="signin_password").input("wrong password")
    at.button(key="signin_submit").click().run()
    assert "비밀번호가 맞지 않습니다" in text_of(at)
    assert "resident_id" not in at.session_state
    at.text_input(key="signin_password").input("goyang-demo-2026")
    at.button(key="signin_submit").click().run()
    assert not at.exception
    with app_store.transaction() as tx:
        assert at.session_state["resident_id"] == tx.residents.by_username("demo-resident").id


def test_register_a_new_resident(make_app, app_store):
    at = make_app().run()
    at.switch_page("ui/account_page.py").run()
    at.text_input(key="reg_username").input("minji")
    at.text_input(key="reg_display").input("민지")
    at.selectbox(key="reg_home").set_value("4128164000")
    at.text_input(key="reg_pw1").input("a long password")
    at.text_input(key="reg_pw2").input("a long password")
    at.button(key="register_submit").click().run()
    assert not at.exception, at.exception
    with app_store.transaction() as tx:
        r = tx.residents.by_username("minji")
        assert r is not None and r.home_district_code == "4128164000" and r.role == "resident"
    assert at.session_state["resident_id"] == r.id


def test_anonymous_drawing_shows_placement_but_no_form(make_app, fake_map):
    fake_map.result = drawn(SQUARE)
    at = make_app().run()
    assert not at.exception, at.exception
    text = text_of(at)
    assert "행신1동" in text and "거점 주민센터" in text
    assert "로그인한 주민만" in text
    assert "pf_submit" not in [b.key for b in at.button]


def test_resident_submits_a_drawn_proposal(make_app, fake_map, app_store):
    fake_map.result = drawn(SQUARE)
    at = make_app("demo-resident").run()
    at.text_input(key="pf_title").input("행신동 쉼터 벤치")
    at.text_area(key="pf_body").input("버스정류장 옆에 벤치가 필요합니다.")
    at.selectbox(key="pf_category").set_value("welfare")
    at.radio(key="pf_kind").set_value("area")
    at.number_input(key="pf_cost").set_value(15_000_000)
    at.button(key="pf_submit").click().run()
    assert not at.exception, at.exception
    with app_store.transaction() as tx:
        mine = [p for p in tx.proposals.list() if p.title == "행신동 쉼터 벤치"]
        assert len(mine) == 1
        p = mine[0]
        assert p.geometry.equals(shapely.geometry.shape(SQUARE["geometry"]))
        assert p.district_code == "4128164000" and p.hub_code == "4128165000" and p.cost_krw == 15_000_000 and p.kind == "area"
    assert at.session_state["selected_proposal"] == p.id
    # the same drawing does not offer the form again; the card of the new proposal shows
    assert "행신동 쉼터 벤치" in text_of(at)


def test_bad_drawing_is_refused_in_the_chosen_language(make_app, fake_map):
    seoul = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [126.978, 37.5665]}}
    fake_map.result = drawn(seoul)
    at = make_app("demo-resident").run()
    assert "고양시 밖에 있습니다" in "\n".join(e.value for e in at.error)
    at = make_app("demo-resident", lang="en").run()
    assert "outside Goyang" in "\n".join(e.value for e in at.error)


def test_empty_form_fields_are_refused(make_app, fake_map, app_store):
    fake_map.result = drawn(SQUARE)
    at = make_app("demo-resident").run()
    with app_store.transaction() as tx:
        before = tx.proposals.count()
    at.button(key="pf_submit").click().run()
    assert "제목을(를) 입력해 주세요" in "\n".join(e.value for e in at.error)
    with app_store.transaction() as tx:
        assert tx.proposals.count() == before


def test_click_opens_the_card_and_support_and_comment_work(make_app, fake_map, app_store):
    with app_store.transaction() as tx:
        p = tx.proposals.list()[0]
        title = p.title
    fake_map.result = {"last_object_clicked_tooltip": f"#{p.id} {title}", "bounds": None}
    at = make_app("demo-r001").run()
    assert not at.exception, at.exception
    assert f"#{p.id}" in "\n".join(s.value for s in at.subheader)
    with app_store.transaction() as tx:
        before = tx.supports.count_for(p.id)
    keys = [b.key for b in at.button]
    if f"support_{p.id}" in keys:
        at.button(key=f"support_{p.id}").click().run()
        with app_store.transaction() as tx:
            assert tx.supports.count_for(p.id) == before + 1
        at.button(key=f"unsupport_{p.id}").click().run()  # and take it back
    else:
        at.button(key=f"unsupport_{p.id}").click().run()
        with app_store.transaction() as tx:
            assert tx.supports.count_for(p.id) == before - 1
        at.button(key=f"support_{p.id}").click().run()
    with app_store.transaction() as tx:
        assert tx.supports.count_for(p.id) == before
    at.text_area(key=f"comment_{p.id}_0_body").input("저도 찬성합니다")
    at.button(key=f"comment_{p.id}_0_send").click().run()
    assert not at.exception, at.exception
    with app_store.transaction() as tx:
        assert "저도 찬성합니다" in [c.body for c in tx.comments.list_for(p.id)]


def test_user_text_in_the_card_is_shown_literally(make_app, fake_map, app_store):
    from planning.auth import actor_for
    from planning.proposals import submit_proposal

    with app_store.transaction() as tx:
        rid = tx.residents.by_username("demo-resident").id
    pid = submit_proposal(app_store, actor_for(app_store, rid), SQUARE, title=XSS, body="**not bold** [x](http://e)", category="urban")
    fake_map.result = {"last_object_clicked_tooltip": f"#{pid} x"}
    at = make_app().run()
    assert not at.exception, at.exception
    from layers.escape import escape_markdown

    heads = [s.value for s in at.subheader]
    assert heads == [f"#{pid} {escape_markdown(XSS)}"]
    assert "<img" not in escape_markdown(XSS).replace("\\<img", "")
    assert any("\\*\\*not bold\\*\\*" in m.value for m in at.markdown)


def test_my_proposals_edit_and_withdraw(make_app, app_store):
    from planning.auth import actor_for
    from planning.proposals import submit_proposal

    with app_store.transaction() as tx:
        rid = tx.residents.by_username("demo-resident").id
    pid = submit_proposal(app_store, actor_for(app_store, rid), SQUARE, title="처음 제목", body="내용", category="urban")
    at = make_app("demo-resident").run()
    at.switch_page("ui/mine_page.py").run()
    assert not at.exception, at.exception
    at.text_input(key=f"edit_title_{pid}").input("바뀐 제목")
    at.button(key=f"save_{pid}").click().run()
    with app_store.transaction() as tx:
        titles = {p.id: p.title for p in tx.proposals.by_author(rid)}
    assert titles[pid] == "바뀐 제목"
    at.button(key=f"withdraw_{pid}").click().run()
    with app_store.transaction() as tx:
        assert tx.proposals.get(pid).status == "withdrawn"


def test_admin_changes_a_hub(make_app, app_store):
    at = make_app("demo-admin").run()
    at.switch_page("ui/admin_page.py").run()
    assert not at.exception, at.exception
    assert len(at.dataframe) >= 2, "the hub editor and the villages table are missing"
    assert [t.label for t in at.tabs] == ["거점 지정", "거점 권역", "마을", "래스터 레이어", "계정"]
    assert "admin.save" not in text_of(at)  # labels come from the catalogue, not keys


ADMIN_TABS = {"ko": ["거점 지정", "거점 권역", "마을", "래스터 레이어", "계정"], "en": ["Hub designation", "Hub catchments", "Villages", "Raster layers", "Accounts"]}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_admin_draws_the_villages_map_only_in_its_open_tab_and_labels_accounts_from_the_catalogue(make_app, fake_map, lang):
    """The villages map is drawn only while its tab is open: a streamlit-folium map in a tab that is not open has
    no size (Leaflet: "Invalid LatLng object: (NaN, NaN)"). The accounts tab speaks the page's language."""
    at = make_app("demo-admin", lang=lang).run()
    fake_map.calls.clear()  # the residents' map of the first page
    at.switch_page("ui/admin_page.py").run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ADMIN_TABS[lang]
    assert fake_map.calls == [], "a map was drawn in a tab that is not open"
    for label in ADMIN_TABS[lang]:
        at.session_state[f"admin_tab_{lang}"] = label
        at.run()
        assert not at.exception, (label, at.exception)
        maps = [c["key"] for c in fake_map.calls]
        assert maps == (["village_map"] if label in ("마을", "Villages") else []), (label, maps)
        fake_map.calls.clear()
    # the last tab is the accounts tab: its labels are the catalogue's, in the page's language
    from planning.i18n import t

    text = text_of(at) + "\n".join(b.label for b in at.button) + "\n".join(b.label for b in at.selectbox)
    for key in ("admin.users.help", "admin.users.account", "admin.users.role", "admin.users.save", "admin.users.disable"):
        assert t(key, lang) in text, key
    assert "admin.users." not in text
    assert ("Role" in text) == (lang == "en")


def test_admin_adds_a_village_drawn_on_the_villages_map(make_app, fake_map, app_store):
    from planning.villages import villages_frame

    fake_map.result = drawn(SQUARE)
    at = make_app("demo-admin").run()
    at.switch_page("ui/admin_page.py").run()
    assert at.button(key="add_village").disabled, "a drawing counted while the villages map was not shown"
    at.session_state["admin_tab_ko"] = "마을"
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="village_name").input("그늘막 마을").run()
    at.button(key="add_village").click().run()
    assert not at.exception, at.exception
    assert "그늘막 마을" in set(villages_frame(app_store)["name"])
    assert at.session_state["admin_tab_ko"] == "마을"  # the page stays on the villages tab


ROLE_PAGES = {
    None: ["ui/map_page.py", "ui/account_page.py", "ui/public_meetings_page.py"],
    "demo-resident": ["ui/map_page.py", "ui/mine_page.py", "ui/account_page.py", "ui/public_meetings_page.py"],
    "demo-planner": ["ui/map_page.py", "ui/mine_page.py", "ui/account_page.py", "ui/review_page.py"],
    "demo-centre": ["ui/map_page.py", "ui/mine_page.py", "ui/account_page.py", "ui/meetings_page.py", "ui/presentation_page.py"],
    "demo-admin": [
        "ui/map_page.py", "ui/mine_page.py", "ui/account_page.py", "ui/review_page.py", "ui/meetings_page.py",
        "ui/presentation_page.py", "ui/admin_page.py",
    ],
}


@pytest.mark.parametrize("user", list(ROLE_PAGES), ids=lambda u: u or "anonymous")
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_page_of_every_role_runs_in_both_languages(make_app, user, lang):
    at = make_app(user, lang=lang).run()
    assert not at.exception, at.exception
    for page in ROLE_PAGES[user]:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert at.title, f"{page} has no title"
        title = at.title[0].value
        hangul = any("가" <= ch <= "힣" for ch in title)
        assert hangul == (lang == "ko"), (page, title)


def test_admin_computes_and_adopts_a_hub_suggestion(make_app, app_store):
    from planning.geography import centres_frame

    at = make_app("demo-admin").run()
    at.switch_page("ui/admin_page.py").run()
    at.number_input(key="suggest_k").set_value(11)
    at.button(key="suggest_run").click().run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric][:2] == ["유권자 가중 평균 거리", "가장 먼 동까지 거리"]
    suggested, current = at.session_state["hub_suggestion"]
    assert suggested.objective <= current.objective
    at.button(key="suggest_adopt").click().run()
    assert not at.exception, at.exception
    assert set(centres_frame(app_store, hubs_only=True)["code"]) == set(suggested.codes)


def test_drawing_panel_shows_the_districts_remaining_quota(make_app, fake_map, app_store):
    from planning.auth import actor_for
    from planning.budget import create_cycle, publish_quotas, set_quotas_by_rule

    with app_store.transaction() as tx:
        admin = actor_for(app_store, tx.residents.by_username("demo-admin").id)
    cid = create_cycle(app_store, admin, 2027)
    table = set_quotas_by_rule(app_store, admin, cid, 1_000_000_000, 10_000_000, 0.5)
    publish_quotas(app_store, admin, cid)
    fake_map.result = drawn(SQUARE)
    at = make_app("demo-resident").run()
    assert not at.exception, at.exception
    amount = f"{table['4128164000']:,}원"
    assert any("이 지역 예산 잔액" in m.value and amount.replace(",", "") in m.value.replace(",", "").replace("\\", "") for m in at.markdown)


def test_drawing_panel_says_when_proposals_are_closed(make_app, fake_map, app_store):
    from planning.auth import actor_for
    from planning.budget import advance_phase, create_cycle

    with app_store.transaction() as tx:
        admin = actor_for(app_store, tx.residents.by_username("demo-admin").id)
    cid = create_cycle(app_store, admin, 2029)
    advance_phase(app_store, admin, cid)  # review: no new proposals
    fake_map.result = drawn(SQUARE)
    at = make_app("demo-resident").run()
    assert not at.exception, at.exception
    assert any("이 일을 할 수 없습니다" in i.value for i in at.info)
    assert "pf_submit" not in [b.key for b in at.button]


def test_card_shows_the_value_of_each_raster_layer_here(make_app, fake_map, app_store):
    import numpy as np
    from rasterio.transform import from_origin

    from geo.boundaries import city_outline_metric
    from layers.rasters import RasterRegistry, write_geotiff
    from settings import raster_dir

    west, south, east, north = city_outline_metric().bounds
    cols, rows = int((east - west) // 500) + 2, int((north - south) // 500) + 2
    tif = write_geotiff(raster_dir() / "flood.tif", np.full((rows, cols), 3.5, dtype=np.float32), from_origin(west - 500, north + 500, 500, 500), nodata=-1)
    RasterRegistry(raster_dir()).register(tif, "flood", "침수 위험도 시험", "Flood risk test", units="m")
    with app_store.transaction() as tx:
        p = tx.proposals.list()[0]
    fake_map.result = {"last_object_clicked_tooltip": f"#{p.id} {p.title}", "bounds": None}
    at = make_app("demo-r001").run()
    assert not at.exception, at.exception
    assert any("침수 위험도 시험: 3.5 m" in c.value.replace("\\", "") for c in at.caption), [c.value for c in at.caption]


def test_a_pan_costs_one_run_not_two(make_app, fake_map):
    """streamlit-folium puts the map's new bounds into session_state["residents_map"] before the run:
    the page draws the new view's proposals at once instead of drawing the old view and rerunning."""
    from layers.viewport import viewport_from_result

    moved = {"bounds": {"_southWest": {"lat": 37.62, "lng": 126.83}, "_northEast": {"lat": 37.63, "lng": 126.845}}, "zoom": 16}
    fake_map.result = dict(moved)  # what the browser reports after this run too: the view did not move again
    at = make_app()
    at.session_state["residents_map"] = dict(moved)
    at.run()
    assert not at.exception, at.exception
    assert len(fake_map.calls) == 1, "the page ran twice (st.rerun) for one pan"
    view = at.session_state["map_view"]
    assert view == viewport_from_result(moved) and view.zoom == 16
    assert "지금 보이는 지역의 제안" in text_of(at)
