"""Participatory-budget allocation: CONSUL's heading rule and the optional rules."""
from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.allocation import (
    CONSTRUCTION_CAP,
    DOES_NOT_FIT,
    INELIGIBLE,
    KINDS,
    NO_QUOTA,
    POOL_EXHAUSTED,
    SELECTED,
    AllocationDecision,
    AllocationProposal,
    AllocationRules,
    allocate,
    decisions_frame,
    district_summary,
    parse_rules_yaml,
    read_rules,
)
from planning.errors import InvalidInput

HAENGSIN2 = "4128165000"
JUGYO = "4128151000"
WONSIN = "4128152000"
NAMES = {HAENGSIN2: "행신2동", JUGYO: "주교동", WONSIN: "원신동"}
M = 1_000_000  # 백만원


def P(pid, cost_krw, votes, district=HAENGSIN2, **kw):
    return AllocationProposal(id=pid, district_code=district, cost_krw=cost_krw, votes=votes, **kw)


def by_id(decisions):
    return {d.id: d for d in decisions}


def selected_ids(decisions):
    return [d.id for d in decisions if d.selected]


# ------------------------------------------------------------ the base rule (CONSUL)


def test_passes_over_a_proposal_that_does_not_fit_and_takes_a_cheaper_one_after_it():
    props = [P("a", 38 * M, 100), P("b", 30 * M, 90), P("c", 13 * M, 80), P("d", 9 * M, 70)]
    decisions = allocate(props, {HAENGSIN2: 50 * M}, district_names=NAMES)
    d = by_id(decisions)
    assert selected_ids(decisions) == ["a", "d"]
    assert [x.rank for x in decisions] == [1, 2, 3, 4]
    assert d["b"].code == DOES_NOT_FIT and d["c"].code == DOES_NOT_FIT
    assert d["b"].reason_ko == "미선정: 행신2동 잔액 12,000,000원, 이 제안 비용 30,000,000원"
    assert d["b"].reason_en == "not selected: 12,000,000 KRW left in 행신2동, this costs 30,000,000 KRW"
    assert d["a"].reason_ko == "선정: 행신2동 잔액 50,000,000원, 이 제안 비용 38,000,000원, 선정 후 잔액 12,000,000원"
    assert d["a"].reason_en == "selected: 50,000,000 KRW left in 행신2동, this costs 38,000,000 KRW, 12,000,000 KRW left after this"
    assert d["d"].left_before_krw == 12 * M and d["d"].left_after_krw == 3 * M
    assert d["a"].reason("en") == d["a"].reason_en and d["a"].reason("ko") == d["a"].reason_ko


def test_district_code_shown_when_the_name_is_unknown():
    (d,) = allocate([P("a", 30 * M, 1)], {HAENGSIN2: 10 * M})
    assert d.district_name is None
    assert d.reason_en == f"not selected: 10,000,000 KRW left in {HAENGSIN2}, this costs 30,000,000 KRW"


def test_a_proposal_that_exactly_fills_the_quota_is_selected_and_nothing_else_but_free_ones():
    props = [P("a", 50 * M, 10), P("b", 1, 5), P("c", 0, 1)]
    d = by_id(allocate(props, {HAENGSIN2: 50 * M}, district_names=NAMES))
    assert d["a"].selected and d["a"].left_after_krw == 0
    assert d["a"].reason_ko.endswith("선정 후 잔액 0원")
    assert not d["b"].selected and d["b"].code == DOES_NOT_FIT
    assert d["c"].selected  # costs nothing: fits what is left (0), as in CONSUL


def test_equal_votes_lower_cost_first():
    # Only one of the two fits: the cheaper one is considered first and takes the money.
    props = [P("x", 7 * M, 10), P("y", 6 * M, 10)]
    decisions = allocate(props, {HAENGSIN2: 10 * M})
    assert [d.id for d in decisions] == ["y", "x"]
    assert selected_ids(decisions) == ["y"]


