"""Fixtures for browser tests: the Streamlit app in a subprocess and Debian's Chromium.

Chromium comes from Debian (``/usr/bin/chromium``): Playwright cannot download
its own browser here. Without it the browser tests skip, unless
``REQUIRE_BROWSER=1`` (CI), where they fail.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode("utf-8", "replace").strip()
    except OSError:
        return None


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def app_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SQLite database the browser tests' app uses (tests read what the app stored)."""
    return f"sqlite:///{tmp_path_factory.mktemp('streamlit-db') / 'app.sqlite3'}"


@contextlib.contextmanager
def running_app(tmp: Path, database_url: str, demo_proposals: int | None = 80, env_extra: dict[str, str] | None = None):
    """``streamlit run streamlit_app.py`` on a free localhost port, started as the README does
    (demo data first, unless ``demo_proposals`` is None); yields the base URL and stops the server afterwards.
    ``env_extra``: more environment variables for the app (e.g. ``GOYANG_MIGRATE``)."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        GOYANG_TILES="none",  # offline: the boundaries are the base map
        GOYANG_RASTER_DIR=str(tmp / "rasters"),
        PYTHONUNBUFFERED="1",
    )
    env.update(env_extra or {})
    log_path = tmp / "streamlit.log"
    if demo_proposals is not None:
        subprocess.run(
            [sys.executable, "-m", "planning", "seed-demo", "--proposals", str(demo_proposals)], cwd=ROOT, env=env, check=True, capture_output=True
        )
    with open(log_path, "w", encoding="utf-8") as log:
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
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while _health(f"{base}/_stcore/health") != "ok":
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text(encoding='utf-8')}")
                if time.monotonic() > deadline:
                    log_text = log_path.read_text(encoding="utf-8")
                    pytest.fail(f"streamlit did not answer /_stcore/health in {STARTUP_TIMEOUT_S} s:\n{log_text}")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@contextlib.contextmanager
def own_app(tmp_path_factory: pytest.TempPathFactory, name: str, demo_proposals: int = 20):
    """An app with its own SQLite database, for tests that change what others rely on:
    yields ``(base URL, store on that database)``."""
    from store import Store

    tmp = tmp_path_factory.mktemp(name)
    url = f"sqlite:///{tmp / 'app.sqlite3'}"
    with running_app(tmp, url, demo_proposals=demo_proposals) as base:
        store = Store.open(url, migrate=False)
        try:
            yield base, store
        finally:
            store.dispose()


def actor_named(store, username: str):
    """The actor of a (demo) account."""
    from planning.auth import actor_for

    with store.transaction() as tx:
        return actor_for(store, tx.residents.by_username(username).id)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, app_database_url: str):
    """Base URL of the app shared by the browser tests (its database: ``app_database_url``)."""
    with running_app(tmp_path_factory.mktemp("streamlit-app"), app_database_url) as base:
        yield base
