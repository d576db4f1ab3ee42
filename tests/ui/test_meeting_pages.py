"""Meeting pages in AppTest: the hub's area, a meeting from creation to minutes, presentation mode, the packet,
and residents' upcoming meetings."""
from __future__ import annotations

from shapely.geometry import Point

HUB = "4128162100"  # 화정1동 hub: demo-centre works there
HWAJEONG1 = "4128162100"
LON, LAT = 126.8330, 37.6340  # in 화정1동


def text_of(at) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error, *at.title])


def shortlisted(store, n=3):
    with store.transaction() as tx:
        author = tx.residents.by_username("demo-resident").id
        ids = []
        for i in range(n):
            p = tx.proposals.add(
                title=f"화정 놀이터 그늘막 {i}", body="그늘막이 필요합니다", category="welfare", kind="area", author_id=author,
                geometry=Point(LON + i * 0.0005, LAT), hub_code=HUB, district_code=HWAJEONG1, cost_krw=4_000_000,
            )
            tx.proposals.set_status(p.id, "under_review", None, "test")
            tx.proposals.set_status(p.id, "shortlisted", None, "test")
            ids.append(p.id)
    return ids


def open_tab(at, label, lang="ko"):
    at.session_state[f"meetings_tab_{lang}"] = label
    return at.run()


def test_centre_staff_prepare_present_and_decide(make_app, app_store, fake_map):
    ids = shortlisted(app_store)
    at = make_app("demo-centre").run()
    at.switch_page("ui/meetings_page.py").run()
    assert not at.exception, at.exception
    assert "화정1동" in text_of(at)
    assert any(str(c.get("key", "")).startswith("mtg_area_map_") for c in fake_map.calls)
    open_tab(at, "회의 준비")
    at.text_input(key="mtg_new_place").input("화정1동 행정복지센터 3층").run()
    at.button(key="mtg_create").click().run()
    assert not at.exception, at.exception
    assert "회의를 만들었습니다." in text_of(at)
    items = at.multiselect(key=next(m.key for m in at.multiselect if m.key.startswith("mtg_items_")))
    assert all(any(f"화정 놀이터 그늘막 {n}" in o for o in items.options) for n in range(3))
    items.set_value([f"p:{i}" for i in ids]).run()
    at.button(key="mtg_save_agenda").click().run()
    assert "안건을 저장했습니다." in text_of(at), text_of(at)
    at.button(key="mtg_publish").click().run()
    assert not at.exception, at.exception
    with app_store.transaction() as tx:
        meeting = tx.meetings.list(hub_codes=[HUB])[0]
        assert meeting.status == "published"
    # presentation mode: one item at a time, next and previous
    at.button(key="mtg_present").click().run()
    assert not at.exception, at.exception
    assert at.session_state["present_meeting"] == meeting.id
    at.switch_page("ui/presentation_page.py").run()  # AppTest keeps its own page, not the one the script switched to
    assert at.title[0].value.startswith("안건 1")
    at.button(key="present_next").click().run()
    assert at.title[0].value.startswith("안건 2")
    at.button(key="present_prev").click().run()
    assert at.title[0].value.startswith("안건 1")
    assert any(str(c.get("key", "")).startswith("present_map_") for c in fake_map.calls)
    # minutes: the first item is adopted, through the workflow
    at.switch_page("ui/meetings_page.py").run()
    open_tab(at, "회의록")
    assert not at.exception, at.exception
    save = next(b for b in at.button if b.key.startswith("mn_save_"))
    suffix = save.key.removeprefix("mn_save_")
    at.number_input(key=f"mn_for_{suffix}").set_value(12).run()
    at.button(key=f"mn_save_{suffix}").click().run()
    assert not at.exception, at.exception
    assert "결정을 기록하고" in text_of(at)
    with app_store.transaction() as tx:
        assert "adopted" in {tx.proposals.get(i).status for i in ids}
    # the packet
    open_tab(at, "회의 자료집")
    at.button(key="mtg_packet_make").click().run()
    assert not at.exception, at.exception
    name, pdf, zipped, pages = at.session_state["mtg_packet"]
    assert pdf.startswith(b"%PDF") and pages >= 4 and zipped[:2] == b"PK"


def test_residents_see_upcoming_meetings(make_app, app_store):
    from datetime import date, time, timedelta

    from planning.auth import actor_for
    from planning.meetings import create_meeting, kst_datetime, publish_meeting, set_agenda

    ids = shortlisted(app_store, 1)
    with app_store.transaction() as tx:
        staff = actor_for(app_store, tx.residents.by_username("demo-centre").id)
    m = create_meeting(app_store, staff, HUB, "hub_meeting", kst_datetime(date.today() + timedelta(days=5), time(19)), "화정1동 센터 <b>3층</b>")
    set_agenda(app_store, staff, m.id, [{"proposal_id": ids[0]}])
    publish_meeting(app_store, staff, m.id)
    at = make_app(None).run()
    at.switch_page("ui/public_meetings_page.py").run()
    assert not at.exception, at.exception
    text = text_of(at)
    assert "화정 놀이터 그늘막 0" in text and "3층" in text and "<b>" not in text.replace("\\<b\\>", "")


def test_presentation_without_meetings_says_so(make_app):
    at = make_app("demo-centre").run()
    at.switch_page("ui/presentation_page.py").run()
    assert not at.exception, at.exception
    assert "공개된 다가오는 회의가 없습니다." in text_of(at)


def test_admin_sets_and_clears_a_hub_catchment(make_app, app_store):
    from planning.catchments import catchment_of, is_explicit

    at = make_app("demo-admin").run()
    at.switch_page("ui/admin_page.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="catchment_hub").set_value(HUB).run()
    before = catchment_of(app_store, HUB)
    at.multiselect(key=f"catchment_dongs_{HUB}").set_value(before[:1]).run()
    at.button(key="catchment_save").click().run()
    assert not at.exception, at.exception
    assert is_explicit(app_store, HUB) and catchment_of(app_store, HUB) == sorted(set(before[:1]) | {HUB})
    at.button(key="catchment_clear").click().run()
    assert not is_explicit(app_store, HUB) and catchment_of(app_store, HUB) == before
