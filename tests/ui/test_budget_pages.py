"""The participatory-budget pages with AppTest: each page for each role and language, and a whole cycle."""
from __future__ import annotations

import datetime as dt

import pytest

from planning.auth import actor_for
from planning.budget import advance_phase, create_cycle, publish_quotas, set_quotas_by_rule
from planning.proposals import submit_proposal
from tests.ui.test_pages import SQUARE, XSS, text_of

HAENGSIN1 = "4128164000"
M = 1_000_000
PAGES = ["ui/budget_page.py", "ui/budget_admin_page.py", "ui/budget_review_page.py", "ui/assemblies_page.py"]
ALLOWED = {
    None: {"ui/budget_page.py"},
    "demo-resident": {"ui/budget_page.py"},
    "demo-planner": {"ui/budget_page.py", "ui/budget_review_page.py"},
    "demo-centre": {"ui/budget_page.py", "ui/assemblies_page.py"},
    "demo-admin": set(PAGES),
}


def body(at) -> str:
    return text_of(at) + "\n".join(b.label for b in at.button) + "\n".join(str(m.label) + str(m.value) for m in at.metric)


def rid(store, username):
    with store.transaction() as tx:
        return tx.residents.by_username(username).id


def a_published_cycle(store, year=2027):
    admin = rid(store, "demo-admin")
    cid = create_cycle(store, admin, year)
    set_quotas_by_rule(store, admin, cid, 4_400 * M, 50 * M, "0.4")
    publish_quotas(store, admin, cid)
    return cid


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("user", list(ALLOWED))
def test_each_budget_page_for_each_role_and_language(make_app, app_store, user, lang):
    a_published_cycle(app_store)
    for page in PAGES:
        at = make_app(user, lang=lang).run()
        if page not in ALLOWED[user]:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)
            continue
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        text = body(at)
        assert ("2027" in text) or ("2027" in str([n.value for n in at.number_input])), (page, text)
        if lang == "en":
            assert "participatory" in text.lower() or "Participatory" in text or "phase" in text.lower(), (page, text)
        else:
            assert "단계" in text or "주민참여예산" in text, (page, text)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_budget_page_without_a_cycle(make_app, lang):
    at = make_app(None, lang=lang).run()
    at.switch_page("ui/budget_page.py").run()
    assert not at.exception
    assert ("아직 주민참여예산 회차가 없습니다" if lang == "ko" else "There is no participatory-budget cycle yet") in text_of(at)


def test_published_quotas_show_a_display_only_map(make_app, app_store, fake_map):
    cid = a_published_cycle(app_store)
    for _ in range(3):  # review, assemblies, voting
        advance_phase(app_store, rid(app_store, "demo-admin"), cid)
    at = make_app(None).run()
    at.switch_page("ui/budget_page.py").run()
    assert not at.exception
    call = [c for c in fake_map.calls if c.get("key") == "budget_map"][-1]
    assert call["returned_objects"] == []
    html = call["fig"].get_root().render()
    assert "goyang-legend" in html
    assert "투표하려면 로그인해 주세요" in text_of(at)


