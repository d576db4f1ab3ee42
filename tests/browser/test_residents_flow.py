"""A resident in Chromium: sign in, draw a polygon with the toolbar, submit; comment and support; hostile titles.

The app runs as the README starts it (demo data, then ``streamlit run``);
each step is photographed into ``test-artifacts/residents/``. No request may
leave localhost, no dialog may open, no script error may happen.
"""
from __future__ import annotations

import time
from urllib.parse import urlparse

import numpy as np
import pytest
import shapely

from geo.crs import to_metric
from store import Store

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
XSS = "<img src=x onerror=alert(1)>${alert(2)}"
FIND_MAP = "Object.keys(window).map(k => window[k]).find(v => v instanceof L.Map)"


class Session:
    """One browser context with the checks every test needs."""

    def __init__(self, browser, base: str, shots, name: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="ko-KR")
        self.page = self.context.new_page()
        self.base = base
        self.shots = shots / "residents"
        self.shots.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.step = 0
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", self._request)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _request(self, req) -> None:
        u = urlparse(req.url)
        if u.scheme not in ("data", "blob", "about") and (u.hostname or "") not in LOCAL_HOSTS:
            self.outside.append(req.url)

    def idle(self, settle: float = 0.6) -> None:
        time.sleep(settle)
        self.page.wait_for_selector(IDLE, timeout=60_000)

    def shot(self, label: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.shots / f"{self.name}_{self.step:02d}_{label}.png"), full_page=True)

    @property
    def map(self):
        return self.page.frame_locator(MAP_IFRAME)

    def sign_in(self, username: str, password: str = "goyang-demo-2026") -> None:
        self.page.goto(f"{self.base}/account")
        self.idle()
        self.page.get_by_label("아이디").first.fill(username)
        self.page.get_by_label("비밀번호").first.fill(password)
        self.shot("sign_in")
        self.page.get_by_role("button", name="로그인").last.click()
        self.page.wait_for_url(lambda url: "/account" not in url, timeout=30_000)
        self.idle()
        self.map.locator(".leaflet-container").wait_for(timeout=60_000)
        self.page.wait_for_selector(MAP_IFRAME, state="visible")
        time.sleep(1.5)

    def map_frame(self):
        return self.page.frame(url=lambda u: "streamlit_folium" in u or "component" in u) or next(
            f for f in self.page.frames if f != self.page.main_frame and f.evaluate("typeof L !== 'undefined'")
        )

    def draw_polygon(self, offsets: list[tuple[int, int]]) -> list[tuple[float, float]]:
        """Draw with the toolbar's polygon tool; returns the clicked vertices as (lon, lat)."""
        self.map.get_by_role("link", name="다각형 그리기").click()
        box = self.map.locator(".leaflet-container").first.bounding_box()
        cx, cy = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
        frame = self.map_frame()
        vertices = []
        for dx, dy in offsets:
            self.page.mouse.click(cx + dx, cy + dy)
            time.sleep(0.25)
            lat, lng = frame.evaluate(
                f"([x, y]) => {{ const m = {FIND_MAP}; const p = m.containerPointToLatLng([x, y]); return [p.lat, p.lng]; }}",
                [cx + dx - box["x"], cy + dy - box["y"]],
            )
            vertices.append((lng, lat))
        self.shot("drawing")
        self.map.get_by_role("link", name="완료").click()
        self.idle(1.5)
        return vertices

    def close(self) -> None:
        self.context.close()

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left localhost: {self.outside[:5]}"
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.errors == [], f"script errors: {self.errors[:5]}"


@pytest.fixture
def session(app_url, chromium_browser, artifacts_dir, request):
    s = Session(chromium_browser, app_url, artifacts_dir, request.node.name)
    yield s
    s.close()


@pytest.fixture(scope="module")
def app_store(app_database_url):
    store = Store.open(app_database_url, migrate=False)
    yield store
    store.dispose()


def newest_by_title(store: Store, title: str, wait_s: float = 20.0):
    """The newest proposal with this title, waiting up to ``wait_s`` for the app to store it."""
    deadline = time.monotonic() + wait_s
    while True:
        with store.transaction() as tx:
            found = [p for p in tx.proposals.list() if p.title == title]
        if found or time.monotonic() > deadline:
            return found[0] if found else None
        time.sleep(0.5)


def fill_form(s: Session, title: str, body: str) -> None:
    page = s.page
    page.get_by_label("제목").fill(title)
    page.get_by_label("설명").fill(body)
    page.get_by_label("예상 비용 (원, 선택)").fill("12000000")
    s.shot("form")
    page.get_by_role("button", name="제안 제출").click()
    s.idle(2.0)


