"""Task operations: worklists from the read model, and task actions sent to the workflow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle

from db.models import CaseRow, TaskRow, UserRow
from domain.case import Actor, Role, TaskStatus
from services.audit import AuditService, Outcome
from services.errors import Invalid, NoAnswer, NotFound, ServiceError
from services.schemas import Page, TaskWithCase
from services.stopped_cases import case_errors
from services.temporal_calls import new_update_id, release_connection
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    CaseChange,
    ClaimTask,
    CompleteTask,
    ReassignTask,
    ReleaseTask,
    TaskPayload,
)


class BulkOutcome(BaseModel):
    task_id: str
    ok: bool
    status_code: int
    detail: str = ""


class TaskService:
    """Worklists and task actions for an acting user; every action is audited."""

    def __init__(self, session: Session, client: Client, audit: AuditService) -> None:
        self._session = session
        self._client = client
        self._audit = audit

    def list_tasks(
        self,
        actor: Actor,
        *,
        assignee: str | None = None,
        queue: Role | None = None,
        unassigned: bool = False,
        status: TaskStatus | None = TaskStatus.OPEN,
        case_id: str | None = None,
        category: str | None = None,
        payer_id: str | None = None,
        escalated: bool | None = None,
        stalled: bool | None = None,
        by_deadline: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[TaskWithCase]:
        """Tasks with their case's headline, most urgent first (priority, or the deadline)."""
        conditions = []
        if category:
            conditions.append(col(CaseRow.category) == category)
        if payer_id:
            conditions.append(col(CaseRow.payer_id) == payer_id)
        if escalated is not None:
            at_least_escalated = col(TaskRow.escalation) >= 2
            conditions.append(at_least_escalated if escalated else ~at_least_escalated)
        if stalled is not None:
            conditions.append(col(TaskRow.stalled) == stalled)
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
        joined = col(CaseRow.case_id) == col(TaskRow.case_id)
        total = self._session.exec(
            select(func.count()).select_from(TaskRow).join(CaseRow, joined).where(*conditions)
        ).one()
        ordering = (
            (col(TaskRow.due_at), col(TaskRow.priority).desc())
            if by_deadline
            else (col(TaskRow.priority).desc(), col(TaskRow.due_at))
        )
        rows = self._session.exec(
            select(TaskRow, CaseRow)
            .join(CaseRow, joined)
            .where(*conditions)
            .order_by(*ordering, col(TaskRow.task_id))
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
                    "payer_claim_control_number": case.payer_claim_control_number,
                    "case_status": case.status,
                }
            )
            for task, case in rows
        ]
        self._audit.record(
            actor,
            "task.list",
            assignee=assignee,
            queue=queue.value if queue else None,
            unassigned=unassigned or None,
            case_id=case_id,
            shown=len(items),
        )
        return Page[TaskWithCase](items=items, total=total, limit=limit, offset=offset)

    def get_task(self, task_id: str) -> TaskRow:
        task = self._session.get(TaskRow, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        return task

    async def _act(
        self,
        actor: Actor,
        action: str,
        task_id: str,
        update: Callable[[WorkflowHandle[DenialCaseWorkflow, object], str], Awaitable[CaseChange]],
        **detail: object,
    ) -> CaseChange:
        """Send one task action to its case's workflow, as the Update id given to `update`,
        and audit it: applied, refused, failed, or unknown when it went unanswered."""
        try:
            case_id = self.get_task(task_id).case_id
        except NotFound as exc:
            self._audit.record(actor, action, Outcome.REFUSED, task_id=task_id, reason=exc.message)
            raise
        handle = self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
        update_id = new_update_id()
        release_connection(self._session)
        try:
            async with case_errors(self._session, self._client, case_id):
                state = await update(handle, update_id)
        except NoAnswer as exc:
            self._audit.record_unanswered(
                actor,
                action,
                update_id,
                case_id=case_id,
                task_id=task_id,
                reason=exc.message,
                **detail,
            )
            raise
        except ServiceError as exc:
            outcome = Outcome.FAILED if exc.status_code >= 500 else Outcome.REFUSED
            self._audit.record(
                actor,
                action,
                outcome,
                case_id=case_id,
                task_id=task_id,
                reason=exc.message,
                **detail,
            )
            raise
        self._audit.record(
            actor, action, case_id=case_id, task_id=task_id, update_id=update_id, **detail
        )
        return state

    async def complete(self, task_id: str, payload: TaskPayload, actor: Actor) -> CaseChange:
        return await self._act(
            actor,
            "task.complete",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.complete_task,
                CompleteTask(actor=actor, task_id=task_id, payload=payload),
                id=update_id,
            ),
            type=payload.type,
        )

    async def claim(self, task_id: str, actor: Actor) -> CaseChange:
        return await self._act(
            actor,
            "task.claim",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.claim_task, ClaimTask(actor=actor, task_id=task_id), id=update_id
            ),
        )

    async def release(self, task_id: str, actor: Actor) -> CaseChange:
        return await self._act(
            actor,
            "task.release",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.release_task,
                ReleaseTask(actor=actor, task_id=task_id),
                id=update_id,
            ),
        )

    def _target_role(self, assignee: str | None, queue: Role | None) -> Role:
        """The queue a reassigned task joins: the assignee's role, or the queue named."""
        if assignee is not None:
            user = self._session.get(UserRow, assignee)
            if user is None or not user.active:
                raise Invalid(f"assignee: no active user '{assignee}'")
            role = Role(user.role)
            if role not in (Role.BILLER, Role.SUPERVISOR):
                raise Invalid(
                    f"assignee: '{assignee}' is a {role.value}, not a biller or supervisor"
                )
            return role
        if queue is not None:
            return queue
        raise Invalid("give an assignee or a queue")

    async def reassign(
        self, task_id: str, actor: Actor, *, assignee: str | None, queue: Role | None, reason: str
    ) -> CaseChange:
        """Reassign to a user (their role decides the queue) or to a queue, unassigned."""
        role = self._target_role(assignee, queue)
        return await self._act(
            actor,
            "task.reassign",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.reassign_task,
                ReassignTask(
                    actor=actor,
                    task_id=task_id,
                    assignee=assignee,
                    assignee_role=role,
                    reason=reason,
                ),
                id=update_id,
            ),
            to=assignee or role.value,
        )

    async def bulk_reassign(
        self,
        task_ids: list[str],
        actor: Actor,
        *,
        assignee: str | None,
        queue: Role | None,
        reason: str,
    ) -> list[BulkOutcome]:
        """Reassign many tasks at once; each succeeds or fails on its own (a task completed
        meanwhile is reported, the others still move)."""
        self._target_role(assignee, queue)  # a bad target fails the whole request up front
        outcomes = []
        for task_id in dict.fromkeys(task_ids):
            try:
                await self.reassign(task_id, actor, assignee=assignee, queue=queue, reason=reason)
                outcomes.append(BulkOutcome(task_id=task_id, ok=True, status_code=200))
            except ServiceError as exc:
                outcomes.append(
                    BulkOutcome(
                        task_id=task_id, ok=False, status_code=exc.status_code, detail=exc.message
                    )
                )
        return outcomes
