"""The SQL read model: after every step of a case it equals the workflow's Query, on SQLite
and PostgreSQL; versioned writes never roll a case back and land each event once; prevention
links are idempotent and grouped by pattern."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.engine import session_scope
from db.models import CaseEventRow, CaseRow, PreventionCaseLink, PreventionTaskRow, TaskRow
from db.prevention import cases_of_prevention_task, link_case_to_prevention_task
from db.projection import write_case_projection
from domain.case import (
    CaseEvent,
    CaseOutcome,
    CasePolicy,
    CaseState,
    CaseStatus,
    EscalationLevel,
    PayerDecision,
    Role,
    Task,
    TaskStatus,
    TaskType,
)
from domain.models import Category, DenialClass, WorkPath
from domain.priority import PriorityBreakdown
from testkit.records import finished_appeal, make_record
from tests.harness import ALICE, CaseHandle, CaseHarness
from tests.workflows.case_steps import settled
from workflows.messages import ConfirmRootCause, ConfirmTriage, PayerResponseEntry

# --- The read model follows the workflow ---------------------------------------------------


def assert_projection_matches(harness: CaseHarness, state: CaseState) -> None:
    """The case row, its task rows and its event rows say what the Query says."""
    row = harness.case_row(state.case_id)
    assert row is not None
    deadline = state.next_deadline
    assert (
        row.version,
        row.status,
        row.outcome,
        row.category,
        row.denial_class,
        row.path,
        row.appeal_level,
        row.priority,
        row.next_deadline,
        row.next_deadline_kind,
        row.assignee,
        row.owner,
        row.escalation,
        row.stalled,
        row.recovered_amount,
        row.denied_amount,
        row.updated_at,
        row.closed_at,
    ) == (
        state.version,
        state.status.value,
        state.outcome.value if state.outcome else None,
        state.category.value if state.category else None,
        state.denial_class.value if state.denial_class else None,
        state.path.value if state.path else None,
        state.appeal_level,
        state.priority.score if state.priority else 0.0,
        deadline.due if deadline else None,
        deadline.key if deadline else None,
        state.assignee,
        state.owner,
        int(state.escalation),
        state.stalled,
        state.recovered_amount,
        state.denied_amount,
        state.updated_at,
        state.closed_at,
    )
    assert row.state == state.model_dump(mode="json", exclude={"pending_events"})

    tasks = sorted(harness.task_rows(state.case_id), key=lambda t: t.created_at)
    assert [
        (
            t.task_id,
            t.type,
            t.status,
            t.assignee,
            t.queue,
            t.priority,
            t.escalation,
            t.deadline_key,
            t.completed_by,
            t.case_version,
        )
        for t in tasks
    ] == [
        (
            t.task_id,
            t.type.value,
            t.status.value,
            t.assignee,
            t.queue.value,
            t.priority,
            int(t.escalation),
            t.deadline_key,
            t.completed_by,
            state.version,
        )
        for t in state.tasks
    ]

    # Settled, the workflow holds no event: each is in the timeline, once, in order.
    assert state.pending_events == []
    events = harness.event_rows(state.case_id)
    assert [e.seq for e in events] == list(range(1, state.event_seq + 1))


async def read_your_writes(harness: CaseHarness, handle: CaseHandle, after: CaseState) -> None:
    """An Update returns only once the read model shows its change; then, when the workflow is
    idle, the read model equals the Query."""
    row = harness.case_row(after.case_id)
    assert row is not None and row.version >= after.version
    assert_projection_matches(harness, await settled(harness, handle))


async def test_read_model_follows_every_step(any_db_harness: CaseHarness) -> None:
    """An appeal from triage to payment: after each step the read model equals the Query."""
    harness = any_db_harness
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today))
    state = await settled(harness, handle)
    assert state.status is CaseStatus.TRIAGED
    assert [t.type for t in state.open_tasks] == [TaskType.CONFIRM_TRIAGE]
    assert_projection_matches(harness, state)

    state = await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(), ALICE)
    assert state.status is CaseStatus.ROOT_CAUSE
    await read_your_writes(harness, handle, state)

    state = await harness.complete(
        handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause(pattern=True), ALICE
    )
    assert (state.status, state.path) == (CaseStatus.APPEAL, WorkPath.APPEAL)
    await read_your_writes(harness, handle, state)

    await harness.attest_if_required(handle)
    state = await harness.complete(
        handle,
        TaskType.PREPARE_APPEAL,
        finished_appeal(1, "Meets coverage criteria", today),
        ALICE,
    )
    assert state.status is CaseStatus.AWAITING_PAYER
    await read_your_writes(harness, handle, state)

    state = await harness.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        PayerResponseEntry(
            decision=PayerDecision.PAID, paid_amount=Decimal("987.65"), decision_date=today
        ),
        ALICE,
    )
    assert (state.status, state.outcome) == (CaseStatus.CLOSED, CaseOutcome.RECOVERED)
    await read_your_writes(harness, handle, state)

    result = await handle.result()
    state = await settled(harness, handle)
    assert state.prevention_task_id == result.prevention_task_id
    assert harness.timeline(state)[-1].type == "prevention_task"
    assert all(not t.is_open for t in state.tasks)
    assert_projection_matches(harness, state)
    row = harness.case_row(state.case_id)
    assert row is not None and row.recovered_amount == Decimal("987.65")
    with Session(harness.engine) as session:
        link = session.get(PreventionCaseLink, state.case_id)
    assert link is not None
    assert (link.prevention_task_id, link.outcome, link.denied_amount) == (
        result.prevention_task_id,
        "recovered",
        Decimal("1000.00"),
    )


# --- Versioned writes ----------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def build_state(
    case_id: str, version: int, status: CaseStatus, tasks: list[Task], events: list[CaseEvent]
) -> CaseState:
    return CaseState(
        case_id=case_id,
        record=make_record(date(2026, 3, 2)),
        policy=CasePolicy(),
        status=status,
        category=Category.MEDICAL_NECESSITY,
        denial_class=DenialClass.HARD,
        suggested_path=WorkPath.APPEAL,
        path=WorkPath.APPEAL if status is not CaseStatus.TRIAGED else None,
        priority=PriorityBreakdown(score=10.0 * version, factors=[]),
        owner="alice" if status is not CaseStatus.TRIAGED else None,
        tasks=tasks,
        pending_events=events,
        event_seq=events[-1].seq if events else 0,
        version=version,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=version),
    )


def task(case_id: str, n: int, type: TaskType, **changes: object) -> Task:
    values: dict[str, object] = {
        "task_id": f"{case_id}-t{n}",
        "type": type,
        "queue": Role.BILLER,
        "created_at": T0,
        "due_at": T0 + timedelta(days=7),
        "last_touched_at": T0,
    }
    return Task.model_validate({**values, **changes})


def event(seq: int, type: str, message: str, actor: str = "system") -> CaseEvent:
    return CaseEvent(
        seq=seq, at=T0 + timedelta(minutes=seq), type=type, actor=actor, message=message
    )


def triaged_v2(case_id: str) -> CaseState:
    return build_state(
        case_id,
        2,
        CaseStatus.TRIAGED,
        [task(case_id, 1, TaskType.CONFIRM_TRIAGE)],
        [event(1, "received", "Denial received"), event(2, "triaged", "Classified")],
    )


def root_cause_v4(case_id: str) -> CaseState:
    return build_state(
        case_id,
        4,
        CaseStatus.ROOT_CAUSE,
        [
            task(
                case_id,
                1,
                TaskType.CONFIRM_TRIAGE,
                status=TaskStatus.COMPLETED,
                completed_by="alice",
                completed_at=T0 + timedelta(minutes=3),
            ),
            task(
                case_id,
                2,
                TaskType.CONFIRM_ROOT_CAUSE,
                assignee="alice",
                escalation=EscalationLevel.REMINDER,
            ),
        ],
        [
            *triaged_v2(case_id).pending_events,
            event(3, "triage_confirmed", "Triage confirmed", "alice"),
            event(4, "task_created", "Task confirm_root_cause assigned to alice"),
        ],
    )


def write(engine: Engine, state: CaseState, new_events: list[CaseEvent]) -> None:
    with session_scope(engine) as session:
        write_case_projection(session, state, new_events)


def snapshot(engine: Engine, case_id: str) -> tuple[object, ...]:
    with Session(engine) as session:
        case = session.get(CaseRow, case_id)
        assert case is not None
        tasks = session.exec(
            select(TaskRow).where(TaskRow.case_id == case_id).order_by(col(TaskRow.task_id))
        ).all()
        events = session.exec(
            select(CaseEventRow)
            .where(CaseEventRow.case_id == case_id)
            .order_by(col(CaseEventRow.seq))
        ).all()
        return (
            case.model_dump(),
            [t.model_dump() for t in tasks],
            [e.model_dump() for e in events],
        )


def test_stale_write_never_rolls_a_case_back(engine: Engine) -> None:
    """A write of an older version (a retried or overtaken activity) changes no row."""
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    old, new = triaged_v2(case_id), root_cause_v4(case_id)
    write(engine, old, old.pending_events)
    write(engine, new, new.pending_events[2:])
    before = snapshot(engine, case_id)

    stale = old.model_copy(update={"version": 3})
    write(engine, stale, [])
    write(engine, old, old.pending_events)

    assert snapshot(engine, case_id) == before
    case, tasks, events = before
    assert isinstance(case, dict) and (case["version"], case["status"], case["owner"]) == (
        4,
        "root_cause",
        "alice",
    )
    assert case["priority"] == 40.0
    assert isinstance(tasks, list) and [
        (t["task_id"], t["status"], t["assignee"], t["case_version"]) for t in tasks
    ] == [
        (f"{case_id}-t1", "completed", None, 4),
        (f"{case_id}-t2", "open", "alice", 4),
    ]
    assert isinstance(events, list) and [e["seq"] for e in events] == [1, 2, 3, 4]


def test_newer_write_replaces_the_case_and_its_tasks(engine: Engine) -> None:
    """A higher version overwrites the case row and every task row it carries."""
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    old, new = triaged_v2(case_id), root_cause_v4(case_id)
    write(engine, old, old.pending_events)
    write(engine, new, new.pending_events[2:])
    case, tasks, events = snapshot(engine, case_id)
    assert isinstance(case, dict) and (case["version"], case["status"]) == (4, "root_cause")
    assert case["updated_at"] == T0 + timedelta(minutes=4)
    assert isinstance(tasks, list) and [(t["status"], t["escalation"]) for t in tasks] == [
        ("completed", 0),
        ("open", 1),
    ]
    assert isinstance(events, list) and [(e["seq"], e["type"]) for e in events] == [
        (1, "received"),
        (2, "triaged"),
        (3, "triage_confirmed"),
        (4, "task_created"),
    ]


def test_repeated_write_is_a_no_op(engine: Engine) -> None:
    """Writing the same version again (an activity retry) duplicates no event and changes
    nothing, even if the retry's payload differs."""
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    state = root_cause_v4(case_id)
    write(engine, state, state.pending_events)
    before = snapshot(engine, case_id)
    write(engine, state, state.pending_events)
    assert snapshot(engine, case_id) == before

    same_version = state.model_copy(update={"status": CaseStatus.CLOSED})
    edited = [e.model_copy(update={"message": "rewritten"}) for e in state.pending_events]
    write(engine, same_version, edited)
    after = snapshot(engine, case_id)
    assert after == before
    _, _, events = after
    assert isinstance(events, list) and len(events) == 4
    assert [e["message"] for e in events] == [e.message for e in state.pending_events]


