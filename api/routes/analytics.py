"""Denial KPIs and breakdowns (JSON and CSV). Prometheus' process metrics are at /metrics."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.downloads import content_disposition
from api.errors import ERROR_RESPONSES
from app.deps import AnalyticsServiceDep, CaseReader
from services.analytics import Dashboard, Period, Section

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"], responses=ERROR_RESPONSES)

DEFAULT_PERIOD_DAYS = 90
SinceQuery = Annotated[
    date | None, Query(description="First day of the period (default: 90 days before until)")
]
UntilQuery = Annotated[date | None, Query(description="Last day of the period (default: today)")]


@router.get("")
def dashboard(
    analytics: AnalyticsServiceDep,
    actor: CaseReader,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Dashboard:
    """KPIs with their targets, Pareto by category and CARC, the payer trend by month, denials
    by provider, and open dollars at risk by deadline bucket. Claims count by remittance date,
    cases by the day their denial was reported."""
    return analytics.dashboard(Period.of(since, until, DEFAULT_PERIOD_DAYS), actor)


@router.get(
    "/{section}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One section as CSV"}},
)
def export_csv(
    section: Section,
    analytics: AnalyticsServiceDep,
    actor: CaseReader,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Response:
    period = Period.of(since, until, DEFAULT_PERIOD_DAYS)
    body = analytics.csv(period, section, actor)
    filename = f"denials-{section.value}-{period.since}-{period.until}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(filename)},
    )
