"""Deadline escalation, loss to deadline, extensions and stalls on the simulated calendar.

Escalations count back from the deadline instant (the midnight ending the due day in the
policy's time zone, UTC here): reminder at T-14, escalated at T-7, urgent + supervisor queue at
T-2; nothing fires early. Escalation belongs to the deadline: one event per level.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from db.models import TaskRow
from domain.case import (
    CasePolicy,
    CaseState,
    CaseStatus,
    EscalationLevel,
    Role,
    TaskStatus,
    TaskType,
)
from domain.deadlines import DeadlineKind, deadline_instant
from testkit.records import adj, make_record
from tests.harness import ALICE, SAM, CaseHandle, CaseHarness
from tests.workflows.case_flow import (
    due,
    event_types,
    projected,
    sleep_until,
    submit_appeal,
    task_of,
    to_path,
)
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AddNote,
    ConfirmRootCause,
    ConfirmTriage,
    ReassignTask,
    RecordExtension,
)

HOUR = timedelta(hours=1)
# Commercial level-1 appeals are due 180 days after the remittance.
COMMERCIAL_APPEAL_DAYS = 180
# The default offsets, with stalls pushed out of the way so only escalations add events.
NO_STALLS = CasePolicy(stalled_after_days=365)


async def appeal_case_due_in(harness: CaseHarness, days: int) -> tuple[CaseHandle, CaseState]:
    """A triaged commercial CO-50 case whose level-1 appeal deadline is `days` from today."""
    today = await harness.today()
    record = make_record(
        today,
        adjustments=[adj("CO-50", 1000)],
        remit_days_ago=COMMERCIAL_APPEAL_DAYS - days,
        dos_days_ago=COMMERCIAL_APPEAL_DAYS - days + 10,
    )
    handle, state = await harness.triaged(record)
    deadline = state.deadline("appeal:1")
    assert deadline is not None and deadline.due == today + timedelta(days=days)
    return handle, state


def task_row_of(harness: CaseHarness, task_id: str, case_id: str) -> TaskRow:
    rows = [row for row in harness.task_rows(case_id) if row.task_id == task_id]
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_escalates_at_t14_t7_t2_and_not_before(harness: CaseHarness) -> None:
    """Each level fires just after its threshold and not an hour before; urgent moves the task
    to the supervisor queue and clears its assignee."""
    handle, _ = await appeal_case_due_in(harness, 30)
    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    task = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE)
    assert (task.assignee, task.queue, task.deadline_key) == ("alice", Role.BILLER, "appeal:1")
    assert task.escalation is EscalationLevel.NONE
    deadline_at = deadline_instant(due(state, "appeal:1"), UTC)

    steps = [
        (14, EscalationLevel.REMINDER, "reminder"),
        (7, EscalationLevel.ESCALATED, "escalated"),
        (2, EscalationLevel.URGENT, "urgent"),
    ]
    previous_level = EscalationLevel.NONE
    for days, level, event in steps:
        threshold = deadline_at - timedelta(days=days)
        before = event_types(harness, await harness.state(handle))

        await sleep_until(harness, threshold - HOUR)
        state = await harness.state(handle)
        assert task_of(state, task.task_id).escalation is previous_level, f"T-{days} fired early"
        assert event_types(harness, state) == before
        assert task_row_of(harness, task.task_id, handle.id).escalation == previous_level

        await sleep_until(harness, threshold + HOUR)
        await harness.wait_for(
            handle, lambda s, lv=level: task_of(s, task.task_id).escalation is lv
        )
        state = await projected(harness, handle)
        assert event_types(harness, state) == [*before, event]
        announced = harness.timeline(state)[-1]
        assert (announced.data["deadline"], announced.data["task_ids"]) == (
            "appeal:1",
            [task.task_id],
        )
        assert "(confirm_root_cause): Appeal" in announced.message
        assert task_row_of(harness, task.task_id, handle.id).escalation == level
        row = harness.case_row(handle.id)
        assert row is not None and row.escalation == level
        previous_level = level

        moved = task_of(state, task.task_id)
        if level is EscalationLevel.URGENT:
            assert (moved.queue, moved.assignee) == (Role.SUPERVISOR, None)
            assert announced.data["previous_assignees"] == {task.task_id: "alice"}
            task_row = task_row_of(harness, task.task_id, handle.id)
            assert (task_row.queue, task_row.assignee) == ("supervisor", None)
            assert row.assignee is None
        else:
            assert (moved.queue, moved.assignee) == (Role.BILLER, "alice")
    assert state.status is CaseStatus.ROOT_CAUSE


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_case_opened_inside_t7_is_escalated_at_once(harness: CaseHarness) -> None:
    """A case opened 5 days before its deadline jumps straight to escalated: one event, no
    reminder first. Its next task starts escalated without announcing it again."""
    handle, _ = await appeal_case_due_in(harness, 5)
    await harness.wait_for(handle, lambda s: s.escalation is EscalationLevel.ESCALATED)
    state = await projected(harness, handle)
    task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    assert task.escalation is EscalationLevel.ESCALATED
    types = event_types(harness, state)
    assert (types.count("escalated"), types.count("reminder"), types.count("urgent")) == (1, 0, 0)
    assert task.queue is Role.BILLER
    row = harness.case_row(handle.id)
    assert row is not None and row.escalation == EscalationLevel.ESCALATED

    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    next_task = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE)
    assert next_task.escalation is EscalationLevel.ESCALATED
    assert (next_task.queue, next_task.assignee) == (Role.BILLER, "alice")
    state = await projected(harness, handle)
    escalations = [e for e in harness.timeline(state) if e.type == "escalated"]
    assert [e.data["task_ids"] for e in escalations] == [[task.task_id]]
    assert escalations[0].message.startswith("Escalated to supervisors (confirm_triage)")
    assert task_row_of(harness, next_task.task_id, handle.id).escalation == 2


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_missed_deadline_is_lost_and_goes_to_write_off_review(harness: CaseHarness) -> None:
    """Still open an hour before the deadline instant; an hour after it the open task is
    cancelled, the case is lost to deadline and waits on a supervisor's write-off approval."""
    handle, state = await appeal_case_due_in(harness, 3)
    triage_task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    deadline_at = deadline_instant(due(state, "appeal:1"), UTC)

    await sleep_until(harness, deadline_at - HOUR)
    state = await harness.state(handle)
    assert state.status is CaseStatus.TRIAGED and not state.lost_to_deadline
    assert task_of(state, triage_task.task_id).escalation is EscalationLevel.URGENT
    before = event_types(harness, state)

    await sleep_until(harness, deadline_at + HOUR)
    await harness.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    state = await projected(harness, handle)
    assert state.lost_to_deadline
    assert task_of(state, triage_task.task_id).status is TaskStatus.CANCELLED
    new = event_types(harness, state)[len(before) :]
    assert sorted(new) == sorted(["task_cancelled", "deadline_missed", "task_created"])
    approval = harness.open_task(state, TaskType.APPROVE_WRITE_OFF)
    assert (approval.queue, approval.assignee) == (Role.SUPERVISOR, None)
    assert [t.type for t in state.open_tasks] == [TaskType.APPROVE_WRITE_OFF]
    row = harness.case_row(handle.id)
    assert row is not None
    assert (row.status, row.path, row.outcome) == ("write_off_review", "write_off_review", None)


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_extension_moves_the_deadline_and_its_timers(harness: CaseHarness) -> None:
    """An extension recorded on an escalated case drops the escalation back; the old timers do
    nothing, and the levels fire again counted from the new date."""
    handle, state = await appeal_case_due_in(harness, 6)
    task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    assert task.escalation is EscalationLevel.ESCALATED
    old_due = due(state, "appeal:1")
    new_due = old_due + timedelta(days=30)

    state = await harness.update(
        handle,
        DenialCaseWorkflow.record_extension,
        RecordExtension(
            actor=ALICE, kind=DeadlineKind.APPEAL, level=1, new_due=new_due, reason="payer agreed"
        ),
    )
    assert due(state, "appeal:1") == new_due
    assert task_of(state, task.task_id).escalation is EscalationLevel.NONE
    assert event_types(harness, state)[-1] == "deadline_extended"
    row = harness.case_row(handle.id)
    assert row is not None and (row.next_deadline, row.escalation) == (new_due, 0)
    task_row = task_row_of(harness, task.task_id, handle.id)
    assert (task_row.deadline_due, task_row.escalation) == (new_due, 0)
    before = event_types(harness, state)

    # Past the old T-2 and the old deadline: nothing happens.
    await sleep_until(harness, deadline_instant(old_due, UTC) + HOUR)
    state = await harness.state(handle)
    assert state.status is CaseStatus.TRIAGED and not state.lost_to_deadline
    assert task_of(state, task.task_id).escalation is EscalationLevel.NONE
    assert event_types(harness, state) == before

    new_at = deadline_instant(new_due, UTC)
    await sleep_until(harness, new_at - timedelta(days=14) - HOUR)
    assert event_types(harness, await harness.state(handle)) == before
    await sleep_until(harness, new_at - timedelta(days=14) + HOUR)
    state = await harness.wait_for(
        handle, lambda s: task_of(s, task.task_id).escalation is EscalationLevel.REMINDER
    )
    assert event_types(harness, state) == [*before, "reminder"]

    await sleep_until(harness, new_at - timedelta(days=7) - HOUR)
    assert event_types(harness, await harness.state(handle)) == [*before, "reminder"]
    await sleep_until(harness, new_at - timedelta(days=7) + HOUR)
    state = await harness.wait_for(
        handle, lambda s: task_of(s, task.task_id).escalation is EscalationLevel.ESCALATED
    )
    assert event_types(harness, state) == [*before, "reminder", "escalated"]
    assert (
        event_types(harness, state).count("escalated") == 2
    )  # once for the old date, once for the new


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_extension_moves_the_open_tasks_due_date(harness: CaseHarness) -> None:
    """A task racing an extended deadline is due on the new date, in the Query and in the
    worklist row (the case page shows it and the worklist sorts by it)."""
    handle, state = await appeal_case_due_in(harness, 20)
    task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    old_due = due(state, "appeal:1")
    assert task.due_at == deadline_instant(old_due, UTC)
    new_due = old_due + timedelta(days=30)

    state = await harness.update(
        handle,
        DenialCaseWorkflow.record_extension,
        RecordExtension(
            actor=ALICE, kind=DeadlineKind.APPEAL, level=1, new_due=new_due, reason="payer agreed"
        ),
    )
    assert task_of(state, task.task_id).due_at == deadline_instant(new_due, UTC)
    assert task_row_of(harness, task.task_id, handle.id).due_at == deadline_instant(new_due, UTC)


