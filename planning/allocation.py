"""Participatory-budget allocation: which proposals each district's quota pays for.

The rule is CONSUL Democracy's heading rule (``Budget::Result``): within each
district (a CONSUL *heading*, here an administrative dong with its own quota
in KRW) the eligible proposals are taken in rank order and each is selected
when its cost fits what is left of the quota; one that does not fit is passed
over and the next one is tried. Rank order is votes descending, then the lower
cost, then the lower id (CONSUL breaks vote ties by newest id instead; the
issue asks for cheaper-first, which keeps more money in play).

Optional rules (:class:`AllocationRules`, all off by default) add to that:

- ``endorsed_first``: area proposals endorsed by the residents' assembly
  (주민총회) are ranked before all other proposals of their district;
- ``construction_share``: construction proposals together may use at most
  this share of each district's quota;
- ``pools``: the quota is split into an area pool and an individual pool with
  set shares, each filled greedily on its own by the proposals of its kind.
  Money left in one pool is **not** moved to the other one: it stays unspent
  (the pools exist so that one kind cannot crowd out the other, and moving the
  rest would let it do exactly that). The district summary shows it as left.

The rules combine: the ranking (with ``endorsed_first``) is one order per
district; a proposal is selected when it is eligible, the district has a
quota, its cost fits what is left (of its pool, with ``pools``) and, for a
construction proposal, what is left under the construction cap.

Money is whole won (``int``) throughout; shares are exact fractions and a
share of a quota is rounded down to the won, so rounding never lets a
district spend more than its quota.

:func:`allocate` is pure and deterministic: the same proposals in any order
give the same decisions, sorted by district code and rank. File readers for
the command line (``python -m planning allocate``) are at the end.
"""
from __future__ import annotations

import csv
import io
import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from planning.errors import InvalidInput

#: Proposal kinds (the same as :data:`planning.proposals.KINDS`).
KINDS = ("area", "individual")

#: Reason codes of :class:`AllocationDecision`.
SELECTED = "selected"
DOES_NOT_FIT = "does_not_fit"
INELIGIBLE = "ineligible"
NO_QUOTA = "no_quota"
CONSTRUCTION_CAP = "construction_cap"
POOL_EXHAUSTED = "pool_exhausted"
REASON_CODES = (SELECTED, DOES_NOT_FIT, INELIGIBLE, NO_QUOTA, CONSTRUCTION_CAP, POOL_EXHAUSTED)

#: Columns written by :func:`write_decisions_csv`.
CSV_COLUMNS = ("id", "district_code", "selected", "rank", "reason")

_POOL_LABELS = {"area": ("지역 제안 몫", "area-proposal pool"), "individual": ("개인 제안 몫", "individual-proposal pool")}
_FIELD_LABELS = {
    "id": ("id", "id"),
    "district_code": ("지역 코드(district_code)", "district_code"),
    "cost_krw": ("비용(cost)", "cost"),
    "votes": ("득표수(votes)", "votes"),
    "kind": ("유형(kind)", "kind"),
    "category": ("분야(category)", "category"),
    "construction": ("공사성 여부(construction)", "construction"),
    "eligible": ("적격 여부(eligible)", "eligible"),
    "endorsed": ("주민총회 선정 여부(endorsed)", "endorsed"),
}


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class AllocationProposal:
    """One proposal as the allocation sees it.

    Parameters
    ----------
    id : str or int
        Unique among the proposals allocated together.
    district_code : str
        The budget district (administrative-dong code, 10 digits in Goyang).
    cost_krw : int
        Cost in whole won, 0 or more.
    votes : int
        Votes received, 0 or more.
    kind : {"area", "individual"}
        Area proposal (village or dong group) or individual proposal.
    category : str
        Policy field; carried along, not used by any rule.
    construction : bool
        A construction project (counts against ``construction_share``).
    eligible : bool
        Passed the feasibility review; ineligible proposals are never selected.
    endorsed : bool
        Endorsed by the residents' assembly (counts for ``endorsed_first``
        when the proposal is an area proposal).
    """

    id: str | int
    district_code: str
    cost_krw: int
    votes: int
    kind: str = "individual"
    category: str = ""
    construction: bool = False
    eligible: bool = True
    endorsed: bool = False


