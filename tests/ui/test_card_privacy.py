"""Privacy in AppTest (issue 8): a card names its author only to those allowed; the hub's area says when groups are hidden."""
from __future__ import annotations

from shapely.geometry import Point

HUB = "4128162100"  # 화정1동 hub: demo-centre works there
LON, LAT = 126.8330, 37.6340  # in 화정1동


def text_of(at) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error, *at.title])


def test_the_card_shows_resident_you_or_the_name(make_app, fake_map, app_store):
    with app_store.transaction() as tx:
        author = tx.residents.by_username("demo-r001")
        p = tx.proposals.add(
            title="공원 벤치", body="벤치가 필요해요", category="environment", kind="area", author_id=author.id,
            geometry=Point(LON, LAT), hub_code=HUB, district_code=HUB,
        )
        tx.comments.add(p.id, author.id, "제가 올린 제안입니다")
        name = author.display_name
    fake_map.result = {"last_object_clicked_tooltip": f"#{p.id} 공원 벤치", "bounds": None}
    seen = {}
    for who in (None, "demo-resident", "demo-r001", "demo-planner"):
        at = make_app(who).run()
        assert not at.exception, at.exception
        assert f"#{p.id}" in "\n".join(s.value for s in at.subheader)
        seen[who] = text_of(at)
    for who in (None, "demo-resident"):  # anonymous, another resident
        assert name not in seen[who], who
        assert "주민 · " in seen[who] and "**주민**" in seen[who], who
    # the author reads "나" (their name is only in the "signed in as" line)
    assert "나 · " in seen["demo-r001"] and "**나**" in seen["demo-r001"]
    assert f"{name} · " not in seen["demo-r001"] and f"**{name}**" not in seen["demo-r001"]
    assert f"{name} · " in seen["demo-planner"] and f"**{name}**" in seen["demo-planner"]


def test_the_hubs_area_says_when_small_groups_are_hidden(make_app, fake_map, app_store):
    with app_store.transaction() as tx:
        author = tx.residents.by_username("demo-resident").id
        for i in range(4):  # one resident, four proposals side by side: a cluster of one resident
            tx.proposals.add(
                title=f"화정 그늘막 {i}", body="그늘막이 필요합니다", category="welfare", kind="area", author_id=author,
                geometry=Point(LON + i * 0.0004, LAT), hub_code=HUB, district_code=HUB,
            )
    at = make_app("demo-centre").run()
    at.switch_page("ui/meetings_page.py").run()
    assert not at.exception, at.exception
    text = text_of(at)
    assert "주민 5명 미만 묶음" in text and "개인정보 보호를 위해 표시하지 않습니다" in text, text
