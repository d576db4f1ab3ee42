"""Workflow and moderation: merged proposals, hidden reasons, flags, notifications.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Hand-written for both engines. ``proposals`` and ``comments`` get nullable
columns only, so existing rows need no value:

* ``proposals.merged_into_id`` (the survivor of a merge, indexed) and, on
  both tables, ``hidden_reason``, ``hidden_by``, ``hidden_at`` (who hid it,
  why and when).

Neither table is copied on SQLite (no batch mode): other tables refer to
both, and with foreign keys enforced a copy-and-rename would have to drop a
referenced table. ``ALTER TABLE ... ADD COLUMN ... REFERENCES`` is plain
SQLite, so the foreign keys are declared inline there; PostgreSQL adds them as
named constraints (the naming convention of :mod:`store.models`). Reflection
compares foreign keys by their columns, so autogenerate finds both in step.

Two new tables: ``flags`` (one open flag per person and item, enforced by
partial unique indexes ``WHERE resolved_at IS NULL``, which both engines
support) and ``notifications``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("resolved_at IS NULL")
_HIDDEN_REASON_COMMENT = "why a moderator hid it; shown to moderators and the author"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _add_reference(table: str, column: str, referred: str, comment: str | None = None) -> None:
    """Add a nullable integer column referring to ``referred.id``, without copying ``table``."""
    name = op.f(f"fk_{table}_{column}_{referred}")
    if _is_postgresql():
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True, comment=comment))
        op.create_foreign_key(name, table, referred, [column], ["id"])
    else:
        op.add_column(
            table,
            sa.Column(column, sa.Integer(), sa.ForeignKey(f"{referred}.id", name=name), nullable=True, comment=comment),
            inline_references=True,
        )


def _drop_reference(table: str, column: str, referred: str) -> None:
    if _is_postgresql():
        op.drop_constraint(op.f(f"fk_{table}_{column}_{referred}"), table, type_="foreignkey")
    # SQLite (3.35+) drops a column with its own inline REFERENCES clause.
    op.drop_column(table, column)


def upgrade() -> None:
    """Add the merge and moderation columns; create ``flags`` and ``notifications``."""
    for table in ("proposals", "comments"):
        op.add_column(table, sa.Column("hidden_reason", sa.Text(), nullable=True, comment=_HIDDEN_REASON_COMMENT))
        _add_reference(table, "hidden_by", "residents")
        op.add_column(table, sa.Column("hidden_at", UTCDateTime(), nullable=True))
    _add_reference("proposals", "merged_into_id", "proposals", comment="the proposal this one was merged into (status merged)")
    op.create_index(op.f("ix_proposals_merged_into_id"), "proposals", ["merged_into_id"], unique=False)

    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False, comment="who reported it"),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True, comment="hidden | dismissed; NULL while open"),
        sa.CheckConstraint("(proposal_id IS NULL) <> (comment_id IS NULL)", name=op.f("ck_flags_one_subject")),
        sa.CheckConstraint("resolution IS NULL OR resolution IN ('hidden', 'dismissed')", name=op.f("ck_flags_resolution")),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], name=op.f("fk_flags_comment_id_comments")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_flags_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_flags_resident_id_residents")),
        sa.ForeignKeyConstraint(["resolved_by"], ["residents.id"], name=op.f("fk_flags_resolved_by_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
    )
    op.create_index(op.f("ix_flags_resident_id"), "flags", ["resident_id"], unique=False)
    op.create_index("ux_flags_open_proposal", "flags", ["proposal_id", "resident_id"], unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_index("ux_flags_open_comment", "flags", ["comment_id", "resident_id"], unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False, comment="who is told"),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.Text(), nullable=False, comment="JSON text: the message's values"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], name=op.f("fk_notifications_comment_id_comments")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_notifications_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_notifications_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_resident_id"), "notifications", ["resident_id"], unique=False)


def downgrade() -> None:
    """Drop what :func:`upgrade` added (flags, notifications, hide reasons and merge links are lost)."""
    op.drop_table("notifications")
    op.drop_table("flags")
    op.drop_index(op.f("ix_proposals_merged_into_id"), table_name="proposals")
    _drop_reference("proposals", "merged_into_id", "proposals")
    for table in ("comments", "proposals"):
        op.drop_column(table, "hidden_at")
        _drop_reference(table, "hidden_by", "residents")
        op.drop_column(table, "hidden_reason")
