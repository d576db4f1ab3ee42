"""Initial schema: districts, centres, residents, proposals, comments, supports, status history.

Revision ID: 0001
Revises:
Create Date: 2025-11-25

Written from autogenerate output (SQLite and PostGIS) and reviewed. On
PostgreSQL the PostGIS extension is created first and the geometry columns
get GiST indexes; on SQLite geometries are WKB BLOBs and the bbox columns of
``proposals`` serve viewport queries.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import ShapelyGeometry, UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_KINDS = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _gist(table: str) -> None:
    # Named like GeoAlchemy2's own spatial indexes, which its reflection expects.
    if _is_postgresql():
        op.create_index(f"idx_{table}_geometry", table, ["geometry"], unique=False, postgresql_using="gist")


def upgrade() -> None:
    """Create the PostGIS extension (PostgreSQL only) and every table."""
    if _is_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=10), nullable=False, comment="10-digit administrative dong code"),
        sa.Column("gu", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("geometry", ShapelyGeometry(kinds=("Polygon", "MultiPolygon")), nullable=False),
        sa.Column("approximate", sa.Boolean(), nullable=False, comment="True for a Voronoi cell, not an official boundary"),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    _gist("districts")

    op.create_table(
        "centres",
        sa.Column("code", sa.String(length=10), nullable=False, comment="the dong's 10-digit code"),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=False),
        sa.Column("geometry", ShapelyGeometry(kinds=("Point",)), nullable=False),
        sa.Column("is_hub", sa.Boolean(), nullable=False),
        sa.Column("approximate_location", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_centres_district_code_districts")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_centres")),
    )
    _gist("centres")
    op.create_index(op.f("ix_centres_district_code"), "centres", ["district_code"], unique=False)

    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True, comment="NULL for accounts that sign in with OIDC"),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("home_district_code", sa.String(length=10), nullable=True),
        sa.Column("hub_code", sa.String(length=10), nullable=True, comment="the hub a centre_staff member works for"),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('resident', 'planner', 'centre_staff', 'admin')", name=op.f("ck_residents_role")),
        sa.ForeignKeyConstraint(
            ["home_district_code"], ["districts.code"], name=op.f("fk_residents_home_district_code_districts")
        ),
        sa.ForeignKeyConstraint(["hub_code"], ["centres.code"], name=op.f("fk_residents_hub_code_centres")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("username", name=op.f("uq_residents_username")),
    )

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cost_krw", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("geometry", ShapelyGeometry(kinds=ALL_KINDS), nullable=False),
        sa.Column("minx", sa.Float(), nullable=False),
        sa.Column("miny", sa.Float(), nullable=False),
        sa.Column("maxx", sa.Float(), nullable=False),
        sa.Column("maxy", sa.Float(), nullable=False),
        sa.Column("hub_code", sa.String(length=10), nullable=True),
        sa.Column("hub_distance_m", sa.Float(), nullable=True),
        sa.Column("district_code", sa.String(length=10), nullable=True),
        sa.Column("legal_dong_code", sa.String(length=8), nullable=True, comment="8-digit legal dong (법정동) code"),
        sa.Column("legal_dong_name", sa.String(length=40), nullable=True),
        sa.Column("district_shares", sa.Text(), nullable=True, comment='JSON text: {"<district code>": share}'),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.CheckConstraint("kind IN ('area', 'individual')", name=op.f("ck_proposals_kind")),
        sa.CheckConstraint("cost_krw IS NULL OR cost_krw >= 0", name=op.f("ck_proposals_cost_not_negative")),
        sa.ForeignKeyConstraint(["author_id"], ["residents.id"], name=op.f("fk_proposals_author_id_residents")),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_proposals_district_code_districts")),
        sa.ForeignKeyConstraint(["hub_code"], ["centres.code"], name=op.f("fk_proposals_hub_code_centres")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    _gist("proposals")
    for column in ("author_id", "district_code", "hub_code", "is_demo", "maxx", "maxy", "minx", "miny", "status"):
        op.create_index(op.f(f"ix_proposals_{column}"), "proposals", [column], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["residents.id"], name=op.f("fk_comments_author_id_residents")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_comments_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index(op.f("ix_comments_author_id"), "comments", ["author_id"], unique=False)
    op.create_index(op.f("ix_comments_proposal_id"), "comments", ["proposal_id"], unique=False)

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=True, comment="NULL for the first entry"),
        sa.Column("to_status", sa.String(length=30), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["residents.id"], name=op.f("fk_status_changes_changed_by_residents")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_status_changes_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    op.create_index(op.f("ix_status_changes_proposal_id"), "status_changes", ["proposal_id"], unique=False)

    op.create_table(
        "supports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_supports_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_supports_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supports")),
        sa.UniqueConstraint("proposal_id", "resident_id", name=op.f("uq_supports_proposal_id_resident_id")),
    )
    op.create_index(op.f("ix_supports_resident_id"), "supports", ["resident_id"], unique=False)


def downgrade() -> None:
    """Drop every table (the PostGIS extension stays: other schemas may use it)."""
    for table in ("supports", "status_changes", "comments", "proposals", "residents", "centres", "districts"):
        op.drop_table(table)
