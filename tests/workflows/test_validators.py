"""Update validators of DenialCaseWorkflow: every refusal reaches the client as
WorkflowUpdateFailedError whose cause is an ApplicationError typed NotFound / Forbidden /
Conflict / Invalid, with a message naming the problem, and leaves the case untouched."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from domain.case import (
    Actor,
    CasePolicy,
    CaseState,
    CaseStatus,
    PayerDecision,
    Role,
    TaskStatus,
    TaskType,
)
from domain.deadlines import DeadlineKind, deadline_instant
from domain.models import Category, DenialKind, DenialRecord, PayerType, WorkPath
from domain.rulebook import Rulebook
from testkit.records import adj, make_record
from tests.harness import ADA, ALICE, BOB, SAM, CaseHarness
from tests.workflows.case_steps import (
    SUE,
    expect_rejection,
    non_sticky_worker,
    settled,
    to_awaiting_payer,
    to_path,
    to_root_cause,
)
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AddNote,
    AppealSubmitted,
    CancelCase,
    CaseChange,
    ChangePriority,
    ClaimTask,
    CompleteTask,
    ConfirmRootCause,
    ConfirmTriage,
    CorrectedClaimSubmitted,
    DuplicateResolution,
    FollowUpResult,
    PayerResponseEntry,
    ReassignTask,
    RecordExtension,
    RefreshRules,
    ReleaseTask,
    TaskPayload,
    WriteOffDecision,
)
from workflows.refusals import Refusal

COMPLETE = DenialCaseWorkflow.complete_task


def complete(actor: Actor, task_id: str, payload: TaskPayload) -> CompleteTask:
    return CompleteTask(actor=actor, task_id=task_id, payload=payload)


def open_task_id(state: CaseState, task_type: TaskType) -> str:
    return CaseHarness.open_task(state, task_type).task_id


# --- Who may work a task ---------------------------------------------------------------


async def test_biller_cannot_complete_a_task_assigned_to_another_biller(
    harness: CaseHarness,
) -> None:
    """Billers act only on their own tasks: bob cannot complete alice's root-cause task."""
    handle, state = await to_root_cause(harness, make_record(await harness.today()))
    task = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE)
    assert task.assignee == "alice"
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(BOB, task.task_id, ConfirmRootCause()),
        Refusal.FORBIDDEN,
        f"task {task.task_id} is assigned to alice, not to bob",
    )


async def test_biller_cannot_complete_a_supervisor_queue_task(harness: CaseHarness) -> None:
    """A write-off above the approval threshold waits in the supervisor queue; a biller is
    refused."""
    record = make_record(await harness.today(), adjustments=[adj("CO-24", 1000)])
    handle, state = await to_path(harness, record)
    assert state.status is CaseStatus.WRITE_OFF_REVIEW
    task = harness.open_task(state, TaskType.APPROVE_WRITE_OFF)
    assert (task.queue, task.assignee) == (Role.SUPERVISOR, None)
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ALICE, task.task_id, WriteOffDecision(approve=True, reason="capitated")),
        Refusal.FORBIDDEN,
        f"task {task.task_id} is in the supervisor queue",
    )


async def test_admin_cannot_work_case_tasks(harness: CaseHarness) -> None:
    """Admins manage users and rules, not cases."""
    handle, state = await harness.triaged(make_record(await harness.today()))
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ADA, open_task_id(state, TaskType.CONFIRM_TRIAGE), ConfirmTriage()),
        Refusal.FORBIDDEN,
        "role 'admin' cannot work case tasks",
    )


async def test_unknown_task_id_is_not_found(harness: CaseHarness) -> None:
    handle, state = await harness.triaged(make_record(await harness.today()))
    missing = f"{state.case_id}-t99"
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ALICE, missing, ConfirmTriage()),
        Refusal.NOT_FOUND,
        f"no task {missing} in this case",
    )