def test_equal_votes_and_cost_lower_id_first():
    decisions = allocate([P("b", 6 * M, 10), P("a", 6 * M, 10)], {HAENGSIN2: 10 * M})
    assert [(d.id, d.rank, d.selected) for d in decisions] == [("a", 1, True), ("b", 2, False)]


def test_numeric_ids_compare_as_numbers():
    decisions = allocate([P(10, 6 * M, 10), P(9, 6 * M, 10), P("11", 6 * M, 10)], {HAENGSIN2: 6 * M})
    assert [d.id for d in decisions] == [9, 10, "11"]
    assert selected_ids(decisions) == [9]


def test_zero_quota_and_missing_quota_select_nothing():
    props = [P("a", 1, 5, district=HAENGSIN2), P("b", 1, 5, district=JUGYO), P("free", 0, 1, district=HAENGSIN2)]
    d = by_id(allocate(props, {HAENGSIN2: 0}, district_names=NAMES))
    assert not any(x.selected for x in d.values())
    assert {x.code for x in d.values()} == {NO_QUOTA}
    assert d["a"].reason_ko == "미선정: 행신2동의 예산 배정액이 0원입니다"
    assert d["a"].reason_en == "not selected: the quota of 행신2동 is 0 KRW"
    assert d["b"].reason_ko == "미선정: 주교동에 배정된 예산이 없습니다"
    assert d["b"].reason_en == "not selected: 주교동 has no budget quota"
    # Documented difference from CONSUL: a free proposal in a district given nothing is not selected.
    assert d["free"].code == NO_QUOTA


def test_ineligible_never_selected_but_keeps_its_rank():
    props = [P("top", 1 * M, 100, eligible=False), P("next", 2 * M, 50)]
    d = by_id(allocate(props, {HAENGSIN2: 100 * M}))
    assert not d["top"].selected and d["top"].code == INELIGIBLE and d["top"].rank == 1
    assert "부적격" in d["top"].reason_ko and "not eligible" in d["top"].reason_en
    assert d["next"].selected and d["next"].rank == 2
    # ineligible wins over no quota as the reason
    (x,) = allocate([P("z", 1, 1, eligible=False)], {})
    assert x.code == INELIGIBLE


def test_districts_are_allocated_separately_and_output_is_sorted():
    props = [P("w", 5 * M, 1, district=WONSIN), P("h", 5 * M, 1, district=HAENGSIN2), P("j", 5 * M, 1, district=JUGYO)]
    decisions = allocate(props, {HAENGSIN2: 5 * M, JUGYO: 5 * M, WONSIN: 4 * M})
    assert [d.district_code for d in decisions] == sorted([HAENGSIN2, JUGYO, WONSIN])
    assert selected_ids(decisions) == ["j", "h"]
    assert all(d.rank == 1 for d in decisions)


def test_summary_lists_a_district_without_proposals_with_nothing_used():
    props = [P("a", 30 * M, 10), P("b", 30 * M, 5), P("j", 1 * M, 1, district=JUGYO)]
    quotas = {HAENGSIN2: 50 * M, WONSIN: 20 * M}
    decisions = allocate(props, quotas, district_names=NAMES)
    s = district_summary(decisions, quotas, NAMES).set_index("district_code")
    assert list(s.index) == sorted([HAENGSIN2, JUGYO, WONSIN])
    assert s.loc[WONSIN].to_dict() == {
        "district_name": "원신동",
        "quota_krw": 20 * M,
        "used_krw": 0,
        "left_krw": 20 * M,
        "proposal_count": 0,
        "selected_count": 0,
    }
    assert s.loc[HAENGSIN2, "used_krw"] == 30 * M and s.loc[HAENGSIN2, "left_krw"] == 20 * M
    assert s.loc[HAENGSIN2, "selected_count"] == 1 and s.loc[HAENGSIN2, "proposal_count"] == 2
    assert s.loc[JUGYO, "quota_krw"] == 0 and s.loc[JUGYO, "selected_count"] == 0
    assert str(s["quota_krw"].dtype) == "int64" and str(s["left_krw"].dtype) == "int64"


