"""Notification tables: what each user is told (in the app and by e-mail) and the daily
digests that carry the non-urgent ones. Derived from the read model (services.notifications),
never from the workflow. Imported by db.models so that every table is on the one metadata."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class NotificationRow(SQLModel, table=True):
    """One thing one user is told once: the unique key makes deriving it again (another
    sweep, another process, after a restart) a no-op."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "case_id", "kind", "deadline", name="uq_notifications_key"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_email", "email_status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="users.user_id", max_length=80)
    case_id: str = Field(foreign_key="cases.case_id", max_length=64)
    kind: str = Field(max_length=16)  # due_soon (biller), escalated, urgent (supervisors)
    deadline: date
    deadline_key: str = Field(max_length=40)
    claim_id: str = Field(max_length=80)  # the claim number: the only case detail told
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # pending (an urgent alert to send) / sending / sent / failed / skipped (no address),
    # digest (waits for the daily digest) / in_digest (its digest sends it) / off (the user
    # takes no digest).
    email_status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str = Field(default="", max_length=500)  # the SMTP server's words, no PHI
    digest_id: int | None = Field(default=None, foreign_key="notification_digests.id")


class NotificationDigestRow(SQLModel, table=True):
    """One user's digest of one office day: the unique key sends it once."""

    __tablename__ = "notification_digests"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_notification_digests_day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="users.user_id", max_length=80)
    day: date
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    email_status: str = Field(max_length=16)  # pending / sending / sent / failed / skipped
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str = Field(default="", max_length=500)


class NotificationPreferenceRow(SQLModel, table=True):
    """A user's choice of e-mail: the daily digest on or off (urgent alerts always go)."""

    __tablename__ = "notification_preferences"

    user_id: str = Field(foreign_key="users.user_id", primary_key=True, max_length=80)
    email_digest: bool = True
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
