"""The nightly retraining's schedule, on the Temporal dev server (the time-skipping server has no
schedules): every worker makes sure of it, and a start it makes trains and stores a version."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session
from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleOverlapPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.risk_models import stored_models
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from tests.harness import CaseHarness
from tests.services.claim_risk.test_retrain import seed
from workflows.risk_retrain import SCHEDULE_ID, RiskRetrainWorkflow, ensure_retrain_schedule


@pytest.fixture
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server in place of the time-skipping server the harness takes by default."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(installed_binary("temporal")),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await ensure_search_attributes(env.client, "default")
        yield env


async def test_the_nightly_schedule_trains_a_version(harness: CaseHarness) -> None:
    seed(harness.engine, datetime.now(UTC).date())
    client = harness.client
    assert await ensure_retrain_schedule(client, harness.task_queue)
    assert await ensure_retrain_schedule(client, harness.task_queue)  # a second worker: kept
    schedule = client.get_schedule_handle(SCHEDULE_ID)
    described = await schedule.describe()
    [calendar] = described.schedule.spec.calendars
    assert [(r.start, r.end) for r in calendar.hour] == [(2, 2)]
    assert [(r.start, r.end) for r in calendar.minute] == [(0, 0)]
    asked = datetime.now(UTC) - timedelta(seconds=1)
    await schedule.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not (
        started := [
            a.action
            for a in (await schedule.describe()).info.recent_actions
            if a.started_at >= asked
        ]
    ):
        assert loop.time() < deadline, "the schedule started no retraining"
        await asyncio.sleep(0.1)
    action = started[-1]
    assert isinstance(action, ScheduleActionExecutionStartWorkflow)
    handle = client.get_workflow_handle_for(
        RiskRetrainWorkflow.run, action.workflow_id, run_id=action.first_execution_run_id
    )
    report = await handle.result()
    assert (report.version, report.active) == ("risk-v1", True)
    with Session(harness.engine) as session:
        [stored] = stored_models(session)
    assert (stored.version, stored.trigger, stored.lines) == ("risk-v1", "schedule", report.lines)
