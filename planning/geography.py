"""Reference geography in the store: budget districts, centres, and the gazetteer used for linking."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo.boundaries import admin_dongs, approximate_districts, legal_dongs
from geo.crs import STORAGE_CRS
from geo.importer import ImportResult, import_boundaries
from geo.linking import Gazetteer, build_gazetteer
from planning.centres import initial_centres

if TYPE_CHECKING:
    from store import Store

APPROXIMATE_SOURCE = "approximate: Voronoi cells of KOSTAT representative points clipped to the NGII city outline"


def install_reference_data(store: "Store") -> dict[str, int]:
    """Put the budget districts and community centres into an empty store.

    Districts get their approximate cells unless an official polygon is
    already stored; centres are added only when missing, so an admin's hub
    designation survives a re-run. Returns counts of what was added.
    """
    cells = approximate_districts()
    added = {"districts": 0, "centres": 0}
    with store.transaction() as tx:
        existing = {d.code for d in tx.districts.list()}
        rows = [
            {
                "code": r.adm_code,
                "gu": r.gu,
                "name": r.name,
                "voters": int(r.voters),
                "geometry": r.geometry,
                "approximate": True,
                "source": APPROXIMATE_SOURCE,
            }
            for r in cells.itertuples()
            if r.adm_code not in existing
        ]
        if rows:
            tx.districts.upsert(rows)
        added["districts"] = len(rows)
    with store.transaction() as tx:
        have = {c.code for c in tx.centres.list()}
        rows = [
            {
                "code": r.code,
                "name": r.name,
                "district_code": r.district_code,
                "geometry": r.geometry,
                "is_hub": bool(r.is_hub),
                "approximate_location": bool(r.approximate_location),
            }
            for r in initial_centres().itertuples()
            if r.code not in have
        ]
        if rows:
            tx.centres.upsert(rows)
        added["centres"] = len(rows)
    return added


def import_official_boundaries(store: "Store", path: str | Path, assume_epsg: int | None = None) -> ImportResult:
    """Import an official administrative-dong boundary file into the store.

    Matched districts get the official polygon (``approximate=False``); the
    others keep their approximate cell. Nothing is written when the file is
    refused (:class:`geo.errors.BoundaryImportError`).
    """
    with store.transaction() as tx:
        known = {d.code: d for d in tx.districts.list()}
    # the representative points come from the shipped table (the stored districts have polygons)
    points = admin_dongs().set_index("adm_code").geometry
    admin = pd.DataFrame(
        {
            "adm_code": list(known),
            "gu": [d.gu for d in known.values()],
            "dong": [d.name for d in known.values()],
            "lon": [points[c].x for c in known],
            "lat": [points[c].y for c in known],
        }
    )
    result = import_boundaries(path, admin, assume_epsg=assume_epsg)
    source = f"official: {Path(path).name}"
    rows = []
    for r in result.districts.itertuples():
        d = known[r.adm_code]
        rows.append(
            {
                "code": d.code,
                "gu": d.gu,
                "name": d.name,
                "voters": d.voters,
                "geometry": r.geometry,
                "approximate": False,
                "source": source,
            }
        )
    if rows:
        with store.transaction() as tx:
            tx.districts.upsert(rows)
    return result


def districts_frame(store: "Store") -> gpd.GeoDataFrame:
    """The stored budget districts as a GeoDataFrame (EPSG:4326)."""
    with store.transaction() as tx:
        ds = tx.districts.list()
        data = [
            {
                "adm_code": d.code,
                "gu": d.gu,
                "name": d.name,
                "voters": d.voters,
                "approximate": d.approximate,
                "source": d.source,
                "geometry": d.geometry,
            }
            for d in ds
        ]
    return gpd.GeoDataFrame(data, geometry="geometry", crs=STORAGE_CRS)


def centres_frame(store: "Store", hubs_only: bool = False) -> gpd.GeoDataFrame:
    """The stored community centres (EPSG:4326): ``code, name, district_code, is_hub, lon, lat``."""
    with store.transaction() as tx:
        data = [
            {
                "code": c.code,
                "name": c.name,
                "district_code": c.district_code,
                "is_hub": c.is_hub,
                "approximate_location": c.approximate_location,
                "lon": c.geometry.x,
                "lat": c.geometry.y,
                "geometry": c.geometry,
            }
            for c in tx.centres.list(hubs_only=hubs_only)
        ]
    return gpd.GeoDataFrame(data, geometry="geometry", crs=STORAGE_CRS).sort_values("code").reset_index(drop=True)


@dataclass
class _GazetteerCache:
    key: tuple | None = None
    value: Gazetteer | None = None


_cache: dict[str, _GazetteerCache] = {}
#: One rebuild at a time: residents submitting together at a cold start wait for one build instead of each making its own.
_build_lock = threading.Lock()


def gazetteer(store: "Store") -> Gazetteer:
    """The gazetteer for linking, rebuilt only when hubs or district polygons change.

    The key is the hub designation and the districts' sources and update
    times, read from the store (44 + 44 small rows), so an admin's change is
    picked up on the next call in every process.
    """
    with store.transaction() as tx:
        key = (tuple(sorted(c.code for c in tx.centres.list(hubs_only=True))), tx.districts.versions())
    slot = _cache.setdefault(store.url, _GazetteerCache())
    if slot.key == key and slot.value is not None:
        return slot.value
    with _build_lock:
        if slot.key != key or slot.value is None:  # another thread may have built it meanwhile
            hubs = centres_frame(store, hubs_only=True)
            value = build_gazetteer(hubs[["code", "name", "geometry"]], districts_frame(store), legal_dongs())
            slot.value, slot.key = value, key
        return slot.value


def district_choices(store: "Store") -> dict[str, str]:
    """Budget districts for a picker: code → "덕양구 행신1동" (ordered by gu and name)."""
    with store.transaction() as tx:
        ds = sorted(tx.districts.list(), key=lambda d: (d.gu, d.name))
    return {d.code: f"{d.gu} {d.name}" for d in ds}


def set_hub(store: "Store", actor, code: str, is_hub: bool) -> None:
    """Designate a centre as hub or not (admins only); linking follows on the next call of :func:`gazetteer`.

    The actor is re-read from the store in the same transaction (an ``Actor``
    made up by a caller, or an admin demoted meanwhile, is refused); the
    change is written to the audit log (``hub.set``).
    """
    from planning.auth import actor_in, require_role

    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        tx.centres.set_hub(code, is_hub)
        tx.audit.record(me.id, "hub.set", f"centre:{code}", {"is_hub": bool(is_hub)})
