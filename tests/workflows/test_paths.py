"""Every way a case can end, driven end to end on the time-skipping server.

Each ending is checked three ways (the workflow result, the Query state, the read-model row)
and must emit exactly one prevention task.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.case import (
    CaseOutcome,
    CaseStatus,
    PayerDecision,
    PayerResponse,
    Role,
    TaskStatus,
    TaskType,
)
from domain.deadlines import deadline_instant, due_day
from domain.identity import case_id_for
from domain.models import Category, DenialKind, PayerType, WorkPath
from domain.rulebook import Rulebook
from testkit.records import adj, make_record
from tests.harness import ALICE, BOB, SAM, CaseHandle, CaseHarness
from tests.workflows.case_flow import (
    MEDICARE_RECEIPT,
    assert_closed,
    due,
    event_types,
    open_tasks_of,
    projected,
    refused,
    sleep_until,
    submit_appeal,
    submit_corrected_claim,
    task_of,
    to_path,
)
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    CancelCase,
    CaseInput,
    CompleteTask,
    DuplicateResolution,
    FollowUpResult,
    PayerResponseEntry,
    ReassignTask,
    WriteOffDecision,
)


def payment(decision: PayerDecision, amount: int, on: date) -> PayerResponseEntry:
    return PayerResponseEntry(decision=decision, paid_amount=Decimal(amount), decision_date=on)


def upheld(on: date) -> PayerResponseEntry:
    return PayerResponseEntry(decision=PayerDecision.UPHELD, decision_date=on)


async def approval_refused_to_alice(
    harness: CaseHarness, handle: CaseHandle, task_id: str, approve: WriteOffDecision
) -> str:
    """Hand the write-off approval to alice (a biller) and have her approve it: the refusal."""
    await handle.execute_update(
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=task_id, assignee="alice"),
    )
    return await refused(
        harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, ALICE), "Forbidden"
    )


# --- (1) appeal, (2) corrected claim ------------------------------------------------------


async def test_appeal_paid_closes_recovered(harness: CaseHarness) -> None:
    """Medical necessity (CO-50) -> appeal level 1 -> paid in full -> recovered."""
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    assert state.suggested_path is WorkPath.APPEAL

    state = await to_path(harness, handle)
    assert state.status is CaseStatus.APPEAL
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (task.appeal_level, task.assignee, task.deadline_key) == (1, "alice", "appeal:1")

    state = await submit_appeal(harness, handle, 1, today)
    assert [t.type for t in state.open_tasks] == [TaskType.RECORD_PAYER_RESPONSE]
    # The timeline gives the day the task is due, as the task list does.
    response_task = state.open_tasks[0]
    created = next(
        e
        for e in harness.timeline(state)
        if e.type == "task_created" and e.data["task_id"] == response_task.task_id
    )
    assert created.message.endswith(f"due {due_day(response_task.due_at, UTC).isoformat()}")
    row = harness.case_row(handle.id)
    assert row is not None and row.status == "awaiting_payer"

    await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PAID, 1000, today)
    )
    await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(1000))


async def test_corrected_claim_partially_paid_has_its_remainder_reviewed(
    harness: CaseHarness,
) -> None:
    """Missing information (CO-16) -> corrected claim -> $400 of $1000 paid -> the remaining
    $600 goes to write-off review (a supervisor's, above $500); approving it closes the case
    as partially recovered."""
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today, adjustments=[adj("CO-16", 1000)]))
    assert state.suggested_path is WorkPath.CORRECTED_CLAIM

    state = await to_path(harness, handle)
    assert state.status is CaseStatus.CORRECTED_CLAIM
    task = harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM)
    assert task.deadline_key == "corrected_claim"

    await submit_corrected_claim(harness, handle, today)
    state = await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PARTIALLY_PAID, 400, today)
    )
    assert state.status is CaseStatus.WRITE_OFF_REVIEW
    assert (state.recovered_amount, state.outstanding_amount) == (Decimal(400), Decimal(600))
    (review_event,) = [e for e in harness.timeline(state) if e.type == "remainder_review"]
    assert review_event.message == (
        "$400 of $1000 paid: the remaining $600 is written off or worked further"
    )
    review = harness.open_task(state, TaskType.APPROVE_WRITE_OFF)
    assert (review.queue, review.assignee) == (Role.SUPERVISOR, None)

    # Handed to a biller, the approval is still above her authority: for the $600 unpaid.
    approve = WriteOffDecision(approve=True, reason="rest is contractual")
    message = await approval_refused_to_alice(harness, handle, review.task_id, approve)
    assert "writing off $600 needs a supervisor" in message
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, SAM)
    state = await assert_closed(harness, handle, CaseOutcome.PARTIALLY_RECOVERED, Decimal(400))
    assert state.outcome_reason == "rest is contractual"
    approved = next(e for e in harness.timeline(state) if e.type == "write_off_approved")
    assert approved.message == "Write-off of the remaining $600 approved: rest is contractual"


async def test_appeal_partially_paid_appeals_the_remainder_at_the_next_level(
    harness: CaseHarness,
) -> None:
    """$300 of $1000 paid on a level 1 appeal: the review opens level 2; refusing the write-off
    appeals the $700 there, and the payer paying it closes the case fully recovered."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)
    state = await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PARTIALLY_PAID, 300, today)
    )
    assert (state.status, state.appeal_level) == (CaseStatus.WRITE_OFF_REVIEW, 2)
    (review_event,) = [e for e in harness.timeline(state) if e.type == "remainder_review"]
    assert review_event.message.endswith("(a level 2 appeal is open)")
    assert due(state, "appeal:2") > today

    refuse = WriteOffDecision(approve=False, reason="underpaid", next_path=WorkPath.APPEAL)
    state = await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, refuse, SAM)
    appeal = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (appeal.appeal_level, appeal.deadline_key) == (2, "appeal:2")

    await submit_appeal(harness, handle, 2, today)
    await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PAID, 700, today)
    )
    await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(1000))


