"""The planners' review page in AppTest: filters, table, bulk status changes, clusters, density, areas."""
from __future__ import annotations

import pytest

from planning.auth import actor_for
from planning.proposals import submit_proposal

PAGE = "ui/review_page.py"
LON, LAT = 126.8330, 37.6221
GROUP = [(LON + dx * 0.0004, LAT + dy * 0.0003) for dx, dy in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0)]]


def text_of(at) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error, *at.title])


@pytest.fixture
def group(app_store):
    with app_store.transaction() as tx:
        rid = tx.residents.by_username("demo-resident").id
    author = actor_for(app_store, rid)
    return [
        submit_proposal(app_store, author, {"type": "Point", "coordinates": [lon, lat]}, f"숲길 정비 {i}", "공원 숲길에 나무를", "environment", "area", 1_000_000)
        for i, (lon, lat) in enumerate(GROUP)
    ]


def statuses(store, ids):
    with store.transaction() as tx:
        return [tx.proposals.get(i).status for i in ids]


def open_tab(at, label, lang="ko"):
    at.session_state[f"review_tab_{lang}"] = label
    return at.run()


def map_calls(fake_map, prefix):
    return [c for c in fake_map.calls if str(c.get("key", "")).startswith(prefix)]


def open_review(make_app, lang="ko"):
    at = make_app("demo-planner", lang=lang).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_planner_sees_the_whole_workspace(make_app, app_store, fake_map, lang):
    at = open_review(make_app, lang)
    with app_store.transaction() as tx:
        n = tx.proposals.count(include_hidden=True) - tx.proposals.count(status="withdrawn", include_hidden=True)
    assert (f"거른 제안 {n}건" if lang == "ko" else f"{n} proposals in the filtered set") in text_of(at)
    assert [t.label for t in at.tabs][:5] == (
        ["표", "군집", "밀도 지도", "지역별 통계", "신고·숨김"] if lang == "ko" else ["Table", "Clusters", "Density raster", "By area", "Flags and moderation"]
    )
    assert len(at.dataframe) >= 1 and len(at.dataframe[0].value) == n
    assert not map_calls(fake_map, "review_clusters_map")  # only the open tab runs
    open_tab(at, "군집" if lang == "ko" else "Clusters", lang)
    assert not at.exception, at.exception
    assert map_calls(fake_map, "review_clusters_map") and not at.dataframe


def test_filter_then_bulk_status_change(make_app, app_store, group):
    at = open_review(make_app)
    at.multiselect(key="rf_categories").set_value(["environment"]).run()
    with app_store.transaction() as tx:
        n_env = len([p for p in tx.proposals.list(include_hidden=True) if p.category == "environment" and p.status != "withdrawn"])
    assert f"거른 제안 {n_env}건" in text_of(at)
    at.multiselect(key="bulk_ids").set_value(group).run()
    at.selectbox(key="bulk_to").set_value("under_review").run()
    at.button(key="bulk_apply").click().run()
    assert not at.exception, at.exception
    assert statuses(app_store, group) == ["under_review"] * len(group)
    assert "5건의 상태를 바꿨습니다." in text_of(at)
    # rejecting without a reason is refused, in Korean, and nothing changes
    at.multiselect(key="bulk_ids").set_value(group[:2]).run()
    at.selectbox(key="bulk_to").set_value("rejected").run()
    at.button(key="bulk_apply").click().run()
    assert statuses(app_store, group) == ["under_review"] * len(group)
    assert f"#{group[0]}" in text_of(at)


def test_cluster_card_shortlists_its_proposals(make_app, app_store, fake_map, group):
    at = open_review(make_app)
    at.multiselect(key="rf_categories").set_value(["environment"]).run()
    at.number_input(key="rf_eps").set_value(100).run()
    at.number_input(key="rf_min").set_value(5).run()
    at.multiselect(key="bulk_ids").set_value(group).run()
    at.selectbox(key="bulk_to").set_value("under_review").run()
    at.button(key="bulk_apply").click().run()
    open_tab(at, "군집")
    call = map_calls(fake_map, "review_clusters_map")[-1]
    lat, lon = call["center"]  # folium order: [lat, lon], on the cluster
    assert abs(lat - LAT) < 0.01 and abs(lon - LON) < 0.01 and call["zoom"] >= 14
    card = next(e for e in at.expander if "제안 5건" in e.label)
    assert "숲길" in "\n".join(m.value for m in card.markdown)  # the most frequent words
    label = card.label.split("·")[0].split()[-1]
    at.button(key=f"cl_shortlist_{label}").click().run()
    assert not at.exception, at.exception
    assert statuses(app_store, group) == ["shortlisted"] * len(group)
    # the cluster filter narrows the set to the cluster
    at.button(key=f"cl_filter_{label}").click().run()
    assert "거른 제안 5건" in text_of(at)


def test_density_raster_is_made_for_the_filtered_set(make_app, app_store, fake_map, group):
    at = open_review(make_app)
    at.multiselect(key="rf_categories").set_value(["environment"]).run()
    open_tab(at, "밀도 지도")
    at.button(key="ds_make").click().run()
    assert not at.exception, at.exception
    made = at.session_state["review_density"]
    with app_store.transaction() as tx:
        n_env = len([p for p in tx.proposals.list(include_hidden=True) if p.category == "environment" and p.status != "withdrawn"])
    assert made.features == n_env and made.path.exists()
    assert map_calls(fake_map, "review_density_map")
    html = map_calls(fake_map, "review_density_map")[-1]["fig"].get_root().render()
    assert "data:image/png;base64" in html  # the overlay is inline, no server needed


def test_areas_by_hexagon_and_a_bad_filter_period(make_app, fake_map):
    import datetime

    at = open_review(make_app)
    open_tab(at, "지역별 통계")
    dong_html = map_calls(fake_map, "review_areas_map")[-1]["fig"].get_root().render()
    assert "행신1동" in dong_html
    at.radio(key="ch_unit").set_value("h3").run()
    assert not at.exception, at.exception
    html = map_calls(fake_map, "review_areas_map")[-1]["fig"].get_root().render()
    assert "goyang-legend" in html or "legend" in html
    at.date_input(key="rf_period").set_value((datetime.date(2026, 5, 2), datetime.date(2026, 5, 1))).run()
    assert not at.exception
    assert any("시작일" in e.value for e in at.error)
