"""Read-model queries behind root cause patterns and prevention effectiveness."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    and_,
    bindparam,
    func,
    literal,
    or_,
    union_all,
)
from sqlalchemy import select as sql_select
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


def _denials_in(
    since: date | BindParameter[date], until: date | BindParameter[date]
) -> list[ColumnElement[bool]]:
    # A case cancelled as "not a denial" (or by a supervisor) is not counted as a denial.
    return [
        col(CaseRow.denied_on) >= since,
        col(CaseRow.denied_on) <= until,
        or_(col(CaseRow.outcome).is_(None), col(CaseRow.outcome) != CaseOutcome.CANCELLED.value),
    ]


# The columns each kind of pattern is matched on (PatternKey attributes of the same names).
_PATTERN_COLUMNS = {
    PatternKind.PAYER_CARC: ("payer_id", "carc"),
    PatternKind.PROVIDER_CARC: ("provider_npi", "carc"),
    PatternKind.PROCEDURE_PAYER: ("procedure_code", "payer_id"),
}


@lru_cache(maxsize=16)
def _tallies_statement(kinds: tuple[PatternKind, ...]) -> CompoundSelect:
    """One aggregate per pattern, joined by UNION ALL, its values bound at execution: built
    once per combination of kinds, so SQLAlchemy neither rebuilds nor recompiles it at every
    triage."""
    window = _denials_in(bindparam("since"), bindparam("until"))
    return union_all(
        *(
            sql_select(
                literal(number).label("pattern"),
                func.count().label("count"),
                func.coalesce(func.sum(CaseRow.denied_amount), 0).label("dollars"),
            ).where(
                *window,
                *(
                    getattr(CaseRow, name) == bindparam(f"{name}_{number}")
                    for name in _PATTERN_COLUMNS[kind]
                ),
                col(CaseRow.case_id) != bindparam("case_id"),
            )
            for number, kind in enumerate(kinds)
        )
    )


def pattern_tallies(
    session: Session, current: DenialFact, since: date, until: date
) -> dict[str, PatternTally]:
    """The other denials in [since, until] of each of `current`'s candidate patterns, counted
    in the database in one statement (a triage's round trips are its cost), each pattern's
    aggregate answered from its own covering index."""
    keys = candidate_keys(current)
    if not keys:
        return {}
    values: dict[str, object] = {"since": since, "until": until, "case_id": current.case_id}
    for number, key in enumerate(keys):
        for name in _PATTERN_COLUMNS[key.kind]:
            values[f"{name}_{number}"] = getattr(key, name)
    statement = _tallies_statement(tuple(key.kind for key in keys))
    counted = {n: (count, dollars) for n, count, dollars in session.execute(statement, values)}
    return {
        key.key: PatternTally(count=counted[n][0], dollars=Decimal(counted[n][1]))
        for n, key in enumerate(keys)
    }


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
