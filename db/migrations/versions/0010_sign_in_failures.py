"""failed sign-ins, counted per account and per client address to throttle password guessing

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", db.types.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.String(length=80), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_failures") as table:
        table.create_index("ix_sign_in_failures_at", ["at"], unique=False)
        table.create_index("ix_sign_in_failures_user_at", ["user_id", "at"], unique=False)
        table.create_index("ix_sign_in_failures_address_at", ["client_ip", "at"], unique=False)


def downgrade() -> None:
    op.drop_table("sign_in_failures")
