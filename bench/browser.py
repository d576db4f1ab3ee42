"""Benchmark 3: the residents' map in a real browser, and the app's memory, with many stored proposals.

Setup (not timed): a throwaway PostGIS database with ``scale.browser_proposals``
generated proposals (:func:`bench.database.load_proposals`), and the app
started as the browser tests start it (``streamlit run streamlit_app.py``,
headless, a free localhost port, ``DATABASE_URL`` to that database,
``GOYANG_TILES=none``). Debian's Chromium (``/usr/bin/chromium --no-sandbox``)
is driven by Playwright, headless, in a 1400 x 1100 window like the tests.

How "drawn" and "updated" are detected: an init script in every frame of
the browser context records, with ``performance.timeOrigin + performance.now()``
(milliseconds since the epoch, comparable between frames):

* in the top page, every change of Streamlit's
  ``[data-testid=stApp][data-test-script-state]`` (running / notRunning):
  the script runs the server made and when the app went idle;
* in the streamlit-folium iframe, through a ``MutationObserver``, every time
  the proposals pane (``.leaflet-goyang-proposals-pane``: the SVG paths of
  features or cluster circles, and the cluster labels) holds a set of
  elements none of which was there before. That happens exactly when a new
  feature group arrives: streamlit-folium removes the previous group and
  evaluates the new one in one synchronous block, while a pan or zoom only
  moves the existing elements. The time kept is that of the second
  ``requestAnimationFrame`` after the change, i.e. after the frame holding
  the new layer was painted.

Measurements:

* ``nav_to_map_s``: navigation start (``performance.timeOrigin`` of the page)
  to the first proposal layer painted; cold (the first session after the
  server started: module imports, empty caches) and warm (a second browser
  context). ``nav_to_settled_s``: to the last layer painted once the app has
  been idle for a while (the page first draws every proposal, then redraws
  for the bounds the map reports).
* ``pan_to_update_s``: mouse up at the end of a drag inside the map (the
  pointer held still before release, so Leaflet fires ``moveend`` at once,
  without inertia) to the new layer painted; drags in a spiral so that no
  view repeats (no query cache hit); median and best, at city zoom 12 and at
  zoom 15 on 화정1동. ``zoom_to_update_s``: ``map.setView`` to 화정1동 at
  zoom 15 to the new layer painted. Each includes streamlit-folium's 250 ms
  debounce before it reports the view.
* ``rss_peak_MB``: ``VmHWM`` of the Streamlit process (and of its children,
  if any) from ``/proc``, after the single sessions above, against the same
  sessions on the app with an empty database; and after the concurrent
  sessions.
* ``sessions_*``: ``scale.browser_sessions`` browsers at once (one thread,
  Playwright instance and Chromium each), released together by a barrier:
  navigation to map drawn, two drags each (directions differ per session),
  then each signs in as its own resident (accounts made with
  :func:`planning.accounts.register` before the app starts), places a point
  with the toolbar and submits it; the database must then hold exactly one
  new proposal per resident.

Baseline for navigation: the naive map of :mod:`bench.map_payload` (every
proposal as a ``folium.Marker``/``GeoJson`` in one ``MarkerCluster`` on the
same base map) for ``min(n, 10_000)`` proposals, saved as an HTML file and
served by a local HTTP server (the vendored assets under ``/app/static``,
as the app serves them), opened in the same browser; drawn = the cluster
icons painted. It has no Streamlit round trip at all, so it is a lower bound
for a naive Streamlit page. Baseline for memory: the same app on an empty
database.

Cleanup: the app runs in its own process group, stopped (SIGTERM, then
SIGKILL) in ``finally``; the database is dropped by
:func:`bench.database.throwaway_database`; SIGTERM is turned into
``KeyboardInterrupt`` while the benchmark runs (main thread only), so the
same ``finally`` blocks run on Ctrl-C and on SIGTERM.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from bench.rows import make_row
from bench.scales import Scale, get_scale

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "bench"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1100}
STARTUP_TIMEOUT_S = 120
STEP_TIMEOUT_S = 240  # one navigation or update at 100k proposals on a small machine
QUIET_S = 2.0  # the app counts as settled after this long idle without a new layer
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
#: what the proposals layer draws (features: SVG paths; clusters: circles and their labels)
PROPOSAL_ITEMS = ".leaflet-goyang-proposals-pane path, .leaflet-goyang-proposals-pane .leaflet-marker-icon"
#: what the naive map draws for proposals (cluster icons and single markers)
#: the base map's legal dongs (the signal on an empty database, where no proposal is drawn)
BASE_ITEMS = ".leaflet-goyang-legal-pane path"
NAIVE_ITEMS = ".leaflet-marker-pane .marker-cluster, .leaflet-marker-pane img.leaflet-marker-icon"
NAIVE_MAX = 10_000
PASSWORD = "bench-browser-2026"
FIND_MAP = "Object.keys(window).map(k => window[k]).find(v => v instanceof L.Map)"
# Drags in a spiral, so that every view is new and loses part of the previous one; they stay
# inside the map (about 550 x 620 px in a 1400 px window: the page's 3:2 columns).
# The gesture is centred 150 px above the map's centre: the legends cover most of the lower half.
CITY_DRAGS = ((250, 0), (0, 250), (-420, 0), (0, -250))
DRAG_CENTRE_DY = -150
DONG_DRAGS = ((300, 0), (0, 250), (-420, 0))
BENCH = "browser"
log = logging.getLogger(__name__)

# Installed in every frame of a context before its scripts run (see the module docstring).
WATCH_JS = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  if (window.top === window && !window.__benchTop) {
    const top = window.__benchTop = {changes: [], state: null};
    const look = () => {
      const app = document.querySelector("[data-testid='stApp']");
      const s = app ? app.getAttribute("data-test-script-state") : null;
      if (s !== top.state) { top.state = s; top.changes.push([now(), s]); }
    };
    new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true,
                                                  attributeFilter: ["data-test-script-state"]});
  }
  // The map iframe starts as about:blank and keeps its window when it loads the component
  // (same origin), so this script does not run again there: it waits for the new document.
  const install = () => {
    if (!new RegExp(__FRAME__).test(location.href)) return false;
    if (window.__benchDoc === document) return true;
    window.__benchDoc = document;
    const w = window.__bench = {layers: [], up: null};
    const look = () => {
      const items = document.querySelectorAll(__ITEMS__);
      if (!items.length) return;
      let fresh = 0;
      for (const el of items) { if (!el.__benchSeen) { el.__benchSeen = true; fresh++; } }
      if (fresh === items.length) {
        const ev = {t: now(), n: items.length, paint: null};
        w.layers.push(ev);
        requestAnimationFrame(() => requestAnimationFrame(() => { ev.paint = now(); }));
      }
    };
    new MutationObserver(look).observe(document, {subtree: true, childList: true});
    document.addEventListener("mouseup", () => { w.up = now(); }, true);
    look();
    return true;
  };
  if (!install() && window.top !== window) {
    const started = now();
    const timer = setInterval(() => {
      if (install() || now() - started > 600000) clearInterval(timer);
    }, 10);
  }
})();
"""


