"""A resident votes in Chromium within the district's quota, then sees the published allocation.

This test runs its own app and database: it moves a budget cycle into voting,
which would close submissions for the other browser tests.
"""
from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from planning.budget import (
    advance_phase,
    create_cycle,
    override_quota,
    publish_quotas,
    review_proposal,
    run_allocation,
    set_quotas_by_rule,
)
from planning.proposals import submit_proposal
from tests.browser.conftest import actor_named as actor
from tests.browser.conftest import own_app

pytestmark = pytest.mark.browser

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
M = 1_000_000
HOME = "4128164000"  # demo-resident lives in 행신1동
LON, LAT = 126.833004, 37.622148


@pytest.fixture(scope="module")
def budget_app(tmp_path_factory):
    with own_app(tmp_path_factory, "budget-app", demo_proposals=20) as app:
        yield app



def test_resident_votes_within_the_quota_and_sees_the_result(budget_app, chromium_browser, artifacts_dir):
    base, store = budget_app
    admin, planner, resident = actor(store, "demo-admin"), actor(store, "demo-planner"), actor(store, "demo-r004")
    # a cycle in voting, with two reviewed proposals in 행신1동 and a 40,000,000 KRW quota there
    cid = create_cycle(store, admin, 2027)
    bench = submit_proposal(store, resident, {"type": "Point", "coordinates": [LON, LAT]}, "행신1동 쉼터 벤치", "벤치", "welfare", "area", 20 * M)
    light = submit_proposal(store, resident, {"type": "Point", "coordinates": [LON + 0.001, LAT]}, "행신1동 골목 가로등", "가로등", "urban", "individual", 30 * M)
    set_quotas_by_rule(store, admin, cid, 2_000 * M, 20 * M, 0.5)
    override_quota(store, admin, cid, HOME, 40 * M)
    publish_quotas(store, admin, cid)
    advance_phase(store, admin, cid)  # review
    review_proposal(store, planner, cid, bench, feasible=True, official_cost_krw=20 * M, construction=False)
    review_proposal(store, planner, cid, light, feasible=True, official_cost_krw=30 * M, construction=True)
    advance_phase(store, admin, cid)  # assemblies
    advance_phase(store, admin, cid)  # voting

    shots = artifacts_dir / "budget"
    shots.mkdir(parents=True, exist_ok=True)
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1300}, locale="ko-KR")
    outside, dialogs = [], []
    context.on("request", lambda r: outside.append(r.url) if urlparse(r.url).scheme not in ("data", "blob", "about") and (urlparse(r.url).hostname or "") not in LOCAL_HOSTS else None)
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(f"{base}/account")
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_label("아이디").first.fill("demo-resident")
        page.get_by_label("비밀번호").first.fill("goyang-demo-2026")
        page.get_by_role("button", name="로그인").last.click()
        page.wait_for_url(lambda u: "/account" not in u, timeout=30_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        time.sleep(1.0)
        # through the navigation (a fresh page load would start a new, signed-out session)
        page.get_by_role("link", name="주민참여예산").click()
        time.sleep(1.0)
        page.wait_for_selector(IDLE, timeout=60_000)
        def ballot(title):
            return page.locator("[data-testid='stCheckbox']").filter(has_text=title)

        ballot("행신1동 쉼터 벤치").wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "01_ballot.png"), full_page=True)
        # both together exceed the quota: the page says so and the store refuses
        ballot("행신1동 쉼터 벤치").click()
        time.sleep(0.8)
        page.wait_for_selector(IDLE, timeout=60_000)
        ballot("행신1동 골목 가로등").click()
        time.sleep(0.8)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("button", name="투표하기").click()
        time.sleep(1.0)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.screenshot(path=str(shots / "02_over_quota.png"), full_page=True)
        with store.transaction() as tx:
            assert tx.votes.counts(cid) == {} or sum(tx.votes.counts(cid).values()) == 0
        # untick the street light: the bench fits
        ballot("행신1동 골목 가로등").click()
        time.sleep(0.8)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("button", name="투표하기").click()
        time.sleep(1.0)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_text("투표했습니다").wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "03_voted.png"), full_page=True)
        with store.transaction() as tx:
            assert tx.votes.counts(cid).get(bench) == 1 and not tx.votes.counts(cid).get(light)

        # the city allocates and publishes
        advance_phase(store, admin, cid)  # allocation
        decisions = {d.id: d for d in run_allocation(store, admin, cid)}
        advance_phase(store, admin, cid)  # results
        assert decisions[bench].selected and not decisions[light].selected  # 20M fits 40M; then 30M does not fit 20M left
        page.get_by_role("link", name="주민 지도").click()
        time.sleep(1.0)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("link", name="주민참여예산").click()
        time.sleep(1.5)
        page.wait_for_selector(IDLE, timeout=60_000)
        summary = page.get_by_text("개 선정")
        summary.first.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "04_results.png"), full_page=True)
        with store.transaction() as tx:
            n = len(tx.results.list(cid))
        assert page.get_by_text(f"제안 {n}개 중").count() >= 1
    finally:
        context.close()
    assert outside == [], outside[:5]
    assert dialogs == []