async def test_last_level_partially_paid_cannot_be_appealed_at_that_level_again(
    harness: CaseHarness,
) -> None:
    """Commercial payers have two appeal levels: $300 paid at level 1 opens level 2; $200 more
    paid at level 2 leaves no level, so refusing the write-off to appeal again is refused; the
    supervisor approves it: partially recovered, $500 of $1000."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)
    await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PARTIALLY_PAID, 300, today)
    )
    appeal_again = WriteOffDecision(approve=False, reason="underpaid", next_path=WorkPath.APPEAL)
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, appeal_again, SAM)
    await submit_appeal(harness, handle, 2, today)
    state = await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PARTIALLY_PAID, 200, today)
    )
    assert (state.status, state.appeal_level, state.outstanding_amount) == (
        CaseStatus.WRITE_OFF_REVIEW,
        2,
        Decimal(500),
    )
    last_review = [e for e in harness.timeline(state) if e.type == "remainder_review"][-1]
    assert "(no further appeal: no appeal level 3 for this payer" in last_review.message

    message = await refused(
        harness.complete(handle, TaskType.APPROVE_WRITE_OFF, appeal_again, SAM), "Invalid"
    )
    assert message == (
        "cannot take the appeal path: the level 2 appeal was already decided and no further "
        "level is open"
    )
    approve = WriteOffDecision(approve=True, reason="final level decided")
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, SAM)
    await assert_closed(harness, handle, CaseOutcome.PARTIALLY_RECOVERED, Decimal(500))


async def test_a_partial_payment_crossing_a_correction_replaces_the_open_work(
    harness: CaseHarness,
) -> None:
    """An 835 paying part of the claim while its correction is being prepared: the correction
    task is cancelled and one review of the remainder opens; a second partial payment during
    the review replaces it; a payment of all that is left closes the case as recovered."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-16", 1000)]))
    state = await to_path(harness, handle)
    correction = harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM)

    def paid(amount: int, reference: str) -> PayerResponse:
        return PayerResponse(
            decision=PayerDecision.PARTIALLY_PAID,
            paid_amount=Decimal(amount),
            decision_date=today,
            reference=reference,
            source="835",
        )

    await handle.signal(DenialCaseWorkflow.payer_response, paid(250, "file-1:0"))
    state = await harness.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    assert task_of(state, correction.task_id).status is TaskStatus.CANCELLED
    (review,) = state.open_tasks
    assert (review.type, review.deadline_key) == (TaskType.APPROVE_WRITE_OFF, "corrected_claim")

    await handle.signal(DenialCaseWorkflow.payer_response, paid(250, "file-2:0"))
    state = await harness.wait_for(handle, lambda s: s.outstanding_amount == 500)
    assert [t.type for t in state.open_tasks] == [TaskType.APPROVE_WRITE_OFF]
    assert state.open_tasks[0].task_id != review.task_id

    await handle.signal(DenialCaseWorkflow.payer_response, paid(500, "file-3:0"))
    state = await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(1000))
    assert state.outcome_reason == "payer paid the rest"


