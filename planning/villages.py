"""Villages (마을): neighbourhood polygons that admins draw on the map or import from a file.

A village belongs to the budget district (administrative dong) holding most
of its area, decided by :func:`geo.linking.largest_overlap` in EPSG:5179
metres. Geometries are validated like residents' drawings
(:func:`geo.validation.validate_drawn_geometry`) and must be polygonal.
Only admins add, import or delete villages; anyone may see them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.crs import STORAGE_CRS, to_metric
from geo.errors import GeometryRefused
from geo.importer import read_boundary_file
from geo.linking import largest_overlap
from geo.validation import Repair, validate_drawn_geometry
from planning.auth import Actor, actor_in, require_role
from planning.errors import InvalidInput
from planning.geography import gazetteer
from planning.proposals import clean_text

if TYPE_CHECKING:
    from store import Store

NAME_MAX = 80
_POLYGONAL = ("Polygon", "MultiPolygon")
#: Outcomes of one feature of an imported file.
IMPORT_OUTCOMES = ("added", "no_name", "bad_name", "empty_geometry", "not_polygon", "refused")
#: Columns of :func:`villages_frame`, in order.
VILLAGE_COLUMNS = ("id", "name", "district_code", "district_name", "created_by", "created_at", "is_demo", "geometry")


def _not_polygon(found: str) -> GeometryRefused:
    return GeometryRefused(
        "not_polygon",
        f"마을 경계는 다각형이어야 합니다 (받은 도형: {found}). 마을의 경계를 다각형으로 그려 주세요.",
        f"A village boundary must be a polygon (got: {found}). Please draw the village's outline as a polygon.",
    )


def _validated_polygon(drawn: Any) -> tuple[BaseGeometry, tuple[Repair, ...]]:
    """Validate a drawing (GeoJSON) and insist on a (Multi)Polygon."""
    valid = validate_drawn_geometry(drawn)
    if valid.geometry.geom_type not in _POLYGONAL:
        raise _not_polygon(valid.geometry.geom_type)
    return valid.geometry, valid.repairs


def _districts_of(store: Store, geoms: list[BaseGeometry]) -> tuple[list[str], list[str]]:
    """Code and name of the district holding most of each polygon (ties to the smaller code)."""
    if not geoms:
        return [], []
    layer = gazetteer(store).districts
    primary = largest_overlap(np.asarray(to_metric(np.array(geoms, dtype=object)), dtype=object), layer).primary
    return [str(c) for c in layer.codes[primary]], [str(n) for n in layer.names[primary]]


def _village_name(value: Any) -> str:
    return clean_text(None if value is None else str(value), field_ko="마을 이름", field_en="village name", max_len=NAME_MAX)


def add_village(store: Store, actor: Actor | int | None, name: str, drawn: Any, is_demo: bool = False) -> int:
    """Add a village drawn on the map; returns its id. Admins only.

    Parameters
    ----------
    actor : Actor
        Must be an admin (:class:`~planning.errors.NotAllowed` otherwise).
    name : str
        The village's name (at most :data:`NAME_MAX` characters).
    drawn : GeoJSON Polygon or MultiPolygon (dict, text or Feature), lon/lat
        Validated and repaired like a resident's drawing; other geometry
        types are refused (:class:`geo.errors.GeometryRefused`, ``not_polygon``).
    """
    with store.transaction() as tx:
        require_role(actor_in(tx, actor), "admin")
    name = _village_name(name)
    geometry, _ = _validated_polygon(drawn)
    [district_code], _ = _districts_of(store, [geometry])
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        return tx.villages.add(name=name, district_code=district_code, geometry=geometry, created_by=me.id, is_demo=is_demo).id


@dataclass(frozen=True)
class VillageImportEntry:
    """What happened to one feature of an imported file.

    ``feature`` is the 0-based row in the file (messages count from 1);
    ``outcome`` one of :data:`IMPORT_OUTCOMES`; ``code`` the refusal's code
    for refused features; ``repairs`` what was fixed in an added polygon.
    """

    feature: int
    outcome: str
    ko: str
    en: str
    name: str | None = None
    code: str | None = None
    village_id: int | None = None
    district_code: str | None = None
    repairs: tuple[Repair, ...] = ()

    def message(self, lang: str = "ko") -> str:
        """The entry in ``lang`` (``"ko"`` or ``"en"``)."""
        return self.en if lang == "en" else self.ko


@dataclass
class VillageImport:
    """The outcome of :func:`import_villages`: one entry per feature, in file order."""

    report: list[VillageImportEntry] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def added_ids(self) -> list[int]:
        """Ids of the villages written."""
        return [e.village_id for e in self.report if e.village_id is not None]

    @property
    def refused(self) -> list[VillageImportEntry]:
        """The entries of features that were not imported."""
        return [e for e in self.report if e.outcome != "added"]

    def summary(self, lang: str = "ko") -> str:
        """A headline and one line per feature that was not imported or was repaired."""
        en = lang == "en"
        n, added = len(self.report), len(self.added_ids)
        lines = [f"Imported {added} of {n} villages." if en else f"{n}개 중 {added}개 마을을 가져왔습니다."]
        for e in self.report:
            if e.outcome != "added" or e.repairs:
                where = f"feature {e.feature + 1}" if en else f"{e.feature + 1}번 도형"
                extra = "".join(f" {r.message(lang)}" for r in e.repairs)
                lines.append(f"- {where}: {e.message(lang)}{extra}")
        return "\n".join(lines)


def import_villages(
    store: Store,
    actor: Actor | int | None,
    path: str | Path,
    name_column: str,
    is_demo: bool = False,
    assume_epsg: int | None = None,
) -> VillageImport:
    """Import villages from a GeoJSON, GeoPackage or Shapefile (any CRS); admins only.

    Each feature is checked on its own: it needs a name in ``name_column``
    and a polygon that passes :func:`geo.validation.validate_drawn_geometry`
    (inside Goyang, within the size limits; self-intersections repaired and
    reported). Good features are written together in one transaction; bad
    ones are reported and skipped.

    Raises
    ------
    NotAllowed
        For anyone but an admin.
    geo.errors.BoundaryImportError
        When the file cannot be used at all (missing, unreadable, no
        polygons, unknown CRS, ...). Nothing is written.
    InvalidInput
        ``no_name_column`` when ``name_column`` is not in the file. Nothing is written.
    """
    with store.transaction() as tx:
        require_role(actor_in(tx, actor), "admin")
    gdf = read_boundary_file(path, assume_epsg=assume_epsg)
    if name_column not in gdf.columns or name_column == gdf.geometry.name:
        columns = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name) or "-"
        raise InvalidInput(
            "no_name_column",
            f"파일에 '{name_column}' 열이 없습니다. 마을 이름이 든 열을 골라 주세요 (있는 열: {columns}).",
            f"The file has no column '{name_column}'. Please choose the column holding the village names (columns: {columns}).",
        )
    report: list[VillageImportEntry | None] = [None] * len(gdf)
    accepted: list[tuple[int, str, BaseGeometry, tuple[Repair, ...]]] = []
    for i, (raw_name, geom) in enumerate(zip(gdf[name_column].tolist(), gdf.geometry.tolist())):
        name_text = None if raw_name is None or (isinstance(raw_name, float) and np.isnan(raw_name)) else str(raw_name)
        try:
            name = _village_name(name_text)
        except InvalidInput as err:
            outcome = "no_name" if err.code == "empty_field" else "bad_name"
            report[i] = VillageImportEntry(i, outcome, err.ko, err.en, name=name_text, code=err.code)
            continue
        if geom is None or geom.is_empty:
            report[i] = VillageImportEntry(
                i, "empty_geometry", f"'{name}': 도형이 비어 있습니다.", f"'{name}': the geometry is empty.", name=name, code="empty"
            )
            continue
        try:
            if geom.geom_type not in _POLYGONAL:
                raise _not_polygon(geom.geom_type)
            polygon, repairs = _validated_polygon(mapping(geom))
        except GeometryRefused as err:
            outcome = "not_polygon" if err.code == "not_polygon" else "refused"
            report[i] = VillageImportEntry(i, outcome, f"'{name}': {err.ko}", f"'{name}': {err.en}", name=name, code=err.code)
            continue
        accepted.append((i, name, polygon, repairs))

    codes, district_names = _districts_of(store, [a[2] for a in accepted])
    with store.transaction() as tx:
        me = require_role(actor_in(tx, actor), "admin")
        for (i, name, polygon, repairs), code, district_name in zip(accepted, codes, district_names):
            village = tx.villages.add(name=name, district_code=code, geometry=polygon, created_by=me.id, is_demo=is_demo)
            report[i] = VillageImportEntry(
                i,
                "added",
                f"'{name}' 마을을 추가했습니다 ({district_name}).",
                f"Added the village '{name}' ({district_name}).",
                name=name,
                village_id=village.id,
                district_code=code,
                repairs=repairs,
            )
    source = {k: gdf.attrs.get(k) for k in ("path", "format", "layer", "encoding", "crs")}
    return VillageImport(report=[e for e in report if e is not None], source=source)


def villages_frame(store: Store, district_code: str | None = None) -> gpd.GeoDataFrame:
    """The stored villages (of one district if given) as a GeoDataFrame in EPSG:4326.

    Columns :data:`VILLAGE_COLUMNS`, by name then id.
    """
    with store.transaction() as tx:
        names = tx.districts.names()
        rows = [
            {
                "id": v.id,
                "name": v.name,
                "district_code": v.district_code,
                "district_name": names.get(v.district_code),
                "created_by": v.created_by,
                "created_at": v.created_at,
                "is_demo": bool(v.is_demo),
                "geometry": v.geometry,
            }
            for v in tx.villages.list(district_code=district_code)
        ]
    frame = pd.DataFrame(rows, columns=list(VILLAGE_COLUMNS))
    frame["id"] = frame["id"].astype("int64")
    frame["created_by"] = frame["created_by"].astype("Int64")
    frame["is_demo"] = frame["is_demo"].astype(bool)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS)


def delete_village(store: Store, actor: Actor | int | None, village_id: int) -> None:
    """Delete a village; admins only. ``no_such_village`` (:class:`InvalidInput`) for an unknown id."""
    with store.transaction() as tx:
        require_role(actor_in(tx, actor), "admin")
        if tx.villages.get(village_id) is None:
            raise InvalidInput(
                "no_such_village",
                f"마을 {village_id}번을 찾을 수 없습니다. 목록을 새로 고쳐 주세요.",
                f"Village {village_id} was not found. Please refresh the list.",
            )
        tx.villages.delete(village_id)
