"""The adjudicated claims the denial KPIs count, read from their daily and monthly summary
(claim_summary, kept by triggers on remittance_claims): a year of 835s is millions of rows.
The cases' side is db.dashboard_summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, extract, func, select
from sqlmodel import Session

from db.summary_tables import ClaimSummaryRow, period_rows
from domain.kpis import ClaimFact, dollars

CLAIMS: Table = ClaimSummaryRow.__table__  # type: ignore[attr-defined]


def _summed(dimension: str, since: date, until: date, by_month: bool) -> Select[Any]:
    rows = period_rows(
        CLAIMS, [dimension], since, until, ["day", "key", "is_denial", "label", "claims", "cents"]
    )
    group: list[ColumnElement[Any]] = [rows.c.key, rows.c.is_denial]
    if by_month:
        group += [extract("year", rows.c.day), extract("month", rows.c.day)]
    return (
        select(*group, func.max(rows.c.label), func.sum(rows.c.claims), func.sum(rows.c.cents))
        .group_by(*group)
        .having(func.sum(rows.c.claims) != 0)
    )


def claims_by_payer_month(session: Session, since: date, until: date) -> list[ClaimFact]:
    """Claims reported in [since, until], counted per payer, month and denied or not."""
    rows = session.execute(_summed("payer", since, until, by_month=True)).all()
    return [
        ClaimFact(
            payer_id=payer_id,
            payer_name=payer_name,
            is_denial=is_denial,
            day=date(int(y), int(m), 1),
            count=int(count),
            billed_amount=dollars(int(cents)),
        )
        for payer_id, is_denial, y, m, payer_name, count, cents in rows
    ]


def claims_by_provider(session: Session, since: date, until: date) -> list[ClaimFact]:
    """Claims reported in [since, until], counted per provider NPI and denied or not."""
    rows = session.execute(_summed("provider", since, until, by_month=False)).all()
    return [
        ClaimFact(
            provider_npi=provider,
            is_denial=is_denial,
            count=int(count),
            billed_amount=dollars(int(cents)),
        )
        for provider, is_denial, _, count, cents in rows
    ]
