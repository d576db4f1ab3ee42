"""Fuzzing proposal forms and comments through the service layer, with a real store.

Title, description, category, kind, cost, photo link, drawn shape and comment
text come from hostile strategies (empty, huge, control characters, lone
surrogates, right-to-left marks, emoji, SQL and HTML fragments). Each call
ends in a bilingual refusal, and then nothing is stored, or in a stored row
whose text is clean (NFC, no control characters, within limits, stored
verbatim: SQL stays text) and whose geometry is valid, finite, lon/lat and
inside Goyang. The big runs use one SQLite store; a smaller run goes over
both engines through the ``store`` fixture.
"""
from __future__ import annotations

import unicodedata

import pytest
from fuzz_geojson import check_accepted, drawn
from fuzzkit import assert_bilingual, count, fuzz_settings, outcome
from hypothesis import example, given
from hypothesis import strategies as st

from geo.errors import Refusal
from planning.accounts import register
from planning.categories import category_codes
from planning.errors import InvalidInput
from planning.geography import install_reference_data
from planning.proposals import BODY_MAX, COMMENT_MAX, PHOTO_URL_MAX, TITLE_MAX, add_comment, clean_text, submit_proposal

DISTRICT = "4128164000"  # 행신1동
LON, LAT = 126.833004, 37.622148
POINT = {"type": "Point", "coordinates": [LON, LAT]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[LON, LAT], [LON + 0.002, LAT], [LON + 0.002, LAT + 0.001], [LON, LAT + 0.001], [LON, LAT]]],
}

FRAGMENTS = [
    "\x00", "\x07", "\x1b[31m", "\r\n", "\r", "\u2028", "\x85", "\t", "\u200b", "\u200e", "\u200f", "\u202e", "\u2066",
    "\ufeff", "\ufffe", "\U0010ffff", "\ue000", "\ud800", "\udfff", "\ud83d\ude00", "\ud83d", "😀", "👨\u200d👩\u200d👧",
    "🇰🇷", "e\u0301", "\u1100\u1161", "한글", "공원 벤치", "مرحبا", "שלום", "   ", "'; DROP TABLE proposals; --",
    "' OR '1'='1", '" OR ""="', "%s%n%x", "{0}{title}", "\\", "NULL", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "</textarea>", "&amp;&lt;", "javascript:alert(1)", "\u0000\u0000",
]

hostile_text = st.one_of(
    st.none(),
    st.text(max_size=50),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),  # lone surrogates too
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=12).map("".join),
    st.tuples(st.sampled_from(FRAGMENTS + ["가", "a"]), st.sampled_from([100, 1_000, 5_001, 100_000, 2_000_000])).map(
        lambda t: t[0] * t[1]
    ),
    st.integers(),
    st.binary(max_size=8),
)
hostile_cost = st.one_of(
    st.none(),
    st.integers(-(2**64), 2**64),
    st.integers(0, 20_000_000_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["1,000", "1e9", "NaN", "-1"]),
)
hostile_url = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "https://example.kr/photo.jpg",
            "http://example.kr/사진.jpg",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "https://user:pw@evil.example/x.jpg",
            "https://example.kr:99999/x",
            "https://[::1/x",
            "https://example.kr/\u202egpj.exe",
            "https://example.kr/a b.jpg",
            "https://" + "a" * 600 + ".kr/",
            "//example.kr/x.jpg",
            "https:///x.jpg",
        ]
    ),
    st.text(max_size=20).map(lambda s: "https://example.kr/" + s),
)


def mostly(good, bad, odds: int = 4):
    """``good`` ``odds - 1`` times in ``odds``, else ``bad``: every field hostile at once would never be accepted."""
    return st.integers(0, odds - 1).flatmap(lambda i: bad if i == 0 else good)