async def test_835_totals_are_counted_on_the_case_not_on_the_ingest_estimate(
    harness: CaseHarness,
) -> None:
    """Two 835s read against a read model that had not caught up: the second estimates $500
    new for a claim now paid $500 in all. The case counts $200, from its own state; a third
    report of the same total adds nothing and changes nothing."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)

    def report(total: int, estimate: int, reference: str) -> PayerResponse:
        return PayerResponse(
            decision=PayerDecision.PARTIALLY_PAID,
            paid_amount=Decimal(estimate),
            claim_paid_total=Decimal(total),
            decision_date=today,
            reference=reference,
            source="835",
        )

    await handle.signal(DenialCaseWorkflow.payer_response, report(300, 300, "a:0"))
    await harness.wait_for(handle, lambda s: s.recovered_amount == 300)
    await handle.signal(DenialCaseWorkflow.payer_response, report(500, 500, "b:0"))
    state = await harness.wait_for(handle, lambda s: len(s.payer_responses) == 2)
    assert (state.recovered_amount, state.outstanding_amount) == (Decimal(500), Decimal(500))
    answers = [e for e in harness.timeline(state) if e.type == "payer_response"]
    assert "partially paid, paid $200 on" in answers[1].message
    reviews = [t for t in state.tasks if t.type is TaskType.APPROVE_WRITE_OFF]
    await handle.signal(DenialCaseWorkflow.payer_response, report(500, 500, "c:0"))
    state = await harness.wait_for(handle, lambda s: len(s.payer_responses) == 3)
    assert state.recovered_amount == 500
    assert state.status is CaseStatus.WRITE_OFF_REVIEW
    assert [t.type for t in state.open_tasks] == [TaskType.APPROVE_WRITE_OFF]
    assert [t for t in state.tasks if t.type is TaskType.APPROVE_WRITE_OFF] == reviews
    assert harness.timeline(state)[-1].message == (
        f"Payer partially paid (nothing newly paid) on {today.isoformat()} (835)"
    )


async def test_a_partial_payment_crossing_an_appeal_keeps_its_deadline(
    harness: CaseHarness,
) -> None:
    """Paid in part while the level 1 appeal is being prepared: the review races that appeal's
    deadline, the path its refusal would take."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(harness, handle)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PARTIALLY_PAID,
            paid_amount=Decimal(300),
            decision_date=today,
            reference="e:0",
            source="835",
        ),
    )
    state = await harness.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    (review,) = state.open_tasks
    assert (review.type, review.deadline_key, state.appeal_level) == (
        TaskType.APPROVE_WRITE_OFF,
        "appeal:1",
        1,
    )


async def test_an_awaited_835_adding_nothing_is_an_upheld_answer(harness: CaseHarness) -> None:
    """A line denied in a paid claim ($600 paid, $400 appealed): the 835 answering the appeal
    reports the same $600 in all, so nothing is recovered: upheld, on to level 2."""
    today = await harness.today()
    record = make_record(today, adjustments=[adj("CO-50", 400)], billed=1000, paid=600, status="1")
    handle, _ = await harness.triaged(record)
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PARTIALLY_PAID,
            paid_amount=Decimal(600),
            claim_paid_total=Decimal(600),
            decision_date=today,
            reference="d:0",
            source="835",
        ),
    )
    state = await harness.wait_for(handle, lambda s: s.appeal_level == 2)
    assert (state.status, state.recovered_amount) == (CaseStatus.APPEAL, 0)
    assert harness.open_task(state, TaskType.PREPARE_APPEAL).appeal_level == 2


