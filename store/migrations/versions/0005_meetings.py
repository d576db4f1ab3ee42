"""Co-governance meetings: hub catchments, meetings, agenda items, minutes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09

Hand-written for both engines. Only new tables, nothing existing is altered,
so nothing is copied on SQLite (no batch mode) and no geometry column is
added (no GiST index):

* ``hub_catchments``: an admin's explicit catchment of a hub, one row per
  administrative dong (the dong is the primary key, so it can be in at most
  one explicit list).
* ``meetings``: hub, kind (dong group, hub meeting, city assembly), start
  time (UTC), place, title, status (draft, published, held), who created it,
  when it was published and held.
* ``agenda_items``: position in the meeting (unique per meeting), and either
  a proposal or a cluster snapshot (label, title, member ids as JSON text);
  a check keeps exactly one of the two.
* ``minutes``: one per agenda item (unique): decision (adopted, rejected,
  deferred, merged), the proposal merged into, note, votes for, against and
  abstaining, who recorded it and when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``hub_catchments``, ``meetings``, ``agenda_items`` and ``minutes``."""
    op.create_table(
        "hub_catchments",
        sa.Column("district_code", sa.String(length=10), nullable=False),
        sa.Column("hub_code", sa.String(length=10), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_hub_catchments_district_code_districts")),
        sa.ForeignKeyConstraint(["hub_code"], ["centres.code"], name=op.f("fk_hub_catchments_hub_code_centres")),
        sa.ForeignKeyConstraint(["set_by"], ["residents.id"], name=op.f("fk_hub_catchments_set_by_residents")),
        sa.PrimaryKeyConstraint("district_code", name=op.f("pk_hub_catchments")),
    )
    op.create_index(op.f("ix_hub_catchments_hub_code"), "hub_catchments", ["hub_code"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_code", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("held_at", UTCDateTime(), nullable=True, comment="when the last minutes were recorded or the meeting was closed"),
        sa.CheckConstraint("kind IN ('dong_group', 'hub_meeting', 'city_assembly')", name=op.f("ck_meetings_kind")),
        sa.CheckConstraint("status IN ('draft', 'published', 'held')", name=op.f("ck_meetings_status")),
        sa.ForeignKeyConstraint(["created_by"], ["residents.id"], name=op.f("fk_meetings_created_by_residents")),
        sa.ForeignKeyConstraint(["hub_code"], ["centres.code"], name=op.f("fk_meetings_hub_code_centres")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_hub_code"), "meetings", ["hub_code"], unique=False)
    op.create_index(op.f("ix_meetings_starts_at"), "meetings", ["starts_at"], unique=False)

    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, comment="1, 2, 3, ... in the meeting's order"),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("cluster_label", sa.Integer(), nullable=True),
        sa.Column("cluster_title", sa.String(length=200), nullable=True),
        sa.Column("cluster_proposal_ids", sa.Text(), nullable=True, comment="JSON text: [proposal id, ...] of a cluster item"),
        sa.CheckConstraint("(proposal_id IS NULL) <> (cluster_proposal_ids IS NULL)", name=op.f("ck_agenda_items_one_subject")),
        sa.CheckConstraint("position >= 1", name=op.f("ck_agenda_items_position_positive")),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_agenda_items_meeting_id_meetings")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_agenda_items_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
        sa.UniqueConstraint("meeting_id", "position", name=op.f("uq_agenda_items_meeting_id_position")),
    )
    op.create_index(op.f("ix_agenda_items_proposal_id"), "agenda_items", ["proposal_id"], unique=False)

    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("merge_into_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("votes_abstain", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("decision IN ('adopted', 'rejected', 'deferred', 'merged')", name=op.f("ck_minutes_decision")),
        sa.CheckConstraint(
            "votes_for >= 0 AND votes_against >= 0 AND votes_abstain >= 0", name=op.f("ck_minutes_votes_not_negative")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["agenda_items.id"], name=op.f("fk_minutes_item_id_agenda_items")),
        sa.ForeignKeyConstraint(["merge_into_id"], ["proposals.id"], name=op.f("fk_minutes_merge_into_id_proposals")),
        sa.ForeignKeyConstraint(["recorded_by"], ["residents.id"], name=op.f("fk_minutes_recorded_by_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes")),
        sa.UniqueConstraint("item_id", name=op.f("uq_minutes_item_id")),
    )


def downgrade() -> None:
    """Drop what :func:`upgrade` created (meetings, agendas, minutes and explicit catchments are lost)."""
    op.drop_table("minutes")
    op.drop_index(op.f("ix_agenda_items_proposal_id"), table_name="agenda_items")
    op.drop_table("agenda_items")
    op.drop_index(op.f("ix_meetings_starts_at"), table_name="meetings")
    op.drop_index(op.f("ix_meetings_hub_code"), table_name="meetings")
    op.drop_table("meetings")
    op.drop_index(op.f("ix_hub_catchments_hub_code"), table_name="hub_catchments")
    op.drop_table("hub_catchments")