class Unavailable(RuntimeError):
    """Chromium, Playwright or the app cannot be used here."""


# ---------------------------------------------------------------------------
# Signals and processes
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into ``KeyboardInterrupt`` (main thread only), so ``finally`` blocks run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode("utf-8", "replace").strip()
    except OSError:
        return None


@dataclass
class App:
    """A running ``streamlit run streamlit_app.py``."""

    base: str
    proc: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


def _stop(proc: subprocess.Popen) -> None:
    """Stop the app's process group: SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def running_app(database_url: str, tmp: Path) -> Iterator[App]:
    """The app on a free port against ``database_url``, in the browser tests' environment.

    Started in its own process group and stopped in ``finally``.

    Raises
    ------
    Unavailable
        When the app exits or does not answer ``/_stcore/health`` in time.
    """
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        GOYANG_TILES="none",
        GOYANG_RASTER_DIR=str(tmp / "rasters"),
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp / f"streamlit-{port}.log"
    with open(log_path, "w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--server.headless", "true",
                "--browser.gatherUsageStats", "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while _health(f"{base}/_stcore/health") != "ok":
            if proc.poll() is not None:
                raise Unavailable(f"streamlit exited with {proc.returncode}: {log_path.read_text(encoding='utf-8')[-2000:]}")
            if time.monotonic() > deadline:
                raise Unavailable(f"streamlit did not answer /_stcore/health in {STARTUP_TIMEOUT_S} s")
            time.sleep(0.3)
        log.info("app up at %s (pid %d)", base, proc.pid)
        yield App(base=base, proc=proc, log=log_path)
    finally:
        _stop(proc)


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from ``/proc/*/stat``)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out += kids
        todo += kids
    return out


def process_memory_mb(pid: int) -> dict[str, Any]:
    """``VmHWM`` (peak) and ``VmRSS`` of ``pid`` and its descendants, in MB (10^6 bytes)."""

    def status(p: int) -> dict[str, float]:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            return {}
        got = {}
        for key in ("VmHWM", "VmRSS"):
            m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
            if m:
                got[key] = int(m.group(1)) * 1024 / 1e6
        return got

    main = status(pid)
    kids = {c: status(c) for c in _children(pid)}
    return {
        "peak_MB": main.get("VmHWM", 0.0) + sum(k.get("VmHWM", 0.0) for k in kids.values()),
        "rss_MB": main.get("VmRSS", 0.0) + sum(k.get("VmRSS", 0.0) for k in kids.values()),
        "main_peak_MB": main.get("VmHWM"),
        "children": len(kids),
    }


# ---------------------------------------------------------------------------
# One browser session
# ---------------------------------------------------------------------------


def watch_script(items: str, frame_pattern: str) -> str:
    """The init script, watching ``items`` in frames whose URL matches ``frame_pattern``."""
    return WATCH_JS.replace("__ITEMS__", json.dumps(items)).replace("__FRAME__", json.dumps(frame_pattern))


def launch_chromium(pw: Any) -> Any:
    """Debian's Chromium, headless, as the browser tests launch it."""
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def epoch_ms() -> float:
    return time.time() * 1000.0


