"""a lease on each stored file, so that one ingest at a time (in any process) works it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Files stored before have no lease: free to be taken.
    with op.batch_alter_table("ingest_files") as table:
        table.add_column(sa.Column("lease_owner", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("lease_until", db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_files") as table:
        table.drop_column("lease_until")
        table.drop_column("lease_owner")
