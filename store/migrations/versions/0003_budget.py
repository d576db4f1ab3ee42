"""Participatory-budget cycle: cycles, quotas, audit log, reviews, assemblies, votes, allocation results.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Hand-written from autogenerate output (SQLite) and reviewed for both engines.
Only new tables: nothing existing is altered, so no batch mode (no table copy)
is needed on SQLite. No geometry columns, hence no GiST indexes. Shares are
stored as integer basis points so they stay exact on both engines.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: New tables, dropped in reverse order by downgrade().
TABLES = (
    "audit_log",
    "budget_cycles",
    "allocation_results",
    "assemblies",
    "quotas",
    "reviews",
    "votes",
    "assembly_endorsements",
)


def upgrade() -> None:
    """Create the budget-cycle tables."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False, comment="e.g. cycle:3, quota:3:4128152000"),
        sa.Column("detail", sa.Text(), nullable=False, comment="JSON text"),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["residents.id"], name=op.f("fk_audit_log_actor_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_subject"), "audit_log", ["subject"], unique=False)

    op.create_table(
        "budget_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("total_krw", sa.BigInteger(), nullable=False),
        sa.Column("base_per_district_krw", sa.BigInteger(), nullable=False),
        sa.Column("population_share_bp", sa.Integer(), nullable=False, comment="share of the total split by voters, in basis points"),
        sa.Column("rules_json", sa.Text(), nullable=False, comment="JSON text: AllocationRules fields"),
        sa.Column("endorsement_threshold_bp", sa.Integer(), nullable=False, comment="assembly attendance needed, basis points of voters"),
        sa.Column("has_voting", sa.Boolean(), nullable=False),
        sa.Column("quotas_published_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "phase IN ('proposals_open', 'review', 'assemblies', 'voting', 'allocation', 'results')", name=op.f("ck_budget_cycles_phase")
        ),
        sa.CheckConstraint("endorsement_threshold_bp BETWEEN 0 AND 10000", name=op.f("ck_budget_cycles_threshold_range")),
        sa.CheckConstraint("population_share_bp BETWEEN 0 AND 10000", name=op.f("ck_budget_cycles_population_share_range")),
        sa.CheckConstraint("total_krw >= 0 AND base_per_district_krw >= 0", name=op.f("ck_budget_cycles_amounts_not_negative")),
        sa.ForeignKeyConstraint(["created_by"], ["residents.id"], name=op.f("fk_budget_cycles_created_by_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_cycles")),
        sa.UniqueConstraint("fiscal_year", name=op.f("uq_budget_cycles_fiscal_year")),
    )
    op.create_table(
        "allocation_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("cost_krw", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("reason_ko", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["budget_cycles.id"], name=op.f("fk_allocation_results_cycle_id_budget_cycles")),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_allocation_results_district_code_districts")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_allocation_results_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_results")),
        sa.UniqueConstraint("cycle_id", "proposal_id", name=op.f("uq_allocation_results_cycle_id_proposal_id")),
    )
    op.create_index(op.f("ix_allocation_results_district_code"), "allocation_results", ["district_code"], unique=False)
    op.create_index(op.f("ix_allocation_results_proposal_id"), "allocation_results", ["proposal_id"], unique=False)

    op.create_table(
        "assemblies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendance", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["budget_cycles.id"], name=op.f("fk_assemblies_cycle_id_budget_cycles")),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_assemblies_district_code_districts")),
        sa.ForeignKeyConstraint(["recorded_by"], ["residents.id"], name=op.f("fk_assemblies_recorded_by_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assemblies")),
    )
    op.create_index(op.f("ix_assemblies_cycle_id"), "assemblies", ["cycle_id"], unique=False)
    op.create_index(op.f("ix_assemblies_district_code"), "assemblies", ["district_code"], unique=False)

    op.create_table(
        "quotas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=10), nullable=False),
        sa.Column("amount_krw", sa.BigInteger(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_krw >= 0", name=op.f("ck_quotas_amount_not_negative")),
        sa.ForeignKeyConstraint(["cycle_id"], ["budget_cycles.id"], name=op.f("fk_quotas_cycle_id_budget_cycles")),
        sa.ForeignKeyConstraint(["district_code"], ["districts.code"], name=op.f("fk_quotas_district_code_districts")),
        sa.ForeignKeyConstraint(["updated_by"], ["residents.id"], name=op.f("fk_quotas_updated_by_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotas")),
        sa.UniqueConstraint("cycle_id", "district_code", name=op.f("uq_quotas_cycle_id_district_code")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("feasible", sa.Boolean(), nullable=False),
        sa.Column("official_cost_krw", sa.BigInteger(), nullable=True, comment="replaces the resident's estimate"),
        sa.Column("field_verified_on", sa.Date(), nullable=True),
        sa.Column("field_note", sa.Text(), nullable=False),
        sa.Column("field_photo_url", sa.Text(), nullable=True),
        sa.Column("construction", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("official_cost_krw IS NULL OR official_cost_krw >= 0", name=op.f("ck_reviews_cost_not_negative")),
        sa.ForeignKeyConstraint(["cycle_id"], ["budget_cycles.id"], name=op.f("fk_reviews_cycle_id_budget_cycles")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_reviews_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["reviewed_by"], ["residents.id"], name=op.f("fk_reviews_reviewed_by_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("proposal_id", "cycle_id", name=op.f("uq_reviews_proposal_id_cycle_id")),
    )
    op.create_index(op.f("ix_reviews_cycle_id"), "reviews", ["cycle_id"], unique=False)

    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("cast_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["budget_cycles.id"], name=op.f("fk_votes_cycle_id_budget_cycles")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_votes_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_votes_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
        sa.UniqueConstraint("cycle_id", "resident_id", "proposal_id", name=op.f("uq_votes_cycle_id_resident_id_proposal_id")),
    )
    op.create_index(op.f("ix_votes_proposal_id"), "votes", ["proposal_id"], unique=False)
    op.create_index(op.f("ix_votes_resident_id"), "votes", ["resident_id"], unique=False)

    op.create_table(
        "assembly_endorsements",
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assembly_id"], ["assemblies.id"], name=op.f("fk_assembly_endorsements_assembly_id_assemblies")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_assembly_endorsements_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("assembly_id", "proposal_id", name=op.f("pk_assembly_endorsements")),
    )
    op.create_index(op.f("ix_assembly_endorsements_proposal_id"), "assembly_endorsements", ["proposal_id"], unique=False)


def downgrade() -> None:
    """Drop the budget-cycle tables (their indexes go with them)."""
    for table in reversed(TABLES):
        op.drop_table(table)