# --- (3) write-off ------------------------------------------------------------------------


async def test_write_off_above_threshold_needs_a_supervisor(harness: CaseHarness) -> None:
    """$1000 > $500 threshold: the approval goes to the supervisor queue, a biller cannot
    approve it, the supervisor's approval writes it off."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    state = await to_path(harness, handle, path=WorkPath.WRITE_OFF_REVIEW)
    assert (state.status, state.path) == (CaseStatus.WRITE_OFF_REVIEW, WorkPath.WRITE_OFF_REVIEW)
    task = harness.open_task(state, TaskType.APPROVE_WRITE_OFF)
    assert (task.queue, task.assignee) == (Role.SUPERVISOR, None)
    row = harness.case_row(handle.id)
    assert row is not None and (row.status, row.path) == ("write_off_review", "write_off_review")

    approve = WriteOffDecision(approve=True, reason="not worth appealing")
    await refused(harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, ALICE), "Forbidden")
    assert (await harness.state(handle)).status is CaseStatus.WRITE_OFF_REVIEW

    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, SAM)
    state = await assert_closed(harness, handle, CaseOutcome.WRITTEN_OFF)
    assert state.outcome_reason == "not worth appealing"
    assert not state.lost_to_deadline


async def test_biller_handed_a_large_write_off_still_cannot_approve_it(
    harness: CaseHarness,
) -> None:
    """Assigning the $1000 approval to a biller lets them work the task, not exceed their
    authority: the approval is refused as Forbidden (a permission problem, not a bad payload)."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    state = await to_path(harness, handle, path=WorkPath.WRITE_OFF_REVIEW)
    task = harness.open_task(state, TaskType.APPROVE_WRITE_OFF)
    approve = WriteOffDecision(approve=True, reason="not worth appealing")
    message = await approval_refused_to_alice(harness, handle, task.task_id, approve)
    assert "supervisor" in message
    state = await harness.state(handle)
    assert state.status is CaseStatus.WRITE_OFF_REVIEW
    assert harness.open_task(state, TaskType.APPROVE_WRITE_OFF).assignee == "alice"


async def test_write_off_below_threshold_a_biller_approves(harness: CaseHarness) -> None:
    """$300 <= $500 threshold: the approval stays with the biller, who can write it off."""
    today = await harness.today()
    record = make_record(today, billed=300, adjustments=[adj("CO-50", 300)])
    handle, _ = await harness.triaged(record)
    state = await to_path(harness, handle, path=WorkPath.WRITE_OFF_REVIEW)
    task = harness.open_task(state, TaskType.APPROVE_WRITE_OFF)
    assert (task.queue, task.assignee) == (Role.BILLER, "alice")

    approve = WriteOffDecision(approve=True, reason="small balance")
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, ALICE)
    await assert_closed(harness, handle, CaseOutcome.WRITTEN_OFF)


# --- (4) transfer to patient, (5) duplicate -----------------------------------------------


async def test_patient_responsibility_transfers_right_after_root_cause(
    harness: CaseHarness,
) -> None:
    """PR-27 (coverage ended, patient responsibility) closes as transferred once the root cause
    is confirmed, with no work task in between."""
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today, adjustments=[adj("PR-27", 1000)]))
    assert state.suggested_path is WorkPath.TRANSFER_TO_PATIENT

    state = await to_path(harness, handle)
    assert state.status is CaseStatus.CLOSED
    types = event_types(harness, state)
    assert types[types.index("root_cause_confirmed") + 1] == "closed"
    assert {t.type for t in state.tasks} == {
        TaskType.CONFIRM_TRIAGE,
        TaskType.CONFIRM_ROOT_CAUSE,
    }
    state = await assert_closed(harness, handle, CaseOutcome.TRANSFERRED_TO_PATIENT)
    assert state.path is WorkPath.TRANSFER_TO_PATIENT