async def test_stalled_after_untouched_days_cleared_by_note_and_reassignment(
    harness: CaseHarness,
) -> None:
    """A task untouched policy.stalled_after_days is flagged stalled (not an hour earlier); a
    note or a reassignment clears the flag and restarts the count."""
    stall = timedelta(days=harness.policy.stalled_after_days)
    handle, _ = await appeal_case_due_in(harness, 120)
    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    task = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE)

    def stalled(s: CaseState) -> bool:
        return task_of(s, task.task_id).stalled

    def row_stalled() -> tuple[bool, bool]:
        row = harness.case_row(handle.id)
        assert row is not None
        return row.stalled, task_row_of(harness, task.task_id, handle.id).stalled

    await sleep_until(harness, task.last_touched_at + stall - HOUR)
    state = await harness.state(handle)
    assert not stalled(state) and "stalled" not in event_types(harness, state)
    await sleep_until(harness, task.last_touched_at + stall + HOUR)
    await harness.wait_for(handle, stalled)
    state = await projected(harness, handle)
    assert state.stalled
    stalls = [e for e in harness.timeline(state) if e.type == "stalled"]
    assert [e.data["task_id"] for e in stalls] == [task.task_id]
    assert row_stalled() == (True, True)

    state = await harness.update(
        handle, DenialCaseWorkflow.add_note, AddNote(actor=ALICE, text="called the payer")
    )
    assert not stalled(state) and not state.stalled
    assert row_stalled() == (False, False)
    touched = task_of(state, task.task_id).last_touched_at

    await sleep_until(harness, touched + stall - HOUR)
    assert not stalled(await harness.state(handle))
    await sleep_until(harness, touched + stall + HOUR)
    await harness.wait_for(handle, stalled)
    await projected(harness, handle)
    assert row_stalled() == (True, True)

    state = await harness.update(
        handle,
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=task.task_id, assignee="bob", reason="alice is out"),
    )
    assert not stalled(state)
    assert task_of(state, task.task_id).assignee == "bob"
    assert row_stalled() == (False, False)
    assert event_types(harness, state).count("stalled") == 2


