"""Time on a case: escalations, stalls, deadlines lost and follow-ups falling due, and when
the run next needs to wake."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.case import (
        PRE_SUBMISSION_TASKS,
        CaseStatus,
        EscalationLevel,
        Placement,
        Role,
        Task,
        TaskType,
    )
    from domain.deadlines import Deadline, days_left, deadline_instant
    from domain.escalation import (
        announcement,
        deadline_at,
        escalation_instants,
        escalation_level_at,
        escalations_due,
        stall_clock_start,
        task_deadline_at,
    )
from workflows.case_core import CaseCore


class CaseClock(CaseCore):
    """What the passing of time does to the case; run() calls it at every wake."""

    def _advance_clock(self) -> None:
        state = self._state
        if state.status in (CaseStatus.RECEIVED, CaseStatus.CLOSED):
            return
        now = workflow.now()
        for task in state.open_tasks:
            at = task_deadline_at(state, task)
            if at is not None and task.type in PRE_SUBMISSION_TASKS and now >= at:
                deadline = state.deadline(task.deadline_key)
                assert deadline is not None
                self._lose_to_deadline(deadline)
                break
        if self._bounded:
            self._escalate_deadlines(now)
        for task in state.open_tasks:
            at = task_deadline_at(state, task)
            if at is not None and not self._bounded:
                level = escalation_level_at(at, now, state.policy)
                if level > task.escalation:
                    self._escalate(task, level)
            stalled_after = timedelta(days=state.policy.stalled_after_days)
            if not task.stalled and now - stall_clock_start(task) >= stalled_after:
                task.stalled = True
                self._event(
                    "stalled",
                    f"Task {task.type.value} untouched for {state.policy.stalled_after_days} days",
                    data={"task_id": task.task_id},
                )
        if (
            state.status is CaseStatus.AWAITING_PAYER
            and state.next_follow_up_at is not None
            and now >= state.next_follow_up_at
            and not any(t.type is TaskType.FOLLOW_UP_WITH_PAYER for t in state.open_tasks)
        ):
            state.next_follow_up_at = None
            self._add_task(
                TaskType.FOLLOW_UP_WITH_PAYER,
                due_at=now + timedelta(days=state.policy.follow_up_due_days),
            )
        self._refresh_priority()

    def _time_to_next_check(self, checked_at: datetime | None = None) -> timedelta | None:
        """How long until the next moment after the clock was last advanced (`checked_at`,
        default now) is due: zero or less when one already is."""
        state = self._state
        now = workflow.now()
        moments: list[datetime] = []
        for task in state.open_tasks:
            at = task_deadline_at(state, task)
            if at is not None:
                moments.extend(escalation_instants(at, state.policy))
            if not task.stalled:
                moments.append(
                    stall_clock_start(task) + timedelta(days=state.policy.stalled_after_days)
                )
        if state.next_follow_up_at is not None:
            moments.append(state.next_follow_up_at)
        deadline = state.next_deadline
        if deadline is not None and state.priority_params is not None:
            # Urgency changes when the days left cross a band: wake then to re-score.
            for band in state.priority_params.urgency:
                if band.max_days >= 0:
                    moments.append(
                        deadline_instant(
                            deadline.due - timedelta(days=band.max_days + 1), state.policy.tz
                        )
                    )
            moments.append(deadline_at(state, deadline))
        future = [moment for moment in moments if moment > (checked_at or now)]
        return min(future) - now if future else None

    def _escalate_deadlines(self, now: datetime) -> None:
        """One announcement per deadline and level (domain.escalation); at urgent, the
        biller-queue work racing the deadline moves to the supervisor queue, remembering
        where it was."""
        state = self._state
        for due in escalations_due(state, now):
            deadline, level = due.deadline, due.level
            state.deadline_escalations[deadline.key] = level
            tasks = [task for task in state.open_tasks if task.task_id in due.task_ids]
            for task in tasks:
                task.escalation = max(task.escalation, level)
            left = days_left(deadline.due, self._today())
            when = f"{deadline.label} deadline {deadline.due.isoformat()} ({left} days left)"
            work = ", ".join(task.type.value for task in tasks)
            data: dict[str, Any] = {"deadline": deadline.key, "task_ids": due.task_ids}
            if level is EscalationLevel.REMINDER:
                self._event(announcement(level), f"Reminder ({work}): {when}", data=data)
            elif level is EscalationLevel.ESCALATED:
                self._event(
                    announcement(level), f"Escalated to supervisors ({work}): {when}", data=data
                )
            else:
                moved = {}
                for task in tasks:
                    if task.queue is Role.BILLER:
                        moved[task.task_id] = task.assignee
                        task.placement_before_urgent = Placement(
                            queue=task.queue, assignee=task.assignee
                        )
                        task.assignee, task.queue = None, Role.SUPERVISOR
                self._event(
                    announcement(level),
                    f"Urgent, moved to the supervisor queue ({work}): {when}",
                    data={**data, "previous_assignees": moved},
                )

    def _escalate(self, task: Task, level: EscalationLevel) -> None:
        """Escalation as runs before BOUNDED_RUN had it: task by task."""
        state = self._state
        deadline = state.deadline(task.deadline_key)
        assert deadline is not None
        task.escalation = level
        left = days_left(deadline.due, self._today())
        when = f"{deadline.label} deadline {deadline.due.isoformat()} ({left} days left)"
        # Each task escalates on its own, so a case's later tasks escalate again: say which.
        work = task.type.value
        if level is EscalationLevel.REMINDER:
            self._event(
                announcement(level), f"Reminder ({work}): {when}", data={"task_id": task.task_id}
            )
        elif level is EscalationLevel.ESCALATED:
            self._event(
                announcement(level),
                f"Escalated to supervisors ({work}): {when}",
                data={"task_id": task.task_id},
            )
        else:
            previous = task.assignee
            task.assignee, task.queue = None, Role.SUPERVISOR
            self._event(
                announcement(level),
                f"Urgent, moved to the supervisor queue ({work}): {when}",
                data={"task_id": task.task_id, "previous_assignee": previous},
            )

    def _lose_to_deadline(self, deadline: Deadline) -> None:
        state = self._state
        self._cancel_open_tasks("deadline passed")
        state.lost_to_deadline = True
        self._event(
            "deadline_missed",
            f"{deadline.label} deadline {deadline.due.isoformat()} passed with nothing submitted: "
            "lost to deadline",
            data={"deadline": deadline.key},
        )
        self._enter_write_off_review()
