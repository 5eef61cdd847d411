"""Read-model tables behind the case list's search: the normalised search text of each case
(domain.case_search) and the filters users save. Imported by db.models so that both tables
are on the one metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class CaseSearchRow(SQLModel, table=True):
    """One narrow row per case, written with its projection. A search for part of a word
    ('0007' in PCN0000007, 'oe' in Doe) is a LIKE '%word%', which no B-tree index serves: it
    scans this table (a few MB for 100,000 cases) instead of the cases table, whose rows carry
    their state documents. PostgreSQL's pg_trgm GIN index would serve it, but it needs an
    extension a hosted database may not allow and SQLite has no equivalent; see bench/worklist.py
    for the figures this scan gives."""

    __tablename__ = "case_search"

    case_id: str = Field(foreign_key="cases.case_id", primary_key=True, max_length=64)
    version: int
    text: str = Field(max_length=1000)  # PHI: patient name and member id


class SavedCaseFilterRow(SQLModel, table=True):
    """A case-list filter a user named, to apply again (its terms may name a patient)."""

    __tablename__ = "saved_case_filters"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_case_filters_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="users.user_id", max_length=80, index=True)
    name: str = Field(max_length=80)
    filters: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
