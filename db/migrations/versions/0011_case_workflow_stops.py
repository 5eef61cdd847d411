"""cases whose workflow was stopped outside the product, and the marks of periodic sweeps

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "cleared_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "case_workflow_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("stopped_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("stopped_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("detected_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("detected_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cleared_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("cleared_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("new_run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_workflow_stops") as table:
        table.create_index(
            "uq_case_workflow_stops_open",
            ["case_id"],
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )
        table.create_index("uq_case_workflow_stops_run", ["case_id", "run_id"], unique=True)
    op.create_table(
        "sweep_marks",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("sweep_marks")
    op.drop_table("case_workflow_stops")
