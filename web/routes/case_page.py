"""The case page: everything about one case, and the form of its current task."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.deps import (
    CaseServiceDep,
    FollowUpServiceDep,
    PreferenceServiceDep,
    SessionDep,
    SettingsDep,
    StoppedCaseServiceDep,
    TaskServiceDep,
    UserServiceDep,
    get_rulebook,
)
from domain.case import Actor, Role, Task, TaskType
from domain.claim_checks.findings import ClaimCheckResult
from domain.models import Payer, PayerType
from domain.permissions import Permission, allows, work_permission_problem
from services.auth import SignedIn
from services.corrected_claim_check import ClaimBlocked
from services.errors import Invalid, SubmissionFailed
from services.follow_ups import FollowUpView
from services.schemas import CaseDetail
from services.stopped_cases import StoppedCaseView
from services.supervision import OutOfOffice, with_absences
from web.claim_views import claim_views, correction_target
from web.corrected_claim import parse_corrections
from web.forms import TASK_FORMS, initial_values, parse_task_form
from web.routes.worklists import after_completion, can_release
from web.session import (
    CaseReaderPage,
    PostedForm,
    SupervisorPage,
    TaskWorkerPage,
    page_permission,
)
from web.templating import org_today, redirect_with_flash, render

router = APIRouter(include_in_schema=False)
RestarterPage = Annotated[SignedIn, Depends(page_permission(Permission.RESTART_WORKFLOWS))]


def _page(
    request: Request,
    detail: CaseDetail,
    user: SignedIn,
    temporal_link: str,
    reassign_targets: list[Any],
    *,
    stop: StoppedCaseView | None = None,
    follow_up: FollowUpView | None = None,
    task_id: str | None = None,
    focus_form: bool = False,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    claim_check: ClaimCheckResult | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The case page, with the current task's form (prefilled, or with errors beside fields)
    and, on a corrected claim checked before sending, what the check found."""
    state = detail.state
    current = _current_task(state.open_tasks, user.actor, task_id)
    form = TASK_FORMS[current.type] if current else None
    today = org_today()
    return render(
        request,
        "case_detail.html",
        {
            "user": user,
            "case": detail,
            # The Temporal Web UI has no sign-in of its own: linked for those the matrix allows.
            "temporal_link": temporal_link
            if allows(user.actor.role, Permission.OPEN_TEMPORAL_UI)
            else None,
            "current": current,
            "can_release": can_release(user.actor, current),
            "follow_up": follow_up,
            "focus_form": focus_form,  # from "Next task": the first field has the focus
            "can_work": current is not None
            and allows(user.actor.role, Permission.WORK_TASKS)
            and work_permission_problem(user.actor, current) is None,
            "form": form,
            # The claim and its lines in words; the corrected-claim form built from them.
            **claim_views(
                state,
                get_rulebook(request).table,
                current.type if current else None,
                values
                if values is not None
                else (
                    initial_values(
                        current.type,
                        today,
                        current.appeal_level,
                        pattern_suggested=bool(
                            state.suggested_root_cause and state.suggested_root_cause.pattern
                        ),
                    )
                    if current
                    else {}
                ),
            ),
            "errors": errors or {},
            "claim_check": claim_check,
            "is_supervisor": allows(user.actor.role, Permission.SUPERVISE),
            # The workflow was stopped in Temporal: the page says so, and nothing is offered
            # but the restart (every change would be refused).
            "stop": stop,
            "can_restart": allows(user.actor.role, Permission.RESTART_WORKFLOWS),
            "reassign_targets": reassign_targets,
            "today": today.isoformat(),
            "tomorrow": (today + timedelta(days=1)).isoformat(),  # the first follow-up date
        },
        status_code=status_code,
    )


def _current_task(open_tasks: list[Task], actor: Actor, wanted: str | None) -> Task | None:
    """The task whose form the page shows: the one asked for (a worklist's link), else the
    user's own, else one waiting in the user's queue, else any the user may work (a
    supervisor may work all), else the first open one (shown without a form)."""
    workable = [task for task in open_tasks if work_permission_problem(actor, task) is None]
    asked = [task for task in workable if task.task_id == wanted]
    mine = [task for task in workable if task.assignee == actor.user_id]
    in_my_queue = [task for task in workable if task.assignee is None and task.queue is actor.role]
    for choice in (asked, mine, in_my_queue, workable, open_tasks):
        if choice:
            return choice[0]
    return None


