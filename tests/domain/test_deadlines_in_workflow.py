"""Rolling a deadline over a holiday inside the workflow sandbox, where the case workflow
computes its deadlines: the holiday calendar must not be built there (it reads locale data,
which the sandbox refuses)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from domain.deadlines import Deadline
from domain.models import PayerType
from domain.payer_rules import load_registry
from tests.domain.deadlines_workflow import DeadlinesWorkflow


async def test_a_rolling_rule_moves_a_holiday_deadline_inside_the_sandbox(
    workflow_env: WorkflowEnvironment,
) -> None:
    rule = load_registry().rule_for("ANY", PayerType.COMMERCIAL, date(2025, 6, 1))
    rule = rule.model_copy(update={"rolls_to_business_day": True})
    thanksgiving = date(2031, 11, 27)
    task_queue = f"deadlines-{uuid.uuid4().hex[:8]}"
    async with Worker(
        workflow_env.client,
        task_queue=task_queue,
        workflows=[DeadlinesWorkflow],
        workflow_runner=SandboxedWorkflowRunner(),
    ):
        deadline: Deadline = await workflow_env.client.execute_workflow(
            DeadlinesWorkflow.run,
            args=[rule, thanksgiving - timedelta(days=180)],
            id=f"deadlines-{uuid.uuid4().hex}",
            task_queue=task_queue,
            result_type=Deadline,
            # A refused call fails the workflow task, which is retried for ever: end it.
            run_timeout=timedelta(seconds=20),
        )
    assert deadline.due == date(2031, 11, 28)
    assert "falls on Thursday (Thanksgiving Day) 2031-11-27" in deadline.basis
