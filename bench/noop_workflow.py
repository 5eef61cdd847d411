"""The baseline workflow of the task round-trip benchmark: Updates that do nothing, one of them
after a no-op local activity (what a case's Update waits for: its projection activity)."""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
def noop_activity(number: int) -> int:
    return number


@workflow.defn
class NoopUpdateWorkflow:
    def __init__(self) -> None:
        self._done = False
        self._updates = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._done)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._updates

    @workflow.update
    async def touch(self, number: int) -> int:
        self._updates += 1
        return number

    @workflow.update
    async def touch_after_local_activity(self, number: int) -> int:
        self._updates += 1
        return await workflow.execute_local_activity(
            noop_activity, number, start_to_close_timeout=timedelta(seconds=30)
        )

    @workflow.signal
    def finish(self) -> None:
        self._done = True
