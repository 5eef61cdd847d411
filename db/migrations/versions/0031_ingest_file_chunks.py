"""stored X12 files in chunks (issue 20): ingest_files.content moves to ingest_file_chunks, one
row per MiB, so that no file of up to 50 MiB is ever one value (PostgreSQL would bind it whole,
hex-encoded) or held whole by the API to store, read or download it

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK_BYTES = 1 << 20  # db.ingest_chunks.CHUNK_BYTES when written


def upgrade() -> None:
    chunks = op.create_table(
        "ingest_file_chunks",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["ingest_files.sha256"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sha256", "position"),
    )
    bind = op.get_bind()
    files = [row[0] for row in bind.execute(sa.text("SELECT sha256 FROM ingest_files"))]
    for sha256 in files:  # one file's bytes in memory at a time
        content = bind.execute(
            sa.text("SELECT content FROM ingest_files WHERE sha256 = :sha256"), {"sha256": sha256}
        ).scalar_one()
        content = bytes(content)
        rows = [
            {"sha256": sha256, "position": index, "data": content[start : start + CHUNK_BYTES]}
            for index, start in enumerate(range(0, len(content), CHUNK_BYTES))
        ]
        if rows:
            op.bulk_insert(chunks, rows)
    # Natively (SQLite 3.35+, PostgreSQL): a batch copy of ingest_files would trip the foreign
    # keys that point at it.
    op.drop_column("ingest_files", "content")


def downgrade() -> None:
    op.add_column(
        "ingest_files",
        sa.Column("content", sa.LargeBinary(), nullable=False, server_default=sa.text("''")),
    )
    bind = op.get_bind()
    files = [row[0] for row in bind.execute(sa.text("SELECT sha256 FROM ingest_files"))]
    for sha256 in files:
        data = bind.execute(
            sa.text("SELECT data FROM ingest_file_chunks WHERE sha256 = :sha256 ORDER BY position"),
            {"sha256": sha256},
        ).scalars()
        bind.execute(
            sa.text("UPDATE ingest_files SET content = :content WHERE sha256 = :sha256"),
            {"content": b"".join(bytes(chunk) for chunk in data), "sha256": sha256},
        )
    op.drop_table("ingest_file_chunks")