class Session:
    """One browser context on the app with the timing hooks of :data:`WATCH_JS`."""

    def __init__(self, browser: Any, base: str, *, items: str = PROPOSAL_ITEMS, frame_pattern: str = "streamlit_folium"):
        self.context = browser.new_context(viewport=VIEWPORT, locale="ko-KR")
        self.context.add_init_script(watch_script(items, frame_pattern))
        self.page = self.context.new_page()
        self.base = base
        self.frame_pattern = frame_pattern
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()

    # -- frames and events ----------------------------------------------------

    def frame(self, timeout_s: float = STEP_TIMEOUT_S) -> Any:
        """The frame the watcher runs in (the map iframe, or the page for the naive map).

        The iframe is found through its element: ``page.frames`` can miss it.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            f = None
            with contextlib.suppress(Exception):
                if self.frame_pattern == "streamlit_folium":
                    el = self.page.wait_for_selector(MAP_IFRAME, timeout=max(1.0, deadline - time.monotonic()) * 1000)
                    f = el.content_frame() if el else None
                else:
                    f = self.page.main_frame
                if f is not None and f.evaluate("() => !!window.__bench"):
                    return f
            if time.monotonic() > deadline:
                raise TimeoutError("the map frame did not appear")
            time.sleep(0.05)

    def layers(self) -> list[dict[str, Any]]:
        return self.frame().evaluate("() => window.__bench.layers")

    def wait_layer(self, index: int, timeout_s: float = STEP_TIMEOUT_S) -> dict[str, Any]:
        """The ``index``-th new proposal layer, once painted."""
        f = self.frame(timeout_s)
        f.wait_for_function(
            "i => { const l = window.__bench.layers; return l.length > i && l[i].paint !== null; }",
            arg=index,
            timeout=timeout_s * 1000,
        )
        return f.evaluate("i => window.__bench.layers[i]", index)

    def script_changes(self) -> list[tuple[float, str | None]]:
        return [tuple(c) for c in self.page.evaluate("() => window.__benchTop ? window.__benchTop.changes : []")]

    def settle(self, quiet_s: float = QUIET_S, timeout_s: float = STEP_TIMEOUT_S) -> None:
        """Wait until the app is idle and no layer arrived for ``quiet_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            changes = self.script_changes()
            state = changes[-1][1] if changes else None
            last = max([changes[-1][0] if changes else 0.0] + [ev["t"] for ev in self.layers()])
            if state == "notRunning" and epoch_ms() - last >= quiet_s * 1000:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app did not settle in {timeout_s} s (script state {state})")
            time.sleep(0.2)

    def runs_since(self, t0: float) -> list[float]:
        """Durations (s) of the script runs that started after ``t0`` (epoch ms), as the page saw them."""
        runs, start = [], None
        for t, state in self.script_changes():
            if t < t0:
                continue
            if state == "running":
                start = t
            elif state == "notRunning" and start is not None:
                runs.append((t - start) / 1000)
                start = None
        return runs

    # -- actions ----------------------------------------------------------------

    def navigate(self, url: str) -> dict[str, Any]:
        """Open ``url``; time to the first proposal layer painted and to the settled layer."""
        self.page.goto(url, wait_until="commit", timeout=STEP_TIMEOUT_S * 1000)
        start = self.page.evaluate("() => performance.timeOrigin")
        first = self.wait_layer(0)
        log.info("navigate %s: first layer after %.2f s", url, (first["paint"] - start) / 1000)
        self.settle()
        events = self.layers()
        last = events[-1]
        view = self.frame().evaluate(
            f"() => {{ const m = {FIND_MAP}; const b = m.getBounds(); return {{bounds: {{_southWest: b.getSouthWest(), _northEast: b.getNorthEast()}}, zoom: m.getZoom()}}; }}"
        )
        return {
            "view": view,
            "nav_to_map_s": (first["paint"] - start) / 1000,
            "nav_to_settled_s": ((last["paint"] or last["t"]) - start) / 1000,
            "layers": len(events),
            "items": last["n"],
            "script_runs_s": self.runs_since(start),
        }

    def map_box(self) -> dict[str, float]:
        return self.page.frame_locator(MAP_IFRAME).locator(".leaflet-container").first.bounding_box()

    def drag(self, dx: float, dy: float) -> None:
        """Drag the map by (dx, dy) px; the pointer rests before release (no inertia)."""
        box = self.map_box()
        x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5 + DRAG_CENTRE_DY
        self.page.mouse.move(x - dx / 2, y - dy / 2)
        self.page.mouse.down()
        self.page.mouse.move(x + dx / 2, y + dy / 2, steps=12)
        time.sleep(0.15)
        self.page.mouse.up()

    def pan(self, dx: float, dy: float) -> dict[str, Any]:
        """Drag, then time mouse up to the new layer painted.

        ``update_s`` is None when the app reran and settled without sending a
        different layer (the view's proposals did not change).
        """
        before = len(self.layers())
        t0 = epoch_ms()
        self.drag(dx, dy)
        up = self.frame().evaluate("() => window.__bench.up")
        if up is None or up < t0:
            raise RuntimeError(f"the drag by ({dx}, {dy}) did not end inside the map")
        ev = self.wait_layer_or_settle(before, up)
        self.settle()
        if ev is None:
            log.info("pan (%d, %d): the layer did not change", dx, dy)
            return {"update_s": None, "items": None, "script_runs_s": self.runs_since(up)}
        log.info("pan (%d, %d): new layer after %.2f s", dx, dy, (ev["paint"] - up) / 1000)
        return {"update_s": (ev["paint"] - up) / 1000, "items": ev["n"], "script_runs_s": self.runs_since(up)}

    def wait_layer_or_settle(self, index: int, since: float, timeout_s: float = STEP_TIMEOUT_S) -> dict[str, Any] | None:
        """The ``index``-th layer once painted, or None once the app ran after ``since`` and stayed idle without it."""
        deadline = time.monotonic() + timeout_s
        while True:
            events = self.layers()
            if len(events) > index and events[index]["paint"] is not None:
                return events[index]
            changes = [c for c in self.script_changes() if c[0] >= since]
            ran = any(state == "running" for _, state in changes)
            if ran and changes[-1][1] == "notRunning" and epoch_ms() - changes[-1][0] >= QUIET_S * 1000:
                return None
            if not ran and epoch_ms() - since > 10_000:
                raise RuntimeError("no rerun within 10 s of the gesture: the map did not move")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no new layer and no settled app in {timeout_s} s")
            time.sleep(0.1)

    def zoom_to(self, lat: float, lon: float, zoom: int) -> dict[str, Any]:
        """``map.setView`` inside the iframe, then time to the new layer painted."""
        f = self.frame()
        before = len(self.layers())
        t0 = f.evaluate(
            f"([lat, lon, z]) => {{ const t = performance.timeOrigin + performance.now(); {FIND_MAP}.setView([lat, lon], z); return t; }}",
            [lat, lon, zoom],
        )
        ev = self.wait_layer(before)
        self.settle()
        return {"update_s": (ev["paint"] - t0) / 1000, "items": ev["n"], "script_runs_s": self.runs_since(t0)}

    def feature_group_script(self) -> str:
        return self.frame().evaluate("() => (window.__GLOBAL_DATA__ && window.__GLOBAL_DATA__.last_feature_group) || ''")

    def shot(self, name: str) -> str:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return str(path.relative_to(ROOT))

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        """Sign in on the account page; the app then opens the map."""
        self.page.goto(f"{self.base}/account", timeout=STEP_TIMEOUT_S * 1000)
        self.page.get_by_label("아이디").first.fill(username, timeout=STEP_TIMEOUT_S * 1000)
        self.page.get_by_label("비밀번호").first.fill(password)
        self.page.get_by_role("button", name="로그인").last.click()
        self.page.wait_for_url(lambda url: "/account" not in url, timeout=STEP_TIMEOUT_S * 1000)
        self.wait_layer(0)  # the map page's new iframe
        self.settle()

    def submit_point(self, title: str, dx: float, dy: float) -> dict[str, Any]:
        """Place a point with the toolbar at (dx, dy) px from the map's centre and submit it."""
        self.page.frame_locator(MAP_IFRAME).get_by_role("link", name="점 찍기").click()
        box = self.map_box()
        self.page.mouse.click(box["x"] + box["width"] * 0.5 + dx, box["y"] + box["height"] * 0.5 + dy)
        title_box = self.page.get_by_label("제목")
        title_box.wait_for(timeout=STEP_TIMEOUT_S * 1000)
        title_box.fill(title)
        self.page.get_by_label("설명").fill("여러 브라우저에서 동시에 제출한 벤치마크 제안입니다.")
        t0 = epoch_ms()
        self.page.get_by_role("button", name="제안 제출").click()
        self.page.get_by_text("제출했습니다").first.wait_for(timeout=STEP_TIMEOUT_S * 1000)
        shown = epoch_ms()
        self.settle()
        return {"submit_s": (shown - t0) / 1000}


