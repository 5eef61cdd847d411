"""The dashboard as it was computed before the summaries (every case of the period read into
Python): kept here only as the oracle the summaries must agree with, to the cent and the day."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from statistics import median

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, exists, extract, func, literal, select
from sqlalchemy import case as sql_case
from sqlmodel import Session, col

from db.models import CaseEventRow, CaseRow, RemittanceClaimRow
from domain.kpis import (
    DEADLINE_BUCKETS,
    GIVEN_UP,
    NO_DEADLINE,
    BucketRow,
    ClaimFact,
    Kpi,
    ParetoRow,
    RateRow,
    Target,
    _kpi,
    _ratio,
    load_targets,
)
from domain.kpis import (
    month_of as _month,
)
from services.analytics import Dashboard, Period

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


class CaseFact(BaseModel):
    """One denial case as the read model has it."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    category: str | None = None
    carc: str = ""
    payer_id: str
    payer_name: str = ""
    provider_npi: str = ""
    status: str
    outcome: str | None = None
    appealed: bool = False  # an appeal was submitted
    denied_amount: Decimal
    recovered_amount: Decimal = Decimal(0)
    # Its claim is among the claims the period's 835s adjudicated (same payer): only then do
    # its charges count in the write-off rate, and so may its write-off (the read model asks
    # it of the cases that gave money up only).
    claim_adjudicated: bool = False
    denied_on: date
    created_at: datetime
    first_action_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    @property
    def unrecovered(self) -> Decimal:
        return max(self.denied_amount - self.recovered_amount, Decimal(0))


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def kpis(
    claims: Iterable[ClaimFact], cases: Iterable[CaseFact], targets: dict[str, Target]
) -> list[Kpi]:
    claims, cases = list(claims), list(cases)
    adjudicated = sum(claim.count for claim in claims)
    denied = sum(claim.count for claim in claims if claim.is_denial)
    appealed = [case for case in cases if case.appealed and not case.is_open]
    # Overturned is money back, whatever the outcome says (a transfer to the patient or a
    # "recovered" with nothing paid is not).
    overturned = sum(1 for case in appealed if case.recovered_amount > 0)
    charges = sum((claim.billed_amount for claim in claims), Decimal(0))
    given_up = sum(
        (case.unrecovered for case in cases if case.outcome in GIVEN_UP and case.claim_adjudicated),
        Decimal(0),
    )
    to_action = [
        _days(case.created_at, case.first_action_at) for case in cases if case.first_action_at
    ]
    to_close = [
        _days(case.created_at, case.closed_at)
        for case in cases
        if case.closed_at and case.outcome != "cancelled"
    ]
    return [
        _kpi("initial_denial_rate", targets, _ratio(denied, adjudicated), denied, adjudicated),
        _kpi(
            "overturn_rate", targets, _ratio(overturned, len(appealed)), overturned, len(appealed)
        ),
        _kpi(
            "write_off_rate",
            targets,
            _ratio(float(given_up), float(charges)),
            float(given_up),
            float(charges),
            measure="dollars",
        ),
        _kpi("days_to_first_action", targets, median(to_action) if to_action else None),
        _kpi("days_to_resolution", targets, median(to_close) if to_close else None),
    ]


def pareto(
    cases: Iterable[CaseFact],
    key: Callable[[CaseFact], str],
    label: Callable[[CaseFact], str] | None = None,
) -> list[ParetoRow]:
    """Denials and dollars per key, most dollars first, with the running share of dollars."""
    counts: dict[str, int] = defaultdict(int)
    dollars: dict[str, Decimal] = defaultdict(Decimal)
    labels: dict[str, str] = {}
    for case in cases:
        k = key(case)
        counts[k] += 1
        dollars[k] += case.denied_amount
        labels.setdefault(k, label(case) if label else k)
    total = sum(dollars.values(), Decimal(0))
    rows: list[ParetoRow] = []
    running = Decimal(0)
    for k in sorted(dollars, key=lambda k: (-dollars[k], -counts[k], k)):
        running += dollars[k]
        rows.append(
            ParetoRow(
                key=k,
                label=labels[k],
                denials=counts[k],
                dollars=dollars[k],
                share=float(dollars[k] / total) if total else 0.0,
                cumulative_share=float(running / total) if total else 0.0,
            )
        )
    return rows


