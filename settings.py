"""Configuration, read once: environment variables, then Streamlit secrets.

| setting | environment | secrets key | default |
| --- | --- | --- | --- |
| database URL | ``DATABASE_URL`` | ``database_url`` | SQLite file ``var/goyang.sqlite3`` |
| basemap tiles | ``GOYANG_TILES`` | ``tiles`` | ``none`` (boundaries are the base) |
| tile attribution | ``GOYANG_TILES_ATTR`` | ``tiles_attr`` | (OSM attribution for ``osm``) |
| migrate on start | ``GOYANG_MIGRATE`` (``auto`` or ``off``) | ``migrate`` | ``auto`` |
| PostgreSQL connections per process | ``GOYANG_DB_POOL`` | ``db_pool`` | ``10`` (and as many again in overflow) |
| smallest public group (privacy k) | ``GOYANG_PRIVACY_K`` | ``privacy_k`` | ``5`` distinct residents |

With several app instances behind a load balancer, set ``GOYANG_MIGRATE=off``
and run ``python -m store.migrate upgrade`` once per release (see
``docs/deployment.md``); an instance then refuses to start on a database whose
schema is not the one it was built for, instead of changing it under the others.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
VAR_DIR = ROOT / "var"
STATIC_DIR = ROOT / "static"


def raster_dir() -> Path:
    """Where registered raster layers live (``GOYANG_RASTER_DIR``, default ``var/rasters``)."""
    return Path(os.environ.get("GOYANG_RASTER_DIR") or VAR_DIR / "rasters")


def _secret(key: str) -> str | None:
    """A value from Streamlit secrets, if Streamlit and a secrets file are there."""
    try:
        import streamlit as st

        return st.secrets.get(key)  # type: ignore[no-any-return]
    except Exception:  # no secrets file, or not running under Streamlit
        return None


@dataclass(frozen=True)
class Settings:
    database_url: str
    tiles: str
    tiles_attr: str | None
    migrate_on_start: bool = True
    db_pool: int = 10
    privacy_k: int = 5


def default_database_url() -> str:
    return f"sqlite:///{VAR_DIR / 'goyang.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or _secret("database_url") or default_database_url(),
        tiles=os.environ.get("GOYANG_TILES") or _secret("tiles") or "none",
        tiles_attr=os.environ.get("GOYANG_TILES_ATTR") or _secret("tiles_attr"),
        migrate_on_start=_migrate_setting(os.environ.get("GOYANG_MIGRATE") or _secret("migrate") or "auto"),
        db_pool=_pool_setting(os.environ.get("GOYANG_DB_POOL") or _secret("db_pool") or "10"),
        privacy_k=_privacy_k_setting(os.environ.get("GOYANG_PRIVACY_K") or _secret("privacy_k") or "5"),
    )


def _privacy_k_setting(value: str) -> int:
    """Public aggregates hide cells and groups of fewer than k distinct residents (1-100)."""
    try:
        k = int(str(value).strip())
    except ValueError:
        k = 0
    if not 1 <= k <= 100:
        raise ValueError(f"GOYANG_PRIVACY_K must be a whole number from 1 to 100, not {value!r}")
    return k


def _pool_setting(value: str) -> int:
    """Connections a process keeps open to PostgreSQL (1-200); as many again may open under load."""
    try:
        size = int(str(value).strip())
    except ValueError:
        size = 0
    if not 1 <= size <= 200:
        raise ValueError(f"GOYANG_DB_POOL must be a whole number from 1 to 200, not {value!r}")
    return size


def _migrate_setting(value: str) -> bool:
    """``auto`` (migrate when the app starts) or ``off`` (a release step migrates; see ``docs/deployment.md``)."""
    value = str(value).strip().lower()
    if value not in ("auto", "off"):
        raise ValueError(f"GOYANG_MIGRATE must be 'auto' or 'off', not {value!r}")
    return value == "auto"
