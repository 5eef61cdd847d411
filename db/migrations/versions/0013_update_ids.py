"""the Update behind each case event and each audited change, so an audit entry whose request
went unanswered ('unknown') is reconciled when the workflow applies it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table_name in ("case_events", "audit_events"):
        with op.batch_alter_table(table_name) as table:
            table.add_column(sa.Column("update_id", sa.String(length=64), nullable=True))
            table.create_index(f"ix_{table_name}_update_id", ["update_id"], unique=False)


def downgrade() -> None:
    for table_name in ("case_events", "audit_events"):
        with op.batch_alter_table(table_name) as table:
            table.drop_index(f"ix_{table_name}_update_id")
            table.drop_column("update_id")
