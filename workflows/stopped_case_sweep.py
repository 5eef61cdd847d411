"""StoppedCaseSweepWorkflow: one sweep for cases whose workflow was stopped outside the
product (activities.stopped_cases), started every minute by a Temporal Schedule that skips a
start while the previous sweep still runs. Every worker makes sure the schedule exists when it
starts; the sweep then runs on whichever worker takes it, once per minute in all."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

from workflows.schedules import ensure_schedule

with workflow.unsafe.imports_passed_through():
    from activities.stopped_cases import StoppedCaseActivities, SweepReport

SCHEDULE_ID = "denials-stopped-case-sweep"
WORKFLOW_ID = "stopped-case-sweep"  # the schedule appends the time of each start
SWEEP_EVERY = timedelta(minutes=1)


@workflow.defn
class StoppedCaseSweepWorkflow:
    @workflow.run
    async def run(self) -> SweepReport:
        return await workflow.execute_activity_method(
            StoppedCaseActivities.sweep,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            # The next start retries anyway: a sweep that keeps failing is visible as such.
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=3),
        )


def sweep_schedule(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            StoppedCaseSweepWorkflow.run,
            id=WORKFLOW_ID,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=1),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=SWEEP_EVERY)]),
        # Missed starts (no worker, server down) are not made up: the next sweep reads from
        # the previous one's mark, so one start covers them all.
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(minutes=1)
        ),
    )


async def ensure_sweep_schedule(client: Client, task_queue: str) -> bool:
    """Create the sweep's schedule, or bring it up to date keeping its paused state (an
    operator may pause it); every worker calls this at start. False when the server has no
    schedules (the time-skipping test server): changes to a stopped case still notice it."""
    return await ensure_schedule(
        client,
        SCHEDULE_ID,
        sweep_schedule(task_queue),
        "stopped case workflows are noticed on use only",
    )
