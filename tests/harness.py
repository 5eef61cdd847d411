"""Driving case workflows in tests: start, wait, complete tasks, read the read model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.models import CaseEventRow, CaseRow, TaskRow
from domain.appeals.attestation import attestation_problem
from domain.case import Actor, CaseEvent, CasePolicy, CaseState, CaseStatus, Role, Task, TaskType
from domain.identity import case_id_for
from domain.models import DenialRecord
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.ingest import IngestService
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import CaseInput, CompleteTask, RecordAttestation, TaskPayload

ALICE = Actor(user_id="alice", role=Role.BILLER)
DREW = Actor(user_id="drew", role=Role.PHYSICIAN)
BOB = Actor(user_id="bob", role=Role.BILLER)
SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
ADA = Actor(user_id="ada", role=Role.ADMIN)

CaseHandle = WorkflowHandle[DenialCaseWorkflow, object]


class CaseHarness:
    def __init__(
        self,
        env: WorkflowEnvironment,
        engine: Engine,
        task_queue: str,
        policy: CasePolicy,
        data_dir: Path | None = None,
    ) -> None:
        self.env = env
        self.client = env.client
        self.engine = engine
        self.task_queue = task_queue
        self.policy = policy
        self.data_dir = data_dir  # case documents and the outbox of the worker

    def case_service(
        self, session: Session, rulebook: Rulebook, client: Client | None = None
    ) -> CaseService:
        return CaseService(
            session,
            client or self.client,
            rulebook,
            self.policy,
            self.task_queue,
            AuditService(session),
        )

    def ingest_service(
        self, session: Session, rulebook: Rulebook, client: Client | None = None
    ) -> IngestService:
        return IngestService(
            session, self.case_service(session, rulebook, client), rulebook, AuditService(session)
        )

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def start(self, record: DenialRecord, *, case_id: str | None = None) -> CaseHandle:
        case_id = case_id or case_id_for(record)
        return await self.client.start_workflow(
            DenialCaseWorkflow.run,
            CaseInput(case_id=case_id, record=record, policy=self.policy),
            id=case_id,
            task_queue=self.task_queue,
        )

    async def state(self, handle: CaseHandle) -> CaseState:
        return await handle.query(DenialCaseWorkflow.state)

    async def wait_for(
        self, handle: CaseHandle, predicate: Callable[[CaseState], bool], timeout: float = 15.0
    ) -> CaseState:
        """Poll the Query until `predicate` holds (real time; the test server's clock stays put)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            state = await self.state(handle)
            if predicate(state):
                return state
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting; case is {state.status.value}")
            await asyncio.sleep(0.05)

    async def wait_status(self, handle: CaseHandle, status: CaseStatus) -> CaseState:
        return await self.wait_for(handle, lambda s: s.status is status)

    async def triaged(self, record: DenialRecord) -> tuple[CaseHandle, CaseState]:
        handle = await self.start(record)
        return handle, await self.wait_status(handle, CaseStatus.TRIAGED)

    @staticmethod
    def open_task(state: CaseState, task_type: TaskType) -> Task:
        matches = [t for t in state.open_tasks if t.type is task_type]
        assert matches, (
            f"no open {task_type.value} task; open: {[t.type.value for t in state.open_tasks]}"
        )
        return matches[-1]

    async def complete(
        self, handle: CaseHandle, task_type: TaskType, payload: TaskPayload, actor: Actor = ALICE
    ) -> CaseState:
        """Complete the open task of `task_type`; the case as the Query shows it afterwards."""
        task = self.open_task(await self.state(handle), task_type)
        await handle.execute_update(
            DenialCaseWorkflow.complete_task,
            CompleteTask(actor=actor, task_id=task.task_id, payload=payload),
        )
        return await self.state(handle)

    async def update(self, handle: CaseHandle, update: Any, request: Any) -> CaseState:
        """Send an Update (its result is a small receipt); the case as the Query shows it."""
        await handle.execute_update(update, request)
        return await self.state(handle)

    async def attest_if_required(self, handle: CaseHandle) -> CaseState:
        """A physician attests, when the case's category needs it before an appeal."""
        state = await self.state(handle)
        if attestation_problem(state.category, state.attestation) is None:
            return state
        await handle.execute_update(
            DenialCaseWorkflow.record_attestation,
            RecordAttestation(
                actor=DREW, physician_name="Dr. Drew Test", statement="Medically necessary"
            ),
        )
        return await self.state(handle)

    async def sleep(self, delta: timedelta) -> None:
        """Advance the test server's clock; timers due meanwhile fire."""
        await self.env.sleep(delta)

    # --- Read model -------------------------------------------------------------------------

    def case_row(self, case_id: str) -> CaseRow | None:
        with Session(self.engine) as session:
            return session.get(CaseRow, case_id)

    def task_rows(self, case_id: str) -> list[TaskRow]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(TaskRow).where(TaskRow.case_id == case_id).order_by(col(TaskRow.task_id))
                )
            )

    def event_rows(self, case_id: str) -> list[CaseEventRow]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(CaseEventRow)
                    .where(CaseEventRow.case_id == case_id)
                    .order_by(col(CaseEventRow.seq))
                )
            )

    def timeline(self, state: CaseState) -> list[CaseEvent]:
        """The case's whole timeline as of `state`: the read model's events, then the ones the
        workflow holds until it projects them."""
        projected = [
            CaseEvent.model_validate(row, from_attributes=True)
            for row in self.event_rows(state.case_id)
        ]
        last = projected[-1].seq if projected else 0
        return [*projected, *(e for e in state.pending_events if e.seq > last)]