# --- Prevention items ----------------------------------------------------------------------


def link(engine: Engine, case_id: str, pattern_key: str, amount: str) -> str:
    with session_scope(engine) as session:
        return link_case_to_prevention_task(
            session,
            case_id=case_id,
            pattern_key=pattern_key,
            payer_id="COM-TEST",
            payer_name="Commercial Test",
            category="coding",
            root_cause="CO-4: modifier missing",
            owning_team="coding",
            recommended_action="Add a scrubber edit",
            denied_amount=Decimal(amount),
            outcome="recovered",
        )


def item(engine: Engine, prevention_task_id: str) -> PreventionTaskRow:
    with Session(engine) as session:
        row = session.get(PreventionTaskRow, prevention_task_id)
        assert row is not None
        return row


def items_of(engine: Engine, pattern_key: str) -> list[PreventionTaskRow]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(PreventionTaskRow).where(PreventionTaskRow.pattern_key == pattern_key)
            )
        )


def test_linking_the_same_case_twice_is_idempotent(engine: Engine) -> None:
    pattern = f"COM-TEST|coding|{uuid.uuid4().hex}"
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    first = link(engine, case_id, pattern, "250.10")
    second = link(engine, case_id, pattern, "250.10")
    assert first == second
    row = item(engine, first)
    assert (row.case_count, row.dollars_at_stake, row.status) == (1, Decimal("250.10"), "open")
    assert len(items_of(engine, pattern)) == 1
    with Session(engine) as session:
        assert cases_of_prevention_task(session, first) == [case_id]


