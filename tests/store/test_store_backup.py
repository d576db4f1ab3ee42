"""Backup and restore (store/backup.py): a lossless round trip between the engines, and refusals that change nothing."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from store_samples import JUGYO, centre_rows, district_rows, proposal_fields

from store import Store
from store.backup import (
    EXCLUDED_TABLES,
    GEOPACKAGE,
    MANIFEST,
    NULL,
    BackupRefused,
    backup_tables,
    decode_value,
    encode_value,
    export_store,
    import_store,
    main,
)

# Texts a hostile or careless user may type; NUL is left out: PostgreSQL text cannot hold it.
HOSTILE = [
    "'; DROP TABLE proposals; --",
    '<script>alert("x")</script> & <img src=x onerror=alert(1)>',
    "첫 줄\n둘째 줄\r\n셋째 줄\r",
    'quote " and \'single\', comma, \\N and \\ backslash \\\\ end\\',
    "emoji 🏞️👩‍👩‍👧 and flags 🇰🇷",
    "control \x01\x07\x1b[31mred\x1b[0m\x7f\x85 tab\tend",
    "\\N",
    "",
    "   leading and trailing spaces   ",
    "line separator\u2028paragraph\u2029zero width\u200b",
]

# Coordinates with every bit of their doubles in use: a lossy copy would round them.
_X, _Y = 126.83212345678912, 37.65812345678901
GEOMETRIES: list[BaseGeometry] = [
    Point(_X, _Y),
    LineString([(_X, _Y), (_X + 0.001234567891, _Y + 0.0009876543219), (_X + 0.002, _Y - 0.0001)]),
    Polygon(
        [(_X, _Y), (_X + 0.01, _Y), (_X + 0.01, _Y + 0.01), (_X, _Y + 0.01)],
        holes=[[(_X + 0.002, _Y + 0.002), (_X + 0.004, _Y + 0.002), (_X + 0.004, _Y + 0.004), (_X + 0.002, _Y + 0.004)]],
    ),
    MultiPoint([(_X, _Y), (_X + 1e-9, _Y - 1e-9)]),
    MultiLineString([[(_X, _Y), (_X + 0.003, _Y)], [(_X, _Y + 0.003), (_X + 0.003, _Y + 0.0031)]]),
    MultiPolygon(
        [
            Polygon(
                [(_X, _Y), (_X + 0.01, _Y), (_X + 0.01, _Y + 0.01), (_X, _Y + 0.01)],
                holes=[[(_X + 0.001, _Y + 0.001), (_X + 0.002, _Y + 0.001), (_X + 0.002, _Y + 0.002)]],
            ),
            Polygon([(_X + 0.02, _Y), (_X + 0.03, _Y), (_X + 0.03, _Y + 0.01)]),
        ]
    ),
]
PRECISE_TIME = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _url(kind: str, tmp_path: Path, name: str, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
    return request.getfixturevalue("postgis_url")


def seed_rich(store: Store) -> None:
    """The samples' two dongs plus every kind of row: all geometry types, hostile texts, histories, replies, a budget cycle, meetings.

    (planning.demo's data would add nothing these rows lack, and installing
    Goyang's 44 dongs costs ~10 s per engine.)
    """
    with store.transaction() as tx:
        tx.districts.upsert(district_rows())
        tx.centres.upsert(centre_rows())
        d1, d2 = (d.code for d in tx.districts.list()[:2])
        hub = tx.centres.list()[0].code
        admin = tx.residents.add("backup-admin", HOSTILE[0], role="admin", password_hash="$argon2id$v=19$x", email="a@example.org")
        planner = tx.residents.add("backup-planner", HOSTILE[2], role="planner", password_hash=None)
        resident = tx.residents.add("backup-주민", HOSTILE[4], home_district_code=d1, password_hash="h", email=None)
        pids = []
        for i, geometry in enumerate(GEOMETRIES):
            p = tx.proposals.add(
                **proposal_fields(
                    resident.id,
                    geometry,
                    title=HOSTILE[i],
                    body=HOSTILE[(i + 3) % len(HOSTILE)] + " " + HOSTILE[i],
                    cost_krw=None if i == 0 else 9_007_199_254_740_993 + i,  # beyond a double's exact integers
                    hub_code=hub,
                    hub_distance_m=1234.5678901234567,
                    district_code=d1,
                    legal_dong_code="41281101",
                    legal_dong_name=HOSTILE[6],
                    district_shares={d1: 0.7000000000000001, d2: 0.3},
                    photo_url=None if i % 2 else "https://example.org/p.jpg?a=1&b=\"2\"",
                )
            )
            pids.append(p.id)
        # A self-reference pointing forward: proposal 0 merged into the last one.
        tx.proposals.set_status(pids[0], "merged", admin.id, reason=HOSTILE[1])
        tx.proposals.set_merged_into(pids[0], pids[-1])
        tx.proposals.set_status(pids[1], "under_review", planner.id, "")
        tx.proposals.set_status(pids[1], "accepted", planner.id, HOSTILE[3])
        tx.proposals.set_hidden(pids[2], True, reason=HOSTILE[5], by=admin.id)
        top = tx.comments.add(pids[1], resident.id, HOSTILE[2])
        reply = tx.comments.add(pids[1], admin.id, HOSTILE[3], parent_id=top.id)
        tx.comments.add(pids[1], planner.id, HOSTILE[7], parent_id=top.id)
        tx.comments.set_hidden(reply.id, True, reason="", by=admin.id)
        tx.supports.add(pids[1], resident.id)
        tx.supports.add(pids[1], admin.id)
        tx.flags.add(planner.id, HOSTILE[0], proposal_id=pids[3])
        tx.flags.add(resident.id, HOSTILE[8], comment_id=reply.id)
        tx.flags.resolve("hidden", admin.id, comment_id=reply.id)
        tx.notifications.add(resident.id, "status_changed", proposal_id=pids[1], params={"reason": HOSTILE[3]})
        tx.notifications.add(resident.id, "reply", comment_id=reply.id)
        tx.notifications.mark_read(resident.id)
        tx.villages.add(HOSTILE[4], d1, GEOMETRIES[2], created_by=admin.id)
        tx.villages.add("두 조각 마을", d2, GEOMETRIES[5], created_by=None)
        tx.catchments.replace(hub, [d1, d2], set_by=admin.id)
        cycle = tx.cycles.add(2099, created_by=admin.id, phase="voting", total_krw=3_000_000_000_000, rules_json=json.dumps({"x": HOSTILE[1]}))
        tx.cycles.update(cycle.id, quotas_published_at=PRECISE_TIME)
        tx.quotas.set(cycle.id, d1, 123_456_789_012, True, admin.id)
        tx.quotas.set(cycle.id, d2, 0, False, None)
        tx.reviews.put(
            cycle.id, pids[1], feasible=True, official_cost_krw=50_000_000, field_verified_on=date(2026, 5, 31),
            field_note=HOSTILE[2], passed=True, reviewed_by=planner.id,
        )
        tx.reviews.put(cycle.id, pids[3], feasible=False, field_note="", reviewed_by=None)
        tx.assemblies.add(cycle.id, d1, date(2026, 6, 1), 321, admin.id, endorsed_proposal_ids=[pids[1], pids[3]])
        tx.votes.replace_ballot(cycle.id, resident.id, [pids[1], pids[3]])
        tx.results.replace(
            cycle.id,
            [
                {"proposal_id": pids[1], "district_code": d1, "selected": True, "rank": 1, "votes": 2, "cost_krw": 50_000_000,
                 "code": "selected", "reason_ko": HOSTILE[2], "reason_en": HOSTILE[1]},
                {"proposal_id": pids[3], "district_code": d1, "selected": False, "rank": 2, "votes": 1, "cost_krw": 1,
                 "code": "over_quota", "reason_ko": "예산 초과", "reason_en": ""},
            ],
        )
        tx.audit.record(admin.id, "backup.test", f"cycle:{cycle.id}", {"텍스트": HOSTILE[3]})
        meeting = tx.meetings.add(hub, "hub_meeting", PRECISE_TIME, place=HOSTILE[1], title=HOSTILE[4], created_by=admin.id, notes=HOSTILE[2])
        items = tx.meetings.replace_agenda(
            meeting.id,
            [{"proposal_id": pids[1]}, {"cluster_proposal_ids": [pids[3], pids[4]], "cluster_label": 2, "cluster_title": HOSTILE[5]}],
        )
        tx.meetings.add_minutes(items[0].id, "merged", note=HOSTILE[3], votes_for=5, votes_abstain=1, merge_into_id=pids[3], recorded_by=admin.id)


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every backed-up table, by primary key; geometries as WKB (exact coordinates)."""
    out = {}
    with store.engine.connect() as conn:
        for table in backup_tables():
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [
                tuple(("wkb", shapely.to_wkb(v, byte_order=1)) if isinstance(v, BaseGeometry) else v for v in row) for row in rows
            ]
    return out


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in backup_tables()}


