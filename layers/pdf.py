"""Meeting packets as PDF: a small document builder on fpdf2, with Hangul.

:class:`PacketPDF` lays out an A4 portrait document page by page: a cover
(:meth:`PacketPDF.cover`), map pages (:meth:`PacketPDF.map_page`, a PNG from
:func:`layers.static_map.render_map` with a caption), one page per agenda
item (:meth:`PacketPDF.item_page`: facts, optional map, text) and tables
(:meth:`PacketPDF.table_page`: long tables continue on the next pages with
their header repeated). Every page has a footer with the packet's title and
"n / N"; :meth:`PacketPDF.output` returns the bytes.

Fonts
    NanumGothic regular and bold (from the PyPI package ``koreanize-matplotlib``,
    SIL Open Font License, found by :func:`layers.static_map.font_path`) are
    embedded as subsets, so Hangul prints and can be searched and copied.

Text
    Everything given to the builder is plain text, passed through
    :func:`layers.static_map.plain_text` (control characters dropped,
    characters the font lacks replaced). Nothing is interpreted: no HTML
    (``write_html`` is never used), no markdown, and the total page count is
    filled in through a private-use placeholder that cannot occur in that
    text, so a title such as ``{nb}`` prints as written. Lines wrap at spaces;
    a word longer than a line (a URL) is broken where it reaches the edge.
    A table cell taller than a page is cut with "…".

Metadata
    Title, language, subject, author, creator, producer and creation date. With
    a fixed ``creation_date`` the same calls give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import math
import numbers
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import fpdf
import numpy as np
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.prefs import ViewerPreferences
from PIL import Image

from layers.static_map import font_path, plain_text

FONT = "NanumGothic"
KST = ZoneInfo("Asia/Seoul")
#: Placeholder for the total page count: a private-use character, which plain_text removes from every text.
_TOTAL_PAGES = "\ue000\ue001\ue002"

PAGE_FORMAT = "A4"
MARGIN_MM = 18.0
BOTTOM_MM = 20.0
MIN_COLUMN_MM = 12.0
LINE_FACTOR = 1.45  # line height / font size
PT_TO_MM = 25.4 / 72

ACCENT = (8, 48, 107)  # the clusters' dark blue of the web map
TEXT = (20, 20, 20)
MUTED = (95, 95, 95)
RULE = (190, 190, 190)
HEADER_FILL = (226, 234, 244)
ZEBRA_FILL = (246, 246, 246)

_TEXTS: dict[str, tuple[str, str]] = {
    "creator": ("고양시 주민참여 지도", "Goyang community planning map"),
    "continued": ("{title} (계속)", "{title} (continued)"),
    "empty": ("(항목 없음)", "(none)"),
    "yes": ("예", "yes"),
    "no": ("아니오", "no"),
}
_WEEKDAYS = {"ko": "월화수목금토일", "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


class _QuietSubset(logging.Filter):
    """Drops fontTools' notes that NanumGothic's VTT hinting sources (TSI0-TSI5) are not subset: they are simply left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "NOT subset" not in record.getMessage()


_subset_logger = logging.getLogger("fontTools.subset")
if not any(isinstance(f, _QuietSubset) for f in _subset_logger.filters):
    _subset_logger.addFilter(_QuietSubset())


def _text(key: str, lang: str, **values: Any) -> str:
    ko, en = _TEXTS[key]
    return (en if lang == "en" else ko).format(**values)


