"""AbsenceWorkflow: a user out of office for a period.

At the start their open tasks go to the other billers by workload; at the end, if the
supervisor chose so, the tasks still open come back. Cancelling ends the absence early.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.absence import AbsenceActivities, AbsenceStep
    from domain.case import Actor

ACTIVITY_TIMEOUT = timedelta(minutes=5)  # a big redistribution sends many updates
# Bounded: retried on the server for a day; then the absence workflow fails, visibly.
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))
ACTIVITY_DEADLINE = timedelta(days=1)


class AbsenceInput(BaseModel):
    absence_id: str
    user_id: str
    starts_at: datetime
    ends_at: datetime
    return_tasks: bool
    by: Actor


@workflow.defn
class AbsenceWorkflow:
    def __init__(self) -> None:
        self._cancelled_by: str | None = None
        self._phase = "scheduled"

    @workflow.run
    async def run(self, input: AbsenceInput) -> str:
        if not await self._sleep_until(input.starts_at):
            await self._step(AbsenceActivities.mark, input, "cancelled")
            return "cancelled"
        self._phase = "active"
        await self._step(AbsenceActivities.redistribute, input, "active")
        await self._sleep_until(input.ends_at)
        if input.return_tasks:
            await self._step(AbsenceActivities.give_back, input, "ended")
        self._phase = "ended"
        await self._step(AbsenceActivities.mark, input, "ended")
        return "ended"

    async def _sleep_until(self, moment: datetime) -> bool:
        """Wait for `moment`; False if the absence was cancelled first."""
        wait = moment - workflow.now()
        if wait > timedelta(0):
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(lambda: self._cancelled_by is not None, timeout=wait)
        return self._cancelled_by is None

    async def _step(self, activity, input: AbsenceInput, status: str) -> None:  # type: ignore[no-untyped-def]
        await workflow.execute_activity_method(
            activity,
            AbsenceStep(
                absence_id=input.absence_id, user_id=input.user_id, by=input.by, status=status
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            schedule_to_close_timeout=ACTIVITY_DEADLINE,
            retry_policy=ACTIVITY_RETRY,
        )

    @workflow.signal
    def cancel(self, by: str) -> None:
        self._cancelled_by = by

    @workflow.query
    def phase(self) -> str:
        return self._phase
