"""the task worklists read one covering index: open tasks by assignee and queue, with what
they filter (the type, the case for a follow-up date) and sort on (escalation, priority, due)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKLIST = [
    "status",
    "assignee",
    "queue",
    "escalation",
    "priority",
    "due_at",
    "task_id",
    "type",
    "case_id",
]


def upgrade() -> None:
    # (status, assignee) leads the new index, so it replaces the old one.
    with op.batch_alter_table("tasks") as table:
        table.drop_index("ix_tasks_status_assignee")
        table.create_index("ix_tasks_worklist", WORKLIST, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks") as table:
        table.drop_index("ix_tasks_worklist")
        table.create_index("ix_tasks_status_assignee", ["status", "assignee"], unique=False)
