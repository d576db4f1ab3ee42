"""Database fixtures: every store test runs on SQLite and on PostGIS.

``store_url`` is a fresh, empty database (not migrated); ``store`` is a
migrated :class:`store.Store` on it. Both are parametrised over ``sqlite``
(a file in the test's tmp dir) and ``postgis`` (a uniquely named database on
the server at ``TEST_POSTGIS_ADMIN_URL``, with the PostGIS extension, dropped
afterwards). The PostGIS variants carry the ``postgis`` marker (registered
in pyproject.toml) and are
skipped when the server or PostGIS is unavailable, or fail instead when
``REQUIRE_POSTGIS=1`` (as in CI).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from store import Store

DEFAULT_POSTGIS_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgis_unavailable(reason: str) -> None:
    """Skip, or fail when the run requires PostGIS."""
    if os.environ.get("REQUIRE_POSTGIS") == "1":
        pytest.fail(f"REQUIRE_POSTGIS=1 but PostGIS is unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostGIS unavailable: {reason}")


def _postgis_database() -> Iterator[str]:
    """Create a uniquely named database with PostGIS, yield its URL, drop it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    from store.engine import normalise_url

    admin_url = normalise_url(os.environ.get("TEST_POSTGIS_ADMIN_URL", DEFAULT_POSTGIS_ADMIN_URL))
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"store_test_{uuid.uuid4().hex[:16]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    except DBAPIError as err:
        admin.dispose()
        _postgis_unavailable(f"cannot create a database via {admin_url.render_as_string()}: {err.orig}")
    url = admin_url.set(database=name)
    try:
        try:
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            engine.dispose()
        except DBAPIError as err:
            _postgis_unavailable(f"CREATE EXTENSION postgis failed: {err.orig}")
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgis_url() -> Iterator[str]:
    """URL of a fresh, empty PostGIS database (nothing migrated yet); mark the test ``postgis``."""
    yield from _postgis_database()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database on each engine (nothing migrated yet)."""
    if request.param == "sqlite":
        # A missing parent directory on purpose: the store must create it.
        yield f"sqlite:///{tmp_path / 'var' / 'store.sqlite3'}"
    else:
        yield from _postgis_database()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store on a fresh database, on each engine."""
    from store import Store

    opened = Store.open(store_url)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture(autouse=True)
def _isolated_raster_dir(tmp_path, monkeypatch):
    """Registered rasters of a test go to its own folder, never to the project's var/."""
    monkeypatch.setenv("GOYANG_RASTER_DIR", str(tmp_path / "rasters"))


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium_browser():
    """Debian's headless Chromium driven by Playwright: one per test session, shared by every browser test.

    Skips without /usr/bin/chromium, unless ``REQUIRE_BROWSER=1`` (CI), where it fails.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def local_assets() -> None:
    """folium pointed at the vendored assets; fails (not skips) when they are not installed."""
    from layers.assets import AssetsMissing, use_local_assets

    try:
        use_local_assets()
    except AssetsMissing as exc:
        pytest.fail(str(exc))
