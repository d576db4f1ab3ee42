"""Benchmark 3: DBSCAN clusters of N proposals, embedded against PostGIS, with the labels compared.

Ours: :func:`planning.clusters.cluster_frame`, the embedded path the planners'
review runs (``engine="embedded"``, and on SQLite): the lon/lat geometries
projected to EPSG:5179 and clustered by :func:`geo.clustering.dbscan_labels`,
proposals in id order.

Baseline: :meth:`store.analysis.Analysis.cluster_dbscan`, the database path
(``engine="database"``, the default on PostgreSQL): ``ST_Transform`` into a
temporary table with a GiST index, core flags from ``ST_DWithin``,
``ST_ClusterDBSCAN``, then the same border rule and numbering in SQL. It
runs on a throwaway PostGIS database (:func:`bench.database.throwaway_database`)
holding the same proposals; loading them is not timed (``load_s`` in the
details).

Check: the labels are identical for every proposal (both paths give
canonical labels: border proposals join the cluster of their lowest-id core
neighbour, clusters are numbered by their smallest member id, ``-1`` is
noise). Without PostGIS (``scale.db == "sqlite"``) there is no baseline; the
labels are then checked against :func:`geo.clustering.dbscan_labels_all_pairs`
(every neighbour pair decided, then counted and joined), whose time is in the
details.

Proposals: :func:`bench.generate.proposals_frame` (geometries from
:func:`bench.generate.generate_geometries`: inside Goyang, spread like the
voters, 50 % points, 25 % lines, 25 % polygons), the first N of the largest
size. Cases: ``eps`` 50 m and 100 m (geometry to geometry), ``min_size`` 3.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.database import load_proposals, server_version, throwaway_database
from bench.generate import proposals_frame
from bench.rows import make_row
from bench.scales import Scale, get_scale
from bench.timing import best_of
from geo.clustering import NOISE, dbscan_labels, dbscan_labels_all_pairs
from geo.crs import to_metric
from planning.clusters import ClusterParams, cluster_frame
from store import Store

#: ``(eps_m, min_size)`` of each case: a block and a few blocks.
CASES = ((50.0, 3), (100.0, 3))
CASE_MIX = "50% points, 25% lines, 25% polygons"

#: SQL statements of the database path by their first words, for the step breakdown.
_SQL_STEPS = (
    ("CREATE TEMPORARY", "project_s"),
    ("CREATE INDEX", "index_s"),
    ("ANALYZE", "analyze_s"),
    ("UPDATE", "core_s"),
    ("WITH", "clusters_s"),
)


def _sql_step(statement: str) -> str:
    head = " ".join(statement.split()[:2]).upper()
    for prefix, name in _SQL_STEPS:
        if head.startswith(prefix):
            return name
    return "other_s"


@contextmanager
def statement_times(engine: Engine) -> Iterator[dict[str, float]]:
    """Seconds spent in each step's SQL statements on ``engine`` while the block runs (see ``_SQL_STEPS``)."""
    times: dict[str, float] = {}

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        started = conn.info["bench_started"].pop()
        step = _sql_step(statement)
        times[step] = times.get(step, 0.0) + time.perf_counter() - started

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield times
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def embedded_steps(frame: gpd.GeoDataFrame, eps_m: float, min_size: int) -> dict[str, Any]:
    """One instrumented embedded run: the projection, then each step of :func:`geo.clustering.dbscan_labels`.

    Returns seconds (``project_s``, ``index_s``, ``candidates_s``, ``core_s``,
    ``connect_s``, ``border_s``, ``labels_s``) and counts (candidate, known
    and open pairs, exact tests, core proposals, clusters).
    """
    t0 = time.perf_counter()
    metric = to_metric(np.asarray(frame.sort_values("id").geometry.values, dtype=object))
    steps: dict[str, Any] = {"project_s": time.perf_counter() - t0}
    dbscan_labels(metric, eps_m, min_size, stats=steps)
    return steps


def _database_labels(store: Store, ids: list[int], eps_m: float, min_size: int) -> np.ndarray:
    with store.transaction() as tx:
        by_id = tx.analysis.cluster_dbscan(ids, eps_m, min_size)
    return np.array([by_id[i] for i in ids], dtype=np.int64)


