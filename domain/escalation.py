"""The escalation policy: how a case's work escalates as its deadlines approach, in one place.

Escalation belongs to the deadline, not to each task: a deadline reaches reminder (T-14),
escalated (T-7) and urgent (T-2, work moves to the supervisor queue) once each, counted back
from the instant the deadline day ends in the organisation's time zone. A task created inside
a window starts at the level its deadline already reached, without a new announcement and
without leaving the biller working the case. A deadline moved later (an extension, a rules
refresh) lowers the level, and work that urgency moved returns to where it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.case import CasePolicy, CaseState, EscalationLevel, Task, TaskType
from domain.deadlines import Deadline, deadline_instant


def announcement(level: EscalationLevel) -> str:
    """The case timeline event announcing a deadline reached `level` (its metric label too)."""
    return level.name.lower()


# Every announcement a case may make, least urgent first.
ANNOUNCEMENTS = tuple(announcement(level) for level in EscalationLevel if level)


def escalation_level_at(
    deadline_at: datetime, now: datetime, policy: CasePolicy
) -> EscalationLevel:
    """Which escalation a task racing `deadline_at` has reached at `now` (not before)."""
    left = deadline_at - now
    if left <= timedelta(days=policy.urgent_days):
        return EscalationLevel.URGENT
    if left <= timedelta(days=policy.escalate_days):
        return EscalationLevel.ESCALATED
    if left <= timedelta(days=policy.reminder_days):
        return EscalationLevel.REMINDER
    return EscalationLevel.NONE


def escalation_instants(deadline_at: datetime, policy: CasePolicy) -> list[datetime]:
    """When each escalation fires, then the deadline itself, in order."""
    return sorted(
        [
            deadline_at - timedelta(days=policy.reminder_days),
            deadline_at - timedelta(days=policy.escalate_days),
            deadline_at - timedelta(days=policy.urgent_days),
            deadline_at,
        ]
    )


def deadline_at(state: CaseState, deadline: Deadline) -> datetime:
    """When `deadline` passes: the end of its due day where the organisation works."""
    return deadline_instant(deadline.due, state.policy.tz)


def task_deadline_at(state: CaseState, task: Task) -> datetime | None:
    deadline = state.deadline(task.deadline_key)
    return deadline_at(state, deadline) if deadline else None


def stall_clock_start(task: Task) -> datetime:
    """When a task starts counting as untouched: a task waiting on the payer cannot stall
    before the payer's answer is due."""
    if task.type is TaskType.RECORD_PAYER_RESPONSE:
        return max(task.last_touched_at, task.due_at)
    return task.last_touched_at


class DeadlineEscalation(BaseModel):
    """A deadline that reached a level not yet announced, and the open tasks racing it."""

    model_config = ConfigDict(frozen=True)

    deadline: Deadline
    level: EscalationLevel
    task_ids: list[str]


def raced_deadlines(state: CaseState) -> list[Deadline]:
    """The deadlines the case's open tasks race, each once."""
    keys = dict.fromkeys(t.deadline_key for t in state.open_tasks if t.deadline_key)
    return [d for d in (state.deadline(key) for key in keys) if d is not None]


def escalations_due(state: CaseState, now: datetime) -> list[DeadlineEscalation]:
    """The deadlines whose level at `now` is above the level already announced for them."""
    due = []
    for deadline in raced_deadlines(state):
        level = escalation_level_at(deadline_at(state, deadline), now, state.policy)
        if level > state.deadline_escalations.get(deadline.key, EscalationLevel.NONE):
            racing = [t.task_id for t in state.open_tasks if t.deadline_key == deadline.key]
            due.append(DeadlineEscalation(deadline=deadline, level=level, task_ids=racing))
    return due


def starting_level(state: CaseState, deadline_key: str | None) -> EscalationLevel:
    """The level a new task racing `deadline_key` starts at: what its deadline reached."""
    if deadline_key is None:
        return EscalationLevel.NONE
    return state.deadline_escalations.get(deadline_key, EscalationLevel.NONE)


def lowered_levels(state: CaseState, now: datetime) -> dict[str, EscalationLevel]:
    """After deadlines moved: each announced deadline's level, no higher than its (new) date
    justifies at `now`. A deadline no longer in the case keeps what was announced."""
    levels = {}
    for key, announced in state.deadline_escalations.items():
        deadline = state.deadline(key)
        if deadline is None:
            levels[key] = announced
            continue
        reached = escalation_level_at(deadline_at(state, deadline), now, state.policy)
        levels[key] = min(announced, reached)
    return levels


def announced_from_tasks(state: CaseState) -> dict[str, EscalationLevel]:
    """For a case escalated task by task (before escalation belonged to the deadline): the
    level each deadline reached, from its tasks, so nothing is announced twice."""
    levels: dict[str, EscalationLevel] = {}
    for task in state.tasks:
        if task.deadline_key is not None and task.escalation > EscalationLevel.NONE:
            levels[task.deadline_key] = max(
                levels.get(task.deadline_key, EscalationLevel.NONE), task.escalation
            )
    return levels