def _temporal_link(settings: SettingsDep, case_id: str) -> str:
    return (
        f"{settings.temporal_ui_base}/namespaces/{settings.temporal_namespace}/workflows/{case_id}"
    )


def _targets(users: UserServiceDep, user: SignedIn, session: SessionDep) -> list[Any]:
    """Whom a supervisor may reassign to, each marked when out of office."""
    if not allows(user.actor.role, Permission.SUPERVISE):
        return []
    return with_absences(session, users.workload())


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: str,
    cases: CaseServiceDep,
    users: UserServiceDep,
    settings: SettingsDep,
    stops: StoppedCaseServiceDep,
    follow_ups: FollowUpServiceDep,
    session: SessionDep,
    user: CaseReaderPage,
    task: str | None = None,
    focus: str | None = None,
) -> HTMLResponse:
    detail = cases.get_case(case_id, user.actor)
    return _page(
        request,
        detail,
        user,
        _temporal_link(settings, case_id),
        _targets(users, user, session),
        stop=stops.stop_of(case_id),
        follow_up=follow_ups.get(case_id),
        task_id=task,
        focus_form=focus == "form",
    )


@router.post("/cases/{case_id}/tasks/{task_id}", response_model=None)
async def complete_task(
    request: Request,
    case_id: str,
    task_id: str,
    form: PostedForm,
    cases: CaseServiceDep,
    tasks: TaskServiceDep,
    users: UserServiceDep,
    settings: SettingsDep,
    stops: StoppedCaseServiceDep,
    follow_ups: FollowUpServiceDep,
    preferences: PreferenceServiceDep,
    session: SessionDep,
    user: TaskWorkerPage,
) -> Response:
    task = tasks.get_task(task_id)
    task_type = TaskType(task.type)
    # "Add a line" (a claim whose file listed none) shows the form again with one row more.
    adding_line = task_type is TaskType.PREPARE_CORRECTED_CLAIM and bool(form.get("add_line"))
    # "Check the claim": what the check before sending finds on the claim as typed (only the
    # claim's fields are read: the rest of the task's form may still be empty); nothing sent.
    checking = task_type is TaskType.PREPARE_CORRECTED_CLAIM and bool(form.get("check_claim"))
    correcting = correction_target(cases, case_id, task_type)
    payload, errors = (
        (None, {}) if adding_line or checking else parse_task_form(task_type, form, correcting)
    )
    status_code = 200 if adding_line else 422
    claim_check: ClaimCheckResult | None = None
    if checking and correcting is not None:
        corrections, errors = parse_corrections(form, correcting)
        if corrections is None and not errors:
            errors = {"diagnosis_codes": "give them: the claim is checked as the 837 they build"}
        elif corrections is not None:
            try:
                claim_check = tasks.check_corrected_claim(task_id, corrections)
                status_code = 200
            except Invalid as exc:
                errors = {"": exc.message}
    elif payload is not None:
        try:
            await tasks.complete(task_id, payload, user.actor)
        except ClaimBlocked as exc:  # the form is shown again, as typed, with the findings
            errors, claim_check, status_code = {"": exc.message}, exc.result, exc.status_code
        except (Invalid, SubmissionFailed) as exc:  # the form is shown again, as typed
            errors = {"": exc.message}
            status_code = exc.status_code
        else:
            done = TASK_FORMS[TaskType(task.type)].title
            return after_completion(tasks, preferences, user.actor, case_id, done)
    detail = cases.get_case(case_id, user.actor)
    return _page(
        request,
        detail,
        user,
        _temporal_link(settings, case_id),
        _targets(users, user, session),
        stop=stops.stop_of(case_id),
        follow_up=follow_ups.get(case_id),
        task_id=task_id,
        values={key: str(value) for key, value in form.items()},
        errors=errors,
        claim_check=claim_check,
        status_code=status_code,
    )