def format_date(value: dt.date | dt.datetime | str | None, lang: str = "ko") -> str:
    """A date (and time) as people write it: ``2026년 3월 5일 (목) 14:00`` or ``Thursday 5 March 2026, 14:00``.

    Parameters
    ----------
    value : date, datetime, str or None
        A string is taken as plain text; ``None`` gives ``""``. A datetime
        prints its time when it is not midnight (aware datetimes in KST).
    lang : {"ko", "en"}

    Returns
    -------
    str
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return plain_text(value, 200)
    if not isinstance(value, dt.date):
        raise TypeError("date must be a datetime.date, datetime.datetime, str or None")
    when = value
    if isinstance(when, dt.datetime) and when.tzinfo is not None:
        when = when.astimezone(KST)
    wd = when.weekday()
    if lang == "en":
        text = f"{_WEEKDAYS['en'][wd]} {when.day} {_MONTHS[when.month - 1]} {when.year}"
    else:
        text = f"{when.year}년 {when.month}월 {when.day}일 ({_WEEKDAYS['ko'][wd]})"
    if isinstance(when, dt.datetime) and (when.hour, when.minute) != (0, 0):
        text += f"{',' if lang == 'en' else ''} {when.hour:02d}:{when.minute:02d}"
    return text


def cell_text(value: Any, lang: str = "ko") -> str:
    """A table or fact value as plain text: integers with thousands separators, ``None``/NaN empty.

    Parameters
    ----------
    value : object
        ``bool`` gives 예/아니오 (yes/no); integers ``1,234``; other numbers
        ``1,234.5`` (two decimals at most); anything else ``str``.
    lang : {"ko", "en"}

    Returns
    -------
    str
    """
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return ""
    if isinstance(value, (bool, np.bool_)):
        return _text("yes" if value else "no", lang)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}".rstrip("0")
    if isinstance(value, (dt.date, dt.datetime)):
        return format_date(value, lang)
    return plain_text(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class _Document(FPDF):
    """fpdf2 with the packet's footer: document title on the left, "n / N" in the middle."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-BOTTOM_MM + 8)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1.5, self.w - self.r_margin, self.get_y() - 1.5)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        if self.footer_text:
            text, limit = self.footer_text, self.epw * 0.4
            if self.get_string_width(text) > limit:
                while text and self.get_string_width(text + "…") > limit:
                    text = text[:-1]
                text += "…"
            self.cell(limit, 5, text, align="L")
        self.set_x(self.l_margin)
        self.cell(self.epw, 5, f"{self.page_no()} / {_TOTAL_PAGES}", align="C")


