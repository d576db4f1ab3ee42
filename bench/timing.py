"""Timing helper: best of a few runs, within a time budget."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Timed(Generic[T]):
    """The fastest run's wall time in seconds, every run's time, and the last run's result."""

    best_s: float
    runs_s: tuple[float, ...]
    result: T


def best_of(fn: Callable[[], T], repeats: int = 3, budget_s: float = 6.0) -> Timed[T]:
    """Run ``fn`` up to ``repeats`` times (at least once), stopping once the runs took ``budget_s``.

    The minimum is reported: on a shared machine the slower runs measure the
    neighbours as much as the code. A garbage collection runs before each
    timed call so that one run does not pay for the previous one's garbage.
    """
    runs: list[float] = []
    result: T
    for _ in range(max(1, repeats)):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
        if sum(runs) >= budget_s:
            break
    return Timed(best_s=min(runs), runs_s=tuple(runs), result=result)