plain_text = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs", "So"]), min_size=1, max_size=40)
categories = mostly(st.sampled_from(category_codes()), st.one_of(hostile_text, st.sampled_from(["Environment", " welfare", "환경"])), 6)
kinds = mostly(st.sampled_from(["area", "individual"]), hostile_text, 6)
shapes = mostly(st.sampled_from([POINT, SQUARE]), drawn(), 3)
titles = mostly(plain_text, hostile_text, 3)
costs = mostly(st.one_of(st.none(), st.integers(0, 10_000_000_000)), hostile_cost, 4)
urls = mostly(st.one_of(st.none(), st.just("https://example.kr/p.jpg")), hostile_url, 4)


def assert_clean(text: str, max_len: int, required: bool = True) -> None:
    """Text as stored: NFC, no control/format/surrogate/private-use characters or noncharacters (newline, tab and joiners aside), trimmed, bounded."""
    assert isinstance(text, str)
    assert len(text) <= max_len and (text or not required)
    assert text == text.strip() and unicodedata.is_normalized("NFC", text)
    bad = [
        ch
        for ch in text
        if ch not in "\n\t\u200c\u200d"
        and (unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") or 0xFDD0 <= ord(ch) <= 0xFDEF or (ord(ch) & 0xFFFE) == 0xFFFE)
    ]  # unassigned code points (newer emoji) may stay
    assert not bad, f"control characters stored: {bad!r}"
    text.encode("utf-8")  # no lone surrogate: storable on every engine
    assert clean_text(text, field_ko="x", field_en="x", max_len=max_len, required=required) == text


def ready_store(store):
    install_reference_data(store)
    rid = register(store, "fuzzer", "correct horse battery", "퍼저", DISTRICT)
    pid = submit_proposal(store, rid, SQUARE, "댓글용 제안", "댓글을 받는 제안입니다.", category_codes()[0])
    return rid, pid


@pytest.fixture(scope="module")
def sqlite_ready(tmp_path_factory):
    """One migrated SQLite store for the big runs (examples add rows to it; checks are per row)."""
    from store import Store

    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'store.sqlite3'}")
    try:
        yield (store, *ready_store(store))
    finally:
        store.dispose()


def try_submit(store, rid, shape, title, body, category, kind, cost, photo) -> None:
    with store.transaction() as tx:
        before = tx.proposals.count(include_hidden=True)
    try:
        pid = submit_proposal(store, rid, shape, title, body, category, kind, cost, photo_url=photo)
    except Refusal as err:
        assert_bilingual(err)
        with store.transaction() as tx:
            assert tx.proposals.count(include_hidden=True) == before, "a refused proposal was stored"
        outcome("proposal form (submit_proposal)", False)
        return
    outcome("proposal form (submit_proposal)", True)
    with store.transaction() as tx:
        p = tx.proposals.get(pid)
        assert tx.proposals.count(include_hidden=True) == before + 1
        assert_clean(p.title, TITLE_MAX)
        assert_clean(p.body, BODY_MAX)
        assert p.title == clean_text(title, field_ko="x", field_en="x", max_len=TITLE_MAX)
        assert p.category in category_codes() and p.kind in ("area", "individual")
        assert p.cost_krw is None or (type(p.cost_krw) is int and 0 <= p.cost_krw <= 10_000_000_000)
        assert p.photo_url is None or (p.photo_url.startswith(("http://", "https://")) and len(p.photo_url) <= PHOTO_URL_MAX)
        check_accepted(p.geometry)
        assert p.district_code and p.hub_code


@fuzz_settings(scale=3)
@given(shapes, titles, titles, categories, kinds, costs, urls)
@example(POINT, "'; DROP TABLE proposals; --", "<script>alert(1)</script>", "environment", "area", 0, None)
@example(POINT, "e\u200b\u0301", "\u1100\u200b\u1161", "environment", "area", None, None)
@example(POINT, "\ud83d\ude00 \ud800", "\u202eabc\u200f", "environment", "individual", 10, "https://example.kr/p.jpg")
@example(POINT, "가" * 1_000_000, "b", "environment", "area", None, None)
def test_submit_proposal_form(sqlite_ready, shape, title, body, category, kind, cost, photo):
    store, rid, _ = sqlite_ready
    count("proposal form (planning.proposals.submit_proposal, SQLite)")
    try_submit(store, rid, shape, title, body, category, kind, cost, photo)


