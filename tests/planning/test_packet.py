"""Meeting packets (planning/packet.py): the PDF read back, the PNG maps, the agenda's data, nothing private, the CLI.

One packet of a published meeting is built once (SQLite) and checked from
every side: the PDF has exactly a cover, the catchment map, one page per
agenda item and the quota table, in Korean that is drawn with real glyphs;
the maps are not blank; the GeoJSON, CSV and GeoPackage hold exactly the
agenda's proposals; no file names an author or holds hidden content. The
fallbacks (next meeting, shortlist), English, and the command line follow;
one small packet is made on each engine.
"""
from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import Point

from planning.auth import actor_for
from planning.cli import main
from planning.errors import InvalidInput
from planning.geography import install_reference_data
from planning.meetings import create_meeting, meeting_view, publish_meeting, record_minutes, set_agenda
from planning.packet import CATCHMENT_MAP_PX, ITEM_MAP_PX, build_packet
from store import Store

HAENGSIN1 = "4128164000"  # 행신1동
DAEDEOK = "4128167000"  # 대덕동, in the same catchment
HUB = "4128165000"  # 행신2동 hub
HUB_NAME = "행신2동 행정복지센터"
OTHER_HUB = "4128162100"  # 화정1동 hub
HWAJEONG2 = "4128162200"
LON, LAT = 126.833004, 37.622148
#: Private things planted in the store: none may reach any file of the packet.
SECRETS = ("홍길동작성자", "planted_author", "hong.gildong@example.org", "직원숨은이름", "비밀댓글QQQ", "숨김제안ZZZ", "010-1234-5678")
WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _proposal(tx, author: int, title: str, x: float, *, status: str = "shortlisted", category: str = "environment", **fields) -> int:
    values = {
        "title": title,
        "body": f"{title}: 주민이 바라는 일입니다. 연락처 없음.",
        "category": category,
        "kind": "area",
        "author_id": author,
        "geometry": Point(LON + x, LAT),
        "hub_code": HUB,
        "district_code": HAENGSIN1,
        "cost_krw": 12_000_000,
    }
    values.update(fields)
    p = tx.proposals.add(**values)
    if status != "submitted":
        tx.proposals.set_status(p.id, status, None, "setup")
    return p.id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A SQLite store with a published meeting of the 행신2동 hub: two proposal items and a cluster item, one decided."""
    root = tmp_path_factory.mktemp("packet")
    url = f"sqlite:///{root / 'db.sqlite3'}"
    store = Store.open(url)
    install_reference_data(store)
    with store.transaction() as tx:
        author = tx.residents.add("planted_author", "홍길동작성자", home_district_code=HAENGSIN1, password_hash="x",
                                  email="hong.gildong@example.org").id
        staff = tx.residents.add("staff", "직원숨은이름", role="centre_staff", hub_code=HUB, password_hash="x").id
        planner = tx.residents.add("planner", "기획", role="planner", password_hash="x").id
        p = {
            "light": _proposal(tx, author, "가로등 교체", 0.0, category="safety", geometry=Point(LON, LAT)),
            "bench": _proposal(tx, author, "벤치 설치", 0.015, geometry=Point(LON + 0.015, LAT), district_code=DAEDEOK),
            "shade1": _proposal(tx, author, "그늘막 설치", 0.03, geometry=Point(LON + 0.03, LAT)),
            "shade2": _proposal(tx, author, "그늘막 추가", 0.0303, geometry=Point(LON + 0.0303, LAT)),
            "public_only": _proposal(tx, author, "공원 화장실", -0.01, status="submitted"),
            "hidden": _proposal(tx, author, "숨김제안ZZZ", 0.005),
        }
        tx.proposals.set_hidden(p["hidden"], True, reason="광고", by=planner)
        comment = tx.comments.add(p["light"], author, "비밀댓글QQQ 010-1234-5678")
        tx.comments.set_hidden(comment.id, True, reason="개인정보", by=planner)
        tx.comments.add(p["light"], author, "밤에 어두워요")
        tx.supports.add(p["light"], staff)
        cycle = tx.cycles.add(2026, total_krw=1, quotas_published_at=WHEN)
        for code in ("4128163000", HAENGSIN1, HUB, "4128165500", "4128165600", "4128166000", DAEDEOK):
            tx.quotas.set(cycle.id, code, 50_000_000, False, None)
        tx.reviews.put(cycle.id, p["light"], feasible=True, official_cost_krw=15_000_000, passed=True)
    who = actor_for(store, staff)
    m = create_meeting(store, who, HUB, "hub_meeting", datetime.now(UTC) + timedelta(days=5), "행신2동 주민센터 3층", title="12월 거점 민관 협치 회의")
    set_agenda(store, who, m.id, [{"proposal_id": p["light"]}, {"proposal_id": p["bench"]}, {"cluster": [p["shade1"], p["shade2"]], "title": "그늘막 묶음"}])
    publish_meeting(store, who, m.id)
    first = meeting_view(store, who, m.id).items[0].id
    record_minutes(store, who, m.id, first, "adopted", "주민 찬성", 20, 1, 0)
    try:
        yield {"store": store, "url": url, "root": root, "p": p, "meeting": m, "staff": who}
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def packet(world):
    return build_packet(world["store"], HUB, world["root"] / "out", world["meeting"].id, creation_date=WHEN)


@pytest.fixture(scope="module")
def texts(packet) -> list[str]:
    return [page.extract_text() for page in PdfReader(packet.pdf).pages]


AGENDA = ("light", "bench", "shade1", "shade2")


def test_the_packet_writes_its_files(packet, world):
    m = world["meeting"].id
    assert packet.meeting_id == m
    assert [p.name for p in packet.files] == [
        f"meeting-{m}.pdf", f"meeting-{m}-map.png", f"meeting-{m}-item-01.png", f"meeting-{m}-item-02.png",
        f"meeting-{m}-item-03.png", f"meeting-{m}-agenda.geojson", f"meeting-{m}-agenda.csv", f"meeting-{m}-agenda.gpkg",
    ]
    assert all(p.is_file() and p.stat().st_size > 200 for p in packet.files)
    assert not list(packet.out_dir.glob("*.tmp"))
    import zipfile

    with zipfile.ZipFile(io.BytesIO(packet.zip_bytes())) as zf:
        assert sorted(zf.namelist()) == sorted(p.name for p in packet.files)


def test_the_pdf_has_a_cover_the_map_one_page_per_item_and_the_quota_table(packet, texts):
    items = 3
    assert len(texts) == packet.pages == 1 + 1 + items + 1
    assert packet.item_pages == [3, 4, 5] and packet.quota_page == 6
    cover = texts[0]
    for s in (HUB_NAME, "12월 거점 민관 협치 회의", "거점 회의", "행신2동 주민센터 3층", "대덕동", "행신1동"):
        assert s in cover, s
    assert "거점 권역 지도" in texts[1]
    assert "안건 1. 가로등 교체" in texts[2] and "15,000,000" in texts[2] and "채택" in texts[2] and "주민 찬성" in texts[2]
    assert "안건 2. 벤치 설치" in texts[3] and "대덕동" in texts[3]
    assert "안건 3. 묶음: 그늘막 묶음" in texts[4] and "그늘막 설치" in texts[4] and "그늘막 추가" in texts[4]
    for k in range(3):
        assert sum(f"안건 {n}." in texts[2 + k] for n in (1, 2, 3)) == 1  # one item per page, in order
    quota = texts[5]
    assert "2026년 주민참여예산 행정동별 한도" in quota
    assert "대덕동" in quota and "50,000,000" in quota and "350,000,000" in quota  # seven dongs and their total
    for i, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"{i} / {len(texts)}")


def glyph_ink(data: bytes, text: str, page_index: int = 0, scale: float = 3.0) -> list[tuple[str, np.ndarray]]:
    """The rendered pixels of each character of the first occurrence of ``text`` (its loose box)."""
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[page_index]
        textpage = page.get_textpage()
        found = textpage.search(text).get_next()
        assert found is not None, f"{text!r} not on page {page_index + 1}"
        start, count = found
        pixels = np.asarray(page.render(scale=scale).to_pil().convert("L")).astype(int)
        height = page.get_height()
        out = []
        for i in range(start, start + count):
            ch = textpage.get_text_range(i, 1)
            if ch.strip():
                left, bottom, right, top = textpage.get_charbox(i, loose=True)
                out.append((ch, pixels[round((height - top) * scale): round((height - bottom) * scale), round(left * scale): round(right * scale)]))
        return out
    finally:
        doc.close()


def test_korean_is_drawn_with_real_glyphs(packet):
    data = packet.pdf.read_bytes()
    crops = glyph_ink(data, "행신2동 행정복지센터")
    hangul = [(ch, c) for ch, c in crops if "가" <= ch <= "힣"]
    assert "".join(ch for ch, _ in hangul) == "행신동행정복지센터"
    for ch, crop in hangul:
        ink = (crop < 128).mean()
        assert 0.04 < ink < 0.6, (ch, ink)  # ink, and not a filled box
    distinct = dict(hangul)  # 행 appears twice: compare each character once
    h = min(c.shape[0] for c in distinct.values())
    w = min(c.shape[1] for c in distinct.values())
    shapes = [(c[:h, :w] < 128) for c in distinct.values()]
    assert len(shapes) == 8
    assert all((shapes[i] ^ shapes[j]).mean() > 0.03 for i in range(len(shapes)) for j in range(i + 1, len(shapes)))  # not one tofu box
    reader = PdfReader(packet.pdf)
    fonts = {str(f.get_object()["/BaseFont"]) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert {re.sub(r"^/[A-Z]{6}\+", "", f) for f in fonts} == {"NanumGothic", "NanumGothicBold"}


def _png(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _colours(pixels: np.ndarray) -> int:
    packed = (pixels[..., 0].astype(np.int32) << 16) | (pixels[..., 1].astype(np.int32) << 8) | pixels[..., 2]
    return len(np.unique(packed))


def test_the_maps_are_not_blank(packet):
    catchment, *items = packet.maps
    pixels = _png(catchment)
    assert pixels.shape[:2] == (CATCHMENT_MAP_PX[1], CATCHMENT_MAP_PX[0])
    assert _colours(pixels) > 50
    assert (pixels.min(axis=2) < 200).mean() > 0.02  # lines, labels, fills: not a white sheet
    hub_orange = np.all(np.abs(pixels.astype(int) - (0xB3, 0x3C, 0x00)) < 40, axis=2)
    assert hub_orange.sum() > 500  # the catchment's outline
    for path in items:
        item = _png(path)
        assert item.shape[:2] == (ITEM_MAP_PX[1], ITEM_MAP_PX[0])
        assert _colours(item) > 30
        halo = np.all(np.abs(item.astype(int) - (0xFF, 0xD4, 0x00)) < 45, axis=2)
        assert halo.sum() > 200, path.name  # the item's proposals are haloed
    assert len({p.read_bytes() for p in packet.maps}) == len(packet.maps)  # each map its own


def test_the_data_hold_exactly_the_agenda_proposals(packet, world):
    p = world["p"]
    expected = sorted(p[k] for k in AGENDA)
    assert packet.proposal_ids == expected
    doc = json.loads(packet.geojson.read_text(encoding="utf-8"))
    assert sorted(f["id"] for f in doc["features"]) == expected
    assert sorted(f["properties"]["id"] for f in doc["features"]) == expected
    numbers = {f["id"]: f["properties"]["agenda_item"] for f in doc["features"]}
    assert numbers == {p["light"]: 1, p["bench"]: 2, p["shade1"]: 3, p["shade2"]: 3}
    assert {f["properties"]["status"] for f in doc["features"]} == {"adopted", "shortlisted"}
    assert not {"author_id", "author", "email", "display_name", "body"} & set(doc["features"][0]["properties"])
    table = pd.read_csv(packet.csv, encoding="utf-8-sig")
    assert sorted(table["id"]) == expected
    gpkg = gpd.read_file(packet.gpkg, engine="pyogrio")
    assert sorted(gpkg["id"]) == expected and gpkg.crs.to_epsg() == 4326


def test_nothing_private_reaches_any_file(packet, texts):
    reader = PdfReader(packet.pdf)
    pdf_text = "\n".join(texts) + json.dumps({str(k): str(v) for k, v in (reader.metadata or {}).items()}, ensure_ascii=False)
    assert "가로등 교체" in pdf_text  # the check can see text at all
    for secret in SECRETS:
        assert secret not in pdf_text, secret
        for path in packet.files:
            assert secret.encode("utf-8") not in path.read_bytes(), (secret, path.name)
    assert "밤에 어두워요" not in pdf_text  # comments are not printed at all


def test_without_a_meeting_the_hubs_next_published_meeting_is_used(world, tmp_path):
    files = build_packet(world["store"], HUB, tmp_path, creation_date=WHEN)
    assert files.meeting_id == world["meeting"].id and files.pages == 6


def test_without_any_meeting_the_shortlist_is_the_agenda(world, tmp_path):
    later = datetime.now(UTC) + timedelta(days=30)  # after the meeting: nothing upcoming
    files = build_packet(world["store"], HUB, tmp_path, lang="en", now=later, creation_date=WHEN)
    p = world["p"]
    assert files.meeting_id is None and files.pdf.name == f"hub-{HUB}-shortlist.pdf"
    assert files.proposal_ids == sorted([p["bench"], p["shade1"], p["shade2"]])  # light is adopted, hidden is hidden
    texts = [page.extract_text() for page in PdfReader(files.pdf).pages]
    assert len(texts) == 1 + 1 + 3 + 1
    assert "shortlisted proposals" in texts[0] and HUB_NAME in texts[0]
    assert any(text.startswith("Item 1.") or "Item 1." in text for text in texts[2:3])
    assert "Participatory budget" in texts[-1] or "participatory budget" in texts[-1]


def test_a_bad_hub_or_meeting_is_refused(world, tmp_path):
    store = world["store"]
    for hub, meeting, code in ((HAENGSIN1, None, "no_such_hub"), (HUB, 999_999, "no_such_meeting"), (OTHER_HUB, world["meeting"].id, "no_such_meeting")):
        with pytest.raises(InvalidInput) as err:
            build_packet(store, hub, tmp_path / "x", meeting)
        assert err.value.code == code
    assert not (tmp_path / "x").exists()
    with pytest.raises(InvalidInput) as err:
        build_packet(store, HUB, tmp_path / "x", lang="fr")
    assert err.value.code == "bad_lang"
    # a page passes the viewer: a draft is not theirs to print
    draft = create_meeting(store, world["staff"], HUB, "dong_group", datetime.now(UTC) + timedelta(days=9), "경로당")
    with pytest.raises(InvalidInput) as err:
        build_packet(store, HUB, tmp_path / "y", draft.id, viewer=actor_for(store, None))
    assert err.value.code == "no_such_meeting"
    assert build_packet(store, HUB, tmp_path / "z", draft.id, viewer=world["staff"]).pages == 1 + 1 + 0 + 1


def test_the_command_line_writes_a_packet_and_refuses_bad_input(world, tmp_path, capsys):
    url, m = world["url"], world["meeting"].id
    out = tmp_path / "cli"
    assert main(["--database-url", url, "meeting-packet", "--hub", HUB, "--meeting", str(m), "--out", str(out), "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert "Meeting packet written" in printed and f"meeting-{m}.pdf" in printed
    text = PdfReader(out / f"meeting-{m}.pdf").pages[2].extract_text()
    assert "Item 1. 가로등 교체" in text
    assert main(["--database-url", url, "meeting-packet", "--hub", HUB, "--out", str(tmp_path / "next")]) == 0
    assert (tmp_path / "next" / f"meeting-{m}.pdf").is_file()
    capsys.readouterr()
    for args in (["--hub", HAENGSIN1], ["--hub", "nonsense"], ["--hub", HUB, "--meeting", "999999"], ["--hub", OTHER_HUB, "--meeting", str(m)]):
        assert main(["--database-url", url, "meeting-packet", *args, "--out", str(tmp_path / "bad")]) == 2, args
        err = capsys.readouterr().err
        assert re.search(r"[가-힣]", err) and re.search(r"(not a hub|not found)", err), err
    assert main(["--database-url", url, "meeting-packet", "--out", str(tmp_path / "bad")]) == 1  # --hub is required
    assert not (tmp_path / "bad").exists()


def test_a_small_packet_on_each_engine(store, tmp_path):
    install_reference_data(store)
    with store.transaction() as tx:
        author = tx.residents.add("a", "홍길동작성자", home_district_code=HAENGSIN1, password_hash="x").id
        ids = [_proposal(tx, author, f"제안 {i}", 0.004 * i) for i in range(2)]
        _proposal(tx, author, "다른 거점", 0.0, hub_code=OTHER_HUB, district_code=HWAJEONG2, geometry=Point(126.83, 37.64))
    files = build_packet(store, HUB, tmp_path, creation_date=WHEN)
    assert files.pages == 1 + 1 + 2 + 1 and files.proposal_ids == sorted(ids)
    doc = json.loads(files.geojson.read_text(encoding="utf-8"))
    assert sorted(f["id"] for f in doc["features"]) == sorted(ids)
    texts = [page.extract_text() for page in PdfReader(files.pdf).pages]
    assert HUB_NAME in texts[0] and "(미공개)" in texts[-1]  # no published quotas
    assert all(b"\xed\x99\x8d\xea\xb8\xb8\xeb\x8f\x99" not in p.read_bytes() for p in files.files)  # 홍길동