def test_cases_with_the_same_pattern_share_one_item(engine: Engine) -> None:
    pattern = f"COM-TEST|coding|{uuid.uuid4().hex}"
    a, b = f"case-{uuid.uuid4().hex[:12]}", f"case-{uuid.uuid4().hex[:12]}"
    first = link(engine, a, pattern, "100.10")
    second = link(engine, b, pattern, "200.20")
    assert first == second
    row = item(engine, first)
    assert (row.case_count, row.dollars_at_stake) == (2, Decimal("300.30"))
    assert len(items_of(engine, pattern)) == 1
    with Session(engine) as session:
        assert sorted(cases_of_prevention_task(session, first)) == sorted([a, b])
    other = link(engine, f"case-{uuid.uuid4().hex[:12]}", f"{pattern}-other", "5")
    assert other != first
    assert item(engine, first).case_count == 2


def test_a_done_item_is_not_reopened(engine: Engine) -> None:
    """Once a pattern's item is done, the next case of that pattern opens a new item."""
    pattern = f"COM-TEST|coding|{uuid.uuid4().hex}"
    first = link(engine, f"case-{uuid.uuid4().hex[:12]}", pattern, "100")
    with session_scope(engine) as session:
        done = session.get(PreventionTaskRow, first)
        assert done is not None
        done.status = "done"
        session.add(done)
    later_case = f"case-{uuid.uuid4().hex[:12]}"
    second = link(engine, later_case, pattern, "40.50")
    assert second != first
    new = item(engine, second)
    assert (new.status, new.case_count, new.dollars_at_stake) == ("open", 1, Decimal("40.50"))
    old = item(engine, first)
    assert (old.status, old.case_count, old.dollars_at_stake) == ("done", 1, Decimal("100"))
    assert len(items_of(engine, pattern)) == 2
    with Session(engine) as session:
        assert cases_of_prevention_task(session, second) == [later_case]
    assert link(engine, later_case, pattern, "40.50") == second
