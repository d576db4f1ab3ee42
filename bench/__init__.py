"""Benchmarks: our linking and our residents' map against what a plain first implementation would do.

Run ``python -m bench [--scale quick|full] [--only NAME] [--db postgis|sqlite]``;
it prints a table and writes ``bench/results/latest.json``.

Each benchmark is a function taking a scale (a name or a
:class:`bench.scales.Scale`) and returning rows (:func:`bench.rows.make_row`):

* ``linking`` (:func:`bench.linking.bench_linking`): N generated proposals
  linked to hub, budget district and legal dong, ours against geopandas joins;
* ``map_payload`` (:func:`bench.map_payload.bench_map_payload`): bytes and
  server time per rerun of the residents' map, ours against a naive
  marker-per-proposal map;
* ``clustering`` (:func:`bench.clustering.bench_clustering`): DBSCAN of N
  generated features, embedded against PostGIS ``ST_ClusterDBSCAN``, labels equal;
* ``concurrency`` (:func:`bench.concurrency.bench_concurrency`): N simulated
  residents submitting, supporting and voting at once through the service
  layer, against the same work done by one; no lost write, no quota exceeded;
* ``browser`` (:func:`bench.browser.bench_browser`): the running app in
  Chromium with 100,000 proposals in PostGIS: navigation to map drawn, pan to
  update, concurrent sessions, peak memory of the app process.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.scales import SCALES, Scale, get_scale

__all__ = ["BENCHMARKS", "SCALES", "Scale", "get_scale"]


def _linking(scale: str | Scale) -> list[dict[str, Any]]:
    from bench.linking import bench_linking

    return bench_linking(scale)


def _map_payload(scale: str | Scale) -> list[dict[str, Any]]:
    from bench.map_payload import bench_map_payload

    return bench_map_payload(scale)


def _clustering(scale: str | Scale) -> list[dict[str, Any]]:
    from bench.clustering import bench_clustering

    return bench_clustering(scale)


def _concurrency(scale: str | Scale) -> list[dict[str, Any]]:
    from bench.concurrency import bench_concurrency

    return bench_concurrency(scale)


def _browser(scale: str | Scale) -> list[dict[str, Any]]:
    from bench.browser import bench_browser

    return bench_browser(scale)


#: name -> function(scale) -> rows, in the order they run.
BENCHMARKS: dict[str, Callable[[str | Scale], list[dict[str, Any]]]] = {
    "linking": _linking,
    "clustering": _clustering,
    "map_payload": _map_payload,
    "concurrency": _concurrency,
    "browser": _browser,
}