# ------------------------------------------------------------ optional rules, one at a time


def test_endorsed_first_ranks_endorsed_area_proposals_before_all_others():
    props = [
        P("popular", 30 * M, 100, kind="individual"),
        P("assembly", 30 * M, 10, kind="area", endorsed=True),
        P("endorsed_individual", 1 * M, 5, kind="individual", endorsed=True),
        P("area", 1 * M, 50, kind="area"),
    ]
    quotas = {HAENGSIN2: 40 * M}
    off = allocate(props, quotas)
    assert [d.id for d in off] == ["popular", "area", "assembly", "endorsed_individual"]
    assert selected_ids(off) == ["popular", "area", "endorsed_individual"]
    on = allocate(props, quotas, AllocationRules(endorsed_first=True), district_names=NAMES)
    assert [d.id for d in on] == ["assembly", "popular", "area", "endorsed_individual"]  # only the AREA one moves up
    assert selected_ids(on) == ["assembly", "area", "endorsed_individual"]
    first = on[0]
    assert first.rank == 1 and "주민총회" in first.reason_ko and "assembly-endorsed" in first.reason_en
    assert "assembly" not in on[1].reason_en


def test_endorsed_first_orders_endorsed_ones_among_themselves_by_votes():
    props = [P("e1", 1 * M, 3, kind="area", endorsed=True), P("e2", 1 * M, 9, kind="area", endorsed=True), P("x", 1 * M, 99)]
    assert [d.id for d in allocate(props, {HAENGSIN2: 10 * M}, AllocationRules(endorsed_first=True))] == ["e2", "e1", "x"]


def test_construction_share_caps_construction_and_lets_others_through():
    props = [
        P("road", 30 * M, 100, construction=True),
        P("park", 25 * M, 90, construction=True),
        P("class", 20 * M, 80),
        P("bench", 15 * M, 70, construction=True),
    ]
    quotas = {HAENGSIN2: 100 * M}
    assert selected_ids(allocate(props, quotas)) == ["road", "park", "class", "bench"]
    d = by_id(allocate(props, quotas, AllocationRules(construction_share=0.5), district_names=NAMES))
    assert d["road"].selected and d["class"].selected and d["bench"].selected
    assert not d["park"].selected and d["park"].code == CONSTRUCTION_CAP
    assert d["park"].reason_ko == "미선정: 행신2동 공사성 사업 한도 50,000,000원 중 잔액 20,000,000원, 이 제안 비용 25,000,000원"
    assert d["park"].reason_en == "not selected: 20,000,000 KRW left of the 50,000,000 KRW construction cap in 행신2동, this costs 25,000,000 KRW"
    assert d["bench"].reason_en.endswith("5,000,000 KRW of the construction cap left")
    assert d["park"].left_after_krw == d["park"].left_before_krw == 70 * M


def test_construction_cap_uses_exact_shares_not_floats():
    # 0.29 * 100 is 28.999999999999996 in floating point; the cap must be 29 won.
    (d,) = allocate([P("c", 29, 1, construction=True)], {HAENGSIN2: 100}, AllocationRules(construction_share=0.29))
    assert d.selected
    # and a share of an odd amount rounds down to the won
    (d,) = allocate([P("c", 51, 1, construction=True)], {HAENGSIN2: 101}, AllocationRules(construction_share=0.5))
    assert d.code == CONSTRUCTION_CAP and "50 KRW construction cap" in d.reason_en