async def test_completing_a_task_twice_conflicts(harness: CaseHarness) -> None:
    """The second completion of one task is refused and names who completed it."""
    handle, state = await harness.triaged(make_record(await harness.today()))
    task_id = open_task_id(state, TaskType.CONFIRM_TRIAGE)
    await handle.execute_update(COMPLETE, complete(ALICE, task_id, ConfirmTriage()))
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ALICE, task_id, ConfirmTriage()),
        Refusal.CONFLICT,
        f"task {task_id} is already completed by alice",
    )


async def test_payload_of_another_task_type_is_invalid(harness: CaseHarness) -> None:
    handle, state = await harness.triaged(make_record(await harness.today()))
    task_id = open_task_id(state, TaskType.CONFIRM_TRIAGE)
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ALICE, task_id, ConfirmRootCause()),
        Refusal.INVALID,
        f"task {task_id} is a confirm_triage task, not confirm_root_cause",
    )


# --- Paths the case cannot take --------------------------------------------------------


async def test_appeal_path_refused_without_appeal_rights(harness: CaseHarness) -> None:
    """RARC MA130 removes appeal rights: choosing the appeal path at triage is refused."""
    record = make_record(await harness.today(), adjustments=[adj("CO-16", 1000)], rarcs=["MA130"])
    handle, state = await harness.triaged(record)
    assert state.classification is not None and not state.classification.appeal_rights
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(
            ALICE,
            open_task_id(state, TaskType.CONFIRM_TRIAGE),
            ConfirmTriage(path=WorkPath.APPEAL),
        ),
        Refusal.INVALID,
        "cannot take the appeal path",
        "no appeal rights",
    )


async def test_path_whose_deadline_passed_is_refused(harness: CaseHarness) -> None:
    """Medicare: the 120(+5)-day redetermination window from a 200-day-old remittance has
    closed while the 12-month corrected-claim window is open; the appeal path is refused."""
    today = await harness.today()
    record = make_record(
        today,
        payer_type=PayerType.MEDICARE,
        adjustments=[adj("CO-16", 1000)],
        remit_days_ago=200,
        dos_days_ago=210,
    )
    handle, state = await harness.triaged(record)
    appeal = state.deadline("appeal:1")
    assert appeal is not None and appeal.due == today - timedelta(days=75)
    assert state.status is CaseStatus.TRIAGED  # racing the corrected-claim window, still open
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(
            ALICE,
            open_task_id(state, TaskType.CONFIRM_TRIAGE),
            ConfirmTriage(path=WorkPath.APPEAL),
        ),
        Refusal.INVALID,
        f"cannot take the appeal path: the appeal level 1 deadline passed on "
        f"{appeal.due.isoformat()}",
    )


@pytest.mark.parametrize(
    ("triage", "message"),
    [
        (
            ConfirmTriage(category=Category.CODING),
            "a rejection keeps the rejection category",
        ),
        (
            ConfirmTriage(path=WorkPath.APPEAL),
            "a rejection can only be corrected and resubmitted, or written off",
        ),
    ],
    ids=["category-override", "appeal-path"],
)
async def test_rejection_triage_overrides_are_invalid(
    harness: CaseHarness, triage: ConfirmTriage, message: str
) -> None:
    """A rejection was never adjudicated: it stays a rejection and cannot be appealed."""
    record = make_record(await harness.today(), kind=DenialKind.REJECTION)
    handle, state = await harness.triaged(record)
    assert state.category is Category.REJECTION
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ALICE, open_task_id(state, TaskType.CONFIRM_TRIAGE), triage),
        Refusal.INVALID,
        message,
    )


# --- Submissions -----------------------------------------------------------------------


