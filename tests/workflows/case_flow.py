"""Helpers shared by the workflow path and escalation tests: walking a case to its path,
checking how it ended, expecting a refused Update, and moving the clock to an instant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from db.models import PreventionCaseLink
from domain.case import (
    Actor,
    CaseOutcome,
    CaseState,
    CaseStatus,
    PayerDecision,
    Task,
    TaskStatus,
    TaskType,
)
from domain.models import WorkPath
from testkit.records import finished_appeal
from tests.harness import ALICE, CaseHandle, CaseHarness
from workflows.messages import (
    CaseResult,
    ConfirmRootCause,
    ConfirmTriage,
    CorrectedClaimSubmitted,
    PayerResponseEntry,
)

# Medicare presumes a notice is received 5 days after its date (denials-domain.md, Deadlines).
MEDICARE_RECEIPT = 5


async def to_path(
    harness: CaseHarness,
    handle: CaseHandle,
    *,
    path: WorkPath | None = None,
    actor: Actor = ALICE,
) -> CaseState:
    """Confirm triage (optionally overriding the path) and the suggested root cause."""
    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(path=path), actor)
    assert state.status is CaseStatus.ROOT_CAUSE
    return await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause(), actor)


async def submit_appeal(
    harness: CaseHarness, handle: CaseHandle, level: int, submitted_on: date
) -> CaseState:
    await harness.attest_if_required(handle)
    state = await harness.complete(
        handle,
        TaskType.PREPARE_APPEAL,
        finished_appeal(level, f"level {level} argument", submitted_on),
    )
    assert state.status is CaseStatus.AWAITING_PAYER
    return state


async def submit_corrected_claim(
    harness: CaseHarness, handle: CaseHandle, submitted_on: date
) -> CaseState:
    state = await harness.complete(
        handle,
        TaskType.PREPARE_CORRECTED_CLAIM,
        CorrectedClaimSubmitted(corrections="fixed the claim", submitted_on=submitted_on),
    )
    assert state.status is CaseStatus.AWAITING_PAYER
    return state


async def appeal_and_get_paid(
    harness: CaseHarness, handle: CaseHandle, amount: Decimal, on: date
) -> CaseState:
    """Triage to the appeal path, submit level 1, and record the payer paying `amount`."""
    await to_path(harness, handle, path=WorkPath.APPEAL)
    await submit_appeal(harness, handle, 1, on)
    return await harness.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        PayerResponseEntry(decision=PayerDecision.PAID, paid_amount=amount, decision_date=on),
    )


def due(state: CaseState, key: str) -> date:
    """The due date of the case's deadline `key` (e.g. "appeal:1"); it must exist."""
    deadline = state.deadline(key)
    assert deadline is not None, f"no {key} deadline in {[d.key for d in state.deadlines]}"
    return deadline.due


def task_of(state: CaseState, task_id: str) -> Task:
    task = state.task(task_id)
    assert task is not None, f"no task {task_id}"
    return task


def open_tasks_of(state: CaseState, task_type: TaskType) -> list[Task]:
    return [t for t in state.open_tasks if t.type is task_type]


def event_types(harness: CaseHarness, state: CaseState) -> list[str]:
    return [e.type for e in harness.timeline(state)]


async def refused(update: Awaitable[Any], kind: str) -> str:
    """Await an Update that must be refused with ApplicationError type `kind`; its message."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await update
    cause = info.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == kind, f"refused as {cause.type}: {cause.message}"
    return cause.message


async def projected(harness: CaseHarness, handle: CaseHandle) -> CaseState:
    """The case's state once the read model has caught up with it (timer-driven changes are
    projected by an activity after the Query already shows them)."""
    state = await harness.state(handle)
    for _ in range(300):
        row = harness.case_row(handle.id)
        if row is not None and row.version >= state.version:
            return state
        await asyncio.sleep(0.05)
        state = await harness.state(handle)
    raise AssertionError(f"read model of {handle.id} stuck behind version {state.version}")


async def sleep_until(harness: CaseHarness, instant: datetime) -> None:
    """Advance the test server's clock to `instant` (which must be in the future)."""
    delta = instant - await harness.now()
    assert delta > timedelta(0), f"{instant} is already past"
    await harness.sleep(delta)


def prevention_links(harness: CaseHarness, case_id: str) -> list[PreventionCaseLink]:
    with Session(harness.engine) as session:
        return list(
            session.exec(select(PreventionCaseLink).where(PreventionCaseLink.case_id == case_id))
        )


async def assert_closed(
    harness: CaseHarness,
    handle: CaseHandle,
    outcome: CaseOutcome,
    recovered: Decimal = Decimal(0),
) -> CaseState:
    """The workflow's result, its Query state and its read-model row agree on the ending, and
    the case emitted exactly one prevention task."""
    result = await handle.result()
    assert isinstance(result, CaseResult)
    assert result.case_id == handle.id
    assert result.outcome is outcome
    assert result.recovered_amount == recovered

    state = await harness.state(handle)
    assert state.status is CaseStatus.CLOSED
    assert state.outcome is outcome
    assert state.recovered_amount == recovered
    assert state.closed_at is not None
    assert state.open_tasks == []
    assert state.prevention_task_id is not None
    assert state.prevention_task_id == result.prevention_task_id

    row = harness.case_row(handle.id)
    assert row is not None
    assert row.status == CaseStatus.CLOSED.value
    assert row.outcome == outcome.value
    assert row.recovered_amount == recovered
    assert row.state["prevention_task_id"] == state.prevention_task_id
    assert all(t.status != TaskStatus.OPEN.value for t in harness.task_rows(handle.id))

    links = prevention_links(harness, handle.id)
    assert [(link.prevention_task_id, link.outcome) for link in links] == [
        (state.prevention_task_id, outcome.value)
    ]
    assert event_types(harness, state).count("prevention_task") == 1
    timeline = [e.type for e in harness.event_rows(handle.id)]
    assert timeline.count("prevention_task") == 1
    assert timeline.count("closed") == 1
    return state
