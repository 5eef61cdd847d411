"""The dashboard's summaries: kept by the projection, read by the dashboard.

refresh_dashboard runs in the projection's transaction after the case row and its events are
written: it derives the case's DashboardFact from what the read model now holds (so a stale or
repeated projection, which the version guard kept from the case row, derives the same fact and
changes nothing) and moves the case between summary rows when its fact changed. Every summary
change is an increment (INSERT ... ON CONFLICT adds), so cases sharing a row don't overwrite
each other; rows are written in key order so that concurrent projections cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, col

from db.models import CaseEventRow, CaseRow, RemittanceClaimRow
from db.summary_tables import DashboardFactRow, DashboardSummaryRow, period_rows
from db.upsert import upsert
from domain.dashboard_facts import (
    CARC,
    CATEGORY,
    DEADLINE,
    PAYER,
    PROVIDER,
    TO_ACTION,
    TO_CLOSE,
    CaseFact,
    DashboardFact,
    SummaryKey,
    Tally,
    bucket_bounds,
    middle_reads,
    month_start,
    monthly,
    summary_changes,
)
from domain.kpis import CaseTotals, DenialGroup, OpenCase, days, dollars, median_of_middle

FACTS: Table = DashboardFactRow.__table__  # type: ignore[attr-defined]
SUMMARY: Table = DashboardSummaryRow.__table__  # type: ignore[attr-defined]


def _claim_day() -> ColumnElement[date]:
    """The day an adjudicated claim counts on: its remittance date, else its service date."""
    return func.coalesce(
        col(RemittanceClaimRow.remittance_date), col(RemittanceClaimRow.service_date)
    )


def _case_facts_statement() -> Select[Any]:
    first_action = (
        select(func.min(CaseEventRow.at))
        .where(CaseEventRow.case_id == CaseRow.case_id, CaseEventRow.actor != "system")
        .correlate(CaseRow)
        .scalar_subquery()
    )
    appealed = exists().where(
        CaseEventRow.case_id == CaseRow.case_id, CaseEventRow.type == "appeal_submitted"
    )
    adjudicated_that_day = exists().where(
        RemittanceClaimRow.claim_id == CaseRow.claim_id,
        RemittanceClaimRow.payer_id == CaseRow.payer_id,
        _claim_day() == CaseRow.denied_on,
    )
    # An open case racing no deadline is at risk by its own deadlines: read for those only.
    deadlines = case(
        (
            and_(col(CaseRow.next_deadline).is_(None), col(CaseRow.status) != "closed"),
            col(CaseRow.state)["deadlines"].as_json(),
        )
    )
    return (
        select(
            CaseRow.case_id,
            CaseRow.category,
            CaseRow.carc,
            CaseRow.payer_id,
            CaseRow.payer_name,
            CaseRow.provider_npi,
            CaseRow.claim_id,
            CaseRow.status,
            CaseRow.outcome,
            appealed,
            CaseRow.denied_amount,
            CaseRow.recovered_amount,
            CaseRow.denied_on,
            CaseRow.created_at,
            first_action,
            CaseRow.closed_at,
            CaseRow.next_deadline,
            deadlines,
            adjudicated_that_day,
        )
        .where(col(CaseRow.case_id).in_(bindparam("case_ids", expanding=True)))
        # Two projections of one case take turns (the first's summary change is seen by the
        # second); SQLite writes one transaction at a time anyway.
        .with_for_update(of=CaseRow)  # type: ignore[arg-type]
    )


# Built once: the projection runs them on every case step.
_CASE_FACTS = _case_facts_statement()
_STORED = select(FACTS).where(FACTS.c.case_id.in_(bindparam("case_ids", expanding=True)))


def _case_facts(session: Session, case_ids: Sequence[str]) -> list[CaseFact]:
    rows = session.execute(_CASE_FACTS, {"case_ids": list(case_ids)}).all()
    return [
        CaseFact(
            case_id=row[0],
            category=row[1],
            carc=row[2],
            payer_id=row[3],
            payer_name=row[4],
            provider_npi=row[5],
            claim_id=row[6],
            status=row[7],
            outcome=row[8],
            appealed=bool(row[9]),
            denied_amount=row[10],
            recovered_amount=row[11],
            denied_on=row[12],
            created_at=row[13],
            first_action_at=row[14],
            closed_at=row[15],
            next_deadline=row[16],
            deadlines=tuple(date.fromisoformat(item["due"]) for item in row[17] or ()),
            adjudicated_that_day=bool(row[18]),
        )
        for row in rows
    ]


def _stored(session: Session, case_ids: Sequence[str]) -> dict[str, DashboardFact]:
    rows = session.execute(_STORED, {"case_ids": list(case_ids)}).mappings().all()
    return {row["case_id"]: _fact_of_row(dict(row)) for row in rows}


def _fact_of_row(row: dict[str, object]) -> DashboardFact:
    text = str(row.pop("deadlines") or "")
    due = tuple(date.fromisoformat(day) for day in text.split(",")) if text else ()
    return DashboardFact.model_validate({**row, "deadlines": due})


def _row_of_fact(fact: DashboardFact) -> dict[str, object]:
    return {**fact.model_dump(), "deadlines": ",".join(day.isoformat() for day in fact.deadlines)}


def refresh_dashboard(session: Session, case_ids: Sequence[str]) -> None:
    """Bring the cases' dashboard facts and the summary rows they count in up to date with
    their case rows and events."""
    if not case_ids:
        return
    cases = _case_facts(session, case_ids)  # (locks the case rows first)
    stored = _stored(session, case_ids)
    changed: list[DashboardFact] = []
    changes: dict[SummaryKey, Tally] = {}
    labels: dict[SummaryKey, str] = {}
    for case_fact in cases:
        fact = DashboardFact.of(case_fact)
        old = stored.get(fact.case_id)
        if fact == old:
            continue
        changed.append(fact)
        for key, tally in summary_changes(old, fact).items():
            changes[key] = changes.get(key, Tally(0, 0)) + tally
        if fact.counted:
            labels[(PAYER, fact.denied_on, fact.payer_id)] = fact.payer_name
            labels[(monthly(PAYER), month_start(fact.denied_on), fact.payer_id)] = fact.payer_name
    if not changed:
        return
    upsert(session, FACTS, [_row_of_fact(fact) for fact in changed], ["case_id"])
    rows = [
        {
            "dimension": key[0],
            "day": key[1],
            "key": key[2],
            "label": labels.get(key, ""),
            **tally._asdict(),
        }
        for key, tally in sorted(changes.items())
        if any(tally)
    ]
    if rows:
        session.execute(_add_statement(session.get_bind().dialect.name), rows)


@lru_cache(maxsize=2)
def _add_statement(dialect: str) -> Insert:
    # Built once per dialect: SQLAlchemy then compiles it once, not on every projection.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SUMMARY)
    added = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["dimension", "day", "key"],
        set_={
            "cases": SUMMARY.c.cases + added.cases,
            "cents": SUMMARY.c.cents + added.cents,
            "appealed_closed": SUMMARY.c.appealed_closed + added.appealed_closed,
            "overturned": SUMMARY.c.overturned + added.overturned,
            # The payer's name, the greatest seen (names only ever come with a case counted).
            "label": case((added.label > SUMMARY.c.label, added.label), else_=SUMMARY.c.label),
        },
    )


def rebuild_dashboard(session: Session, batch: int = 2000) -> int:
    """Derive every case's facts and summary rows afresh (a migration's backfill). Returns
    how many cases were read."""
    session.execute(SUMMARY.delete())
    session.execute(FACTS.delete())
    ids = list(session.execute(select(CaseRow.case_id).order_by(CaseRow.case_id)).scalars())
    for start in range(0, len(ids), batch):
        refresh_dashboard(session, ids[start : start + batch])
    return len(ids)


class Breakdowns(NamedTuple):
    by_category: list[DenialGroup]
    by_carc: list[DenialGroup]
    by_provider: list[DenialGroup]
    appealed_closed: int  # appealed cases closed
    overturned: int  # of those, closed with money back


def denial_breakdowns(session: Session, since: date, until: date) -> Breakdowns:
    """The period's denial cases by category, by CARC and by provider, with the counts the
    overturn rate takes (every case is in one category row)."""
    found: dict[str, list[DenialGroup]] = {CATEGORY: [], CARC: [], PROVIDER: []}
    closed = overturned = 0
    rows = period_rows(
        SUMMARY,
        list(found),
        since,
        until,
        ["key", "cases", "cents", "appealed_closed", "overturned"],
    )
    for dimension, key, cases, cents, appealed_closed, overturns in session.execute(
        select(
            rows.c.dimension,
            rows.c.key,
            func.sum(rows.c.cases),
            func.sum(rows.c.cents),
            func.sum(rows.c.appealed_closed),
            func.sum(rows.c.overturned),
        )
        .group_by(rows.c.dimension, rows.c.key)
        .having(func.sum(rows.c.cases) > 0)
    ):
        found[dimension].append(DenialGroup(key, key, int(cases), dollars(int(cents))))
        if dimension == CATEGORY:
            closed, overturned = closed + int(appealed_closed), overturned + int(overturns)
    return Breakdowns(found[CATEGORY], found[CARC], found[PROVIDER], closed, overturned)


def payer_month_groups(session: Session, since: date, until: date) -> list[DenialGroup]:
    """The period's denial cases by payer and month (labelled with the payer's name)."""
    rows = period_rows(SUMMARY, [PAYER], since, until, ["day", "key", "label", "cases", "cents"])
    year, month = extract("year", rows.c.day), extract("month", rows.c.day)
    found = session.execute(
        select(
            rows.c.key,
            func.max(rows.c.label),
            year,
            month,
            func.sum(rows.c.cases),
            func.sum(rows.c.cents),
        )
        .group_by(rows.c.key, year, month)
        .having(func.sum(rows.c.cases) > 0)
    )
    return [
        DenialGroup(key, label, int(cases), dollars(int(cents)), f"{int(y):04d}-{int(m):02d}")
        for key, label, y, m, cases, cents in found
    ]


def _medians(session: Session, since: date, until: date) -> dict[str, float | None]:
    """The medians of the durations over the period's counted cases, by dimension (TO_ACTION,
    TO_CLOSE): the summaries count each duration bucket, so only the buckets holding the
    middle values are read from the facts, and only their values sorted."""
    rows = period_rows(SUMMARY, [TO_ACTION, TO_CLOSE], since, until, ["key", "cases"])
    counts: dict[str, dict[int, int]] = {TO_ACTION: {}, TO_CLOSE: {}}
    for dimension, key, cases in session.execute(
        select(rows.c.dimension, rows.c.key, func.sum(rows.c.cases))
        .group_by(rows.c.dimension, rows.c.key)
        .having(func.sum(rows.c.cases) > 0)
    ):
        counts[dimension][int(key)] = int(cases)
    columns = {TO_ACTION: FACTS.c.to_first_action_us, TO_CLOSE: FACTS.c.to_close_us}
    medians: dict[str, float | None] = {}
    for dimension, column in columns.items():
        middle: list[float] = []
        for read in middle_reads(counts[dimension]):
            low, high = bucket_bounds(read.bucket)
            where = [FACTS.c.counted, FACTS.c.denied_on >= since, FACTS.c.denied_on <= until]
            where += [column < high] if low is None else [column >= low, column < high]
            values = session.execute(
                select(column).where(*where).order_by(column).limit(read.limit).offset(read.offset)
            ).scalars()
            middle += [days(int(value)) for value in values]
        medians[dimension] = median_of_middle(middle)
    return medians


def case_totals(session: Session, since: date, until: date, breakdowns: Breakdowns) -> CaseTotals:
    """What the KPIs take from the period's denial cases. A write-off counts only when the
    period's 835s adjudicated its claim (same payer): only then are its charges counted."""
    adjudicated = (
        select(literal(True))
        .where(
            RemittanceClaimRow.claim_id == FACTS.c.claim_id,
            RemittanceClaimRow.payer_id == FACTS.c.payer_id,
            _claim_day().between(since, until),
        )
        .correlate(FACTS)
        .exists()
    )
    # A case counted in the period whose claim was adjudicated on its denial day needs no
    # look for its claim (that day is in the period): only the others are looked for.
    given_up = session.execute(
        select(func.coalesce(func.sum(FACTS.c.unrecovered_cents), 0)).where(
            FACTS.c.gives_up,
            FACTS.c.counted,
            FACTS.c.denied_on >= since,
            FACTS.c.denied_on <= until,
            or_(FACTS.c.adjudicated_that_day, adjudicated),
        )
    ).scalar_one()
    medians = _medians(session, since, until)
    return CaseTotals(
        appealed_closed=breakdowns.appealed_closed,
        overturned=breakdowns.overturned,
        given_up=dollars(int(given_up)) if given_up else Decimal(0),
        days_to_first_action=medians[TO_ACTION],
        days_to_resolution=medians[TO_CLOSE],
    )


def open_at_risk(session: Session) -> list[OpenCase]:
    """Open cases by the deadline their work races, and those racing none by their own
    deadlines (which decide against today), summed."""
    racing = session.execute(
        select(SUMMARY.c.day, func.sum(SUMMARY.c.cases), func.sum(SUMMARY.c.cents))
        .where(SUMMARY.c.dimension == DEADLINE)
        .group_by(SUMMARY.c.day)
        .having(func.sum(SUMMARY.c.cases) > 0)
    )
    found = [
        OpenCase(next_deadline=day, cases=int(cases), unrecovered=dollars(int(cents)))
        for day, cases, cents in racing
    ]
    # Cases with the same deadlines (dates follow from the same rules) are bucketed together.
    others = session.execute(
        select(FACTS.c.deadlines, func.count(), func.sum(FACTS.c.unrecovered_cents))
        .where(FACTS.c.is_open, FACTS.c.next_deadline.is_(None))
        .group_by(FACTS.c.deadlines)
    )
    found.extend(
        OpenCase(
            next_deadline=None,
            deadlines=tuple(date.fromisoformat(day) for day in due.split(",")) if due else (),
            cases=int(cases),
            unrecovered=dollars(int(cents)),
        )
        for due, cases, cents in others
    )
    return found