# ---------------------------------------------------------------------------
# What the map shows
# ---------------------------------------------------------------------------

_CLUSTERS = re.compile(r"var group = L\.featureGroup\(\);\s*(\[.*?\])\.forEach\(", re.S)
_GEOJSON = re.compile(r"var cfg = (\{.*\});\s*\n\s*var data = (\{.*\});\s*$", re.M)


def represented(script: str) -> dict[str, int]:
    """Proposals the feature group's script draws: one by one (``features``) and inside clusters."""
    out = {"features": 0, "clusters": 0, "clustered": 0}
    for cfg, data in _GEOJSON.findall(script):
        if not json.loads(cfg).get("halo"):
            out["features"] += len(json.loads(data)["features"])
    for points in _CLUSTERS.findall(script):
        pts = json.loads(points)
        out["clusters"] += len(pts)
        out["clustered"] += int(sum(p[2] for p in pts))
    out["proposals"] = out["features"] + out["clustered"]
    return out


def count_in_view(database_url: str, view: dict[str, Any]) -> int:
    """Public proposals the app puts on the map for the view the browser reports (``map.getBounds()``, zoom).

    The view goes through :func:`layers.viewport.viewport_from_result`, as the page does.
    """
    from layers.viewport import viewport_from_result
    from planning.proposals import map_view
    from store import Store

    vp = viewport_from_result(view)
    store = Store.open(database_url, migrate=False)
    try:
        return map_view(store, vp.bbox, vp.zoom).count
    finally:
        store.dispose()