def test_pools_fill_each_kind_separately_and_do_not_move_the_rest():
    props = [
        P("area_big", 50 * M, 100, kind="area"),
        P("area_small", 10 * M, 10, kind="area"),
        P("ind1", 30 * M, 90, kind="individual"),
        P("ind2", 20 * M, 80, kind="individual"),
    ]
    quotas = {HAENGSIN2: 100 * M}
    assert selected_ids(allocate(props, quotas)) == ["area_big", "ind1", "ind2"]
    rules = AllocationRules(pools={"area": 0.6, "individual": 0.4})
    decisions = allocate(props, quotas, rules, district_names=NAMES)
    d = by_id(decisions)
    assert selected_ids(decisions) == ["area_big", "ind1", "area_small"]  # in rank order
    assert d["area_big"].pool == "area" and d["area_big"].left_after_krw == 10 * M
    assert d["area_small"].selected and d["area_small"].left_after_krw == 0
    # the area pool is used up; the individual pool has 10M left, too little for ind2
    assert d["ind2"].code == POOL_EXHAUSTED
    assert d["ind2"].reason_ko == "미선정: 행신2동 개인 제안 몫 잔액 10,000,000원, 이 제안 비용 20,000,000원"
    assert d["ind2"].reason_en == "not selected: 10,000,000 KRW left in the individual-proposal pool of 행신2동, this costs 20,000,000 KRW"
    assert d["ind1"].reason_en.startswith("selected: 40,000,000 KRW left in the individual-proposal pool of 행신2동")


def test_money_left_in_one_pool_is_not_moved_to_the_other():
    props = [P("area", 10 * M, 10, kind="area"), P("ind", 50 * M, 5, kind="individual")]
    quotas = {HAENGSIN2: 100 * M}
    decisions = allocate(props, quotas, AllocationRules(pools={"area": 0.6, "individual": 0.4}))
    d = by_id(decisions)
    assert d["area"].selected and d["area"].left_after_krw == 50 * M
    assert not d["ind"].selected and d["ind"].code == POOL_EXHAUSTED  # the area pool's 50M stays there
    s = district_summary(decisions, quotas).iloc[0]
    assert s["used_krw"] == 10 * M and s["left_krw"] == 90 * M


def test_pools_round_down_to_the_won():
    rules = AllocationRules(pools={"area": 0.5, "individual": 0.5})
    props = [P("a", 51, 2, kind="area"), P("b", 50, 1, kind="area"), P("i", 50, 1, kind="individual")]
    decisions = allocate(props, {HAENGSIN2: 101}, rules)
    d = by_id(decisions)
    assert d["a"].code == POOL_EXHAUSTED and d["a"].left_before_krw == 50
    assert d["b"].selected and d["i"].selected
    assert district_summary(decisions, {HAENGSIN2: 101}).iloc[0]["left_krw"] == 1  # the odd won stays unspent


def test_pool_shares_below_one_leave_the_rest_unspent():
    (d,) = allocate([P("a", 60 * M, 1, kind="area")], {HAENGSIN2: 100 * M}, AllocationRules(pools={"area": "1/2", "individual": 0}))
    assert d.code == POOL_EXHAUSTED and d.left_before_krw == 50 * M


# ------------------------------------------------------------ rules together


def test_all_rules_together():
    rules = AllocationRules(endorsed_first=True, construction_share=0.3, pools={"area": 0.5, "individual": 0.5})
    props = [
        P("assembly_road", 20 * M, 1, kind="area", endorsed=True, construction=True),  # ranked first, uses 20 of 30 cap
        P("area_hall", 15 * M, 100, kind="area", construction=True),  # cap left 10 -> construction_cap
        P("area_class", 25 * M, 90, kind="area"),  # area pool left 30 -> selected, 5 left
        P("area_fair", 10 * M, 80, kind="area"),  # area pool left 5 -> pool_exhausted
        P("ind_path", 10 * M, 70, kind="individual", construction=True),  # pool 50, cap left 10 -> selected
        P("ind_big", 45 * M, 60, kind="individual"),  # pool left 40 -> pool_exhausted
        P("ind_ok", 40 * M, 50, kind="individual"),  # fits exactly
        P("ind_bad", 1, 999, kind="individual", eligible=False),
    ]
    d = by_id(allocate(props, {HAENGSIN2: 100 * M}, rules))
    got = {k: (v.selected, v.code) for k, v in d.items()}
    assert got == {
        "assembly_road": (True, SELECTED),
        "area_hall": (False, CONSTRUCTION_CAP),
        "area_class": (True, SELECTED),
        "area_fair": (False, POOL_EXHAUSTED),
        "ind_path": (True, SELECTED),
        "ind_big": (False, POOL_EXHAUSTED),
        "ind_ok": (True, SELECTED),
        "ind_bad": (False, INELIGIBLE),
    }
    assert d["assembly_road"].rank == 1 and d["ind_bad"].rank == 2
    assert d["ind_ok"].left_after_krw == 0


