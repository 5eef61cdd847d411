"""claim check runs and their per-claim results (issue 18): what a pre-submission check found,
stored without the claims' identities in any key or log

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