async def test_duplicate_confirmed_closes_duplicate(harness: CaseHarness) -> None:
    """CO-18 -> duplicate check -> it was a duplicate -> closed_duplicate."""
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today, adjustments=[adj("CO-18", 1000)]))
    assert state.suggested_path is WorkPath.DUPLICATE_CHECK
    state = await to_path(harness, handle)
    assert state.status is CaseStatus.DUPLICATE_CHECK
    # A duplicate check races the deadline of the appeal that follows if it is not one.
    assert harness.open_task(state, TaskType.RESOLVE_DUPLICATE).deadline_key == "appeal:1"

    await harness.complete(
        handle,
        TaskType.RESOLVE_DUPLICATE,
        DuplicateResolution(is_duplicate=True, original_claim_reference="ICN-ORIGINAL"),
    )
    await assert_closed(harness, handle, CaseOutcome.CLOSED_DUPLICATE)


async def test_not_a_duplicate_goes_on_to_appeal(harness: CaseHarness) -> None:
    """CO-18 that was not a duplicate needs a next path, then is worked as an appeal."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-18", 1000)]))
    await to_path(harness, handle)

    await refused(
        harness.complete(
            handle, TaskType.RESOLVE_DUPLICATE, DuplicateResolution(is_duplicate=False)
        ),
        "Invalid",
    )
    state = await harness.complete(
        handle,
        TaskType.RESOLVE_DUPLICATE,
        DuplicateResolution(is_duplicate=False, next_path=WorkPath.APPEAL),
    )
    assert (state.status, state.path, state.appeal_level) == (
        CaseStatus.APPEAL,
        WorkPath.APPEAL,
        1,
    )
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (task.appeal_level, task.deadline_key, task.assignee) == (1, "appeal:1", "alice")

    await submit_appeal(harness, handle, 1, today)
    await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PAID, 1000, today)
    )
    await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(1000))


# --- (6) cancelled, (7) lost to deadline --------------------------------------------------


async def test_cancelled_by_a_supervisor_with_reason(harness: CaseHarness) -> None:
    """Only a supervisor cancels; the reason is kept and the open task is cancelled."""
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today))
    triage_task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)

    await refused(
        handle.execute_update(
            DenialCaseWorkflow.cancel_case, CancelCase(actor=BOB, reason="entered twice")
        ),
        "Forbidden",
    )
    state = await harness.update(
        handle, DenialCaseWorkflow.cancel_case, CancelCase(actor=SAM, reason="entered twice")
    )
    assert state.status is CaseStatus.CLOSED
    state = await assert_closed(harness, handle, CaseOutcome.CANCELLED)
    assert state.outcome_reason == "cancelled by sam: entered twice"
    assert task_of(state, triage_task.task_id).status is TaskStatus.CANCELLED


async def test_unworked_case_is_lost_to_deadline(harness: CaseHarness) -> None:
    """A Medicare appeal due in 10 days that nobody works goes to write-off review marked lost
    to deadline; approving it closes as lost_to_deadline."""
    today = await harness.today()
    remit_days_ago = 120 + MEDICARE_RECEIPT - 10
    record = make_record(
        today,
        payer_type=PayerType.MEDICARE,
        adjustments=[adj("CO-50", 1000)],
        remit_days_ago=remit_days_ago,
        dos_days_ago=remit_days_ago + 20,
    )
    handle, state = await harness.triaged(record)
    # Medicare level 1: 120 days from the remittance + 5 days presumed receipt.
    appeal_due = today - timedelta(days=remit_days_ago) + timedelta(days=MEDICARE_RECEIPT + 120)
    assert appeal_due == today + timedelta(days=10)
    assert due(state, "appeal:1") == appeal_due

    await sleep_until(harness, deadline_instant(appeal_due, UTC) + timedelta(hours=1))
    await harness.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    state = await projected(harness, handle)
    assert state.lost_to_deadline
    missed = [e for e in harness.timeline(state) if e.type == "deadline_missed"]
    assert [e.data for e in missed] == [{"deadline": "appeal:1"}]
    assert [t.type for t in state.open_tasks] == [TaskType.APPROVE_WRITE_OFF]
    assert harness.open_task(state, TaskType.APPROVE_WRITE_OFF).queue is Role.SUPERVISOR
    row = harness.case_row(handle.id)
    assert row is not None and (row.status, row.outcome) == ("write_off_review", None)
    assert row.state["lost_to_deadline"] is True

    await harness.complete(
        handle,
        TaskType.APPROVE_WRITE_OFF,
        WriteOffDecision(approve=True, reason="deadline missed"),
        SAM,
    )
    await assert_closed(harness, handle, CaseOutcome.LOST_TO_DEADLINE)


# --- (8) rejections -----------------------------------------------------------------------


async def test_rejection_corrected_and_paid(harness: CaseHarness) -> None:
    """A rejection races timely filing (never filed): corrected, resubmitted, paid."""
    today = await harness.today()
    record = make_record(today, kind=DenialKind.REJECTION, billed=800, dos_days_ago=30)
    handle, state = await harness.triaged(record)
    assert (state.category, state.suggested_path) == (Category.REJECTION, WorkPath.CORRECTED_CLAIM)
    # Commercial timely filing: 90 days from the date of service.
    assert [d.key for d in state.deadlines] == ["timely_filing"]
    assert state.deadlines[0].due == today - timedelta(days=30) + timedelta(days=90)

    state = await to_path(harness, handle)
    task = harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM)
    assert task.deadline_key == "timely_filing"
    await submit_corrected_claim(harness, handle, today)
    await harness.complete(
        handle, TaskType.RECORD_PAYER_RESPONSE, payment(PayerDecision.PAID, 800, today)
    )
    await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(800))


async def test_rejection_rejected_again_goes_back_to_corrected_claim(harness: CaseHarness) -> None:
    """A resubmitted rejection that comes back upheld is corrected again (no appeal rights)."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, kind=DenialKind.REJECTION))
    state = await to_path(harness, handle)
    first = harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM)
    await submit_corrected_claim(harness, handle, today)

    state = await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(today))
    assert (state.status, state.path, state.appeal_level) == (
        CaseStatus.CORRECTED_CLAIM,
        WorkPath.CORRECTED_CLAIM,
        0,
    )
    again = harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM)
    assert again.task_id != first.task_id
    assert (again.deadline_key, again.assignee) == ("timely_filing", "alice")
    assert not open_tasks_of(state, TaskType.PREPARE_APPEAL)
    row = harness.case_row(handle.id)
    assert row is not None and (row.status, row.outcome) == ("corrected_claim", None)