async def test_waiting_on_the_payer_is_not_stalled_before_the_expected_decision(
    harness: CaseHarness,
) -> None:
    """record_payer_response only counts as untouched from the expected decision date (commercial
    level 1: 30 days after submission)."""
    stall = timedelta(days=harness.policy.stalled_after_days)
    handle, _ = await appeal_case_due_in(harness, 120)
    await to_path(harness, handle)
    today = await harness.today()
    state = await submit_appeal(harness, handle, 1, today)
    waiting = harness.open_task(state, TaskType.RECORD_PAYER_RESPONSE)
    expected_at = deadline_instant(today + timedelta(days=30), UTC)
    assert waiting.due_at == expected_at

    await sleep_until(harness, expected_at - HOUR)  # 29+ days untouched, still not stalled
    state = await harness.state(handle)
    assert not task_of(state, waiting.task_id).stalled
    assert "stalled" not in event_types(harness, state)
    assert task_row_of(harness, waiting.task_id, handle.id).stalled is False

    await sleep_until(harness, expected_at + stall - HOUR)
    assert not task_of(await harness.state(handle), waiting.task_id).stalled
    await sleep_until(harness, expected_at + stall + HOUR)
    await harness.wait_for(handle, lambda s: task_of(s, waiting.task_id).stalled)
    await projected(harness, handle)
    assert task_row_of(harness, waiting.task_id, handle.id).stalled is True


