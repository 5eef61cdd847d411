"""one writer settles an unanswered Update's audit entries: the settled Updates keyed by id,
filled with those an 'ok' entry already names

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_settled_updates",
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("settled_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.execute(
        "INSERT INTO audit_settled_updates (update_id, settled_at) "
        "SELECT update_id, MIN(at) FROM audit_events "
        "WHERE outcome = 'ok' AND update_id IS NOT NULL GROUP BY update_id"
    )


def downgrade() -> None:
    op.drop_table("audit_settled_updates")