#: The tables seed_rich puts rows in: every table up to migration 0006 but data_versions.
SEEDED_TABLES = (
    "agenda_items", "allocation_results", "assemblies", "assembly_endorsements", "audit_log", "budget_cycles", "centres",
    "comments", "districts", "flags", "hub_catchments", "meetings", "minutes", "notifications", "proposals", "quotas",
    "residents", "reviews", "status_changes", "supports", "villages", "votes",
)

DIRECTIONS = [
    pytest.param("sqlite", "postgis", marks=pytest.mark.postgis, id="sqlite-to-postgis"),
    pytest.param("postgis", "sqlite", marks=pytest.mark.postgis, id="postgis-to-sqlite"),
]


@pytest.mark.parametrize(("source_kind", "target_kind"), DIRECTIONS)
def test_round_trip_to_the_other_engine_is_lossless(source_kind, target_kind, tmp_path, request):
    source = Store.open(_url(source_kind, tmp_path, "source", request))
    target = Store.open(_url(target_kind, tmp_path, "target", request))
    try:
        seed_rich(source)
        manifest = export_store(source, tmp_path / "backup")
        before = snapshot(source)
        # every table seed_rich fills has rows, so the comparison below compares something
        # (tables of later migrations are compared too, empty or not)
        assert all(before[name] for name in SEEDED_TABLES), {n: len(r) for n, r in before.items()}
        assert {n: e["rows"] for n, e in manifest["tables"].items()} == {n: len(r) for n, r in before.items()}
        assert set(manifest["tables"]) == {t.name for t in backup_tables()}
        assert "data_versions" not in manifest["tables"] and "alembic_version" not in manifest["tables"]

        versions_before = target.data_versions()
        counts = import_store(target, tmp_path / "backup")
        assert counts == {n: len(r) for n, r in before.items()}
        after = snapshot(target)
        for name in before:
            assert after[name] == before[name], name

        # caches of a running app on the target see every table change
        versions_after = target.data_versions()
        for table in backup_tables():
            assert versions_after[table.name] > versions_before.get(table.name, 0), table.name

        # exporting the copy gives the same files
        again = export_store(target, tmp_path / "again")
        for name, entry in manifest["tables"].items():
            assert again["tables"][name] == entry, name
            assert (tmp_path / "again" / entry["file"]).read_bytes() == (tmp_path / "backup" / entry["file"]).read_bytes()
        assert again["schema_revision"] == manifest["schema_revision"]
        for table in backup_tables():
            first = pyogrio.read_dataframe(tmp_path / "backup" / GEOPACKAGE, layer=table.name)
            second = pyogrio.read_dataframe(tmp_path / "again" / GEOPACKAGE, layer=table.name)
            assert list(first.columns) == list(second.columns)
            if "geometry" in first.columns and len(first):
                assert list(shapely.to_wkb(first.geometry.values)) == list(shapely.to_wkb(second.geometry.values))
            plain = [c for c in first.columns if c != "geometry"]
            assert first[plain].equals(second[plain]), table.name

        # new rows after the import get fresh ids (PostgreSQL sequences were moved past the imported ids)
        with target.transaction() as tx:
            author = tx.residents.add("after-import", "새 주민")
            p = tx.proposals.add(**proposal_fields(author.id, Point(_X, _Y)))
            c = tx.comments.add(p.id, author.id, "새 댓글")
            new_ids = {"residents": author.id, "proposals": p.id, "comments": c.id}
        for name, new_id in new_ids.items():
            assert new_id > max(row[0] for row in before[name]), name
    finally:
        source.dispose()
        target.dispose()


