"""Benchmark scales: how many proposals each benchmark uses, and how often it repeats."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Sizes and repetitions of one benchmark run.

    Attributes
    ----------
    name : str
        Shown in the table and the JSON (``quick``, ``full``, or a test's own).
    linking_sizes : tuple of int
        Numbers of generated proposals linked by :func:`bench.linking.bench_linking`.
    map_sizes : tuple of int
        Numbers of stored proposals for :func:`bench.map_payload.bench_map_payload`.
    naive_max : int
        The naive map (one marker per proposal) is built only up to this many
        proposals: it costs about 1.5 ms per proposal per rerun.
    repeats : int
        Timed runs per measurement; the best is reported.
    budget_s : float
        Stop repeating a measurement once its runs took this long together.
    db : {"postgis", "sqlite"}
        Database engine of the map benchmark.
    clustering_sizes : tuple of int
        Numbers of generated features clustered by :mod:`bench.clustering`.
    concurrency_users : tuple of int
        Numbers of simulated residents acting at once in :mod:`bench.concurrency`.
    concurrency_actions : int
        Actions (submit, support, vote) each simulated resident performs.
    browser_proposals : int
        Stored proposals for the real-browser latency and memory benchmark
        (:mod:`bench.browser`); 0 skips it.
    browser_sessions : int
        Real browser sessions acting at once against the running app.
    """

    name: str
    linking_sizes: tuple[int, ...]
    map_sizes: tuple[int, ...]
    naive_max: int
    repeats: int = 3
    budget_s: float = 6.0
    db: str = "postgis"
    clustering_sizes: tuple[int, ...] = (10_000, 100_000)
    concurrency_users: tuple[int, ...] = (8, 32)
    concurrency_actions: int = 20
    browser_proposals: int = 100_000
    browser_sessions: int = 3


SCALES: dict[str, Scale] = {
    # The naive 100k map alone takes ~3 minutes (city zoom, one rerun): full scale only.
    "quick": Scale("quick", linking_sizes=(10_000, 100_000), map_sizes=(1_000, 10_000, 100_000), naive_max=10_000),
    "full": Scale("full", linking_sizes=(10_000, 100_000, 1_000_000), map_sizes=(1_000, 10_000, 100_000), naive_max=100_000,
                  repeats=5, budget_s=30.0,
                  concurrency_users=(8, 32, 64), concurrency_actions=40, browser_sessions=5),
}


def get_scale(scale: str | Scale) -> Scale:
    """A :class:`Scale` from its name (``quick``, ``full``) or itself."""
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}") from None