def test_resident_draws_and_submits_a_polygon(session, app_store):
    s = session
    s.sign_in("demo-resident")
    s.shot("map")
    vertices = s.draw_polygon([(-40, -30), (50, -30), (50, 40), (-40, 40)])
    assert s.page.get_by_text("이 제안의 위치").count() == 1
    s.shot("placement")
    title = f"브라우저 테스트 쉼터 {int(time.time())}"
    fill_form(s, title, "지도에서 그린 다각형 제안입니다.")
    s.shot("submitted")
    p = newest_by_title(app_store, title)
    assert p is not None, "the proposal was not stored"
    # the stored polygon is the one drawn (the app received Leaflet's lon/lat, GeoJSON order)
    drawn = shapely.Polygon(vertices)
    assert p.geometry.geom_type == "Polygon"
    assert p.geometry.symmetric_difference(drawn).area / drawn.area < 1e-3
    stored = shapely.get_coordinates(p.geometry)[:-1]
    for lon, lat in vertices:  # every clicked vertex is in the stored ring, within ~1 m, in lon/lat order
        assert np.min(np.hypot(stored[:, 0] - lon, stored[:, 1] - lat)) < 1e-5
    # district: the largest overlap, checked by brute force on the stored districts
    with app_store.transaction() as tx:
        districts = tx.districts.list()
        hubs = tx.centres.list(hubs_only=True)
    g = to_metric(p.geometry)
    overlaps = {d.code: to_metric(d.geometry).intersection(g).area for d in districts}
    assert p.district_code == max(overlaps, key=lambda c: (overlaps[c], -int(c)))
    dist = {h.code: g.distance(to_metric(h.geometry)) for h in hubs}
    assert p.hub_code == min(dist, key=lambda c: (dist[c], c))
    assert p.author_id is not None and p.status == "submitted" and p.cost_krw == 12_000_000
    # the card of the new proposal shows next to the map
    assert s.page.get_by_text(f"#{p.id}").count() >= 1
    s.assert_clean()


def test_resident_comments_and_supports(session, app_store):
    s = session
    with app_store.transaction() as tx:
        target = next(p for p in tx.proposals.list() if p.geometry.geom_type == "Point")
        before = tx.supports.count_for(target.id)
        me = tx.residents.by_username("demo-r002").id
        had = tx.supports.has(target.id, me)
    s.sign_in("demo-r002")
    # open the card by clicking the proposal on the map
    frame = s.map_frame()
    frame.evaluate(f"() => {{ const m = {FIND_MAP}; m.setView([{target.geometry.y}, {target.geometry.x}], 17); }}")
    s.idle(2.0)
    box = s.map.locator(".leaflet-container").first.bounding_box()
    x, y = frame.evaluate(
        f"() => {{ const m = {FIND_MAP}; const p = m.latLngToContainerPoint([{target.geometry.y}, {target.geometry.x}]); return [p.x, p.y]; }}"
    )
    s.page.mouse.click(box["x"] + x, box["y"] + y)
    s.idle(2.5)
    s.shot("card")
    assert s.page.get_by_text(f"#{target.id}").count() >= 1, "the card did not open"
    button = "공감 취소" if had else "공감하기"
    s.page.get_by_role("button", name=button).click()
    s.idle(1.5)
    with app_store.transaction() as tx:
        assert tx.supports.count_for(target.id) == before + (-1 if had else 1)
    s.page.get_by_label("댓글 달기").fill("브라우저에서 남긴 댓글입니다")
    s.page.get_by_role("button", name="댓글 달기").click()
    s.idle(1.5)
    s.shot("commented")
    with app_store.transaction() as tx:
        assert "브라우저에서 남긴 댓글입니다" in [c.body for c in tx.comments.list_for(target.id)]
    assert s.page.get_by_text("브라우저에서 남긴 댓글입니다").count() == 1
    s.assert_clean()


def test_hostile_title_shows_as_text_and_runs_nothing(session, app_store):
    s = session
    s.sign_in("demo-r003")
    s.draw_polygon([(-30, -20), (30, -20), (30, 20), (-30, 20)])
    fill_form(s, XSS, "`${alert(3)}` <script>alert(4)</script>")
    p = newest_by_title(app_store, XSS)
    assert p is not None
    s.idle(1.0)
    s.shot("card")
    # the card shows the title literally
    assert s.page.get_by_text(XSS, exact=False).count() >= 1
    assert s.page.locator("img[src='x']").count() == 0
    # the map's tooltip holds it as text too
    frame = s.map_frame()
    found = frame.evaluate(
        "(t) => Array.from(document.querySelectorAll('.leaflet-interactive')).length > 0 && "
        "!document.querySelector('img[src=\"x\"]')",
        XSS,
    )
    assert found
    s.page.reload()
    s.idle(2.0)
    s.shot("after_reload")
    s.assert_clean()


def test_search_jumps_to_a_dong_without_reloading_the_map(session):
    s = session
    s.page.goto(s.base)
    s.idle(1.5)
    s.map.locator(".leaflet-container").wait_for(timeout=60_000)
    time.sleep(1.0)
    frame = s.map_frame()
    frame.evaluate("() => { window.__sameMap = true; }")  # gone if the iframe reloads
    s.page.get_by_label("동 이름 또는 행정코드로 찾기").fill("탄현1동")
    s.page.keyboard.press("Enter")
    s.idle(2.5)
    s.shot("searched")
    lat, lon, zoom, same = frame.evaluate(
        f"() => {{ const m = {FIND_MAP}; const c = m.getCenter(); return [c.lat, c.lng, m.getZoom(), window.__sameMap === true]; }}"
    )
    # 탄현1동's representative point is at 126.766695, 37.694293
    assert abs(lat - 37.694) < 0.02 and abs(lon - 126.767) < 0.02, (lat, lon)
    assert zoom >= 13
    assert same, "the map iframe reloaded"
    s.assert_clean()
