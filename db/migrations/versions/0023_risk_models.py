"""versioned learned-risk models with their metrics and bytes (issue 18)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db.types import UTCDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "risk_models",
        sa.Column("version", _STR(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("trained_at", UTCDateTime(), nullable=False),
        sa.Column("trigger", _STR(length=20), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("sha256", _STR(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", _STR(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
        sa.UniqueConstraint("number", name="uq_risk_models_number"),
    )
    op.create_index(op.f("ix_risk_models_active"), "risk_models", ["active"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_risk_models_active"), table_name="risk_models")
    op.drop_table("risk_models")
