"""The app's map draws in a real browser with no request leaving localhost."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
# SVG paths per Leaflet pane (layers.basemap.PANES); budget districts start hidden
EXPECTED_PATHS = {"goyang-city": 1, "goyang-gu": 3, "goyang-legal": 53, "goyang-centres": 44}
COUNT_PATHS = "pane => document.querySelectorAll(`.leaflet-${pane}-pane svg path`).length"


def _leaves_machine(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
        return False
    return (parsed.hostname or "") not in LOCAL_HOSTS


def test_map_draws_offline(app_url, chromium_browser, artifacts_dir):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 1000}, locale="ko-KR")
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    try:
        page = context.new_page()
        # page-level events include the requests of every frame (the map iframe too)
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        page.goto(app_url, wait_until="domcontentloaded")
        page.wait_for_selector(IDLE, timeout=90_000)
        problems = page.locator("[data-testid='stException'], [data-testid='stAlert']")
        assert problems.count() == 0, problems.first.inner_text()
        assert page.get_by_text("고양시 주민참여 지도").first.is_visible()

        iframe = page.wait_for_selector(MAP_IFRAME, timeout=60_000)
        frame = iframe.content_frame()
        assert frame is not None
        frame.wait_for_selector(".leaflet-container", timeout=60_000)
        frame.wait_for_function(
            "document.querySelectorAll('.leaflet-goyang-legal-pane svg path').length >= 53", timeout=60_000
        )
        drawn = {pane: frame.evaluate(COUNT_PATHS, pane) for pane in EXPECTED_PATHS}
        assert drawn == EXPECTED_PATHS
        assert frame.evaluate(COUNT_PATHS, "goyang-districts") == 0

        box = iframe.bounding_box()
        assert box is not None and box["height"] > 100 and box["width"] > 100
        map_box = frame.locator(".leaflet-container").bounding_box()
        assert map_box is not None and map_box["height"] > 100

        # legend, layer control and hub labels are drawn
        assert frame.locator(".goyang-legend").first.is_visible()
        assert frame.locator(".leaflet-control-layers").is_visible()
        assert frame.locator(".goyang-hub-label").count() == 11

        # the first hub label is 주교동's (hubs in code order); its circle is just left of it
        label = frame.locator(".goyang-hub-label").first.bounding_box()
        assert label is not None
        hub_x, hub_y = label["x"] - 9, label["y"] + label["height"] / 2
        # just below the hub: a legal dong
        page.mouse.move(hub_x, hub_y + 18)
        frame.locator(".leaflet-tooltip", has_text="법정동").wait_for(timeout=10_000)
        # on the hub: its centre
        page.mouse.move(hub_x, hub_y)
        tooltip = frame.locator(".leaflet-tooltip", has_text="거점")
        tooltip.wait_for(timeout=10_000)
        assert "주교동 행정복지센터" in tooltip.inner_text()

        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts_dir / "map_offline.png"), full_page=True)

        # the layer control turns on the (initially hidden) budget districts: 44 more paths
        frame.locator(".leaflet-control-layers").hover()
        frame.get_by_text("Budget districts").click()
        frame.wait_for_function(
            "document.querySelectorAll('.leaflet-goyang-districts-pane svg path').length == 44", timeout=10_000
        )
        assert frame.evaluate(COUNT_PATHS, "goyang-centres") == 44  # still there, above the districts
        page.mouse.move(hub_x, hub_y + 18)
        district_tip = frame.locator(".leaflet-tooltip", has_text="근사 경계 (approximate)")
        district_tip.wait_for(timeout=10_000)
        assert "주교동" in district_tip.inner_text()
        page.mouse.move(0, 0)
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts_dir / "map_offline_districts.png"), full_page=True)
    finally:
        context.close()

    leaving = sorted({u for u in requests if _leaves_machine(u)})
    assert not leaving, f"requests left localhost: {leaving}"
    static_requests = [u for u in requests if "/app/static/vendor/" in u]
    assert any(u.endswith("/leaflet.js") for u in static_requests), static_requests
    assert not failed, failed
    assert not errors, errors