async def test_submitted_on_in_the_future_is_invalid(harness: CaseHarness) -> None:
    today = await harness.today()
    record = make_record(today, adjustments=[adj("CO-16", 1000)])
    handle, state = await to_path(harness, record)
    future = today + timedelta(days=2)  # still ahead if midnight UTC passes meanwhile
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(
            ALICE,
            open_task_id(state, TaskType.PREPARE_CORRECTED_CLAIM),
            CorrectedClaimSubmitted(corrections="Added modifier 25", submitted_on=future),
        ),
        Refusal.INVALID,
        f"submitted_on {future.isoformat()} is in the future",
    )


async def test_appeal_level_mismatch_is_invalid(harness: CaseHarness) -> None:
    today = await harness.today()
    handle, state = await to_path(harness, make_record(today), path=WorkPath.APPEAL)
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert task.appeal_level == 1
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ALICE, task.task_id, AppealSubmitted(level=2, argument="x", submitted_on=today)),
        Refusal.INVALID,
        "this task prepares the level 1 appeal, not level 2",
    )


async def test_submitted_on_after_the_deadline_is_invalid(
    workflow_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    rulebook: Rulebook,
    policy: CasePolicy,
) -> None:
    """A submission dated after the deadline is refused even when it reaches the workflow
    before the deadline's timer was processed (the worker was down at midnight): the biller's
    update and the deadline arrive in one workflow task, the update is validated first."""
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    harness = CaseHarness(workflow_env, sqlite_engine, task_queue, policy)
    record = make_record(
        await harness.today(), adjustments=[adj("CO-16", 1000)], remit_days_ago=170
    )
    await _submit_after_deadline_while_worker_down(harness, record, rulebook)


async def _submit_after_deadline_while_worker_down(
    harness: CaseHarness, record: DenialRecord, rulebook: Rulebook
) -> None:
    workflow_env, sqlite_engine, task_queue = harness.env, harness.engine, harness.task_queue
    today = await harness.today()
    with ThreadPoolExecutor(4) as executor:
        async with non_sticky_worker(
            workflow_env.client, task_queue, sqlite_engine, rulebook, executor
        ):
            handle, state = await to_path(harness, record)
            deadline = state.deadline("corrected_claim")
            assert deadline is not None and deadline.due == today + timedelta(days=10)
            # Stop two seconds before the window closes (midnight UTC after the due date).
            now = await harness.now()
            await harness.sleep(deadline_instant(deadline.due, UTC) - now - timedelta(seconds=2))
            state = await settled(harness, handle)
            task_id = open_task_id(state, TaskType.PREPARE_CORRECTED_CLAIM)
    # Only reachable without a worker: submit while it is down, past midnight.
    late = deadline.due + timedelta(days=1)
    update = asyncio.create_task(
        handle.execute_update(
            COMPLETE,
            complete(
                SAM,
                task_id,
                CorrectedClaimSubmitted(corrections="Added modifier 25", submitted_on=late),
            ),
        )
    )
    await asyncio.sleep(3)
    assert (await harness.now()).date() == late
    with ThreadPoolExecutor(4) as executor:
        async with non_sticky_worker(
            workflow_env.client, task_queue, sqlite_engine, rulebook, executor
        ):
            with pytest.raises(WorkflowUpdateFailedError) as info:
                await update
            cause = info.value.cause
            assert isinstance(cause, ApplicationError)
            assert cause.type == Refusal.INVALID.value
            assert cause.message == (
                f"submitted_on {late.isoformat()} is after the corrected claim deadline "
                f"{deadline.due.isoformat()}"
            )
            state = await harness.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    assert state.submissions == []
    assert "corrected_claim_submitted" not in [e.type for e in harness.timeline(state)]
    assert state.lost_to_deadline
    assert state.task(task_id) is not None
    assert state.task(task_id).status is TaskStatus.CANCELLED  # type: ignore[union-attr]


