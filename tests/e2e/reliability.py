"""A small real deployment for the reliability tests: the `temporal` dev server, `denials
worker` processes that can be killed, a SQLite read model, encrypted payloads, and helpers to
drive cases through it with a client of their own."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from app.encryption import EncryptionCodec, Keyring
from db.engine import make_engine, migrate
from db.models import CaseEventRow, PreventionCaseLink, TaskRow
from denials.embedded import DevServer
from denials.temporal import ensure_search_attributes
from domain.case import (
    Actor,
    CasePolicy,
    CaseState,
    CaseStatus,
    PayerDecision,
    PayerResponse,
    Role,
    TaskType,
)
from domain.identity import case_id_for
from domain.models import DenialRecord
from services.users import UserService
from testkit.processes import DENIALS, free_port
from testkit.records import finished_appeal
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    CaseInput,
    CompleteTask,
    ConfirmRootCause,
    ConfirmTriage,
    TaskPayload,
)

ALICE = Actor(user_id="alice", role=Role.BILLER)
T = TypeVar("T")


class Deployment:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.keys = Keyring.new_entry("rel")
        self.task_queue = f"reliability-{os.getpid()}"
        self.database_url = f"sqlite:///{root / 'denials.db'}"
        self.engine: Engine = make_engine(self.database_url)
        migrate(self.engine)
        with Session(self.engine) as session:
            UserService(session).ensure_demo_users()
        self.server = DevServer(
            db_file=root / "temporal.db",
            port=free_port(),
            ui_port=free_port(),
            namespace="default",
            log_file=root / "temporal.log",
        )
        self.codec = EncryptionCodec(Keyring.parse(self.keys, source="test"))
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_starts = 0

    async def start_server(self) -> Client:
        self.server.start()
        client = await self.server.wait_ready("default", self.codec)
        await ensure_search_attributes(client, "default")
        return client

    def start_worker(self) -> None:
        self.worker_starts += 1
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": self.server.address,
            "DATABASE_URL": self.database_url,
            "DENIALS_TASK_QUEUE": self.task_queue,
            "DENIALS_PAYLOAD_KEYS": self.keys,
            "DENIALS_DATA_DIR": str(self.root),
        }
        with (self.root / f"worker-{self.worker_starts}.log").open("wb") as log:
            self.worker = subprocess.Popen(
                [DENIALS, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def kill_worker(self) -> None:
        assert self.worker is not None and self.worker.poll() is None, "the worker died alone"
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(10)

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
        self.server.stop()
        self.engine.dispose()


async def retrying(call: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    """Retry a call that fails while no worker (or no server) is there to answer it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await call()
        except (RPCError, RuntimeError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def start_case(
    client: Client, task_queue: str, record: DenialRecord
) -> WorkflowHandle[DenialCaseWorkflow, object]:
    case_id = case_id_for(record)
    return await client.start_workflow(
        DenialCaseWorkflow.run,
        CaseInput(case_id=case_id, record=record, policy=CasePolicy()),
        id=case_id,
        task_queue=task_queue,
    )


async def wait_status(
    handle: WorkflowHandle[DenialCaseWorkflow, object], status: CaseStatus, timeout: float = 60.0
) -> CaseState:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await retrying(lambda: handle.query(DenialCaseWorkflow.state), timeout)
        if state.status is status:
            return state
        if loop.time() > deadline:
            raise AssertionError(f"{handle.id} still {state.status.value}, not {status.value}")
        await asyncio.sleep(0.2)


async def complete(
    handle: WorkflowHandle[DenialCaseWorkflow, object],
    state: CaseState,
    task_type: TaskType,
    payload: TaskPayload,
) -> CaseState:
    (task,) = [t for t in state.open_tasks if t.type is task_type]
    await retrying(
        lambda: handle.execute_update(
            DenialCaseWorkflow.complete_task,
            CompleteTask(actor=ALICE, task_id=task.task_id, payload=payload),
        )
    )
    return await retrying(lambda: handle.query(DenialCaseWorkflow.state))


async def to_awaiting_payer(
    handle: WorkflowHandle[DenialCaseWorkflow, object], today: date
) -> CaseState:
    """Triage, root cause and a level 1 appeal: three Updates, each with its projection."""
    state = await wait_status(handle, CaseStatus.TRIAGED)
    state = await complete(handle, state, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    state = await complete(handle, state, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
    appeal = finished_appeal(1, "medically necessary", today)
    state = await complete(handle, state, TaskType.PREPARE_APPEAL, appeal)
    assert state.status is CaseStatus.AWAITING_PAYER
    return state


async def paid(handle: WorkflowHandle[DenialCaseWorkflow, object], today: date) -> None:
    response = PayerResponse(
        decision=PayerDecision.PAID, paid_amount=Decimal(900), decision_date=today, source="835"
    )
    await retrying(lambda: handle.signal(DenialCaseWorkflow.payer_response, response))


def assert_recorded_once(engine: Engine, state: CaseState) -> None:
    """The read model holds each task and timeline event of the case exactly once, and the
    case emitted exactly one prevention item."""
    case_id = state.case_id
    with Session(engine) as session:
        tasks = session.exec(select(TaskRow.task_id).where(TaskRow.case_id == case_id)).all()
        events = session.exec(
            select(CaseEventRow.seq, CaseEventRow.type)
            .where(CaseEventRow.case_id == case_id)
            .order_by(col(CaseEventRow.seq))
        ).all()
        links = session.exec(
            select(PreventionCaseLink).where(PreventionCaseLink.case_id == case_id)
        ).all()
    assert sorted(tasks) == sorted(t.task_id for t in state.tasks), case_id
    assert [seq for seq, _ in events] == sorted({seq for seq, _ in events}), case_id
    # Settled, the workflow holds no event: each one is in the read model, once, in order.
    assert state.pending_events == [], case_id
    assert [seq for seq, _ in events] == list(range(1, state.event_seq + 1)), case_id
    assert [kind for _, kind in events].count("closed") == 1
    assert len(links) == 1, f"{case_id}: {len(links)} prevention links"
