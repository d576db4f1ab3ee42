"""``python -m planning <command>``: the operators' command line.

Commands print bilingual messages; exit status 0 on success, 1 on a bad
command or a refused input, and for ``link`` 2 when some features were refused;
``clusters`` and ``heatmap`` exit 2 on a bad file or parameter, ``meeting-packet`` on an unknown hub
or meeting.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

import numpy as np

from geo.errors import GeometryRefused, Refusal
from geo.linking import link_geometries
from geo.validation import validate_drawn_geometry
from planning.clusters import add_clusters_parser
from planning.heatmap import add_heatmap_parser
from planning.packet import add_packet_parser

LINK_COLUMNS = [
    "id",
    "hub_code",
    "hub_name",
    "hub_distance_m",
    "district_code",
    "district_name",
    "district_shares",
    "legal_dong_code",
    "legal_dong_name",
    "error",
]


class CommandError(Exception):
    """A bad command: wrong file, wrong arguments (exit status 1)."""


def _open_store(url: str | None):
    from store import Store

    return Store.open(url)


def _ensure_reference_layers(store, refresh: bool = False) -> None:
    """Register the platform's own raster layers (once, or again after the districts changed)."""
    from layers.rasters import RasterRegistry
    from planning.reference_layers import VOTER_DENSITY_KEY, register_voter_density
    from settings import raster_dir

    registry = RasterRegistry(raster_dir())
    if refresh or VOTER_DENSITY_KEY not in {layer.key for layer in registry.list()}:
        register_voter_density(store, registry)


def cmd_init_db(args: argparse.Namespace, out: TextIO) -> int:
    from planning.geography import install_reference_data

    store = _open_store(args.database_url)
    added = install_reference_data(store)
    _ensure_reference_layers(store)
    print(f"데이터베이스 준비 완료 / database ready: {store.url_display} "
          f"(districts +{added['districts']}, centres +{added['centres']})", file=out)
    return 0


def cmd_seed_demo(args: argparse.Namespace, out: TextIO) -> int:
    from planning.demo import DEMO_PASSWORD, seed_demo

    store = _open_store(args.database_url)
    s = seed_demo(store, n_proposals=args.proposals, reset=args.reset)
    _ensure_reference_layers(store)
    if not args.no_budget:
        from planning.demo import seed_demo_budget

        seed_demo_budget(store)
    if s.skipped:
        print("데모 데이터가 이미 있습니다 (--reset으로 다시 만들 수 있습니다) / demo data already present (use --reset to regenerate)", file=out)
    else:
        print(
            f"데모 데이터 생성 / demo data created: {s.residents} residents, {s.proposals} proposals, "
            f"{s.comments} comments, {s.supports} supports. Demo password: {DEMO_PASSWORD}",
            file=out,
        )
    return 0


def cmd_import_boundaries(args: argparse.Namespace, out: TextIO) -> int:
    from planning.geography import import_official_boundaries, install_reference_data

    store = _open_store(args.database_url)
    install_reference_data(store)
    result = import_official_boundaries(store, args.file, assume_epsg=args.assume_epsg)
    print(result.summary(args.lang), file=out)
    if len(result.districts):
        _ensure_reference_layers(store, refresh=True)
    return 0


def cmd_centres(args: argparse.Namespace, out: TextIO) -> int:
    from planning.geography import centres_frame, install_reference_data

    store = _open_store(args.database_url)
    install_reference_data(store)
    frame = centres_frame(store, hubs_only=args.hubs_only)
    cols = ["code", "name", "lon", "lat", "is_hub", "district_code", "approximate_location"]
    if args.format == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(cols)
        for r in frame[cols].itertuples(index=False):
            w.writerow([r.code, r.name, f"{r.lon:.6f}", f"{r.lat:.6f}", str(bool(r.is_hub)).lower(), r.district_code, str(bool(r.approximate_location)).lower()])
    else:
        for r in frame.itertuples():
            mark = "★ 거점/hub" if r.is_hub else ""
            print(f"{r.code}  {r.name:<16} {r.lon:.6f} {r.lat:.6f} {mark}", file=out)
    return 0


def cmd_set_hub(args: argparse.Namespace, out: TextIO) -> int:
    store = _open_store(args.database_url)
    from planning.geography import install_reference_data

    install_reference_data(store)
    with store.transaction() as tx:
        tx.centres.set_hub(args.code, args.on)
    print(f"{args.code}: is_hub={str(args.on).lower()}", file=out)
    return 0


def read_feature_collection(path: str) -> list[dict]:
    """The features of a GeoJSON FeatureCollection file, or a CommandError saying what is wrong."""
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"파일이 없습니다 / file not found: {path}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CommandError(f"GeoJSON을 읽을 수 없습니다 / cannot read GeoJSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise CommandError("GeoJSON FeatureCollection이 아닙니다 / not a GeoJSON FeatureCollection")
    return doc["features"]


def link_features(features: list[Any], gazetteer: Any, lang: str = "ko") -> list[dict]:
    """Validate and link each feature; refused ones get an ``error`` and empty link columns."""
    rows: list[dict] = []
    valid_geoms, valid_rows = [], []
    for i, f in enumerate(features):
        fid = None
        if isinstance(f, dict):
            props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
            fid = props.get("id", f.get("id"))
        row = {c: "" for c in LINK_COLUMNS}
        row["id"] = "" if fid is None else str(fid)
        rows.append(row)
        try:
            if fid is None:
                raise GeometryRefused(
                    "missing_id",
                    f"{i + 1}번째 피처에 id 속성이 없습니다. properties.id를 넣어 주세요.",
                    f"Feature {i + 1} has no id property. Please add properties.id.",
                )
            geom = validate_drawn_geometry(f).geometry
        except Refusal as e:
            row["error"] = f"{e.code}: {e.message(lang)}"
            continue
        valid_geoms.append(geom)
        valid_rows.append(row)
    if valid_geoms:
        links = link_geometries(np.array(valid_geoms, dtype=object), gazetteer)
        for row, link in zip(valid_rows, links.to_dict("records")):
            row.update({k: link[k] for k in LINK_COLUMNS if k in link})
            row["hub_distance_m"] = round(float(link["hub_distance_m"]), 2)
            row["district_shares"] = json.dumps(link["district_shares"], ensure_ascii=False)
    return rows


