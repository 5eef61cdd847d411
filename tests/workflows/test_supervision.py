"""Supervising cases: reassigning tasks, adjusting priority, notes, claiming and releasing
tasks, and recomputing deadlines after a payer rule changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from db.models import TaskRow
from domain.case import CasePolicy, CaseStatus, Role, TaskStatus, TaskType
from domain.deadlines import DeadlineKind
from domain.models import Payer, PayerType, WorkPath
from domain.priority import PriorityFactor
from domain.rulebook import Rulebook
from testkit.records import adj, make_record
from tests.conftest import running_harness
from tests.harness import ADA, ALICE, BOB, SAM, CaseHarness
from tests.workflows.case_steps import expect_rejection, settled, to_root_cause
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AddNote,
    ChangePriority,
    ClaimTask,
    CompleteTask,
    ConfirmRootCause,
    ConfirmTriage,
    ReassignTask,
    RecordExtension,
    RefreshRules,
    ReleaseTask,
)
from workflows.refusals import Refusal


def task_row(harness: CaseHarness, case_id: str, task_id: str) -> TaskRow:
    rows = {row.task_id: row for row in harness.task_rows(case_id)}
    return rows[task_id]


# --- Reassigning ---------------------------------------------------------------------------


async def test_reassign_to_another_biller_moves_task_and_ownership(harness: CaseHarness) -> None:
    """A supervisor hands alice's task to bob: bob is assignee and owner, the timeline says so,
    alice can no longer work it, and the case's next task goes to bob."""
    handle, state = await to_root_cause(harness, make_record(await harness.today()))
    task = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE)
    assert (task.assignee, state.owner) == ("alice", "alice")

    state = await harness.update(
        handle,
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=task.task_id, assignee="bob", reason="alice is out"),
    )
    moved = state.task(task.task_id)
    assert moved is not None
    assert (moved.assignee, moved.queue, state.owner) == ("bob", Role.BILLER, "bob")
    event = harness.timeline(state)[-1]
    assert (event.type, event.actor) == ("task_reassigned", "sam")
    assert event.message == "Task confirm_root_cause reassigned from alice to bob: alice is out"
    assert event.data == {"task_id": task.task_id, "from": "alice", "to": "bob"}
    row = harness.case_row(state.case_id)
    assert row is not None and (row.assignee, row.owner) == ("bob", "bob")
    assert task_row(harness, state.case_id, task.task_id).assignee == "bob"

    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.complete_task,
        CompleteTask(actor=ALICE, task_id=task.task_id, payload=ConfirmRootCause()),
        Refusal.FORBIDDEN,
        "assigned to bob, not to alice",
    )
    state = await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause(), BOB)
    assert state.status is CaseStatus.APPEAL
    nxt = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (nxt.assignee, nxt.queue) == ("bob", Role.BILLER)


async def test_reassign_to_the_supervisor_queue(harness: CaseHarness) -> None:
    """Reassigning to a queue clears the assignee; billers can neither work nor claim the task
    any more, a supervisor can. The biller owner stays the case's owner."""
    handle, state = await to_root_cause(harness, make_record(await harness.today()))
    task_id = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE).task_id

    state = await harness.update(
        handle,
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=task_id, assignee=None, assignee_role=Role.SUPERVISOR),
    )
    moved = state.task(task_id)
    assert moved is not None
    assert (moved.assignee, moved.queue) == (None, Role.SUPERVISOR)
    assert state.assignee is None
    assert state.owner == "alice"
    assert harness.timeline(state)[-1].message == (
        "Task confirm_root_cause reassigned from alice to supervisor queue"
    )
    row = harness.case_row(state.case_id)
    assert row is not None and row.assignee is None
    moved_row = task_row(harness, state.case_id, task_id)
    assert (moved_row.assignee, moved_row.queue) == (None, "supervisor")

    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.claim_task,
        ClaimTask(actor=ALICE, task_id=task_id),
        Refusal.FORBIDDEN,
        "is in the supervisor queue",
    )
    state = await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause(), SAM)
    done = state.task(task_id)
    assert done is not None and (done.status, done.completed_by) == (TaskStatus.COMPLETED, "sam")
    assert harness.open_task(state, TaskType.PREPARE_APPEAL).assignee == "alice"


# --- Priority ------------------------------------------------------------------------------