# --- Payer responses and follow-ups --------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "paid", "days_ahead", "message"),
    [
        (PayerDecision.PAID, "0", 0, "a 'paid' response needs a paid_amount above 0"),
        (
            PayerDecision.PARTIALLY_PAID,
            "0",
            0,
            "a 'partially_paid' response needs a paid_amount above 0",
        ),
        # Two days: still ahead if midnight UTC passes meanwhile.
        (PayerDecision.UPHELD, "0", 2, "decision_date {date} is in the future"),
    ],
    ids=["paid-zero", "partially-paid-zero", "decision-in-future"],
)
async def test_invalid_payer_response_entries(
    harness: CaseHarness, decision: PayerDecision, paid: str, days_ahead: int, message: str
) -> None:
    today = await harness.today()
    handle, state = await to_awaiting_payer(harness, make_record(today), submitted_on=today)
    decided = today + timedelta(days=days_ahead)
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(
            ALICE,
            open_task_id(state, TaskType.RECORD_PAYER_RESPONSE),
            PayerResponseEntry(decision=decision, paid_amount=Decimal(paid), decision_date=decided),
        ),
        Refusal.INVALID,
        message.format(date=decided.isoformat()),
    )


async def test_expected_decision_date_in_the_past_is_invalid(harness: CaseHarness) -> None:
    """A follow-up cannot promise a payer decision on a date already gone."""
    today = await harness.today()
    record = make_record(today, remit_days_ago=40)
    # Submitted 29 days ago: the commercial payer's 30-day decision is due tomorrow (not
    # today, which midnight UTC could make gone before the submission is taken).
    handle, state = await to_awaiting_payer(
        harness, record, submitted_on=today - timedelta(days=29)
    )
    follow_up_at = deadline_instant(today + timedelta(days=1), UTC)
    assert state.next_follow_up_at == follow_up_at
    await harness.sleep(follow_up_at - await harness.now() + timedelta(hours=1))
    state = await harness.wait_for(
        handle, lambda s: any(t.type is TaskType.FOLLOW_UP_WITH_PAYER for t in s.open_tasks)
    )
    yesterday = await harness.today() - timedelta(days=1)
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(
            ALICE,
            open_task_id(state, TaskType.FOLLOW_UP_WITH_PAYER),
            FollowUpResult(contact_notes="Called the payer", expected_decision_date=yesterday),
        ),
        Refusal.INVALID,
        "expected_decision_date is in the past",
    )


# --- Write-off and duplicate decisions -------------------------------------------------------


@pytest.mark.parametrize(
    ("next_path", "message"),
    [
        (None, "refusing a write-off needs next_path"),
        (
            WorkPath.WRITE_OFF_REVIEW,
            "next_path cannot be write_off_review for refusing a write-off",
        ),
        (WorkPath.DUPLICATE_CHECK, "next_path cannot be duplicate_check for refusing a write-off"),
    ],
    ids=["missing", "write-off-review", "duplicate-check"],
)
async def test_refusing_a_write_off_needs_a_workable_next_path(
    harness: CaseHarness, next_path: WorkPath | None, message: str
) -> None:
    record = make_record(await harness.today(), adjustments=[adj("CO-24", 1000)])
    handle, state = await to_path(harness, record)
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(
            SAM,
            open_task_id(state, TaskType.APPROVE_WRITE_OFF),
            WriteOffDecision(approve=False, reason="worth appealing", next_path=next_path),
        ),
        Refusal.INVALID,
        message,
    )


async def test_biller_approving_a_write_off_above_threshold_is_forbidden(
    harness: CaseHarness,
) -> None:
    """Even when a supervisor hands the task to a biller, writing off more than the approval
    threshold ($500) still needs a supervisor."""
    record = make_record(await harness.today(), adjustments=[adj("CO-24", 1000)])
    handle, state = await to_path(harness, record)
    task_id = open_task_id(state, TaskType.APPROVE_WRITE_OFF)
    await handle.execute_update(
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=task_id, assignee="alice", assignee_role=Role.BILLER),
    )
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(ALICE, task_id, WriteOffDecision(approve=True, reason="capitated")),
        Refusal.FORBIDDEN,
        "writing off $1000 needs a supervisor (above $500)",
    )