def _rates(
    claims: Iterable[ClaimFact],
    cases: Iterable[CaseFact],
    claim_key: Callable[[ClaimFact], tuple[str, str, str | None]],
    case_key: Callable[[CaseFact], tuple[str, str, str | None]],
) -> list[RateRow]:
    claim_counts: dict[tuple[str, str | None], int] = defaultdict(int)
    denial_counts: dict[tuple[str, str | None], int] = defaultdict(int)
    dollars: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    labels: dict[str, str] = {}
    for claim in claims:
        key, label, month = claim_key(claim)
        claim_counts[(key, month)] += claim.count
        denial_counts[(key, month)] += claim.count if claim.is_denial else 0
        labels[key] = labels.get(key) or label
    for case in cases:
        key, label, month = case_key(case)
        dollars[(key, month)] += case.denied_amount
        labels[key] = labels.get(key) or label
    rows = [
        RateRow(
            key=key,
            label=labels[key] or key,
            month=month,
            claims=claim_counts.get((key, month), 0),
            denials=denial_counts.get((key, month), 0),
            denial_rate=_ratio(
                denial_counts.get((key, month), 0), claim_counts.get((key, month), 0)
            ),
            dollars=dollars.get((key, month), Decimal(0)),
        )
        for key, month in set(claim_counts) | set(dollars)
    ]
    return sorted(rows, key=lambda row: (row.key, row.month or "", -row.dollars))


def by_payer_month(claims: Iterable[ClaimFact], cases: Iterable[CaseFact]) -> list[RateRow]:
    """The trend: each payer's denial rate and denied dollars per month."""
    return _rates(
        claims,
        cases,
        lambda claim: (claim.payer_id, claim.payer_name, _month(claim.day) if claim.day else None),
        lambda case: (case.payer_id, case.payer_name, _month(case.denied_on)),
    )


def by_provider(claims: Iterable[ClaimFact], cases: Iterable[CaseFact]) -> list[RateRow]:
    rows = _rates(
        claims,
        cases,
        lambda claim: (claim.provider_npi or "unknown", claim.provider_npi, None),
        lambda case: (case.provider_npi or "unknown", case.provider_npi, None),
    )
    return sorted(rows, key=lambda row: (-row.dollars, -row.denials, row.key))


class OpenCase(BaseModel):
    """What an open case puts at risk, and by when."""

    model_config = ConfigDict(frozen=True)

    next_deadline: date | None  # the deadline its open work races, if any
    deadlines: tuple[date, ...] = ()  # all of its deadlines, read when it races none
    denied_amount: Decimal
    recovered_amount: Decimal = Decimal(0)

    @property
    def unrecovered(self) -> Decimal:
        return max(self.denied_amount - self.recovered_amount, Decimal(0))

    def deadline(self, today: date) -> date | None:
        """The deadline its dollars are at risk by: the one its work races, else the next one
        to come, else (all passed, e.g. lost to a deadline) the last one that passed; None only
        when it has no deadline at all."""
        if self.next_deadline is not None:
            return self.next_deadline
        coming = [due for due in self.deadlines if due >= today]
        return min(coming) if coming else max(self.deadlines, default=None)


def at_risk_by_deadline(cases: Iterable[OpenCase], today: date) -> list[BucketRow]:
    """Open cases' unrecovered dollars by how close their deadline is (OpenCase.deadline)."""
    names = [name for name, _ in DEADLINE_BUCKETS] + [NO_DEADLINE]
    counts = dict.fromkeys(names, 0)
    dollars = dict.fromkeys(names, Decimal(0))
    for case in cases:
        bucket = NO_DEADLINE
        deadline = case.deadline(today)
        if deadline is not None:
            days_left = (deadline - today).days
            bucket = next(
                name for name, upper in DEADLINE_BUCKETS if upper is None or days_left <= upper
            )
        counts[bucket] += 1
        dollars[bucket] += case.unrecovered
    return [BucketRow(bucket=name, cases=counts[name], dollars=dollars[name]) for name in names]


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
    claim_adjudicated = sql_case(
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
    deadlines = sql_case((next_deadline.is_(None), col(CaseRow.state)["deadlines"].as_string()))
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


def old_dashboard(session: Session, period: Period) -> Dashboard:
    """AnalyticsService.dashboard as it was (without the audit entry)."""
    by_payer = claims_by_payer_month(session, period.since, period.until)
    by_npi = claims_by_provider(session, period.since, period.until)
    cases = denial_case_facts(session, period.since, period.until)
    today = datetime.now(UTC).date()
    return Dashboard(
        period=period,
        as_of=today,
        kpis=kpis(by_payer, cases, load_targets()),
        by_category=pareto(cases, lambda case: case.category or "unknown"),
        by_carc=pareto(cases, lambda case: case.carc or "none"),
        by_payer_month=by_payer_month(by_payer, cases),
        by_provider=by_provider(by_npi, cases),
        at_risk=at_risk_by_deadline(open_cases(session), today),
    )