# --- (9) payer response by Signal ---------------------------------------------------------


async def test_payer_response_signal_completes_the_task_and_closes(harness: CaseHarness) -> None:
    """An 835 payment arriving as a Signal completes record_payer_response and closes."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(harness, handle)
    state = await submit_appeal(harness, handle, 1, today)
    waiting = harness.open_task(state, TaskType.RECORD_PAYER_RESPONSE)

    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PAID,
            paid_amount=Decimal(950),
            decision_date=today,
            source="835",
        ),
    )
    state = await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(950))
    task = task_of(state, waiting.task_id)
    assert (task.status, task.completed_by) == (TaskStatus.COMPLETED, "835")
    rows = {t.task_id: t for t in harness.task_rows(handle.id)}
    assert (rows[waiting.task_id].status, rows[waiting.task_id].completed_by) == (
        "completed",
        "835",
    )
    assert [r.source for r in state.payer_responses] == ["835"]


# --- (10) appeal levels -------------------------------------------------------------------


async def test_medicare_appeal_climbs_levels_from_each_decision_date(harness: CaseHarness) -> None:
    """Upheld at level 1 -> level 2, upheld at level 2 -> level 3 ($190 in dispute is enough);
    each level's filing deadline counts from the previous decision (+5 days receipt)."""
    today = await harness.today()
    record = make_record(
        today,
        payer_type=PayerType.MEDICARE,
        billed=190,
        adjustments=[adj("CO-50", 190)],
        remit_days_ago=10,
    )
    handle, state = await harness.triaged(record)
    remittance = today - timedelta(days=10)
    assert due(state, "appeal:1") == remittance + timedelta(days=MEDICARE_RECEIPT + 120)
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)

    await harness.sleep(timedelta(days=20))
    decision_1 = await harness.today() - timedelta(days=3)
    state = await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(decision_1))
    assert (state.status, state.appeal_level) == (CaseStatus.APPEAL, 2)
    assert state.appeal_notice_dates == {2: decision_1}
    level_2_due = decision_1 + timedelta(days=MEDICARE_RECEIPT + 180)
    assert due(state, "appeal:2") == level_2_due
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (task.appeal_level, task.deadline_key) == (2, "appeal:2")
    await submit_appeal(harness, handle, 2, await harness.today())

    await harness.sleep(timedelta(days=30))
    decision_2 = await harness.today() - timedelta(days=2)
    state = await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(decision_2))
    assert (state.status, state.appeal_level) == (CaseStatus.APPEAL, 3)
    level_3_due = decision_2 + timedelta(days=MEDICARE_RECEIPT + 60)
    assert due(state, "appeal:3") == level_3_due
    assert due(state, "appeal:2") == level_2_due
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (task.appeal_level, task.deadline_key) == (3, "appeal:3")
    rows = {t.task_id: t for t in harness.task_rows(handle.id)}
    assert (rows[task.task_id].deadline_key, rows[task.task_id].deadline_due) == (
        "appeal:3",
        level_3_due,
    )
    row = harness.case_row(handle.id)
    assert row is not None
    assert (row.status, row.appeal_level, row.next_deadline) == ("appeal", 3, level_3_due)

    await submit_appeal(harness, handle, 3, await harness.today())
    await harness.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        payment(PayerDecision.PAID, 190, await harness.today()),
    )
    await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(190))


