"""Column types that behave the same on SQLite and PostGIS.

Callers only ever see Python values: shapely geometries, timezone-aware UTC
datetimes. How each engine stores them is decided here, per dialect.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from shapely.geometry.base import BaseGeometry
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from geo.crs import STORAGE_EPSG

#: Shapely geometry type names a column may accept.
GEOMETRY_KINDS: tuple[str, ...] = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class ShapelyGeometry(TypeDecorator[BaseGeometry]):
    """A geometry column that takes and returns shapely geometries.

    On PostgreSQL the column is a PostGIS ``geometry(<type>, 4326)``
    (GeoAlchemy2 ``Geometry``); on other engines (SQLite) it is a BLOB holding
    WKB. Either way callers pass and get shapely geometries in lon/lat order
    (x = longitude), never WKB or ``WKBElement``.

    Parameters
    ----------
    kinds : sequence of str
        Shapely geometry types the column accepts (see :data:`GEOMETRY_KINDS`).
        With one kind the PostGIS column is constrained to it (``POINT``);
        with several it is ``GEOMETRY``, and the kinds are checked here.
    srid : int
        The SRID of the PostGIS column; the store always uses 4326.

    Notes
    -----
    The GiST index is not created by GeoAlchemy2's automatic hook
    (``spatial_index`` is False): that hook cannot tell dialects apart and
    would also put a useless B-tree index on the SQLite BLOB. The models
    declare the GiST index explicitly, for PostgreSQL only.
    """

    impl = LargeBinary
    cache_ok = True
    # Read through the decorator by GeoAlchemy2's DDL events (see Notes).
    spatial_index = False

    def __init__(self, kinds: Sequence[str] = GEOMETRY_KINDS, srid: int = STORAGE_EPSG) -> None:
        super().__init__()
        unknown = set(kinds) - set(GEOMETRY_KINDS)
        if unknown or not kinds:
            raise ValueError(f"geometry kinds must be a non-empty subset of {GEOMETRY_KINDS}, got {kinds!r}")
        self.kinds = tuple(kinds)
        self.srid = int(srid)

    def __repr__(self) -> str:
        # Alembic renders column types with repr(); TypeDecorator's default
        # would describe the impl (LargeBinary) and lose the kinds.
        return f"{type(self).__name__}(kinds={self.kinds!r}, srid={self.srid})"

    @property
    def postgis_type(self) -> str:
        """The PostGIS type modifier: the single kind upper-cased, else ``GEOMETRY``."""
        return self.kinds[0].upper() if len(self.kinds) == 1 else "GEOMETRY"

    @property
    def python_type(self) -> type:
        return BaseGeometry

    def postgis(self) -> Geometry:
        """The GeoAlchemy2 type of the column on PostgreSQL."""
        return Geometry(self.postgis_type, srid=self.srid, spatial_index=False)

    def load_dialect_impl(self, dialect: Dialect | None) -> TypeEngine[Any]:
        """PostGIS ``Geometry`` on PostgreSQL, a BLOB elsewhere."""
        if dialect is None:
            # GeoAlchemy2's DDL hooks sometimes ask "is this spatial?" with no
            # dialect at hand; the honest answer is the geometry type.
            return self.postgis()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(self.postgis())
        return dialect.type_descriptor(LargeBinary())

    def check(self, value: Any) -> BaseGeometry:
        """Return ``value`` if this column can store it, else raise.

        Raises
        ------
        TypeError
            When ``value`` is not a shapely geometry.
        ValueError
            For a geometry type the column does not take, or one with Z.
        """
        if not isinstance(value, BaseGeometry):
            raise TypeError(f"expected a shapely geometry, got {type(value).__name__}")
        if value.geom_type not in self.kinds:
            raise ValueError(f"this column takes {', '.join(self.kinds)}, not {value.geom_type}")
        if shapely.has_z(value):
            # The PostGIS columns are 2D; refuse here rather than let the
            # engines disagree (PostGIS would reject, SQLite would keep Z).
            raise ValueError("the store keeps 2D lon/lat geometries only; drop Z first")
        return value

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Shapely geometry to hex EWKB (PostGIS) or WKB bytes (SQLite)."""
        if value is None:
            return None
        self.check(value)
        if dialect.name == "postgresql":
            # Hex EWKB keeps every double exactly (WKT would round) and carries
            # the SRID that the typmod requires; ST_GeomFromEWKT accepts it.
            with_srid = shapely.set_srid(value, self.srid)
            return shapely.to_wkb(with_srid, hex=True, include_srid=True, byte_order=1)
        return shapely.to_wkb(value, byte_order=1)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        """WKB / EWKB (``WKBElement`` on PostGIS) back to a shapely geometry."""
        if value is None:
            return None
        if isinstance(value, WKBElement):
            value = value.data
        if isinstance(value, memoryview):
            value = value.tobytes()
        geometry = shapely.from_wkb(value)
        # EWKB from PostGIS carries SRID 4326, SQLite's WKB none; drop it so
        # both engines hand back identical objects (the CRS is the store's
        # convention, EPSG:4326, not a per-object property).
        return shapely.set_srid(geometry, 0)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out timezone-aware in UTC.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so UTC is
    stored without an offset and the offset put back on reading. Naive
    datetimes are refused: their meaning depends on the machine.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def python_type(self) -> type:
        return datetime

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC on SQLite)."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
