"""Backup and restore: the whole store as a GeoPackage plus CSVs, importable into either engine.

From a shell::

    python -m store.backup export DIR [DATABASE_URL]   # write DIR/store.gpkg, DIR/<table>.csv, DIR/manifest.json
    python -m store.backup import DIR [DATABASE_URL]   # load DIR into an empty database (migrated first)

``DATABASE_URL`` defaults to ``settings.get_settings().database_url``. A
refusal prints both languages and exits with status 2.

What is written
---------------
Every table of :data:`store.models.Base.metadata` (so a table added by a new
migration is included without changing this module), in foreign-key
dependency order, except :data:`EXCLUDED_TABLES`:

- ``store.gpkg``: an OGC GeoPackage for GIS tools (QGIS, GDAL, pyogrio). One
  layer per table: tables with a geometry column are ``features`` layers in
  EPSG:4326 (geometry column ``geometry``), the others ``attributes`` tables.
  Datetimes are written as ISO-8601 text with microseconds (GeoPackage's own
  DATETIME keeps milliseconds only), dates as ``YYYY-MM-DD`` text.
- ``<table>.csv``: UTF-8, a header row, one physical line per row, rows
  ordered by primary key. Encoding of a field (see :func:`encode_value`):
  ``\\N`` is NULL; in text a backslash is written ``\\\\`` and control
  characters as ``\\n``, ``\\r``, ``\\t`` or ``\\xHH`` (U+2028 and U+2029 as
  ``\\u2028``, ``\\u2029``; so ``\\N`` never
  stands for a text), then ordinary CSV quoting handles commas and quotes;
  datetimes are UTC ISO-8601 with microseconds (``2026-11-26T01:02:03.000004+00:00``),
  booleans ``true``/``false``, floats Python's shortest exact repr, geometries
  hex WKB (little endian; WKT would round the coordinates).
- ``manifest.json``, written last (an interrupted export has none): format
  version, the alembic schema revision, the source engine, creation time and,
  per table, its columns, row count, CSV file and that file's sha256, plus
  the GeoPackage's sha256.

Import reads the CSVs (the exact copy; the GeoPackage is the GIS view of the
same rows, checked by its checksum). It refuses, changing nothing, when the
manifest is missing or corrupt, a checksum differs, the schema revision is not
the target's, or the target already holds data. All rows go in one
transaction; self-referencing foreign keys (``proposals.merged_into_id``,
``comments.parent_id``) and any other foreign keys in a cycle are filled after
the rows; PostgreSQL sequences are set to ``max(id)`` so new rows get fresh
ids; every table's data-version counter (:mod:`store.versions`) is raised, so
caches of a running app on the target are invalidated.

Backups hold password hashes and e-mail addresses: the directory is created
readable by its owner only (0700, files 0600).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import sort_tables_and_constraints

from geo.crs import STORAGE_EPSG
from geo.errors import Refusal
from store.models import Base, DataVersion
from store.types import ShapelyGeometry

#: Version of the backup layout; raised when the files change incompatibly.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
GEOPACKAGE = "store.gpkg"
#: The CSV (and manifest) spelling of NULL.
NULL = "\\N"
#: Tables not backed up, with why.
EXCLUDED_TABLES: dict[str, str] = {
    # Per-database cache counters, not data: they count the target's own
    # commits. Import raises the target's counters instead (see import_store).
    DataVersion.__tablename__: "cache counters of one database; raised on import instead of copied",
}
# alembic_version is not in the models' metadata: the manifest records its revision instead.

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


class BackupRefused(Refusal):
    """A backup that cannot be written or imported; says what is wrong and what to do."""


def _refuse(code: str, ko: str, en: str) -> BackupRefused:
    return BackupRefused(code, ko, en)


# --------------------------------------------------------------------------- tables


def backup_tables() -> list[Table]:
    """The tables a backup holds, parents before children (foreign-key dependency order)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in EXCLUDED_TABLES]


def deferred_columns(tables: Sequence[Table]) -> dict[str, list[str]]:
    """``{table: [column, ...]}`` of foreign keys filled after every row is in.

    Self-references (a reply's ``parent_id``, a proposal's ``merged_into_id``)
    and foreign keys that close a cycle between tables cannot be satisfied
    row by row; they are inserted as NULL and set once all rows exist.
    """
    names = {t.name for t in tables}
    deferred: dict[str, set[str]] = {}
    for table in tables:
        for fk in table.foreign_keys:
            if fk.column.table is table:
                deferred.setdefault(table.name, set()).add(fk.parent.name)
    for table, constraints in sort_tables_and_constraints(tables):
        if table is None:  # the constraints that make cycles
            for constraint in constraints:
                if constraint.table.name in names:
                    deferred.setdefault(constraint.table.name, set()).update(c.name for c in constraint.columns)
    for table in tables:
        for name in deferred.get(table.name, ()):
            if not table.c[name].nullable:
                raise RuntimeError(f"{table.name}.{name} closes a foreign-key cycle but is NOT NULL: the backup cannot order it")
    return {name: sorted(cols) for name, cols in deferred.items()}


