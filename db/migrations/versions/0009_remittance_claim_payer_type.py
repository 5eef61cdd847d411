"""the payer type of each adjudicated claim (CLP06), so that a 999 rejection identified from
the claim's remittance gets its payer's rules

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows recorded before keep "other": their payer type was not kept.
    with op.batch_alter_table("remittance_claims") as table:
        table.add_column(
            sa.Column("payer_type", sa.String(length=32), nullable=False, server_default="other")
        )


def downgrade() -> None:
    with op.batch_alter_table("remittance_claims") as table:
        table.drop_column("payer_type")
