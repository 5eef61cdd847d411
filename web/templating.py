"""Jinja2 environment and the filters pages use to show money, dates and deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from domain.case import CasePolicy, EscalationLevel
from domain.deadlines import deadline_instant, due_day, local_day
from domain.escalation import escalation_level_at
from web import drafts
from web.deadline_marks import deadline_marks
from web.error_pages import error_context, with_claims
from web.wording import event_words, field_label, plain_terms

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")


def money(value: Decimal | float | None) -> str:
    return "" if value is None else f"${Decimal(value):,.2f}"


def label(value: str | None) -> str:
    return "" if not value else value.replace("_", " ")


def use_policy(policy: CasePolicy) -> None:
    """The office's case policy (settings): its time zone's days are the pages' days, and its
    escalation timings colour the deadlines as the cases escalate."""
    templates.env.globals["org_policy"] = policy
    templates.env.globals["org_tz"] = policy.tz  # pages name the zone


def org_policy() -> CasePolicy:
    return templates.env.globals.get("org_policy") or CasePolicy()  # type: ignore[no-any-return]


def org_tz() -> tzinfo:
    return org_policy().tz


def org_today() -> date:
    return local_day(datetime.now(UTC), org_tz())


def local_time(at: datetime) -> str:
    """An instant as the office's wall-clock time."""
    return at.astimezone(org_tz()).strftime("%Y-%m-%d %H:%M")


def days_until(value: date | None) -> int | None:
    return None if value is None else (value - org_today()).days


def task_due_day(at: datetime) -> date:
    """The day a task is due, where the office works."""
    return due_day(at, org_tz())


def urgency(value: date | None) -> str:
    """CSS class for a deadline day: overdue, or the escalation a task racing it has reached
    now (domain.escalation, the case workflow's rule): escalated (urgent included),
    reminder, or later."""
    if value is None:
        return "none"
    now = datetime.now(UTC)
    ends = deadline_instant(value, org_tz())
    if ends <= now:
        return "overdue"
    level = escalation_level_at(ends, now, org_policy())
    if level >= EscalationLevel.ESCALATED:
        return "escalated"
    return "reminder" if level is EscalationLevel.REMINDER else "later"


def page_base(request: Request) -> str:
    """The current URL's query without its offset, ready for "offset=N" to be appended."""
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "offset"]
    return "?" + "".join(f"{quote(key)}={quote(value)}&" for key, value in kept)


templates.env.filters.update(
    money=money,
    label=label,
    days_until=days_until,
    urgency=urgency,
    due_day=task_due_day,
    local_time=local_time,
    event_words=event_words,
    deadline_marks=deadline_marks,
    plain_terms=plain_terms,
    field_label=field_label,
)
templates.env.globals.update(page_base=page_base)


FLASH_COOKIE = "denials_flash"


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page, with the message the previous action left (then cleared), and, on the page of
    a form that was not taken (session ended, or a stale tab), the word that what was typed
    goes back in it (web.drafts)."""
    flash = request.cookies.get(FLASH_COOKIE)
    resume = drafts.resume_here(request) if status_code == 200 else None
    pending = drafts.pending(request) if name == "login.html" else None
    draft = (
        {"mode": "restore", "message": resume.message}
        if resume
        else {"mode": "keep", "message": drafts.LOGIN_MESSAGE}
        if pending and pending.why == drafts.ENDED
        else None
    )
    response = templates.TemplateResponse(
        request,
        name,
        {
            **context,
            "flash": with_claims(request, unquote(flash)) if flash else None,
            "draft": draft,
        },
        status_code=status_code,
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    if resume:
        drafts.forget(response)
    return response


def redirect_with_flash(url: str, message: str) -> RedirectResponse:
    """Post/redirect/get: the next page shows `message` once (it carries no PHI)."""
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLASH_COOKIE, quote(message), httponly=True, samesite="lax", path="/")
    return response


def render_error(
    request: Request, status_code: int, message: str, *, lookups: bool = True
) -> HTMLResponse:
    """An error page with navigation, in words (web.error_pages). `lookups=False` while the
    database is down."""
    context = error_context(request, status_code, message, lookups=lookups)
    return render(request, "error.html", context, status_code)