class PacketPDF:
    """A meeting packet: cover, map pages, agenda items and tables, in Korean or English.

    Each ``*_page`` method starts a new page and returns its number; long
    content continues on the following pages. Call :meth:`output` once at the end.

    Parameters
    ----------
    lang : {"ko", "en"}
        Language of the builder's own words (dates, "continued", yes/no) and
        of the document's language tag.
    title : str, optional
        Document title (metadata and footer); default the cover's title.
    author, subject : str, optional
        Metadata.
    creation_date : datetime, optional
        Creation date in the metadata (default now, in KST). Fix it for
        byte-identical output.
    footer_text : str, optional
        Footer text beside the page number; default the document title.

    Examples
    --------
    >>> pdf = PacketPDF("ko")
    >>> pdf.cover("화정1동 민관 협치 회의", "거점 권역 안건", [("일시", "2026년 3월 5일")], None)
    1
    >>> pdf.table_page("예산 배정", ["행정동", "배정액(원)"], [["행신1동", 52_000_000]])
    2
    >>> data = pdf.output()
    """

    def __init__(
        self,
        lang: str = "ko",
        *,
        title: str | None = None,
        author: str | None = None,
        subject: str | None = None,
        creation_date: dt.datetime | None = None,
        footer_text: str | None = None,
    ) -> None:
        if lang not in ("ko", "en"):
            raise ValueError("lang must be 'ko' or 'en'")
        self.lang = lang
        self._title = plain_text(title, 300) if title else ""
        self._footer = plain_text(footer_text, 200) if footer_text else None
        self._output: bytes | None = None
        pdf = _Document(orientation="portrait", unit="mm", format=PAGE_FORMAT)
        pdf.add_font(FONT, "", str(font_path(False)))
        pdf.add_font(FONT, "B", str(font_path(True)))
        pdf.alias_nb_pages(_TOTAL_PAGES)
        pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        pdf.set_auto_page_break(True, BOTTOM_MM)
        pdf.c_margin = 0  # padding is explicit everywhere
        pdf.set_lang("ko-KR" if lang == "ko" else "en")
        pdf.set_creator(_text("creator", lang))
        pdf.set_producer(f"goyang-community-map layers.pdf (fpdf2 {fpdf.__version__})")
        if author:
            pdf.set_author(plain_text(author, 200))
        if subject:
            pdf.set_subject(plain_text(subject, 300))
        if creation_date is not None and not isinstance(creation_date, dt.datetime):
            raise TypeError("creation_date must be a datetime")
        pdf.set_creation_date(creation_date if creation_date is not None else dt.datetime.now(KST))
        pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
        pdf.set_font(FONT, "", 10.5)
        self._pdf = pdf
        self._apply_title()

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------

    @property
    def page_count(self) -> int:
        """Pages so far."""
        return self._pdf.pages_count

    def cover(
        self,
        title: str,
        subtitle: str | None = None,
        facts: Sequence[tuple[Any, Any]] = (),
        date: dt.date | dt.datetime | str | None = None,
    ) -> int:
        """A cover page: the title, a subtitle, the date and a list of facts.

        Parameters
        ----------
        title : str
            The packet's title (e.g. "화정1동 거점 민관 협치 회의"); also the
            document title when none was given.
        subtitle : str, optional
            A line under the title.
        facts : sequence of (label, value)
            E.g. ``[("거점 센터", "화정1동"), ("안건", 4)]``; values through :func:`cell_text`.
        date : date, datetime, str, optional
            The meeting's date (:func:`format_date`).

        Returns
        -------
        int
            The page number.
        """
        self._check_open()
        if not self._title:
            self._title = plain_text(title, 300)
            self._apply_title()
        pdf = self._pdf
        pdf.add_page()
        start = pdf.page_no()
        pdf.set_fill_color(*ACCENT)
        pdf.rect(0, 0, pdf.w, 14, style="F")
        pdf.set_y(34)
        self._write(_text("creator", self.lang), 10, colour=MUTED)
        pdf.ln(3)
        self._write(title, 24, bold=True, colour=ACCENT, line_factor=1.3)
        if subtitle:
            pdf.ln(2)
            self._write(subtitle, 14, colour=TEXT)
        if date is not None:
            pdf.ln(4)
            self._write(format_date(date, self.lang), 12, colour=MUTED)
        pdf.ln(6)
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.6)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 40, pdf.get_y())
        pdf.ln(8)
        if facts:
            self._facts(facts)
        return start

    def map_page(self, title: str, png_bytes: bytes, caption: str | None = None) -> int:
        """A page with a heading, a map (or any PNG/JPEG) as large as fits, and a caption under it.

        Parameters
        ----------
        title : str
            Heading.
        png_bytes : bytes
            The image, e.g. :func:`layers.static_map.render_map`; drawn with its aspect ratio.
        caption : str, optional
            Plain text under the image (sources, what the colours mean).

        Returns
        -------
        int
            The page number.
        """
        self._check_open()
        size = _image_size(png_bytes)
        pdf = self._pdf
        pdf.add_page()
        start = pdf.page_no()
        self._heading(title)
        caption_h = 0.0
        if caption:
            caption_h = len(self._lines(plain_text(caption), pdf.epw, 9)) * self._line_h(9) + 3
        room = pdf.page_break_trigger - pdf.get_y() - caption_h - 2
        self._image(png_bytes, size, max(room, 40.0))
        if caption:
            pdf.ln(2)
            self._write(caption, 9, colour=MUTED)
        return start

    def item_page(
        self,
        title: str,
        facts: Sequence[tuple[Any, Any]] = (),
        body_text: str | None = None,
        png_bytes: bytes | None = None,
        *,
        map_caption: str | None = None,
    ) -> int:
        """One agenda item: heading, facts, an optional map, then its text (continued on the next pages if long).

        Parameters
        ----------
        title : str
            Heading (e.g. "안건 1. 행신1동 어린이 놀이터 그늘막").
        facts : sequence of (label, value)
            Category, district, cost, supports, status, ... (values through :func:`cell_text`).
        body_text : str, optional
            The proposal's description or the secretariat's note; paragraphs separated by newlines.
        png_bytes : bytes, optional
            A map of the item (:func:`layers.static_map.render_map` with
            ``highlight=`` and :func:`layers.static_map.extent_around`),
            drawn at most 45 % of the page high.
        map_caption : str, optional
            Small text under the map.

        Returns
        -------
        int
            The page number where the item starts.
        """
        self._check_open()
        size = _image_size(png_bytes) if png_bytes is not None else None
        pdf = self._pdf
        pdf.add_page()
        start = pdf.page_no()
        self._heading(title)
        if facts:
            self._facts(facts)
            pdf.ln(4)
        if png_bytes is not None and size is not None:
            room = pdf.page_break_trigger - pdf.get_y()
            if room < 60:
                pdf.add_page()
                room = pdf.page_break_trigger - pdf.get_y()
            self._image(png_bytes, size, min(room - 4, pdf.eph * 0.45))
            if map_caption:
                pdf.ln(1)
                self._write(map_caption, 8.5, colour=MUTED)
            pdf.ln(4)
        if body_text:
            self._write(body_text, 10.5, colour=TEXT)
        return start

    def table_page(
        self,
        title: str,
        columns: Sequence[Any],
        rows: Sequence[Sequence[Any]],
        column_widths: Sequence[float] | None = None,
        align: str | Sequence[str] | None = None,
        *,
        font_size: float = 9.0,
    ) -> int:
        """A table under a heading; it continues on the next pages with the header row repeated.

        Parameters
        ----------
        title : str
            Heading (repeated as "… (계속)" on continuation pages).
        columns : sequence
            Header texts.
        rows : sequence of sequences
            One value per column (through :func:`cell_text`: pass preformatted
            strings for full control). Cells wrap; a cell taller than a page is cut with "…".
        column_widths : sequence of float, optional
            Relative widths (e.g. ``(3, 1, 1)``), scaled to the page width;
            default from the contents. No column is narrower than 12 mm.
        align : str or sequence of str, optional
            ``"L"``, ``"C"`` or ``"R"`` for all columns or one per column;
            default right for columns of numbers, left otherwise.
        font_size : float
            Text size in points.

        Returns
        -------
        int
            The page number where the table starts.

        Raises
        ------
        ValueError
            A row with the wrong number of cells, bad widths or alignments,
            or more columns than fit (at 12 mm each).
        """
        self._check_open()
        pdf = self._pdf
        n = len(columns)
        if n == 0:
            raise ValueError("a table needs at least one column")
        rows = [list(r) for r in rows]
        for i, r in enumerate(rows):
            if len(r) != n:
                raise ValueError(f"row {i} has {len(r)} cells, the table has {n} columns")
        aligns = self._aligns(align, rows, n)
        head = [cell_text(c, self.lang) for c in columns]
        body = [[cell_text(v, self.lang) for v in r] for r in rows]
        pdf.set_font(FONT, "", font_size)
        widths = self._widths(column_widths, head, body, font_size)
        pdf.add_page()
        start = pdf.page_no()
        self._heading(title)
        line_h = self._line_h(font_size)
        pad_x, pad_y = 1.6, 1.2
        header = self._layout(head, widths, font_size, True, pad_x, pad_y, max_lines=4)
        # a body cell may be at most as tall as a page under a continuation heading and the header row
        room = pdf.page_break_trigger - pdf.t_margin - 14 - header[1] - 2 * pad_y - 1
        max_lines = max(1, int(room // line_h))

        def draw_header() -> None:
            self._draw_row(header, widths, aligns, font_size, True, pad_x, pad_y, fill=HEADER_FILL)

        if not body:
            draw_header()
            pdf.ln(2)
            self._write(_text("empty", self.lang), font_size, colour=MUTED)
            return start
        first = self._layout(body[0], widths, font_size, False, pad_x, pad_y, max_lines)
        if pdf.get_y() + header[1] + first[1] > pdf.page_break_trigger:
            self._continue(title)
        draw_header()
        for i, cells in enumerate(body):
            row = first if i == 0 else self._layout(cells, widths, font_size, False, pad_x, pad_y, max_lines)
            if pdf.get_y() + row[1] > pdf.page_break_trigger:
                self._continue(title)
                draw_header()
            self._draw_row(row, widths, aligns, font_size, False, pad_x, pad_y, fill=ZEBRA_FILL if i % 2 else None)
        return start

    def output(self) -> bytes:
        """The finished PDF. After this no page can be added; calling it again returns the same bytes."""
        if self._output is None:
            if self._pdf.pages_count == 0:
                raise ValueError("the packet has no pages")
            self._output = bytes(self._pdf.output())
        return self._output

    # ------------------------------------------------------------------
    # Layout helpers
    # ------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._output is not None:
            raise RuntimeError("the packet was already output; start a new PacketPDF")

    def _apply_title(self) -> None:
        if self._title:
            self._pdf.set_title(self._title)
        self._pdf.footer_text = self._footer if self._footer is not None else plain_text(self._title, 80)

    @staticmethod
    def _line_h(size: float, factor: float = LINE_FACTOR) -> float:
        return size * PT_TO_MM * factor

    def _lines(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        """How fpdf2 breaks ``text`` (already plain) into lines ``width`` mm wide."""
        pdf = self._pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        if not text:
            return [""]
        if "\n" not in text and pdf.get_string_width(text) <= width:
            return [text]
        lines = pdf.multi_cell(width, self._line_h(size), text, align="L", dry_run=True, output="LINES")
        return list(lines) or [""]

    def _write(self, text: Any, size: float, *, bold: bool = False, colour: tuple[int, int, int] = TEXT,
               line_factor: float = LINE_FACTOR) -> None:
        """Plain text across the page width, wrapped, continuing on the next page when needed."""
        pdf = self._pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(*colour)
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(pdf.epw, self._line_h(size, line_factor), plain_text(text), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _heading(self, title: Any) -> None:
        pdf = self._pdf
        self._write(title, 16, bold=True, colour=ACCENT, line_factor=1.3)
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.4)
        y = pdf.get_y() + 1.5
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.set_y(y + 5)

    def _continue(self, title: Any) -> None:
        self._pdf.add_page()
        self._write(_text("continued", self.lang, title=plain_text(title, 200)), 11, bold=True, colour=ACCENT)
        self._pdf.ln(2)

    def _facts(self, facts: Sequence[tuple[Any, Any]]) -> None:
        """Label/value rows (labels bold and muted), separated by thin rules; rows move to the next page whole."""
        pdf = self._pdf
        widths = [pdf.epw * 0.3, pdf.epw * 0.7]
        pad_x, pad_y, size = 1.5, 1.6, 10.0
        max_lines = max(1, int((pdf.eph - 10) // self._line_h(size)))
        for item in facts:
            try:
                label, value = item
            except (TypeError, ValueError):
                raise ValueError("facts must be (label, value) pairs") from None
            texts = [cell_text(label, self.lang), cell_text(value, self.lang)]
            lines, height = self._layout(texts, widths, size, False, pad_x, pad_y, max_lines, bold_columns=(0,))
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
            self._draw_row((lines, height), widths, ["L", "L"], size, False, pad_x, pad_y, fill=None,
                           rule_only=True, bold_columns=(0,), colours=(MUTED, TEXT))

    def _layout(self, texts: Sequence[str], widths: Sequence[float], size: float, bold: bool, pad_x: float, pad_y: float,
                max_lines: int, bold_columns: Sequence[int] = ()) -> tuple[list[list[str]], float]:
        """Lines of each cell (cut to ``max_lines`` with "…") and the row height."""
        cells = []
        for j, (text, w) in enumerate(zip(texts, widths)):
            is_bold = bold or j in bold_columns
            inner = w - 2 * pad_x
            lines = self._lines(text, inner, size, is_bold)
            if len(lines) > max_lines:
                lines = lines[:max_lines]
                lines[-1] = self._with_ellipsis(lines[-1], inner)
            cells.append(lines)
        height = max(len(c) for c in cells) * self._line_h(size) + 2 * pad_y
        return cells, height

    def _with_ellipsis(self, line: str, width: float) -> str:
        pdf = self._pdf
        text = line.rstrip()
        while text and pdf.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"

    def _draw_row(self, row: tuple[list[list[str]], float], widths: Sequence[float], aligns: Sequence[str], size: float,
                  bold: bool, pad_x: float, pad_y: float, *, fill: tuple[int, int, int] | None, rule_only: bool = False,
                  bold_columns: Sequence[int] = (), colours: Sequence[tuple[int, int, int]] | None = None) -> None:
        pdf = self._pdf
        cells, height = row
        x, y = pdf.l_margin, pdf.get_y()
        line_h = self._line_h(size)
        pdf.set_line_width(0.2)
        pdf.set_draw_color(*RULE)
        for j, (lines, w, al) in enumerate(zip(cells, widths, aligns)):
            if fill is not None:
                pdf.set_fill_color(*fill)
                pdf.rect(x, y, w, height, style="F")
            if not rule_only:
                pdf.rect(x, y, w, height, style="D")
            pdf.set_font(FONT, "B" if bold or j in bold_columns else "", size)
            pdf.set_text_color(*(colours[j] if colours else TEXT))
            for k, line in enumerate(lines):
                if line:
                    pdf.set_xy(x + pad_x, y + pad_y + k * line_h)
                    pdf.cell(w - 2 * pad_x, line_h, line, align=al)
            x += w
        if rule_only:
            pdf.line(pdf.l_margin, y + height, pdf.l_margin + sum(widths), y + height)
        pdf.set_xy(pdf.l_margin, y + height)

    def _aligns(self, align: str | Sequence[str] | None, rows: list[list[Any]], n: int) -> list[str]:
        if align is None:
            out = []
            for j in range(n):
                values = [r[j] for r in rows if r[j] is not None and r[j] != ""]
                out.append("R" if values and all(_is_number(v) for v in values) else "L")
            return out
        values = [align] * n if isinstance(align, str) else list(align)
        if len(values) != n:
            raise ValueError(f"align has {len(values)} values, the table has {n} columns")
        out = []
        for a in values:
            key = str(a).upper()[:1]
            if key not in ("L", "C", "R"):
                raise ValueError(f"align values are 'L', 'C' or 'R', not {a!r}")
            out.append(key)
        return out

    def _widths(self, column_widths: Sequence[float] | None, head: list[str], body: list[list[str]], size: float) -> list[float]:
        pdf = self._pdf
        n = len(head)
        total = pdf.epw
        if n * MIN_COLUMN_MM > total:
            raise ValueError(f"{n} columns do not fit on the page (at most {int(total // MIN_COLUMN_MM)})")
        if column_widths is not None:
            weights = [float(w) for w in column_widths]
            if len(weights) != n:
                raise ValueError(f"column_widths has {len(weights)} values, the table has {n} columns")
            if not all(math.isfinite(w) and w > 0 for w in weights):
                raise ValueError("column_widths must be positive numbers")
        else:
            pdf.set_font(FONT, "", size)
            weights = []
            for j in range(n):
                sample = [head[j], *(r[j] for r in body[:200])]
                longest = max(max((pdf.get_string_width(part) for part in s.split("\n")), default=0) for s in sample)
                weights.append(min(max(longest + 4, MIN_COLUMN_MM), 80.0))
        widths = [w / sum(weights) * total for w in weights]
        # no column under the minimum: take the room from the wider ones
        for _ in range(n):
            short = [j for j, w in enumerate(widths) if w < MIN_COLUMN_MM - 1e-9]
            if not short:
                break
            need = sum(MIN_COLUMN_MM - widths[j] for j in short)
            wide = [j for j in range(n) if j not in short]
            spare = sum(widths[j] for j in wide)
            for j in short:
                widths[j] = MIN_COLUMN_MM
            for j in wide:
                widths[j] -= need * widths[j] / spare
        return widths

    def _image(self, data: bytes, size: tuple[int, int], max_h: float) -> None:
        pdf = self._pdf
        px_w, px_h = size
        w = pdf.epw
        h = w * px_h / px_w
        if h > max_h:
            h = max_h
            w = h * px_w / px_h
        x = pdf.l_margin + (pdf.epw - w) / 2
        y = pdf.get_y()
        pdf.image(io.BytesIO(data), x=x, y=y, w=w, h=h)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        pdf.rect(x, y, w, h, style="D")
        pdf.set_xy(pdf.l_margin, y + h + 1)


def _image_size(data: Any) -> tuple[int, int]:
    """Width and height in pixels of a PNG or JPEG; ``ValueError`` for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("the image must be bytes (a PNG, e.g. from layers.static_map.render_map)")
    try:
        with Image.open(io.BytesIO(bytes(data))) as img:
            if img.format not in ("PNG", "JPEG"):
                raise ValueError(f"the image must be a PNG or JPEG, not {img.format}")
            w, h = img.size
    except ValueError:
        raise
    except (OSError, SyntaxError, Image.DecompressionBombError) as err:  # Pillow's errors for broken or unknown data
        raise ValueError(f"not a readable PNG or JPEG image: {err}") from None
    if w < 1 or h < 1:
        raise ValueError("the image is empty")
    return w, h
