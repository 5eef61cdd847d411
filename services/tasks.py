"""Task operations: worklists from the read model, and task actions sent to the workflow."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client

from db.models import CaseRow, TaskRow, UserRow
from domain.case import Actor, CaseState, Role, TaskStatus
from services.errors import Invalid, NotFound
from services.schemas import Page, TaskWithCase
from services.temporal_calls import temporal_errors
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import ClaimTask, CompleteTask, ReassignTask, ReleaseTask, TaskPayload


class TaskService:
    def __init__(self, session: Session, client: Client) -> None:
        self._session = session
        self._client = client

    def list_tasks(
        self,
        *,
        assignee: str | None = None,
        queue: Role | None = None,
        unassigned: bool = False,
        status: TaskStatus | None = TaskStatus.OPEN,
        case_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[TaskWithCase]:
        conditions = []
        if assignee:
            conditions.append(col(TaskRow.assignee) == assignee)
        if unassigned:
            conditions.append(col(TaskRow.assignee).is_(None))
        if queue:
            conditions.append(col(TaskRow.queue) == queue.value)
        if status:
            conditions.append(col(TaskRow.status) == status.value)
        if case_id:
            conditions.append(col(TaskRow.case_id) == case_id)
        total = self._session.exec(
            select(func.count()).select_from(TaskRow).where(*conditions)
        ).one()
        rows = self._session.exec(
            select(TaskRow, CaseRow)
            .join(CaseRow, col(CaseRow.case_id) == col(TaskRow.case_id))
            .where(*conditions)
            .order_by(col(TaskRow.priority).desc(), col(TaskRow.due_at), col(TaskRow.task_id))
            .offset(offset)
            .limit(limit)
        ).all()
        items = [
            TaskWithCase.model_validate(
                {
                    **task.model_dump(),
                    "claim_id": case.claim_id,
                    "payer_name": case.payer_name,
                    "category": case.category,
                    "denied_amount": case.denied_amount,
                }
            )
            for task, case in rows
        ]
        return Page[TaskWithCase](items=items, total=total, limit=limit, offset=offset)

    def get_task(self, task_id: str) -> TaskRow:
        task = self._session.get(TaskRow, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        return task

    def _handle(self, task_id: str):  # type: ignore[no-untyped-def]
        task = self.get_task(task_id)
        return task.case_id, self._client.get_workflow_handle_for(
            DenialCaseWorkflow.run, task.case_id
        )

    async def complete(self, task_id: str, payload: TaskPayload, actor: Actor) -> CaseState:
        case_id, handle = self._handle(task_id)
        with temporal_errors(case_id):
            return await handle.execute_update(
                DenialCaseWorkflow.complete_task,
                CompleteTask(actor=actor, task_id=task_id, payload=payload),
            )

    async def claim(self, task_id: str, actor: Actor) -> CaseState:
        case_id, handle = self._handle(task_id)
        with temporal_errors(case_id):
            return await handle.execute_update(
                DenialCaseWorkflow.claim_task, ClaimTask(actor=actor, task_id=task_id)
            )

    async def release(self, task_id: str, actor: Actor) -> CaseState:
        case_id, handle = self._handle(task_id)
        with temporal_errors(case_id):
            return await handle.execute_update(
                DenialCaseWorkflow.release_task, ReleaseTask(actor=actor, task_id=task_id)
            )

    async def reassign(
        self, task_id: str, actor: Actor, *, assignee: str | None, queue: Role | None, reason: str
    ) -> CaseState:
        """Reassign to a user (their role decides the queue) or to a queue, unassigned."""
        if assignee is not None:
            user = self._session.get(UserRow, assignee)
            if user is None or not user.active:
                raise Invalid(f"assignee: no active user '{assignee}'")
            role = Role(user.role)
            if role not in (Role.BILLER, Role.SUPERVISOR):
                raise Invalid(
                    f"assignee: '{assignee}' is a {role.value}, not a biller or supervisor"
                )
        elif queue is not None:
            role = queue
        else:
            raise Invalid("give an assignee or a queue")
        case_id, handle = self._handle(task_id)
        with temporal_errors(case_id):
            return await handle.execute_update(
                DenialCaseWorkflow.reassign_task,
                ReassignTask(
                    actor=actor,
                    task_id=task_id,
                    assignee=assignee,
                    assignee_role=role,
                    reason=reason,
                ),
            )
