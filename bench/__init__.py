"""Benchmarks: our linking and our residents' map against what a plain first implementation would do.

Run ``python -m bench [--scale quick|full] [--only NAME] [--db postgis|sqlite]``;
it prints a table and writes ``bench/results/latest.json``.

Each benchmark is a function taking a scale (a name or a
:class:`bench.scales.Scale`) and returning rows (:func:`bench.rows.make_row`):

* ``linking`` (:func:`bench.linking.bench_linking`): N generated proposals
  linked to hub, budget district and legal dong, ours against geopandas joins;
* ``map_payload`` (:func:`bench.map_payload.bench_map_payload`): bytes and
  server time per rerun of the residents' map, ours against a naive
  marker-per-proposal map.
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


#: name -> function(scale) -> rows, in the order they run.
BENCHMARKS: dict[str, Callable[[str | Scale], list[dict[str, Any]]]] = {
    "linking": _linking,
    "map_payload": _map_payload,
}