async def test_change_priority_multiplies_the_score(harness: CaseHarness) -> None:
    """$1000 missing information, corrected claim, 175 days left: 1000 x 0.8 x 1.0 / 0.5 =
    1600; a supervisor's x2.5 makes it 4000, shown as its own factor, and it sticks when the
    case is re-scored for another path (1000 x 0.8 x 1.0 / 1.5 x 2.5 = 1333.33)."""
    record = make_record(await harness.today(), adjustments=[adj("CO-16", 1000)])
    handle, state = await harness.triaged(record)
    assert state.priority is not None and state.priority.score == 1600.0

    state = await harness.update(
        handle,
        DenialCaseWorkflow.change_priority,
        ChangePriority(actor=SAM, adjustment=2.5, reason="payer under contract review"),
    )
    assert state.priority is not None
    assert state.priority.score == 4000.0
    assert state.priority.factors[-1] == PriorityFactor(
        name="supervisor adjustment", value=2.5, explanation="payer under contract review"
    )
    assert [f.name for f in state.priority.factors] == [
        "denied amount",
        "expected recovery",
        "urgency",
        "effort",
        "supervisor adjustment",
    ]
    assert (state.priority_adjustment, state.priority_adjustment_reason) == (
        2.5,
        "payer under contract review",
    )
    assert [t.priority for t in state.open_tasks] == [4000.0]
    event = harness.timeline(state)[-1]
    assert (event.type, event.actor) == ("priority_changed", "sam")
    assert event.message == "Priority adjusted x2.5: payer under contract review"
    row = harness.case_row(state.case_id)
    assert row is not None and row.priority == 4000.0
    assert [r.priority for r in harness.task_rows(state.case_id)] == [4000.0]

    state = await harness.complete(
        handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(path=WorkPath.APPEAL), ALICE
    )
    state = await settled(harness, handle)
    assert state.priority is not None and state.priority.score == 1333.33
    assert state.priority.factors[-1].name == "supervisor adjustment"
    row = harness.case_row(state.case_id)
    assert row is not None and row.priority == 1333.33


# --- Notes ---------------------------------------------------------------------------------


async def test_add_note_lands_on_the_timeline_and_unstalls(harness: CaseHarness) -> None:
    """A note is a timeline event by its author; it counts as touching the open tasks, so a
    stalled task is no longer stalled."""
    handle, state = await harness.triaged(make_record(await harness.today()))
    await harness.sleep(timedelta(days=harness.policy.stalled_after_days, hours=1))
    state = await harness.wait_for(handle, lambda s: s.stalled)
    assert [e.type for e in harness.timeline(state)][-1] == "stalled"

    state = await harness.update(
        handle,
        DenialCaseWorkflow.add_note,
        AddNote(actor=ALICE, text="Called the payer: records request pending"),
    )
    note = harness.timeline(state)[-1]
    assert (note.type, note.actor, note.message) == (
        "note",
        "alice",
        "Called the payer: records request pending",
    )
    assert not state.stalled
    task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    assert task.last_touched_at == note.at
    rows = harness.event_rows(state.case_id)
    assert (rows[-1].seq, rows[-1].type, rows[-1].actor, rows[-1].message) == (
        note.seq,
        "note",
        "alice",
        "Called the payer: records request pending",
    )
    row = harness.case_row(state.case_id)
    assert row is not None and row.stalled is False
    await harness.sleep(timedelta(days=1))
    assert not (await settled(harness, handle)).stalled


# --- Claiming and releasing ----------------------------------------------------------------


async def test_billers_claim_and_release_tasks(harness: CaseHarness) -> None:
    """Claiming takes an unassigned queue task (and the case, for the first biller); releasing
    gives both back, so another biller can claim it and carries the case on."""
    handle, state = await harness.triaged(make_record(await harness.today()))
    task_id = harness.open_task(state, TaskType.CONFIRM_TRIAGE).task_id
    assert state.owner is None

    state = await harness.update(
        handle, DenialCaseWorkflow.claim_task, ClaimTask(actor=ALICE, task_id=task_id)
    )
    claimed = state.task(task_id)
    assert claimed is not None and claimed.assignee == "alice"
    assert state.owner == "alice"
    assert (harness.timeline(state)[-1].type, harness.timeline(state)[-1].message) == (
        "task_claimed",
        "Task confirm_triage claimed by alice",
    )
    assert task_row(harness, state.case_id, task_id).assignee == "alice"
    row = harness.case_row(state.case_id)
    assert row is not None and (row.assignee, row.owner) == ("alice", "alice")
    await expect_rejection(
        harness,
        handle,
        DenialCaseWorkflow.complete_task,
        CompleteTask(actor=BOB, task_id=task_id, payload=ConfirmTriage()),
        Refusal.FORBIDDEN,
        "assigned to alice, not to bob",
    )

    state = await harness.update(
        handle, DenialCaseWorkflow.release_task, ReleaseTask(actor=ALICE, task_id=task_id)
    )
    released = state.task(task_id)
    assert released is not None and (released.assignee, released.queue) == (None, Role.BILLER)
    assert state.owner is None
    assert (harness.timeline(state)[-1].type, harness.timeline(state)[-1].message) == (
        "task_released",
        "Task confirm_triage released to the biller queue",
    )
    assert task_row(harness, state.case_id, task_id).assignee is None

    state = await harness.update(
        handle, DenialCaseWorkflow.claim_task, ClaimTask(actor=BOB, task_id=task_id)
    )
    assert state.owner == "bob"
    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(), BOB)
    assert harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE).assignee == "bob"


