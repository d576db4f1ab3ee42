"""Hub suggestion (p-median): exact against brute force, constraints, ties, refusals, adoption on both engines."""
from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.boundaries import admin_dongs
from geo.crs import lonlat_to_metric, metric_to_lonlat
from planning import geography
from planning.accounts import register
from planning.auth import Actor, actor_for
from planning.centres import initial_centres, initial_hub_codes
from planning.errors import InvalidInput, NotAllowed
from planning.geography import centres_frame, install_reference_data
from planning.hub_suggestion import (
    TIE_TOLERANCE_M,
    HubChanges,
    adopt_suggestion,
    centres_with_voters,
    evaluate_hubs,
    suggest_hubs,
)

PASSWORD = "correct horse battery"
ORIGIN_M = (955_000.0, 1_955_000.0)  # EPSG:5179, inside Goyang


def real_centres() -> gpd.GeoDataFrame:
    """The 44 shipped centres with their dong's 2022 voters."""
    c = initial_centres()
    c["voters"] = c["code"].map(admin_dongs().set_index("adm_code")["voters"])
    return c


def frame_from_metric(codes, x_m, y_m, voters) -> gpd.GeoDataFrame:
    """Centres placed in EPSG:5179 metres (so distances are known exactly), stored as lon/lat."""
    lon, lat = metric_to_lonlat(np.asarray(x_m, float) + ORIGIN_M[0], np.asarray(y_m, float) + ORIGIN_M[1])
    return gpd.GeoDataFrame(
        {"code": list(codes), "name": [f"centre {c}" for c in codes], "voters": list(voters)},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def brute_force(centres: gpd.GeoDataFrame, k: int, candidates=None, fixed=()) -> tuple[tuple[str, ...], float]:
    """Best (codes, sum voters × metres) over every combination; ties to the lexicographically smallest codes."""
    df = centres.sort_values("code")
    codes = df["code"].tolist()
    x, y = lonlat_to_metric(df.geometry.x, df.geometry.y)
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    w = df["voters"].to_numpy(float)
    sites = [i for i, c in enumerate(codes) if candidates is None or c in set(candidates)]
    must = {codes.index(c) for c in fixed}
    best: tuple[float, tuple[str, ...]] | None = None
    for combo in itertools.combinations(sites, k):  # ascending, so the first of equals is the smallest
        if not must <= set(combo):
            continue
        obj = float(w @ d[:, list(combo)].min(axis=1))
        if best is None or obj < best[0] - TIE_TOLERANCE_M * w.sum():
            best = (obj, tuple(codes[i] for i in combo))
    assert best is not None
    return best[1], best[0]


def assert_consistent(s, centres: gpd.GeoDataFrame) -> None:
    """Figures agree with each other: nearest hubs, mean, worst, objective."""
    df = centres.sort_values("code")
    x, y = lonlat_to_metric(df.geometry.x, df.geometry.y)
    pos = {c: (xi, yi) for c, xi, yi in zip(df["code"], x, y)}
    assert list(s.codes) == sorted(s.codes) and len(set(s.codes)) == s.k
    for code in s.codes:
        assert s.assignment[code] == code
    total = 0.0
    for code, voters in zip(df["code"], df["voters"]):
        dists = {h: float(np.hypot(pos[code][0] - pos[h][0], pos[code][1] - pos[h][1])) for h in s.codes}
        assert s.assignment[code] in s.codes
        assert s.distance_m[code] == pytest.approx(min(dists.values()), abs=1e-6)
        assert dists[s.assignment[code]] == pytest.approx(min(dists.values()), abs=1e-6)
        total += voters * s.distance_m[code]
    assert s.objective == pytest.approx(total, rel=1e-12)
    assert s.weighted_mean_m == pytest.approx(total / df["voters"].sum(), rel=1e-12)
    assert s.worst_m == pytest.approx(max(s.distance_m.values()))


# --- exactness -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_random_instance_matches_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    codes = [f"41280{i:05d}" for i in rng.permutation(10)]  # frame rows not in code order
    centres = frame_from_metric(codes, rng.uniform(0, 15_000, 10), rng.uniform(0, 15_000, 10), rng.integers(1_000, 40_000, 10))
    s = suggest_hubs(centres, k)
    codes_bf, obj_bf = brute_force(centres, k)
    assert s.codes == codes_bf
    assert s.objective == pytest.approx(obj_bf, rel=1e-9)
    assert_consistent(s, centres)


def test_real_subset_matches_brute_force():
    c = real_centres()
    subset = c[c["code"].str.startswith("41287")]  # 일산서구: 15 dongs
    assert len(subset) >= 10
    for k in (2, 4, 6):
        s = suggest_hubs(subset, k)
        codes_bf, obj_bf = brute_force(subset, k)
        assert s.codes == codes_bf and s.objective == pytest.approx(obj_bf, rel=1e-9)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_all_dongs_small_k_matches_brute_force(k):
    c = real_centres()
    s = suggest_hubs(c, k)
    codes_bf, obj_bf = brute_force(c, k)
    assert s.codes == codes_bf and s.objective == pytest.approx(obj_bf, rel=1e-9)


def test_real_data_eleven_hubs_beat_or_match_the_current_designation():
    c = real_centres()
    current = evaluate_hubs(c, initial_hub_codes())
    suggested = suggest_hubs(c, 11)
    assert current.k == suggested.k == len(initial_hub_codes()) == 11
    assert suggested.objective <= current.objective
    assert suggested.weighted_mean_m <= current.weighted_mean_m
    assert current.solve_s == 0 and suggested.solve_s > 0
    assert_consistent(current, c)
    assert_consistent(suggested, c)
    # Changing any one suggested hub for any other centre is no better (a local check of optimality on all 44).
    for out in suggested.codes:
        for into in set(c["code"]) - set(suggested.codes):
            swapped = evaluate_hubs(c, (set(suggested.codes) - {out}) | {into})
            assert swapped.objective >= suggested.objective - 1e-6


# --- fixed hubs and candidates -------------------------------------------------------------


def test_fixed_hubs_are_kept_and_the_rest_is_optimal():
    c = real_centres()
    subset = c[c["code"].str.startswith("41287")]
    fixed = ["4128758000", "4128754500"]  # 송포동, 탄현1동 (current hubs)
    s = suggest_hubs(subset, 4, fixed=fixed)
    assert set(fixed) <= set(s.codes)
    codes_bf, obj_bf = brute_force(subset, 4, fixed=fixed)
    assert s.codes == codes_bf and s.objective == pytest.approx(obj_bf, rel=1e-9)
    assert s.objective >= suggest_hubs(subset, 4).objective - 1e-6


def test_candidates_restrict_where_hubs_may_be():
    c = real_centres()
    current = sorted(initial_hub_codes())
    extra = "4128157600"
    candidates = [*current, extra]
    s = suggest_hubs(c, 11, candidates=candidates)
    assert set(s.codes) <= set(candidates)
    codes_bf, obj_bf = brute_force(c, 11, candidates=candidates)  # 12 combinations over all 44 dongs
    assert s.codes == codes_bf and s.objective == pytest.approx(obj_bf, rel=1e-9)
    assert s.objective <= evaluate_hubs(c, current).objective
    # every dong is still served, by a candidate
    assert set(s.assignment) == set(c["code"]) and set(s.assignment.values()) <= set(candidates)


def test_fixed_with_candidates_and_k_equal_to_fixed():
    c = real_centres()
    current = sorted(initial_hub_codes())
    s = suggest_hubs(c, 11, candidates=current, fixed=current)
    assert s.codes == tuple(current)
    assert s.objective == pytest.approx(evaluate_hubs(c, current).objective)


def test_fixed_outside_candidates_and_unknown_codes_are_refused():
    c = real_centres()
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(c, 3, candidates=["4128160000", "4128151000", "4128157700"], fixed=["4128758000"])
    assert exc.value.code == "fixed_not_candidate" and "4128758000" in exc.value.ko and "4128758000" in exc.value.en
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(c, 3, fixed=["9999999999"])
    assert exc.value.code == "unknown_fixed_codes" and "9999999999" in exc.value.en
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(c, 3, candidates=["4128160000", "nope"])
    assert exc.value.code == "unknown_candidates_codes"
    with pytest.raises(InvalidInput):
        evaluate_hubs(c, [])
    with pytest.raises(InvalidInput):
        evaluate_hubs(c, ["0000000000"])


# --- ties ------------------------------------------------------------------------------------


def line_of_four(order=(0, 1, 2, 3)) -> gpd.GeoDataFrame:
    """Four equal dongs 1 km apart on a line; codes deliberately not in line order."""
    codes = ["4128000040", "4128000010", "4128000030", "4128000020"]  # west to east
    xs = [0.0, 1000.0, 2000.0, 3000.0]
    rows = list(order)
    return frame_from_metric([codes[i] for i in rows], [xs[i] for i in rows], [0.0] * 4, [5000] * 4)


def test_ties_go_to_the_smallest_codes_whatever_the_row_order():
    # k=1: the two middle dongs (10 and 30) are equally good (4 km in all) → 10.
    # k=2: {40,30}, {40,20}, {10,30}, {10,20} all give 2 km; the smallest sorted list is (10, 20).
    results = {}
    for order in itertools.permutations(range(4)):
        c = line_of_four(order)
        results[order] = (suggest_hubs(c, 1), suggest_hubs(c, 2))
    for one, two in results.values():
        assert one.codes == ("4128000010",)
        assert two.codes == ("4128000010", "4128000020")
        assert two.objective == pytest.approx(2 * 1000 * 5000, rel=1e-9)
    c = line_of_four()
    assert brute_force(c, 2)[0] == ("4128000010", "4128000020")
    # Dong 30 lies 1 km from both hubs 10 and 20: assigned to the smaller code, as in linking.
    assert results[(0, 1, 2, 3)][1].assignment["4128000030"] == "4128000010"


@pytest.mark.parametrize("seed", range(6))
def test_ties_on_a_symmetric_grid_match_brute_force(seed):
    # A 3 x 3 grid of equal dongs has many equally good designations; codes are shuffled over the
    # grid so the solver's first optimum is often not the smallest list and the tie pass must work.
    perm = np.random.default_rng(seed).permutation(9)
    c = frame_from_metric([f"41280000{p:02d}" for p in perm], [1000 * (i % 3) for i in range(9)], [1000 * (i // 3) for i in range(9)], [100] * 9)
    for k in (2, 3, 4):
        s = suggest_hubs(c, k)
        codes_bf, obj_bf = brute_force(c, k)
        assert s.codes == codes_bf and s.objective == pytest.approx(obj_bf, rel=1e-9)


def test_repeat_runs_and_row_order_give_identical_results_on_real_data():
    real = real_centres()
    a, b = suggest_hubs(real, 11), suggest_hubs(real.sample(frac=1, random_state=7), 11)
    assert (a.codes, a.assignment, a.distance_m, a.objective) == (b.codes, b.assignment, b.distance_m, b.objective)


def test_square_ties_explicitly():
    codes = ["4128000004", "4128000002", "4128000003", "4128000001"]
    c = frame_from_metric(codes, [0, 2000, 0, 2000], [0, 0, 2000, 2000], [7000] * 4)
    # k=1: every corner gives 2 + 2 + 2.83 km → the smallest code.
    assert suggest_hubs(c, 1).codes == ("4128000001",)
    # k=2: adjacent or opposite corners, the other two are 2 km from a hub either way → all six tie.
    assert suggest_hubs(c, 2).codes == ("4128000001", "4128000002") == brute_force(c, 2)[0]
    assert suggest_hubs(c, 3).codes == ("4128000001", "4128000002", "4128000003") == brute_force(c, 3)[0]


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1, 45, 100])
def test_k_out_of_range_is_refused_in_both_languages(k):
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(real_centres(), k)
    err = exc.value
    assert err.code == "k_out_of_range"
    assert "거점 수는 1에서 44 사이여야 합니다" in err.message("ko") and str(k) in err.ko
    assert "The number of hubs must be between 1 and 44" in err.message("en") and str(k) in err.en
    assert err.ko in str(err) and err.en in str(err)


def test_k_limits_follow_candidates_and_fixed():
    c = real_centres()
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(c, 4, candidates=["4128160000", "4128151000", "4128157700"])
    assert "1에서 3 사이" in exc.value.ko and "between 1 and 3" in exc.value.en
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(c, 1, fixed=["4128160000", "4128151000"])
    assert "2에서 44 사이" in exc.value.ko and "between 2 and 44" in exc.value.en


@pytest.mark.parametrize("k", [2.0, "3", True, None])
def test_k_must_be_an_integer(k):
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(real_centres(), k)
    assert exc.value.code == "bad_k" and "정수" in exc.value.ko and "whole number" in exc.value.en


def test_bad_frames_are_refused():
    c = real_centres()
    with pytest.raises(ValueError, match="EPSG:4326"):
        suggest_hubs(c.to_crs(5179), 3)
    zero = c.assign(voters=0)
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(zero, 3)
    assert exc.value.code == "bad_voters"
    dup = gpd.GeoDataFrame(pd.concat([c.iloc[:3], c.iloc[:1]]), geometry="geometry", crs="EPSG:4326")
    with pytest.raises(InvalidInput) as exc:
        suggest_hubs(dup, 2)
    assert exc.value.code == "duplicate_codes"


# --- adoption in the store -------------------------------------------------------------------


@pytest.fixture
def people(store):
    install_reference_data(store)
    ids = {
        "resident": register(store, "minji", PASSWORD, "민지", "4128164000"),
        "planner": register(store, "planner", PASSWORD, "이기획", None, role="planner"),
        "admin": register(store, "admin", PASSWORD, "관리자", None, role="admin"),
    }
    return store, ids


def stored_hubs(store) -> set[str]:
    return set(centres_frame(store, hubs_only=True)["code"])


def test_centres_with_voters_reads_the_store(people):
    store, _ = people
    frame = centres_with_voters(store)
    assert len(frame) == 44 and frame.crs.to_epsg() == 4326
    expected = real_centres().set_index("code")["voters"]
    assert frame.set_index("code")["voters"].to_dict() == expected.to_dict()
    assert suggest_hubs(frame, 11).codes == suggest_hubs(real_centres(), 11).codes


def test_non_admins_cannot_adopt_and_nothing_changes(people):
    store, ids = people
    suggestion = suggest_hubs(centres_with_voters(store), 11)
    before = centres_frame(store)
    for actor in (actor_for(store, ids["resident"]), actor_for(store, ids["planner"]), Actor.anonymous()):
        with pytest.raises(NotAllowed):
            adopt_suggestion(store, actor, suggestion)
    # A made-up actor claiming the admin role is judged by the store's record.
    forged = dataclasses.replace(actor_for(store, ids["resident"]), role="admin")
    with pytest.raises(NotAllowed) as exc:
        adopt_suggestion(store, forged, suggestion)
    assert exc.value.code == "role_required"
    after = centres_frame(store)
    assert after[["code", "is_hub"]].equals(before[["code", "is_hub"]])
    assert stored_hubs(store) == initial_hub_codes()


def test_admin_adopts_exactly_the_suggested_hubs(people):
    store, ids = people
    admin = actor_for(store, ids["admin"])
    suggestion = suggest_hubs(centres_with_voters(store), 11)
    changes = adopt_suggestion(store, admin, suggestion)
    assert stored_hubs(store) == set(suggestion.codes)
    assert set(changes.added) == set(suggestion.codes) - initial_hub_codes()
    assert set(changes.removed) == initial_hub_codes() - set(suggestion.codes)
    assert list(changes.added) == sorted(changes.added) and list(changes.removed) == sorted(changes.removed)
    # adopting again changes nothing; a smaller designation switches the rest off
    assert adopt_suggestion(store, admin, suggestion) == HubChanges(added=(), removed=())
    three = suggest_hubs(centres_with_voters(store), 3)
    adopt_suggestion(store, admin, three)
    assert stored_hubs(store) == set(three.codes)
    # linking follows the new designation
    assert set(geography.gazetteer(store).hubs.codes) == set(three.codes)


def test_unknown_codes_in_a_suggestion_write_nothing(people):
    store, ids = people
    admin = actor_for(store, ids["admin"])
    good = suggest_hubs(centres_with_voters(store), 11)
    bad = dataclasses.replace(good, codes=(*good.codes[:-1], "4128999999"))
    with pytest.raises(InvalidInput) as exc:
        adopt_suggestion(store, admin, bad)
    assert "4128999999" in exc.value.ko and "4128999999" in exc.value.en
    assert stored_hubs(store) == initial_hub_codes()


def test_a_failure_part_way_restores_the_previous_designation(people, monkeypatch):
    store, ids = people
    admin = actor_for(store, ids["admin"])
    suggestion = suggest_hubs(centres_with_voters(store), 3)  # several on, several off
    real_set_hub = geography.set_hub
    calls = {"n": 0}

    def flaky(store_, actor, code, is_hub):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("connection lost")
        return real_set_hub(store_, actor, code, is_hub)

    monkeypatch.setattr(geography, "set_hub", flaky)
    with pytest.raises(RuntimeError, match="connection lost"):
        adopt_suggestion(store, admin, suggestion)
    assert stored_hubs(store) == initial_hub_codes()