def test_a_whole_cycle_through_the_pages(make_app, app_store):
    # admin creates the cycle
    admin = make_app("demo-admin").run()
    admin.switch_page("ui/budget_admin_page.py").run()
    admin.number_input(key="new_cycle_year").set_value(2027)
    admin.button(key="create_cycle").click().run()
    assert not admin.exception, admin.exception
    assert "2027년 회차" in text_of(admin)

    # residents propose (proposals_open)
    me = actor_for(app_store, rid(app_store, "demo-resident"))
    a = submit_proposal(app_store, me, SQUARE, title="놀이터 그늘막", body="그늘막", category="urban", cost_krw=30 * M)
    b = submit_proposal(app_store, me, SQUARE, title=XSS, body="벤치", category="urban", cost_krw=50 * M)
    c = submit_proposal(app_store, me, SQUARE, title="하천 다리", body="다리", category="urban", cost_krw=900 * M)

    # quotas by rule, one override, publish, advance to review
    admin.number_input(key="rule_total").set_value(4_400 * M)
    admin.number_input(key="rule_base").set_value(50 * M)
    admin.number_input(key="rule_share").set_value(40.0)
    admin.button(key="apply_rule").click().run()
    assert not admin.exception, admin.exception
    assert "한도액을 정했습니다" in text_of(admin)
    assert len(admin.dataframe[0].value) >= 44
    admin.selectbox(key="override_district").set_value(HAENGSIN1)
    admin.number_input(key="override_amount").set_value(60 * M)
    admin.button(key="override_quota").click().run()
    assert "60,000,000" in text_of(admin)
    admin.button(key="publish_quotas").click().run()
    assert "공개했습니다" in text_of(admin)
    admin.button(key="advance_phase").click().run()
    assert "'검토' 단계로" in text_of(admin)

    # planner reviews: a and b pass with official costs, c is not feasible
    planner = make_app("demo-planner").run()
    planner.switch_page("ui/budget_review_page.py").run()
    planner.selectbox(key="review_district").set_value(HAENGSIN1).run()
    assert not planner.exception, planner.exception
    for pid, cost in ((a, 25 * M), (b, 45 * M)):
        planner.number_input(key=f"rv_cost_{pid}").set_value(cost)
        planner.date_input(key=f"rv_date_{pid}").set_value(dt.date(2026, 5, 1))
        planner.text_input(key=f"rv_photo_{pid}").input("https://example.org/site.jpg")
        planner.button(key=f"rv_save_{pid}").click().run()
        assert not planner.exception, planner.exception
        assert f"#{pid}의 검토를 저장했습니다" in text_of(planner)
    planner.checkbox(key=f"rv_feasible_{c}").uncheck()
    planner.button(key=f"rv_save_{c}").click().run()
    labels = "\n".join(e.label for e in planner.expander)
    assert "\\<img src" in labels and "\\$\\{alert" in labels  # user text is escaped markdown
    assert f"#{c} 하천 다리 · 행신1동 · 미통과" in labels

    # assemblies, then voting
    admin.button(key="advance_phase").click().run()
    assert "'주민총회' 단계로" in text_of(admin)
    admin.switch_page("ui/assemblies_page.py").run()
    admin.selectbox(key="assembly_district").set_value(HAENGSIN1).run()
    admin.number_input(key="assembly_attendance").set_value(120)
    admin.multiselect(key="assembly_endorsed").select(a)
    admin.button(key="record_assembly").click().run()
    assert not admin.exception, admin.exception
    assert "기록했습니다" in text_of(admin)
    admin.switch_page("ui/budget_admin_page.py").run()
    admin.button(key="advance_phase").click().run()
    assert "'주민 투표' 단계로" in text_of(admin)

    # the resident votes: over the quota is refused, within it is cast
    resident = make_app("demo-resident").run()
    resident.switch_page("ui/budget_page.py").run()
    assert not resident.exception, resident.exception
    assert {cb.key for cb in resident.checkbox} >= {f"ballot_{a}", f"ballot_{b}"}
    assert f"ballot_{c}" not in {cb.key for cb in resident.checkbox}
    resident.checkbox(key=f"ballot_{a}").check()
    resident.checkbox(key=f"ballot_{b}").check().run()
    assert "10,000,000원" in body(resident) and "넘었습니다" in text_of(resident)  # 70M chosen of 60M
    resident.button(key="cast_ballot").click().run()
    assert "한도액" in "\n".join(e.value for e in resident.error)
    resident.checkbox(key=f"ballot_{b}").uncheck().run()
    assert "35,000,000원" in body(resident)  # left after 25M
    resident.button(key="cast_ballot").click().run()
    assert not resident.error
    assert "투표했습니다 (제안 1개)" in text_of(resident)
    # the district card (the resident's home by default) withholds vote counts while voting is open
    assert resident.selectbox(key="budget_card_district").value == HAENGSIN1
    assert "득표수는 투표가 끝난 뒤 공개됩니다." in text_of(resident)

    # allocation, then the results table with reasons
    admin.button(key="advance_phase").click().run()
    assert "'예산 배정' 단계로" in text_of(admin)
    admin.button(key="run_allocation").click().run()
    assert not admin.exception, admin.exception
    assert "선정" in text_of(admin)
    viewer = make_app(None, lang="en").run()
    viewer.switch_page("ui/budget_page.py").run()
    assert not viewer.exception, viewer.exception
    results = viewer.dataframe[-1].value  # after the quota table
    row = results[results["Proposal"].str.startswith(f"#{a} ")].iloc[0]
    assert bool(row["Selected"]) and row["Cost (KRW)"] == 25 * M and row["Reason"]
    assert len(results[results["Proposal"].str.startswith(f"#{c} ")]) == 1
    # the district card shows votes and each proposal's result in plain words
    viewer.selectbox(key="budget_card_district").set_value(HAENGSIN1).run()
    card = text_of(viewer)
    assert "Vote counts are shown once voting has closed." not in card
    assert f"#{a} " in card and "Votes 1" in card.replace("\\", "")
    assert "✅" in card