async def test_not_a_duplicate_needs_next_path(harness: CaseHarness) -> None:
    record = make_record(await harness.today(), adjustments=[adj("CO-18", 1000)])
    handle, state = await to_path(harness, record)
    assert state.status is CaseStatus.DUPLICATE_CHECK
    await expect_rejection(
        harness,
        handle,
        COMPLETE,
        complete(
            ALICE,
            open_task_id(state, TaskType.RESOLVE_DUPLICATE),
            DuplicateResolution(is_duplicate=False),
        ),
        Refusal.INVALID,
        "a claim that is not a duplicate needs next_path",
    )


# --- Claiming and releasing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "kind", "message"),
    [
        (BOB, Refusal.CONFLICT, "is already claimed by alice"),
        (ALICE, Refusal.CONFLICT, "is already yours"),
    ],
    ids=["claimed-by-another", "already-yours"],
)
async def test_claiming_an_assigned_task_conflicts(
    harness: CaseHarness, actor: Actor, kind: Refusal, message: str
) -> None:
    handle, state = await to_root_cause(harness, make_record(await harness.today()))
    task_id = open_task_id(state, TaskType.CONFIRM_ROOT_CAUSE)
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.claim_task,
        ClaimTask(actor=actor, task_id=task_id),
        kind,
        f"task {task_id} {message}",
    )


async def test_biller_cannot_claim_a_supervisor_queue_task(harness: CaseHarness) -> None:
    record = make_record(await harness.today(), adjustments=[adj("CO-24", 1000)])
    handle, state = await to_path(harness, record)
    task_id = open_task_id(state, TaskType.APPROVE_WRITE_OFF)
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.claim_task,
        ClaimTask(actor=ALICE, task_id=task_id),
        Refusal.FORBIDDEN,
        f"task {task_id} is in the supervisor queue",
    )


async def test_releasing_someone_elses_task_is_forbidden(harness: CaseHarness) -> None:
    handle, state = await to_root_cause(harness, make_record(await harness.today()))
    task_id = open_task_id(state, TaskType.CONFIRM_ROOT_CAUSE)
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.release_task,
        ReleaseTask(actor=BOB, task_id=task_id),
        Refusal.FORBIDDEN,
        f"task {task_id} is assigned to alice",
    )


async def test_releasing_an_unassigned_task_conflicts(harness: CaseHarness) -> None:
    handle, state = await harness.triaged(make_record(await harness.today()))
    task_id = open_task_id(state, TaskType.CONFIRM_TRIAGE)
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.release_task,
        ReleaseTask(actor=ALICE, task_id=task_id),
        Refusal.CONFLICT,
        f"task {task_id} is not assigned",
    )


# --- Supervisor actions ------------------------------------------------------------------------


async def test_reassign_refusals(harness: CaseHarness) -> None:
    """Only supervisors reassign; not to the current assignee; only to billers or supervisors."""
    handle, state = await to_root_cause(harness, make_record(await harness.today()))
    task_id = open_task_id(state, TaskType.CONFIRM_ROOT_CAUSE)
    reassign = DenialCaseWorkflow.reassign_task
    await expect_rejection(
        harness,
        handle,
        reassign,
        ReassignTask(actor=ALICE, task_id=task_id, assignee="bob"),
        Refusal.FORBIDDEN,
        "only a supervisor can reassign tasks",
    )
    await expect_rejection(
        harness,
        handle,
        reassign,
        ReassignTask(actor=SAM, task_id=task_id, assignee="alice"),
        Refusal.CONFLICT,
        f"task {task_id} is already assigned to alice",
    )
    await expect_rejection(
        harness,
        handle,
        reassign,
        ReassignTask(actor=SAM, task_id=task_id, assignee="ada", assignee_role=Role.ADMIN),
        Refusal.INVALID,
        "tasks go to billers or supervisors, not admin",
    )


