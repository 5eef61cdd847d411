"""each appeal letter version keeps its enclosures: which are sent, and the files attached

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL on versions saved before: their enclosures are the category's defaults, unattached.
    with op.batch_alter_table("appeal_letters") as table:
        table.add_column(sa.Column("enclosures", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appeal_letters") as table:
        table.drop_column("enclosures")