def _small_backup(tmp_path: Path) -> Path:
    """A small store on SQLite, exported: districts, centres, a resident, a proposal with a comment."""
    source = Store.open(f"sqlite:///{tmp_path / 'small.sqlite3'}")
    try:
        with source.transaction() as tx:
            tx.districts.upsert(district_rows())
            tx.centres.upsert(centre_rows())
            r = tx.residents.add("minji", "김민지", home_district_code=JUGYO, password_hash="x")
            p = tx.proposals.add(**proposal_fields(r.id, GEOMETRIES[2]))
            tx.comments.add(p.id, r.id, HOSTILE[2])
        export_store(source, tmp_path / "small")
    finally:
        source.dispose()
    return tmp_path / "small"


def _rewrite_manifest(directory: Path, change) -> None:
    path = directory / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _damaged_copies(backup: Path, tmp_path: Path) -> dict[str, Path]:
    """Copies of ``backup`` damaged in each way import must refuse, by the refusal code expected."""
    copies = {}

    def copy(name: str) -> Path:
        target = tmp_path / f"damaged-{name}"
        shutil.copytree(backup, target)
        return target

    missing = copy("missing")
    (missing / MANIFEST).unlink()
    copies["manifest_missing"] = missing
    broken = copy("broken")
    (broken / MANIFEST).write_text('{"format": "goyang-store-backup", "format_version": 1, "tables": ', encoding="utf-8")
    copies["manifest_corrupt"] = broken
    tampered = copy("tampered")
    text = (tampered / "proposals.csv").read_text(encoding="utf-8")
    (tampered / "proposals.csv").write_text(text.replace("놀이터", "놀이텨"), encoding="utf-8")
    copies["checksum_mismatch"] = tampered
    gpkg = copy("gpkg")
    with sqlite3.connect(gpkg / GEOPACKAGE) as conn:
        conn.execute("UPDATE residents SET display_name = 'x'")
    copies["checksum_mismatch_gpkg"] = gpkg
    revision = copy("revision")
    _rewrite_manifest(revision, lambda m: m.update(schema_revision="0001"))
    copies["schema_mismatch"] = revision
    return copies


