"""Two app instances behind a (notional) load balancer, sharing one PostGIS database.

The deployment of ``docs/deployment.md`` on one machine: the schema is
migrated once by a release step, then two ``streamlit run`` processes on
different ports start with ``GOYANG_MIGRATE=off``. A resident on instance A
draws and submits a proposal; a resident on instance B, whose process had
already cached the map, sees it after the next rerun; the proposal was
stored once. No request leaves localhost.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from store import Store
from store.migrate import upgrade
from tests.browser.conftest import ROOT, running_app
from tests.browser.test_residents_flow import FIND_MAP, Session, fill_form, newest_by_title

pytestmark = [pytest.mark.browser, pytest.mark.postgis]


def titles_on_map(s: Session) -> list[str]:
    """Titles of the proposals the map of this session draws (the layer's GeoJSON properties)."""
    return s.map_frame().evaluate(
        f"""() => {{
            const m = {FIND_MAP}; const out = [];
            m.eachLayer(l => {{ if (l.feature && l.feature.properties && l.feature.properties.t) out.push(l.feature.properties.t); }});
            return out;
        }}"""
    )


def in_view_count(s: Session) -> int:
    text = s.page.get_by_text("지금 보이는 지역의 제안").first.inner_text()
    return int(text.split(":")[1].split("건")[0].strip().replace(",", ""))


def test_a_proposal_submitted_on_one_instance_appears_on_the_other(chromium_browser, local_assets, postgis_url, tmp_path_factory, artifacts_dir):
    # the release step: migrate once, load the demo data once
    upgrade(postgis_url)
    env = dict(os.environ, DATABASE_URL=postgis_url, GOYANG_RASTER_DIR=str(tmp_path_factory.mktemp("rasters")))
    subprocess.run([sys.executable, "-m", "planning", "seed-demo", "--proposals", "20"], cwd=ROOT, env=env, check=True, capture_output=True)
    shared = {"GOYANG_MIGRATE": "off", "GOYANG_RASTER_DIR": env["GOYANG_RASTER_DIR"]}
    store = Store.open(postgis_url, migrate=False)
    with running_app(tmp_path_factory.mktemp("instance-a"), postgis_url, demo_proposals=None, env_extra=shared) as base_a, \
            running_app(tmp_path_factory.mktemp("instance-b"), postgis_url, demo_proposals=None, env_extra=shared) as base_b:
        assert base_a != base_b
        a = Session(chromium_browser, base_a, artifacts_dir, "instance_a")
        b = Session(chromium_browser, base_b, artifacts_dir, "instance_b")
        try:
            b.sign_in("demo-r004")  # B's process now holds the map of the city in its cache
            before = in_view_count(b)
            assert before > 0
            a.sign_in("demo-resident")
            a.draw_polygon([(-40, -30), (50, -30), (50, 40), (-40, 40)])
            title = f"두 서버 테스트 {int(time.time())}"
            fill_form(a, title, "A 서버에서 낸 제안입니다.")
            stored = newest_by_title(store, title)
            assert stored is not None, "instance A did not store the proposal"

            # B: a new page load in B's process (its map cache was filled above) shows it, because
            # the cache keys on the data versions in the shared database; the old 30-second cache would not
            time.sleep(1.2)  # B reads the versions at most once a second
            b.page.reload()
            b.idle(2.0)
            b.map.locator(".leaflet-container").wait_for(timeout=60_000)
            deadline = time.monotonic() + 30
            while title not in titles_on_map(b) and time.monotonic() < deadline:
                time.sleep(1.0)
            b.shot("sees_the_new_proposal")
            assert title in titles_on_map(b), "instance B does not show the proposal submitted on A"
            assert in_view_count(b) == before + 1
            with store.transaction() as tx:
                assert [p.id for p in tx.proposals.list() if p.title == title] == [stored.id]  # stored once
            a.assert_clean()
            b.assert_clean()
        finally:
            a.close()
            b.close()
            store.dispose()
