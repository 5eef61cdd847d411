"""Read-model queries behind root cause patterns and prevention effectiveness."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from db.models import CaseRow, RemittanceClaimRow
from domain.case import CaseOutcome
from domain.root_cause import DenialFact, PatternKey, PatternKind, PatternTally, candidate_keys


def _pattern_condition(pattern: PatternKey) -> ColumnElement[bool]:
    match pattern.kind:
        case PatternKind.PAYER_CARC:
            return and_(
                col(CaseRow.payer_id) == pattern.payer_id, col(CaseRow.carc) == pattern.carc
            )
        case PatternKind.PROVIDER_CARC:
            return and_(
                col(CaseRow.provider_npi) == pattern.provider_npi,
                col(CaseRow.carc) == pattern.carc,
            )
        case PatternKind.PROCEDURE_PAYER:
            return and_(
                col(CaseRow.procedure_code) == pattern.procedure_code,
                col(CaseRow.payer_id) == pattern.payer_id,
            )


def _denials_in(since: date, until: date) -> list[ColumnElement[bool]]:
    # A case cancelled as "not a denial" (or by a supervisor) is not counted as a denial.
    return [
        col(CaseRow.denied_on) >= since,
        col(CaseRow.denied_on) <= until,
        or_(col(CaseRow.outcome).is_(None), col(CaseRow.outcome) != CaseOutcome.CANCELLED.value),
    ]


def pattern_tallies(
    session: Session, current: DenialFact, since: date, until: date
) -> dict[str, PatternTally]:
    """The other denials in [since, until] of each of `current`'s candidate patterns, counted
    in the database (one aggregate per pattern, each answered from its own index)."""
    tallies: dict[str, PatternTally] = {}
    for key in candidate_keys(current):
        count, dollars = session.exec(
            select(func.count(), func.coalesce(func.sum(CaseRow.denied_amount), 0)).where(
                *_denials_in(since, until),
                _pattern_condition(key),
                col(CaseRow.case_id) != current.case_id,
            )
        ).one()
        tallies[key.key] = PatternTally(count=count, dollars=Decimal(dollars))
    return tallies


def pattern_denials(session: Session, pattern: PatternKey, since: date, until: date) -> int:
    """How many denials of the pattern were reported in [since, until]."""
    return session.exec(
        select(func.count())
        .select_from(CaseRow)
        .where(*_denials_in(since, until), _pattern_condition(pattern))
    ).one()


def category_denials(
    session: Session, payer_id: str, category: str | None, since: date, until: date
) -> int:
    """Denials of one payer and category in [since, until]: the measure of a one-off grouping."""
    # An item grouped without a category counts the payer's uncategorised denials.
    category_is = col(CaseRow.category) == category if category else col(CaseRow.category).is_(None)
    return session.exec(
        select(func.count())
        .select_from(CaseRow)
        .where(*_denials_in(since, until), col(CaseRow.payer_id) == payer_id, category_is)
    ).one()


def adjudicated_claims(
    session: Session, since: date, until: date, *, payer_id: str = "", provider_npi: str = ""
) -> int:
    """Claims the 835s adjudicated in [since, until] for a payer or a provider (the base a
    pattern's denial rate is measured against)."""
    day = func.coalesce(
        col(RemittanceClaimRow.remittance_date), col(RemittanceClaimRow.service_date)
    )
    conditions = [day >= since, day <= until]
    if payer_id:
        conditions.append(col(RemittanceClaimRow.payer_id) == payer_id)
    if provider_npi:
        conditions.append(col(RemittanceClaimRow.provider_npi) == provider_npi)
    return session.exec(
        select(func.count()).select_from(RemittanceClaimRow).where(*conditions)
    ).one()
