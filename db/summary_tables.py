"""The dashboard's summary tables, kept by the projection (db.dashboard_summary) in the same
transaction as the case row. Imported by db.models so that both tables are on the one metadata."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Select,
    String,
    Subquery,
    Table,
    literal,
    select,
    union_all,
)
from sqlmodel import Field, SQLModel

from domain.dashboard_facts import monthly, spans


class DashboardFactRow(SQLModel, table=True):
    """What one case adds to the dashboard (domain.dashboard_facts.DashboardFact): the summary
    rows it counts in are read back from here when the case changes, and the medians and the
    write-offs, which no sum gives, are read from here (narrow rows, indexed by day)."""

    __tablename__ = "dashboard_case_facts"
    __table_args__ = (
        # The medians and the write-offs are read from these indexes alone.
        Index("ix_dashboard_case_facts_action", "counted", "denied_on", "to_first_action_us"),
        Index("ix_dashboard_case_facts_close", "counted", "denied_on", "to_close_us"),
        Index(
            "ix_dashboard_case_facts_given_up",
            "gives_up",
            "counted",
            "denied_on",
            "adjudicated_that_day",
            "claim_id",
            "payer_id",
            "unrecovered_cents",
        ),
        Index("ix_dashboard_case_facts_open", "is_open", "next_deadline"),
        # For the triggers that clear adjudicated_that_day when a claim is changed or removed.
        Index("ix_dashboard_case_facts_claim", "claim_id", "payer_id"),
    )

    case_id: str = Field(foreign_key="cases.case_id", primary_key=True, max_length=64)
    counted: bool
    denied_on: date
    payer_id: str = Field(max_length=80)
    payer_name: str = Field(max_length=200)
    category: str = Field(max_length=40)
    carc: str = Field(max_length=16)
    provider: str = Field(max_length=20)
    claim_id: str = Field(max_length=80)
    denied_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    unrecovered_cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    appealed_closed: bool
    overturned: bool
    gives_up: bool
    adjudicated_that_day: bool = False
    to_first_action_us: int | None = Field(default=None, sa_column=Column(BigInteger()))
    to_close_us: int | None = Field(default=None, sa_column=Column(BigInteger()))
    is_open: bool
    next_deadline: date | None = None
    deadlines: str = ""  # ISO dates, comma separated


class DashboardSummaryRow(SQLModel, table=True):
    """Sums over the cases counted on one day under one key of one dimension
    (domain.dashboard_facts.contributions). Amounts in cents: exact sums on SQLite too."""

    __tablename__ = "dashboard_summary"
    __table_args__ = (
        # PostgreSQL reads a period's rows from this index alone (SQLite's rows are clustered
        # by their key already: there it is the key again, written only with a new row).
        Index(
            "ix_dashboard_summary_read",
            "dimension",
            "day",
            "key",
            postgresql_include=["label", "cases", "cents", "appealed_closed", "overturned"],
        ),
        {"sqlite_with_rowid": False},  # (its rows clustered by the key they are read by)
    )

    dimension: str = Field(primary_key=True, max_length=12)
    day: date = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=80)
    label: str = Field(default="", max_length=200)
    cases: int
    cents: int = Field(sa_column=Column(BigInteger(), nullable=False))
    appealed_closed: int = 0
    overturned: int = 0


class ClaimSummaryRow(SQLModel, table=True):
    """The adjudicated claims (remittance_claims) counted per day they were reported
    (remittance date, else service date), payer or provider NPI, and denied or not, with their
    charges in cents. Kept by triggers on remittance_claims (migration 0021), so every writer of
    claims keeps it, in its own transaction."""

    __tablename__ = "claim_summary"
    __table_args__ = (
        # As dashboard_summary's: a period's rows from the index alone on PostgreSQL.
        Index(
            "ix_claim_summary_read",
            "dimension",
            "day",
            "key",
            "is_denial",
            postgresql_include=["label", "claims", "cents"],
        ),
        {"sqlite_with_rowid": False},  # (its rows clustered by the key they are read by)
    )

    dimension: str = Field(primary_key=True, max_length=12)  # payer, provider
    day: date = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=80)  # the payer id or the NPI ("" when none)
    is_denial: bool = Field(primary_key=True)
    label: str = Field(default="", max_length=200)  # the payer's name, the greatest seen
    claims: int
    cents: int = Field(sa_column=Column(BigInteger(), nullable=False))


def period_rows(
    table: Table, dimensions: Sequence[str], since: date, until: date, columns: Sequence[str]
) -> Subquery:
    """The summary rows counting `dimensions` over [since, until]: the period's whole months
    from their monthly rows, its other days from the daily ones, each part a range of the
    table's key (UNION ALL: PostgreSQL reads each from the covering index alone). The
    `dimension` column names the daily dimension either way."""
    period = spans(since, until)
    parts: list[Select[tuple[object, ...]]] = []
    for dimension in dimensions:
        ranges = [(dimension, first, last) for first, last in period.days]
        if period.months:
            ranges.append((monthly(dimension), *period.months))
        parts += [
            select(
                literal(dimension, String()).label("dimension"),
                *(table.c[name] for name in columns),
            ).where(table.c.dimension == stored, table.c.day >= first, table.c.day <= last)
            for stored, first, last in ranges
        ]
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
