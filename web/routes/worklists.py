"""Worklists: my tasks, the team queue, and the case search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, model_validator

from api.deps import CaseServiceDep, StoppedCaseServiceDep, TaskServiceDep
from domain.case import Role
from domain.models import Category
from domain.permissions import Permission, allows
from services.schemas import MAX_OFFSET, CaseFilters, drop_empty
from web.session import CaseReaderPage, PageUser, PostedForm, TaskWorkerPage, safe_next
from web.templating import redirect_with_flash, render

router = APIRouter(include_in_schema=False)

HOME_BY_ROLE = {
    Role.BILLER: "/tasks",
    Role.SUPERVISOR: "/supervisor",
    Role.ADMIN: "/admin",
    Role.PHYSICIAN: "/attestations",
}
CATEGORIES = [category.value for category in Category]


class QueueFilters(BaseModel):
    _empty_is_missing = model_validator(mode="before")(drop_empty)

    show: str = Field(default="unassigned", pattern="^(unassigned|all)$")
    category: str | None = None
    payer_id: str | None = None
    escalated: bool | None = None
    stalled: bool | None = None
    sort: str = Field(default="priority", pattern="^(priority|deadline)$")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


@router.get("/")
def home(user: PageUser) -> RedirectResponse:
    return RedirectResponse(HOME_BY_ROLE.get(user.actor.role, "/login"), status_code=303)


@router.get("/tasks", response_class=HTMLResponse)
def my_tasks(
    request: Request,
    tasks: TaskServiceDep,
    user: TaskWorkerPage,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    page = tasks.list_tasks(user.actor, assignee=user.actor.user_id, limit=50, offset=offset)
    return render(request, "my_tasks.html", {"user": user, "page": page})


@router.get("/queue", response_class=HTMLResponse)
def team_queue(
    request: Request,
    filters: Annotated[QueueFilters, Query()],
    tasks: TaskServiceDep,
    user: TaskWorkerPage,
) -> HTMLResponse:
    unassigned = filters.show == "unassigned"
    page = tasks.list_tasks(
        user.actor,
        queue=user.actor.role if unassigned else None,
        unassigned=unassigned,
        category=filters.category,
        payer_id=filters.payer_id,
        escalated=filters.escalated,
        stalled=filters.stalled,
        by_deadline=filters.sort == "deadline",
        limit=50,
        offset=filters.offset,
    )
    return render(
        request,
        "queue.html",
        {"user": user, "page": page, "filters": filters, "categories": CATEGORIES},
    )


@router.post("/tasks/{task_id}/claim")
async def claim(
    task_id: str, form: PostedForm, tasks: TaskServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    await tasks.claim(task_id, user.actor)
    back = safe_next(str(form.get("back") or "/queue"))
    return redirect_with_flash(back, "Task claimed: it is in My tasks")


@router.get("/cases", response_class=HTMLResponse)
def case_list(
    request: Request,
    filters: Annotated[CaseFilters, Query()],
    cases: CaseServiceDep,
    stops: StoppedCaseServiceDep,
    user: CaseReaderPage,
) -> HTMLResponse:
    page = cases.list_cases(filters, user.actor)
    return render(
        request,
        "cases.html",
        {
            "page": page,
            "filters": filters,
            "categories": CATEGORIES,
            "user": user,
            # Cases whose workflow was stopped in Temporal: marked in the list, and counted
            # for supervisors, who restart them.
            "stopped": stops.stopped_among([case.case_id for case in page.items]),
            "stopped_total": stops.count()
            if allows(user.actor.role, Permission.RESTART_WORKFLOWS)
            else 0,
        },
    )
