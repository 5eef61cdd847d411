"""Work management tables: how billers organise their own work, outside the case workflow
(domain.worklist). Imported by db.models so that every table is on the one metadata."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class CaseFollowUpRow(SQLModel, table=True):
    """A follow-up date set on a case: it parks the case until then. Rows are kept as its
    history: setting a new date clears the open one, and so does unparking."""

    __tablename__ = "case_follow_ups"
    __table_args__ = (
        # One open follow-up per case; the worklists look it up by case (a partial index
        # both SQLite and PostgreSQL use for "cleared_at IS NULL").
        Index(
            "uq_case_follow_ups_open",
            "case_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.case_id", max_length=64)
    follow_up_on: date
    reason: str = Field(max_length=500)  # typed by the biller: may name a patient
    set_by: str = Field(max_length=80)
    set_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    cleared_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    cleared_by: str | None = Field(default=None, max_length=80)


class UserPreferenceRow(SQLModel, table=True):
    """A user's own settings for working tasks."""

    __tablename__ = "user_preferences"

    user_id: str = Field(foreign_key="users.user_id", primary_key=True, max_length=80)
    # After completing a task, open the next one of My tasks instead of the same case.
    continue_to_next_task: bool = False
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
