"""the task worklists' indexes in their order: escalation and priority descending, then the due
time and the task id ascending, so a page of the team queue or of all open tasks is read in
order instead of sorting every open task

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAIL = ["due_at", "task_id", "type", "case_id"]
RISK = [sa.text("escalation DESC"), sa.text("priority DESC")]


def upgrade() -> None:
    with op.batch_alter_table("tasks") as table:
        table.drop_index("ix_tasks_worklist")
    op.create_index(
        "ix_tasks_worklist", "tasks", ["status", "assignee", "queue", *RISK, *TAIL], unique=False
    )
    op.create_index(
        "ix_tasks_open_order", "tasks", ["status", *RISK, "due_at", "task_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_open_order", table_name="tasks")
    op.drop_index("ix_tasks_worklist", table_name="tasks")
    op.create_index(
        "ix_tasks_worklist",
        "tasks",
        ["status", "assignee", "queue", "escalation", "priority", *TAIL],
        unique=False,
    )
