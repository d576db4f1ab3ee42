"""Suggest which community centres to designate as hubs (거점 동 복합주민센터): the p-median problem.

Each administrative dong is a demand point (its centre's location, weighted by
the dong's voters); a dong is served by its nearest hub. :func:`suggest_hubs`
chooses the ``k`` hubs that minimise the voter-weighted straight-line distance
(EPSG:5179 metres) from every dong's centre to its nearest hub, exactly, by
integer programming (:func:`scipy.optimize.milp`, HiGHS); :func:`evaluate_hubs`
gives the same figures for any designation (the current one, for the
side-by-side view); :func:`adopt_suggestion` makes a suggestion the designation.

Model (``n`` dongs ``i``, ``m`` candidate sites ``j``)::

    minimise    sum_ij  w_i d_ij x_ij / W          (W = total voters: the weighted mean, in metres)
    subject to  sum_j x_ij = 1                     every dong is served
                x_ij <= y_j                        only by a hub
                sum_j y_j = k
                y_j = 1 for fixed codes,  y_j in {0, 1},  0 <= x_ij <= 1

``x`` can stay continuous: with ``y`` integral, serving each dong from its
nearest open hub is an optimal ``x``. The assignment reported is always "the
nearest hub, ties to the smaller code", as in linking (README, *Linking rules*).

Ties. Several designations can be equally good (symmetric layouts). The
answer is then the one whose sorted code list is lexicographically smallest,
found by a second, exact pass rather than by an epsilon in the objective
(which could outweigh a real difference of distances): the optimum ``z*`` is
fixed as a bound (``objective <= z* + TIE_TOLERANCE_M``); one more solve shows
whether another designation meets it; only if so, codes are tried in ascending
order, each kept as a hub when some designation within the bound still
contains it. Designations whose weighted means differ by less than
:data:`TIE_TOLERANCE_M` (a micrometre) count as tied.
"""
from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from geo.crs import STORAGE_EPSG, lonlat_to_metric
from planning import geography
from planning.errors import InvalidInput

if TYPE_CHECKING:
    from planning.auth import Actor
    from store import Store

#: Designations whose voter-weighted mean distances differ by less than this (metres) are tied.
TIE_TOLERANCE_M = 1e-6
#: HiGHS options: a zero relative gap makes the solve exact (default 1e-4 would stop at 0.01 % from optimal).
_MILP_OPTIONS = {"mip_rel_gap": 0.0, "presolve": True}


@dataclass(frozen=True)
class HubSuggestion:
    """A hub designation and how well it serves the dongs.

    Attributes
    ----------
    codes : tuple of str
        The hub codes, sorted.
    assignment : Mapping[str, str]
        Dong (centre) code → code of its nearest hub (ties to the smaller code).
    distance_m : Mapping[str, float]
        Dong code → straight-line distance to its hub, EPSG:5179 metres.
    weighted_mean_m : float
        Voter-weighted mean distance from a dong's centre to its hub, metres.
    worst_m : float
        The largest distance of any dong to its hub, metres.
    objective : float
        Sum over dongs of voters × metres (the p-median objective).
    solve_s : float
        Wall-clock seconds spent in the solver (0 for :func:`evaluate_hubs`).
    """

    codes: tuple[str, ...]
    assignment: Mapping[str, str]
    distance_m: Mapping[str, float]
    weighted_mean_m: float
    worst_m: float
    objective: float
    solve_s: float = 0.0

    @property
    def k(self) -> int:
        """The number of hubs."""
        return len(self.codes)


