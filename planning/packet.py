"""Meeting packets: a PDF, PNG maps and the agenda's data, drawn offline for one hub.

:func:`build_packet` writes into a folder:

``<stem>.pdf``
    A4, NanumGothic embedded (Hangul prints, can be searched and copied;
    :mod:`layers.pdf`): a cover (hub, meeting title, kind, date, place,
    status, the catchment's dongs, counts), a map of the catchment, one page
    per agenda item with its own map and facts (category, status, dongs,
    supports, estimated and official cost, the decision once recorded) and
    the quota table of the catchment's dongs (quota, committed, left in the
    current cycle, once published).
``<stem>-map.png``, ``<stem>-item-01.png``, ...
    The same maps (:mod:`layers.static_map`: boundaries as the base, no tile
    server; catchment dongs outlined, other dongs light, proposals by
    category and status, cluster outlines, the hub centre; an item's map is
    centred on it with its proposals haloed).
``<stem>-agenda.geojson``, ``.csv``, ``.gpkg``
    Exactly the agenda's proposals (cluster items expanded), with the
    columns of :mod:`planning.exports` and ``agenda_item`` (the item's
    number).

The stem is ``meeting-<id>`` or, without a meeting, ``hub-<code>-shortlist``.

Public content only
    Everything comes from what the public sees: no author names, ids or
    contacts, no hidden proposals or comments, nobody who prepared or
    recorded anything. The PDF's metadata names no author. The cluster
    outlines are those of :func:`planning.catchments.hub_overview`, so
    clusters of fewer than :func:`planning.privacy.privacy_k` distinct
    residents are left out (the cover says how many).

Command line: ``python -m planning meeting-packet --hub CODE [--meeting ID]
--out DIR [--lang ko|en]`` (:func:`cmd_meeting_packet`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import geopandas as gpd
import pandas as pd

from geo.crs import STORAGE_CRS
from geo.errors import Refusal
from planning.catchments import HubOverview, hub_overview
from planning.errors import InvalidInput
from planning.i18n import t
from planning.meetings import MeetingInfo, PresentationItem, packet_agenda
from planning.privacy import suppressed_note

if TYPE_CHECKING:
    from planning.auth import Actor
    from store import Store

#: Pixel sizes of the maps (at :data:`MAP_DPI`).
CATCHMENT_MAP_PX = (1400, 1050)
ITEM_MAP_PX = (1400, 800)
MAP_DPI = 150
#: Metres of neighbourhood around the catchment on its map.
CATCHMENT_PAD_M = 300.0
#: An item page's description is cut to this many characters and lines, so each item fits on one page.
BODY_CHARS = 220
BODY_LINES = 4
FACT_CHARS = 160
TITLE_CHARS = 90


@dataclass(frozen=True)
class PacketFiles:
    """What :func:`build_packet` wrote, and what is in it.

    Attributes
    ----------
    pdf : Path
    maps : list of Path
        The catchment map first, then one per agenda item.
    geojson, csv, gpkg : Path
        The agenda's proposals.
    pages : int
        Pages of the PDF.
    item_pages : list of int
        The page where each agenda item starts.
    quota_page : int
        The page where the quota table starts.
    proposal_ids : list of int
        The agenda's proposals (ascending), as in the data files.
    meeting_id : int or None
        The meeting, or None for a hub's shortlist.
    seconds : float
        How long the build took.
    """

    out_dir: Path
    pdf: Path
    maps: list[Path]
    geojson: Path
    csv: Path
    gpkg: Path
    pages: int
    item_pages: list[int]
    quota_page: int
    proposal_ids: list[int]
    meeting_id: int | None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        """Every file written: the PDF, the maps, then the data."""
        return [self.pdf, *self.maps, self.geojson, self.csv, self.gpkg]

    def zip_bytes(self) -> bytes:
        """All the files in one ZIP archive (for a download button)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in self.files:
                zf.write(path, arcname=path.name)
        return buf.getvalue()


def _check_lang(lang: Any) -> str:
    if lang not in ("ko", "en"):
        raise InvalidInput("bad_lang", "언어는 ko 또는 en으로 골라 주세요.", "Please choose the language ko or en.")
    return str(lang)


