"""the case list pages by keyset: every sort has an index leading with its key and the case
id (the tie-breaker a cursor names), with the status the common filter reads

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Indexes whose key gains the case id: (name, old columns, new columns).
WIDENED = [
    ("ix_cases_assignee_priority", ["assignee", "priority"], ["assignee", "priority", "case_id"]),
    ("ix_cases_status_priority", ["status", "priority"], ["status", "priority", "case_id"]),
]
ADDED = {
    "ix_cases_deadline_order": ["next_deadline", "case_id", "status"],
    "ix_cases_amount_order": ["denied_amount", "case_id", "status"],
    "ix_cases_age_order": ["created_at", "case_id", "status"],
}


def upgrade() -> None:
    with op.batch_alter_table("cases") as table:
        for name, _, columns in WIDENED:
            table.drop_index(name)
            table.create_index(name, columns, unique=False)
        for name, columns in ADDED.items():
            table.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases") as table:
        for name in ADDED:
            table.drop_index(name)
        for name, columns, _ in WIDENED:
            table.drop_index(name)
            table.create_index(name, columns, unique=False)