def test_pool_shortfall_is_reported_before_the_construction_cap():
    rules = AllocationRules(construction_share=0.1, pools={"area": 0.5, "individual": 0.5})
    (d,) = allocate([P("x", 60 * M, 1, kind="area", construction=True)], {HAENGSIN2: 100 * M}, rules)
    assert d.code == POOL_EXHAUSTED


# ------------------------------------------------------------ properties

CODES = [HAENGSIN2, JUGYO, WONSIN, "4128760000"]

proposal_rows = st.lists(
    st.tuples(
        st.sampled_from(CODES),
        st.integers(0, 25) | st.integers(0, 150),  # cost: small ones make exact fits common
        st.integers(0, 8),  # votes: small, so ties are common
        st.sampled_from(KINDS),
        st.booleans(),  # construction
        st.booleans(),  # eligible
        st.booleans(),  # endorsed
    ),
    max_size=40,
)
quota_amounts = st.integers(0, 60) | st.integers(0, 400)
# Most districts have a quota (possibly 0); the third may not; the fourth never has one.
quota_maps = st.fixed_dictionaries({CODES[0]: quota_amounts, CODES[1]: quota_amounts}, optional={CODES[2]: quota_amounts})
shares = st.sampled_from([Fraction(1, 2), Fraction(3, 10), Fraction(2, 3), Fraction(29, 100)]) | st.fractions(
    min_value=0, max_value=1, max_denominator=20
)


def build(rows, id_style="str"):
    out = []
    for i, (code, cost, votes, kind, construction, eligible, endorsed) in enumerate(rows):
        pid = i if id_style == "int" else f"p{i:03d}"
        out.append(AllocationProposal(pid, code, cost, votes, kind, "", construction, eligible, endorsed))
    return out


def consul_heading_winners(investments, heading_price, order):
    """``Budget::Result#calculate_winners`` of CONSUL Democracy, line by line."""
    money_spent = 0
    winners = set()
    for investment in sorted(investments, key=order):  # heading.investments.selected.sort_by_ballots
        if heading_price - money_spent >= investment.cost_krw:  # inside_budget?
            money_spent += investment.cost_krw  # set_winner
            winners.add(investment.id)
    return winners


def consul_result(props, quotas, order):
    winners = set()
    for code in {p.district_code for p in props}:
        selected_scope = [p for p in props if p.district_code == code and p.eligible]
        winners |= consul_heading_winners(selected_scope, quotas.get(code, 0), order)
    return winners


@settings(max_examples=300, deadline=None)
@given(rows=proposal_rows, quotas=quota_maps)
def test_with_all_rules_off_it_is_consuls_greedy_heading_rule(rows, quotas):
    # Costs from 1: CONSUL would also select a free investment in a heading of price 0 (see allocate's notes).
    props = build([(c, max(cost, 1), *rest) for c, cost, *rest in rows])
    decisions = allocate(props, quotas)
    expected = consul_result(props, quotas, order=lambda p: (-p.votes, p.cost_krw, p.id))
    assert set(selected_ids(decisions)) == expected


