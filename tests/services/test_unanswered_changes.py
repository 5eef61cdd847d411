"""A change sent while the worker is down answers 503 ("may still apply"); the audit trail says
its outcome is unknown, then records it applied when the workflow applies it."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event as sqlalchemy_events
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.audit_outcomes import reconcile_unknown
from db.models import AuditEventRow, CaseRow, Outcome, TaskRow
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from denials.worker import build_worker
from domain.case import CaseEvent, CasePolicy, CaseState, CaseStatus, TaskStatus, TaskType
from domain.rulebook import Rulebook
from services import temporal_calls
from services.audit import AuditService
from services.errors import NoAnswer
from services.tasks import TaskService
from testkit.records import adj, make_record
from tests.db.test_projection import build_state, event, write
from tests.harness import ALICE, CaseHarness
from workflows.messages import ConfirmTriage


def _entries(engine: Engine, action: str) -> list[AuditEventRow]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEventRow)
                .where(AuditEventRow.action == action)
                .order_by(col(AuditEventRow.id))
            )
        )


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server, as under `denials up`: it keeps an Update admitted while no worker
    polls (the time-skipping test server does not)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(installed_binary("temporal")),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await ensure_search_attributes(env.client, "default")
        yield env


async def test_a_completion_unanswered_while_the_worker_is_down_is_reconciled_when_applied(
    dev_server: WorkflowEnvironment,
    sqlite_engine: Engine,
    rulebook: Rulebook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workflow_env = dev_server
    queue = f"test-{uuid.uuid4().hex[:8]}"
    harness = CaseHarness(workflow_env, sqlite_engine, queue, CasePolicy())

    def worker(executor: ThreadPoolExecutor, data_dir: str):  # type: ignore[no-untyped-def]
        return build_worker(
            workflow_env.client, queue, sqlite_engine, rulebook, executor, data_dir=Path(data_dir)
        )

    with ThreadPoolExecutor(4) as executor, tempfile.TemporaryDirectory() as data_dir:
        async with worker(executor, data_dir):
            today = await harness.today()
            handle, state = await harness.triaged(
                make_record(today, adjustments=[adj("CO-50", 300)])
            )
        task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)

        # The worker is down: the request waits, then answers "may still apply".
        monkeypatch.setattr(temporal_calls, "ANSWER_SECONDS", 1.0)
        with Session(sqlite_engine, expire_on_commit=False) as session:
            tasks = TaskService(session, workflow_env.client, AuditService(session), lambda: today)
            with pytest.raises(NoAnswer, match="may still be applied"):
                await tasks.complete(task.task_id, ConfirmTriage(), ALICE)
        (unknown,) = _entries(sqlite_engine, "task.complete")
        assert unknown.outcome == Outcome.UNKNOWN and unknown.update_id

        # The worker returns and applies the Update the server kept.
        async with worker(executor, data_dir):
            await harness.wait_for(
                handle, lambda s: not any(t.task_id == task.task_id for t in s.open_tasks)
            )
            await harness.wait_for(handle, lambda s: s.version == _projected(sqlite_engine, s))
    unknown_entry, applied = _entries(sqlite_engine, "task.complete")
    assert (unknown_entry.id, unknown_entry.outcome) == (unknown.id, Outcome.UNKNOWN)
    assert applied.outcome == Outcome.OK
    assert (applied.user_id, applied.task_id) == ("alice", task.task_id)
    assert applied.update_id == unknown.update_id
    assert applied.detail["reconciles"] == unknown.id
    with Session(sqlite_engine) as session:
        row = session.get(TaskRow, task.task_id)
        assert row is not None and row.status == TaskStatus.COMPLETED


def _projected(engine: Engine, state: object) -> int:
    with Session(engine) as session:
        row = session.get(CaseRow, state.case_id)  # type: ignore[attr-defined]
        return row.version if row else -1


def test_an_unknown_entry_is_settled_once_and_an_applied_one_recorded_ok(
    sqlite_engine: Engine,
) -> None:
    """The projection may come after the entry (it settles it once, however often it is
    retried) or before it (the entry is settled as soon as it is written)."""

    def noted(case_id: str, update_id: str) -> tuple[CaseState, list[CaseEvent]]:
        note = event(1, "note", "a note", "alice").model_copy(update={"update_id": update_id})
        return build_state(case_id, 1, CaseStatus.TRIAGED, [], [note]), [note]

    with Session(sqlite_engine, expire_on_commit=False) as session:
        audit = AuditService(session)
        audit.record_unanswered(ALICE, "case.note", "u-late", case_id="c1", reason="no answer")
        for _ in range(2):  # a projection retried
            write(sqlite_engine, *noted("c1", "u-late"))
        write(sqlite_engine, *noted("c2", "u-early"))
        audit.record_unanswered(ALICE, "case.note", "u-early", case_id="c2", reason="no answer")
    outcomes = [(e.update_id, e.outcome) for e in _entries(sqlite_engine, "case.note")]
    assert outcomes == [
        ("u-late", Outcome.UNKNOWN),
        ("u-late", Outcome.OK),
        ("u-early", Outcome.UNKNOWN),  # the trail is append-only: written, then settled
        ("u-early", Outcome.OK),
    ]


def test_a_projection_and_the_unanswered_request_settling_at_once_add_one_ok(
    engine: Engine,
) -> None:
    """The request's check reads the entries, then the projection settles the same Update in
    another transaction before the request writes: one 'ok' entry, not two (on each
    database)."""
    update_id = f"u-race-{uuid.uuid4().hex}"  # the database may hold other tests' entries
    with Session(engine) as session:
        AuditService(session).record(
            ALICE, "case.note", Outcome.UNKNOWN, case_id="c1", update_id=update_id
        )
    concurrent = {"done": False}

    def settle_elsewhere_first(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if concurrent["done"] or not statement.lstrip().upper().startswith("INSERT"):
            return
        concurrent["done"] = True  # the other transaction's own inserts pass through
        with Session(engine) as other:
            assert reconcile_unknown(other, [update_id]) == 1
            other.commit()

    with Session(engine) as session:
        sqlalchemy_events.listen(engine, "before_cursor_execute", settle_elsewhere_first)
        try:
            added = reconcile_unknown(session, [update_id])
            session.commit()
        finally:
            sqlalchemy_events.remove(engine, "before_cursor_execute", settle_elsewhere_first)
    assert concurrent["done"]
    assert added == 0
    outcomes = [e.outcome for e in _entries(engine, "case.note") if e.update_id == update_id]
    assert outcomes == [Outcome.UNKNOWN, Outcome.OK]
