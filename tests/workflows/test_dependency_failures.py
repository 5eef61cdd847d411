"""A case is never stuck on a failing dependency, nor does it grow its history while one is
down: a clearinghouse that fails gets the biller a prompt answer and the supervisors a task
while the deadline keeps being watched; a read-model outage waits on the server and catches
up once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.case import (
    CaseOutcome,
    CasePolicy,
    CaseStatus,
    EscalationLevel,
    Role,
    TaskStatus,
    TaskType,
)
from domain.deadlines import deadline_instant
from services.temporal_calls import ANSWER_SECONDS
from testkit.records import adj, finished_appeal, make_record
from tests.harness import ALICE, SAM, CaseHandle, CaseHarness
from tests.workflows.case_flow import due, event_types, projected, sleep_until, task_of, to_path
from tests.workflows.clearinghouse import Clearinghouse
from tests.workflows.history_limits import runs_of
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    CancelCase,
    CompleteTask,
    SubmissionFailureReviewed,
)
from workflows.refusals import Refusal

HOUR = timedelta(hours=1)


@pytest.fixture
def harness(clearinghouse_harness: CaseHarness) -> CaseHarness:
    return clearinghouse_harness


async def appeal_due_in(harness: CaseHarness, days: int) -> CaseHandle:
    """A commercial CO-50 case at its prepare_appeal task, the appeal due `days` from today."""
    today = await harness.today()
    record = make_record(
        today, adjustments=[adj("CO-50", 1000)], remit_days_ago=180 - days, dos_days_ago=200
    )
    handle, _ = await harness.triaged(record)
    state = await to_path(harness, handle)
    assert due(state, "appeal:1") == today + timedelta(days=days)
    return handle


async def submit(harness: CaseHarness, handle: CaseHandle) -> Any:
    state = await harness.attest_if_required(handle)
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    appeal = finished_appeal(1, "meets criteria", await harness.today())
    return await handle.execute_update(
        DenialCaseWorkflow.complete_task,
        CompleteTask(actor=ALICE, task_id=task.task_id, payload=appeal),
    )


async def refused_submission(harness: CaseHarness, handle: CaseHandle) -> ApplicationError:
    started = time.monotonic()
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await submit(harness, handle)
    assert time.monotonic() - started < ANSWER_SECONDS, "the biller is answered in time"
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == Refusal.SUBMISSION_FAILED.value
    return cause


async def history_length(harness: CaseHarness, handle: CaseHandle) -> int:
    runs = await runs_of(harness.client, handle.id, handle.result_run_id or "")
    return sum(len(run.events) for run in runs)


async def test_a_failing_clearinghouse_leaves_the_appeal_open_and_tells_supervisors(
    harness: CaseHarness, clearinghouse: Clearinghouse
) -> None:
    handle = await appeal_due_in(harness, 20)
    cause = await refused_submission(harness, handle)
    assert "connection refused" in cause.message
    assert "prepare_appeal task stays open" in cause.message
    assert clearinghouse.calls == 3, "a bounded number of attempts"

    state = await projected(harness, handle)
    assert state.status is CaseStatus.APPEAL and state.submissions == []
    appeal = harness.open_task(state, TaskType.PREPARE_APPEAL)
    alarm = harness.open_task(state, TaskType.RESOLVE_SUBMISSION_FAILURE)
    assert (alarm.queue, alarm.assignee, alarm.deadline_key) == (
        Role.SUPERVISOR,
        None,
        "appeal:1",
    )
    (failure,) = [e for e in harness.timeline(state) if e.type == "submission_failed"]
    assert "connection refused" in failure.message
    rows = {row.task_id: row for row in harness.task_rows(handle.id)}
    assert (rows[alarm.task_id].queue, rows[alarm.task_id].status) == ("supervisor", "open")

    # Trying again while it is down: told again, still one task for the supervisors.
    await refused_submission(harness, handle)
    state = await harness.state(handle)
    assert len([t for t in state.open_tasks if t.type is TaskType.RESOLVE_SUBMISSION_FAILURE]) == 1

    # Nothing retries behind anyone's back: 72 hours add (almost) nothing to the history.
    before = await history_length(harness, handle)
    await harness.sleep(timedelta(hours=72))
    assert await history_length(harness, handle) - before < 10

    # The deadline is still watched: escalated at T-7.
    deadline_at = deadline_instant(due(state, "appeal:1"), UTC)
    await sleep_until(harness, deadline_at - timedelta(days=7) + HOUR)
    state = await harness.wait_for(
        handle, lambda s: task_of(s, appeal.task_id).escalation is EscalationLevel.ESCALATED
    )

    # Back up: the appeal goes out, the deadline is met, the supervisors' task closes.
    clearinghouse.down = False
    receipt = await submit(harness, handle)
    assert receipt.status is CaseStatus.AWAITING_PAYER
    assert receipt.changes[0] == "submission_sent"  # sent, then recorded as submitted
    assert receipt.changes[1] == "appeal_submitted"
    assert receipt.changes[-1] == "submission_failure_resolved"
    state = await projected(harness, handle)
    (sent,) = state.submissions
    assert sent.sent_at is not None and sent.sent_to.startswith(str(clearinghouse.outbox.outbox))
    closed = task_of(state, alarm.task_id)
    assert (closed.status, closed.completed_by) == (TaskStatus.COMPLETED, "system")
    assert not state.lost_to_deadline


async def test_a_refusal_is_not_retried_and_a_supervisor_closes_the_alarm(
    harness: CaseHarness, clearinghouse: Clearinghouse
) -> None:
    handle = await appeal_due_in(harness, 60)
    clearinghouse.refusing = True
    cause = await refused_submission(harness, handle)
    assert "refused it: payer id COM-TEST is not enrolled" in cause.message
    assert clearinghouse.calls == 1
    state = await harness.complete(
        handle,
        TaskType.RESOLVE_SUBMISSION_FAILURE,
        SubmissionFailureReviewed(notes="enrolment requested; fax the appeal meanwhile"),
        SAM,
    )
    assert [t.type for t in state.open_tasks] == [TaskType.PREPARE_APPEAL]
    assert event_types(harness, state)[-1] == "submission_failure_reviewed"


async def test_cancelling_after_a_failed_submission_ends_the_case(
    harness: CaseHarness, clearinghouse: Clearinghouse
) -> None:
    handle = await appeal_due_in(harness, 60)
    await refused_submission(harness, handle)
    await handle.execute_update(
        DenialCaseWorkflow.cancel_case, CancelCase(actor=SAM, reason="paid at the front desk")
    )
    result = await handle.result()
    assert result.outcome is CaseOutcome.CANCELLED


class Outage:
    """Makes every statement on an engine fail, as a database that went away does."""

    def __init__(self, engine: Engine) -> None:
        self.down = False
        self.refused = 0
        event.listen(engine, "before_cursor_execute", self._statement)

    def _statement(self, *args: object) -> None:
        if self.down:
            self.refused += 1
            raise OperationalError("SELECT 1", None, ConnectionError("database is down"))


@pytest.fixture
def outage(sqlite_engine: Engine) -> Iterator[Outage]:
    down = Outage(sqlite_engine)
    yield down
    down.down = False


@pytest.mark.parametrize("policy", [CasePolicy(stalled_after_days=365)], ids=["no-stalls"])
async def test_a_read_model_outage_of_72_hours_waits_and_catches_up_once(
    harness: CaseHarness, outage: Outage
) -> None:
    """The database goes away for 72 simulated hours while a reminder falls due: the case
    waits on the server (a bounded history), then writes what happened, once."""
    handle = await appeal_due_in(harness, 16)  # the T-14 reminder falls due on day 2
    state = await projected(harness, handle)
    before = await history_length(harness, handle)

    outage.down = True
    await harness.sleep(timedelta(hours=72))
    assert outage.refused > 0, "the reminder's projection met the outage"
    during = await history_length(harness, handle) - before
    assert during < 40, f"{during} events while the database was down"

    outage.down = False
    await harness.sleep(timedelta(minutes=15))  # the server's next retry
    state = await projected(harness, handle)
    timeline = harness.timeline(state)
    assert [e.type for e in timeline].count("reminder") == 1
    assert [e.seq for e in timeline] == list(range(1, state.event_seq + 1))
    row = harness.case_row(handle.id)
    assert row is not None and (row.version, row.escalation) == (state.version, 1)
    assert state.pending_events == []
    assert Decimal(row.denied_amount) == Decimal(1000)


@pytest.mark.parametrize("fails", [False, True], ids=["sent", "failed"])
async def test_a_case_cancelled_while_its_submission_is_sent_still_ends(
    harness: CaseHarness, clearinghouse: Clearinghouse, fails: bool
) -> None:
    """The case closes while the clearinghouse is still answering: the biller is told the task
    closed meanwhile (a send that went out is kept on the timeline), no supervisor task is
    raised on the closed case, and the workflow ends."""
    handle = await appeal_due_in(harness, 60)
    clearinghouse.down = fails
    clearinghouse.answer.clear()
    submitting = asyncio.create_task(submit(harness, handle))
    await asyncio.to_thread(clearinghouse.sending.wait, 5)
    await handle.execute_update(
        DenialCaseWorkflow.cancel_case, CancelCase(actor=SAM, reason="patient paid in full")
    )
    clearinghouse.answer.set()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await asyncio.wait_for(submitting, timeout=ANSWER_SECONDS)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == Refusal.CONFLICT.value
    assert "was cancelled meanwhile" in cause.message
    result = await asyncio.wait_for(handle.result(), timeout=15)
    assert result.outcome is CaseOutcome.CANCELLED
    state = await projected(harness, handle)
    assert not any(t.type is TaskType.RESOLVE_SUBMISSION_FAILURE for t in state.tasks)
    assert ("submission_sent" in event_types(harness, state)) is not fails
