"""Centre staff in Chromium: walk a published meeting in presentation mode, then make and download the packet.

Own app and database (it adds meetings). Screenshots of the presentation and of
every packet page go to ``test-artifacts/meetings/``; no request may leave localhost.
"""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from shapely.geometry import Point

from planning.auth import actor_for
from planning.meetings import create_meeting, kst_datetime, publish_meeting, set_agenda
from tests.browser.conftest import own_app
from tests.browser.test_residents_flow import MAP_IFRAME, Session

pytestmark = pytest.mark.browser

HUB = "4128162100"  # 화정1동: demo-centre's hub
LON, LAT = 126.8330, 37.6340


@pytest.fixture(scope="module")
def meeting_app(tmp_path_factory):
    with own_app(tmp_path_factory, "meeting-app", demo_proposals=20) as app:
        yield app


def a_published_meeting(store) -> tuple[int, list[int]]:
    with store.transaction() as tx:
        author = tx.residents.by_username("demo-r002").id
        staff = tx.residents.by_username("demo-centre").id
        ids = []
        for i, title in enumerate(["화정 놀이터 그늘막", "화정역 자전거 보관대", "중앙공원 산책로 조명"]):
            p = tx.proposals.add(
                title=title, body=f"{title}이 필요합니다", category=["welfare", "environment", "urban"][i], kind="area", author_id=author,
                geometry=Point(LON + i * 0.004, LAT + i * 0.002), hub_code=HUB, district_code=HUB, cost_krw=(i + 2) * 1_000_000,
            )
            tx.proposals.set_status(p.id, "under_review", None, "test")
            tx.proposals.set_status(p.id, "shortlisted", None, "test")
            ids.append(p.id)
    staff = actor_for(store, staff)
    m = create_meeting(store, staff, HUB, "hub_meeting", kst_datetime(date.today() + timedelta(days=7), time(19)), "화정1동 행정복지센터 3층")
    set_agenda(store, staff, m.id, [{"proposal_id": i} for i in ids])
    publish_meeting(store, staff, m.id)
    return m.id, ids


def test_presentation_mode_and_the_packet(meeting_app, chromium_browser, artifacts_dir, tmp_path):
    import pypdf
    import pypdfium2

    base, store = meeting_app
    meeting_id, ids = a_published_meeting(store)
    s = Session(chromium_browser, base, artifacts_dir, "centre")
    s.shots = artifacts_dir / "meetings"
    s.shots.mkdir(parents=True, exist_ok=True)
    try:
        s.sign_in("demo-centre")
        page = s.page
        page.get_by_role("link", name="발표 모드", exact=True).click()
        page.wait_for_url(lambda url: url.endswith("/present"), timeout=30_000)
        s.idle(1.5)
        page.locator(MAP_IFRAME).wait_for(timeout=60_000)
        s.map.locator(".leaflet-container").wait_for(timeout=60_000)
        assert page.get_by_role("heading", name="안건 1").count() >= 1 or page.get_by_text("안건 1.").count() >= 1
        assert page.get_by_text("1 / 3").count() == 1
        s.shot("presentation_item1")
        page.get_by_role("button", name="다음 ▶").click()
        s.idle(1.5)
        assert page.get_by_text("2 / 3").count() == 1 and page.get_by_text("화정역 자전거 보관대").count() >= 1
        s.map.locator(".leaflet-container").wait_for(timeout=60_000)
        s.shot("presentation_item2")
        page.get_by_role("button", name="다음 ▶").click()
        s.idle(1.5)
        assert page.get_by_text("3 / 3").count() == 1
        assert page.get_by_role("button", name="다음 ▶").is_disabled()
        page.get_by_role("button", name="◀ 이전").click()
        s.idle(1.5)
        assert page.get_by_text("2 / 3").count() == 1
        s.shot("presentation_back")
        # the packet, made and downloaded from the meetings page
        page.get_by_role("link", name="회의 (주민센터)", exact=True).click()
        page.wait_for_url(lambda url: url.endswith("/meetings"), timeout=30_000)
        s.idle(1.5)
        page.get_by_role("tab", name="회의 자료집").click()
        s.idle()
        page.get_by_role("button", name="자료집 만들기").click()
        s.idle(3.0)
        page.get_by_text("자료집을 만들었습니다").wait_for(timeout=60_000)
        s.shot("packet_made")
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="PDF 내려받기").click()
        pdf_path = tmp_path / "packet.pdf"
        info.value.save_as(pdf_path)
        reader = pypdf.PdfReader(str(pdf_path))
        text = "\n".join(p.extract_text() for p in reader.pages)
        assert "화정1동" in text and "화정 놀이터 그늘막" in text and "demo-r002" not in text
        pdf = pypdfium2.PdfDocument(str(pdf_path))
        for n in range(len(pdf)):
            pdf[n].render(scale=1.2).to_pil().save(s.shots / f"packet_page_{n + 1:02d}.png")
        assert len(pdf) >= 5  # cover, catchment map, three items, quota table
        s.assert_clean()
    finally:
        s.close()
