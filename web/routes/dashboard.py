"""The denials dashboard: KPIs beside their targets, and the breakdowns as SVG charts."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from app.deps import AnalyticsServiceDep
from services.analytics import Dashboard, Period, Section
from services.errors import Invalid
from web.charts import Bar, bar_chart, line_chart
from web.session import CaseReaderPage
from web.templating import money, render

router = APIRouter(include_in_schema=False)

DEFAULT_PERIOD_DAYS = 90
TREND_PAYERS = 8  # the payers with the most denied dollars get a line each


def _parse_day(name: str, value: str | None, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def requested_period(since: str | None, until: str | None) -> tuple[Period, list[str]]:
    """The period a page's `since` / `until` ask for, and what is wrong with them (then the
    default period, so the page still shows figures beside the problems)."""
    errors: list[str] = []
    first, last = _parse_day("since", since, errors), _parse_day("until", until, errors)
    if not errors:
        try:
            return Period.of(first, last, DEFAULT_PERIOD_DAYS), errors
        except Invalid as exc:
            errors.append(str(exc))
    return Period.of(None, None, DEFAULT_PERIOD_DAYS), errors


def charts(board: Dashboard) -> dict[str, Markup]:
    def pareto_bars(rows: Any) -> list[Bar]:
        return [
            Bar(
                row.label.replace("_", " "),
                float(row.dollars),
                f"{money(row.dollars)} ({row.denials})",
                f"{row.cumulative_share:.0%} cum.",
            )
            for row in rows[:12]
        ]

    months = sorted({row.month for row in board.by_payer_month if row.month})
    dollars_by_payer: dict[str, float] = {}
    names: dict[str, str] = {}
    for row in board.by_payer_month:
        dollars_by_payer[row.key] = dollars_by_payer.get(row.key, 0.0) + float(row.dollars)
        names[row.key] = row.label
    top = sorted(dollars_by_payer, key=lambda key: -dollars_by_payer[key])[:TREND_PAYERS]
    rates = {(row.key, row.month): row.denial_rate for row in board.by_payer_month}
    series = {names[key]: [rates.get((key, month)) for month in months] for key in top}
    return {
        "category": bar_chart("Denied dollars by category", pareto_bars(board.by_category)),
        "carc": bar_chart("Denied dollars by CARC", pareto_bars(board.by_carc)),
        "trend": line_chart("Denial rate by payer per month", months, series),
        "provider": bar_chart(
            "Denied dollars by provider",
            [
                Bar(row.key, float(row.dollars), f"{money(row.dollars)}")
                for row in board.by_provider[:12]
            ],
        ),
        "at_risk": bar_chart(
            "Open dollars at risk by days to deadline",
            [
                Bar(row.bucket, float(row.dollars), f"{money(row.dollars)} ({row.cases})")
                for row in board.at_risk
            ],
        ),
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    analytics: AnalyticsServiceDep,
    user: CaseReaderPage,
    since: str | None = None,
    until: str | None = None,
) -> HTMLResponse:
    period, errors = requested_period(since, until)
    board = analytics.dashboard(period, user.actor)
    return render(
        request,
        "dashboard.html",
        {
            "user": user,
            "board": board,
            "charts": charts(board),
            "sections": list(Section),
            "errors": errors,
            "since": since or period.since.isoformat(),
            "until": until or period.until.isoformat(),
        },
        status_code=422 if errors else 200,
    )