@settings(max_examples=200, deadline=None)
@given(rows=proposal_rows, quotas=quota_maps)
def test_with_distinct_votes_it_matches_consuls_own_tie_order_too(rows, quotas):
    # CONSUL breaks vote ties by newest id first; without ties the orders agree.
    rows = [(c, max(cost, 1), i * 3 + 1, *rest) for i, (c, cost, _votes, *rest) in enumerate(rows)]
    random.Random(len(rows)).shuffle(rows)
    props = build(rows, id_style="int")
    expected = consul_result(props, quotas, order=lambda p: (-p.votes, -p.id))  # sort_by_ballots
    assert set(selected_ids(allocate(props, quotas))) == expected


def all_rules():
    return st.builds(
        AllocationRules,
        endorsed_first=st.booleans(),
        construction_share=st.none() | shares,
        pools=st.none()
        | shares.map(lambda a: {"area": a, "individual": 1 - a})
        | st.tuples(shares, shares).map(lambda t: {"area": t[0], "individual": t[1] * (1 - t[0])}),  # sum below 1
    )


@settings(max_examples=400, deadline=None)
@given(rows=proposal_rows, quotas=quota_maps, rules=all_rules())
def test_money_is_never_over_committed(rows, quotas, rules):
    props = build(rows)
    decisions = allocate(props, quotas, rules)
    assert len(decisions) == len(props)
    for code in CODES:
        mine = [d for d in decisions if d.district_code == code]
        assert sorted(d.rank for d in mine) == list(range(1, len(mine) + 1))
        quota = quotas.get(code, 0)
        chosen = [d for d in mine if d.selected]
        assert sum(d.cost_krw for d in chosen) <= quota
        for d in chosen:
            assert isinstance(d.cost_krw, int) and d.eligible and d.code == SELECTED
            assert 0 <= d.left_after_krw == d.left_before_krw - d.cost_krw
        if rules.pools is not None:
            for kind in KINDS:
                pool = quota * rules.pools[kind].numerator // rules.pools[kind].denominator
                assert sum(d.cost_krw for d in chosen if d.kind == kind) <= pool
        if rules.construction_share is not None:
            cap = quota * rules.construction_share.numerator // rules.construction_share.denominator
            assert sum(d.cost_krw for d in chosen if d.construction) <= cap
        # Replay the district in rank order with the test's own arithmetic: every selection
        # fits what was left at that moment, every one passed over for money did not.
        def floor_share(share):
            return quota * share.numerator // share.denominator

        left = {k: floor_share(rules.pools[k]) for k in KINDS} if rules.pools is not None else {None: quota}
        cap_left = floor_share(rules.construction_share) if rules.construction_share is not None else None
        for d in sorted(mine, key=lambda x: x.rank):
            purse = d.kind if rules.pools is not None else None
            if d.selected:
                assert d.cost_krw <= left[purse] and d.left_before_krw == left[purse]
                left[purse] -= d.cost_krw
                if cap_left is not None and d.construction:
                    assert d.cost_krw <= cap_left
                    cap_left -= d.cost_krw
            elif d.code in (DOES_NOT_FIT, POOL_EXHAUSTED):
                assert quota > 0 and d.eligible and d.cost_krw > left[purse]
                assert d.code == (POOL_EXHAUSTED if purse else DOES_NOT_FIT)
            elif d.code == CONSTRUCTION_CAP:
                assert d.construction and d.cost_krw <= left[purse] and d.cost_krw > cap_left
            elif d.code == NO_QUOTA:
                assert quota == 0 and d.eligible
            else:
                assert d.code == INELIGIBLE and not d.eligible
    summary = district_summary(decisions, quotas)
    assert (summary["left_krw"] >= 0).all()


@settings(max_examples=200, deadline=None)
@given(rows=proposal_rows, quotas=quota_maps, rules=all_rules(), seed=st.integers(0, 2**32 - 1))
def test_shuffled_input_gives_the_same_output(rows, quotas, rules, seed):
    props = build(rows)
    shuffled = props[:]
    random.Random(seed).shuffle(shuffled)
    assert allocate(shuffled, quotas, rules, district_names=NAMES) == allocate(props, quotas, rules, district_names=NAMES)


