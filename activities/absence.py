"""Out of office: moving an absent user's open tasks to others by workload, and back.

Idempotent: each move is recorded (absence, task) before the next, a task already moved is
not moved twice, and a task returned is marked so.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from db.models import AbsenceReassignmentRow, AbsenceRow, TaskRow, UserRow
from domain.case import Actor, TaskStatus
from domain.permissions import Permission, roles_allowed
from domain.workload import distribute
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import ReassignTask


class AbsenceStep(BaseModel):
    absence_id: str
    user_id: str
    by: Actor
    status: str


class AbsenceActivities:
    def __init__(self, engine: Engine, client: Client) -> None:
        self._engine = engine
        self._client = client

    @activity.defn(name="absence_mark")
    def mark(self, step: AbsenceStep) -> None:
        with Session(self._engine) as session:
            absence = session.get(AbsenceRow, step.absence_id)
            if absence is not None:
                absence.status = step.status
                session.add(absence)
                session.commit()

    async def _reassign(
        self, case_id: str, task_id: str, to_user: str, by: Actor, why: str
    ) -> bool:
        handle = self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
        try:
            await handle.execute_update(
                DenialCaseWorkflow.reassign_task,
                ReassignTask(actor=by, task_id=task_id, assignee=to_user, reason=why),
            )
        except WorkflowUpdateFailedError:  # completed, or the case closed, meanwhile
            return False
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise  # Temporal unreachable or busy: the activity is retried
            return False
        return True

    def _plan(self, step: AbsenceStep) -> list[tuple[str, str, str]]:
        """(task id, case id, new assignee) for the absent user's open tasks not yet moved."""
        with Session(self._engine) as session:
            moved = set(
                session.exec(
                    select(AbsenceReassignmentRow.task_id).where(
                        AbsenceReassignmentRow.absence_id == step.absence_id
                    )
                )
            )
            tasks = [
                task
                for task in session.exec(
                    select(TaskRow)
                    .where(
                        col(TaskRow.assignee) == step.user_id,
                        col(TaskRow.status) == TaskStatus.OPEN.value,
                    )
                    .order_by(col(TaskRow.priority).desc())
                )
                if task.task_id not in moved
            ]
            away = set(
                session.exec(select(AbsenceRow.user_id).where(col(AbsenceRow.status) == "active"))
            ) | {step.user_id}
            billers = [
                user.user_id
                for user in session.exec(
                    select(UserRow).where(
                        col(UserRow.active),
                        col(UserRow.role).in_(roles_allowed(Permission.COVERED_WHEN_AWAY)),
                    )
                )
                if user.user_id not in away
            ]
            loads = dict(
                session.exec(
                    select(TaskRow.assignee, func.count())
                    .where(col(TaskRow.status) == TaskStatus.OPEN.value)
                    .group_by(col(TaskRow.assignee))
                ).all()
            )
        plan = distribute([t.task_id for t in tasks], {b: loads.get(b, 0) for b in billers})
        return [(t.task_id, t.case_id, plan[t.task_id]) for t in tasks if t.task_id in plan]

    @activity.defn(name="absence_redistribute")
    async def redistribute(self, step: AbsenceStep) -> int:
        """Mark the absence active (others' tasks no longer come to this user), then move
        the user's open tasks."""
        await asyncio.to_thread(self.mark, step)
        plan = await asyncio.to_thread(self._plan, step)
        moved = 0
        for task_id, case_id, to_user in plan:
            activity.heartbeat(task_id)
            if await self._reassign(
                case_id, task_id, to_user, step.by, f"{step.user_id} is out of office"
            ):
                await asyncio.to_thread(self._record, step.absence_id, task_id, case_id, to_user)
                moved += 1
        return moved

    def _record(self, absence_id: str, task_id: str, case_id: str, to_user: str) -> None:
        with Session(self._engine) as session:
            session.merge(
                AbsenceReassignmentRow(
                    absence_id=absence_id, task_id=task_id, case_id=case_id, to_user=to_user
                )
            )
            session.commit()

    def _to_return(self, step: AbsenceStep) -> list[AbsenceReassignmentRow]:
        """Moved tasks still open with the colleague who took them over."""
        with Session(self._engine, expire_on_commit=False) as session:
            rows = session.exec(
                select(AbsenceReassignmentRow, TaskRow)
                .join(TaskRow, col(TaskRow.task_id) == col(AbsenceReassignmentRow.task_id))
                .where(
                    AbsenceReassignmentRow.absence_id == step.absence_id,
                    col(AbsenceReassignmentRow.returned).is_(False),
                    col(TaskRow.status) == TaskStatus.OPEN.value,
                    col(TaskRow.assignee) == col(AbsenceReassignmentRow.to_user),
                )
            ).all()
            return [row for row, _ in rows]

    def _is_active(self, user_id: str) -> bool:
        with Session(self._engine) as session:
            user = session.get(UserRow, user_id)
            return user is not None and user.active

    @activity.defn(name="absence_give_back")
    async def give_back(self, step: AbsenceStep) -> int:
        """Tasks moved away come back, unless the user was deactivated meanwhile (their work
        went back to the queues then)."""
        if not await asyncio.to_thread(self._is_active, step.user_id):
            return 0
        returned = 0
        for row in await asyncio.to_thread(self._to_return, step):
            activity.heartbeat(row.task_id)
            if await self._reassign(
                row.case_id, row.task_id, step.user_id, step.by, f"{step.user_id} is back"
            ):
                returned += 1
            await asyncio.to_thread(self._mark_returned, row.absence_id, row.task_id)
        return returned

    def _mark_returned(self, absence_id: str, task_id: str) -> None:
        with Session(self._engine) as session:
            row = session.get(AbsenceReassignmentRow, (absence_id, task_id))
            if row is not None:
                row.returned = True
                session.add(row)
                session.commit()