def _kind(column: Any) -> type:
    if isinstance(column.type, ShapelyGeometry):
        return BaseGeometry
    return column.type.python_type


def _geometry_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, ShapelyGeometry)]


def _pk_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


# --------------------------------------------------------------------------- value encoding


def _escape_text(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
            out.append(f"\\x{ord(ch):02x}")
        elif ch in "\u2028\u2029":  # line breaks to str.splitlines and many editors
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _unescape_text(value: str) -> str:
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = value[i + 1 : i + 2]
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
            i += 2
        elif nxt == "x" and len(value) >= i + 4:
            out.append(chr(int(value[i + 2 : i + 4], 16)))
            i += 4
        elif nxt == "u" and len(value) >= i + 6:
            out.append(chr(int(value[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise ValueError(f"bad escape at position {i}: {value[i:i + 4]!r}")
    return "".join(out)


def encode_value(value: Any, kind: type) -> str:
    """One stored value as CSV text (see the module docstring); ``kind`` is the column's Python type."""
    if value is None:
        return NULL
    if kind is BaseGeometry:
        return shapely.to_wkb(value, hex=True, byte_order=1)
    if kind is datetime:
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if kind is date:
        return value.isoformat()
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(int(value))
    if kind is float:
        return repr(float(value))
    return _escape_text(str(value))


def decode_value(field: str, kind: type) -> Any:
    """The inverse of :func:`encode_value`; ``ValueError`` for a malformed field."""
    if field == NULL:
        return None
    if kind is BaseGeometry:
        return shapely.from_wkb(bytes.fromhex(field))
    if kind is datetime:
        parsed = datetime.fromisoformat(field)
        if parsed.tzinfo is None:
            raise ValueError(f"datetime without a time zone: {field!r}")
        return parsed.astimezone(UTC)
    if kind is date:
        return date.fromisoformat(field)
    if kind is bool:
        if field not in ("true", "false"):
            raise ValueError(f"not a boolean: {field!r}")
        return field == "true"
    if kind is int:
        return int(field)
    if kind is float:
        return float(field)
    return _unescape_text(field)


# --------------------------------------------------------------------------- export


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sort_key(row: dict[str, Any], pk: list[str]) -> tuple:
    # Sorted in Python, not by ORDER BY: the engines' text collations differ,
    # and the same rows must give the same file on either engine.
    return tuple((row[c] is None, row[c] if row[c] is not None else 0) for c in pk)


def _read_rows(conn: Connection, table: Table) -> list[dict[str, Any]]:
    rows = [dict(r._mapping) for r in conn.execute(select(table))]
    rows.sort(key=lambda r: _sort_key(r, _pk_columns(table)))
    return rows


def _csv_bytes(table: Table, rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    columns = list(table.columns)
    writer.writerow([c.name for c in columns])
    kinds = [_kind(c) for c in columns]
    for row in rows:
        writer.writerow([encode_value(row[c.name], k) for c, k in zip(columns, kinds, strict=True)])
    return buffer.getvalue().encode("utf-8")


def _gpkg_value(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if kind is datetime:
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if kind is date:
        return value.isoformat()
    return value


def _write_gpkg_layer(path: Path, table: Table, rows: list[dict[str, Any]]) -> None:
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    geometry_cols = _geometry_columns(table)
    layer_geometry = geometry_cols[0] if geometry_cols else None
    data: dict[str, Any] = {}
    for column in table.columns:
        if column.name == layer_geometry:
            continue
        kind = _kind(column)
        values = [row[column.name] for row in rows]
        if kind is BaseGeometry:  # a second geometry column: a GeoPackage layer has one, keep it as WKT
            data[column.name] = pd.array([None if v is None else v.wkt for v in values], dtype="string")
        elif kind is bool:
            data[column.name] = pd.array(values, dtype="boolean")
        elif kind is int:
            data[column.name] = pd.array(values, dtype="Int64")
        elif kind is float:
            data[column.name] = pd.array(values, dtype="Float64")
        else:
            data[column.name] = pd.array([_gpkg_value(v, kind) for v in values], dtype="string")
    options: dict[str, Any] = {"layer": str(table.name), "driver": "GPKG", "append": path.exists()}
    if layer_geometry is None:
        pyogrio.write_dataframe(pd.DataFrame(data), path, **options)
        return
    column_type = table.c[layer_geometry].type
    assert isinstance(column_type, ShapelyGeometry)
    frame = gpd.GeoDataFrame(
        data, geometry=gpd.GeoSeries([row[layer_geometry] for row in rows], crs=f"EPSG:{STORAGE_EPSG}"), crs=f"EPSG:{STORAGE_EPSG}"
    )
    geometry_type = column_type.kinds[0] if len(column_type.kinds) == 1 else "Unknown"
    pyogrio.write_dataframe(
        frame, path, geometry_type=geometry_type, promote_to_multi=False, layer_options={"GEOMETRY_NAME": "geometry"}, **options
    )


@contextmanager
def _gdal_sqlite_unsynced() -> Iterator[None]:
    # GDAL syncs the GeoPackage to disk after each of the ~25 layers, which is
    # most of an export's time; export_store fsyncs every file once instead,
    # before writing the manifest. The previous setting is put back.
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def export_store(store: Any, directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the whole store to ``directory`` (GeoPackage, a CSV per table, manifest); returns the manifest.

    The rows are read in one transaction (a consistent snapshot; on
    PostgreSQL at REPEATABLE READ). Refuses (:class:`BackupRefused`) when
    ``directory`` already holds a backup: a backup is never overwritten.
    """
    from store.migrate import current_revision

    target = Path(directory)
    if (target / MANIFEST).exists() or (target / GEOPACKAGE).exists():
        raise _refuse(
            "backup_exists",
            f"{target} 폴더에 이미 백업이 있습니다. 덮어쓰지 않으니 빈 폴더나 새 폴더 이름을 지정해 주세요.",
            f"{target} already holds a backup. Backups are never overwritten: please name an empty or new folder.",
        )
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(target, 0o700)
    tables = backup_tables()
    revision = current_revision(store.engine)
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = {table.name: _read_rows(conn, table) for table in tables}
    entries: dict[str, Any] = {}
    gpkg = target / GEOPACKAGE
    with _gdal_sqlite_unsynced():
        for table in tables:
            rows = snapshot[table.name]
            csv_path = target / f"{table.name}.csv"
            csv_path.write_bytes(_csv_bytes(table, rows))
            os.chmod(csv_path, 0o600)
            _write_gpkg_layer(gpkg, table, rows)
            entries[table.name] = {
                "file": csv_path.name,
                "columns": [c.name for c in table.columns],
                "rows": len(rows),
                "sha256": _sha256(csv_path),
            }
    os.chmod(gpkg, 0o600)
    # Every file is on disk before the manifest says the backup is complete.
    for path in [gpkg, *(target / entry["file"] for entry in entries.values())]:
        _fsync(path)
    manifest = {
        "format": "goyang-store-backup",
        "format_version": FORMAT_VERSION,
        "schema_revision": revision,
        "source_backend": store.backend,
        "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "crs": f"EPSG:{STORAGE_EPSG}",
        "null": NULL,
        "excluded_tables": EXCLUDED_TABLES,
        "geopackage": {"file": GEOPACKAGE, "sha256": _sha256(gpkg)},
        "tables": entries,
    }
    manifest_path = target / MANIFEST
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.chmod(manifest_path, 0o600)
    return manifest


# --------------------------------------------------------------------------- import


def _corrupt(directory: Path, detail: str) -> BackupRefused:
    return _refuse(
        "manifest_corrupt",
        f"{directory}의 백업을 읽을 수 없습니다({detail}). 백업이 손상되었거나 다른 프로그램이 만든 것입니다. "
        "원본 데이터베이스에서 `python -m store.backup export`로 다시 내보내 주세요.",
        f"The backup in {directory} cannot be read ({detail}). It is damaged or was not made by this program. "
        "Please export it again from the source database with `python -m store.backup export`.",
    )


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The backup's manifest, checked for shape and against every file's checksum; :class:`BackupRefused` otherwise."""
    root = Path(directory)
    path = root / MANIFEST
    if not path.is_file():
        raise _refuse(
            "manifest_missing",
            f"{root}에 {MANIFEST} 파일이 없습니다. 백업 폴더가 맞는지, 내보내기가 끝까지 되었는지 확인해 주세요.",
            f"There is no {MANIFEST} in {root}. Please check that this is a backup folder and that the export finished.",
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _corrupt(root, f"{MANIFEST}: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("format") != "goyang-store-backup":
        raise _corrupt(root, f"{MANIFEST} is not a goyang-store-backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _corrupt(root, f"format version {manifest.get('format_version')!r}, this program reads {FORMAT_VERSION}")
    tables = manifest.get("tables")
    gpkg = manifest.get("geopackage")
    if not isinstance(tables, dict) or not isinstance(gpkg, dict) or not isinstance(manifest.get("schema_revision"), str):
        raise _corrupt(root, f"{MANIFEST} lacks tables, geopackage or schema_revision")
    files: list[tuple[str, Any]] = [(gpkg.get("file"), gpkg.get("sha256"))]
    for name, entry in tables.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("rows"), int) or not isinstance(entry.get("columns"), list):
            raise _corrupt(root, f"{MANIFEST}: bad entry for table {name!r}")
        files.append((entry.get("file"), entry.get("sha256")))
    for file_name, expected in files:
        if not isinstance(file_name, str) or "/" in file_name or "\\" in file_name or file_name.startswith("."):
            raise _corrupt(root, f"{MANIFEST}: bad file name {file_name!r}")
        file_path = root / file_name
        if not file_path.is_file():
            raise _corrupt(root, f"{file_name} is missing")
        if _sha256(file_path) != expected:
            raise _refuse(
                "checksum_mismatch",
                f"{root}의 {file_name} 파일이 내보낼 때와 다릅니다(sha256 불일치). 파일이 바뀌었거나 손상되었습니다. "
                "원본에서 다시 내보내거나 온전한 백업 사본을 쓰세요.",
                f"{file_name} in {root} differs from the exported file (sha256 mismatch): it was changed or damaged. "
                "Please export again from the source or use an intact copy of the backup.",
            )
    return manifest


def _parse_table(root: Path, table: Table, entry: dict[str, Any]) -> list[dict[str, Any]]:
    columns = [c.name for c in table.columns]
    if entry["columns"] != columns:
        raise _corrupt(root, f"{table.name}: columns {entry['columns']} differ from this schema's {columns}")
    kinds = [_kind(c) for c in table.columns]
    with (root / entry["file"]).open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader)
            if header != columns:
                raise _corrupt(root, f"{entry['file']}: header {header} differs from {columns}")
            rows = []
            for line_no, fields in enumerate(reader, start=2):
                if len(fields) != len(columns):
                    raise _corrupt(root, f"{entry['file']} line {line_no}: {len(fields)} fields, expected {len(columns)}")
                rows.append({c: decode_value(f, k) for c, f, k in zip(columns, fields, kinds, strict=True)})
        except (csv.Error, ValueError, StopIteration, GEOSException) as err:
            if isinstance(err, BackupRefused):
                raise
            raise _corrupt(root, f"{entry['file']}: {err}") from err
    if len(rows) != entry["rows"]:
        raise _corrupt(root, f"{entry['file']} has {len(rows)} rows, the manifest says {entry['rows']}")
    return rows


def _target_counts(conn: Connection, tables: Sequence[Table]) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables}


def _reset_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    if conn.dialect.name != "postgresql":
        return  # SQLite gives INTEGER PRIMARY KEY rows max(rowid) + 1 by itself
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or _kind(pk[0]) is not int:
            continue
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}).scalar()
        if sequence is None:
            continue
        top = conn.execute(select(func.max(pk[0]))).scalar()
        # is_called false with 1: the next id is 1 (an empty table); else the next is max + 1.
        conn.execute(text("SELECT setval(:s, :v, :called)"), {"s": sequence, "v": top or 1, "called": top is not None})


def _raise_data_versions(conn: Connection, tables: Sequence[Table]) -> None:
    versions = DataVersion.__table__
    for name in sorted(t.name for t in tables):
        done = conn.execute(versions.update().where(versions.c.name == name).values(version=versions.c.version + 1))
        if done.rowcount == 0:
            conn.execute(versions.insert().values(name=name, version=1))


def import_store(store: Any, directory: str | os.PathLike[str]) -> dict[str, int]:
    """Load the backup in ``directory`` into ``store``, which must be migrated and empty; returns rows per table.

    Everything is checked before the database is touched, and all rows go in
    one transaction: on any refusal or error the target is left as it was.

    Raises
    ------
    BackupRefused
        Manifest missing or corrupt, a checksum differs, the schema revision
        is not the target's, or the target already holds data.
    """
    from store.migrate import current_revision

    root = Path(directory)
    manifest = read_manifest(root)
    revision = current_revision(store.engine)
    if manifest["schema_revision"] != revision:
        raise _refuse(
            "schema_mismatch",
            f"백업의 스키마 판({manifest['schema_revision']})이 대상 데이터베이스의 판({revision})과 다릅니다. "
            "두 쪽을 같은 판으로 맞춘 뒤(`python -m store.migrate upgrade`, 같은 버전의 프로그램) 다시 가져와 주세요.",
            f"The backup's schema revision ({manifest['schema_revision']}) differs from the target database's ({revision}). "
            "Bring both to the same revision (`python -m store.migrate upgrade`, the same program version) and import again.",
        )
    tables = backup_tables()
    names = [t.name for t in tables]
    if sorted(manifest["tables"]) != sorted(names):
        raise _corrupt(root, f"tables {sorted(manifest['tables'])} differ from this schema's {sorted(names)}")
    data = {t.name: _parse_table(root, t, manifest["tables"][t.name]) for t in tables}
    deferred = deferred_columns(tables)

    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Nobody writes to the target while it is checked and filled.
            conn.execute(text(f"LOCK TABLE {', '.join(conn.dialect.identifier_preparer.quote(n) for n in names)} IN EXCLUSIVE MODE"))
        filled = {name: n for name, n in _target_counts(conn, tables).items() if n}
        if filled:
            listing = ", ".join(f"{name} {n}" for name, n in sorted(filled.items()))
            raise _refuse(
                "target_not_empty",
                f"대상 데이터베이스({store.url_display})에 이미 데이터가 있습니다({listing}). 백업은 빈 데이터베이스에만 "
                "가져옵니다. 새 데이터베이스를 만들어 지정해 주세요.",
                f"The target database ({store.url_display}) already holds data ({listing}). A backup is imported into an "
                "empty database only: please create a new database and name it.",
            )
        try:
            for table in tables:
                rows = data[table.name]
                if not rows:
                    continue
                later = deferred.get(table.name, [])
                first = [{**row, **{c: None for c in later}} for row in rows]
                conn.execute(table.insert(), first)
            for table in tables:
                later = deferred.get(table.name, [])
                if not later:
                    continue
                pk = _pk_columns(table)
                where = [table.c[c] == bindparam(f"pk_{c}") for c in pk]
                values = {c: bindparam(f"v_{c}") for c in later}
                params = [
                    {**{f"pk_{c}": row[c] for c in pk}, **{f"v_{c}": row[c] for c in later}}
                    for row in data[table.name]
                    if any(row[c] is not None for c in later)
                ]
                if params:
                    conn.execute(table.update().where(*where).values(**values), params)
            _reset_sequences(conn, tables)
            _raise_data_versions(conn, tables)
        except (DBAPIError, ValueError, TypeError) as err:
            # A constraint the database enforces, or a value a column type refuses
            # (a geometry of the wrong kind); the transaction is rolled back.
            cause = getattr(err, "orig", None) or err
            detail = f"{type(cause).__name__}: {(str(cause).splitlines() or [''])[0]}"
            raise _refuse(
                "import_failed",
                f"백업을 가져오다가 데이터베이스가 거절했습니다({detail}). "
                "아무것도 저장하지 않았습니다. 백업이 온전한지 확인하고 원본에서 다시 내보내 주세요.",
                f"The database refused a row of the backup ({detail}). "
                "Nothing was stored. Please check the backup is intact and export it again from the source.",
            ) from err
    return {name: len(rows) for name, rows in data.items()}


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m store.backup export|import DIR [DATABASE_URL]``; 0 on success, 2 on a refusal."""
    parser = argparse.ArgumentParser(prog="python -m store.backup", description="Back up or restore the whole store.")
    parser.add_argument("command", choices=["export", "import"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("database_url", nargs="?", default=None, help="default: the settings' database URL")
    args = parser.parse_args(argv)

    from store import Store

    try:
        if args.command == "import":
            read_manifest(args.directory)  # a bad backup is refused before any database is created or migrated
        # Export reads the schema as it is (never migrates a source); import
        # first migrates the (empty) target so it has the schema to fill.
        store = Store.open(args.database_url, migrate=args.command == "import")
    except Refusal as refusal:
        print(str(refusal), file=sys.stderr)
        return 2
    try:
        if args.command == "export":
            manifest = export_store(store, args.directory)
            total = sum(entry["rows"] for entry in manifest["tables"].values())
            print(f"내보냄 / exported: {len(manifest['tables'])} tables, {total} rows -> {args.directory}")
        else:
            counts = import_store(store, args.directory)
            print(f"가져옴 / imported: {len(counts)} tables, {sum(counts.values())} rows -> {store.url_display}")
    except Refusal as refusal:
        print(str(refusal), file=sys.stderr)
        return 2
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