# ------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("rows", "needle_ko", "needle_en"),
    [
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": -5, "votes": 1}], "제안 1행 (id a)의 비용(cost) 음수", "row 1 (id a): cost is negative"),
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": 5, "votes": -1}], "득표수(votes) 음수", "votes is negative"),
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": float("nan"), "votes": 1}], "NaN", "cost is NaN"),
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": 5, "votes": np.nan}], "NaN", "votes is NaN"),
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": 1.5, "votes": 1}], "정수가 아닙니다", "not a whole number"),
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": True, "votes": 1}], "숫자가 아닙니다", "not a number"),
        ([{"id": "a", "district_code": HAENGSIN2, "votes": 1}], "비어 있습니다", "cost is empty"),
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": 5, "votes": 1, "kind": "group"}], "유형(kind)", "kind must be area or individual"),
        ([{"id": "a", "district_code": HAENGSIN2, "cost_krw": 5, "votes": 1, "eligible": "maybe"}], "적격 여부", "eligible is not true or false"),
        ([{"id": "a", "district_code": np.nan, "cost_krw": 5, "votes": 1}], "지역 코드", "district_code is NaN"),
        ([{"id": np.nan, "district_code": HAENGSIN2, "cost_krw": 5, "votes": 1}], "(id ?)", "id is NaN"),
        (
            [{"id": "ok", "district_code": HAENGSIN2, "cost_krw": 5, "votes": 1}, {"id": "b", "district_code": HAENGSIN2, "cost_krw": 5, "votes": 1.25}],
            "제안 2행 (id b)",
            "row 2 (id b): votes is not a whole number",
        ),
    ],
)
def test_invalid_proposals_are_refused_naming_the_row(rows, needle_ko, needle_en):
    with pytest.raises(InvalidInput) as err:
        allocate(rows, {HAENGSIN2: 10})
    assert err.value.code == "invalid_proposal"
    assert needle_ko in err.value.ko
    assert needle_en in err.value.en


def test_duplicate_ids_are_refused():
    with pytest.raises(InvalidInput) as err:
        allocate([P("a", 1, 1), P("b", 1, 1), P("a", 2, 2, district=JUGYO)], {HAENGSIN2: 10})
    assert err.value.code == "duplicate_proposal_id"
    assert "3행" in err.value.ko and "1행" in err.value.ko
    assert "row 3 has id a, the same as row 1" in err.value.en
    with pytest.raises(InvalidInput):  # 7 and "7" would be the same row in a CSV
        allocate([P(7, 1, 1), P("7", 1, 1)], {})


@pytest.mark.parametrize(
    ("quotas", "code", "needle_en"),
    [
        ({HAENGSIN2: -1}, "invalid_quota", f"quota of district {HAENGSIN2} is negative"),
        ({HAENGSIN2: float("nan")}, "invalid_quota", "is NaN"),
        ({HAENGSIN2: Decimal("10.5")}, "invalid_quota", "not a whole number"),
        ({4128165000: 1, "4128165000": 2}, "duplicate_quota", "two quotas"),
    ],
)
def test_invalid_quotas_are_refused_naming_the_district(quotas, code, needle_en):
    with pytest.raises(InvalidInput) as err:
        allocate([P("a", 1, 1)], quotas)
    assert err.value.code == code
    assert needle_en in err.value.en and err.value.ko


@pytest.mark.parametrize(
    ("kwargs", "needle_en"),
    [
        ({"pools": {"area": 0.7, "individual": 0.4}}, "add up to more than 1"),
        ({"pools": {"area": 0.6}}, "exactly area and individual"),
        ({"pools": {"area": 0.6, "indvidual": 0.4}}, "exactly area and individual"),
        ({"construction_share": 1.5}, "construction_share must be a number from 0 to 1"),
        ({"construction_share": -0.1}, "from 0 to 1"),
        ({"construction_share": float("nan")}, "from 0 to 1"),
        ({"construction_share": "half"}, "from 0 to 1"),
        ({"endorsed_first": "yes"}, "endorsed_first must be true or false"),
    ],
)
def test_invalid_rules_are_refused(kwargs, needle_en):
    with pytest.raises(InvalidInput) as err:
        AllocationRules(**kwargs)
    assert err.value.code == "invalid_rules"
    assert needle_en in err.value.en and "배분 규칙" in err.value.ko


