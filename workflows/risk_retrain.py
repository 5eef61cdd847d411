"""RiskRetrainWorkflow: learn a new version of the learned-risk model from the stored history
(activities.risk_models), started nightly by a Temporal Schedule and on demand from the API
(POST /api/v1/risk-models/retrain). Every worker makes sure the schedule exists when it starts.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

from workflows.schedules import ensure_schedule

SCHEDULE_ID = "denials-risk-retrain"
WORKFLOW_ID = "risk-retrain"  # the schedule appends the time of each start
ON_DEMAND_ID = "risk-retrain-on-demand"  # one at a time: a second request while it runs is told
NIGHTLY = "0 2 * * *"  # 02:00 UTC, when no one checks claims
RETRAIN_ACTIVITY = "retrain_risk_model"


class RetrainReport(BaseModel):
    version: str | None = None  # None: nothing stored (too little history)
    lines: int = 0
    active: bool = False
    note: str = ""  # why not stored or not activated


@workflow.defn
class RiskRetrainWorkflow:
    @workflow.run
    async def run(self, trigger: str) -> RetrainReport:
        return await workflow.execute_activity(
            RETRAIN_ACTIVITY,
            trigger,
            result_type=RetrainReport,
            start_to_close_timeout=timedelta(minutes=30),
            # Training twice is harmless (a version more); a failing one shows after 2 tries,
            # and the next night tries again.
            retry_policy=RetryPolicy(initial_interval=timedelta(minutes=1), maximum_attempts=2),
        )


def retrain_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RiskRetrainWorkflow.run,
            "schedule",
            id=WORKFLOW_ID,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=2),
        ),
        spec=ScheduleSpec(cron_expressions=[NIGHTLY]),
        # A night missed (no worker, server down) is made up within the day, once.
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=12)
        ),
    )


async def ensure_retrain_schedule(client: Client, task_queue: str) -> bool:
    """Create the nightly schedule, or bring it up to date keeping its paused state; False when
    the server has no schedules (the time-skipping test server)."""
    return await ensure_schedule(
        client,
        SCHEDULE_ID,
        retrain_schedule(task_queue),
        "the risk model is retrained on demand only",
    )
