"""Script payloads in every user field, shown to every role in Chromium: none runs (issue 8, "Bad input").

Own app and database. The payloads of ``tests/layers/test_escape_payloads.py``
are planted through the service layer (and, for what it refuses, such as a
``javascript:`` photo link left from older data, straight into the store):
proposal titles, descriptions, photo links, comments and replies, residents'
display names, a village name, a meeting's title, place, notes, a cluster
item's title, minutes notes, flag (moderation) reasons, a hiding reason and a
rejection reason. Then an anonymous visitor, the author, a planner and centre
staff visit every page; on the map each payload proposal's tooltip and popup
are opened. After every page: no dialog opened, ``window.__xss`` is undefined
in the page and in every (nested) frame, no element a payload would create
exists, and the payloads are there as literal text. Screenshots go to
``test-artifacts/xss/``.
"""
from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from shapely.geometry import box, mapping

from geo.crs import lonlat_to_metric
from layers.rasters import RasterRegistry, write_geotiff
from planning.accounts import hash_password
from planning.auth import actor_for
from planning.demo import DEMO_PASSWORD
from planning.meetings import create_meeting, meeting_view, publish_meeting, record_minutes, set_agenda
from planning.moderation import flag, hide
from planning.proposals import add_comment, submit_proposal
from planning.reference_layers import upload_raster
from planning.villages import add_village
from planning.workflow import transition
from tests.browser.conftest import own_app
from tests.browser.test_residents_flow import FIND_MAP, MAP_IFRAME, Session
from tests.layers.test_escape_payloads import ALL, PAYLOADS

pytestmark = pytest.mark.browser

HUB = "4128162100"  # 화정1동: demo-centre's hub
LON, LAT = 126.8330, 37.6340
#: Payloads that would make an element or run code: none of these may exist as markup in any frame.
INJECTED = "img[src='x'], svg[onload], [onerror], a[href^='javascript:'], iframe[srcdoc]"


@pytest.fixture(scope="module")
def xss_app(tmp_path_factory):
    with own_app(tmp_path_factory, "xss-app", demo_proposals=8) as app:
        yield app