def test_rules_from_mapping_refuses_unknown_keys():
    with pytest.raises(InvalidInput, match="construction_shares"):
        AllocationRules.from_mapping({"construction_shares": 0.5})
    assert AllocationRules.from_mapping(None) == AllocationRules()


def test_shares_are_exact_fractions():
    r = AllocationRules(construction_share=0.1, pools={"area": Decimal("0.6"), "individual": "2/5"})
    assert r.construction_share == Fraction(1, 10)
    assert r.pools == {"area": Fraction(3, 5), "individual": Fraction(2, 5)}


def test_proposals_from_a_frame_and_pandas_numbers():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "district_code": [int(HAENGSIN2)] * 3,
            "cost": [30 * M, 30 * M, 12 * M],  # "cost" accepted for cost_krw
            "votes": np.array([3, 2, 1], dtype="int64"),
            "eligible": [True, True, np.True_],
        }
    )
    decisions = allocate(frame.to_dict("records"), pd.Series({HAENGSIN2: 50.0 * M}), district_names=NAMES)
    assert selected_ids(decisions) == ["a", "c"]
    assert all(type(d.cost_krw) is int and type(d.left_after_krw) is int for d in decisions)
    assert decisions[0].district_code == HAENGSIN2 and decisions[0].district_name == "행신2동"


def test_decisions_frame_has_one_row_per_proposal():
    decisions = allocate([P("a", 5, 2), P("b", 9, 1, district=JUGYO)], {HAENGSIN2: 10})
    frame = decisions_frame(decisions)
    assert list(frame.columns)[:8] == ["id", "district_code", "district_name", "rank", "selected", "code", "reason_ko", "reason_en"]
    assert frame["selected"].tolist() == [False, True] and str(frame["cost_krw"].dtype) == "int64"
    empty = decisions_frame([])
    assert list(empty.columns) == list(frame.columns) and len(empty) == 0
    assert isinstance(decisions[0], AllocationDecision)


def test_rules_yaml_subset_and_json(tmp_path):
    yaml_text = "# 2026 rules\nendorsed_first: true\nconstruction_share: 0.5  # half\npools:\n  area: 0.6\n  individual: 0.4\n"
    assert parse_rules_yaml(yaml_text) == {
        "endorsed_first": True,
        "construction_share": Decimal("0.5"),
        "pools": {"area": Decimal("0.6"), "individual": Decimal("0.4")},
    }
    path = tmp_path / "r.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    expected = AllocationRules(endorsed_first=True, construction_share=Fraction(1, 2), pools={"area": Fraction(3, 5), "individual": Fraction(2, 5)})
    assert read_rules(path) == expected
    path.write_text("pools: {area: 0.6, individual: 0.4}\nconstruction_share: ~\n", encoding="utf-8")
    assert read_rules(path) == AllocationRules(pools={"area": 0.6, "individual": 0.4})
    path.write_text('{"endorsed_first": true, "construction_share": 0.5, "pools": {"area": 0.6, "individual": 0.4}}', encoding="utf-8")
    assert read_rules(path) == expected
    path.write_text("pools:\n", encoding="utf-8")
    assert read_rules(path) == AllocationRules()
    for bad in ("pools:\n\tarea: 0.6\n", "  area: 0.6\n", "endorsed_first true\n", "pools: [0.6, 0.4]\n", '{"pools": '):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(InvalidInput) as err:
            read_rules(path)
        assert err.value.code == "invalid_rules" and str(path) in err.value.en


def test_kinds_are_the_proposal_kinds():
    from planning.proposals import KINDS as PROPOSAL_KINDS

    assert KINDS == PROPOSAL_KINDS