def test_ballot_refusal_in_english(make_app, app_store):
    cid = a_published_cycle(app_store)
    admin = rid(app_store, "demo-admin")
    me = actor_for(app_store, rid(app_store, "demo-resident"))
    pid = submit_proposal(app_store, me, SQUARE, title="큰 사업", body="비쌈", category="urban", cost_krw=10 * M)
    advance_phase(app_store, admin, cid)  # review
    from planning.budget import review_proposal

    review_proposal(app_store, admin, cid, pid, feasible=True, official_cost_krw=10_000 * M, construction=True)
    advance_phase(app_store, admin, cid)  # assemblies
    advance_phase(app_store, admin, cid)  # voting
    at = make_app("demo-resident", lang="en").run()
    at.switch_page("ui/budget_page.py").run()
    at.checkbox(key=f"ballot_{pid}").check().run()
    at.button(key="cast_ballot").click().run()
    assert "more than your district's quota" in "\n".join(e.value for e in at.error)


def test_centre_staff_record_only_their_hubs_districts(make_app, app_store):
    cid = a_published_cycle(app_store)
    admin = rid(app_store, "demo-admin")
    advance_phase(app_store, admin, cid)  # review
    advance_phase(app_store, admin, cid)  # assemblies
    at = make_app("demo-centre").run()
    at.switch_page("ui/assemblies_page.py").run()
    assert not at.exception, at.exception
    options = at.selectbox(key="assembly_district").options
    assert any("화정1동" in o for o in options) and len(options) < 44
    at.number_input(key="assembly_attendance").set_value(80)
    at.button(key="record_assembly").click().run()
    assert not at.exception, at.exception
    assert "주민총회 #" in text_of(at) and at.dataframe


def test_admin_sets_the_optional_allocation_rules(make_app, app_store):
    from fractions import Fraction

    from planning.budget import current_cycle, cycle_rules

    admin = make_app("demo-admin").run()
    admin.switch_page("ui/budget_admin_page.py").run()
    admin.number_input(key="new_cycle_year").set_value(2028)
    admin.checkbox(key="new_cycle_endorsed_first").check()
    admin.number_input(key="new_cycle_construction").set_value(40)
    admin.number_input(key="new_cycle_area_pool").set_value(60)
    admin.button(key="create_cycle").click().run()
    assert not admin.exception, admin.exception
    rules = cycle_rules(current_cycle(app_store))
    assert rules.endorsed_first and rules.construction_share == Fraction(2, 5)
    assert dict(rules.pools) == {"area": Fraction(3, 5), "individual": Fraction(2, 5)}
