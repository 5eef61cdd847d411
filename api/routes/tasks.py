"""Tasks: worklists, and completing, claiming, releasing and reassigning tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.errors import ERROR_RESPONSES
from api.json_responses import json_answer
from app.deps import OffsetQuery, PreferenceServiceDep, Supervisor, TaskServiceDep, TaskWorker
from domain.case import Role, TaskStatus
from domain.worklist import WorkView
from services.preferences import Preferences
from services.schemas import Page, TaskWithCase
from services.tasks import BulkOutcome
from workflows.messages import CaseChange, TaskPayload

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], responses=ERROR_RESPONSES)


class CompleteIn(BaseModel):
    payload: TaskPayload


class ReassignIn(BaseModel):
    assignee: str | None = Field(default=None, description="User id; omit to send to a queue")
    queue: Role | None = Field(default=None, description="Queue when no assignee is given")
    reason: str = Field(default="", max_length=2000)
    override_absence: bool = Field(
        default=False,
        description="Assign to a user out of office anyway (otherwise 409 while they are away)",
    )


class BulkReassignIn(ReassignIn):
    task_ids: list[str] = Field(min_length=1, max_length=500)


class NextTask(BaseModel):
    task: TaskWithCase | None = Field(description="None when nothing actionable is left")


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = OffsetQuery
CursorQuery = Annotated[
    str | None,
    Query(
        description="A page's next_cursor or prev_cursor: the page after (or before) it in the "
        "same view; a damaged one, or one of another view, is a 422"
    ),
]
ViewQuery = Annotated[
    WorkView,
    Query(
        description="actionable (the default of /mine and /queue), waiting (on the payer), "
        "parked (until the case's follow-up date), or all"
    ),
]


@router.get("", response_model=Page[TaskWithCase])
def list_tasks(
    tasks: TaskServiceDep,
    actor: TaskWorker,
    assignee: str | None = None,
    queue: Role | None = None,
    unassigned: bool = False,
    status: TaskStatus | None = TaskStatus.OPEN,
    case_id: str | None = None,
    view: ViewQuery = WorkView.ALL,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: CursorQuery = None,
) -> Response:
    """Tasks, a page at a time: page on with `cursor` (the page's next_cursor); `total`
    counts up to 10,000 (then `total_capped`)."""
    page = tasks.list_tasks(
        actor,
        assignee=assignee,
        queue=queue,
        unassigned=unassigned,
        status=status,
        case_id=case_id,
        view=view,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return json_answer(page)


@router.get("/mine", response_model=Page[TaskWithCase])
def my_tasks(
    tasks: TaskServiceDep,
    actor: TaskWorker,
    view: ViewQuery = WorkView.ACTIONABLE,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: CursorQuery = None,
) -> Response:
    """The caller's open tasks: by default those that can be worked today."""
    page = tasks.list_tasks(
        actor, assignee=actor.user_id, view=view, limit=limit, offset=offset, cursor=cursor
    )
    return json_answer(page)


@router.get("/queue", response_model=Page[TaskWithCase])
def team_queue(
    tasks: TaskServiceDep,
    actor: TaskWorker,
    view: ViewQuery = WorkView.ACTIONABLE,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: CursorQuery = None,
) -> Response:
    """Unassigned open tasks in the caller's queue (supervisors: the supervisor queue)."""
    page = tasks.list_tasks(
        actor,
        queue=actor.role,
        unassigned=True,
        view=view,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return json_answer(page)


@router.get("/next")
def next_task(tasks: TaskServiceDep, actor: TaskWorker) -> NextTask:
    """The top of the caller's actionable tasks: the one to work next."""
    return NextTask(task=tasks.next_task(actor))


@router.get("/preferences")
def get_preferences(preferences: PreferenceServiceDep, actor: TaskWorker) -> Preferences:
    return preferences.get(actor.user_id)


@router.put("/preferences")
def set_preferences(
    body: Preferences, preferences: PreferenceServiceDep, actor: TaskWorker
) -> Preferences:
    """The caller's own settings (continue_to_next_task: after completing a task in the
    web UI, open the next one)."""
    return preferences.set(actor.user_id, body)


@router.post("/{task_id}/complete")
async def complete_task(
    task_id: str, body: CompleteIn, tasks: TaskServiceDep, actor: TaskWorker
) -> CaseChange:
    return await tasks.complete(task_id, body.payload, actor)


@router.post("/{task_id}/claim")
async def claim_task(task_id: str, tasks: TaskServiceDep, actor: TaskWorker) -> CaseChange:
    return await tasks.claim(task_id, actor)


@router.post("/{task_id}/release")
async def release_task(task_id: str, tasks: TaskServiceDep, actor: TaskWorker) -> CaseChange:
    return await tasks.release(task_id, actor)


@router.post("/{task_id}/reassign")
async def reassign_task(
    task_id: str, body: ReassignIn, tasks: TaskServiceDep, actor: Supervisor
) -> CaseChange:
    return await tasks.reassign(
        task_id,
        actor,
        assignee=body.assignee,
        queue=body.queue,
        reason=body.reason,
        override_absence=body.override_absence,
    )


@router.post("/reassign")
async def bulk_reassign(
    body: BulkReassignIn, tasks: TaskServiceDep, actor: Supervisor
) -> list[BulkOutcome]:
    """Reassign many tasks at once; each result says whether that task moved."""
    return await tasks.bulk_reassign(
        body.task_ids,
        actor,
        assignee=body.assignee,
        queue=body.queue,
        reason=body.reason,
        override_absence=body.override_absence,
    )
