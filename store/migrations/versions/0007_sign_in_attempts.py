"""Account security: sign-in attempts (rate limit) and deleted accounts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

Hand-written for both engines. One new table, ``sign_in_attempts`` (every
password sign-in: the username typed, the client key (IP address), whether
it succeeded, when), indexed for the two rate-limit queries (by username
and by client, each within a time window) and for pruning old rows. One new
column, ``residents.deleted_at``: set when a resident deleted their account
(their personal fields are then cleared, their proposals kept anonymised).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``sign_in_attempts`` with its indexes; add ``residents.deleted_at``."""
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False, comment="as typed (lower-cased), whether or not an account has it"),
        sa.Column("client_key", sa.String(length=64), nullable=False, comment="the client's IP address, or 'unknown'"),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index(op.f("ix_sign_in_attempts_at"), "sign_in_attempts", ["at"], unique=False)
    op.create_index("ix_sign_in_attempts_username_at", "sign_in_attempts", ["username", "at"], unique=False)
    op.create_index("ix_sign_in_attempts_client_key_at", "sign_in_attempts", ["client_key", "at"], unique=False)
    op.add_column(
        "residents",
        sa.Column("deleted_at", UTCDateTime(), nullable=True, comment="when the resident deleted the account; personal fields are cleared"),
    )


def downgrade() -> None:
    """Drop ``residents.deleted_at`` and ``sign_in_attempts`` (deleted accounts stay cleared, just unmarked)."""
    op.drop_column("residents", "deleted_at")
    op.drop_index("ix_sign_in_attempts_client_key_at", table_name="sign_in_attempts")
    op.drop_index("ix_sign_in_attempts_username_at", table_name="sign_in_attempts")
    op.drop_index(op.f("ix_sign_in_attempts_at"), table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