def cmd_link(args: argparse.Namespace, out: TextIO) -> int:
    from planning.geography import gazetteer, install_reference_data

    features = read_feature_collection(args.file)
    store = _open_store(args.database_url)
    install_reference_data(store)
    rows = link_features(features, gazetteer(store), lang=args.lang)
    if args.format == "geojson":
        feats = []
        for f, row in zip(features, rows):
            geometry = f.get("geometry") if isinstance(f, dict) and not row["error"] else None
            feats.append({"type": "Feature", "geometry": geometry, "properties": row})
        json.dump({"type": "FeatureCollection", "features": feats}, out, ensure_ascii=False)
        out.write("\n")
    else:
        w = csv.DictWriter(out, fieldnames=LINK_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return 2 if any(r["error"] for r in rows) else 0


def cmd_allocate(args: argparse.Namespace, out: TextIO) -> int:
    """Allocate the district quotas to proposals (CONSUL's heading rule plus the optional rules); no database."""
    from planning.allocation import (
        AllocationRules,
        allocate,
        goyang_district_names,
        read_proposals_csv,
        read_quotas_csv,
        read_rules,
        write_decisions_csv,
    )
    from planning.errors import InvalidInput

    try:
        rules = read_rules(args.rules) if args.rules else AllocationRules()
        proposals = read_proposals_csv(args.proposals, rules)
        quotas = read_quotas_csv(args.quotas)
        decisions = allocate(proposals, quotas, rules, district_names=goyang_district_names())
    except InvalidInput as e:  # a bad file: both languages, like the other file errors
        raise CommandError(f"{e.code}: {e}") from None
    if args.out is None:
        write_decisions_csv(decisions, out, lang=args.lang)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            write_decisions_csv(decisions, f, lang=args.lang)
    except OSError as e:
        raise CommandError(f"결과 파일을 쓸 수 없습니다 / cannot write the output file: {args.out} ({e.strerror})") from None
    selected = sum(d.selected for d in decisions)
    print(f"배분 결과 저장 / allocation written: {args.out} ({selected}/{len(decisions)} 선정 / selected)", file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m planning", description="고양시 주민참여 지도 관리 명령 / Goyang community planning map: operator commands")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: DATABASE_URL, then the SQLite file in var/)")
    p.add_argument("--lang", choices=["ko", "en"], default="ko", help="language of messages (default ko)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create or migrate the database and load districts and centres").set_defaults(fn=cmd_init_db)
    s = sub.add_parser("seed-demo", help="add demo accounts and demo proposals (marked as demo)")
    s.add_argument("--proposals", type=int, default=300)
    s.add_argument("--reset", action="store_true", help="delete earlier demo proposals first")
    s.add_argument("--no-budget", action="store_true", help="do not open a demo budget cycle with published quotas")
    s.set_defaults(fn=cmd_seed_demo)
    s = sub.add_parser("import-boundaries", help="import official administrative-dong boundaries (GeoJSON, GeoPackage, Shapefile)")
    s.add_argument("file")
    s.add_argument("--assume-epsg", type=int, default=None, help="CRS to assume when the file has none (e.g. 5179)")
    s.set_defaults(fn=cmd_import_boundaries)
    s = sub.add_parser("centres", help="list the community centres")
    s.add_argument("--format", choices=["table", "csv"], default="table")
    s.add_argument("--hubs-only", action="store_true")
    s.set_defaults(fn=cmd_centres)
    s = sub.add_parser("set-hub", help="designate a centre as hub (--on) or not (--off)")
    s.add_argument("code")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--on", dest="on", action="store_true")
    g.add_argument("--off", dest="on", action="store_false")
    s.set_defaults(fn=cmd_set_hub)
    s = sub.add_parser("link", help="link the features of a GeoJSON FeatureCollection to hub, district and legal dong")
    s.add_argument("file")
    s.add_argument("--format", choices=["csv", "geojson"], default="csv")
    s.set_defaults(fn=cmd_link)
    s = sub.add_parser("allocate", help="select proposals within each district's quota (participatory budget; no database)")
    s.add_argument("--proposals", required=True, help="CSV: id, district_code, cost, votes [, kind, category, eligible, endorsed, construction]")
    s.add_argument("--quotas", required=True, help="CSV: district_code, quota (KRW)")
    s.add_argument("--rules", default=None, help="optional rules (YAML subset or JSON): endorsed_first, construction_share, pools")
    s.add_argument("--out", default=None, help="write the CSV here instead of standard output")
    s.set_defaults(fn=cmd_allocate)
    add_clusters_parser(sub)
    add_heatmap_parser(sub)
    add_packet_parser(sub)
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; returns the exit status."""
    out = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed the usage
        return 0 if e.code == 0 else 1
    try:
        return args.fn(args, out)
    except CommandError as e:
        print(str(e), file=sys.stderr)
        return 1
    except Refusal as e:
        print(f"{e.code}: {e.message(args.lang)}", file=sys.stderr)
        return 1
