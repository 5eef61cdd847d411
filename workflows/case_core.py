"""The case workflow's state and the changes every part of it makes: events, tasks, paths,
deadlines, closing, and projecting to the read model (the parts: case_clock,
case_payer_answers, case_submissions, case_task_work, case_task_claims, case_changes)."""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.projection import ProjectionActivities
    from domain.case import (
        SYSTEM_ACTOR,
        Actor,
        CaseEvent,
        CaseOutcome,
        CaseState,
        CaseStatus,
        EscalationLevel,
        Role,
        Submission,
        Task,
        TaskStatus,
        TaskType,
        case_deadlines,
        path_deadline_key,
    )
    from domain.deadlines import DeadlineKind, days_left, due_day, find_deadline
    from domain.escalation import (
        deadline_at,
        escalation_level_at,
        lowered_levels,
        starting_level,
        task_deadline_at,
    )
    from domain.models import WorkPath
    from domain.permissions import Permission, allows
    from domain.priority import priority_score
    from workflows import search_attributes as sa
    from workflows.case_activities import run_unbounded, run_until_done
    from workflows.messages import CaseChange, ProjectionRequest
    from workflows.refusals import Refusal, refuse


class CaseCore:
    """What DenialCaseWorkflow holds (set in its __init__) and how it changes it."""

    _state: CaseState
    _projected_version: int  # the state version the read model holds
    _search_attributes: dict[str, object]  # as last upserted
    # (seq, type) of the latest events, for Update receipts: memory only, never carried.
    _recent_events: deque[tuple[int, str]]
    _sending: set[str]  # prepare tasks whose submission is being sent
    _late_payment_recorded: bool
    _bounded: bool  # BOUNDED_RUN, decided per run

    async def _run(self, activity: Any, arg: Any) -> Any:
        """Run work the case cannot go on without (see workflows.case_activities)."""
        if self._bounded:
            return await run_until_done(activity, arg)
        return await run_unbounded(activity, arg)

    def _today(self) -> date:
        """The organisation's calendar day now (its time zone decides when a day ends)."""
        return self._state.policy.today(workflow.now())

    async def _sync_read_model(self) -> None:
        """Project every change to the read model; Updates wait for this before returning.
        Projected events leave the state: the read model keeps the timeline."""
        state = self._state
        while self._projected_version < state.version:
            if self._bounded:
                # A local activity's argument is serialized when it is scheduled, and its
                # retries (backoffs under the SDK's local retry threshold, LOCAL_RETRY) resend
                # those bytes: a shallow copy is a snapshot for it (a deep one cost 0.3-0.6 ms
                # of the worker's CPU a case).
                request = self._projection(deep=False)
                await run_until_done(
                    ProjectionActivities.project_case, request, lambda: self._projection(deep=True)
                )
            else:
                request = self._projection(deep=True)
                await run_unbounded(ProjectionActivities.project_case, request)
            self._projected_version = request.state.version
            if request.new_events:
                last = request.new_events[-1].seq
                state.pending_events = [e for e in state.pending_events if e.seq > last]
            self._upsert_search_attributes()

    def _projection(self, *, deep: bool) -> ProjectionRequest:
        """The state as it is now, with its events not projected yet. An argument serialized
        later than it is made (the server's rounds once the worker's attempts failed, a retry
        after a backoff timer) is a deep copy, made when the round starts: it may hold changes
        made since, projected again by the next pass of the loop."""
        state = self._state
        return ProjectionRequest(
            state=state.model_copy(update={"pending_events": []}, deep=deep),
            new_events=list(state.pending_events),
        )

    def _upsert_search_attributes(self) -> None:
        state = self._state
        deadline = state.next_deadline
        wanted: dict[str, object] = {
            sa.CASE_STATUS.name: state.status.value,
            sa.DENIAL_CATEGORY.name: state.category.value if state.category else None,
            sa.PAYER_ID.name: state.record.claim.payer.payer_id,
            sa.NEXT_DEADLINE.name: deadline_at(state, deadline) if deadline else None,
            sa.ASSIGNEE.name: state.assignee,
            sa.CASE_PRIORITY.name: state.priority.score if state.priority else None,
        }
        updates: list[SearchAttributeUpdate] = []
        for key in sa.ALL:
            value = wanted[key.name]
            if self._search_attributes.get(key.name, ...) == value:
                continue
            updates.append(key.value_unset() if value is None else key.value_set(value))  # type: ignore[attr-defined,arg-type]
            self._search_attributes[key.name] = value
        if updates:
            workflow.upsert_search_attributes(updates)

    def _refresh_priority(self) -> None:
        state = self._state
        if state.priority_params is None or state.category is None:
            return
        path = state.path or state.suggested_path
        assert path is not None
        deadline = state.next_deadline
        breakdown = priority_score(
            denied_amount=state.outstanding_amount,
            category=state.category,
            path=path,
            days_left=days_left(deadline.due, self._today()) if deadline else None,
            params=state.priority_params,
            adjustment=state.priority_adjustment,
            adjustment_reason=state.priority_adjustment_reason,
        )
        if breakdown != state.priority:
            state.priority = breakdown
            for task in state.open_tasks:
                task.priority = breakdown.score
            self._touch_version()

    def _touch_version(self) -> None:
        self._state.version += 1
        self._state.updated_at = workflow.now()

    def _event(
        self, type: str, message: str, actor: str = "system", data: dict[str, Any] | None = None
    ) -> None:
        state = self._state
        state.event_seq += 1
        update = workflow.current_update_info()
        state.pending_events.append(
            CaseEvent(
                seq=state.event_seq,
                at=workflow.now(),
                type=type,
                actor=actor,
                message=message,
                data=data or {},
                update_id=update.id if update else None,
            )
        )
        self._recent_events.append((state.event_seq, type))
        self._touch_version()

    def _add_task(
        self,
        type: TaskType,
        *,
        deadline_key: str | None = None,
        due_at: datetime | None = None,
        queue: Role = Role.BILLER,
        appeal_level: int | None = None,
    ) -> Task:
        state = self._state
        now = workflow.now()
        deadline = state.deadline(deadline_key)
        if due_at is None:
            due_at = (
                deadline_at(state, deadline)
                if deadline
                else now + timedelta(days=state.policy.untimed_task_due_days)
            )
        task = Task(
            task_id=f"{state.case_id}-t{len(state.tasks) + 1}",
            type=type,
            queue=queue,
            assignee=state.owner if queue is Role.BILLER else None,
            priority=state.priority.score if state.priority else 0.0,
            created_at=now,
            due_at=due_at,
            deadline_key=deadline.key if deadline else None,
            appeal_level=appeal_level,
            # Inside an escalation window a task starts at its deadline's level, unannounced.
            escalation=starting_level(state, deadline and deadline.key)
            if self._bounded
            else EscalationLevel.NONE,
            last_touched_at=now,
        )
        state.tasks.append(task)
        where = f"assigned to {task.assignee}" if task.assignee else f"in the {queue.value} queue"
        self._event(
            "task_created",
            f"Task {type.value}{f' (level {appeal_level})' if appeal_level else ''} {where}, "
            f"due {(deadline.due if deadline else due_day(due_at, state.policy.tz)).isoformat()}",
            data={"task_id": task.task_id},
        )
        return task

    def _finish_task(
        self, task: Task, actor: Actor, status: TaskStatus = TaskStatus.COMPLETED
    ) -> None:
        task.status = status
        task.completed_at = workflow.now()
        task.completed_by = actor.user_id
        if actor.role is Role.BILLER and self._state.owner is None:
            self._state.owner = actor.user_id

    def _cancel_open_tasks(self, reason: str) -> None:
        for task in self._state.open_tasks:
            self._finish_task(task, SYSTEM_ACTOR, TaskStatus.CANCELLED)
            self._event(
                "task_cancelled",
                f"Task {task.type.value} cancelled: {reason}",
                data={"task_id": task.task_id},
            )

    def _recompute_deadlines(self) -> None:
        state = self._state
        assert state.rule is not None
        state.deadlines = case_deadlines(state, state.rule)
        now = workflow.now()
        if self._bounded:
            state.deadline_escalations = lowered_levels(state, now)
        for task in state.open_tasks:  # a moved deadline moves the due date and re-arms escalations
            at = task_deadline_at(state, task)
            if at is not None:
                task.due_at = at
                task.escalation = min(task.escalation, escalation_level_at(at, now, state.policy))
                if task.escalation < EscalationLevel.URGENT:
                    self._return_from_urgency(task)
        self._touch_version()

    def _return_from_urgency(self, task: Task) -> None:
        """Work that urgency moved to the supervisors goes back once the deadline moved away."""
        placement = task.placement_before_urgent
        if placement is None:
            return
        task.placement_before_urgent = None
        task.queue, task.assignee = placement.queue, placement.assignee
        where = placement.assignee or f"the {placement.queue.value} queue"
        self._event(
            "task_returned",
            f"Task {task.type.value} returned to {where}: its deadline is no longer urgent",
            data={"task_id": task.task_id},
        )

    def _enter_path(self, path: WorkPath) -> None:
        state = self._state
        state.path = path
        appeal_rights = state.classification.appeal_rights if state.classification else True
        key = path_deadline_key(state.kind, path, state.appeal_level, appeal_rights)
        if path is WorkPath.CORRECTED_CLAIM:
            state.status = CaseStatus.CORRECTED_CLAIM
            self._add_task(TaskType.PREPARE_CORRECTED_CLAIM, deadline_key=key)
        elif path is WorkPath.APPEAL:
            state.appeal_level = max(state.appeal_level, 1)
            state.status = CaseStatus.APPEAL
            self._add_task(
                TaskType.PREPARE_APPEAL, deadline_key=key, appeal_level=state.appeal_level
            )
        elif path is WorkPath.DUPLICATE_CHECK:
            state.status = CaseStatus.DUPLICATE_CHECK
            self._add_task(TaskType.RESOLVE_DUPLICATE, deadline_key=key)
        elif path is WorkPath.TRANSFER_TO_PATIENT:
            state.status = CaseStatus.TRANSFER_TO_PATIENT
            self._close(
                CaseOutcome.TRANSFERRED_TO_PATIENT, "balance moved to patient responsibility"
            )
        else:
            self._enter_write_off_review()

    def _enter_write_off_review(self, deadline_key: str | None = None) -> None:
        state = self._state
        state.path = WorkPath.WRITE_OFF_REVIEW
        state.status = CaseStatus.WRITE_OFF_REVIEW
        needs_supervisor = state.outstanding_amount > state.policy.write_off_approval_threshold
        self._add_task(
            TaskType.APPROVE_WRITE_OFF,
            deadline_key=deadline_key,
            queue=Role.SUPERVISOR if needs_supervisor else Role.BILLER,
        )

    def _await_payer(self, submission: Submission) -> None:
        state = self._state
        state.submissions.append(submission)
        self._recompute_deadlines()
        decision = find_deadline(
            state.deadlines, DeadlineKind.PAYER_DECISION, submission.appeal_level
        )
        now = workflow.now()
        expected_at = (
            deadline_at(state, decision)
            if decision
            else now + timedelta(days=state.policy.follow_up_interval_days)
        )
        state.status = CaseStatus.AWAITING_PAYER
        state.next_follow_up_at = expected_at
        self._add_task(TaskType.RECORD_PAYER_RESPONSE, due_at=expected_at)

    def _close(self, outcome: CaseOutcome, reason: str) -> None:
        state = self._state
        self._cancel_open_tasks(f"case closed ({outcome.value})")
        state.status = CaseStatus.CLOSED
        state.outcome = outcome
        state.outcome_reason = reason
        state.closed_at = workflow.now()
        state.next_follow_up_at = None
        self._event("closed", f"Closed: {outcome.value.replace('_', ' ')}: {reason}")

    async def _after_change(self, since: int) -> CaseChange:
        """Return once the read model shows this change (read-your-writes for the UI): a
        receipt naming the events added since event `since`, never the state."""
        state = self._state
        version = state.version
        changes = [type for seq, type in self._recent_events if seq > since]
        await workflow.wait_condition(lambda: self._projected_version >= version)
        return CaseChange(
            case_id=state.case_id,
            version=version,
            status=state.status,
            outcome=state.outcome,
            changes=changes,
            open_task_ids=[task.task_id for task in state.open_tasks],
        )

    def _open_task_for(self, actor: Actor, task_id: str) -> Task:
        state = self._state
        if not allows(actor.role, Permission.WORK_TASKS):
            refuse(Refusal.FORBIDDEN, f"role '{actor.role.value}' cannot work case tasks")
        if state.status is CaseStatus.CLOSED:
            refuse(
                Refusal.CONFLICT,
                f"case is closed ({state.outcome.value if state.outcome else ''})",
            )
        task = state.task(task_id)
        if task is None:
            refuse(Refusal.NOT_FOUND, f"no task {task_id} in this case")
        if not task.is_open:
            refuse(
                Refusal.CONFLICT,
                f"task {task_id} is already {task.status.value}"
                f"{f' by {task.completed_by}' if task.completed_by else ''}",
            )
        return task

    def _require_supervisor(self, actor: Actor, action: str) -> None:
        if not allows(actor.role, Permission.SUPERVISE):
            refuse(Refusal.FORBIDDEN, f"only a supervisor can {action}")
        if self._state.status is CaseStatus.CLOSED:
            refuse(Refusal.CONFLICT, "case is closed")
