"""A case stays within Temporal's limits however busy it is (50 MB / 51,200 events terminate a
run): its Updates return small receipts, its state leaves the timeline to the read model, and
it continues as new when its history is full, after the Updates in flight have finished."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from temporalio.api.enums.v1 import EventType

from domain.case import CaseOutcome, TaskType
from testkit.records import make_record
from tests.harness import ALICE, SAM, CaseHarness
from tests.workflows.case_flow import appeal_and_get_paid, assert_closed
from tests.workflows.history_limits import MB, runs_of
from workflows.case_workflow import CONTINUE_AS_NEW_EVENTS, DenialCaseWorkflow
from workflows.messages import AddNote, ChangePriority, ClaimTask, ReleaseTask

NOTES = 1000
NOTE_CHARS = 4000
CONCURRENT_NOTES = 10


def note_text(number: int) -> str:
    head = f"note {number:04d}: called the payer, "
    return head + "x" * (NOTE_CHARS - len(head))


async def test_a_busy_case_continues_as_new_and_keeps_every_note(harness: CaseHarness) -> None:
    """1,000 notes of 4,000 characters (ten at a time) and 500 other Updates on one case: it
    continues as new, each run's history stays far under the limit, every Update's result is a
    receipt, the state carried over stays small, every note is in the timeline once, and the
    case still works to its end and emits its prevention task."""
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today))
    triage = harness.open_task(state, TaskType.CONFIRM_TRIAGE).task_id

    others = 0
    for batch in range(NOTES // CONCURRENT_NOTES):
        numbers = range(batch * CONCURRENT_NOTES, (batch + 1) * CONCURRENT_NOTES)
        receipts = await asyncio.gather(
            *(
                handle.execute_update(
                    DenialCaseWorkflow.add_note, AddNote(actor=ALICE, text=note_text(n))
                )
                for n in numbers
            )
        )
        assert all(receipt.changes == ["note"] for receipt in receipts)
        for update, request in (
            (DenialCaseWorkflow.claim_task, ClaimTask(actor=ALICE, task_id=triage)),
            (DenialCaseWorkflow.release_task, ReleaseTask(actor=ALICE, task_id=triage)),
            (DenialCaseWorkflow.claim_task, ClaimTask(actor=ALICE, task_id=triage)),
            (DenialCaseWorkflow.release_task, ReleaseTask(actor=ALICE, task_id=triage)),
            (
                DenialCaseWorkflow.change_priority,
                ChangePriority(actor=SAM, adjustment=1 + batch % 3, reason="payer backlog"),
            ),
        ):
            await handle.execute_update(update, request)
            others += 1
    assert others == 500

    runs = await runs_of(harness.client, handle.id, handle.result_run_id or "")
    assert len(runs) >= 2, "a case this busy continues as new"
    for run in runs:
        assert run.size < 10 * MB, f"run {run.run_id}: {run.size / MB:.1f} MB"
        assert len(run.events) <= CONTINUE_AS_NEW_EVENTS + 200
        assert run.input_size < 64 * 1024, f"carried state {run.input_size} bytes"
        assert max(run.update_result_sizes, default=0) < 2048
    updates = sum(
        len(run.of_type(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)) for run in runs
    )
    assert updates == NOTES + others, "no accepted Update was cut off by continue-as-new"

    state = await harness.state(handle)
    assert len(state.pending_events) < 10
    notes = [row.message for row in harness.event_rows(handle.id) if row.type == "note"]
    assert sorted(notes) == [note_text(n) for n in range(NOTES)]
    seqs = [row.seq for row in harness.event_rows(handle.id)]
    assert seqs == list(range(1, len(seqs) + 1))

    await appeal_and_get_paid(harness, handle, Decimal(1000), today)
    await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(1000))
