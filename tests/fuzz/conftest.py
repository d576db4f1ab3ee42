"""Fuzz runs over every input entry point (issue 8 "Bad input").

Hypothesis drives each entry point with hostile input; every input must end
in a bilingual :class:`geo.errors.Refusal` or an accepted, repaired value.

``FUZZ_EXAMPLES`` (default 100) scales the number of examples of every fuzz
test; runs are derandomised (same inputs every run, no example database), so
CI is reproducible. The inputs tried per entry point are counted and written
to ``test-artifacts/fuzz_counts.json`` when the session ends.
"""
from __future__ import annotations

import json

import pytest
from fuzzkit import COUNTS, COUNTS_FILE, OUTCOMES, fuzz_examples


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not COUNTS:
        return
    COUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "fuzz_examples": fuzz_examples(),
        "total": sum(COUNTS.values()),
        "entry_points": dict(sorted(COUNTS.items())),
        "outcomes": {k: dict(sorted(v.items())) for k, v in sorted(OUTCOMES.items())},
    }
    COUNTS_FILE.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
