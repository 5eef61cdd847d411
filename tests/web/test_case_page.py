"""Which task's form the case page shows: the one a worklist asked for, else the user's own,
else one in the user's queue, else any the user may work."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.case import Actor, Role, Task, TaskType
from web.routes.case_page import _current_task

NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)
SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
ALICE = Actor(user_id="alice", role=Role.BILLER)


def task(number: int, type: TaskType, queue: Role, assignee: str | None = None) -> Task:
    return Task(
        task_id=f"case-t{number}",
        type=type,
        queue=queue,
        assignee=assignee,
        created_at=NOW,
        due_at=NOW,
        last_touched_at=NOW,
    )


APPEAL = task(3, TaskType.PREPARE_APPEAL, Role.BILLER, "bob")
ALARM = task(4, TaskType.RESOLVE_SUBMISSION_FAILURE, Role.SUPERVISOR)


def test_a_supervisor_sees_the_task_waiting_for_supervisors() -> None:
    assert _current_task([APPEAL, ALARM], SAM, None) is ALARM


def test_the_task_a_worklist_links_to_is_shown() -> None:
    assert _current_task([APPEAL, ALARM], SAM, APPEAL.task_id) is APPEAL


def test_the_users_own_task_comes_first() -> None:
    mine = task(5, TaskType.FOLLOW_UP_WITH_PAYER, Role.BILLER, "sam")
    assert _current_task([APPEAL, ALARM, mine], SAM, None) is mine


def test_a_task_nobody_here_may_work_is_shown_without_asking() -> None:
    assert _current_task([APPEAL, ALARM], ALICE, ALARM.task_id) is APPEAL
    assert _current_task([], ALICE, None) is None
