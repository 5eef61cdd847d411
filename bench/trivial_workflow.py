"""The baseline workflow of the ingest benchmark: starts and returns at once."""

from temporalio import workflow


@workflow.defn
class TrivialWorkflow:
    @workflow.run
    async def run(self, number: int) -> int:
        return number