async def test_medicare_below_alj_minimum_goes_to_write_off_after_level_2(
    harness: CaseHarness,
) -> None:
    """$150 in dispute: level 2 is allowed, but level 3 needs $190, so an upheld level 2 goes
    to write-off review."""
    today = await harness.today()
    record = make_record(
        today,
        payer_type=PayerType.MEDICARE,
        billed=150,
        adjustments=[adj("CO-50", 150)],
        remit_days_ago=10,
    )
    handle, _ = await harness.triaged(record)
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)
    state = await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(today))
    assert (state.status, state.appeal_level) == (CaseStatus.APPEAL, 2)
    await submit_appeal(harness, handle, 2, today)

    state = await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(today))
    assert (state.status, state.path, state.appeal_level) == (
        CaseStatus.WRITE_OFF_REVIEW,
        WorkPath.WRITE_OFF_REVIEW,
        2,
    )
    assert "appeal:3" not in {d.key for d in state.deadlines}
    exhausted = [e for e in harness.timeline(state) if e.type == "appeal_exhausted"]
    assert len(exhausted) == 1 and "$190" in exhausted[0].message
    task = harness.open_task(state, TaskType.APPROVE_WRITE_OFF)
    assert (task.queue, task.assignee) == (Role.BILLER, "alice")

    await harness.complete(
        handle, TaskType.APPROVE_WRITE_OFF, WriteOffDecision(approve=True, reason="below ALJ")
    )
    await assert_closed(harness, handle, CaseOutcome.WRITTEN_OFF)


