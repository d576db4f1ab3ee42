"""The administration page in Chromium: every tab opens without a script error in any frame (issue 8).

A streamlit-folium map drawn inside a tab that is not open has no size, so
Leaflet computed ``Invalid LatLng object: (NaN, NaN)``; switching tabs redrew
the same map HTML in its frame (``Identifier 'layer_control_div_N' has already
been declared``). The admin signs in, opens each of the five tabs, goes round
them a second time, and after every step no console error and no uncaught
error happened in the page or in any frame; the villages map, when shown, has
a size and a finite centre. Screenshots go to ``test-artifacts/admin/``.
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import own_app
from tests.browser.test_residents_flow import FIND_MAP, MAP_IFRAME, Session

pytestmark = pytest.mark.browser

TABS = ["거점 지정", "거점 권역", "마을", "래스터 레이어", "계정"]


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    with own_app(tmp_path_factory, "admin-tabs-app", demo_proposals=5) as app:
        yield app


def test_every_admin_tab_opens_without_a_script_error(admin_app, chromium_browser, artifacts_dir):
    base, _store = admin_app
    s = Session(chromium_browser, base, artifacts_dir, "admin")
    s.shots = artifacts_dir / "admin"
    s.shots.mkdir(parents=True, exist_ok=True)
    console: list[str] = []  # console.error from the page and every (nested) frame
    s.page.on("console", lambda msg: console.append(f"{msg.text} @ {msg.location.get('url', '')}") if msg.type == "error" else None)
    try:
        s.sign_in("demo-admin")
        # Streamlit's own start-up probes from /account (404s on /account/_stcore/...) are not the admin page's
        console.clear()
        s.page.get_by_role("link", name="관리", exact=True).click()
        s.page.wait_for_url(lambda url: url.rstrip("/").endswith("/admin"), timeout=30_000)
        s.idle(1.5)
        assert [t.inner_text().strip() for t in s.page.get_by_role("tab").all()] == TABS
        for round_ in (1, 2):
            for label in TABS:
                s.page.get_by_role("tab", name=label, exact=True).click()
                s.idle(1.5)
                if label == "마을":  # the villages map: drawn, with a size and a finite centre
                    s.map.locator(".leaflet-container").wait_for(timeout=60_000)
                    s.page.wait_for_selector(MAP_IFRAME, state="visible")
                    s.idle(1.5)
                    size, centre = s.map_frame().evaluate(
                        f"() => {{ const m = {FIND_MAP}; const c = m.getCenter(); const z = m.getSize(); return [[z.x, z.y], [c.lat, c.lng]]; }}"
                    )
                    assert min(size) > 0, f"the villages map has no size: {size}"
                    assert 37.4 < centre[0] < 37.9 and 126.6 < centre[1] < 127.1, f"the villages map is not on Goyang: {centre}"
                s.shot(f"round{round_}_{label}")
                assert s.page.get_by_role("tab", name=label, exact=True).get_attribute("aria-selected") == "true"
                assert console == [], f"console errors after opening {label!r} (round {round_}): {console[:5]}"
                s.assert_clean()  # no uncaught error (pageerror), no dialog, no request off localhost
    finally:
        s.close()