@dataclass(frozen=True)
class HubChanges:
    """What :func:`adopt_suggestion` changed: centres made hubs and centres no longer hubs (sorted codes)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class _Instance:
    codes: np.ndarray  # (n,) str, ascending
    voters: np.ndarray  # (n,) float
    dist_m: np.ndarray  # (n, n) metres


def centres_with_voters(store: Store) -> gpd.GeoDataFrame:
    """The stored centres with their dong's voters, as :func:`suggest_hubs` takes them.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; ``code, name, district_code, is_hub, voters`` and the
        centre's Point, ordered by code.
    """
    centres = geography.centres_frame(store)
    voters = geography.districts_frame(store).set_index("adm_code")["voters"]
    centres["voters"] = centres["district_code"].map(voters).fillna(0).astype("int64")
    return centres[["code", "name", "district_code", "is_hub", "voters", "geometry"]]


def suggest_hubs(
    centres: gpd.GeoDataFrame,
    k: int,
    *,
    candidates: Iterable[str] | None = None,
    fixed: Iterable[str] = (),
) -> HubSuggestion:
    """The ``k`` hubs minimising the voter-weighted distance of every dong to its nearest hub.

    Exact (p-median by integer programming); ties go to the lexicographically
    smallest list of codes (see the module docstring).

    Parameters
    ----------
    centres : geopandas.GeoDataFrame
        One row per dong in EPSG:4326: ``code`` (unique), ``voters`` (>= 0,
        not all 0) and a Point geometry (the centre). Other columns are ignored.
    k : int
        How many hubs, 1 … number of centres (or of ``candidates``).
    candidates : iterable of str, optional
        Codes that may become hubs (default: every centre). Must include ``fixed``.
    fixed : iterable of str
        Codes that must be hubs.

    Returns
    -------
    HubSuggestion

    Raises
    ------
    InvalidInput
        ``k`` out of range or not an integer, unknown codes, ``fixed`` outside
        ``candidates`` or more than ``k`` of them, bad voters or geometries.
    """
    inst = _instance(centres)
    n = len(inst.codes)
    known = set(inst.codes.tolist())
    fixed_set = _known_codes(fixed, known, "fixed")
    cand_set = known if candidates is None else _known_codes(candidates, known, "candidates")
    if not cand_set:
        raise InvalidInput("no_candidates", "거점 후보 주민센터가 하나도 없습니다.", "There are no candidate centres for hubs.")
    outside = fixed_set - cand_set
    if outside:
        raise InvalidInput(
            "fixed_not_candidate",
            f"고정한 거점이 후보에 없습니다: {', '.join(sorted(outside))}. 후보에 넣거나 고정을 풀어 주세요.",
            f"Fixed hubs are not among the candidates: {', '.join(sorted(outside))}. Add them or unfix them.",
        )
    _check_k(k, len(cand_set), len(fixed_set), n)

    cand_idx = np.array([i for i, c in enumerate(inst.codes) if c in cand_set])  # ascending code order
    started = time.perf_counter()
    chosen = _solve(inst, int(k), cand_idx, {int(np.flatnonzero(inst.codes == c)[0]) for c in fixed_set})
    elapsed = time.perf_counter() - started
    return replace(_evaluate(inst, chosen), solve_s=elapsed)


def evaluate_hubs(centres: gpd.GeoDataFrame, hub_codes: Iterable[str]) -> HubSuggestion:
    """The same figures as :func:`suggest_hubs` for a given designation (e.g. the current hubs).

    Parameters
    ----------
    centres : geopandas.GeoDataFrame
        As for :func:`suggest_hubs`.
    hub_codes : iterable of str
        The hubs; at least one, all among ``centres``.

    Raises
    ------
    InvalidInput
        No hubs, or codes not among the centres.
    """
    inst = _instance(centres)
    hubs = _known_codes(hub_codes, set(inst.codes.tolist()), "hubs")
    if not hubs:
        raise InvalidInput("no_hubs", "거점 주민센터를 하나 이상 지정해 주세요.", "Please designate at least one hub centre.")
    return _evaluate(inst, np.array([i for i, c in enumerate(inst.codes) if c in hubs]))


def adopt_suggestion(store: Store, actor: Actor, suggestion: HubSuggestion) -> HubChanges:
    """Make ``suggestion.codes`` exactly the hub designation (admins only).

    :func:`planning.geography.set_hub` opens one transaction per centre, so
    this cannot be one transaction. It is made safe instead: the actor's role
    (re-read from the store) and every code are checked, and the changes
    computed, before anything is written, so a refusal writes nothing; new hubs
    are switched on before old ones are switched off, so linking never sees a
    city without hubs; if a write fails part-way, the centres already changed
    are set back to their previous value and the error is raised.

    Returns
    -------
    HubChanges
        The centres made hubs and those no longer hubs.

    Raises
    ------
    planning.errors.NotAllowed
        The actor is not (or no longer) an admin.
    InvalidInput
        The suggestion names no hub or centres that are not stored.
    """
    from planning.auth import actor_in, require_role

    with store.transaction() as tx:
        fresh = require_role(actor_in(tx, actor), "admin")
        current = {c.code: bool(c.is_hub) for c in tx.centres.list()}
    wanted = _known_codes(suggestion.codes, set(current), "suggestion")
    if not wanted:
        raise InvalidInput("no_hubs", "거점 주민센터를 하나 이상 지정해 주세요.", "Please designate at least one hub centre.")
    added = tuple(sorted(c for c in wanted if not current[c]))
    removed = tuple(sorted(c for c, is_hub in current.items() if is_hub and c not in wanted))
    done: list[tuple[str, bool]] = []
    try:
        for code, is_hub in [*((c, True) for c in added), *((c, False) for c in removed)]:
            geography.set_hub(store, fresh, code, is_hub)
            done.append((code, is_hub))
    except BaseException:
        for code, is_hub in reversed(done):
            geography.set_hub(store, fresh, code, not is_hub)
        raise
    return HubChanges(added=added, removed=removed)


# --- internals -------------------------------------------------------------------------------


def _instance(centres: gpd.GeoDataFrame) -> _Instance:
    """Codes, voters and the metric distance matrix of ``centres``, ordered by code."""
    if centres.crs is None or centres.crs.to_epsg() != STORAGE_EPSG:
        raise ValueError(f"centres must be in EPSG:{STORAGE_EPSG} (lon/lat); reproject at the boundary, got {centres.crs}")
    missing = {"code", "voters"} - set(centres.columns)
    if missing:
        raise ValueError(f"centres lack the columns {sorted(missing)}")
    if len(centres) == 0:
        raise InvalidInput("no_centres", "주민센터가 하나도 없습니다.", "There are no community centres.")
    codes = centres["code"].astype(str).to_numpy()
    dupes = sorted({c for c in codes.tolist() if (codes == c).sum() > 1})
    if dupes:
        raise InvalidInput("duplicate_codes", f"주민센터 코드가 중복됩니다: {', '.join(dupes)}", f"Duplicate centre codes: {', '.join(dupes)}")
    geoms = centres.geometry
    if geoms.isna().any() or geoms.is_empty.any() or (geoms.geom_type != "Point").any():
        raise InvalidInput("bad_centre_geometry", "주민센터 위치는 점이어야 합니다.", "Centre locations must be points.")
    voters = centres["voters"].to_numpy(dtype=float)
    if not np.isfinite(voters).all() or (voters < 0).any() or voters.sum() <= 0:
        raise InvalidInput(
            "bad_voters",
            "유권자 수는 0 이상의 수여야 하며 합계가 0보다 커야 합니다.",
            "Voter counts must be numbers of at least 0, with a positive total.",
        )
    x, y = lonlat_to_metric(geoms.x.to_numpy(), geoms.y.to_numpy())
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InvalidInput("bad_centre_geometry", "주민센터 좌표가 올바르지 않습니다.", "Centre coordinates are not valid.")
    order = np.argsort(codes, kind="stable")
    codes, voters, x, y = codes[order], voters[order], x[order], y[order]
    dist_m = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    return _Instance(codes=codes, voters=voters, dist_m=dist_m)


def _known_codes(codes: Iterable[str] | str, known: Collection[str], what: str) -> set[str]:
    """``codes`` as a set of strings, refused when one is not among ``known``."""
    if isinstance(codes, str):  # one code, not its characters
        codes = [codes]
    wanted = {str(c) for c in codes}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise InvalidInput(
            f"unknown_{what}_codes",
            f"알 수 없는 주민센터 코드입니다: {', '.join(unknown)}",
            f"Unknown community-centre codes: {', '.join(unknown)}",
        )
    return wanted


def _check_k(k: object, sites: int, n_fixed: int, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InvalidInput("bad_k", "거점 수는 정수여야 합니다.", "The number of hubs must be a whole number.")
    low = max(1, n_fixed)
    if not low <= k <= sites:
        raise InvalidInput(
            "k_out_of_range",
            f"거점 수는 {low}에서 {sites} 사이여야 합니다(주민센터 {n}곳, 후보 {sites}곳, 고정 {n_fixed}곳). 입력한 값: {k}",
            f"The number of hubs must be between {low} and {sites} ({n} centres, {sites} candidates, {n_fixed} fixed); got {k}.",
        )


def _evaluate(inst: _Instance, hub_idx: np.ndarray) -> HubSuggestion:
    """Figures for the hubs at ``hub_idx`` (indices into ``inst``): nearest hub, ties to the smaller code."""
    hub_idx = np.sort(np.asarray(hub_idx, dtype=int))  # codes ascending, so argmin's first minimum is the smaller code
    d = inst.dist_m[:, hub_idx]
    nearest = np.argmin(d, axis=1)
    dist = d[np.arange(len(inst.codes)), nearest]
    objective = float(inst.voters @ dist)
    return HubSuggestion(
        codes=tuple(inst.codes[hub_idx].tolist()),
        assignment=dict(zip(inst.codes.tolist(), inst.codes[hub_idx[nearest]].tolist())),
        distance_m=dict(zip(inst.codes.tolist(), dist.tolist())),
        weighted_mean_m=objective / float(inst.voters.sum()),
        worst_m=float(dist.max()),
        objective=objective,
    )


def _solve(inst: _Instance, k: int, cand_idx: np.ndarray, fixed_idx: set[int]) -> np.ndarray:
    """Indices (into ``inst``) of the optimal hubs, lexicographically smallest among ties."""
    n, m = len(inst.codes), len(cand_idx)
    nx = n * m
    # The objective is the weighted mean in metres (not voter-metres, ~1e9) to keep HiGHS' tolerances meaningful.
    cost = np.concatenate([((inst.voters / inst.voters.sum())[:, None] * inst.dist_m[:, cand_idx]).ravel(), np.zeros(m)])
    serve = sparse.hstack([sparse.kron(sparse.eye(n), np.ones((1, m))), sparse.csr_matrix((n, m))])
    link = sparse.hstack([sparse.eye(nx), -sparse.kron(np.ones((n, 1)), sparse.eye(m))])
    count = sparse.hstack([sparse.csr_matrix((1, nx)), np.ones((1, m))])
    base = [
        LinearConstraint(serve.tocsr(), 1, 1),
        LinearConstraint(link.tocsr(), -np.inf, 0),
        LinearConstraint(count.tocsr(), k, k),
    ]
    integrality = np.concatenate([np.zeros(nx), np.ones(m)])
    lb = np.zeros(nx + m)
    for j, site in enumerate(cand_idx):
        if int(site) in fixed_idx:
            lb[nx + j] = 1
    ub = np.ones(nx + m)

    def run(constraints: list[LinearConstraint], lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
        res = milp(cost, constraints=constraints, integrality=integrality, bounds=Bounds(lower, upper), options=_MILP_OPTIONS)
        if res.status not in (0, 2):  # 2: infeasible, an answer in the tie pass
            raise RuntimeError(f"the hub solver did not finish: {res.message}")
        return None if res.status == 2 else np.flatnonzero(res.x[nx:] > 0.5)

    best = run(base, lb, ub)
    if best is None:  # cannot happen after _check_k; kept as a guard
        raise RuntimeError("the hub problem is infeasible")
    z_star = float(cost[:nx] @ _assignment_vector(inst, cand_idx, best))
    bound = LinearConstraint(cost[None, :], -np.inf, z_star + TIE_TOLERANCE_M)
    tied = [base[0], base[1], base[2], bound]

    # Is there another designation as good? One solve says no in the usual case.
    other = np.zeros((1, nx + m))
    other[0, nx + best] = 1
    if run([*tied, LinearConstraint(other, -np.inf, k - 1)], lb, ub) is None:
        return cand_idx[best]

    # Ties: keep each code, in ascending order, while some tied designation still contains it.
    current = set(best.tolist())
    lower, upper = lb.copy(), ub.copy()
    ones = {j for j in range(m) if lower[nx + j] == 1}
    for j in range(m):
        if len(ones) == k:
            break
        if j in ones:
            continue
        if j in current:
            found: np.ndarray | None = np.array(sorted(current))
        else:
            trial = lower.copy()
            trial[nx + j] = 1
            found = run(tied, trial, upper)
        if found is None:
            upper[nx + j] = 0
        else:
            lower[nx + j] = 1
            ones.add(j)
            current = set(found.tolist())
    # Every code of ``current`` was kept as it came up, so ``current`` is ``ones`` once the loop ends.
    return cand_idx[np.array(sorted(current))]


def _assignment_vector(inst: _Instance, cand_idx: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The ``x`` of serving every dong from its nearest chosen site (flattened n × m)."""
    n, m = len(inst.codes), len(cand_idx)
    x = np.zeros((n, m))
    nearest = chosen[np.argmin(inst.dist_m[:, cand_idx[chosen]], axis=1)]
    x[np.arange(n), nearest] = 1
    return x.ravel()
