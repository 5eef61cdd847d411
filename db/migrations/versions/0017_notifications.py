"""notifications: users' e-mail addresses, what each user is told, daily digests, preferences

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def _sending() -> list[sa.Column]:
    """The columns of an e-mail sent once, with bounded retries."""
    return [
        sa.Column("email_status", _STR(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("claimed_until", db.types.UTCDateTime(), nullable=True),
        sa.Column("sent_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", _STR(length=500), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("email", _STR(length=254), nullable=True))
    op.create_table(
        "notification_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", _STR(length=80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(), nullable=False),
        *_sending(),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "day", name="uq_notification_digests_day"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", _STR(length=80), nullable=False),
        sa.Column("case_id", _STR(length=64), nullable=False),
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("deadline_key", _STR(length=40), nullable=False),
        sa.Column("claim_id", _STR(length=80), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("read_at", db.types.UTCDateTime(), nullable=True),
        *_sending(),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"]),
        sa.ForeignKeyConstraint(["digest_id"], ["notification_digests.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "case_id", "kind", "deadline", name="uq_notifications_key"),
    )
    with op.batch_alter_table("notifications") as table:
        table.create_index("ix_notifications_user_read", ["user_id", "read_at"])
        table.create_index("ix_notifications_email", ["email_status", "next_attempt_at"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", _STR(length=80), nullable=False),
        sa.Column("email_digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_table("notifications")
    op.drop_table("notification_digests")
    with op.batch_alter_table("users") as table:
        table.drop_column("email")