async def test_corrected_claim_denied_after_the_last_appeal_level_is_not_appealed_again(
    harness: CaseHarness,
) -> None:
    """Both commercial appeal levels upheld; the supervisor refuses the write-off for a
    corrected claim, which the payer denies again. Level 2 was decided and no level is left, so
    the case goes back to write-off review instead of opening the level 2 appeal again."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)
    await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(today))
    await submit_appeal(harness, handle, 2, today)
    state = await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(today))
    assert state.status is CaseStatus.WRITE_OFF_REVIEW
    correct = WriteOffDecision(
        approve=False, reason="coding error found", next_path=WorkPath.CORRECTED_CLAIM
    )
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, correct, SAM)
    await submit_corrected_claim(harness, handle, today)

    state = await harness.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld(today))
    assert (state.status, state.appeal_level) == (CaseStatus.WRITE_OFF_REVIEW, 2)
    assert open_tasks_of(state, TaskType.PREPARE_APPEAL) == []
    assert harness.timeline(state)[-2].type == "no_further_action"
    assert harness.timeline(state)[-2].message == (
        "Denied again and cannot appeal: the level 2 appeal was already decided and no "
        "further level is open"
    )
    approve = WriteOffDecision(approve=True, reason="no appeal left")
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, SAM)
    await assert_closed(harness, handle, CaseOutcome.WRITTEN_OFF)


# --- (11) follow-up -----------------------------------------------------------------------


async def test_follow_up_at_expected_decision_then_every_interval(harness: CaseHarness) -> None:
    """No answer by the expected decision date (commercial level 1: 30 days) -> a follow-up
    task; completing it schedules the next one follow_up_interval_days later."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(harness, handle)
    state = await submit_appeal(harness, handle, 1, today)
    expected = today + timedelta(days=30)
    assert due(state, "payer_decision:1") == expected

    await sleep_until(harness, deadline_instant(expected, UTC) - timedelta(hours=1))
    assert not open_tasks_of(await harness.state(handle), TaskType.FOLLOW_UP_WITH_PAYER)
    await harness.sleep(timedelta(hours=2))
    state = await harness.wait_for(
        handle, lambda s: bool(open_tasks_of(s, TaskType.FOLLOW_UP_WITH_PAYER))
    )
    follow_up = harness.open_task(state, TaskType.FOLLOW_UP_WITH_PAYER)
    assert harness.open_task(state, TaskType.RECORD_PAYER_RESPONSE).status is TaskStatus.OPEN

    completed_at = await harness.now()
    await handle.execute_update(
        DenialCaseWorkflow.complete_task,
        CompleteTask(
            actor=ALICE,
            task_id=follow_up.task_id,
            payload=FollowUpResult(contact_notes="payer says in review"),
        ),
    )
    interval = timedelta(days=harness.policy.follow_up_interval_days)
    await sleep_until(harness, completed_at + interval - timedelta(hours=1))
    state = await harness.state(handle)
    assert not open_tasks_of(state, TaskType.FOLLOW_UP_WITH_PAYER)
    await harness.sleep(timedelta(hours=2))
    state = await harness.wait_for(
        handle, lambda s: bool(open_tasks_of(s, TaskType.FOLLOW_UP_WITH_PAYER))
    )
    second = harness.open_task(state, TaskType.FOLLOW_UP_WITH_PAYER)
    assert second.task_id != follow_up.task_id
    assert [t.type for t in state.tasks].count(TaskType.FOLLOW_UP_WITH_PAYER) == 2
    assert event_types(harness, state).count("followed_up") == 1

    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PAID,
            paid_amount=Decimal(1000),
            decision_date=await harness.today(),
            source="835",
        ),
    )
    state = await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(1000))
    assert task_of(state, second.task_id).status is TaskStatus.COMPLETED


# --- (12) the same denial twice -----------------------------------------------------------


async def test_starting_the_same_case_twice_is_refused(harness: CaseHarness) -> None:
    """The case id is the workflow id: a second start of a running case fails."""
    today = await harness.today()
    record = make_record(today)
    handle, _ = await harness.triaged(record)
    with pytest.raises(WorkflowAlreadyStartedError):
        await harness.client.start_workflow(
            DenialCaseWorkflow.run,
            CaseInput(case_id=handle.id, record=record, policy=harness.policy),
            id=handle.id,
            task_queue=harness.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )


async def test_open_case_twice_creates_one_case(harness: CaseHarness, rulebook: Rulebook) -> None:
    """CaseService.open_case on the same denial: created, then not created, one case."""
    today = await harness.today()
    record = make_record(today)
    with Session(harness.engine) as session:
        service = harness.case_service(session, rulebook)
        first = await service.open_case(record, ALICE)
        second = await service.open_case(record, ALICE)
        assert (first.case_id, first.created) == (case_id_for(record), True)
        assert (second.case_id, second.created) == (case_id_for(record), False)

    handle = harness.client.get_workflow_handle(first.case_id)
    state = await harness.wait_status(handle, CaseStatus.TRIAGED)
    assert event_types(harness, state).count("received") == 1