def _cut(text: Any, chars: int, lines: int | None = None) -> str:
    value = "" if text is None else str(text)
    if lines is not None:
        parts = [p for p in value.splitlines() if p.strip()]
        if len(parts) > lines:
            value = "\n".join(parts[:lines]) + "\n…"
        else:
            value = "\n".join(parts)
    return value if len(value) <= chars else value[: chars - 1] + "…"


#: Ever shorter texts of an item page, tried in turn until the page fits: (title, fact values, body characters, body lines).
_FIT_STEPS: tuple[tuple[int, int, int, int], ...] = (
    (TITLE_CHARS, FACT_CHARS, BODY_CHARS, BODY_LINES),
    (TITLE_CHARS, FACT_CHARS, 100, 2),
    (TITLE_CHARS, FACT_CHARS, 0, 0),
    (45, 70, 0, 0),
    (30, 30, 0, 0),
)


class _OnePage:
    """Finds the texts of an item page that fit on one page, by laying them out in a scratch document.

    The scratch document gets the same calls as the real one, with a blank
    image of the map's size in place of the map (same layout, cheap to
    embed), so what fits there fits in the packet.
    """

    def __init__(self, lang: str, size_px: tuple[int, int]) -> None:
        from PIL import Image

        from layers.pdf import PacketPDF

        self._pdf = PacketPDF(lang)
        buf = io.BytesIO()
        Image.new("RGB", size_px, "white").save(buf, format="PNG")
        self._blank = buf.getvalue()

    def _fits(self, heading: str, facts: list[tuple[str, Any]], body: str | None, caption: str) -> bool:
        before = self._pdf.page_count
        self._pdf.item_page(heading, facts, body, self._blank, map_caption=caption)
        return self._pdf.page_count - before == 1

    def fit(self, item: PresentationItem, caption: str) -> tuple[str, list[tuple[str, Any]], str | None]:
        """(heading, facts, body) of ``item``, shortened just enough for one page (the last step if nothing fits)."""
        tried: tuple[str, list[tuple[str, Any]], str | None] | None = None
        for title_chars, fact_chars, body_chars, body_lines in _FIT_STEPS:
            heading = _cut(item.heading, title_chars)
            facts = [(label, _cut(value, fact_chars) if isinstance(value, str) else value) for label, value in item.facts]
            body = _cut(item.body, body_chars, body_lines) if body_chars else ""
            tried = (heading, facts, body or None)
            if self._fits(*tried, caption):
                break
        assert tried is not None
        return tried


def _agenda_frame(store: Store, items: Sequence[PresentationItem]) -> gpd.GeoDataFrame:
    """The agenda's proposals as an export frame (:func:`planning.exports.export_frame`) with ``agenda_item``."""
    from planning.exports import export_frame
    from planning.review import frame_from_summaries
    from planning.workflow import WITHDRAWN

    number = {pid: item.number for item in items for pid in item.proposal_ids}
    with store.transaction() as tx:
        rows = tx.proposals.summaries(include_hidden=False, exclude_statuses=(WITHDRAWN,), ids=list(number)) if number else []
        district_names = tx.districts.names()
        hub_names = {c.code: c.name for c in tx.centres.list()}
    frame = export_frame(frame_from_summaries(rows), district_names, hub_names)
    frame.insert(1, "agenda_item", pd.array([number[int(i)] for i in frame["id"]], dtype="int64"))
    return frame


