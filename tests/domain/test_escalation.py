"""The escalation policy: one announcement per deadline and level, new tasks start at their
deadline's level, moved deadlines lower the levels, and deadline instants in the office's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.case import CasePolicy, CaseState, EscalationLevel, Role, Task, TaskStatus, TaskType
from domain.deadlines import Deadline, DeadlineKind
from domain.escalation import (
    announced_from_tasks,
    deadline_at,
    escalations_due,
    lowered_levels,
    starting_level,
)
from testkit.records import make_record

DUE = date(2026, 3, 20)
# The appeal deadline passes at the midnight ending 20 March, UTC here.
DEADLINE_AT = datetime(2026, 3, 21, tzinfo=UTC)
APPEAL = Deadline(
    kind=DeadlineKind.APPEAL, level=1, due=DUE, basis="180 days", rule_id="r", source="s"
)
CORRECTED = Deadline(
    kind=DeadlineKind.CORRECTED_CLAIM,
    due=DUE + timedelta(days=60),
    basis="",
    rule_id="r",
    source="",
)


def task(number: int, key: str | None = "appeal:1", **changes: object) -> Task:
    values: dict[str, object] = {
        "task_id": f"case-t{number}",
        "type": TaskType.PREPARE_APPEAL,
        "queue": Role.BILLER,
        "assignee": "alice",
        "created_at": DEADLINE_AT - timedelta(days=40),
        "due_at": DEADLINE_AT,
        "deadline_key": key,
        "last_touched_at": DEADLINE_AT - timedelta(days=40),
    }
    return Task.model_validate({**values, **changes})


def case(
    tasks: list[Task],
    announced: dict[str, EscalationLevel] | None = None,
    policy: CasePolicy | None = None,
) -> CaseState:
    return CaseState(
        case_id="case",
        record=make_record(date(2025, 9, 1)),
        policy=policy or CasePolicy(),
        deadlines=[APPEAL, CORRECTED],
        tasks=tasks,
        deadline_escalations=announced or {},
        created_at=DEADLINE_AT - timedelta(days=60),
        updated_at=DEADLINE_AT - timedelta(days=60),
    )


def test_a_deadline_ends_at_midnight_in_the_offices_zone() -> None:
    assert deadline_at(case([]), APPEAL) == DEADLINE_AT
    in_new_york = case([], policy=CasePolicy(timezone="America/New_York"))
    assert deadline_at(in_new_york, APPEAL) == datetime(2026, 3, 21, 4, tzinfo=UTC)  # EDT


def test_each_level_is_due_once_per_deadline_for_all_its_tasks() -> None:
    state = case([task(1), task(2, type=TaskType.RESOLVE_SUBMISSION_FAILURE)])
    (due,) = escalations_due(state, DEADLINE_AT - timedelta(days=7))
    assert (due.deadline.key, due.level, due.task_ids) == (
        "appeal:1",
        EscalationLevel.ESCALATED,
        ["case-t1", "case-t2"],
    )
    announced = case(state.tasks, {"appeal:1": EscalationLevel.ESCALATED})
    assert escalations_due(announced, DEADLINE_AT - timedelta(days=3)) == []
    (urgent,) = escalations_due(announced, DEADLINE_AT - timedelta(days=2))
    assert urgent.level is EscalationLevel.URGENT


def test_nothing_is_due_before_the_reminder_or_for_closed_or_untimed_tasks() -> None:
    assert escalations_due(case([task(1)]), DEADLINE_AT - timedelta(days=15)) == []
    closed = task(1, status=TaskStatus.COMPLETED)
    assert escalations_due(case([closed, task(2, key=None)]), DEADLINE_AT) == []


def test_deadlines_escalate_separately() -> None:
    state = case([task(1), task(2, key="corrected_claim")])
    due = escalations_due(state, DEADLINE_AT - timedelta(days=10))
    assert [(d.deadline.key, d.level) for d in due] == [("appeal:1", EscalationLevel.REMINDER)]


def test_a_new_task_starts_at_the_level_its_deadline_reached() -> None:
    state = case([], {"appeal:1": EscalationLevel.URGENT})
    assert starting_level(state, "appeal:1") is EscalationLevel.URGENT
    assert starting_level(state, "corrected_claim") is EscalationLevel.NONE
    assert starting_level(state, None) is EscalationLevel.NONE


def test_a_moved_deadline_lowers_what_was_announced_never_raises_it() -> None:
    extended = APPEAL.model_copy(update={"due": DUE + timedelta(days=30)})
    state = case([task(1)], {"appeal:1": EscalationLevel.URGENT})
    state.deadlines = [extended, CORRECTED]
    now = DEADLINE_AT - timedelta(days=1)
    assert lowered_levels(state, now) == {"appeal:1": EscalationLevel.NONE}
    reminded = case([task(1)], {"appeal:1": EscalationLevel.REMINDER})
    assert lowered_levels(reminded, DEADLINE_AT - timedelta(days=1)) == {
        "appeal:1": EscalationLevel.REMINDER
    }
    gone = case([task(1)], {"appeal:2": EscalationLevel.ESCALATED})
    assert lowered_levels(gone, now) == {"appeal:2": EscalationLevel.ESCALATED}


def test_a_case_escalated_task_by_task_keeps_what_it_announced() -> None:
    state = case(
        [
            task(1, escalation=EscalationLevel.ESCALATED, status=TaskStatus.COMPLETED),
            task(2, escalation=EscalationLevel.URGENT),
            task(3, key="corrected_claim"),
        ]
    )
    assert announced_from_tasks(state) == {"appeal:1": EscalationLevel.URGENT}
