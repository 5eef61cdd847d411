"""prevention edits: a condition on claim fields written on a prevention item, versioned, with
hit counts per version

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from db.types import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "prevention_edits",
        sa.Column("edit_id", _STR(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prevention_task_id", _STR(length=40), nullable=False),
        sa.Column("severity", _STR(length=8), nullable=False),
        sa.Column("condition", sa.JSON(), nullable=False),
        sa.Column("fix", _STR(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("last_hit_at", UTCDateTime(), nullable=True),
        sa.Column("written_by", _STR(length=80), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["prevention_task_id"], ["prevention_tasks.prevention_task_id"]),
        sa.PrimaryKeyConstraint("edit_id", "version"),
    )
    op.create_index(
        "ix_prevention_edits_active", "prevention_edits", ["is_current", "enabled"], unique=False
    )
    op.create_index(
        op.f("ix_prevention_edits_prevention_task_id"),
        "prevention_edits",
        ["prevention_task_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_prevention_edits_prevention_task_id"), table_name="prevention_edits")
    op.drop_index("ix_prevention_edits_active", table_name="prevention_edits")
    op.drop_table("prevention_edits")
