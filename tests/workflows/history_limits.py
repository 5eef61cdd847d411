"""Reading a case's runs and their histories: how many, how big, what they carry."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

MB = 1024 * 1024


@dataclass
class Run:
    run_id: str
    events: list[HistoryEvent]

    @property
    def size(self) -> int:
        return sum(event.ByteSize() for event in self.events)

    @property
    def input_size(self) -> int:
        """Bytes of the run's input: the state a continued run carries over."""
        started = self.events[0].workflow_execution_started_event_attributes
        return sum(payload.ByteSize() for payload in started.input.payloads)

    def of_type(self, kind: EventType.ValueType) -> list[HistoryEvent]:
        return [event for event in self.events if event.event_type == kind]

    @property
    def update_result_sizes(self) -> list[int]:
        return [
            event.workflow_execution_update_completed_event_attributes.outcome.success.ByteSize()
            for event in self.of_type(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
        ]

    @property
    def continued_as(self) -> str | None:
        done = self.of_type(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
        if not done:
            return None
        return done[0].workflow_execution_continued_as_new_event_attributes.new_execution_run_id


async def runs_of(client: Client, workflow_id: str, first_run_id: str) -> list[Run]:
    """Every run of a workflow, from `first_run_id` along its continue-as-new chain."""
    runs: list[Run] = []
    run_id: str | None = first_run_id
    while run_id is not None:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(Run(run_id=run_id, events=list(history.events)))
        run_id = runs[-1].continued_as
    return runs
