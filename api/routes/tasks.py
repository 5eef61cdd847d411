"""Tasks: worklists, and completing, claiming, releasing and reassigning a task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ActorDep, TaskServiceDep
from domain.case import CaseState, Role, TaskStatus
from services.schemas import Page, TaskWithCase
from workflows.messages import TaskPayload

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


class CompleteIn(BaseModel):
    payload: TaskPayload


class ReassignIn(BaseModel):
    assignee: str | None = Field(default=None, description="User id; omit to send to a queue")
    queue: Role | None = Field(default=None, description="Queue when no assignee is given")
    reason: str = Field(default="", max_length=2000)


@router.get("")
def list_tasks(
    tasks: TaskServiceDep,
    actor: ActorDep,
    assignee: str | None = None,
    queue: Role | None = None,
    unassigned: bool = False,
    status: TaskStatus | None = TaskStatus.OPEN,
    case_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[TaskWithCase]:
    return tasks.list_tasks(
        assignee=assignee,
        queue=queue,
        unassigned=unassigned,
        status=status,
        case_id=case_id,
        limit=limit,
        offset=offset,
    )


@router.get("/mine")
def my_tasks(
    tasks: TaskServiceDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[TaskWithCase]:
    return tasks.list_tasks(assignee=actor.user_id, limit=limit, offset=offset)


@router.post("/{task_id}/complete")
async def complete_task(
    task_id: str, body: CompleteIn, tasks: TaskServiceDep, actor: ActorDep
) -> CaseState:
    return await tasks.complete(task_id, body.payload, actor)


@router.post("/{task_id}/claim")
async def claim_task(task_id: str, tasks: TaskServiceDep, actor: ActorDep) -> CaseState:
    return await tasks.claim(task_id, actor)


@router.post("/{task_id}/release")
async def release_task(task_id: str, tasks: TaskServiceDep, actor: ActorDep) -> CaseState:
    return await tasks.release(task_id, actor)


@router.post("/{task_id}/reassign")
async def reassign_task(
    task_id: str, body: ReassignIn, tasks: TaskServiceDep, actor: ActorDep
) -> CaseState:
    return await tasks.reassign(
        task_id, actor, assignee=body.assignee, queue=body.queue, reason=body.reason
    )
