"""Read-model queries feeding the denial KPIs: plain rows, the arithmetic is in domain.kpis.
Adjudicated claims come grouped (a year of 835s is millions of rows); cases one per row."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import ColumnElement, case, exists, extract, func, literal, select
from sqlmodel import Session, col

from db.models import CaseEventRow, CaseRow, RemittanceClaimRow
from domain.kpis import GIVEN_UP, CaseFact, ClaimFact, OpenCase

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


def denial_case_facts(session: Session, since: date, until: date) -> list[CaseFact]:
    """Cases whose denial was reported in [since, until], except those cancelled as not a
    denial (or by a supervisor)."""
    first_action = (
        select(func.min(CaseEventRow.at))
        .where(CaseEventRow.case_id == CaseRow.case_id, CaseEventRow.actor != "system")
        .correlate(CaseRow)
        .scalar_subquery()
    )
    appealed = exists().where(
        CaseEventRow.case_id == CaseRow.case_id, CaseEventRow.type == "appeal_submitted"
    )
    # Asked of the cases that gave money up only, one index lookup each (LIMIT 1 keeps
    # PostgreSQL from hashing every claim of the period instead).
    claim_adjudicated = case(
        (
            col(CaseRow.outcome).in_(GIVEN_UP),
            select(literal(True))
            .where(
                RemittanceClaimRow.claim_id == CaseRow.claim_id,
                RemittanceClaimRow.payer_id == CaseRow.payer_id,
                _claims_in(since, until),
            )
            .limit(1)
            .correlate(CaseRow)
            .scalar_subquery(),
        )
    )
    rows = session.execute(
        select(
            CaseRow.case_id,
            CaseRow.category,
            CaseRow.carc,
            CaseRow.payer_id,
            CaseRow.payer_name,
            CaseRow.provider_npi,
            CaseRow.status,
            CaseRow.outcome,
            appealed,
            CaseRow.denied_amount,
            CaseRow.recovered_amount,
            CaseRow.denied_on,
            CaseRow.created_at,
            first_action,
            CaseRow.closed_at,
            claim_adjudicated,
        ).where(
            col(CaseRow.denied_on) >= since,
            col(CaseRow.denied_on) <= until,
            (col(CaseRow.outcome).is_(None)) | (col(CaseRow.outcome) != "cancelled"),
        )
    ).all()
    # The columns' types are the model's already: skip validation (tens of thousands of rows).
    return [
        CaseFact.model_construct(
            case_id=row[0],
            category=row[1],
            carc=row[2],
            payer_id=row[3],
            payer_name=row[4],
            provider_npi=row[5],
            status=row[6],
            outcome=row[7],
            appealed=bool(row[8]),
            denied_amount=row[9],
            recovered_amount=row[10],
            denied_on=row[11],
            created_at=row[12],
            first_action_at=row[13],
            closed_at=row[14],
            claim_adjudicated=bool(row[15]),
        )
        for row in rows
    ]


def open_cases(session: Session) -> list[OpenCase]:
    next_deadline = col(CaseRow.next_deadline)
    # A case racing no deadline is at risk by its own deadlines: its state's few, as text,
    # fetched and parsed for those cases only.
    deadlines = case((next_deadline.is_(None), col(CaseRow.state)["deadlines"].as_string()))
    rows = session.execute(
        select(next_deadline, deadlines, CaseRow.denied_amount, CaseRow.recovered_amount).where(
            col(CaseRow.status) != "closed"
        )
    ).all()
    return [
        OpenCase(
            next_deadline=deadline,
            deadlines=tuple(date.fromisoformat(item["due"]) for item in json.loads(every))
            if every
            else (),
            denied_amount=denied,
            recovered_amount=recovered,
        )
        for deadline, every, denied, recovered in rows
    ]