@dataclass(frozen=True)
class AllocationRules:
    """The optional rules; each is off by default, and they combine.

    Parameters
    ----------
    endorsed_first : bool
        Rank assembly-endorsed *area* proposals before all others of their
        district (among themselves: votes, cost, id as usual).
    construction_share : number or None
        Construction proposals together may use at most this share (0 to 1,
        e.g. ``0.5``) of each district's quota, rounded down to the won.
    pools : mapping or None
        Shares of each district's quota for area and individual proposals,
        e.g. ``{"area": 0.6, "individual": 0.4}``: both kinds, each 0 to 1,
        together at most 1 (anything below 1 is not spent). Each pool is
        rounded down to the won and filled greedily on its own; money left in
        one pool is not moved to the other.

    Shares may be given as float, int, ``Decimal``, ``Fraction`` or text
    (``"0.6"``, ``"3/5"``); they are kept as exact fractions (a float is
    read as the decimal it prints as, so ``0.6`` is exactly 3/5).
    """

    endorsed_first: bool = False
    # Given as any number type or text; normalised to Fraction in __post_init__.
    construction_share: Fraction | Decimal | float | str | None = None
    pools: Mapping[str, Fraction | Decimal | float | str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.endorsed_first, bool):
            raise _rules_error(
                f"endorsed_first는 true 또는 false여야 합니다 ({self.endorsed_first!r}).",
                f"endorsed_first must be true or false ({self.endorsed_first!r}).",
            )
        if self.construction_share is not None:
            object.__setattr__(self, "construction_share", _share(self.construction_share, "construction_share"))
        if self.pools is not None:
            if not isinstance(self.pools, Mapping):
                raise _rules_error(
                    "pools는 area와 individual의 몫을 적은 목록이어야 합니다 (예: area: 0.6, individual: 0.4).",
                    "pools must map area and individual to their shares (e.g. area: 0.6, individual: 0.4).",
                )
            keys = {str(k) for k in self.pools}
            if keys != set(KINDS):
                raise _rules_error(
                    f"pools에는 area와 individual 두 가지만 적어 주세요 (받은 것: {', '.join(sorted(keys)) or '없음'}).",
                    f"pools must name exactly area and individual (got: {', '.join(sorted(keys)) or 'nothing'}).",
                )
            pools = {str(k): _share(v, f"pools.{k}") for k, v in self.pools.items()}
            total = sum(pools.values(), Fraction(0))
            if total > 1:
                raise _rules_error(
                    f"pools의 몫을 합하면 1을 넘습니다 ({float(total):g}). 합이 1 이하가 되게 해 주세요.",
                    f"The pool shares add up to more than 1 ({float(total):g}). Please make them add up to at most 1.",
                )
            object.__setattr__(self, "pools", {k: pools[k] for k in KINDS})

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any] | None) -> AllocationRules:
        """Rules from a parsed rules document (keys as the fields; unknown keys refused)."""
        if doc is None:
            return cls()
        if not isinstance(doc, Mapping):
            raise _rules_error("규칙 파일은 '이름: 값' 목록이어야 합니다.", "The rules file must be a list of 'name: value' settings.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in doc if k not in known)
        if unknown:
            raise _rules_error(
                f"알 수 없는 규칙: {', '.join(unknown)}. 쓸 수 있는 규칙: {', '.join(sorted(known))}.",
                f"Unknown rule: {', '.join(unknown)}. Known rules: {', '.join(sorted(known))}.",
            )
        endorsed = doc.get("endorsed_first", False)
        return cls(endorsed_first=False if endorsed is None else endorsed, construction_share=doc.get("construction_share"), pools=doc.get("pools"))


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class AllocationDecision:
    """What the allocation decided for one proposal, and why.

    ``rank`` is the proposal's place (from 1) in its district's order, counting
    every proposal of the district, eligible or not. ``code`` is one of
    :data:`REASON_CODES`; ``reason_ko`` and ``reason_en`` say the same in
    plain words with the amounts. ``pool`` is the proposal's kind when pools
    are on, else ``None``. ``left_before_krw`` / ``left_after_krw`` are what
    was left of the quota (or of the pool) when the proposal was considered
    and after the decision (equal unless selected; 0 without a quota).
    """

    id: str | int
    district_code: str
    district_name: str | None
    rank: int
    selected: bool
    code: str
    reason_ko: str
    reason_en: str
    cost_krw: int
    votes: int
    kind: str
    construction: bool
    eligible: bool
    endorsed: bool
    pool: str | None = None
    left_before_krw: int = 0
    left_after_krw: int = 0

    def reason(self, lang: str = "ko") -> str:
        """The reason in ``lang`` (``"ko"`` or ``"en"``)."""
        return self.reason_en if lang == "en" else self.reason_ko


# ---------------------------------------------------------------- the rule


def allocate(
    proposals: Iterable[AllocationProposal | Mapping[str, Any]],
    quotas: Mapping[str, Any],
    rules: AllocationRules | None = None,
    *,
    district_names: Mapping[str, str] | None = None,
) -> list[AllocationDecision]:
    """Decide, district by district, which proposals the quotas pay for.

    Parameters
    ----------
    proposals : iterable of AllocationProposal or mappings
        Mappings use the field names of :class:`AllocationProposal` (``cost``
        is accepted for ``cost_krw``); e.g. ``frame.to_dict("records")``.
        Validated first (see :func:`validate_proposals`).
    quotas : mapping
        District code -> quota in whole won (see :func:`validate_quotas`).
        A district without an entry, or with 0, selects nothing (``no_quota``).
    rules : AllocationRules, optional
        Optional rules; with none (the default) this is CONSUL Democracy's
        heading rule.
    district_names : mapping, optional
        District code -> name (e.g. ``"행신2동"``) for the reasons; codes are
        shown where no name is known.

    Returns
    -------
    list of AllocationDecision
        One per proposal, sorted by district code and rank.

    Raises
    ------
    InvalidInput
        A proposal, quota or rule is invalid (the message names the row).

    Notes
    -----
    A district with quota 0 selects nothing, not even a proposal costing 0
    (CONSUL would select a free investment in a heading of price 0); a
    district that has a quota selects a proposal costing 0 whatever is left.
    """
    rules = rules if rules is not None else AllocationRules()
    if not isinstance(rules, AllocationRules):
        raise TypeError("rules must be an AllocationRules")
    checked = validate_proposals(proposals)
    quota_by_code = validate_quotas(quotas)
    names = {str(k): str(v) for k, v in (district_names or {}).items()}
    by_district: dict[str, list[AllocationProposal]] = {}
    for p in checked:
        by_district.setdefault(p.district_code, []).append(p)
    decisions: list[AllocationDecision] = []
    for code in sorted(by_district):
        decisions.extend(_allocate_district(code, by_district[code], quota_by_code.get(code), rules, names.get(code)))
    return decisions


def rank_key(proposal: AllocationProposal, rules: AllocationRules | None = None) -> tuple:
    """The sort key of the ranking within a district (smaller comes first).

    Endorsed area proposals first when ``rules.endorsed_first``; then votes
    descending, cost ascending, id ascending (ids that are whole numbers
    compare as numbers and come before other ids, which compare as text).
    """
    first = 0 if rules is not None and rules.endorsed_first and proposal.endorsed and proposal.kind == "area" else 1
    return (first, -proposal.votes, proposal.cost_krw, _id_key(proposal.id))


def _id_key(pid: str | int) -> tuple:
    text = str(pid)
    if text.isascii() and text.isdigit():
        return (0, int(text), text)
    return (1, 0, text)


def _fraction_of(amount_krw: int, share: Fraction) -> int:
    """``share`` of ``amount_krw``, rounded down to the won, in integers only."""
    return amount_krw * share.numerator // share.denominator


def _allocate_district(
    code: str,
    proposals: list[AllocationProposal],
    quota: int | None,
    rules: AllocationRules,
    name: str | None,
) -> list[AllocationDecision]:
    place = name or code
    ordered = sorted(proposals, key=lambda p: rank_key(p, rules))
    quota_krw = quota or 0
    # What is left to spend: one purse for the whole quota, or one per pool.
    if rules.pools is not None:
        left: dict[str | None, int] = {kind: _fraction_of(quota_krw, Fraction(share)) for kind, share in rules.pools.items()}
    else:
        left = {None: quota_krw}
    share = rules.construction_share
    cap = _fraction_of(quota_krw, share) if isinstance(share, Fraction) else None
    construction_used = 0
    out: list[AllocationDecision] = []
    for rank, p in enumerate(ordered, start=1):
        purse = p.kind if rules.pools is not None else None
        before = left[purse] if quota else 0
        after = before
        selected = False
        if not p.eligible:
            code_, ko, en = INELIGIBLE, "미선정: 심사 결과 선정 대상이 아닌 제안입니다 (부적격)", "not selected: this proposal is not eligible (ruled out in review)"
        elif not quota:
            code_ = NO_QUOTA
            if quota is None:
                ko, en = f"미선정: {place}에 배정된 예산이 없습니다", f"not selected: {place} has no budget quota"
            else:
                ko, en = f"미선정: {place}의 예산 배정액이 0원입니다", f"not selected: the quota of {place} is 0 KRW"
        elif p.cost_krw > before:
            if purse is None:
                code_ = DOES_NOT_FIT
                ko = f"미선정: {place} 잔액 {before:,}원, 이 제안 비용 {p.cost_krw:,}원"
                en = f"not selected: {before:,} KRW left in {place}, this costs {p.cost_krw:,} KRW"
            else:
                pool_ko, pool_en = _POOL_LABELS[purse]
                code_ = POOL_EXHAUSTED
                ko = f"미선정: {place} {pool_ko} 잔액 {before:,}원, 이 제안 비용 {p.cost_krw:,}원"
                en = f"not selected: {before:,} KRW left in the {pool_en} of {place}, this costs {p.cost_krw:,} KRW"
        elif cap is not None and p.construction and construction_used + p.cost_krw > cap:
            cap_left = cap - construction_used
            code_ = CONSTRUCTION_CAP
            ko = f"미선정: {place} 공사성 사업 한도 {cap:,}원 중 잔액 {cap_left:,}원, 이 제안 비용 {p.cost_krw:,}원"
            en = f"not selected: {cap_left:,} KRW left of the {cap:,} KRW construction cap in {place}, this costs {p.cost_krw:,} KRW"
        else:
            selected = True
            after = before - p.cost_krw
            left[purse] = after
            code_ = SELECTED
            if purse is None:
                ko = f"선정: {place} 잔액 {before:,}원, 이 제안 비용 {p.cost_krw:,}원, 선정 후 잔액 {after:,}원"
                en = f"selected: {before:,} KRW left in {place}, this costs {p.cost_krw:,} KRW, {after:,} KRW left after this"
            else:
                pool_ko, pool_en = _POOL_LABELS[purse]
                ko = f"선정: {place} {pool_ko} 잔액 {before:,}원, 이 제안 비용 {p.cost_krw:,}원, 선정 후 잔액 {after:,}원"
                en = (
                    f"selected: {before:,} KRW left in the {pool_en} of {place}, this costs {p.cost_krw:,} KRW, "
                    f"{after:,} KRW left after this"
                )
            if cap is not None and p.construction:
                construction_used += p.cost_krw
                ko += f", 공사성 사업 한도 잔액 {cap - construction_used:,}원"
                en += f", {cap - construction_used:,} KRW of the construction cap left"
        if p.eligible and rank_key(p, rules)[0] == 0:
            ko += " (주민총회 선정 지역 제안으로 우선 순위)"
            en += " (assembly-endorsed area proposal, ranked first)"
        out.append(
            AllocationDecision(
                id=p.id,
                district_code=code,
                district_name=name,
                rank=rank,
                selected=selected,
                code=code_,
                reason_ko=ko,
                reason_en=en,
                cost_krw=p.cost_krw,
                votes=p.votes,
                kind=p.kind,
                construction=p.construction,
                eligible=p.eligible,
                endorsed=p.endorsed,
                pool=purse,
                left_before_krw=before,
                left_after_krw=after,
            )
        )
    return out


# ---------------------------------------------------------------- views


def decisions_frame(decisions: Iterable[AllocationDecision]) -> pd.DataFrame:
    """The decisions as a DataFrame, one row per proposal, columns as :class:`AllocationDecision`'s fields."""
    columns = [f.name for f in fields(AllocationDecision)]
    frame = pd.DataFrame([asdict(d) for d in decisions], columns=columns)
    for col in ("rank", "cost_krw", "votes", "left_before_krw", "left_after_krw"):
        frame[col] = frame[col].astype("int64")
    for col in ("selected", "construction", "eligible", "endorsed"):
        frame[col] = frame[col].astype(bool)
    return frame


def district_summary(
    decisions: Iterable[AllocationDecision],
    quotas: Mapping[str, Any],
    district_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Per district: quota, money used and left, how many proposals and how many selected.

    Every district with a quota appears, with or without proposals, and so
    does every district that has proposals but no quota (quota 0). Columns
    ``district_code, district_name, quota_krw, used_krw, left_krw,
    proposal_count, selected_count``, sorted by district code; amounts in
    whole won (``int64``). With pools, ``left_krw`` includes what is left in
    either pool.
    """
    quota_by_code = validate_quotas(quotas)
    names = {str(k): str(v) for k, v in (district_names or {}).items()}
    used: dict[str, int] = {}
    count: dict[str, int] = {}
    chosen: dict[str, int] = {}
    for d in decisions:
        count[d.district_code] = count.get(d.district_code, 0) + 1
        if d.selected:
            used[d.district_code] = used.get(d.district_code, 0) + d.cost_krw
            chosen[d.district_code] = chosen.get(d.district_code, 0) + 1
        if d.district_name and d.district_code not in names:
            names[d.district_code] = d.district_name
    rows = []
    for code in sorted(set(quota_by_code) | set(count)):
        quota = quota_by_code.get(code, 0)
        rows.append(
            {
                "district_code": code,
                "district_name": names.get(code),
                "quota_krw": quota,
                "used_krw": used.get(code, 0),
                "left_krw": quota - used.get(code, 0),
                "proposal_count": count.get(code, 0),
                "selected_count": chosen.get(code, 0),
            }
        )
    columns = ["district_code", "district_name", "quota_krw", "used_krw", "left_krw", "proposal_count", "selected_count"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns[2:]:
        frame[col] = frame[col].astype("int64")
    return frame


# ---------------------------------------------------------------- validation


class _Problem(Exception):
    """What is wrong with one value (completed into an InvalidInput by the caller)."""

    def __init__(self, ko: str, en: str) -> None:
        super().__init__(en)
        self.ko = ko
        self.en = en


#: Most digits a count or an amount of won may have when written as text (10^30 won is beyond any budget).
MAX_DIGITS = 30
_WHOLE_TEXT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.0*)?")


def _is_nan(value: Any) -> bool:
    if isinstance(value, Decimal):
        return value.is_nan()
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Rational) and math.isnan(value)


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, str) and not value.strip())


def _whole_number(value: Any) -> int:
    """A count or an amount of won as ``int``: exact, never through float arithmetic."""
    if _is_missing(value):
        raise _Problem("값이 비어 있습니다", "is empty")
    if _is_nan(value):
        raise _Problem("값이 NaN(숫자 아님)입니다", "is NaN (not a number)")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise _Problem(f"숫자가 아닙니다 ({value!r})", f"is not a number ({value!r})")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, (Decimal, Fraction)):
        if (isinstance(value, Decimal) and not value.is_finite()) or value != int(value):
            raise _Problem(f"원 단위 정수가 아닙니다 ({value})", f"is not a whole number ({value})")
        number = int(value)
    elif isinstance(value, numbers.Real):
        # pandas turns whole-number columns with gaps into float; accept the
        # exactly representable whole numbers, nothing else.
        number_f = float(value)
        if math.isinf(number_f) or not number_f.is_integer() or abs(number_f) > 2**53:
            raise _Problem(f"원 단위 정수가 아닙니다 ({value!r})", f"is not a whole number ({value!r})")
        number = int(number_f)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if text.lower() in ("nan", "-nan", "+nan"):
            raise _Problem("값이 NaN(숫자 아님)입니다", "is NaN (not a number)")
        if not _WHOLE_TEXT.fullmatch(text):
            raise _Problem(f"원 단위 정수가 아닙니다 ({value.strip()[:40]})", f"is not a whole number ({value.strip()[:40]})")
        digits = text.replace(",", "").split(".")[0].lstrip("+-")
        if len(digits.lstrip("0")) > MAX_DIGITS:  # also keeps int() below Python's 4,300-digit limit
            raise _Problem(
                f"숫자가 너무 큽니다 ({len(digits):,}자리, 최대 {MAX_DIGITS}자리)",
                f"is far too large ({len(digits):,} digits, at most {MAX_DIGITS})",
            )
        number = int(text.replace(",", "").split(".")[0])
    else:
        raise _Problem(f"숫자가 아닙니다 ({value!r})", f"is not a number ({value!r})")
    if number < 0:
        raise _Problem(f"음수입니다 ({number:,})", f"is negative ({number:,})")
    return number


_TRUE = {"true", "t", "yes", "y", "1", "on", "예", "참", "o"}
_FALSE = {"false", "f", "no", "n", "0", "off", "아니오", "아니요", "거짓", "x"}


def _flag(value: Any, default: bool) -> bool:
    if _is_missing(value):
        return default
    if _is_nan(value):
        raise _Problem("값이 NaN입니다", "is NaN")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(int(value))
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _Problem(f"참/거짓 값이 아닙니다 ({value!r}). true 또는 false를 넣어 주세요", f"is not true or false ({value!r})")


def _code_text(value: Any, what: str) -> str:
    if _is_missing(value):
        raise _Problem("값이 비어 있습니다", "is empty")
    if _is_nan(value):
        raise _Problem("값이 NaN입니다", "is NaN")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise _Problem(f"{what}가 아닙니다 ({value!r})", f"is not a {what} ({value!r})")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    raise _Problem(f"글자나 정수여야 합니다 ({value!r})", f"must be text or a whole number ({value!r})")


def _field(item: Any, name: str, *aliases: str) -> Any:
    if isinstance(item, AllocationProposal):
        return getattr(item, name)
    for key in (name, *aliases):
        if key in item:
            return item[key]
    return None


def validate_proposals(items: Iterable[AllocationProposal | Mapping[str, Any]], *, first_row: int = 1) -> list[AllocationProposal]:
    """Checked, normalised copies of the proposals, or an InvalidInput naming the row.

    Refused: a missing or NaN value in a required field (id, district_code,
    cost, votes), a cost or vote count that is negative or not a whole number,
    an unknown kind, a flag that is not true/false, a duplicate id. Optional
    fields that are missing take their defaults (kind ``individual``,
    eligible, not endorsed, not construction). Rows are numbered from
    ``first_row`` (1: the first proposal; the CSV reader passes 2, the row
    under the header, as a spreadsheet shows it).
    """
    out: list[AllocationProposal] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        row = first_row + i
        if not isinstance(item, (AllocationProposal, Mapping)):
            raise InvalidInput(
                "invalid_proposal",
                f"제안 {row}행을 읽을 수 없습니다 (이름: 값 목록이 아닙니다).",
                f"Proposal row {row} cannot be read (not a set of named values).",
            )
        raw_id = _field(item, "id")
        shown_id = "?" if _is_missing(raw_id) or _is_nan(raw_id) else str(raw_id).strip()
        current = "id"
        try:
            pid: str | int = _code_text(raw_id, "id")
            if isinstance(raw_id, numbers.Integral) and not isinstance(raw_id, bool):
                pid = int(raw_id)
            current = "district_code"
            district = _code_text(_field(item, "district_code"), "지역 코드")
            current = "cost_krw"
            cost = _whole_number(_field(item, "cost_krw", "cost"))
            current = "votes"
            votes = _whole_number(_field(item, "votes"))
            current = "kind"
            kind_raw = _field(item, "kind")
            if _is_nan(kind_raw):
                raise _Problem("값이 NaN입니다", "is NaN")
            kind = "individual" if _is_missing(kind_raw) else str(kind_raw).strip().lower()
            if kind not in KINDS:
                raise _Problem(f"area 또는 individual이어야 합니다 ({kind_raw!r})", f"must be area or individual ({kind_raw!r})")
            current = "category"
            category_raw = _field(item, "category")
            if _is_nan(category_raw):
                raise _Problem("값이 NaN입니다", "is NaN")
            category = "" if _is_missing(category_raw) else str(category_raw).strip()
            current = "construction"
            construction = _flag(_field(item, "construction"), False)
            current = "eligible"
            eligible = _flag(_field(item, "eligible"), True)
            current = "endorsed"
            endorsed = _flag(_field(item, "endorsed"), False)
        except _Problem as problem:
            label_ko, label_en = _FIELD_LABELS[current]
            raise InvalidInput(
                "invalid_proposal",
                f"제안 {row}행 (id {shown_id})의 {label_ko} {problem.ko}. 고쳐서 다시 시도해 주세요.",
                f"Proposal row {row} (id {shown_id}): {label_en} {problem.en}. Please correct it and try again.",
            ) from None
        key = str(pid)
        if key in seen:
            raise InvalidInput(
                "duplicate_proposal_id",
                f"제안 {row}행의 id {key}가 {seen[key]}행과 겹칩니다. id는 제안마다 달라야 합니다.",
                f"Proposal row {row} has id {key}, the same as row {seen[key]}. Each proposal needs its own id.",
            )
        seen[key] = row
        out.append(AllocationProposal(pid, district, cost, votes, kind, category, construction, eligible, endorsed))
    return out


def validate_quotas(quotas: Mapping[str, Any]) -> dict[str, int]:
    """District code (text) -> quota in whole won, or an InvalidInput naming the district.

    Refused: a quota that is missing, NaN, negative or not a whole number; two
    entries for the same code (e.g. ``4128151000`` and ``"4128151000"``).
    """
    if not hasattr(quotas, "items"):
        raise InvalidInput("invalid_quota", "배정액은 '지역 코드 → 금액' 목록이어야 합니다.", "Quotas must map district codes to amounts.")
    out: dict[str, int] = {}
    for raw_code, raw_amount in quotas.items():
        try:
            code = _code_text(raw_code, "지역 코드")
        except _Problem as problem:
            raise InvalidInput(
                "invalid_quota",
                f"배정액 목록의 지역 코드 {problem.ko}.",
                f"A district code in the quotas {problem.en}.",
            ) from None
        if code in out:
            raise InvalidInput(
                "duplicate_quota",
                f"지역 {code}의 배정액이 두 번 있습니다. 한 번만 적어 주세요.",
                f"District {code} has two quotas. Please give it only one.",
            )
        try:
            out[code] = _whole_number(raw_amount)
        except _Problem as problem:
            raise InvalidInput(
                "invalid_quota",
                f"지역 {code}의 배정액(quota) {problem.ko}. 0 이상의 원 단위 정수를 넣어 주세요.",
                f"The quota of district {code} {problem.en}. Please give a whole number of won, 0 or more.",
            ) from None
    return out


def _rules_error(ko: str, en: str) -> InvalidInput:
    return InvalidInput("invalid_rules", f"배분 규칙 오류: {ko}", f"Allocation rules: {en}")


def _share(value: Any, what: str) -> Fraction:
    """A share from 0 to 1 as an exact fraction."""
    bad = _rules_error(
        f"{what}는 0에서 1 사이의 수여야 합니다 (예: 0.5). 받은 값: {value!r}",
        f"{what} must be a number from 0 to 1 (e.g. 0.5), got {value!r}",
    )
    if isinstance(value, bool) or value is None:
        raise bad
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise bad
            share = Fraction(repr(value))
        elif isinstance(value, Decimal):
            if not value.is_finite():
                raise bad
            share = Fraction(value)
        elif isinstance(value, (numbers.Rational, str)):
            share = Fraction(value.strip() if isinstance(value, str) else value)
        else:
            raise bad
    except (ValueError, ZeroDivisionError):
        raise bad from None
    if not 0 <= share <= 1:
        raise bad
    return share


# ---------------------------------------------------------------- files (the command line)


def _read_text(path: str | Path, what_ko: str, what_en: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise InvalidInput("file_not_found", f"{what_ko} 파일이 없습니다: {path}", f"The {what_en} file does not exist: {path}")
    data = p.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):  # spreadsheets saved in Korea are often CP949
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        "unreadable_file",
        f"{what_ko} 파일을 읽을 수 없습니다 (UTF-8이나 CP949 글자가 아닙니다): {path}",
        f"Cannot read the {what_en} file (neither UTF-8 nor CP949 text): {path}",
    )


def _csv_records(text: str, path: str | Path, what_ko: str, what_en: str, required: Iterable[tuple[str, ...]]) -> list[dict[str, str]]:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        records = []
        for rec in reader:
            if None in rec:
                raise InvalidInput(
                    "bad_csv",
                    f"{what_ko} 파일 {reader.line_num}행에 머리글보다 칸이 많습니다: {path}",
                    f"Row {reader.line_num} of the {what_en} file has more cells than the header: {path}",
                )
            if all(_is_missing(v) for v in rec.values()):
                continue  # blank line at the end of a spreadsheet export
            records.append(rec)
    except csv.Error as e:
        raise InvalidInput("bad_csv", f"{what_ko} CSV를 읽을 수 없습니다 ({e}): {path}", f"Cannot read the {what_en} CSV ({e}): {path}") from None
    if not header:
        raise InvalidInput("bad_csv", f"{what_ko} 파일이 비어 있습니다: {path}", f"The {what_en} file is empty: {path}")
    for names in required:
        if not any(n in header for n in names):
            raise InvalidInput(
                "missing_column",
                f"{what_ko} 파일에 {names[0]} 열이 없습니다 (있는 열: {', '.join(header)}): {path}",
                f"The {what_en} file has no {names[0]} column (columns: {', '.join(header)}): {path}",
            )
    return records


def read_proposals_csv(path: str | Path, rules: AllocationRules | None = None) -> list[AllocationProposal]:
    """Proposals from a CSV file: ``id, district_code, cost, votes`` and optionally
    ``kind, category, eligible, endorsed, construction`` (``cost_krw`` is accepted for ``cost``).

    Columns a rule relies on are required when that rule is on (``kind`` for
    pools; ``kind`` and ``endorsed`` for endorsed_first; ``construction`` for
    construction_share), so a missing column cannot silently switch a rule
    off. UTF-8 (with or without BOM) or CP949. Raises InvalidInput naming the
    file, column or row (rows numbered as in a spreadsheet, header = 1).
    """
    required: list[tuple[str, ...]] = [("id",), ("district_code",), ("cost", "cost_krw"), ("votes",)]
    if rules is not None and (rules.pools is not None or rules.endorsed_first):
        required.append(("kind",))
    if rules is not None and rules.endorsed_first:
        required.append(("endorsed",))
    if rules is not None and rules.construction_share is not None:
        required.append(("construction",))
    records = _csv_records(_read_text(path, "제안", "proposals"), path, "제안", "proposals", required)
    try:
        return validate_proposals(records, first_row=2)
    except InvalidInput as e:
        raise InvalidInput(e.code, f"{e.ko} ({path})", f"{e.en} ({path})") from None


def read_quotas_csv(path: str | Path) -> dict[str, int]:
    """Quotas from a CSV file with ``district_code, quota`` (``quota_krw`` accepted), in whole won."""
    records = _csv_records(_read_text(path, "배정액", "quotas"), path, "배정액", "quotas", [("district_code",), ("quota", "quota_krw")])
    pairs: dict[str, Any] = {}
    for n, rec in enumerate(records, start=2):
        code = (rec.get("district_code") or "").strip()
        if not code:
            raise InvalidInput(
                "invalid_quota",
                f"배정액 파일 {n}행에 지역 코드가 없습니다: {path}",
                f"Row {n} of the quotas file has no district code: {path}",
            )
        if code in pairs:
            raise InvalidInput(
                "duplicate_quota",
                f"배정액 파일 {n}행: 지역 {code}의 배정액이 두 번 있습니다: {path}",
                f"Row {n} of the quotas file: district {code} has two quotas: {path}",
            )
        pairs[code] = rec.get("quota", rec.get("quota_krw"))
    try:
        return validate_quotas(pairs)
    except InvalidInput as e:
        raise InvalidInput(e.code, f"{e.ko} ({path})", f"{e.en} ({path})") from None


def read_rules(path: str | Path) -> AllocationRules:
    """Rules from a JSON file or a small YAML file like::

        endorsed_first: true
        construction_share: 0.5
        pools:
          area: 0.6
          individual: 0.4

    Only this subset of YAML is read (``key: value``, one level of indented
    ``key: value`` under a key, ``{a: 1, b: 2}``, ``#`` comments, true/false,
    null, numbers, quoted text), the same with or without PyYAML installed.
    Numbers are kept as written, so shares are exact.
    """
    text = _read_text(path, "규칙", "rules")
    try:
        if text.lstrip().startswith("{"):
            try:
                doc = json.loads(text, parse_float=Decimal)
            except ValueError as e:
                raise _rules_error(f"JSON을 읽을 수 없습니다 ({e})", f"cannot read the JSON ({e})") from None
        else:
            doc = parse_rules_yaml(text)
        return AllocationRules.from_mapping(doc)
    except InvalidInput as e:
        raise InvalidInput(e.code, f"{e.ko} ({path})", f"{e.en} ({path})") from None


def _yaml_scalar(text: str, line_no: int) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    low = text.lower()
    if low in ("", "~", "null"):
        return None
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if text[0] in "[{|>&*!" or text.startswith("- "):
        raise _rules_error(f"{line_no}행의 값을 읽을 수 없습니다: {text}", f"cannot read the value on line {line_no}: {text}")
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def parse_rules_yaml(text: str) -> dict[str, Any]:
    """The small YAML subset of :func:`read_rules` as a dict (numbers as ``Decimal``).

    A top-level key with nothing after the colon is null unless indented
    ``key: value`` lines follow, which make it a mapping.
    """
    doc: dict[str, Any] = {}
    parent: str | None = None  # the top-level key that indented lines belong to
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not line.strip() or line.strip() == "---":
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if "\t" in indent:
            raise _rules_error(f"{line_no}행: 들여쓰기에 탭 대신 공백을 써 주세요", f"line {line_no}: indent with spaces, not tabs")
        key, sep, value = line.strip().partition(":")
        key = key.strip().strip("'\"")
        if not sep or not key:
            raise _rules_error(f"{line_no}행은 '이름: 값' 꼴이 아닙니다: {raw.strip()}", f"line {line_no} is not 'name: value': {raw.strip()}")
        value = value.strip()
        if indent:
            if parent is None:
                raise _rules_error(f"{line_no}행의 들여쓰기가 맞지 않습니다", f"line {line_no} is indented under nothing")
            if doc[parent] is None:
                doc[parent] = {}
            target = doc[parent]
        else:
            target, parent = doc, None
        if key in target:
            raise _rules_error(f"{line_no}행: {key}가 두 번 있습니다", f"line {line_no}: {key} is given twice")
        if value.startswith("{"):
            if not value.endswith("}"):
                raise _rules_error(f"{line_no}행의 {{ }}가 닫히지 않았습니다", f"line {line_no}: unclosed {{ }}")
            inner: dict[str, Any] = {}
            for part in filter(None, (s.strip() for s in value[1:-1].split(","))):
                k, s, v = part.partition(":")
                if not s or not k.strip():
                    raise _rules_error(f"{line_no}행의 {{ }} 안을 읽을 수 없습니다: {part}", f"line {line_no}: cannot read {part!r} inside {{ }}")
                inner[k.strip().strip("'\"")] = _yaml_scalar(v, line_no)
            target[key] = inner
        else:
            target[key] = _yaml_scalar(value, line_no)
            if not indent and value == "":
                parent = key
    return doc


def write_decisions_csv(decisions: Iterable[AllocationDecision], out: TextIO, lang: str = "ko") -> None:
    """Write ``id, district_code, selected, rank, reason`` (reason in ``lang``; selected as true/false)."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for d in decisions:
        w.writerow([d.id, d.district_code, "true" if d.selected else "false", d.rank, d.reason(lang)])


def goyang_district_names() -> dict[str, str]:
    """Administrative-dong code -> dong name (e.g. ``"행신2동"``) for Goyang's 44 districts, from ``data/``."""
    from geo.boundaries import admin_dongs

    dongs = admin_dongs()
    return dict(zip(dongs["adm_code"].astype(str), dongs["name"].astype(str)))


__all__ = [
    "AllocationDecision",
    "AllocationProposal",
    "AllocationRules",
    "CSV_COLUMNS",
    "KINDS",
    "REASON_CODES",
    "allocate",
    "decisions_frame",
    "district_summary",
    "goyang_district_names",
    "parse_rules_yaml",
    "rank_key",
    "read_proposals_csv",
    "read_quotas_csv",
    "read_rules",
    "validate_proposals",
    "validate_quotas",
    "write_decisions_csv",
]
