"""reversals (CLP02 22) out of the adjudicated claims behind the denial rate

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 17:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Earlier ingests stored reversals as denied claims with negative charges; the ingest no
    # longer records them (their cases and the stored 835s keep everything they said).
    op.execute("DELETE FROM remittance_claims WHERE claim_status = '22'")


def downgrade() -> None:
    # Nothing to restore: earlier versions only miscounted these rows.
    pass
