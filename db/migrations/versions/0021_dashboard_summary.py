"""dashboard summaries: each case's dashboard fact and per-day sums, kept by the projection;
backfilled from the cases and events already projected

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlmodel import Session

from db.dashboard_summary import rebuild_dashboard

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "dashboard_case_facts",
        sa.Column("case_id", _text(64), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("denied_on", sa.Date(), nullable=False),
        sa.Column("payer_id", _text(80), nullable=False),
        sa.Column("payer_name", _text(200), nullable=False),
        sa.Column("category", _text(40), nullable=False),
        sa.Column("carc", _text(16), nullable=False),
        sa.Column("provider", _text(20), nullable=False),
        sa.Column("claim_id", _text(80), nullable=False),
        sa.Column("denied_cents", sa.BigInteger(), nullable=False),
        sa.Column("unrecovered_cents", sa.BigInteger(), nullable=False),
        sa.Column("appealed_closed", sa.Boolean(), nullable=False),
        sa.Column("overturned", sa.Boolean(), nullable=False),
        sa.Column("gives_up", sa.Boolean(), nullable=False),
        sa.Column("to_first_action_us", sa.BigInteger(), nullable=True),
        sa.Column("to_close_us", sa.BigInteger(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("next_deadline", sa.Date(), nullable=True),
        sa.Column("deadlines", _text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_dashboard_case_facts_day", "dashboard_case_facts", ["counted", "denied_on"])
    op.create_index(
        "ix_dashboard_case_facts_open", "dashboard_case_facts", ["is_open", "next_deadline"]
    )
    op.create_table(
        "dashboard_summary",
        sa.Column("dimension", _text(12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", _text(80), nullable=False),
        sa.Column("label", _text(200), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("appealed_closed", sa.Integer(), nullable=False),
        sa.Column("overturned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "day", "key"),
    )
    # The cases already projected count as the projection will count them from now on.
    with Session(bind=op.get_bind()) as session:
        rebuild_dashboard(session)


def downgrade() -> None:
    op.drop_table("dashboard_summary")
    op.drop_table("dashboard_case_facts")