def _map_layers(
    store: Store, overview: HubOverview, items: Sequence[PresentationItem], lang: str
) -> tuple[list[Any], gpd.GeoDataFrame]:
    """The layers shared by every map of the packet, and the agenda's proposals labelled by item number."""
    from layers.static_map import MapLayer, boundary_layer, centres_layer, cluster_layer, proposal_layers
    from planning.geography import centres_frame, districts_frame

    dongs = districts_frame(store)
    others = dongs[~dongs["adm_code"].isin(overview.district_codes)]
    layers: list[Any] = [
        boundary_layer(others, "plain", label_column="name", legend_label=t("packet.legend.other_dongs", lang),
                       edgecolor="#9e9e9e", linewidth=0.8, label_colour="#8a8a8a", label_size=6.5),
        boundary_layer(overview.districts, "catchment", label_column="name", legend_label=t("packet.legend.catchment", lang)),
    ]
    if overview.clusters:
        hulls = overview.cluster_hulls()
        # letters, so a cluster's label is not taken for an agenda item's number
        hulls["label"] = [_letters(i) for i in range(len(hulls))]
        layers.append(cluster_layer(hulls, lang))
    agenda_ids = {pid for item in items for pid in item.proposal_ids}
    members = [item.members.assign(agenda=str(item.number)) for item in items]
    agenda = (
        gpd.GeoDataFrame(pd.concat(members, ignore_index=True), geometry="geometry", crs=STORAGE_CRS)
        if members
        else gpd.GeoDataFrame({"id": [], "category": [], "status": [], "agenda": []}, geometry=gpd.GeoSeries([], crs=STORAGE_CRS))
    )
    shown = overview.proposals
    extra = agenda[~agenda["id"].isin(shown["id"])] if len(shown) else agenda
    proposals = gpd.GeoDataFrame(
        pd.concat([shown[["id", "category", "status", "geometry"]], extra[["id", "category", "status", "geometry"]]], ignore_index=True),
        geometry="geometry",
        crs=STORAGE_CRS,
    )
    if len(proposals):
        layers.extend(proposal_layers(proposals, lang))
    centres = centres_frame(store)
    near = centres[centres["district_code"].isin(overview.district_codes) | (centres["code"] == overview.hub_code)]
    near = near.assign(is_hub=near["code"] == overview.hub_code)
    layers.extend(centres_layer(near, lang))
    if agenda_ids:
        layers.append(MapLayer(agenda[["agenda", "geometry"]], edgecolor=None, facecolor=None, label_column="agenda",
                               label_size=9.0, label_colour="#b71c1c", zorder=5.0))
    return layers, agenda


