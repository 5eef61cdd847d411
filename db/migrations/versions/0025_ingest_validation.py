"""each stored file's implementation-guide validation, run beside its ingest in another
process: its findings, and who runs it until when (a lease, so a killed run is taken over)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 23:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Files stored before were validated within their ingest: NULL, nothing to run.
    with op.batch_alter_table("ingest_files") as table:
        table.add_column(sa.Column("validation", sa.JSON(none_as_null=True), nullable=True))
        table.add_column(sa.Column("validation_owner", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("validation_until", db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_files") as table:
        table.drop_column("validation_until")
        table.drop_column("validation_owner")
        table.drop_column("validation")
