"""Geometries: shapely in, shapely out, exactly, in lon/lat order, on both engines."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from sqlalchemy import text
from store_samples import JUGYO, ONLY_POSTGIS, ONLY_SQLITE, World, proposal_fields

from store import Store
from store.types import ShapelyGeometry

# Coordinates with all 15-17 significant digits in use: any rounding
# (WKT, float4) or lon/lat swap shows up as a difference.
LON, LAT = 126.83217654321987, 37.658391726354113
SHAPES = {
    "Point": Point(LON, LAT),
    "LineString": LineString([(LON, LAT), (126.84012345678912, 37.66198765432101), (126.8450000000001, 37.6601)]),
    "Polygon": Polygon(
        [(126.83, 37.655), (126.8412345678901, 37.655), (126.8412345678901, 37.6634567890123), (126.83, 37.6634567890123)],
        holes=[[(126.833, 37.657), (126.836, 37.657), (126.836, 37.659), (126.833, 37.657)]],
    ),
    "MultiPolygon": MultiPolygon(
        [
            Polygon([(126.81, 37.64), (126.82, 37.64), (126.82, 37.65), (126.81, 37.64)]),
            Polygon([(126.85, 37.66), (126.8611111111111, 37.66), (126.8611111111111, 37.6722222222222), (126.85, 37.66)]),
        ]
    ),
    "MultiLineString": MultiLineString(
        [[(126.81, 37.64), (126.8123456789, 37.6456789012)], [(126.85, 37.66), (126.86, 37.67), (126.87, 37.665)]]
    ),
    "MultiPoint": MultiPoint([(LON, LAT), (126.8400000000003, 37.6500000000007)]),
}


def assert_identical(got: shapely.Geometry, expected: shapely.Geometry) -> None:
    assert isinstance(got, shapely.Geometry), f"expected a shapely geometry, got {type(got)}"
    assert got.geom_type == expected.geom_type
    np.testing.assert_array_equal(shapely.get_coordinates(got), shapely.get_coordinates(expected))
    assert shapely.equals_exact(got, expected, tolerance=0)
    # Same parts and rings in the same order, bit for bit.
    assert shapely.to_wkb(got, byte_order=1) == shapely.to_wkb(expected, byte_order=1)


@pytest.mark.parametrize("kind", list(SHAPES))
def test_every_geometry_type_round_trips_exactly(world: World, kind: str) -> None:
    shape = SHAPES[kind]
    with world.store.transaction() as tx:
        pid = tx.proposals.add(**proposal_fields(world.resident_id, shape)).id
    with world.store.transaction() as tx:
        got = tx.proposals.get(pid).geometry
    assert_identical(got, shape)
    assert shapely.get_srid(got) == 0  # same objects from both engines
    with world.store.transaction() as tx:
        [found] = [p for p in tx.proposals.list() if p.id == pid]
        assert_identical(found.geometry, shape)
        assert (found.minx, found.miny, found.maxx, found.maxy) == shape.bounds


def test_district_and_centre_geometries_round_trip(world: World) -> None:
    multi = SHAPES["MultiPolygon"]
    with world.store.transaction() as tx:
        tx.districts.upsert([{"code": JUGYO, "geometry": multi}])
    with world.store.transaction() as tx:
        assert_identical(tx.districts.get(JUGYO).geometry, multi)
        assert_identical(tx.centres.get(JUGYO).geometry, Point(126.8321, 37.6581))


def test_stored_coordinates_are_lon_lat(world: World) -> None:
    """What the database holds has x = longitude, checked with the engine's own reading."""
    with world.store.transaction() as tx:
        pid = tx.proposals.add(**proposal_fields(world.resident_id, Point(LON, LAT))).id
    with world.store.engine.connect() as conn:
        if world.store.backend == "postgresql":
            x, y = conn.execute(text("SELECT ST_X(geometry), ST_Y(geometry) FROM proposals WHERE id = :id"), {"id": pid}).one()
            inside = conn.execute(
                text(
                    "SELECT ST_Contains(d.geometry, p.geometry) FROM districts d, proposals p "
                    "WHERE d.code = :code AND p.id = :id"
                ),
                {"code": JUGYO, "id": pid},
            ).scalar_one()
            assert inside is True
        else:
            blob = conn.execute(text("SELECT geometry FROM proposals WHERE id = :id"), {"id": pid}).scalar_one()
            assert isinstance(blob, bytes)
            point = shapely.from_wkb(blob)
            x, y = point.x, point.y
    assert (x, y) == (LON, LAT)


