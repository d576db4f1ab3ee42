"""The printed table and the JSON file of a benchmark run."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from bench.machine import machine_line

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LATEST = RESULTS_DIR / "latest.json"

NOTES = {
    "linking": [
        "linking: ours = geo.linking.link_geometries(with_shares=False), largest overlap; baseline = geopandas sjoin_nearest (hubs) "
        "+ sjoin intersects (districts, legal dongs), first match. The baseline answers a simpler question for lines and polygons "
        "(any touched district, not the largest overlap); check = identical hub, district and legal dong for every point the baseline "
        "places (points in gaps between legal-dong polygons are left out: the baseline finds none, ours takes the nearest).",
        "linking (vs PostGIS): baseline = one SQL query on PostgreSQL/PostGIS in a throwaway database: nearest hub by KNN "
        "(CROSS JOIN LATERAL … ORDER BY h.geom <-> p.geom, h.code LIMIT 1), district and legal dong by ST_Intersects joins "
        "keeping the largest overlap (area of ST_Intersection, length for lines, 1 for points; ties to the smaller code; nearest "
        "polygon when nothing is touched): the same rules as ours. Proposals and reference layers are projected to EPSG:5179 in "
        "Python (bit-identical coordinates), COPY'd as EWKB with GIST indexes; loading is timed apart (details: load_s) from the "
        "query, which includes fetching the result to Python. Session: jit off, work_mem 64MB. check = hub, district and legal "
        "dong equal for every geometry and hub distance within 1e-3 m (differences accepted only as measured ties, counted in details).",
    ],
    "clustering": [
        "clustering: ours = planning.clusters.cluster_frame (lon/lat to EPSG:5179, geo.clustering.dbscan_labels: k-d tree and STRtree "
        "candidates, exact distance tests only for the pairs that can change a label); baseline = store.analysis.Analysis.cluster_dbscan "
        "in PostGIS (ST_Transform into a temporary table, GiST, core flags by ST_DWithin, ST_ClusterDBSCAN, border rule and numbering "
        "in SQL), loading not timed. Generated proposals inside Goyang (50% points, 25% lines, 25% polygons), distance geometry to "
        "geometry, min size 3. check = identical labels for every proposal (border members join their lowest-id core neighbour's "
        "cluster, clusters numbered by smallest member id); with --db sqlite there is no baseline and the labels are checked against "
        "geo.clustering.dbscan_labels_all_pairs. details: ours_steps, baseline_steps, load_s.",
    ],
    "concurrency": [
        "concurrency: N simulated residents of 행신1동 (distinct accounts), one thread each, sharing one Store like one app process, "
        "call the services with no pause: proposals open (submit, support, comment; everyone supports the same 3 proposals; a repeated "
        "support must be refused), voting (ballots of 1-5 of the district's proposals, each replacing the last; over-quota ballots "
        "refused), allocation (N admins approve N proposals of one district at once, the quota fitting about a quarter: the last-quota "
        "race). baseline = the same workload by one thread in turns, on a fresh database; throughput ratio below 1 = concurrency gains. "
        "check = from the database afterwards: every accepted write stored and nothing else, no duplicate support or vote, every "
        "refusal justified, no district's committed amount above its quota, no error. One process is bound by its Python work (one "
        "thread runs at a time): more throughput needs more app processes (docs/deployment.md), not more threads.",
    ],
    "browser": [
        "browser: Chromium (/usr/bin/chromium, headless, 1400×1100) against `streamlit run streamlit_app.py` on PostGIS. nav_to_map_s = "
        "navigation start to the first proposal layer painted (a new set of elements in the map iframe's proposals pane, then two "
        "animation frames); nav_to_settled_s = to the last layer once the app has been idle for 2 s; cold = first session after the "
        "server starts, warm = a second browser context. pan_to_update_s = mouse up after a drag to the new layer painted, including "
        "streamlit-folium's 250 ms debounce; the value is the median (browser rows are not best-of). rss_peak_MB = VmHWM of the "
        "Streamlit process; baseline = the same sessions on an empty database. sessions_* = K browsers at once: navigation, two drags, "
        "sign-in, submitting a point. check = the clusters or features drawn equal the app's count for the browser's view / one stored "
        "proposal per resident. Navigation baseline = the naive one-marker-per-proposal MarkerCluster map as a static HTML file of "
        "min(n, 10,000) proposals, with no Streamlit round trip (a lower bound for a naive page).",
    ],
    "map_payload": [
        "map_payload: ours = the residents' page (base map + proposal_layer(max_features=500) as st_folium's feature group); "
        "baseline = naive map, every proposal as a folium.Marker/GeoJson in one MarkerCluster, whatever the view. "
        "message_kB = the component message as Streamlit serialises it (sent on first load and, for ours, on every new viewport); "
        "layer_kB = the proposals' part; rerun_s = build + st_folium with the query cached; query_s = ours: map_view of the viewport "
        "(count, then rows up to 500 or grid clusters counted by the database); naive: map_frame of all. check = the layer holds exactly the viewport's proposals (ours) / all proposals (naive).",
    ],
}


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if unit == "kB":
        return f"{value:,.1f}" if value < 10_000 else f"{value:,.0f}"
    return f"{value:,.3g}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}×" if value < 10 else f"{value:,.0f}×"


def _check(value: bool | None) -> str:
    return "" if value is None else ("ok" if value else "FAIL")


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (Hangul is two columns wide)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a plain-text table (ratio = baseline / ours: above 1, ours is smaller or faster)."""
    head = ("benchmark", "case", "scale", "n", "metric", "ours", "baseline", "ratio", "check")
    body = [
        (
            r["benchmark"],
            r["case"],
            r["scale"],
            f"{r['n']:,}",
            f"{r['metric']}",
            _num(r["ours"], r["unit"]),
            _num(r["baseline"], r["unit"]),
            _ratio(r["ratio"]),
            _check(r["check"]),
        )
        for r in rows
    ]
    widths = [max(_width(h), *(_width(b[i]) for b in body)) if body else _width(h) for i, h in enumerate(head)]
    right = {3, 5, 6, 7}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(_pad(c, w, i in right) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(head), line(tuple("-" * w for w in widths))]
    previous = None
    for r, b in zip(rows, body):
        key = (r["benchmark"], r["n"], r["case"])
        if previous is not None and key != previous:
            out.append("")
        previous = key
        out.append(line(b))
    return "\n".join(out)


def render(result: dict[str, Any]) -> str:
    """The whole printout: machine line, table, notes."""
    rows = result["rows"]
    lines = [
        f"machine: {machine_line(result['machine'])}",
        f"command: {result['command']}   ({result['duration_s']:.0f} s)",
        "",
        table(rows),
        "",
        "ratio = baseline / ours (above 1: ours is smaller or faster); times are the best of 'runs' runs; — = not measured.",
    ]
    for bench in dict.fromkeys(r["benchmark"] for r in rows):
        lines += NOTES.get(bench, [])
    skipped = {r["n"] for r in rows if r["benchmark"] == "map_payload" and r["baseline"] is None and r["metric"] == "message_kB"}
    if skipped:
        lines.append(
            f"map_payload: the naive map was not built for n = {', '.join(f'{n:,}' for n in sorted(skipped))} "
            "at this scale (about 1.5 ms per proposal per rerun); --scale full builds it."
        )
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path = LATEST) -> Path:
    """Write the run (machine, command, rows) as JSON; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    return path