@router.post("/cases/{case_id}/notes")
async def add_note(
    case_id: str, form: PostedForm, cases: CaseServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    text = str(form.get("text") or "").strip()
    if not text:
        return redirect_with_flash(f"/cases/{case_id}", "A note needs text")
    await cases.add_note(case_id, text, user.actor)
    return redirect_with_flash(f"/cases/{case_id}", "Note added")


@router.post("/cases/{case_id}/claim/{task_id}")
async def claim_task(
    case_id: str, task_id: str, form: PostedForm, tasks: TaskServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    await tasks.claim(task_id, user.actor)
    return redirect_with_flash(f"/cases/{case_id}", "Task claimed")


@router.post("/cases/{case_id}/reassign/{task_id}")
async def reassign_task(
    case_id: str, task_id: str, form: PostedForm, tasks: TaskServiceDep, user: SupervisorPage
) -> RedirectResponse:
    target = str(form.get("assignee") or "")
    queue = Role(target.removeprefix("queue:")) if target.startswith("queue:") else None
    try:
        await tasks.reassign(
            task_id,
            user.actor,
            assignee=None if queue else target or None,
            queue=queue,
            reason=str(form.get("reason") or ""),
            override_absence=form.get("override_absence") == "on",
        )
    except OutOfOffice as exc:
        return redirect_with_flash(f"/cases/{case_id}", f"Not reassigned: {exc.message}")
    return redirect_with_flash(
        f"/cases/{case_id}", f"Task reassigned to {target.removeprefix('queue:')}"
    )


@router.post("/cases/{case_id}/priority")
async def change_priority(
    case_id: str, form: PostedForm, cases: CaseServiceDep, user: SupervisorPage
) -> RedirectResponse:
    try:
        adjustment = float(str(form.get("adjustment") or ""))
    except ValueError:
        return redirect_with_flash(f"/cases/{case_id}", "Priority: give a number such as 1.5")
    await cases.change_priority(
        case_id, adjustment, str(form.get("reason") or "") or "set on the case page", user.actor
    )
    return redirect_with_flash(f"/cases/{case_id}", "Priority changed")


@router.post("/cases/{case_id}/cancel")
async def cancel_case(
    request: Request, case_id: str, form: PostedForm, cases: CaseServiceDep, user: SupervisorPage
) -> Response:
    reason = str(form.get("reason") or "").strip()
    if not reason:
        return redirect_with_flash(f"/cases/{case_id}", "Cancelling needs a reason")
    if form.get("confirm") != "yes":  # a second step, as a page: no script needed
        summary = cases.get_case(case_id, user.actor).summary
        return render(
            request, "cancel_confirm.html", {"user": user, "s": summary, "reason": reason}
        )
    await cases.cancel_case(case_id, reason, user.actor)
    return redirect_with_flash(f"/cases/{case_id}", "Case cancelled")


@router.post("/cases/{case_id}/claim-identity")
async def identify_claim(
    case_id: str, form: PostedForm, cases: CaseServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    """What a 999 left unknown: the payer the claim was sent to and its dates of service."""
    try:
        payer_id = str(form.get("payer_id") or "").strip()
        payer = (
            Payer(
                payer_id=payer_id,
                name=str(form.get("payer_name") or "").strip(),
                type=PayerType(str(form.get("payer_type") or "")),
            )
            if payer_id  # absent when the file named the payer
            else None
        )
        served_from = date.fromisoformat(str(form.get("service_date_from") or ""))
        through = str(form.get("service_date_to") or "").strip()
        billed = str(form.get("billed_amount") or "").strip().replace(",", "")
        amount = Decimal(billed) if billed else None
    except (ValueError, ValidationError, InvalidOperation):
        return redirect_with_flash(
            f"/cases/{case_id}",
            "Claim identity: give the payer id, name and type, the first date of service "
            "(YYYY-MM-DD) and, if known, the billed amount (such as 1250.00)",
        )
    served = (served_from, date.fromisoformat(through) if through else None)
    try:
        await cases.identify_claim(case_id, payer, served, amount, user.actor)
    except Invalid as exc:
        return redirect_with_flash(f"/cases/{case_id}", f"Claim identity not set: {exc.message}")
    return redirect_with_flash(f"/cases/{case_id}", "Payer and date of service set")


@router.post("/cases/{case_id}/restart-workflow")
async def restart_workflow(
    case_id: str, form: PostedForm, stops: StoppedCaseServiceDep, user: RestarterPage
) -> RedirectResponse:
    """A new run of the case's stopped workflow, from where the page showed it."""
    await stops.restart(case_id, user.actor)
    return redirect_with_flash(
        f"/cases/{case_id}", "Workflow restarted: the case carries on from where it stopped"
    )
