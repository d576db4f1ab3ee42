"""Demo data: accounts for every role and generated proposals, all marked as demo.

Everything here is invented. Proposals carry ``is_demo=True`` and a
``[데모]`` title prefix so that no one mistakes them for residents' input;
accounts are flagged ``is_demo`` and share one documented password.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import mapping

from geo.crs import to_metric, to_storage
from geo.errors import GeometryRefused
from geo.linking import link_geometries
from geo.validation import validate_drawn_geometry
from planning.accounts import hash_password
from planning.categories import category_codes
from planning.geography import districts_frame, gazetteer, install_reference_data

if TYPE_CHECKING:
    from store import Store

DEMO_PASSWORD = "goyang-demo-2026"
DEMO_PREFIX = "[데모] "

TITLES: dict[str, list[str]] = {
    "admin": ["주민자치회 회의 공간", "마을 안내 표지판 정비", "주민 소통 게시판", "공공 와이파이 설치"],
    "economy": ["골목상권 활성화 장터", "청년 공유 작업실", "전통시장 주차 안내", "마을기업 판매 공간"],
    "welfare": ["경로당 냉난방 개선", "공동 육아 나눔터", "장애인 경사로 설치", "돌봄 쉼터 마련"],
    "culture": ["작은도서관 프로그램", "마을 축제 지원", "생활체육 시설 개선", "공원 운동기구 교체"],
    "environment": ["횡단보도 신설", "버스정류장 그늘막", "자전거 도로 연결", "빗물 정원 조성", "분리수거장 개선"],
    "urban": ["방범 CCTV 설치", "어두운 골목 가로등", "어린이 통학로 안전 펜스", "보행로 정비", "쌈지공원 조성"],
}
COMMENTS = [
    "좋은 제안입니다. 꼭 필요해요.",
    "저녁 시간에 특히 필요합니다.",
    "비용을 조금 줄일 방법도 함께 찾아보면 좋겠습니다.",
    "아이들 등하굣길이라 찬성합니다.",
    "위치를 조금 옮기면 더 많은 주민이 이용할 수 있을 것 같아요.",
    "주민자치회에서 함께 논의했으면 합니다.",
]


@dataclass(frozen=True)
class DemoSummary:
    residents: int
    proposals: int
    comments: int
    supports: int
    skipped: bool = False


def demo_accounts() -> list[dict]:
    """The named demo accounts, one per role (the README lists them)."""
    return [
        {"username": "demo-admin", "display_name": "데모 관리자", "role": "admin", "home_district_code": None, "hub_code": None},
        {"username": "demo-planner", "display_name": "데모 도시계획가", "role": "planner", "home_district_code": None, "hub_code": None},
        {
            "username": "demo-centre",
            "display_name": "데모 화정1동 주민센터",
            "role": "centre_staff",
            "home_district_code": None,
            "hub_code": "4128162100",
        },
        {"username": "demo-resident", "display_name": "데모 주민 (행신1동)", "role": "resident", "home_district_code": "4128164000", "hub_code": None},
    ]


def _random_geometry(rng: np.random.Generator, cell_m, kind: str):
    minx, miny, maxx, maxy = cell_m.bounds
    for _ in range(200):
        c = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if not cell_m.contains(c):
            continue
        if kind == "point":
            return c
        if kind == "line":
            k = int(rng.integers(2, 5))
            steps = rng.normal(0, rng.uniform(80, 300), size=(k - 1, 2))
            coords = np.vstack([[c.x, c.y], [c.x, c.y] + np.cumsum(steps, axis=0)])
            return shapely.LineString(coords)
        r = rng.uniform(40, 250)
        ang = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(4, 8))))
        rad = r * rng.uniform(0.6, 1.0, len(ang))
        return shapely.Polygon(np.column_stack([c.x + rad * np.cos(ang), c.y + rad * np.sin(ang)]))
    return None


def seed_demo(store: "Store", n_proposals: int = 300, n_residents: int = 60, seed: int = 2026, reset: bool = False) -> DemoSummary:
    """Fill the store with demo accounts and proposals (idempotent unless ``reset``).

    Proposals are points, lines and polygons spread over Goyang in proportion
    to the dongs' voters, linked like residents' proposals, with comments and
    supports from demo residents.
    """
    install_reference_data(store)
    with store.transaction() as tx:
        if tx.proposals.count_demo() and not reset:
            return DemoSummary(0, 0, 0, 0, skipped=True)
        if reset:
            tx.proposals.delete_demo()
    rng = np.random.default_rng(seed)
    districts = districts_frame(store).sort_values("adm_code").reset_index(drop=True)
    codes = districts["adm_code"].to_numpy()
    pw_hash = hash_password(DEMO_PASSWORD)

    resident_ids: list[int] = []
    with store.transaction() as tx:
        for acc in demo_accounts():
            r = tx.residents.by_username(acc["username"]) or tx.residents.add(password_hash=pw_hash, is_demo=True, **acc)
            if acc["role"] == "resident":
                resident_ids.append(r.id)
        weights = districts["voters"].to_numpy() / districts["voters"].sum()
        for i in range(n_residents):
            name = f"demo-r{i + 1:03d}"
            home = str(rng.choice(codes, p=weights))
            r = tx.residents.by_username(name) or tx.residents.add(
                username=name, display_name=f"데모 주민 {i + 1}", password_hash=pw_hash, role="resident", home_district_code=home, is_demo=True
            )
            resident_ids.append(r.id)

    cells_m = to_metric(districts.geometry.values)
    cats = list(category_codes())
    geoms, meta = [], []
    while len(geoms) < n_proposals:
        d = int(rng.choice(len(codes), p=weights))
        shape_kind = str(rng.choice(["point", "line", "polygon"], p=[0.5, 0.25, 0.25]))
        g_m = _random_geometry(rng, cells_m[d], shape_kind)
        if g_m is None:
            continue
        try:
            valid = validate_drawn_geometry(mapping(to_storage(g_m)))
        except GeometryRefused:
            continue
        if valid.repaired:  # keep demo shapes as simple as residents draw them
            continue
        g = valid.geometry
        cat = str(rng.choice(cats))
        meta.append(
            {
                "category": cat,
                "title": DEMO_PREFIX + str(rng.choice(TITLES[cat])),
                "kind": "area" if rng.random() < 0.3 else "individual",
                "cost_krw": int(rng.integers(5, 300)) * 1_000_000,
                "author": int(rng.choice(resident_ids)),
            }
        )
        geoms.append(g)
    links = link_geometries(np.array(geoms, dtype=object), gazetteer(store))
    n_comments = n_supports = 0
    with store.transaction() as tx:
        for g, m, link in zip(geoms, meta, links.itertuples()):
            b = g.bounds
            p = tx.proposals.add(
                title=m["title"],
                body=f"{link.legal_dong_name} 일대 {m['title'][len(DEMO_PREFIX):]} 제안입니다. 이 제안은 시연용으로 생성된 데모 데이터입니다.",
                category=m["category"],
                kind=m["kind"],
                cost_krw=m["cost_krw"],
                status="submitted",
                author_id=m["author"],
                geometry=g,
                minx=b[0],
                miny=b[1],
                maxx=b[2],
                maxy=b[3],
                hub_code=link.hub_code,
                hub_distance_m=float(link.hub_distance_m),
                district_code=link.district_code,
                legal_dong_code=link.legal_dong_code,
                legal_dong_name=link.legal_dong_name,
                district_shares=json.dumps(link.district_shares),
                is_demo=True,
            )
            for _ in range(int(rng.integers(0, 4))):
                tx.comments.add(proposal_id=p.id, author_id=int(rng.choice(resident_ids)), body=str(rng.choice(COMMENTS)), is_demo=True)
                n_comments += 1
            k = int(rng.integers(0, min(15, len(resident_ids))))
            for rid in rng.choice(resident_ids, size=k, replace=False):
                tx.supports.add(p.id, int(rid))
                n_supports += 1
    return DemoSummary(residents=len(resident_ids), proposals=len(geoms), comments=n_comments, supports=n_supports)


def seed_demo_budget(store: "Store", fiscal_year: int = 2026) -> int | None:
    """A demo participatory-budget cycle with published quotas (30억원: 2,000만원 per district, half of the rest by voters).

    Idempotent: returns None when any cycle exists already. The amounts are
    invented for the demonstration; a deployment sets its own in the admin page.
    """
    from planning.auth import actor_for
    from planning.budget import create_cycle, publish_quotas, set_quotas_by_rule

    with store.transaction() as tx:
        if tx.cycles.list():
            return None
        admin = tx.residents.by_username("demo-admin")
        if admin is None:
            return None
        admin_id = admin.id
    admin_actor = actor_for(store, admin_id)
    cycle_id = create_cycle(store, admin_actor, fiscal_year)
    set_quotas_by_rule(store, admin_actor, cycle_id, 3_000_000_000, 20_000_000, "0.5")
    publish_quotas(store, admin_actor, cycle_id)
    return cycle_id
