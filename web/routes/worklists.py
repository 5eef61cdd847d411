"""Worklists: my tasks and the team queue (the case list is in web.routes.case_list)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, model_validator

from app.deps import (
    FollowUpServiceDep,
    PreferenceServiceDep,
    TaskServiceDep,
)
from domain.case import Actor, Role, Task
from domain.models import Category
from domain.permissions import Permission, allows
from domain.worklist import WorkView
from services.errors import Invalid, NotFound
from services.preferences import Preferences, PreferenceService
from services.schemas import MAX_OFFSET, drop_empty
from services.tasks import TaskService
from web.session import PageUser, PostedForm, TaskWorkerPage, safe_next
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
    view: WorkView = WorkView.ACTIONABLE
    category: str | None = None
    payer_id: str | None = None
    escalated: bool | None = None
    stalled: bool | None = None
    sort: str = Field(default="priority", pattern="^(priority|deadline)$")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    cursor: str | None = None  # a page's link to the next or previous page


@router.get("/")
def home(user: PageUser) -> RedirectResponse:
    return RedirectResponse(HOME_BY_ROLE.get(user.actor.role, "/login"), status_code=303)


# The tabs of My tasks and the team queue: what can be done today first.
TABS = (
    (WorkView.ACTIONABLE, "Actionable"),
    (WorkView.WAITING, "Waiting on payer"),
    (WorkView.PARKED, "Parked"),
)


def task_form_url(case_id: str, task_id: str) -> str:
    """A task's case page with its form, the first field focused (keyboard users land in it)."""
    return f"/cases/{case_id}?task={task_id}&focus=form"


def can_release(actor: Actor, task: Task | None) -> bool:
    """A claimed task goes back to its queue by its assignee, or by a supervisor (as the
    workflow's validator has it)."""
    return (
        task is not None
        and task.assignee is not None
        and (task.assignee == actor.user_id or allows(actor.role, Permission.SUPERVISE))
    )


def to_next_task(
    tasks: TaskService, actor: Actor, done: str = "", other_than_case: str | None = None
) -> RedirectResponse:
    """To the form of the top actionable task of My tasks, or the queue when none is left."""
    task = tasks.next_task(actor, other_than_case)
    if task is None:
        return redirect_with_flash(
            "/queue", f"{done}Nothing actionable left in My tasks: claim work from the team queue"
        )
    return redirect_with_flash(task_form_url(task.case_id, task.task_id), f"{done}Next task")


def after_completion(
    tasks: TaskService, preferences: PreferenceService, actor: Actor, case_id: str, done: str
) -> RedirectResponse:
    """Where a completed task's form leads: the next task for those who chose to continue,
    else the same case (its next step, if any, is the form shown)."""
    if preferences.get(actor.user_id).continue_to_next_task:
        return to_next_task(tasks, actor, f"Done: {done.lower()}. ")
    return redirect_with_flash(f"/cases/{case_id}", f"Done: {done.lower()}")


@router.get("/tasks", response_class=HTMLResponse)
def my_tasks(
    request: Request,
    tasks: TaskServiceDep,
    preferences: PreferenceServiceDep,
    user: TaskWorkerPage,
    view: WorkView = WorkView.ACTIONABLE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: str | None = None,
) -> HTMLResponse:
    me = user.actor.user_id
    page = tasks.list_tasks(
        user.actor, assignee=me, view=view, limit=50, offset=offset, cursor=cursor
    )
    return render(
        request,
        "my_tasks.html",
        {
            "user": user,
            "page": page,
            "pager_base": _query_without(request, *PAGING),
            "view": view,
            "tabs": TABS,
            "counts": tasks.count_by_view(assignee=me),
            "preferences": preferences.get(me),
        },
    )


@router.get("/tasks/next")
def next_task(
    tasks: TaskServiceDep, user: TaskWorkerPage, after: str | None = None
) -> RedirectResponse:
    """The next task's form; `after` is the case the user leaves (its tasks are skipped)."""
    return to_next_task(tasks, user.actor, other_than_case=after)


@router.post("/tasks/preferences")
def set_preferences(
    form: PostedForm, preferences: PreferenceServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    chosen = Preferences(continue_to_next_task=form.get("continue_to_next_task") == "on")
    preferences.set(user.actor.user_id, chosen)
    return redirect_with_flash(
        "/tasks",
        "After completing a task you go to the next one"
        if chosen.continue_to_next_task
        else "After completing a task you stay on its case",
    )


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
        view=filters.view,
        by_deadline=filters.sort == "deadline",
        limit=50,
        offset=filters.offset,
        cursor=filters.cursor,
    )
    # Counting every open task of the team per tab costs more than a page: the unassigned
    # queue (the default) says how many, "all" does not.
    counts = tasks.count_by_view(queue=user.actor.role, unassigned=True) if unassigned else {}
    return render(
        request,
        "queue.html",
        {
            "user": user,
            "page": page,
            "filters": filters,
            "categories": CATEGORIES,
            "tabs": TABS,
            "counts": counts,
            "tab_base": _query_without(request, "view", *PAGING),
            "pager_base": _query_without(request, *PAGING),
        },
    )


PAGING = ("offset", "cursor")


def _query_without(request: Request, *names: str) -> str:
    """The page's URL with its query less `names`, ready for "name=value" to be appended."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in names]
    return f"{request.url.path}?{urlencode(kept)}{'&' if kept else ''}"


@router.post("/tasks/{task_id}/claim")
async def claim(
    task_id: str, form: PostedForm, tasks: TaskServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    await tasks.claim(task_id, user.actor)
    back = safe_next(str(form.get("back") or "/queue"))
    return redirect_with_flash(back, "Task claimed: it is in My tasks")


@router.post("/cases/{case_id}/release/{task_id}")
async def release_task(
    case_id: str, task_id: str, form: PostedForm, tasks: TaskServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    """Give a claimed task back to its queue, unassigned."""
    await tasks.release(task_id, user.actor)
    return redirect_with_flash("/tasks", "Task released: it is back in the team queue")


@router.post("/cases/{case_id}/follow-up")
def set_follow_up(
    case_id: str, form: PostedForm, follow_ups: FollowUpServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    """Park the case until a day, with a reason: it leaves the actionable worklists."""
    back = f"/cases/{case_id}"
    try:
        on = date.fromisoformat(str(form.get("follow_up_on") or ""))
    except ValueError:
        return redirect_with_flash(back, "Follow-up date: give a day (YYYY-MM-DD)")
    try:
        follow_ups.set(case_id, on, str(form.get("reason") or ""), user.actor)
    except Invalid as exc:
        return redirect_with_flash(back, f"Not parked: {exc.message}")
    return redirect_with_flash(
        back, f"Parked until {on.isoformat()}: the case comes back to the worklists that day"
    )


@router.post("/cases/{case_id}/follow-up/clear")
def clear_follow_up(
    case_id: str, form: PostedForm, follow_ups: FollowUpServiceDep, user: TaskWorkerPage
) -> RedirectResponse:
    try:
        follow_ups.clear(case_id, user.actor)
    except NotFound:
        return redirect_with_flash(f"/cases/{case_id}", "The case had no follow-up date")
    return redirect_with_flash(f"/cases/{case_id}", "Follow-up date cleared: the case is back")
