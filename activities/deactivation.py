"""A deactivated user's work goes back: her open tasks to their queues, her cases' ownership
to the queue (so their new tasks are not assigned to her). Idempotent: a case with nothing of
hers left is a no-op, so a retried run only finishes what is left."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.case import Actor
from services.audit import AuditService
from services.users import cases_holding
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import ReturnUserWork


class HandBack(BaseModel):
    user_id: str
    by: Actor


class DeactivationActivities:
    def __init__(self, engine: Engine, client: Client) -> None:
        self._engine = engine
        self._client = client

    def _cases_holding(self, user_id: str) -> list[str]:
        with Session(self._engine) as session:
            return cases_holding(session, user_id)

    def _audit(self, step: HandBack, case_id: str, changes: list[str]) -> None:
        with Session(self._engine) as session:
            AuditService(session).record(
                step.by,
                "user.work_returned",
                case_id=case_id,
                target=step.user_id,
                tasks=changes.count("task_returned"),
                ownership=("owner_cleared" in changes) or None,
            )

    @activity.defn(name="hand_back_user_work")
    async def hand_back(self, step: HandBack) -> int:
        """Return what the user holds, case by case; the number of cases changed."""
        changed = 0
        for case_id in await asyncio.to_thread(self._cases_holding, step.user_id):
            activity.heartbeat(case_id)
            handle = self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
            try:
                receipt = await handle.execute_update(
                    DenialCaseWorkflow.return_user_work,
                    ReturnUserWork(
                        actor=step.by,
                        user_id=step.user_id,
                        reason=f"{step.user_id} was deactivated by {step.by.user_id}",
                    ),
                )
            except WorkflowUpdateFailedError:  # closed meanwhile
                continue
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise  # Temporal unreachable: the activity is retried, nothing is skipped
                continue
            if receipt.changes:
                await asyncio.to_thread(self._audit, step, case_id, receipt.changes)
                changed += 1
        return changed