def plant(store) -> dict:
    """Payloads in every user field; returns the ids the checks need."""
    pw = hash_password(DEMO_PASSWORD)
    with store.transaction() as tx:
        author = tx.residents.add("xss-author", PAYLOADS[1], password_hash=pw, home_district_code=HUB).id
        other = tx.residents.add("xss-neighbour", PAYLOADS[5], password_hash=pw, home_district_code=HUB).id
        staff = tx.residents.add("xss-centre", PAYLOADS[3], role="centre_staff", password_hash=pw, hub_code=HUB).id
        planner = tx.residents.by_username("demo-planner").id
        admin = tx.residents.by_username("demo-admin").id
    author, other, staff = (actor_for(store, i) for i in (author, other, staff))
    planner, admin = actor_for(store, planner), actor_for(store, admin)
    ids = []
    for i, title in enumerate(PAYLOADS):
        lon, lat = LON + 0.0012 * (i % 3), LAT + 0.0009 * (i // 3)
        drawn = mapping(box(lon, lat, lon + 0.0004, lat + 0.0003)) if i % 4 == 2 else {"type": "Point", "coordinates": [lon, lat]}
        ids.append(submit_proposal(store, author, drawn, title, f"{ALL} #{i}", "environment", "area", 2_000_000 + i))
    with store.transaction() as tx:  # a link the service refuses today, as older data might hold it
        tx.proposals.update(ids[4], photo_url=PAYLOADS[4])
    for pid in ids:
        c = add_comment(store, other, pid, ALL)
        add_comment(store, author, pid, f"{PAYLOADS[2]} {PAYLOADS[6]}", parent_id=c)
    comment = add_comment(store, other, ids[0], PAYLOADS[0])
    flag(store, other, "proposal", ids[1], PAYLOADS[1])
    flag(store, author, "comment", comment, PAYLOADS[5])
    flag(store, other, "proposal", ids[8], PAYLOADS[2])
    hide(store, planner, "proposal", ids[8], PAYLOADS[3])
    # the workflow: a rejection with a payload reason; the first three go to a meeting
    transition(store, planner, ids[7], "under_review")
    transition(store, planner, ids[7], "rejected", PAYLOADS[6])
    for pid in ids[:5]:
        transition(store, planner, pid, "under_review")
        transition(store, planner, pid, "shortlisted")
    m = create_meeting(store, staff, HUB, "hub_meeting", datetime.now(UTC) + timedelta(days=3), PAYLOADS[4], title=PAYLOADS[0], notes=ALL)
    set_agenda(store, staff, m.id, [{"proposal_id": ids[0]}, {"proposal_id": ids[1]}, {"cluster": ids[2:5], "title": PAYLOADS[5]}])
    publish_meeting(store, staff, m.id)
    first = meeting_view(store, staff, m.id).items[0].id
    record_minutes(store, staff, m.id, first, "deferred", PAYLOADS[3], 4, 1, 0)
    village = add_village(store, admin, PAYLOADS[2], mapping(box(LON - 0.004, LAT - 0.003, LON - 0.001, LAT - 0.001)))
    # an admin's raster layer: payload title and units (the app's registry directory is beside its database)
    registry = RasterRegistry(Path(store.engine.url.database).parent / "rasters")
    x, y = (float(v) for v in lonlat_to_metric(LON, LAT))
    with tempfile.TemporaryDirectory() as tmp:
        tif = write_geotiff(Path(tmp) / "x.tif", np.arange(400, dtype=np.float32).reshape(20, 20), Affine(100.0, 0.0, x - 1000, 0.0, -100.0, y + 1000))
        upload_raster(store, admin, tif.read_bytes(), PAYLOADS[6] + ".tif", PAYLOADS[4], PAYLOADS[0], units=PAYLOADS[1], registry=registry)
    return {"ids": ids, "meeting": m.id, "village": village}


class Visit:
    """One signed-in (or anonymous) browser session and the checks after every page."""

    def __init__(self, browser, base, artifacts_dir, name):
        self.s = Session(browser, base, artifacts_dir, name)
        self.s.shots = artifacts_dir / "xss"
        self.s.shots.mkdir(parents=True, exist_ok=True)
        self.page = self.s.page
        self.checked: list[str] = []

    def goto(self, link: str, url_end: str) -> None:
        """Follow a sidebar link (a new page load would sign out)."""
        self.page.get_by_role("link", name=link, exact=True).click()
        self.page.wait_for_url(lambda url: url.rstrip("/").endswith(url_end), timeout=30_000)
        self.s.idle(1.5)

    def texts(self) -> str:
        """The text of the page and of every frame inside it (hidden parts, e.g. closed expanders, too)."""
        out = []
        for f in self.page.frames:
            try:
                out.append(f.evaluate("() => document.body ? document.body.textContent : ''"))
            except Exception:  # a frame detached while we looked
                continue
        return "\n".join(out)

    def check(self, label: str, *shown: str) -> None:
        """Nothing ran and nothing was injected in any frame; each of ``shown`` is there as literal text."""
        self.s.shot(label)
        frames = 0
        for f in self.page.frames:
            try:
                state = f.evaluate(
                    "(sel) => [typeof window.__xss, document.querySelectorAll(sel).length, location.href]", INJECTED
                )
            except Exception:
                continue
            frames += 1
            assert state[:2] == ["undefined", 0], f"{label}: a payload ran or made markup in frame {state[2]}: {state}"
        assert frames >= 1
        text = self.texts()
        for s in shown:
            assert s in text, f"{label}: {s!r} is not shown as text"
        self.s.assert_clean()
        self.checked.append(label)

    def open_map_items(self, ids: list[int]) -> str:
        """Zoom the map to the planted proposals, open each one's tooltip and popup; returns their texts."""
        self.s.map.locator(".leaflet-container").wait_for(timeout=60_000)
        frame = self.s.map_frame()
        frame.evaluate(f"() => {{ const m = {FIND_MAP}; m.setView([{LAT + 0.0005}, {LON + 0.0012}], 17); }}")
        self.s.idle(2.5)
        frame = self.s.map_frame()
        seen = []
        deadline = time.monotonic() + 30
        while True:
            seen = frame.evaluate(
                """(ids) => {
                    const map = %s; const out = [];
                    map.eachLayer(l => {
                        if (!l.getPopup || !l.getLayers || !l.getPopup() || !l.getTooltip()) { return; }
                        l.eachLayer(c => {
                            const p = (c.feature && c.feature.properties) || {};
                            if (!ids.includes(p.i)) { return; }
                            const at = c.getLatLng ? c.getLatLng() : c.getBounds().getCenter();
                            l.getTooltip()._source = c; l.openTooltip(at);
                            const tip = l.getTooltip().getElement();
                            l.getPopup()._source = c; l.openPopup(at);
                            const pop = l.getPopup().getElement();
                            out.push([p.i, tip ? tip.textContent : '', pop ? pop.textContent : '']);
                            l.closePopup(); l.closeTooltip();
                        });
                    });
                    return out;
                }""" % FIND_MAP,
                ids,
            )
            if len({i for i, _, _ in seen}) >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        assert {i for i, _, _ in seen} >= set(ids), f"not every planted proposal is on the map: {seen}"
        return "\n".join(f"{tip}\n{pop}" for _, tip, pop in seen)

    def click_proposal(self, lon: float, lat: float, pid: int) -> None:
        """A real click on the map, which opens the proposal's popup and its card beside the map."""
        frame = self.s.map_frame()
        box_ = self.s.map.locator(".leaflet-container").first.bounding_box()
        x, y = frame.evaluate(f"() => {{ const m = {FIND_MAP}; const p = m.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }}")
        self.page.mouse.move(box_["x"] + x, box_["y"] + y)
        time.sleep(0.5)
        self.page.mouse.click(box_["x"] + x, box_["y"] + y)
        self.page.locator("h3").filter(has_text=f"#{pid} ").first.wait_for(timeout=45_000)  # the card's heading
        self.s.idle(1.0)

    def close(self) -> None:
        self.s.close()


def _visible_ids(planted: dict) -> list[int]:
    return [pid for i, pid in enumerate(planted["ids"]) if i != 8]  # the 9th is hidden from the public


def test_no_payload_runs_on_any_page_for_any_role(xss_app, chromium_browser, artifacts_dir):
    base, store = xss_app
    planted = plant(store)
    ids = planted["ids"]
    with store.transaction() as tx:
        first = tx.proposals.get(ids[0]).geometry
    # --- anonymous visitor: map (tooltips, popups, a card), budget, public meetings
    v = Visit(chromium_browser, base, artifacts_dir, "anon")
    try:
        v.page.goto(base)
        v.s.idle(1.5)
        shown = v.open_map_items(_visible_ids(planted))
        v.check("anon_map_popups", PAYLOADS[4])  # the raster layer's title, in the layer control
        for payload in PAYLOADS[:8]:
            if payload != PAYLOADS[7]:
                assert payload in shown, f"{payload!r} is not in a map tooltip or popup"
        v.click_proposal(first.x, first.y, ids[0])
        v.check("anon_card", *PAYLOADS[:7])  # the title, the description, the comments and replies
        # switch the raster overlay on: its legend shows the title and the units as text
        switched = v.s.map_frame().evaluate(
            """(title) => {
                const label = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
                    .find(l => l.textContent.includes(title));
                if (!label) { return false; }
                label.querySelector('input').click();
                return true;
            }""",
            PAYLOADS[4],
        )
        assert switched, "the raster layer is not in the layer control"
        time.sleep(1.0)
        v.check("anon_raster_legend", PAYLOADS[4], PAYLOADS[1])
        v.goto("주민참여예산", "/budget")
        v.check("anon_budget")
        v.goto("회의 일정", "/meetings-calendar")
        v.check("anon_public_meetings", PAYLOADS[0], PAYLOADS[4], PAYLOADS[5])  # meeting title, place, cluster item
    finally:
        v.close()
    # --- the author: their names, their proposals with the hiding and rejection reasons
    v = Visit(chromium_browser, base, artifacts_dir, "author")
    try:
        v.s.sign_in("xss-author")
        v.check("author_map", PAYLOADS[1])  # signed in as: the display name
        v.goto("내 제안", "/mine")
        for expander in v.page.locator("[data-testid='stExpander'] summary").all():
            expander.click()
        v.s.idle(1.0)
        v.check("author_mine", *PAYLOADS[:7], PAYLOADS[3])  # titles, the rejection reason, the hiding reason
    finally:
        v.close()
    # --- a planner: map, card with a javascript: photo link, review table, clusters, moderation, budget review
    v = Visit(chromium_browser, base, artifacts_dir, "planner")
    try:
        v.s.sign_in("demo-planner")
        v.open_map_items(_visible_ids(planted))  # the map is the public's: hidden proposals are not on it
        v.check("planner_map")
        with store.transaction() as tx:
            p4 = tx.proposals.get(ids[4]).geometry.representative_point()
        v.open_map_items([ids[4]])
        v.click_proposal(p4.x, p4.y, ids[4])
        v.check("planner_card_photo", PAYLOADS[4])
        v.goto("검토 (도시계획가)", "/review")
        v.check("planner_review_table")
        v.page.get_by_role("tab", name="군집").click()
        v.s.idle(2.0)
        for expander in v.page.locator("[data-testid='stExpander'] summary").all():
            expander.click()
        v.s.idle(1.0)
        v.check("planner_clusters")
        v.page.get_by_role("tab", name="신고·숨김").click()
        v.s.idle(2.0)
        for expander in v.page.locator("[data-testid='stExpander'] summary").all():
            expander.click()
        v.s.idle(1.0)
        v.check("planner_moderation", PAYLOADS[1], PAYLOADS[5], PAYLOADS[0], PAYLOADS[8])  # flag reasons, a flagged comment, a hidden title
        v.goto("예산 검토 (도시계획가)", "/budget-review")
        v.check("planner_budget_review")
    finally:
        v.close()
    # --- centre staff: meetings (every tab), presentation, assemblies
    v = Visit(chromium_browser, base, artifacts_dir, "centre")
    try:
        v.s.sign_in("xss-centre")
        v.check("centre_map", PAYLOADS[3])
        v.goto("회의 (주민센터)", "/meetings")
        v.check("centre_meetings_area")
        for tab in v.page.get_by_role("tab").all()[1:]:
            tab.click()
            v.s.idle(2.0)
            for expander in v.page.locator("[data-testid='stExpander'] summary").all():
                expander.click()
            v.s.idle(0.8)
            v.check(f"centre_meetings_tab_{tab.inner_text().strip()}")
        v.goto("발표 모드", "/present")
        v.page.locator(MAP_IFRAME).wait_for(timeout=60_000)
        v.check("centre_presentation_1", PAYLOADS[0])
        for n in (2, 3):
            v.page.get_by_role("button", name="다음 ▶").click()
            v.s.idle(2.0)
            v.check(f"centre_presentation_{n}")
        v.goto("주민총회 (주민센터)", "/assemblies")
        v.check("centre_assemblies")
    finally:
        v.close()
    # --- an admin: every tab of the administration (villages, rasters, accounts), the budget administration
    v = Visit(chromium_browser, base, artifacts_dir, "admin")
    try:
        v.s.sign_in("demo-admin")
        v.goto("관리", "/admin")
        # only the open tab runs: the villages tab shows the village's name (the pick to delete), the rasters tab
        # the layer's title (the pick to remove); a script error in any tab fails the check
        shown = {"마을": (PAYLOADS[2],), "래스터 레이어": (PAYLOADS[4],)}
        for tab in v.page.get_by_role("tab").all():
            tab.click()
            v.s.idle(1.0)
            label = tab.inner_text().strip()
            v.check(f"admin_tab_{label}", *shown.get(label, ()))
        v.goto("예산 관리", "/budget-admin")
        v.check("admin_budget")
    finally:
        v.close()
    print(json.dumps({"planted": planted}))
