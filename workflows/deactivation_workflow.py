"""DeactivationWorkflow: hand back a deactivated user's work, durably.

Started when an admin deactivates a user; its one activity sends each case holding her work a
`return_user_work` Update. Bounded: retried on the server for a day, then the workflow fails
with the reason, visible to operators; deactivating her again starts it anew.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.deactivation import DeactivationActivities, HandBack

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)


@workflow.defn
class DeactivationWorkflow:
    @workflow.run
    async def run(self, step: HandBack) -> int:
        return await workflow.execute_activity_method(
            DeactivationActivities.hand_back,
            step,
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=2),
            schedule_to_close_timeout=timedelta(days=1),
            retry_policy=RETRY,
        )
