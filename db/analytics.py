"""Read-model queries feeding the denial KPIs from the adjudicated claims, grouped in the
database (a year of 835s is millions of rows); the cases' side is db.dashboard_summary."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, extract, func, select
from sqlmodel import Session, col

from db.models import RemittanceClaimRow
from domain.kpis import ClaimFact

_CLAIM_DAY = func.coalesce(
    col(RemittanceClaimRow.remittance_date), col(RemittanceClaimRow.service_date)
)


def _claims_in(since: date, until: date) -> ColumnElement[bool]:
    return _CLAIM_DAY.between(since, until)


def claims_by_payer_month(session: Session, since: date, until: date) -> list[ClaimFact]:
    """Claims reported in [since, until], counted per payer, month and denied or not."""
    year, month = extract("year", _CLAIM_DAY), extract("month", _CLAIM_DAY)
    payer, name, denied = (
        col(RemittanceClaimRow.payer_id),
        col(RemittanceClaimRow.payer_name),
        col(RemittanceClaimRow.is_denial),
    )
    rows = session.execute(
        select(
            payer,
            func.max(name),
            denied,
            year,
            month,
            func.count(),
            func.sum(col(RemittanceClaimRow.billed_amount)),
        )
        .where(_claims_in(since, until))
        .group_by(payer, denied, year, month)
    ).all()
    return [
        ClaimFact(
            payer_id=payer_id,
            payer_name=payer_name,
            is_denial=is_denial,
            day=date(int(y), int(m), 1),
            count=count,
            billed_amount=billed,
        )
        for payer_id, payer_name, is_denial, y, m, count, billed in rows
    ]


def claims_by_provider(session: Session, since: date, until: date) -> list[ClaimFact]:
    """Claims reported in [since, until], counted per provider NPI and denied or not."""
    npi, denied = col(RemittanceClaimRow.provider_npi), col(RemittanceClaimRow.is_denial)
    rows = session.execute(
        select(npi, denied, func.count(), func.sum(col(RemittanceClaimRow.billed_amount)))
        .where(_claims_in(since, until))
        .group_by(npi, denied)
    ).all()
    return [
        ClaimFact(provider_npi=provider, is_denial=is_denial, count=count, billed_amount=billed)
        for provider, is_denial, count, billed in rows
    ]
