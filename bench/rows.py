"""One result row of a benchmark: a measured figure for our code and for its baseline."""
from __future__ import annotations

import math
from typing import Any

#: Every row has exactly these keys (``tests/bench/test_bench_smoke.py`` checks them).
ROW_FIELDS = ("benchmark", "case", "scale", "n", "metric", "unit", "ours", "baseline", "ratio", "check", "runs", "details")


def make_row(
    benchmark: str,
    case: str,
    scale: str,
    n: int,
    metric: str,
    unit: str,
    ours: float | None,
    baseline: float | None,
    *,
    check: bool | None = None,
    runs: int | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A result row; ``ratio`` is ``baseline / ours`` (above 1: ours is smaller or faster).

    Parameters
    ----------
    check : bool or None
        Whether the row's correctness check passed (None: the row has none).
    runs : int or None
        How many timed runs the figures are the best of (None for sizes).
    details : dict
        Anything else worth keeping in the JSON (breakdowns, counts, notes).
    """
    ratio = None
    if ours is not None and baseline is not None and ours > 0 and math.isfinite(ours) and math.isfinite(baseline):
        ratio = baseline / ours
    return {
        "benchmark": benchmark,
        "case": case,
        "scale": scale,
        "n": int(n),
        "metric": metric,
        "unit": unit,
        "ours": ours,
        "baseline": baseline,
        "ratio": ratio,
        "check": check,
        "runs": runs,
        "details": dict(details or {}),
    }