def announcements(harness: CaseHarness, state: CaseState) -> list[tuple[str, str]]:
    """(level, deadline) of every escalation event on the timeline."""
    return [
        (e.type, e.data["deadline"])
        for e in harness.timeline(state)
        if e.type in ("reminder", "escalated", "urgent")
    ]


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_inside_t2_the_biller_keeps_her_next_task(harness: CaseHarness) -> None:
    """Urgency moves the work open at T-2 to the supervisors, once. The step after it, taken
    inside the window, stays with the biller working the case (flagged urgent): she can do
    it, and no supervisor is told again."""
    handle, _ = await appeal_case_due_in(harness, 10)
    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    root = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE)
    await sleep_until(harness, deadline_instant(due(state, "appeal:1"), UTC) - timedelta(days=2))
    state = await harness.wait_for(handle, lambda s: s.escalation is EscalationLevel.URGENT)
    moved = task_of(state, root.task_id)
    assert (moved.queue, moved.assignee) == (Role.SUPERVISOR, None)

    # A supervisor hands it back; the biller confirms the root cause inside the window.
    await harness.update(
        handle,
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=root.task_id, assignee="alice", reason="yours"),
    )
    state = await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
    appeal = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (appeal.queue, appeal.assignee) == (Role.BILLER, "alice")
    assert appeal.escalation is EscalationLevel.URGENT  # flagged, not moved
    state = await submit_appeal(harness, handle, 1, await harness.today())

    state = await projected(harness, handle)
    assert announcements(harness, state) == [
        ("reminder", "appeal:1"),
        ("escalated", "appeal:1"),
        ("urgent", "appeal:1"),
    ]
    row = task_row_of(harness, appeal.task_id, handle.id)
    assert (row.escalation, row.queue, row.completed_by) == (3, "biller", "alice")


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_extension_after_urgent_returns_the_work(harness: CaseHarness) -> None:
    """An extension recorded after urgency moved the biller's task gives it back to her,
    unescalated, in the Query and in the worklist; the new date escalates afresh."""
    handle, _ = await appeal_case_due_in(harness, 4)
    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    root = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE)
    old_due = due(state, "appeal:1")
    await sleep_until(harness, deadline_instant(old_due, UTC) - timedelta(days=2) + HOUR)
    state = await harness.wait_for(handle, lambda s: s.escalation is EscalationLevel.URGENT)
    assert task_of(state, root.task_id).queue is Role.SUPERVISOR

    state = await harness.update(
        handle,
        DenialCaseWorkflow.record_extension,
        RecordExtension(
            actor=SAM,
            kind=DeadlineKind.APPEAL,
            level=1,
            new_due=old_due + timedelta(days=60),
            reason="payer granted good cause",
        ),
    )
    back = task_of(state, root.task_id)
    assert (back.queue, back.assignee, back.escalation) == (Role.BILLER, "alice", 0)
    assert back.placement_before_urgent is None
    assert state.deadline_escalations == {"appeal:1": EscalationLevel.NONE}
    returned = [e for e in harness.timeline(state) if e.type == "task_returned"]
    assert [e.data["task_id"] for e in returned] == [root.task_id]
    row = task_row_of(harness, root.task_id, handle.id)
    assert (row.queue, row.assignee, row.escalation) == ("biller", "alice", 0)
    case_row = harness.case_row(handle.id)
    assert case_row is not None and (case_row.assignee, case_row.escalation) == ("alice", 0)

    # She works it again without a supervisor.
    state = await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
    assert harness.open_task(state, TaskType.PREPARE_APPEAL).assignee == "alice"


@pytest.mark.parametrize("policy", [NO_STALLS], ids=["no-stalls"])
async def test_a_supervisor_reassignment_is_not_undone_by_an_extension(
    harness: CaseHarness,
) -> None:
    """Work a supervisor placed after urgency stays where the supervisor put it."""
    handle, _ = await appeal_case_due_in(harness, 1)
    state = await harness.wait_for(handle, lambda s: s.escalation is EscalationLevel.URGENT)
    triage = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    await harness.update(
        handle,
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=triage.task_id, assignee="bob", reason="bob has time"),
    )
    state = await harness.update(
        handle,
        DenialCaseWorkflow.record_extension,
        RecordExtension(
            actor=SAM,
            kind=DeadlineKind.APPEAL,
            level=1,
            new_due=due(state, "appeal:1") + timedelta(days=30),
            reason="payer agreed",
        ),
    )
    assert task_of(state, triage.task_id).assignee == "bob"
    assert "task_returned" not in event_types(harness, state)
