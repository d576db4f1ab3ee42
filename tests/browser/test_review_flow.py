"""A planner in Chromium: filter the review set, change statuses in bulk, open a cluster card,
shortlist its proposals, and download the density GeoTIFF.

This test runs its own app and database (it changes statuses). Screenshots go
to ``test-artifacts/review/``; no request may leave localhost.
"""
from __future__ import annotations

import time

import pytest
import rasterio

from planning.proposals import submit_proposal
from planning.review import ReviewFilter, review_frame
from tests.browser.conftest import actor_named as actor
from tests.browser.conftest import own_app
from tests.browser.test_residents_flow import Session

pytestmark = pytest.mark.browser

LON, LAT = 126.8330, 37.6221  # 행신1동
GROUP = [(LON + dx * 0.0004, LAT + dy * 0.0003) for dx, dy in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (2, 1)]]


@pytest.fixture(scope="module")
def review_app(tmp_path_factory):
    with own_app(tmp_path_factory, "review-app", demo_proposals=30) as app:
        yield app



def statuses(store, ids):
    with store.transaction() as tx:
        return {pid: tx.proposals.get(pid).status for pid in ids}


def wait_until(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def test_planner_filters_clusters_shortlists_and_downloads_the_raster(review_app, chromium_browser, artifacts_dir, tmp_path):
    base, store = review_app
    resident = actor(store, "demo-r005")
    ids = [
        submit_proposal(store, resident, {"type": "Point", "coordinates": [lon, lat]}, f"행신 숲길 정비 {i}", "숲길에 나무를 심어 주세요. 공원 산책로", "environment", "area", 3_000_000)
        for i, (lon, lat) in enumerate(GROUP)
    ]
    s = Session(chromium_browser, base, artifacts_dir, "planner")
    s.shots = artifacts_dir / "review"
    s.shots.mkdir(parents=True, exist_ok=True)
    try:
        s.sign_in("demo-planner")
        page = s.page
        # through the sidebar: a new page load would be a new, signed-out session
        page.get_by_role("link", name="검토 (도시계획가)", exact=True).click()
        page.wait_for_url(lambda url: url.endswith("/review"), timeout=30_000)
        s.idle(1.5)
        page.get_by_text("제안 검토").first.wait_for(timeout=30_000)
        # filter: the environment & transport category only
        page.locator("[data-testid='stMultiSelect']").filter(has_text="분야").click()
        page.get_by_role("option", name="환경·교통").click()
        page.keyboard.press("Escape")
        s.idle(1.5)
        s.shot("filtered")
        planner = actor(store, "demo-planner")
        expected = review_frame(store, planner, ReviewFilter(categories=("environment",)))
        assert page.get_by_text(f"거른 제안 {len(expected)}건").count() == 1
        # bulk: the whole filtered set goes under review
        page.get_by_text(f"거른 제안 모두 ({len(expected)}건)").click()
        s.idle()
        page.get_by_role("button", name="상태 바꾸기").click()
        s.idle(1.5)
        assert wait_until(lambda: set(statuses(store, ids).values()) == {"under_review"}), statuses(store, ids)
        s.shot("under_review")
        # the cluster card of the seeded group, then shortlist its proposals
        page.get_by_role("tab", name="군집").click()
        s.idle()
        card = page.locator("[data-testid='stExpander']").filter(has_text="제안 6건").first
        card.click()
        s.idle()
        assert card.get_by_text("행신1동").count() >= 1
        assert card.get_by_text(f"#{ids[0]}").count() >= 1
        s.shot("cluster_card")
        card.get_by_role("button", name="이 군집의 제안을 회의에 상정").click()
        s.idle(1.5)
        assert wait_until(lambda: set(statuses(store, ids).values()) == {"shortlisted"}), statuses(store, ids)
        s.shot("shortlisted")
        # the density raster, downloaded as a GeoTIFF
        page.get_by_role("tab", name="밀도 지도").click()
        s.idle()
        page.get_by_role("button", name="밀도 지도 만들기").click()
        s.idle(2.0)
        s.shot("density")
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name="GeoTIFF 내려받기 (QGIS용)").click()
        path = tmp_path / "density.tif"
        info.value.save_as(path)
        with rasterio.open(path) as src:
            assert src.crs.to_epsg() == 5179
            total = float(src.read(1, masked=True).sum())
        assert total == pytest.approx(len(review_frame(store, planner, ReviewFilter(categories=("environment",)))))
        s.assert_clean()
    finally:
        s.close()