def public_count(database_url: str) -> int:
    """Proposals on the public map (as :func:`planning.proposals.map_frame` returns them)."""
    from planning.proposals import map_frame
    from store import Store

    store = Store.open(database_url, migrate=False)
    try:
        return len(map_frame(store))
    finally:
        store.dispose()


# ---------------------------------------------------------------------------
# The naive baseline page
# ---------------------------------------------------------------------------


def write_naive_map(database_url: str, limit: int, out_dir: Path) -> tuple[Path, int]:
    """The naive map (:meth:`bench.map_payload.Page.naive`'s markers) of the first ``limit`` public proposals as HTML."""
    import folium
    import numpy as np
    import shapely
    from folium.plugins import MarkerCluster
    from shapely.geometry import mapping

    from bench.map_payload import Page
    from layers.assets import use_local_assets
    from layers.escape import escape_map_text
    from layers.viewport import GOYANG_CENTER, GOYANG_ZOOM
    from planning.proposals import map_frame
    from store import Store

    use_local_assets()
    store = Store.open(database_url, migrate=False)
    try:
        page = Page(store)
        frame = map_frame(store).sort_values("id").head(limit)
        m = page.base_map()
    finally:
        store.dispose()
    m.location = list(GOYANG_CENTER)
    m.options["zoom"] = GOYANG_ZOOM
    # Leaflet.markercluster refuses a map without maxZoom (the base map has no tile layer to
    # give one); a naive page with OSM tiles would have 19.
    m.options["max_zoom"] = 19
    cluster = MarkerCluster(name="제안 Proposals").add_to(m)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    for i, (pid, title) in enumerate(zip(frame["id"].tolist(), frame["title"].tolist())):
        tip = f"#{pid} {escape_map_text(title)}"
        if is_point[i]:
            folium.Marker([float(geoms[i].y), float(geoms[i].x)], tooltip=tip).add_to(cluster)
        else:
            folium.GeoJson(mapping(geoms[i]), tooltip=tip).add_to(cluster)
    path = out_dir / "naive_map.html"
    m.save(str(path))
    return path, len(frame)


