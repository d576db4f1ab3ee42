"""Proposals: preview, submit, comment, support. One service function per user action.

Each action checks who acts, validates its input, writes in one transaction
and records history. Pages, the CLI and tests call these functions.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from geo.linking import link_geometries
from geo.validation import Repair, validate_drawn_geometry
from planning.categories import category_codes
from planning.errors import InvalidInput, not_allowed_signin
from planning.geography import gazetteer

if TYPE_CHECKING:
    from store import Store

KINDS = ("area", "individual")
TITLE_MAX = 120
BODY_MAX = 5000
COMMENT_MAX = 2000
COST_MAX_KRW = 10_000_000_000  # 100억원: far above any district quota


@dataclass(frozen=True)
class Placement:
    """Where a drawn geometry belongs, shown to the resident before submitting."""

    geometry: Any  # shapely, EPSG:4326
    repairs: tuple[Repair, ...]
    hub_code: str
    hub_name: str
    hub_distance_m: float
    district_code: str
    district_name: str
    district_shares: dict[str, float]
    legal_dong_code: str
    legal_dong_name: str


def clean_text(value: str | None, *, field_ko: str, field_en: str, max_len: int, required: bool = True) -> str:
    """Normalise a form text: NFC, control characters removed (newlines and tabs kept), trimmed, length-checked."""
    text = unicodedata.normalize("NFC", value or "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = text.strip()
    if required and not text:
        raise InvalidInput("empty_field", f"{field_ko}을(를) 입력해 주세요.", f"Please enter the {field_en}.")
    if len(text) > max_len:
        raise InvalidInput(
            "too_long_field",
            f"{field_ko}이(가) 너무 깁니다 ({len(text):,}자, 최대 {max_len:,}자). 줄여 주세요.",
            f"The {field_en} is too long ({len(text):,} characters, at most {max_len:,}). Please shorten it.",
        )
    return text


def preview_placement(store: "Store", drawn: Any) -> Placement:
    """Validate a drawn geometry and tell where it belongs (hub, district, legal dong).

    Raises :class:`geo.errors.GeometryRefused` with a bilingual message when
    the drawing cannot be used.
    """
    valid = validate_drawn_geometry(drawn)
    row = link_geometries(np.array([valid.geometry], dtype=object), gazetteer(store)).iloc[0]
    return Placement(
        geometry=valid.geometry,
        repairs=valid.repairs,
        hub_code=row.hub_code,
        hub_name=row.hub_name,
        hub_distance_m=float(row.hub_distance_m),
        district_code=row.district_code,
        district_name=row.district_name,
        district_shares=dict(row.district_shares),
        legal_dong_code=row.legal_dong_code,
        legal_dong_name=row.legal_dong_name,
    )


def _check_fields(title: str, body: str, category: str, kind: str, cost_krw: int | None) -> tuple[str, str]:
    title = clean_text(title, field_ko="제목", field_en="title", max_len=TITLE_MAX)
    body = clean_text(body, field_ko="설명", field_en="description", max_len=BODY_MAX)
    if category not in category_codes():
        raise InvalidInput("unknown_category", "분야를 목록에서 골라 주세요.", "Please choose a category from the list.")
    if kind not in KINDS:
        raise InvalidInput(
            "unknown_kind",
            "제안 유형은 '지역(area)' 또는 '개인(individual)'이어야 합니다.",
            "The proposal kind must be 'area' or 'individual'.",
        )
    if cost_krw is not None:
        if isinstance(cost_krw, bool) or not isinstance(cost_krw, (int, np.integer)) or cost_krw < 0 or cost_krw > COST_MAX_KRW:
            raise InvalidInput(
                "bad_cost",
                f"예상 비용은 0원 이상 {COST_MAX_KRW:,}원 이하의 정수로 입력해 주세요.",
                f"The estimated cost must be a whole number of won between 0 and {COST_MAX_KRW:,}.",
            )
    return title, body


def submit_proposal(
    store: "Store",
    author_id: int | None,
    drawn: Any,
    title: str,
    body: str,
    category: str,
    kind: str = "individual",
    cost_krw: int | None = None,
    is_demo: bool = False,
) -> int:
    """Submit a proposal drawn on the map; returns its id.

    The author must be signed in. The geometry is validated and linked to its
    hub, district and legal dong; the proposal and its first status-history
    entry are written in one transaction.
    """
    if author_id is None:
        raise not_allowed_signin()
    title, body = _check_fields(title, body, category, kind, cost_krw)
    place = preview_placement(store, drawn)
    b = place.geometry.bounds
    with store.transaction() as tx:
        if tx.residents.get(author_id) is None:
            raise not_allowed_signin()
        proposal = tx.proposals.add(
            title=title,
            body=body,
            category=category,
            kind=kind,
            cost_krw=None if cost_krw is None else int(cost_krw),
            status="submitted",
            author_id=author_id,
            geometry=place.geometry,
            minx=b[0],
            miny=b[1],
            maxx=b[2],
            maxy=b[3],
            hub_code=place.hub_code,
            hub_distance_m=place.hub_distance_m,
            district_code=place.district_code,
            legal_dong_code=place.legal_dong_code,
            legal_dong_name=place.legal_dong_name,
            district_shares=json.dumps(place.district_shares),
            is_demo=is_demo,
        )
        return proposal.id


def add_comment(store: "Store", author_id: int | None, proposal_id: int, body: str, is_demo: bool = False) -> int:
    """Comment on a proposal; returns the comment id."""
    if author_id is None:
        raise not_allowed_signin()
    body = clean_text(body, field_ko="댓글", field_en="comment", max_len=COMMENT_MAX)
    with store.transaction() as tx:
        if tx.residents.get(author_id) is None:
            raise not_allowed_signin()
        _existing(tx, proposal_id)
        return tx.comments.add(proposal_id=proposal_id, author_id=author_id, body=body, is_demo=is_demo).id


def support_proposal(store: "Store", resident_id: int | None, proposal_id: int) -> int:
    """Support a proposal (once per resident); returns the new support count."""
    if resident_id is None:
        raise not_allowed_signin()
    with store.transaction() as tx:
        if tx.residents.get(resident_id) is None:
            raise not_allowed_signin()
        _existing(tx, proposal_id)
        tx.supports.add(proposal_id, resident_id)
        return tx.supports.count_for(proposal_id)


def _existing(tx: Any, proposal_id: int) -> Any:
    p = tx.proposals.get(proposal_id)
    if p is None or p.hidden:
        raise InvalidInput(
            "no_such_proposal",
            f"제안 {proposal_id}번을 찾을 수 없습니다. 목록을 새로 고쳐 주세요.",
            f"Proposal {proposal_id} was not found. Please refresh the list.",
        )
    return p
