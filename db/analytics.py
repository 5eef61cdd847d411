"""The adjudicated claims the denial KPIs count, read from their daily summary (claim_summary,
kept by triggers on remittance_claims): a year of 835s is millions of rows. The cases' side is
db.dashboard_summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, extract, func, select
from sqlmodel import Session

from db.summary_tables import ClaimSummaryRow
from domain.kpis import ClaimFact, dollars

CLAIMS: Table = ClaimSummaryRow.__table__  # type: ignore[attr-defined]


def _summed(dimension: str, since: date, until: date, *group: ColumnElement[Any]) -> Select[Any]:
    label, claims, cents = CLAIMS.c.label, CLAIMS.c.claims, CLAIMS.c.cents
    return (
        select(*group, func.max(label), func.sum(claims), func.sum(cents))
        .where(CLAIMS.c.dimension == dimension, CLAIMS.c.day >= since, CLAIMS.c.day <= until)
        .group_by(*group)
        .having(func.sum(claims) != 0)
    )


def claims_by_payer_month(session: Session, since: date, until: date) -> list[ClaimFact]:
    """Claims reported in [since, until], counted per payer, month and denied or not."""
    year, month = extract("year", CLAIMS.c.day), extract("month", CLAIMS.c.day)
    rows = session.execute(
        _summed("payer", since, until, CLAIMS.c.key, CLAIMS.c.is_denial, year, month)
    ).all()
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
    rows = session.execute(
        _summed("provider", since, until, CLAIMS.c.key, CLAIMS.c.is_denial)
    ).all()
    return [
        ClaimFact(
            provider_npi=provider,
            is_denial=is_denial,
            count=int(count),
            billed_amount=dollars(int(cents)),
        )
        for provider, is_denial, _, count, cents in rows
    ]
