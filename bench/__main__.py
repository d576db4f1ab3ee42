"""``python -m bench [--scale quick|full] [--only NAME] [--db postgis|sqlite] [--output PATH]``."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import BENCHMARKS, SCALES, get_scale
from bench.machine import machine_info
from bench.report import LATEST, render, write_json


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of the Goyang community map.")
    parser.add_argument("--scale", choices=list(SCALES), default="quick", help="quick (default, a few minutes at most) or full")
    parser.add_argument("--only", choices=list(BENCHMARKS), action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--db", choices=["postgis", "sqlite"], help="database of map_payload (default: postgis)")
    parser.add_argument("--output", type=Path, default=LATEST, help=f"JSON results file (default: {LATEST})")
    args = parser.parse_args(argv)

    # streamlit-folium declares its component on import, and Streamlit warns that no app is running
    import streamlit.runtime.scriptrunner_utils.script_run_context as ctx

    logging.getLogger(ctx.__name__).addFilter(lambda record: "missing ScriptRunContext" not in record.getMessage())
    # a plain `kill` ends the run through SystemExit, so throwaway databases are still dropped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    scale = get_scale(args.scale)
    if args.db:
        scale = dataclasses.replace(scale, db=args.db)
    names = args.only or list(BENCHMARKS)
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    info = machine_info()
    started = time.perf_counter()
    rows = []
    for name in names:
        print(f"running {name} ({scale.name}) ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        rows += BENCHMARKS[name](scale)
        print(f"  {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    databases = {r["details"].get("database") for r in rows if r["details"].get("database")}
    if databases:
        info["database"] = ", ".join(sorted(databases))
    result = {
        "command": command.strip(),
        "scale": scale.name,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_s": time.perf_counter() - started,
        "machine": info,
        "rows": rows,
    }
    print(render(result))
    path = write_json(result, args.output)
    print(f"\nwritten: {path}", file=sys.stderr)
    failed = [r for r in rows if r["check"] is False]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