def _letters(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, ..."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def _catchment_map(layers: list[Any], overview: HubOverview, lang: str) -> bytes:
    from layers.static_map import extent_around, render_map

    extent = extent_around(overview.districts.geometry, CATCHMENT_PAD_M)
    return render_map(layers, extent, title=f"{overview.hub_name} · {t('packet.map.catchment', lang)}",
                      size_px=CATCHMENT_MAP_PX, dpi=MAP_DPI, lang=lang)


def _item_map(layers: list[Any], item: PresentationItem, lang: str) -> bytes:
    from layers.static_map import highlight_layer, render_map

    halo = highlight_layer(item.members.geometry, legend_label=t("packet.legend.agenda", lang) + f" {item.number}")
    return render_map([*layers, halo], item.extent, title=_cut(item.heading, TITLE_CHARS), size_px=ITEM_MAP_PX, dpi=MAP_DPI, lang=lang)


def _cover(meeting: MeetingInfo | None, overview: HubOverview, items: Sequence[PresentationItem], lang: str) -> tuple[str, str, list[tuple[str, Any]], Any]:
    from layers.pdf import format_date

    names = overview.districts.sort_values("name")["name"].tolist()
    n_proposals = len({pid for item in items for pid in item.proposal_ids})
    facts: list[tuple[str, Any]] = [(t("meeting.fact.hub", lang), overview.hub_name)]
    if meeting is not None:
        title = meeting.display_title(lang)
        subtitle = t("packet.title", lang, hub=overview.hub_name)
        facts += [
            (t("meeting.fact.kind", lang), t(f"meeting.kind.{meeting.kind}", lang)),
            (t("meeting.fact.when", lang), format_date(meeting.starts_at, lang)),
            (t("meeting.fact.place", lang), _cut(meeting.place, FACT_CHARS)),
            (t("meeting.fact.status", lang), t(f"meeting.status.{meeting.status}", lang)),
        ]
        when: Any = meeting.starts_at
    else:
        title = t("packet.title.shortlist", lang, hub=overview.hub_name)
        subtitle = t("packet.subtitle.shortlist", lang)
        when = None
    facts += [
        (t("meeting.fact.catchment", lang), ", ".join(names)),
        (t("meeting.fact.items", lang), len(items)),
        (t("meeting.fact.proposals", lang), n_proposals),
    ]
    if overview.suppressed_clusters:
        facts.append((t("privacy.fact", lang), suppressed_note(overview.suppressed_clusters, overview.privacy_k, lang)))
    return title, subtitle, facts, when


def _quota_rows(overview: HubOverview, lang: str) -> tuple[str, list[list[Any]]]:
    quotas = overview.quotas
    assert quotas is not None
    if quotas.fiscal_year is not None:
        title = t("packet.quota.title", lang, year=quotas.fiscal_year)
    else:
        title = t("packet.quota.title_none", lang)
    rows: list[list[Any]] = []
    if quotas.published:
        for r in quotas.rows:
            rows.append([r.name, r.quota_krw, r.committed_krw, r.left_krw])
        rows.append([
            t("packet.quota.total", lang),
            sum(r.quota_krw or 0 for r in quotas.rows),
            sum(r.committed_krw or 0 for r in quotas.rows),
            sum(r.left_krw or 0 for r in quotas.rows),
        ])
    else:
        unpublished = t("packet.quota.unpublished", lang)
        rows = [[r.name, unpublished, unpublished, unpublished] for r in quotas.rows]
    return title, rows


def build_packet(
    store: Store,
    hub_code: str,
    out_dir: str | Path,
    meeting_id: int | None = None,
    lang: str = "ko",
    *,
    viewer: Actor | int | None = None,
    creation_date: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PacketFiles:
    """Write a hub's meeting packet into ``out_dir`` (created if missing); see the module's notes.

    Parameters
    ----------
    store : Store
    hub_code : str
        A hub centre's code.
    out_dir : str or Path
        The folder to write to; files of the same name are replaced.
    meeting_id : int, optional
        The meeting (the hub's). Default: the hub's next published meeting,
        or, without one, the shortlisted proposals of the hub's area as the agenda.
    lang : {"ko", "en"}
        Language of the packet's own words (data stays as typed).
    viewer : Actor or id, optional
        Who asks (a page): only a meeting they may see. None: the operators'
        command line, any meeting of the hub. The content is public either way.
    creation_date : datetime, optional
        The PDF's creation date (fix it for identical bytes).
    now : datetime, optional
        "Now" for finding the next meeting (tests).

    Returns
    -------
    PacketFiles

    Raises
    ------
    InvalidInput
        ``no_such_hub``, ``no_such_meeting`` (also another hub's), ``bad_lang``.
    """
    from layers.pdf import PacketPDF
    from planning.exports import to_csv, to_geojson, to_geopackage

    started = time.perf_counter()
    timings: dict[str, float] = {}
    lang = _check_lang(lang)
    meeting, items = packet_agenda(store, hub_code, meeting_id, lang, viewer=viewer, now=now)
    overview = hub_overview(store, None, hub_code)
    timings["data"] = time.perf_counter() - started

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"meeting-{meeting.id}" if meeting is not None else f"hub-{hub_code}-shortlist"

    tick = time.perf_counter()
    layers, _ = _map_layers(store, overview, items, lang)
    catchment_png = _catchment_map(layers, overview, lang)
    item_pngs = [_item_map(layers, item, lang) for item in items]
    timings["maps"] = time.perf_counter() - tick

    tick = time.perf_counter()
    title, subtitle, facts, when = _cover(meeting, overview, items, lang)
    pdf = PacketPDF(lang, title=title, subject=subtitle, creation_date=creation_date)
    pdf.cover(title, subtitle, facts, when)
    approx = t("packet.map.approximate", lang) if bool(overview.districts["approximate"].any()) else ""
    pdf.map_page(f"{overview.hub_name} · {t('packet.map.catchment', lang)}", catchment_png, t("packet.map.caption", lang, approx=approx).strip())
    item_pages = []
    caption = t("packet.map.item_caption", lang)
    fitter = _OnePage(lang, ITEM_MAP_PX) if items else None
    for item, png in zip(items, item_pngs):
        assert fitter is not None
        heading, facts, body = fitter.fit(item, caption)
        item_pages.append(pdf.item_page(heading, facts, body, png, map_caption=caption))
    quota_title, quota_rows = _quota_rows(overview, lang)
    columns = [t(f"packet.col.{c}", lang) for c in ("dong", "quota", "committed", "left")]
    quota_page = pdf.table_page(quota_title, columns, quota_rows, column_widths=(2, 1.4, 1.4, 1.4), align=("L", "R", "R", "R"))
    data = pdf.output()
    timings["pdf"] = time.perf_counter() - tick

    tick = time.perf_counter()
    frame = _agenda_frame(store, items)
    paths = {
        "pdf": out / f"{stem}.pdf",
        "geojson": out / f"{stem}-agenda.geojson",
        "csv": out / f"{stem}-agenda.csv",
        "gpkg": out / f"{stem}-agenda.gpkg",
    }
    maps = [out / f"{stem}-map.png", *(out / f"{stem}-item-{item.number:02d}.png" for item in items)]
    _write(paths["pdf"], data)
    for path, png in zip(maps, [catchment_png, *item_pngs]):
        _write(path, png)
    _write(paths["geojson"], to_geojson(frame))
    _write(paths["csv"], to_csv(frame))
    _write(paths["gpkg"], to_geopackage(frame, layer="agenda"))
    timings["data_files"] = time.perf_counter() - tick
    return PacketFiles(
        out_dir=out,
        pdf=paths["pdf"],
        maps=maps,
        geojson=paths["geojson"],
        csv=paths["csv"],
        gpkg=paths["gpkg"],
        pages=pdf.page_count,
        item_pages=item_pages,
        quota_page=quota_page,
        proposal_ids=sorted(int(i) for i in frame["id"]),
        meeting_id=None if meeting is None else meeting.id,
        seconds=time.perf_counter() - started,
        timings=timings,
    )


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


# ---------------------------------------------------------------- command line


def add_packet_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``meeting-packet`` to ``python -m planning``'s subparsers (handler :func:`cmd_meeting_packet`)."""
    s = subparsers.add_parser(
        "meeting-packet",
        help="write a hub's meeting packet: PDF (cover, catchment map, one page per agenda item, quota table), PNG maps, agenda as GeoJSON/CSV/GeoPackage",
    )
    s.add_argument("--hub", required=True, help="the hub centre's 10-digit code (python -m planning centres --hubs-only)")
    s.add_argument("--meeting", type=int, default=None, help="the meeting's number (default: the hub's next published meeting, else its shortlist)")
    s.add_argument("--out", required=True, help="folder to write the files into (created if missing)")
    s.add_argument("--lang", dest="packet_lang", choices=["ko", "en"], default=None, help="language of the packet (default: the global --lang, ko)")
    s.set_defaults(fn=cmd_meeting_packet)
    return s


def cmd_meeting_packet(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``meeting-packet``: 0 when written; 2 for an unknown hub or meeting (message in both languages); 1 when the folder cannot be written."""
    from planning.geography import install_reference_data
    from store import Store

    lang = getattr(args, "packet_lang", None) or getattr(args, "lang", "ko") or "ko"
    store = Store.open(args.database_url)
    try:
        install_reference_data(store)
        try:
            files = build_packet(store, args.hub, args.out, args.meeting, lang)
        except Refusal as e:
            print(f"{e.code}: {e.ko} / {e.en}", file=sys.stderr)
            return 2
        except OSError as e:
            print(f"회의 자료를 쓸 수 없습니다 / cannot write the packet: {args.out} ({e.strerror})", file=sys.stderr)
            return 1
    finally:
        store.dispose()
    print(
        t("packet.done", lang, path=str(files.pdf), pages=files.pages, maps=len(files.maps), proposals=len(files.proposal_ids)),
        file=out,
    )
    for path in files.files[1:]:
        print(f"  {path}", file=out)
    return 0
