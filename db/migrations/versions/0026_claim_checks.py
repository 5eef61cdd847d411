"""claim check runs and their per-claim results (issue 18): what a pre-submission check found,
keyed by a random run id, the file known by its digest only

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db.types import UTCDateTime

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "claim_check_runs",
        sa.Column("run_id", _STR(length=40), nullable=False),
        sa.Column("file_sha256", _STR(length=64), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("source", _STR(length=8), nullable=False),
        sa.Column("checked_by", _STR(length=80), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("submission_date", sa.Date(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.Column("warned", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("model_version", _STR(length=80), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index(
        "ix_claim_check_runs_checked_at", "claim_check_runs", ["checked_at"], unique=False
    )
    op.create_table(
        "claim_check_results",
        sa.Column("run_id", _STR(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("claim_id", _STR(length=80), nullable=False),
        sa.Column("payer_id", _STR(length=80), nullable=False),
        sa.Column("payer_name", _STR(length=80), nullable=False),
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_charge", sa.Numeric(14, 2), nullable=False),
        sa.Column("worst", _STR(length=8), nullable=False),
        sa.Column("denial_probability", sa.Float(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["claim_check_runs.run_id"]),
        sa.PrimaryKeyConstraint("run_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("claim_check_results")
    op.drop_index("ix_claim_check_runs_checked_at", table_name="claim_check_runs")
    op.drop_table("claim_check_runs")
