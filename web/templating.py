"""Jinja2 environment and the filters pages use to show money, dates and deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")


def money(value: Decimal | float | None) -> str:
    return "" if value is None else f"${Decimal(value):,.2f}"


def label(value: str | None) -> str:
    return "" if not value else value.replace("_", " ")


def days_until(value: date | None) -> int | None:
    return None if value is None else (value - datetime.now(UTC).date()).days


def urgency(value: date | None) -> str:
    """CSS class for a deadline: overdue, within 7 days, within 14 days, or later."""
    days = days_until(value)
    if days is None:
        return "none"
    if days < 0:
        return "overdue"
    if days <= 7:
        return "week"
    if days <= 14:
        return "fortnight"
    return "later"


templates.env.filters.update(money=money, label=label, days_until=days_until, urgency=urgency)


def render_error(request: Request, status_code: int, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
    )