async def test_supervisor_releases_a_billers_task(harness: CaseHarness) -> None:
    """A supervisor may release any assigned task back to its queue."""
    handle, state = await to_root_cause(harness, make_record(await harness.today()))
    task_id = harness.open_task(state, TaskType.CONFIRM_ROOT_CAUSE).task_id
    state = await harness.update(
        handle, DenialCaseWorkflow.release_task, ReleaseTask(actor=SAM, task_id=task_id)
    )
    released = state.task(task_id)
    assert released is not None and released.assignee is None
    assert state.owner is None
    assert harness.timeline(state)[-1].actor == "sam"


# --- Payer rule refresh -----------------------------------------------------------------------


RULES_PAYER = Payer(payer_id="RULES-TEST", name="Rules Test Plan", type=PayerType.COMMERCIAL)


@pytest.fixture
async def rules_harness(
    workflow_env: WorkflowEnvironment, sqlite_engine: Engine, policy: CasePolicy, tmp_path: Path
) -> AsyncIterator[CaseHarness]:
    """A worker whose payer rules give RULES-TEST a new version that took effect two days ago:
    180-day windows before, 90-day appeals and 120-day corrected claims since."""
    today = (await workflow_env.get_current_time()).date()
    rules = tmp_path / "payer_rules.toml"
    rules.write_text(
        f"""
[[rule]]
id = "rules-test-v1"
payer_id = "RULES-TEST"
based_on = "commercial-erisa"
effective_from = 2025-01-01
source = "test contract v1"

[[rule]]
id = "rules-test-v2"
payer_id = "RULES-TEST"
based_on = "commercial-erisa"
effective_from = {(today - timedelta(days=2)).isoformat()}
source = "test contract v2"
corrected_claim = {{ days = 120, decision_days = 30 }}
appeal_levels = [
  {{ level = 1, name = "Appeal", filing_days = 90, decision_days = 30 }},
]
"""
    )
    rulebook = Rulebook.load(payer_rules_override=rules)
    async with running_harness(workflow_env, sqlite_engine, rulebook, policy) as harness:
        yield harness


async def test_refresh_rules_recomputes_deadlines(rules_harness: CaseHarness) -> None:
    """Triage used the rule in effect at the remittance (v1); a refresh applies the rule in
    effect now (v2) to every deadline, keeps recorded extensions, and projects the result."""
    harness = rules_harness
    today = await harness.today()
    remitted = today - timedelta(days=5)
    handle, state = await harness.triaged(make_record(today, payer=RULES_PAYER))
    assert state.rule is not None and state.rule.id == "rules-test-v1"
    appeal = state.deadline("appeal:1")
    assert appeal is not None and appeal.due == remitted + timedelta(days=180)
    extended = remitted + timedelta(days=200)
    new_appeal_due = remitted + timedelta(days=90)
    await handle.execute_update(
        DenialCaseWorkflow.record_extension,
        RecordExtension(
            actor=ALICE,
            kind=DeadlineKind.CORRECTED_CLAIM,
            new_due=extended,
            reason="payer agreed",
        ),
    )

    state = await harness.update(handle, DenialCaseWorkflow.refresh_rules, RefreshRules(actor=SAM))
    assert state.rule is not None and state.rule.id == "rules-test-v2"
    assert {d.key: d.due for d in state.deadlines} == {
        "timely_filing": today - timedelta(days=30) + timedelta(days=90),
        "corrected_claim": extended,
        "appeal:1": new_appeal_due,
    }
    event = harness.timeline(state)[-1]
    assert (event.type, event.actor) == ("deadlines_recomputed", "sam")
    assert event.message == "Deadlines recomputed from payer rule rules-test-v2 (was rules-test-v1)"
    task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    assert task.deadline_key == "appeal:1"
    row = harness.case_row(state.case_id)
    assert row is not None
    assert (row.next_deadline, row.next_deadline_kind) == (
        remitted + timedelta(days=90),
        "appeal:1",
    )
    assert task_row(harness, state.case_id, task.task_id).deadline_due == remitted + timedelta(
        days=90
    )

    state = await harness.update(handle, DenialCaseWorkflow.refresh_rules, RefreshRules(actor=ADA))
    assert harness.timeline(state)[-1].message == (
        "Deadlines recomputed from payer rule rules-test-v2 (was rules-test-v2)"
    )
    assert harness.timeline(state)[-1].actor == "ada"
