"""checked claims keep what was checked (issue 18): each claim check result stores the claim's
fields and lines, so that once the payer answers it the risk model learns from its codes,
modifiers, diagnoses and places of service, not the claim-level 835 record alone

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("claim_check_results", sa.Column("claim", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claim_check_results") as table:
        table.drop_column("claim")
