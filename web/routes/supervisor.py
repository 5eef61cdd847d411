"""The supervisor console: stalled and escalated cases, write-off approvals, workload (with
who is away), reassigning, out of office."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.deps import (
    AbsenceServiceDep,
    CaseServiceDep,
    SessionDep,
    StoppedCaseServiceDep,
    TaskServiceDep,
    UserServiceDep,
)
from domain.case import Role
from services.absences import AbsenceIn
from services.schemas import CaseFilters
from services.supervision import OutOfOffice, with_absences, write_off_approvals
from web.session import PostedForm, SupervisorPage
from web.templating import local_time, org_tz, redirect_with_flash, render
from web.wording import located_errors

router = APIRouter(include_in_schema=False)


@router.get("/supervisor", response_class=HTMLResponse)
def console(
    request: Request,
    cases: CaseServiceDep,
    tasks: TaskServiceDep,
    users: UserServiceDep,
    absences: AbsenceServiceDep,
    stops: StoppedCaseServiceDep,
    session: SessionDep,
    user: SupervisorPage,
    assignee: str | None = None,
) -> HTMLResponse:
    stalled = cases.list_cases(CaseFilters(open_only=True, stalled=True, limit=25), user.actor)
    escalated = cases.list_cases(
        CaseFilters(open_only=True, escalated=True, sort="deadline", descending=False, limit=25),
        user.actor,
    )
    open_tasks = tasks.list_tasks(user.actor, assignee=assignee or None, limit=100)
    return render(
        request,
        "supervisor.html",
        {
            "user": user,
            "stopped": stops.list_stopped(user.actor, limit=25),
            "stalled": stalled,
            "escalated": escalated,
            "workload": with_absences(session, users.workload()),
            "write_offs": write_off_approvals(session),
            "tasks": open_tasks,
            "assignee": assignee or "",
            "absences": [a for a in absences.list() if a.status in ("scheduled", "active")],
            "now": datetime.now(org_tz()).strftime("%Y-%m-%dT%H:%M"),
            "zone": str(org_tz()),
        },
    )


def _target(form: PostedForm) -> tuple[str | None, Role | None, str]:
    target = str(form.get("assignee") or "")
    if target.startswith("queue:"):
        return None, Role(target.removeprefix("queue:")), target.removeprefix("queue:") + " queue"
    return target or None, None, target


@router.post("/supervisor/reassign")
async def bulk_reassign(
    form: PostedForm, tasks: TaskServiceDep, user: SupervisorPage
) -> RedirectResponse:
    task_ids = [str(value) for value in form.getlist("task_ids")]
    if not task_ids:
        return redirect_with_flash("/supervisor", "Select the tasks to reassign first")
    assignee, queue, shown = _target(form)
    if assignee is None and queue is None:
        return redirect_with_flash("/supervisor", "Choose who gets the tasks")
    try:
        outcomes = await tasks.bulk_reassign(
            task_ids,
            user.actor,
            assignee=assignee,
            queue=queue,
            reason=str(form.get("reason") or ""),
            override_absence=form.get("override_absence") == "on",
        )
    except OutOfOffice as exc:
        return redirect_with_flash("/supervisor", f"Nothing reassigned: {exc.message}")
    moved = sum(outcome.ok for outcome in outcomes)
    failed = [f"{o.task_id}: {o.detail}" for o in outcomes if not o.ok]
    message = f"{moved} task{'s' if moved != 1 else ''} reassigned to {shown}"
    if failed:
        message += f"; not moved: {'; '.join(failed)}"
    return redirect_with_flash("/supervisor", message)


def _when(value: str) -> datetime:
    """A datetime-local field, read in the office's time zone (the console shows it)."""
    return datetime.fromisoformat(value).replace(tzinfo=org_tz())


@router.post("/supervisor/absences")
async def mark_away(
    form: PostedForm, absences: AbsenceServiceDep, user: SupervisorPage
) -> RedirectResponse:
    try:
        period = AbsenceIn(
            starts_at=_when(str(form.get("starts_at") or "")),
            ends_at=_when(str(form.get("ends_at") or "")),
            return_tasks=form.get("return_tasks") == "on",
        )
    except (ValueError, ValidationError) as exc:
        detail = (
            located_errors(exc.errors()) if isinstance(exc, ValidationError) else "give both dates"
        )
        return redirect_with_flash("/supervisor", f"Out of office not set: {detail}")
    who = str(form.get("user_id") or "")
    absence = await absences.mark_away(who, period, user.actor)
    return redirect_with_flash(
        "/supervisor", f"{who} is out of office until {local_time(absence.ends_at)} {org_tz()}"
    )


@router.post("/supervisor/absences/{absence_id}/end")
async def end_absence(
    absence_id: str, form: PostedForm, absences: AbsenceServiceDep, user: SupervisorPage
) -> RedirectResponse:
    absence = await absences.end(absence_id, user.actor)
    return redirect_with_flash("/supervisor", f"{absence.user_id} is back")
