"""Denial analytics: KPIs beside their targets, Pareto breakdowns, trends, dollars at risk,
and their CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session

from db.analytics import claims_by_payer_month, claims_by_provider
from db.dashboard_summary import (
    case_totals,
    denial_breakdowns,
    open_at_risk,
    payer_month_groups,
)
from domain.case import Actor
from domain.kpis import (
    BucketRow,
    Kpi,
    ParetoRow,
    RateRow,
    at_risk_by_deadline,
    by_payer_month,
    by_provider,
    kpis,
    load_targets,
    pareto,
)
from services.audit import AuditService
from services.errors import Invalid

MAX_PERIOD_DAYS = 3 * 366


class Period(BaseModel):
    since: date
    until: date

    @classmethod
    def of(cls, since: date | None, until: date | None, default_days: int) -> Period:
        """The requested period, by default the trailing `default_days` up to today."""
        until = until or datetime.now(UTC).date()
        if since is None:
            if until.toordinal() < default_days:
                raise Invalid(f"until: {until} is too early to count {default_days} days back")
            since = until - timedelta(days=default_days - 1)
        if since > until:
            raise Invalid(f"since: {since} is after until {until}")
        if (until - since).days >= MAX_PERIOD_DAYS:
            raise Invalid(f"since: a period is at most {MAX_PERIOD_DAYS} days")
        return cls(since=since, until=until)


class Dashboard(BaseModel):
    period: Period
    as_of: date = Field(description="Today, for the deadline buckets")
    kpis: list[Kpi]
    by_category: list[ParetoRow]
    by_carc: list[ParetoRow]
    by_payer_month: list[RateRow]
    by_provider: list[RateRow]
    at_risk: list[BucketRow] = Field(description="Open cases' dollars by days to deadline")


class Section(StrEnum):
    KPIS = "kpis"
    BY_CATEGORY = "by_category"
    BY_CARC = "by_carc"
    BY_PAYER_MONTH = "by_payer_month"
    BY_PROVIDER = "by_provider"
    AT_RISK = "at_risk"


class AnalyticsService:
    def __init__(self, session: Session, audit: AuditService) -> None:
        self._session = session
        self._audit = audit
        self._targets = load_targets()

    def dashboard(self, period: Period, actor: Actor) -> Dashboard:
        since, until = period.since, period.until
        by_payer = claims_by_payer_month(self._session, since, until)
        by_npi = claims_by_provider(self._session, since, until)
        breakdowns = denial_breakdowns(self._session, since, until)
        totals = case_totals(self._session, since, until, breakdowns)
        by_payer_cases = payer_month_groups(self._session, since, until)
        today = datetime.now(UTC).date()
        self._audit.record(actor, "metrics.view", since=since.isoformat(), until=until.isoformat())
        return Dashboard(
            period=period,
            as_of=today,
            kpis=kpis(by_payer, totals, self._targets),
            by_category=pareto(breakdowns.by_category),
            by_carc=pareto(breakdowns.by_carc),
            by_payer_month=by_payer_month(by_payer, by_payer_cases),
            by_provider=by_provider(by_npi, breakdowns.by_provider),
            at_risk=at_risk_by_deadline(open_at_risk(self._session), today),
        )

    def csv(self, period: Period, section: Section, actor: Actor) -> str:
        rows: list[BaseModel] = list(getattr(self.dashboard(period, actor), section.value))
        return to_csv(rows, _CSV_COLUMNS[section])


_CSV_COLUMNS: dict[Section, list[str]] = {
    Section.KPIS: [
        "name",
        "label",
        "unit",
        "value",
        "target",
        "direction",
        "met",
        "numerator",
        "denominator",
    ],
    Section.BY_CATEGORY: ["key", "denials", "dollars", "share", "cumulative_share"],
    Section.BY_CARC: ["key", "denials", "dollars", "share", "cumulative_share"],
    Section.BY_PAYER_MONTH: [
        "key",
        "label",
        "month",
        "claims",
        "denials",
        "denial_rate",
        "dollars",
    ],
    Section.BY_PROVIDER: ["key", "claims", "denials", "denial_rate", "dollars"],
    Section.AT_RISK: ["bucket", "cases", "dollars"],
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    formula = text[:1] in ("=", "+", "-", "@", "\t", "\r")
    return "'" + text if formula and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(rows: list[BaseModel], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = row.model_dump()
        writer.writerow([_cell(values[name]) for name in columns])
    return out.getvalue()
