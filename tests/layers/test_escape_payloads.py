"""Script payloads in every exported file stay inert text (issue 8, "Bad input").

One SQLite world holds proposals whose titles, descriptions, comments, meeting
texts and minutes are script payloads (the same list the browser test plants,
``tests/browser/test_script_payloads.py``). The review exports (CSV, GeoJSON,
GeoPackage) and the meeting packet (PDF, CSV, GeoJSON, GeoPackage) are read
back: every payload is there as the literal text it was, the CSV defuses cells
a spreadsheet would run as a formula, and the PDF's extracted text shows the
payloads as text.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from shapely.geometry import Point

from planning.auth import actor_for
from planning.exports import read_back, review_export
from planning.geography import install_reference_data
from planning.meetings import create_meeting, meeting_view, publish_meeting, record_minutes, set_agenda
from planning.packet import build_packet
from store import Store

#: The payloads of the issue: each one would run a script (or a formula) if a context did not escape it.
PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    "`${window.__xss=3}`",
    "</script><script>window.__xss=4</script>",
    "javascript:window.__xss=5",
    '"><svg onload=window.__xss=6>',
    "'-alert(1)-'",
    "줄\u2028바꿈\u2029끝",
    "고양 שלום مرحبا 🌳🏘️",
)
#: Cells a spreadsheet would run as a formula unless defused.
FORMULAS = ("=HYPERLINK(\"http://x\",\"y\")", "+SUM(1,2)", "-2+3", "@cmd", "=1+2 \t@x")
#: Everything at once (descriptions, comments, minutes notes hold long texts).
ALL = " ".join(PAYLOADS)

HAENGSIN1 = "4128164000"  # 행신1동
HUB = "4128165000"  # 행신2동 hub
LON, LAT = 126.833004, 37.622148
WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def squash(text: str) -> str:
    """Text without any white space (PDF extraction breaks lines and spaces freely)."""
    return re.sub(r"[\s\u2028\u2029]+", "", text)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("payloads")
    store = Store.open(f"sqlite:///{root / 'db.sqlite3'}")
    install_reference_data(store)
    with store.transaction() as tx:
        author = tx.residents.add("payload_author", PAYLOADS[1], home_district_code=HAENGSIN1, password_hash="x").id
        staff = tx.residents.add("payload_staff", PAYLOADS[0], role="centre_staff", hub_code=HUB, password_hash="x").id
        planner = tx.residents.add("payload_planner", PAYLOADS[2], role="planner", password_hash="x").id
        ids = []
        for i, title in enumerate(PAYLOADS + FORMULAS):
            p = tx.proposals.add(
                title=title, body=f"{ALL} #{i}", category="environment", kind="area", author_id=author,
                geometry=Point(LON + 0.002 * i, LAT + 0.001 * (i % 3)), hub_code=HUB, district_code=HAENGSIN1,
                cost_krw=1_000_000 + i, photo_url=f"https://example.kr/{i}.jpg",
            )
            tx.proposals.set_status(p.id, "under_review", None, "setup")
            tx.proposals.set_status(p.id, "shortlisted", None, "setup")
            tx.comments.add(p.id, author, ALL)
            ids.append(p.id)
        tx.cycles.add(2026, total_krw=1, quotas_published_at=WHEN)
    staff_actor = actor_for(store, staff)
    m = create_meeting(store, staff_actor, HUB, "hub_meeting", datetime.now(UTC) + timedelta(days=5), PAYLOADS[3], title=PAYLOADS[5])
    # the first items one by one (each a page), the rest as a cluster item with a payload title
    items = [{"proposal_id": pid} for pid in ids[:len(PAYLOADS)]] + [{"cluster": ids[len(PAYLOADS):], "title": PAYLOADS[2]}]
    set_agenda(store, staff_actor, m.id, items)
    publish_meeting(store, staff_actor, m.id)
    first = meeting_view(store, staff_actor, m.id).items[0].id
    record_minutes(store, staff_actor, m.id, first, "adopted", PAYLOADS[4], 3, 1, 0)
    try:
        yield {"store": store, "root": root, "ids": ids, "meeting": m, "planner": actor_for(store, planner)}
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def packet(world):
    return build_packet(world["store"], HUB, world["root"] / "out", world["meeting"].id, creation_date=WHEN)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _check_csv(rows: list[dict[str, str]]) -> None:
    titles = {r["title"] for r in rows}
    for title in PAYLOADS:
        assert title in titles, f"{title!r} is missing from the CSV"
    for formula in FORMULAS:
        assert "'" + formula in titles, f"{formula!r} is not defused"
    for row in rows:
        for column, cell in row.items():
            if column in ("lon", "lat", "wkt") or re.fullmatch(r"-?\d+(\.\d+)?", cell or ""):
                continue
            assert not (cell or "").startswith(("=", "+", "-", "@", "\t", "\r")), f"{column}={cell!r} runs as a formula"


def test_review_csv_holds_the_payloads_as_text_and_defuses_formulas(world):
    _check_csv(_csv_rows(review_export(world["store"], world["planner"], None, "csv")))


def test_review_geojson_and_geopackage_hold_the_payloads_exactly(world):
    data = review_export(world["store"], world["planner"], None, "geojson")
    titles = {f["properties"]["title"] for f in json.loads(data)["features"]}
    assert set(PAYLOADS) | set(FORMULAS) <= titles
    gpkg = read_back(review_export(world["store"], world["planner"], None, "gpkg"), "gpkg")
    assert set(PAYLOADS) | set(FORMULAS) <= set(gpkg["title"])


def test_packet_data_files_hold_the_payloads_as_text(packet):
    _check_csv(_csv_rows(packet.csv.read_bytes()))
    titles = {f["properties"]["title"] for f in json.loads(packet.geojson.read_bytes())["features"]}
    assert set(PAYLOADS) | set(FORMULAS) <= titles
    gpkg = read_back(packet.gpkg.read_bytes(), "gpkg")
    assert set(PAYLOADS) <= set(gpkg["title"])


def test_packet_pdf_shows_the_payloads_as_literal_text(packet):
    reader = PdfReader(packet.pdf)
    text = squash("\n".join(page.extract_text() for page in reader.pages))
    # every markup payload, the meeting's title and place, the cluster item's title, reached the PDF as text
    for payload in PAYLOADS[:7]:
        assert squash(payload) in text, f"{payload!r} is not shown as text in the PDF"
    assert "줄" in text and "바꿈" in text and "고양" in text
    # nothing in the PDF can run: no JavaScript, no actions, no links to javascript:
    raw = packet.pdf.read_bytes()
    for marker in (b"/JavaScript", b"/JS", b"/Launch", b"/URI", b"/AA"):
        assert marker not in raw, marker
    open_action = reader.trailer["/Root"].get("/OpenAction")
    assert open_action is None or isinstance(open_action.get_object(), list)  # a page to open at, not an action