async def test_biller_cannot_change_priority_or_cancel(harness: CaseHarness) -> None:
    handle, _ = await harness.triaged(make_record(await harness.today()))
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.change_priority,
        ChangePriority(actor=ALICE, adjustment=2.0, reason="big payer"),
        Refusal.FORBIDDEN,
        "only a supervisor can change priority",
    )
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.cancel_case,
        CancelCase(actor=ALICE, reason="not ours"),
        Refusal.FORBIDDEN,
        "only a supervisor can cancel a case",
    )


async def test_note_refusals(harness: CaseHarness) -> None:
    """Admins cannot write case notes; a note needs more than whitespace."""
    handle, _ = await harness.triaged(make_record(await harness.today()))
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.add_note,
        AddNote(actor=ADA, text="hello"),
        Refusal.FORBIDDEN,
        "role 'admin' cannot add case notes",
    )
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.add_note,
        AddNote(actor=ALICE, text="   "),
        Refusal.INVALID,
        "a note needs text",
    )


async def test_note_on_a_closed_case_fails(harness: CaseHarness) -> None:
    """Once a case is closed its workflow completes: a later Update never reaches a validator
    and the client gets the service's NOT_FOUND RPCError instead of a typed rejection."""
    handle, _ = await harness.triaged(make_record(await harness.today()))
    await handle.execute_update(
        DenialCaseWorkflow.cancel_case, CancelCase(actor=SAM, reason="sent to the wrong payer")
    )
    await handle.result()
    before = await harness.state(handle)
    with pytest.raises(RPCError) as info:
        await handle.execute_update(
            DenialCaseWorkflow.add_note, AddNote(actor=SAM, text="too late")
        )
    assert info.value.status is RPCStatusCode.NOT_FOUND
    after = await harness.state(handle)
    assert after == before
    assert "note" not in [e.type for e in harness.timeline(after)]


async def test_extension_refusals(harness: CaseHarness) -> None:
    """An extension must move a known deadline later."""
    handle, state = await harness.triaged(make_record(await harness.today()))
    appeal = state.deadline("appeal:1")
    assert appeal is not None
    extend = DenialCaseWorkflow.record_extension
    for new_due in (appeal.due - timedelta(days=1), appeal.due):
        await expect_rejection(
            harness,
            handle,
            extend,
            RecordExtension(
                actor=ALICE, kind=DeadlineKind.APPEAL, level=1, new_due=new_due, reason="x"
            ),
            Refusal.INVALID,
            f"new_due {new_due.isoformat()} is not after the current deadline "
            f"{appeal.due.isoformat()}",
        )
    await expect_rejection(
        harness,
        handle,
        extend,
        RecordExtension(
            actor=ALICE,
            kind=DeadlineKind.APPEAL,
            level=2,
            new_due=appeal.due + timedelta(days=30),
            reason="x",
        ),
        Refusal.NOT_FOUND,
        "the case has no appeal level 2 deadline",
    )
    await expect_rejection(
        harness,
        handle,
        extend,
        RecordExtension(
            actor=ALICE,
            kind=DeadlineKind.PAYER_DECISION,
            new_due=appeal.due + timedelta(days=30),
            reason="x",
        ),
        Refusal.NOT_FOUND,
        "the case has no payer_decision deadline",
    )
    await expect_rejection(
        harness,
        handle,
        extend,
        RecordExtension(
            actor=ADA,
            kind=DeadlineKind.APPEAL,
            level=1,
            new_due=appeal.due + timedelta(days=30),
            reason="x",
        ),
        Refusal.FORBIDDEN,
        "role 'admin' cannot record extensions",
    )


