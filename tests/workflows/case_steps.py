"""Steps shared by the validator, supervision and projection tests: drive a case to a given
point, wait until its read model caught up, and check that an Update is refused cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from denials.worker import build_worker
from domain.case import Actor, CaseState, CaseStatus, Role, TaskType
from domain.models import DenialRecord, WorkPath
from domain.rulebook import Rulebook
from testkit.records import finished_appeal
from tests.harness import ALICE, CaseHandle, CaseHarness
from workflows.messages import ConfirmRootCause, ConfirmTriage
from workflows.refusals import Refusal

SUE = Actor(user_id="sue", role=Role.SUPERVISOR)


async def settled(harness: CaseHarness, handle: CaseHandle, timeout: float = 15.0) -> CaseState:
    """The case once the read model shows the Query's version (the run loop is idle)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await harness.state(handle)
        row = harness.case_row(state.case_id)
        if row is not None and row.version == state.version:
            return state
        if loop.time() > deadline:
            seen = row.version if row else None
            raise AssertionError(f"read model at version {seen}, workflow at {state.version}")
        await asyncio.sleep(0.05)


async def expect_rejection(
    harness: CaseHarness,
    handle: CaseHandle,
    update: Callable[..., Any],
    request: Any,
    kind: Refusal,
    *fragments: str,
) -> ApplicationError:
    """Run `update` and check it is refused with `kind`, a message containing every fragment,
    and no change to the case (same state and version in the workflow and the read model)."""
    before = await settled(harness, handle)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(update, request)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError), f"cause is {cause!r}"
    assert cause.type == kind.value, f"{cause.type}: {cause.message}"
    for fragment in fragments:
        assert fragment in cause.message, f"{fragment!r} not in {cause.message!r}"
    after = await harness.state(handle)
    assert after.version == before.version
    assert after == before
    row = harness.case_row(before.case_id)
    assert row is not None and row.version == before.version
    return cause


async def to_root_cause(
    harness: CaseHarness,
    record: DenialRecord,
    actor: Actor = ALICE,
    path: WorkPath | None = None,
) -> tuple[CaseHandle, CaseState]:
    """Triage confirmed by `actor` (optionally choosing `path`): a confirm_root_cause task."""
    handle, _ = await harness.triaged(record)
    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(path=path), actor)
    assert state.status is CaseStatus.ROOT_CAUSE
    return handle, state


async def to_path(
    harness: CaseHarness,
    record: DenialRecord,
    actor: Actor = ALICE,
    path: WorkPath | None = None,
) -> tuple[CaseHandle, CaseState]:
    """Triage and root cause confirmed by `actor`: the case is on its path."""
    handle, _ = await to_root_cause(harness, record, actor, path)
    state = await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause(), actor)
    return handle, state


async def to_awaiting_payer(
    harness: CaseHarness, record: DenialRecord, submitted_on: date, actor: Actor = ALICE
) -> tuple[CaseHandle, CaseState]:
    """A level-1 appeal submitted on `submitted_on`: waiting for the payer."""
    handle, state = await to_path(harness, record, actor, WorkPath.APPEAL)
    assert state.status is CaseStatus.APPEAL
    await harness.attest_if_required(handle)
    state = await harness.complete(
        handle,
        TaskType.PREPARE_APPEAL,
        finished_appeal(1, "Medically necessary", submitted_on),
        actor,
    )
    assert state.status is CaseStatus.AWAITING_PAYER
    return handle, state


def non_sticky_worker(
    client: Client, task_queue: str, engine: Engine, rulebook: Rulebook, executor: Executor
) -> Worker:
    """The production worker without a workflow cache: a later worker on the same queue picks
    the case up at once (no sticky queue of a stopped worker)."""
    return build_worker(client, task_queue, engine, rulebook, executor, max_cached_workflows=0)