def try_comment(store, rid, pid, body) -> None:
    with store.transaction() as tx:
        before = len(tx.comments.list_for(pid, include_hidden=True))
    try:
        cid = add_comment(store, rid, pid, body)
    except Refusal as err:
        assert_bilingual(err)
        with store.transaction() as tx:
            assert len(tx.comments.list_for(pid, include_hidden=True)) == before, "a refused comment was stored"
        outcome("comment text (add_comment)", False)
        return
    outcome("comment text (add_comment)", True)
    with store.transaction() as tx:
        c = tx.comments.get(cid)
        assert_clean(c.body, COMMENT_MAX)
        assert c.body == clean_text(body, field_ko="x", field_en="x", max_len=COMMENT_MAX)


@fuzz_settings(scale=3)
@given(hostile_text)
@example("'); DELETE FROM comments; --")
@example("\x00" * 10)
@example("\u200f\u202e")
def test_comment_text(sqlite_ready, body):
    store, rid, pid = sqlite_ready
    count("comment text (planning.proposals.add_comment, SQLite)")
    try_comment(store, rid, pid, body)


@fuzz_settings(scale=0.25)
@given(st.data())
def test_form_and_comment_on_both_engines(store, data):
    """A smaller run on SQLite and PostGIS: the same inputs store the same clean values on each engine."""
    if not hasattr(store, "_fuzz_ready"):
        store._fuzz_ready = ready_store(store)
    rid, pid = store._fuzz_ready
    engine = store.url.get_backend_name()
    shape = data.draw(shapes)
    title, body = data.draw(titles), data.draw(titles)
    category, kind = data.draw(categories), data.draw(kinds)
    cost, photo = data.draw(costs), data.draw(urls)
    count(f"proposal form (both engines: {engine})")
    try_submit(store, rid, shape, title, body, category, kind, cost, photo)
    count(f"comment text (both engines: {engine})")
    try_comment(store, rid, pid, data.draw(hostile_text))


@fuzz_settings(scale=5)
@given(hostile_text.filter(lambda v: isinstance(v, str) and len(v) < 100_000), st.sampled_from([1, 40, TITLE_MAX, BODY_MAX]))
@example("e\u200b\u0301", 10)
@example("\u1100\u200f\u1161", 10)
def test_clean_text_is_clean_and_idempotent(value, max_len):
    """Whatever clean_text returns is already clean: removal before NFC, surrogates and controls gone."""
    count("form text (planning.proposals.clean_text)")
    try:
        text = clean_text(value, field_ko="제목", field_en="title", max_len=max_len)
    except Refusal as err:
        assert_bilingual(err)
        return
    assert_clean(text, max_len)


def test_clean_text_removes_before_normalising():
    count("form text (planning.proposals.clean_text)", 6)
    kw = {"field_ko": "제목", "field_en": "title", "max_len": 50}
    assert clean_text("e\u200b\u0301", **kw) == "\u00e9"  # the removed space no longer keeps e and the accent apart
    assert clean_text("\u1100\u200f\u1161", **kw) == "가"  # jamo compose once the RLM is gone
    assert clean_text("a\ud83d\ude00b\ud800", **kw) == "a😀b"  # a surrogate pair joined, a lone one dropped
    assert clean_text("👨\u200d👩\u200d👧 가족", **kw) == "👨\u200d👩\u200d👧 가족"  # joiners of emoji kept
    assert clean_text("a\r\nb\rc\u2028d", **kw) == "a\nb\nc\nd"
    with pytest.raises(InvalidInput) as e:
        clean_text(["not", "text"], **kw)
    assert_bilingual(e.value)