def test_wrong_geometries_are_refused_before_the_database(world: World) -> None:
    square = SHAPES["Polygon"]
    with world.store.transaction() as tx:
        with pytest.raises(ValueError, match="takes Point"):
            tx.centres.upsert([{"code": JUGYO, "geometry": square}])
        with pytest.raises(ValueError, match="2D"):
            tx.proposals.add(**proposal_fields(world.resident_id, Point(LON, LAT, 12.0)))
        with pytest.raises(ValueError, match="not GeometryCollection"):
            tx.proposals.add(**proposal_fields(world.resident_id, shapely.GeometryCollection([Point(LON, LAT)])))
        with pytest.raises(TypeError, match="shapely geometry"):
            tx.districts.upsert([{"code": JUGYO, "geometry": "POLYGON((0 0, 1 0, 1 1, 0 0))"}])
        with pytest.raises(ValueError, match="non-empty"):
            tx.proposals.add(**proposal_fields(world.resident_id, Point()))
        # The refusals left the stored centre alone.
        assert tx.centres.get(JUGYO).geometry.geom_type == "Point"


@ONLY_POSTGIS
def test_postgis_columns_are_geometry_4326_with_gist_indexes(store: Store) -> None:
    assert store.backend == "postgresql"
    with store.engine.connect() as conn:
        columns = {
            row.f_table_name: (row.type, row.srid, row.coord_dimension)
            for row in conn.execute(
                text("SELECT f_table_name, type, srid, coord_dimension FROM geometry_columns WHERE f_geometry_column = 'geometry'")
            )
        }
        indexes = dict(conn.execute(text("SELECT tablename, indexdef FROM pg_indexes WHERE indexname LIKE 'idx_%_geometry'")).all())
    assert columns == {
        "districts": ("GEOMETRY", 4326, 2),
        "centres": ("POINT", 4326, 2),
        "proposals": ("GEOMETRY", 4326, 2),
        "villages": ("GEOMETRY", 4326, 2),
    }
    assert set(indexes) == {"districts", "centres", "proposals", "villages"}
    for table, definition in indexes.items():
        assert "USING gist (geometry)" in definition, (table, definition)


@ONLY_SQLITE
def test_sqlite_stores_plain_wkb_without_spatial_indexes(store: Store) -> None:
    assert store.backend == "sqlite"
    with store.engine.connect() as conn:
        declared = {row[1]: row[2] for row in conn.execute(text("PRAGMA table_info(proposals)"))}
        index_names = {row[1] for row in conn.execute(text("PRAGMA index_list(proposals)"))}
    assert declared["geometry"] == "BLOB"
    assert {"ix_proposals_minx", "ix_proposals_miny", "ix_proposals_maxx", "ix_proposals_maxy"} <= index_names
    assert "idx_proposals_geometry" not in index_names  # a B-tree over WKB would be useless


def test_type_checks_without_a_database() -> None:
    points = ShapelyGeometry(("Point",))
    assert points.postgis_type == "POINT"
    assert ShapelyGeometry().postgis_type == "GEOMETRY"
    assert points.check(Point(1, 2)) == Point(1, 2)
    with pytest.raises(ValueError):
        points.check(LineString([(0, 0), (1, 1)]))
    with pytest.raises(ValueError, match="subset"):
        ShapelyGeometry(("Circle",))
    assert repr(points) == "ShapelyGeometry(kinds=('Point',), srid=4326)"
