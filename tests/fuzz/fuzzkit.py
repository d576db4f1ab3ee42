"""Shared helpers of the fuzz tests: settings, the bilingual check, the input counter."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings

from geo.errors import Refusal

ROOT = Path(__file__).resolve().parents[2]
COUNTS_FILE = ROOT / "test-artifacts" / "fuzz_counts.json"
DEFAULT_EXAMPLES = 100

#: Inputs tried per entry point in this session.
COUNTS: Counter[str] = Counter()
#: How the inputs ended, per entry point: "accepted" (stored or returned, checked) or "refused" (bilingual refusal).
OUTCOMES: dict[str, Counter[str]] = {}


def fuzz_examples(scale: float = 1.0) -> int:
    """Examples for one fuzz test: ``FUZZ_EXAMPLES`` (default 100) times ``scale``, at least 1."""
    base = int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
    return max(1, round(base * scale))


def fuzz_settings(scale: float = 1.0) -> settings:
    """Reproducible hypothesis settings for a fuzz test."""
    return settings(
        max_examples=fuzz_examples(scale),
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


def assert_bilingual(err: Refusal) -> None:
    """A refusal a user can act on: a code, a Korean and an English message."""
    assert isinstance(err, Refusal), repr(err)
    assert err.code and isinstance(err.code, str)
    assert isinstance(err.ko, str) and err.ko.strip(), repr(err)
    assert isinstance(err.en, str) and err.en.strip(), repr(err)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in err.ko), f"no Korean in {err.ko!r}"
    assert any("a" <= ch.lower() <= "z" for ch in err.en), f"no English in {err.en!r}"


def count(entry_point: str, n: int = 1) -> None:
    """Add ``n`` inputs tried on ``entry_point`` to the session's totals."""
    COUNTS[entry_point] += n




def outcome(entry_point: str, accepted: bool) -> None:
    """Record how one input on ``entry_point`` ended."""
    OUTCOMES.setdefault(entry_point, Counter())["accepted" if accepted else "refused"] += 1
