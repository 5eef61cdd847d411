"""case search text (claim numbers, patient, member id, payer) and saved case-list filters

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types
from domain.case_search import search_text_of

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000


def upgrade() -> None:
    search = op.create_table(
        "case_search",
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "saved_case_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_case_filters_name"),
    )
    op.create_index("ix_saved_case_filters_user_id", "saved_case_filters", ["user_id"])
    # The cases already projected get their text from their state documents, in batches.
    bind = op.get_bind()
    cases = sa.table(
        "cases", sa.column("case_id"), sa.column("version"), sa.column("state", sa.JSON())
    )
    after = ""
    while True:
        rows = bind.execute(
            sa.select(cases.c.case_id, cases.c.version, cases.c.state)
            .where(cases.c.case_id > after)
            .order_by(cases.c.case_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        values = [
            {
                "case_id": case_id,
                "version": version,
                "text": search_text_of(((state or {}).get("record") or {}).get("claim") or {}),
            }
            for case_id, version, state in rows
        ]
        bind.execute(search.insert(), values)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("saved_case_filters")
    op.drop_table("case_search")