def _summary(labels: np.ndarray) -> dict[str, int]:
    return {"clusters": int(labels.max()) + 1 if len(labels) else 0, "noise": int((labels == NOISE).sum())}


def _rows_for_size(sc: Scale, frame: gpd.GeoDataFrame, store: Store | None, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one size: each case timed embedded and, with ``store``, in PostGIS."""
    n = len(frame)
    ids = sorted(int(i) for i in frame["id"])  # labels compared in id order
    rows = []
    # The reference without PostGIS: the same proposals in metres, in id order.
    metric = to_metric(np.asarray(frame.sort_values("id").geometry.values, dtype=object)) if store is None else None
    for eps, k in CASES:
        params = ClusterParams(eps, k)
        ours = best_of(lambda params=params: cluster_frame(frame, params), sc.repeats, sc.budget_s)
        ours_labels = ours.result.to_numpy(dtype=np.int64)[np.argsort(frame["id"].to_numpy(), kind="stable")]
        details: dict[str, Any] = {**extra, **_summary(ours_labels), "ours_runs_s": ours.runs_s}
        details["ours_steps"] = embedded_steps(frame, eps, k)
        if store is not None:
            with statement_times(store.engine) as sql_times:
                base = best_of(lambda eps=eps, k=k: _database_labels(store, ids, eps, k), sc.repeats, sc.budget_s)
            runs = len(base.runs_s)
            details["baseline_runs_s"] = base.runs_s
            details["baseline_steps"] = {name: s / runs for name, s in sorted(sql_times.items())}  # mean per run
            details["labels_equal"] = int((base.result == ours_labels).sum())
            check = bool(np.array_equal(base.result, ours_labels))
            baseline_s: float | None = base.best_s
        else:
            reference = best_of(lambda eps=eps, k=k: dbscan_labels_all_pairs(metric, eps, k), repeats=1)
            details["note"] = "no PostGIS (db=sqlite): labels checked against geo.clustering.dbscan_labels_all_pairs"
            details["reference_all_pairs_s"] = reference.best_s
            details["labels_equal"] = int((reference.result == ours_labels).sum())
            check = bool(np.array_equal(reference.result, ours_labels))
            baseline_s = None
        rows.append(
            make_row(
                "clustering",
                f"eps {eps:g} m, min size {k} ({CASE_MIX})",
                sc.name,
                n,
                "time_s",
                "s",
                ours.best_s,
                baseline_s,
                check=check,
                runs=len(ours.runs_s),
                details=details,
            )
        )
    return rows


def bench_clustering(scale: str | Scale = "quick") -> list[dict[str, Any]]:
    """Time the embedded clustering against PostGIS for each of the scale's ``clustering_sizes``.

    Parameters
    ----------
    scale : str or Scale
        ``clustering_sizes`` gives the numbers of proposals, ``db`` whether
        PostGIS is the baseline (``"postgis"``) or there is none (``"sqlite"``).

    Returns
    -------
    list of dict
        One ``time_s`` row per size and case (:data:`CASES`): ``ours`` the
        embedded path, ``baseline`` PostGIS (None without it), ``check`` the
        labels are identical. ``details``: the step breakdown of both paths
        (``ours_steps``, ``baseline_steps``), cluster and noise counts, the
        generation and loading times.

    Raises
    ------
    bench.database.DatabaseUnavailable
        When ``db`` is ``"postgis"`` and no PostGIS server can be used.
    """
    sc = get_scale(scale)
    sizes = sorted(sc.clustering_sizes)
    if not sizes:
        return []
    gen = best_of(lambda: proposals_frame(sizes[-1]), repeats=1)
    everything = gen.result
    extra: dict[str, Any] = {"generate_s_for_largest": gen.best_s}
    rows: list[dict[str, Any]] = []
    if sc.db != "postgis":
        for n in sizes:
            rows += _rows_for_size(sc, everything.iloc[:n], None, extra)
        return rows
    with throwaway_database("postgis") as url:
        store = Store.open(url)
        try:
            extra["database"] = server_version(store)
            loaded = 0
            for n in sizes:
                t0 = time.perf_counter()
                load_proposals(store, everything.iloc[loaded:n])  # growing prefixes: ids 1..n
                loaded = n
                rows += _rows_for_size(sc, everything.iloc[:n], store, {**extra, "load_s": time.perf_counter() - t0})
        finally:
            store.dispose()
    return rows