def test_refusals_leave_the_target_unchanged(store, tmp_path):
    backup = _small_backup(tmp_path)
    versions = store.data_versions()
    for expected, damaged in _damaged_copies(backup, tmp_path).items():
        with pytest.raises(BackupRefused) as refused:
            import_store(store, damaged)
        assert refused.value.code == expected.removesuffix("_gpkg"), expected
        assert refused.value.ko != refused.value.en and refused.value.ko and refused.value.en
        assert all(n == 0 for n in _counts(store).values()), expected
        assert store.data_versions() == versions, expected

    # a target with data: refused, and the data stays as it was
    with store.transaction() as tx:
        tx.districts.upsert(district_rows())
    before, versions = snapshot(store), store.data_versions()
    with pytest.raises(BackupRefused) as refused:
        import_store(store, backup)
    assert refused.value.code == "target_not_empty"
    assert "districts 2" in refused.value.en
    assert snapshot(store) == before
    assert store.data_versions() == versions


def test_a_row_the_database_refuses_rolls_back_every_row(store, tmp_path):
    """All or nothing: a comment pointing at a missing proposal fails after the parents went in; nothing stays."""
    backup = _small_backup(tmp_path)
    comments = backup / "comments.csv"
    header, row = comments.read_text(encoding="utf-8").splitlines()
    fields = next(csv.reader([row]))
    fields[header.split(",").index("proposal_id")] = "999"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header.split(","), fields])
    comments.write_text(out.getvalue(), encoding="utf-8")
    digest = hashlib.sha256(comments.read_bytes()).hexdigest()
    _rewrite_manifest(backup, lambda m: m["tables"]["comments"].update(sha256=digest))
    versions = store.data_versions()

    with pytest.raises(BackupRefused) as refused:
        import_store(store, backup)
    assert refused.value.code == "import_failed"
    assert all(n == 0 for n in _counts(store).values())
    assert store.data_versions() == versions