async def test_biller_cannot_refresh_rules(harness: CaseHarness) -> None:
    handle, _ = await harness.triaged(make_record(await harness.today()))
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.refresh_rules,
        RefreshRules(actor=ALICE),
        Refusal.FORBIDDEN,
        "only a supervisor or an admin can recompute deadlines",
    )


# --- Concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"), [(ALICE, BOB), (ALICE, SAM), (SAM, SUE)], ids=lambda a: a.user_id
)
async def test_concurrent_completions_advance_the_case_once(
    harness: CaseHarness, first: Actor, second: Actor
) -> None:
    """Two people confirming the same triage at once: exactly one wins, the other gets
    Conflict, and the case moves on exactly once."""
    handle, state = await harness.triaged(make_record(await harness.today()))
    task_id = open_task_id(state, TaskType.CONFIRM_TRIAGE)
    results = await asyncio.gather(
        handle.execute_update(COMPLETE, complete(first, task_id, ConfirmTriage())),
        handle.execute_update(COMPLETE, complete(second, task_id, ConfirmTriage())),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, CaseChange)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert (len(won), len(lost)) == (1, 1), results
    failure = lost[0]
    assert isinstance(failure, WorkflowUpdateFailedError)
    cause = failure.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == Refusal.CONFLICT.value
    winner = first if results[0] is won[0] else second
    assert cause.message == f"task {task_id} is already completed by {winner.user_id}"

    final = await settled(harness, handle)
    assert won[0].changes == ["triage_confirmed", "task_created"]
    assert won[0].open_task_ids == [t.task_id for t in final.open_tasks]
    assert final.status is CaseStatus.ROOT_CAUSE
    assert [e.type for e in harness.timeline(final)].count("triage_confirmed") == 1
    assert [e.actor for e in harness.timeline(final) if e.type == "triage_confirmed"] == [
        winner.user_id
    ]
    assert [t.type for t in final.tasks] == [TaskType.CONFIRM_TRIAGE, TaskType.CONFIRM_ROOT_CAUSE]
    assert final.tasks[0].completed_by == winner.user_id
    expected_owner = winner.user_id if winner.role is Role.BILLER else None
    assert final.owner == expected_owner
    assert final.tasks[1].assignee == expected_owner
    rows = [r.type for r in harness.event_rows(final.case_id)]
    assert rows.count("triage_confirmed") == 1


async def test_denial_cannot_be_recategorised_as_a_rejection(harness: CaseHarness) -> None:
    """The rejection category is reserved for claims rejected before adjudication."""
    handle, state = await harness.triaged(make_record(await harness.today()))
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.complete_task,
        CompleteTask(
            actor=ALICE,
            task_id=state.open_tasks[0].task_id,
            payload=ConfirmTriage(category=Category.REJECTION),
        ),
        Refusal.INVALID,
        "the rejection category is for claims rejected before adjudication",
    )


async def test_submission_before_the_remittance_is_invalid(harness: CaseHarness) -> None:
    """A corrected claim cannot have been submitted before the remittance that denied it."""
    today = await harness.today()
    record = make_record(today, adjustments=[adj("CO-16", 300)], billed=300, remit_days_ago=5)
    handle, state = await to_path(harness, record, path=WorkPath.CORRECTED_CLAIM)
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.complete_task,
        CompleteTask(
            actor=ALICE,
            task_id=state.open_tasks[0].task_id,
            payload=CorrectedClaimSubmitted(
                corrections="x", submitted_on=today - timedelta(days=6)
            ),
        ),
        Refusal.INVALID,
        f"is before the remittance {(today - timedelta(days=5)).isoformat()}",
    )


async def test_reassigning_to_the_queue_it_sits_in_is_a_conflict(harness: CaseHarness) -> None:
    handle, state = await harness.triaged(make_record(await harness.today()))
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=state.open_tasks[0].task_id, assignee_role=Role.BILLER),
        Refusal.CONFLICT,
        "already in the biller queue, unassigned",
    )
