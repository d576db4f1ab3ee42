"""A throwaway database filled with generated proposals, for the map benchmark.

The database is made like the tests make theirs (``tests/conftest.py``): a
uniquely named PostgreSQL database with PostGIS on the server at
``BENCH_POSTGIS_ADMIN_URL`` (default: the local server, user ``postgres``),
dropped afterwards; or a SQLite file in a temporary directory.

Setting up is not measured. The reference data and the accounts go through
the store's own functions; the proposals, supports and comments are written
in bulk (PostgreSQL ``COPY``, SQLite ``executemany``) because
``Proposals.add`` writes one row plus its history per call, which would take
minutes for 100,000 proposals. The bulk rows carry what ``add`` would store
(the bbox columns from the geometry, timestamps in UTC); history rows are
left out, as the map does not read them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning.accounts import hash_password
from planning.geography import install_reference_data
from store import Store

DEFAULT_POSTGIS_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_RESIDENTS = 20  # supports need distinct residents per proposal
PROPOSAL_COLUMNS = (
    "id",
    "title",
    "body",
    "category",
    "kind",
    "cost_krw",
    "status",
    "author_id",
    "created_at",
    "updated_at",
    "geometry",
    "minx",
    "miny",
    "maxx",
    "maxy",
    "hub_code",
    "hub_distance_m",
    "district_code",
    "legal_dong_code",
    "legal_dong_name",
    "district_shares",
    "is_demo",
    "hidden",
    "photo_url",
)


class DatabaseUnavailable(RuntimeError):
    """The benchmark database cannot be created (no server, or no PostGIS)."""


@contextmanager
def throwaway_database(engine: str = "postgis") -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards.

    Parameters
    ----------
    engine : {"postgis", "sqlite"}
        ``"postgis"``: a database named ``bench_<random>`` on the server at
        ``BENCH_POSTGIS_ADMIN_URL`` with the PostGIS extension; ``"sqlite"``:
        a file in a temporary directory.

    Raises
    ------
    DatabaseUnavailable
        When the PostgreSQL server or its PostGIS extension cannot be used.
    """
    if engine == "sqlite":
        tmp = tempfile.mkdtemp(prefix="goyang-bench-")
        try:
            yield f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if engine != "postgis":
        raise ValueError(f"engine must be 'postgis' or 'sqlite', not {engine!r}")

    from sqlalchemy import create_engine, text  # noqa: PLC0415 - like tests/conftest.py: setup only
    from sqlalchemy.exc import DBAPIError

    from store.engine import normalise_url

    admin_url = normalise_url(os.environ.get("BENCH_POSTGIS_ADMIN_URL", DEFAULT_POSTGIS_ADMIN_URL))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"bench_{uuid.uuid4().hex[:16]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    except DBAPIError as err:
        admin.dispose()
        raise DatabaseUnavailable(f"cannot create a database via {admin_url.render_as_string()}: {err.orig}") from err
    url = admin_url.set(database=name)
    try:
        eng = create_engine(url)
        try:
            with eng.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except DBAPIError as err:
            raise DatabaseUnavailable(f"CREATE EXTENSION postgis failed: {err.orig}") from err
        finally:
            eng.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_version(store: Store) -> str:
    """``PostgreSQL 15.x, PostGIS 3.x`` or ``SQLite 3.x`` for the machine line."""
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        if store.backend == "postgresql":
            cur.execute("SHOW server_version")
            pg = str(cur.fetchone()[0]).split()[0]
            cur.execute("SELECT postgis_lib_version()")
            return f"PostgreSQL {pg}, PostGIS {cur.fetchone()[0]}"
        cur.execute("SELECT sqlite_version()")
        return f"SQLite {cur.fetchone()[0]}"
    finally:
        raw.close()


def _residents(store: Store) -> list[int]:
    """Ids of the benchmark's residents, created on first use."""
    with store.transaction() as tx:
        found = [tx.residents.by_username(f"bench-r{i:03d}") for i in range(BENCH_RESIDENTS)]
        if all(found):
            return [r.id for r in found]
    pw = hash_password("bench-only-not-a-real-account")
    with store.transaction() as tx:
        return [
            tx.residents.add(
                username=f"bench-r{i:03d}", display_name=f"벤치 주민 {i}", password_hash=pw, role="resident", is_demo=True
            ).id
            for i in range(BENCH_RESIDENTS)
        ]