def test_geopackage_opens_with_pyogrio_in_wgs84(tmp_path):
    backup = _small_backup(tmp_path)
    path = backup / GEOPACKAGE
    layers = {str(name): geometry_type for name, geometry_type in pyogrio.list_layers(path)}
    assert set(layers) == {t.name for t in backup_tables()}
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    with sqlite3.connect(path) as conn:
        contents = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
    for table in backup_tables():
        spatial = any(c.name == "geometry" for c in table.columns)
        assert contents[table.name] == ("features" if spatial else "attributes"), table.name
        info = pyogrio.read_info(path, layer=table.name)
        assert info["features"] == manifest["tables"][table.name]["rows"], table.name
        if spatial:
            assert info["crs"] == "EPSG:4326", table.name
    proposals = pyogrio.read_dataframe(path, layer="proposals")
    assert shapely.to_wkb(proposals.geometry.iloc[0]) == shapely.to_wkb(GEOMETRIES[2])
    comments = pyogrio.read_dataframe(path, layer="comments")
    assert comments["body"].iloc[0] == HOSTILE[2]
    assert datetime.fromisoformat(comments["created_at"].iloc[0]).tzinfo is not None
    for name in EXCLUDED_TABLES:
        assert name not in layers


def test_cli_exports_imports_and_refuses_with_status_2(tmp_path, capsys):
    source_url = f"sqlite:///{tmp_path / 'cli-source.sqlite3'}"
    source = Store.open(source_url)
    with source.transaction() as tx:
        tx.districts.upsert(district_rows())
    source.dispose()
    assert main(["export", str(tmp_path / "cli"), source_url]) == 0
    assert main(["export", str(tmp_path / "cli"), source_url]) == 2  # never overwrites a backup
    assert "덮어쓰지" in capsys.readouterr().err

    assert main(["import", str(tmp_path / "cli"), source_url]) == 2  # the source is not empty
    err = capsys.readouterr().err
    assert "이미 데이터가 있습니다" in err and "already holds data" in err

    target_url = f"sqlite:///{tmp_path / 'cli-target.sqlite3'}"
    assert main(["import", str(tmp_path / "no-backup-here"), target_url]) == 2
    assert "manifest.json" in capsys.readouterr().err
    assert not (tmp_path / "cli-target.sqlite3").exists()  # refused before any database was created
    assert main(["import", str(tmp_path / "cli"), target_url]) == 0
    target = Store.open(target_url)
    try:
        with target.transaction() as tx:
            assert tx.districts.count() == 2
    finally:
        target.dispose()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=4))
def test_text_fields_survive_the_csv_encoding(values):
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerow([encode_value(v, str) for v in values])
    line = out.getvalue()
    assert line.count("\n") == 1 and len(line.splitlines()) == 1  # one physical line per row: line breaks are escaped
    (fields,) = list(csv.reader(io.StringIO(line, newline="")))
    assert [decode_value(f, str) for f in fields] == values


def test_null_empty_and_backslash_n_are_told_apart():
    assert [encode_value(v, str) for v in (None, "", "\\N")] == [NULL, "", "\\\\N"]
    assert encode_value("a\u2028b\x85", str) == "a\\u2028b\\x85"
    assert encode_value(PRECISE_TIME, datetime) == "2026-03-04T05:06:07.890123+00:00"
    assert decode_value("2026-03-04T14:06:07.890123+09:00", datetime) == PRECISE_TIME
    with pytest.raises(ValueError):
        decode_value("2026-03-04T05:06:07", datetime)  # a naive time is not a UTC time
    assert decode_value(encode_value(0.1 + 0.2, float), float) == 0.1 + 0.2
    assert decode_value(encode_value(9_007_199_254_740_993, int), int) == 9_007_199_254_740_993
