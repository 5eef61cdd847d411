"""claim check outcomes (issue 18): what the payer's first 835 said about a checked claim,
beside what the check predicted; and the index that finds a claim's checks by its number

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db.types import UTCDateTime

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_index(
        "ix_claim_check_results_claim", "claim_check_results", ["claim_id"], unique=False
    )
    op.create_table(
        "claim_check_outcomes",
        sa.Column("run_id", _STR(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("denied", sa.Boolean(), nullable=False),
        sa.Column("category", _STR(length=40), nullable=True),
        sa.Column("payer_matched", sa.Boolean(), nullable=False),
        sa.Column("adjudicated_on", sa.Date(), nullable=True),
        sa.Column("remittance_row_id", _STR(length=80), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "position"],
            ["claim_check_results.run_id", "claim_check_results.position"],
        ),
        sa.PrimaryKeyConstraint("run_id", "position"),
    )
    op.create_index(
        "ix_claim_check_outcomes_recorded_at",
        "claim_check_outcomes",
        ["recorded_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_claim_check_outcomes_recorded_at", table_name="claim_check_outcomes")
    op.drop_table("claim_check_outcomes")
    op.drop_index("ix_claim_check_results_claim", table_name="claim_check_results")
