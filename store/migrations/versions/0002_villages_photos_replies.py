"""Villages, proposal photo links and one level of comment replies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-12

Hand-written for both engines. ``villages`` gets a GiST index on PostgreSQL
only, like the other geometry tables. The two new columns are nullable, so
existing rows need no value. On SQLite, ``comments`` is rebuilt by batch mode
(adding a foreign key needs a table copy there); nothing references
``comments`` but itself, so the copy is safe with foreign keys enforced.
``proposals`` is never copied: other tables refer to it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import ShapelyGeometry, UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """Create ``villages``; add ``proposals.photo_url`` and ``comments.parent_id``."""
    op.create_table(
        "villages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=False, comment="the district holding most of it"),
        sa.Column("geometry", ShapelyGeometry(kinds=("Polygon", "MultiPolygon")), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["residents.id"], name=op.f("fk_villages_created_by_residents")),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_villages_district_code_districts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villages")),
    )
    op.create_index(op.f("ix_villages_district_code"), "villages", ["district_code"], unique=False)
    if _is_postgresql():
        # Named like GeoAlchemy2's own spatial indexes, which its reflection expects.
        op.create_index("idx_villages_geometry", "villages", ["geometry"], unique=False, postgresql_using="gist")

    # Plain ALTER TABLE ADD COLUMN on both engines: never a table copy, which
    # SQLite could not do for ``proposals`` (other tables refer to it).
    op.add_column("proposals", sa.Column("photo_url", sa.Text(), nullable=True, comment="http(s) link to a photo, checked by planning"))

    with op.batch_alter_table("comments") as batch_op:
        batch_op.add_column(
            sa.Column(
                "parent_id",
                sa.Integer(),
                nullable=True,
                comment="the top-level comment this replies to; NULL for a top-level comment",
            )
        )
        batch_op.create_foreign_key(op.f("fk_comments_parent_id_comments"), "comments", ["parent_id"], ["id"])
        batch_op.create_index(op.f("ix_comments_parent_id"), ["parent_id"], unique=False)


def downgrade() -> None:
    """Drop what :func:`upgrade` added (replies become top-level comments; photo links and villages are lost)."""
    with op.batch_alter_table("comments") as batch_op:
        batch_op.drop_index(op.f("ix_comments_parent_id"))
        batch_op.drop_constraint(op.f("fk_comments_parent_id_comments"), type_="foreignkey")
        batch_op.drop_column("parent_id")
    # Not batch mode, as in upgrade(): ALTER TABLE DROP COLUMN (SQLite 3.35+)
    # works since the column is in no index or constraint.
    op.drop_column("proposals", "photo_url")
    op.drop_table("villages")