def load_proposals(store: Store, frame: gpd.GeoDataFrame, seed: int = 2026) -> dict[str, int]:
    """Add ``frame`` (rows of :func:`bench.generate.proposals_frame`) to a migrated store.

    Call it again with further rows (new ids) to grow the same database.
    The frame's ``supports`` and ``comments`` columns become that many support
    and comment rows, so that :func:`planning.proposals.map_frame` counts them
    as it would in production. Returns the row counts written.
    """
    install_reference_data(store)
    residents = np.asarray(_residents(store), dtype=np.int64)
    rng = np.random.default_rng(seed)
    n = len(frame)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    bounds = shapely.bounds(geoms) if n else np.empty((0, 4))
    postgis = store.backend == "postgresql"
    if postgis:
        wkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True, byte_order=1) if n else []
    else:
        wkb = shapely.to_wkb(geoms, byte_order=1) if n else []
    start = datetime(2026, 3, 1, tzinfo=UTC)
    # Timestamps as text, formatted by numpy (pandas formats datetimes for CSV slowly):
    # PostgreSQL gets ISO with +00:00, SQLite naive UTC (store.types.UTCDateTime).
    minutes = rng.integers(0, 60 * 24 * 90, n).astype("timedelta64[m]")
    created_utc = np.datetime64(start.replace(tzinfo=None), "us") + minutes
    created = np.char.add(np.datetime_as_string(created_utc, unit="us"), "+00:00" if postgis else "")
    if not postgis:
        created = np.char.replace(created, "T", " ")
    created = created.astype(object)
    ids = frame["id"].to_numpy(np.int64)
    title = frame["title"].astype(str).to_numpy(dtype=object)
    proposals = pd.DataFrame(
        {
            "id": ids,
            "title": title,
            "body": title + " 제안입니다. 벤치마크용으로 생성된 데이터입니다.",
            "category": frame["category"].to_numpy(dtype=object),
            "kind": frame["kind"].to_numpy(dtype=object),
            "cost_krw": pd.array(frame["cost_krw"], dtype="Int64"),
            "status": frame["status"].to_numpy(dtype=object),
            "author_id": residents[rng.integers(0, len(residents), n)],
            "created_at": created,
            "updated_at": created,
            "geometry": wkb,
            "minx": bounds[:, 0],
            "miny": bounds[:, 1],
            "maxx": bounds[:, 2],
            "maxy": bounds[:, 3],
            "hub_code": None,
            "hub_distance_m": None,
            "district_code": frame["district_code"].to_numpy(dtype=object),
            "legal_dong_code": None,
            "legal_dong_name": None,
            "district_shares": None,
            "is_demo": True,
            "hidden": False,
            "photo_url": None,
        },
        columns=list(PROPOSAL_COLUMNS),
    )
    support_at = start.isoformat(timespec="microseconds") if postgis else start.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    # k distinct residents per proposal: the first k of a random permutation of the residents
    want = np.minimum(frame["supports"].to_numpy(np.int64), len(residents))
    perm = np.argsort(rng.random((n, len(residents))), axis=1)
    take = np.arange(len(residents))[None, :] < want[:, None]
    supports = pd.DataFrame({"proposal_id": np.repeat(ids, want), "resident_id": residents[perm[take]], "created_at": support_at})
    c_pid = np.repeat(ids, frame["comments"].to_numpy(np.int64))
    comments = pd.DataFrame(
        {
            "proposal_id": c_pid,
            "author_id": residents[rng.integers(0, len(residents), len(c_pid))],
            "body": "좋은 제안입니다.",
            "created_at": support_at,
            "hidden": False,
            "is_demo": True,
        }
    )
    tables = (("proposals", proposals), ("supports", supports), ("comments", comments))

    raw = store.engine.raw_connection()
    try:
        if postgis:
            with raw.driver_connection.cursor() as cur:
                # Skip the foreign-key triggers while copying (the generated rows satisfy them):
                # they make the copy several times slower. Needs a superuser; without one, copy checked.
                try:
                    cur.execute("SAVEPOINT replica")
                    cur.execute("SET LOCAL session_replication_role = replica")
                    cur.execute("RELEASE SAVEPOINT replica")
                except Exception:  # noqa: BLE001 - psycopg's InsufficientPrivilege and kin
                    cur.execute("ROLLBACK TO SAVEPOINT replica")
                for table, df in tables:
                    # CSV from pandas in one piece: psycopg's write_row dumps value by value, 5x slower
                    with cur.copy(f"COPY {table} ({', '.join(df.columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                        copy.write(df.to_csv(index=False, header=False).encode("utf-8"))
                # the sequence behind proposals.id, past the ids written explicitly
                cur.execute("SELECT setval(pg_get_serial_sequence('proposals', 'id'), GREATEST(COALESCE(MAX(id), 0), 1)) FROM proposals")
                cur.execute("ANALYZE")
        else:
            cur = raw.cursor()
            cur.execute("BEGIN")  # the store's SQLite connections do not open transactions themselves
            for table, df in tables:
                marks = ", ".join("?" for _ in df.columns)
                rows = (tuple(None if v is pd.NA else v for v in row) for row in df.astype(object).itertuples(index=False, name=None))
                cur.executemany(f"INSERT INTO {table} ({', '.join(df.columns)}) VALUES ({marks})", rows)
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return {"proposals": len(proposals), "supports": len(supports), "comments": len(comments)}