@contextlib.contextmanager
def static_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` (with ``app/static`` linked to the project's ``static/``) on a free port."""
    (directory / "app").mkdir(exist_ok=True)
    link = directory / "app" / "static"
    if not link.exists():
        link.symlink_to(ROOT / "static", target_is_directory=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def naive_drawn(browser: Any, url: str, expected: int) -> dict[str, Any]:
    """Open the naive map; time to its markers painted, and how many proposals the cluster group holds."""
    s = Session(browser, url, items=NAIVE_ITEMS, frame_pattern="naive_map")
    try:
        s.page.goto(url, wait_until="commit", timeout=STEP_TIMEOUT_S * 1000)
        start = s.page.evaluate("() => performance.timeOrigin")
        first = s.wait_layer(0)
        s.page.wait_for_load_state("load")
        held = s.page.evaluate("() => Object.values(window).find(v => v instanceof L.MarkerClusterGroup).getLayers().length")
        shot = s.shot(f"browser_naive_{expected}")
        return {"nav_to_map_s": (first["paint"] - start) / 1000, "held": held, "items": first["n"], "screenshot": shot,
                "errors": s.errors[:3]}
    finally:
        s.close()


# ---------------------------------------------------------------------------
# Phases
# ---------------------------------------------------------------------------


@dataclass
class Phase:
    """Results of one phase, or the error that stopped it."""

    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _guard(fn: Callable[[], dict[str, Any]]) -> Phase:
    try:
        return Phase(fn())
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one failed phase must not lose the others' figures
        return Phase(error=f"{type(exc).__name__}: {str(exc)[:500]}")


def dong_centre() -> tuple[float, float]:
    """[lat, lon] of 화정1동's representative point (the map benchmark's dong)."""
    from bench.map_payload import DONG_NAME
    from geo.boundaries import admin_dongs

    ad = admin_dongs()
    p = ad[ad["name"] == DONG_NAME].geometry.iloc[0]
    return float(p.y), float(p.x)


def single_sessions(browser: Any, app: App, n: int, expected: int | None, database_url: str) -> dict[str, Any]:
    """Cold and warm navigation, drags at city and dong zoom, screenshots; ``expected``: proposals the city view must hold."""
    out: dict[str, Any] = {"screenshots": []}
    items = PROPOSAL_ITEMS if expected is not None else BASE_ITEMS
    cold = Session(browser, app.base, items=items)
    try:
        out["cold"] = cold.navigate(app.base)
        out["cold"]["represented"] = represented(cold.feature_group_script())
        if expected is not None:
            out["cold"]["expected_in_view"] = count_in_view(database_url, out["cold"]["view"])
        out["cold"]["errors"] = cold.errors[:3]
        if expected is not None:
            out["screenshots"].append(cold.shot(f"browser_{n}_map"))
    finally:
        cold.close()
    warm = Session(browser, app.base, items=items)
    try:
        out["warm"] = warm.navigate(app.base)
        out["warm"]["represented"] = represented(warm.feature_group_script())
        if expected is not None:
            out["warm"]["expected_in_view"] = count_in_view(database_url, out["warm"]["view"])
        pans = []
        for dx, dy in CITY_DRAGS:
            if expected is None:  # empty database: no layer to wait for, only the reruns
                warm.drag(dx, dy)
                time.sleep(0.5)
                warm.settle()
            else:
                pans.append(warm.pan(dx, dy))
        out["city_pans"] = pans
        if expected is not None:
            out["screenshots"].append(warm.shot(f"browser_{n}_pan"))
            lat, lon = dong_centre()
            out["zoom"] = warm.zoom_to(lat, lon, 15)
            out["dong_pans"] = [warm.pan(dx, dy) for dx, dy in DONG_DRAGS]
            out["dong_represented"] = represented(warm.feature_group_script())
            out["screenshots"].append(warm.shot(f"browser_{n}_dong_pan"))
        out["warm"]["errors"] = warm.errors[:3]
    finally:
        warm.close()
    return out


def _concurrent_worker(i: int, k: int, base: str, barrier: threading.Barrier, out: dict[int, dict[str, Any]], title: str, n: int) -> None:
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            s = Session(browser, base)
            try:
                barrier.wait(timeout=STEP_TIMEOUT_S)
                result["nav"] = s.navigate(base)
                angle = 2 * math.pi * i / k
                result["pans"] = [
                    s.pan(r * math.cos(angle + turn), r * math.sin(angle + turn)) for r, turn in ((250, 0.0), (250, math.pi / 2))
                ]
                s.sign_in(f"bench-k{i:02d}")
                result["submit"] = s.submit_point(title, dx=(i - (k - 1) / 2) * 24, dy=-60)
                if i == 0:
                    result["screenshot"] = s.shot(f"browser_{n}_concurrent_submitted")
                result["errors"] = s.errors[:3]
            finally:
                s.close()
                browser.close()
    except Exception as exc:  # noqa: BLE001 - reported in the rows
        result["error"] = f"{type(exc).__name__}: {str(exc)[:400]}"
    out[i] = result


def concurrent_sessions(app: App, k: int, title: str, n: int) -> dict[int, dict[str, Any]]:
    """``k`` browsers at once: navigate, drag twice, sign in, submit a point (each in its own thread)."""
    out: dict[int, dict[str, Any]] = {}
    barrier = threading.Barrier(k)
    threads = [
        threading.Thread(target=_concurrent_worker, args=(i, k, app.base, barrier, out, title, n), daemon=True, name=f"bench-browser-{i}")
        for i in range(k)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=STEP_TIMEOUT_S * 6)
    return out


def make_accounts(database_url: str, k: int) -> None:
    """Residents ``bench-k00`` … for the concurrent sessions, through :func:`planning.accounts.register`."""
    from planning.accounts import register
    from store import Store

    store = Store.open(database_url, migrate=False)
    try:
        for i in range(k):
            register(store, f"bench-k{i:02d}", PASSWORD, f"동시 주민 {i}", None)
    finally:
        store.dispose()


def stored_submissions(database_url: str, title: str) -> dict[str, Any]:
    """How many proposals carry ``title``, and by how many distinct authors."""
    from sqlalchemy import create_engine, text

    eng = create_engine(database_url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(text("SELECT author_id FROM proposals WHERE title = :t"), {"t": title}).all()
    finally:
        eng.dispose()
    return {"stored": len(rows), "authors": len({r[0] for r in rows})}


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (linear interpolation), None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _unavailable_rows(sc: Scale, reason: str) -> list[dict[str, Any]]:
    n = sc.browser_proposals
    return [
        make_row(BENCH, case, sc.name, n, metric, unit, None, None, check=None, details={"reason": reason})
        for case, metric, unit in (
            ("cold (first session)", "nav_to_map_s", "s"),
            ("city zoom 12, drag", "pan_to_update_s", "s"),
            ("app process", "rss_peak_MB", "MB"),
            (f"{sc.browser_sessions} sessions at once", "sessions_p95_s", "s"),
        )
    ]


def _availability() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed: {exc}"
    return None


def bench_browser(scale: str | Scale = "quick") -> list[dict[str, Any]]:
    """Page latency in Chromium and the app's memory with ``scale.browser_proposals`` proposals in PostGIS.

    Parameters
    ----------
    scale : str or Scale
        Uses ``browser_proposals`` (0 skips the benchmark) and ``browser_sessions``.

    Returns
    -------
    list of dict
        Rows of :func:`bench.rows.make_row`: ``nav_to_map_s``,
        ``nav_to_settled_s``, ``pan_to_update_s`` (median) and
        ``pan_to_update_best_s``, ``zoom_to_update_s``, ``rss_peak_MB``,
        ``sessions_p50_s``/``sessions_p95_s`` and ``submits_stored``. Without
        Chromium or PostgreSQL: rows with ``ours`` and ``check`` None and the
        reason in ``details``.
    """
    sc = get_scale(scale)
    n = sc.browser_proposals
    if n <= 0:
        return []
    reason = _availability()
    if reason:
        return _unavailable_rows(sc, reason)
    from bench.database import DatabaseUnavailable, load_proposals, server_version, throwaway_database
    from bench.generate import proposals_frame
    from planning.geography import install_reference_data
    from store import Store

    with sigterm_as_interrupt():
        tmp = Path(tempfile.mkdtemp(prefix="goyang-bench-browser-"))
        try:
            try:
                with throwaway_database("postgis") as empty_url, throwaway_database("postgis") as url:
                    setup_t0 = time.perf_counter()
                    info: dict[str, Any] = {}
                    for u, frame in ((empty_url, None), (url, proposals_frame(n))):
                        store = Store.open(u)
                        try:
                            install_reference_data(store)
                            if frame is not None:
                                info["loaded"] = load_proposals(store, frame)
                                info["database"] = server_version(store)
                        finally:
                            store.dispose()
                    k = max(0, sc.browser_sessions)
                    make_accounts(url, k)
                    expected = public_count(url)
                    info["setup_s"] = round(time.perf_counter() - setup_t0, 1)
                    log.info("setup done in %.1f s: %s", info["setup_s"], info)
                    return _measure(sc, tmp, url, empty_url, expected, k, info)
            except DatabaseUnavailable as err:
                return _unavailable_rows(sc, f"PostGIS unavailable: {err}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _measure(sc: Scale, tmp: Path, url: str, empty_url: str, expected: int, k: int, info: dict[str, Any]) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    n = sc.browser_proposals
    naive_n = min(n, NAIVE_MAX)
    naive_dir = tmp / "naive"
    naive_dir.mkdir()
    naive_path, naive_written = write_naive_map(url, naive_n, naive_dir)
    info["naive_html_MB"] = round(naive_path.stat().st_size / 1e6, 2)

    # the empty-database reference first: its memory after the same single sessions
    log.info("naive map written (%d proposals); starting the empty-database app", naive_written)
    with running_app(empty_url, tmp) as empty_app, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            empty = _guard(lambda: single_sessions(browser, empty_app, 0, None, empty_url))
        finally:
            browser.close()
        empty_mem = process_memory_mb(empty_app.pid)
    log.info("empty app done: %s %s", empty_mem, empty.error)

    title = f"벤치 동시 제출 {uuid.uuid4().hex[:8]}"
    with running_app(url, tmp) as app:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                single = _guard(lambda: single_sessions(browser, app, n, expected, url))
                single_mem = process_memory_mb(app.pid)
                log.info("single sessions done: %s %s", single_mem, single.error)
                with static_server(naive_dir) as naive_base:
                    naive = _guard(lambda: naive_drawn(browser, f"{naive_base}/naive_map.html", naive_written))
            finally:
                browser.close()
        log.info("naive map: %s %s; %d sessions at once", naive.data, naive.error, k)
        conc = concurrent_sessions(app, k, title, n) if k else {}
        conc_mem = process_memory_mb(app.pid)
        log_tail = app.log.read_text(encoding="utf-8", errors="replace")[-1500:]
    stored = stored_submissions(url, title) if k else {"stored": 0, "authors": 0}
    common = {**info, "proposals_public": expected, "viewport": VIEWPORT, "chromium": str(CHROMIUM), "cpus": os.cpu_count()}
    return _rows(sc, n, naive_n, single, naive, empty, empty_mem, single_mem, conc, conc_mem, stored, k, common, log_tail)


def _rows(
    sc: Scale, n: int, naive_n: int, single: Phase, naive: Phase, empty: Phase, empty_mem: dict[str, Any],
    single_mem: dict[str, Any], conc: dict[int, dict[str, Any]], conc_mem: dict[str, Any], stored: dict[str, Any],
    k: int, common: dict[str, Any], log_tail: str,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    s, e = single.data, empty.data
    nv = naive.data
    naive_ok = bool(nv) and nv.get("held") == naive_n
    naive_details = {
        "naive": f"static HTML, naive MarkerCluster map of {naive_n:,} proposals (min(n, {NAIVE_MAX:,})), no Streamlit round trip",
        "naive_result": nv or None,
        "naive_error": naive.error,
    }
    expected = common["proposals_public"]

    def row(case: str, metric: str, unit: str, ours: float | None, baseline: float | None = None, **kw: Any) -> None:
        details = kw.pop("details", {})
        rows.append(make_row(BENCH, case, sc.name, n, metric, unit, ours, baseline, details={**details, "error": single.error} if single.error else details, **kw))

    for which, case in (("cold", "cold (first session)"), ("warm", "warm (second session)")):
        nav = s.get(which)
        if nav is None:
            row(case, "nav_to_map_s", "s", None, nv.get("nav_to_map_s"), check=False, details={**common, **naive_details})
            continue
        ok = 0 < nav["represented"]["proposals"] == nav.get("expected_in_view") <= expected and nav["items"] > 0 and not nav.get("errors")
        empty_nav = e.get(which) or {}
        row(case, "nav_to_map_s", "s", nav["nav_to_map_s"], nv.get("nav_to_map_s"), check=ok and (which != "cold" or naive_ok), runs=1,
            details={**common, **naive_details, **nav, "empty_db_nav_s": empty_nav.get("nav_to_settled_s"), "screenshots": s.get("screenshots")})
        row(case, "nav_to_settled_s", "s", nav["nav_to_settled_s"], None, runs=1,
            details={"layers_painted": nav["layers"], "script_runs_s": nav["script_runs_s"]})

    for key, case in (("city_pans", "city zoom 12, drag"), ("dong_pans", "zoom 15 화정1동, drag")):
        pans = s.get(key) or []
        times = [p["update_s"] for p in pans if p["update_s"] is not None]
        ok = len(pans) == len(CITY_DRAGS if key == "city_pans" else DONG_DRAGS) and all(p["items"] for p in pans)
        d = {"runs_s": times, "items": [p["items"] for p in pans], "script_runs_s": [p["script_runs_s"] for p in pans],
             "unchanged": sum(p["update_s"] is None for p in pans),
             "note": "mouse up to new layer painted; includes streamlit-folium's 250 ms debounce"}
        row(case, "pan_to_update_s", "s", median(times) if times else None, None, check=ok, runs=len(times), details=d)
        row(case, "pan_to_update_best_s", "s", min(times) if times else None, None, runs=len(times))
    z = s.get("zoom")
    row("city → 화정1동 zoom 15 (setView)", "zoom_to_update_s", "s", z["update_s"] if z else None, None,
        check=bool(z) and z["items"] > 0, runs=1 if z else None,
        details={**(z or {}), "dong_view_represented": s.get("dong_represented")})

    rows.append(make_row(BENCH, "app process, after single sessions", sc.name, n, "rss_peak_MB", "MB", single_mem["peak_MB"], empty_mem["peak_MB"],
                         check=None, details={"ours": single_mem, "empty_db": empty_mem, "empty_error": empty.error,
                                              "sessions": "cold + warm navigation, 4 city drags, zoom to a dong, 3 dong drags"}))
    rows.append(make_row(BENCH, f"app process, after {k} sessions at once", sc.name, n, "rss_peak_MB", "MB", conc_mem["peak_MB"], None,
                         check=None, details={"ours": conc_mem}))

    if k:
        done = [r for r in conc.values() if "error" not in r]
        errors = {i: r["error"] for i, r in conc.items() if "error" in r}
        navs = [r["nav"]["nav_to_map_s"] for r in conc.values() if "nav" in r]
        pans = [p["update_s"] for r in conc.values() for p in r.get("pans", []) if p["update_s"] is not None]
        unchanged = sum(p["update_s"] is None for r in conc.values() for p in r.get("pans", []))
        submits = [r["submit"]["submit_s"] for r in conc.values() if "submit" in r]
        case = f"{k} sessions at once"
        cd = {"sessions": k, "completed": len(done), "errors": errors or None, "log_tail": log_tail if errors else None}
        nav_ok = len(navs) == k
        rows.append(make_row(BENCH, f"{case}: nav to map", sc.name, n, "sessions_p50_s", "s", _pct(navs, 0.5), None, check=nav_ok, runs=len(navs),
                             details={**cd, "runs_s": navs, "settled_s": [r["nav"]["nav_to_settled_s"] for r in conc.values() if "nav" in r]}))
        rows.append(make_row(BENCH, f"{case}: nav to map", sc.name, n, "sessions_p95_s", "s", _pct(navs, 0.95), None, runs=len(navs)))
        rows.append(make_row(BENCH, f"{case}: pan to update", sc.name, n, "sessions_p50_s", "s", _pct(pans, 0.5), None,
                             check=len(pans) + unchanged == 2 * k and len(pans) > 0, runs=len(pans),
                             details={"runs_s": pans, "unchanged": unchanged}))
        rows.append(make_row(BENCH, f"{case}: pan to update", sc.name, n, "sessions_p95_s", "s", _pct(pans, 0.95), None, runs=len(pans)))
        rows.append(make_row(BENCH, f"{case}: submit a point", sc.name, n, "sessions_p95_s", "s", _pct(submits, 0.95), None,
                             check=stored["stored"] == k and stored["authors"] == k, runs=len(submits),
                             details={"runs_s": submits, **stored, "note": "click on 제안 제출 to the confirmation shown; check = one stored proposal per resident"}))
    return rows
