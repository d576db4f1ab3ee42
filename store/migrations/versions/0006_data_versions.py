"""Data versions: a counter per table that every writing transaction raises.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Hand-written for both engines. One new table, ``data_versions`` (``name``:
the table; ``version``: how many committed transactions wrote to it), seeded
with a row per table at version 0. Several app instances behind a load
balancer share one database: their caches key on these counters, so a
proposal submitted through one instance shows at once on the others.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "agenda_items",
    "allocation_results",
    "assemblies",
    "assembly_endorsements",
    "audit_log",
    "budget_cycles",
    "centres",
    "comments",
    "districts",
    "flags",
    "hub_catchments",
    "meetings",
    "minutes",
    "notifications",
    "proposals",
    "quotas",
    "residents",
    "reviews",
    "status_changes",
    "supports",
    "villages",
    "votes",
)


def upgrade() -> None:
    """Create ``data_versions`` and seed a row per table."""
    table = op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=64), nullable=False, comment="table name"),
        sa.Column(
            "version",
            sa.BigInteger(),
            nullable=False,
            comment="raised by one for every committed transaction that wrote the table",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    op.bulk_insert(table, [{"name": name, "version": 0} for name in TABLES])


def downgrade() -> None:
    """Drop ``data_versions`` (caches then key on nothing new: they fall back to their time limits)."""
    op.drop_table("data_versions")
