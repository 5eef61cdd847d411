"""DenialCaseWorkflow: one durable workflow per denial or rejection.

received -> triaged -> root cause -> corrected claim | appeal (level n) | write-off review |
transfer to patient | duplicate check -> awaiting payer -> closed, and every ending emits exactly
one prevention task.

The workflow only orchestrates. Rules come from `domain` (pure functions called with
`workflow.now()`), I/O from activities. Human input arrives as Updates whose validators refuse
with a reason; the payer's answer arrives as a Signal; the state is read with a Query. One loop
wakes at the next moment something is due (an escalation, a stall, a follow-up, a deadline),
so deadlines that move take their timers with them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.prevention import PreventionActivities
    from activities.projection import ProjectionActivities
    from activities.submission import SubmissionActivities
    from activities.triage import TriageActivities
    from domain.answer_effects import (
        NextStep,
        amount_newly_paid,
        answer_effect,
        pays_nothing,
        remainder_review,
        retry_path,
    )
    from domain.appeals.access import attestation_refusal
    from domain.appeals.attestation import (
        Attestation,
        AttestationMethod,
        attestation_problem,
    )
    from domain.appeals.corrections import corrections_problem
    from domain.appeals.finishing import appeal_letter_problem
    from domain.case import (
        PRE_SUBMISSION_TASKS,
        SYSTEM_ACTOR,
        Actor,
        CaseEvent,
        CaseOutcome,
        CaseState,
        CaseStatus,
        EscalationLevel,
        PayerResponse,
        Placement,
        Role,
        RootCause,
        Submission,
        SubmissionKind,
        Task,
        TaskStatus,
        TaskType,
        case_deadlines,
        decided_appeal_level_problem,
        next_appeal_problem,
        path_deadline_key,
        path_problem,
        prevention_key,
        response_applies,
        work_permission_problem,
        write_off_approval_problem,
    )
    from domain.classification import Classification
    from domain.deadlines import (
        Deadline,
        DeadlineExtension,
        DeadlineKind,
        days_left,
        deadline_instant,
        due_day,
        find_deadline,
    )
    from domain.escalation import (
        announced_from_tasks,
        deadline_at,
        escalation_instants,
        escalation_level_at,
        escalations_due,
        lowered_levels,
        stall_clock_start,
        starting_level,
        task_deadline_at,
    )
    from domain.identity import (
        LATER_FILE,
        Identification,
        identification_problem,
        identified_record,
    )
    from domain.models import WorkPath
    from domain.payer_answers import (
        answer_basics_problem,
        answer_problem,
        outcome_after_late_payment,
        takes_late_payment,
    )
    from domain.permissions import Permission, allows
    from domain.priority import priority_score
    from domain.task_work import (
        expected_decision_problem,
        next_path_problem,
        submission_problem,
        triage_problem,
        write_off_outcome,
    )
    from workflows import search_attributes as sa
    from workflows.case_activities import (
        ActivityFailed,
        run_local,
        run_submission,
        run_unbounded,
        run_until_done,
        submission_failure_reason,
    )
    from workflows.messages import (
        AddNote,
        AppealSubmitted,
        CancelCase,
        CaseChange,
        CaseInput,
        CaseResult,
        ChangePriority,
        ClaimTask,
        CompleteTask,
        ConfirmRootCause,
        ConfirmTriage,
        CorrectedClaimSubmitted,
        DuplicateResolution,
        FollowUpResult,
        IdentifyClaim,
        PayerResponseEntry,
        PreventionRequest,
        ProjectionRequest,
        ReassignTask,
        RecordAttestation,
        RecordExtension,
        RefreshRules,
        ReleaseTask,
        ReturnUserWork,
        RulesRequest,
        SubmissionFailureReviewed,
        SubmissionReceipt,
        SubmitRequest,
        TaskPayload,
        TriageRequest,
        TriageResult,
        WriteOffDecision,
    )
    from workflows.rejections import Rejection, reject

CASE_WORKERS = (Role.BILLER, Role.SUPERVISOR)
# Since this patch a submitted appeal or corrected claim is sent through the clearinghouse
# adapter (packet PDF or 837) and the receipt kept; older histories never sent anything.
SUBMISSION_ADAPTER = "submission-adapter"
# Since this patch a partial payment opens a review of the remainder (write it off, or appeal
# or correct it) instead of closing the case. Decided once, when the case starts, and kept in
# its state (continue-as-new included), so an older case keeps closing on a partial payment.
PARTIAL_PAYMENT_REVIEW = "partial-payment-review"
# Since this patch a corrected claim denied again after its current appeal level was decided
# goes to write-off review: before, that decided appeal was opened again.
NO_REAPPEAL_OF_DECIDED_LEVEL = "no-reappeal-of-decided-level"
# Since this patch a run keeps its history bounded and its work unstuck: it continues as new
# whenever its history is full (the server's suggestion or the limits below), letting the
# Updates in flight finish first; its activities are bounded (workflows.case_activities); a
# submission counts once the clearinghouse adapter confirms it, and a failure raises a task to
# supervisors; escalation belongs to the deadline (domain.escalation). Decided per run: a case
# started earlier takes it when it next continues as new.
BOUNDED_RUN = "bounded-run"
# Since this patch a 'paid' answer that pays nothing new is no recovery: it is taken as the
# payer's answer without money (upheld, when the case awaited one). Before, it closed the case
# recovered with $0.
NO_ZERO_RECOVERY = "no-zero-recovery"
# Servers that never suggest continuing as new (the test server, older ones) are held to the
# limits a Temporal server suggests at by default (4 MB, 4,000 events), far below the 50 MB /
# 51,200 events at which it terminates a run.
CONTINUE_AS_NEW_BYTES = 4 * 1024 * 1024
CONTINUE_AS_NEW_EVENTS = 4_000
SUBMISSION_TASKS = frozenset({TaskType.PREPARE_APPEAL, TaskType.PREPARE_CORRECTED_CLAIM})
# The workflow type every saved history and running case was started under: pinned, so that
# renaming or moving the class cannot orphan them.
WORKFLOW_NAME = "DenialCaseWorkflow"


@workflow.defn(name=WORKFLOW_NAME)
class DenialCaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        now = workflow.now()
        self._state = input.resume or CaseState(
            case_id=input.case_id,
            record=input.record,
            policy=input.policy,
            created_at=now,
            updated_at=now,
        )
        # A resumed state was projected before the workflow continued as new.
        self._projected_version = self._state.version if input.resume else -1
        self._search_attributes: dict[str, object] = {}
        # (seq, type) of the latest events, for Update receipts: memory only, never carried.
        self._recent_events: deque[tuple[int, str]] = deque(maxlen=64)
        self._sending: set[str] = set()  # prepare tasks whose submission is being sent
        self._late_payment_recorded = False
        if input.resume is None:
            # Here, not in run(): a Signal of the first activation runs before run() does.
            self._state.reviews_partial_payments = workflow.patched(PARTIAL_PAYMENT_REVIEW)
        self._bounded = workflow.patched(BOUNDED_RUN)
        if self._bounded and input.resume is not None and not self._state.deadline_escalations:
            # Continued from a run that escalated task by task: what it announced stands, as far
            # as the deadlines (perhaps extended since) still justify it.
            self._state.deadline_escalations = announced_from_tasks(self._state)
            self._state.deadline_escalations = lowered_levels(self._state, workflow.now())

    # --- Run loop ------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseInput) -> CaseResult:
        state = self._state
        if input.late_payment is not None:
            # Runs of one case never overlap, and each projects before it ends: the read model
            # holds the last one's state, which may be newer than what the caller resumed.
            latest = await self._run(ProjectionActivities.closed_case_state, state.case_id)
            if latest is not None and latest.version > state.version:
                self._state = state = latest
                self._projected_version = latest.version
            self._record_late_payment(input.late_payment)
        if state.status is CaseStatus.RECEIVED:
            self._event(
                "received", f"{state.kind.value.capitalize()} received from {state.record.source}"
            )
            triage = await self._run(
                TriageActivities.triage_case,
                TriageRequest(record=state.record, received_on=self._today()),
            )
            self._apply_triage(triage)
        while True:
            checked_at = workflow.now()
            self._advance_clock()
            await self._sync_read_model()
            if state.status is CaseStatus.CLOSED:
                if state.prevention_task_id is None:
                    await self._emit_prevention_task()
                    await self._sync_read_model()
                break
            if self._bounded:
                if self._history_full():
                    await self._finish_in_flight_work()
                    if state.status is not CaseStatus.CLOSED:
                        workflow.continue_as_new(self._resume_input())
                    continue
            elif (
                workflow.info().is_continue_as_new_suggested() and workflow.all_handlers_finished()
            ):
                workflow.continue_as_new(self._resume_input())
            # A moment that fell due while the read model was written (slow, or down for
            # hours) is handled now, not at the next wake.
            wait = self._time_to_next_check(checked_at if self._bounded else None)
            if wait is not None and wait <= timedelta(0):
                continue
            await self._wait_for_change_or(wait)
        if self._bounded:
            # An Update still in flight (a submission ending after the case closed) waits for
            # its change to be projected: keep projecting until it is done.
            await self._finish_in_flight_work()
        else:
            await workflow.wait_condition(workflow.all_handlers_finished)
        assert state.outcome is not None and state.prevention_task_id is not None
        return CaseResult(
            case_id=state.case_id,
            outcome=state.outcome,
            recovered_amount=state.recovered_amount,
            prevention_task_id=state.prevention_task_id,
            late_payment_recorded=self._late_payment_recorded,
        )

    async def _run(self, activity: Any, arg: Any) -> Any:
        """Run work the case cannot go on without (see workflows.case_activities)."""
        if self._bounded:
            return await run_until_done(activity, arg)
        return await run_unbounded(activity, arg)

    def _today(self) -> date:
        """The organisation's calendar day now (its time zone decides when a day ends)."""
        return self._state.policy.today(workflow.now())

    @staticmethod
    def _history_full() -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= CONTINUE_AS_NEW_EVENTS
            or info.get_current_history_size() >= CONTINUE_AS_NEW_BYTES
        )

    async def _finish_in_flight_work(self) -> None:
        """Before continuing as new: let the Updates in flight finish (they wait for the read
        model, which only this loop writes) and project every change, so the next run starts
        from a projected state and no accepted Update is cut off."""
        while True:
            await self._sync_read_model()
            await workflow.wait_condition(
                lambda: (
                    workflow.all_handlers_finished()
                    or self._projected_version < self._state.version
                )
            )
            if workflow.all_handlers_finished() and self._projected_version >= self._state.version:
                return

    def _resume_input(self) -> CaseInput:
        state = self._state
        return CaseInput(
            case_id=state.case_id, record=state.record, policy=state.policy, resume=state
        )

    async def _wait_for_change_or(self, timeout: timedelta | None) -> None:
        """Sleep until the state changes (an Update or Signal) or the next moment is due."""
        version = self._state.version
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: self._state.version != version, timeout=timeout)

    def _apply_triage(self, triage: TriageResult) -> None:
        state = self._state
        classification: Classification = triage.classification
        state.classification = classification
        state.category = classification.category
        state.denial_class = classification.denial_class
        state.suggested_path = classification.suggested_path
        state.rule = triage.rule
        state.priority_params = triage.priority_params
        state.suggested_root_cause = triage.suggested_root_cause
        state.deadlines = case_deadlines(state, triage.rule)
        if state.status is CaseStatus.CLOSED:  # the payer paid while triage ran
            return
        if not classification.is_denial:
            self._close(CaseOutcome.CANCELLED, "not a denial: " + "; ".join(classification.reasons))
            return
        state.status = CaseStatus.TRIAGED
        self._event(
            "triaged",
            f"Classified as {classification.category.value} ({classification.denial_class.value}),"
            f" ${classification.denied_amount} denied; suggested path "
            f"{classification.suggested_path.value}",
            data={"reasons": classification.reasons, "rule": triage.rule.id},
        )
        self._add_task(
            TaskType.CONFIRM_TRIAGE,
            deadline_key=path_deadline_key(
                state.kind, classification.suggested_path, 0, classification.appeal_rights
            ),
        )

    async def _sync_read_model(self) -> None:
        """Project every change to the read model; Updates wait for this before returning.
        Projected events leave the state: the read model keeps the timeline."""
        state = self._state
        while self._projected_version < state.version:
            version = state.version
            new_events = list(state.pending_events)
            snapshot = state.model_copy(update={"pending_events": []}, deep=True)
            await self._run(
                ProjectionActivities.project_case,
                ProjectionRequest(state=snapshot, new_events=new_events),
            )
            self._projected_version = version
            if new_events:
                last = new_events[-1].seq
                state.pending_events = [e for e in state.pending_events if e.seq > last]
            self._upsert_search_attributes()

    async def _emit_prevention_task(self) -> None:
        state = self._state
        root = state.root_cause or state.suggested_root_cause
        assert root is not None and state.outcome is not None
        payer = state.record.claim.payer
        state.prevention_task_id = await self._run(
            PreventionActivities.emit_prevention_task,
            PreventionRequest(
                case_id=state.case_id,
                pattern_key=prevention_key(payer.payer_id, state.category, root),
                payer_id=payer.payer_id,
                payer_name=payer.name,
                category=state.category,
                root_cause=root.cause,
                owning_team=root.owning_team,
                denied_amount=state.denied_amount,
                outcome=state.outcome,
            ),
        )
        self._event(
            "prevention_task",
            f"Prevention task {state.prevention_task_id} "
            f"for {root.owning_team.value}: {root.cause}",
            data={"prevention_task_id": state.prevention_task_id},
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

    # --- Time: escalations, stalls, missed deadlines, follow-ups ---------------------------

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
                self._event("reminder", f"Reminder ({work}): {when}", data=data)
            elif level is EscalationLevel.ESCALATED:
                self._event("escalated", f"Escalated to supervisors ({work}): {when}", data=data)
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
                    "urgent",
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
            self._event("reminder", f"Reminder ({work}): {when}", data={"task_id": task.task_id})
        elif level is EscalationLevel.ESCALATED:
            self._event(
                "escalated",
                f"Escalated to supervisors ({work}): {when}",
                data={"task_id": task.task_id},
            )
        else:
            previous = task.assignee
            task.assignee, task.queue = None, Role.SUPERVISOR
            self._event(
                "urgent",
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

    # --- State changes ----------------------------------------------------------------------

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

    def _apply_payer_response(self, response: PayerResponse, actor: Actor) -> None:
        state = self._state
        paid = amount_newly_paid(state, response)
        zero_payment = pays_nothing(response, paid) and workflow.patched(NO_ZERO_RECOVERY)
        effect = answer_effect(state, response, paid, zero_payment=zero_payment)
        state.payer_responses.append(response)
        self._event(
            "payer_response",
            f"Payer {response.decision.value.replace('_', ' ')}"
            f"{f', paid ${paid}' if paid else ''}"
            f"{' (nothing newly paid)' if effect.nothing_new else ''}"
            f" on {response.decision_date.isoformat()} ({response.source})",
            actor=actor.user_id,
            data={"decision": response.decision.value, "reference": response.reference},
        )
        for task in state.open_tasks:
            if task.type in (TaskType.RECORD_PAYER_RESPONSE, TaskType.FOLLOW_UP_WITH_PAYER):
                self._finish_task(task, actor)
        if effect.recovers:
            state.recovered_amount += paid
        if effect.step is NextStep.CLOSE:
            assert effect.outcome is not None
            self._close(effect.outcome, effect.reason)
        elif effect.step is NextStep.REVIEW_REMAINDER:
            self._review_remainder(response)
        elif effect.step is NextStep.WORK_FURTHER:
            self._after_upheld(response)

    def _record_late_payment(self, response: PayerResponse) -> None:
        """A payment after the case closed written off (a run started for it): the money is
        recovered, the write-off shrinks by as much, and the case closes again."""
        state = self._state
        if self._already_received(response) or not takes_late_payment(state):
            return
        paid = min(amount_newly_paid(state, response), state.outstanding_amount)
        if not paid:
            return
        written_off = state.outstanding_amount
        state.payer_responses.append(response)
        state.recovered_amount += paid
        state.outcome = outcome_after_late_payment(state)
        state.outcome_reason = f"payer paid ${paid} after the write-off"
        self._late_payment_recorded = True
        self._event(
            "late_payment",
            f"Payer paid ${paid} on {response.decision_date.isoformat()} ({response.source}) "
            f"after the case closed: write-off reduced from ${written_off} to "
            f"${state.outstanding_amount}; now {state.outcome.value.replace('_', ' ')}",
            data={"decision": response.decision.value, "reference": response.reference},
        )

    def _review_remainder(self, response: PayerResponse) -> None:
        """After a partial payment someone decides: write the rest off (the write-off review's
        approval), or refuse that and appeal or correct the claim for it. On the appeal path
        the next level is opened now, so that refusing leads to it."""
        state = self._state
        outstanding = state.outstanding_amount
        further = ""
        review = remainder_review(state, self._today())
        deadline_key = review.deadline_key
        # A payment may also come while other work is open (an 835 crossing a correction).
        self._cancel_open_tasks("the payer paid part of the claim")
        if review.answers_appeal:
            problem = self._open_next_appeal_level(response.decision_date)
            if problem is None:
                deadline_key = path_deadline_key(state.kind, WorkPath.APPEAL, state.appeal_level)
                further = f" (a level {state.appeal_level} appeal is open)"
            else:
                further = f" (no further appeal: {problem})"
        self._event(
            "remainder_review",
            f"${state.recovered_amount} of ${state.denied_amount} paid: the remaining "
            f"${outstanding} is written off or worked further{further}",
        )
        self._enter_write_off_review(deadline_key=deadline_key)

    def _open_next_appeal_level(self, decision_date: date) -> str | None:
        """Move the case to the next appeal level, its deadlines counted from the decision;
        or why it cannot go there (None when it did)."""
        state = self._state
        next_level = state.appeal_level + 1
        assert state.rule is not None
        problem = next_appeal_problem(
            state.rule, next_level, state.outstanding_amount, decision_date, self._today()
        )
        if problem is None:
            state.appeal_notice_dates[next_level] = decision_date
            state.appeal_level = next_level
            self._recompute_deadlines()
        return problem

    def _after_upheld(self, response: PayerResponse) -> None:
        state = self._state
        today = self._today()
        if state.path is WorkPath.APPEAL:
            problem = self._open_next_appeal_level(response.decision_date)
            if problem is None:
                self._enter_path(WorkPath.APPEAL)
                return
            self._event("appeal_exhausted", f"Upheld at level {state.appeal_level}: {problem}")
            self._enter_write_off_review()
            return
        # A corrected claim (or resubmitted rejection) was denied again: worked again if
        # still possible, else the write-off is reviewed.
        retry = retry_path(state.kind)
        problem = path_problem(state, retry, today)
        if problem is None and retry is WorkPath.APPEAL:
            decided = decided_appeal_level_problem(state)
            if decided and workflow.patched(NO_REAPPEAL_OF_DECIDED_LEVEL):
                problem = decided
        if problem is None:
            self._enter_path(retry)
        else:
            self._event("no_further_action", f"Denied again and cannot {retry.value}: {problem}")
            self._enter_write_off_review()

    # --- Queries and Signals ----------------------------------------------------------------

    def _already_received(self, response: PayerResponse) -> bool:
        return bool(response.reference) and any(
            seen.reference == response.reference for seen in self._state.payer_responses
        )

    @workflow.query
    def state(self) -> CaseState:
        return self._state

    @workflow.signal
    def payer_response(self, response: PayerResponse) -> None:
        """The payer's answer, from a later 835 or typed in. Signals cannot be refused, so an
        answer that arrives when nothing awaits it is recorded without changing the case."""
        state = self._state
        if state.status is CaseStatus.CLOSED or self._already_received(response):
            return
        if response_applies(state, response):
            self._apply_payer_response(
                response, Actor(user_id=response.source or "payer", role=Role.SYSTEM)
            )
        else:
            state.payer_responses.append(response)
            self._event(
                "payer_response",
                f"Payer answered {response.decision.value.replace('_', ' ')} on "
                f"{response.decision_date.isoformat()} ({response.source}); nothing was "
                "awaiting an answer, so the case is unchanged",
            )

    # --- Updates: task work -----------------------------------------------------------------

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
        if actor.role not in CASE_WORKERS:
            reject(Rejection.FORBIDDEN, f"role '{actor.role.value}' cannot work case tasks")
        if state.status is CaseStatus.CLOSED:
            reject(
                Rejection.CONFLICT,
                f"case is closed ({state.outcome.value if state.outcome else ''})",
            )
        task = state.task(task_id)
        if task is None:
            reject(Rejection.NOT_FOUND, f"no task {task_id} in this case")
        if not task.is_open:
            reject(
                Rejection.CONFLICT,
                f"task {task_id} is already {task.status.value}"
                f"{f' by {task.completed_by}' if task.completed_by else ''}",
            )
        return task

    @workflow.update
    async def complete_task(self, request: CompleteTask) -> CaseChange:
        since = self._state.event_seq
        self._check_complete_task(request)  # state may have moved since validation
        task = self._open_task_for(request.actor, request.task_id)
        handler = self._completion_handlers()[task.type]
        if self._bounded and task.type in SUBMISSION_TASKS:
            receipt = await self._send_first(task, request, since)
            self._receipt_event(receipt, request.actor)  # sent first, then recorded
            handler(task, request)
            task.last_touched_at = workflow.now()
            self._attach_receipt(receipt)
            self._close_submission_failures(request.actor)
            return await self._after_change(since)
        handler(task, request)
        task.last_touched_at = workflow.now()
        if isinstance(
            request.payload, AppealSubmitted | CorrectedClaimSubmitted
        ) and workflow.patched(SUBMISSION_ADAPTER):
            receipt = await run_unbounded(
                SubmissionActivities.submit, self._submit_request(task, request)
            )
            self._attach_receipt(receipt)
            self._receipt_event(receipt, request.actor)
        return await self._after_change(since)

    def _submit_request(self, task: Task, request: CompleteTask) -> SubmitRequest:
        payload = request.payload
        assert isinstance(payload, AppealSubmitted | CorrectedClaimSubmitted)
        appeal = isinstance(payload, AppealSubmitted)
        return SubmitRequest(
            submission_id=f"{self._state.case_id}-{task.task_id}",
            state=self._state,
            kind=SubmissionKind.APPEAL if appeal else SubmissionKind.CORRECTED_CLAIM,
            appeal_level=payload.level if isinstance(payload, AppealSubmitted) else None,
            claim_corrections=None if appeal else payload.claim_corrections,  # type: ignore[union-attr]
            letter=payload.letter if isinstance(payload, AppealSubmitted) else None,
            submitted_by=request.actor.user_id,
            requested_at=workflow.now(),
        )

    async def _send_first(self, task: Task, request: CompleteTask, since: int) -> SubmissionReceipt:
        """Send before anything is recorded: a submission counts once the adapter confirms
        it. On failure the task stays open, racing its deadline; supervisors get a task with
        the adapter's error, and the biller a prompt refusal saying so."""
        self._sending.add(task.task_id)
        try:
            receipt: SubmissionReceipt = await run_submission(
                SubmissionActivities.submit, self._submit_request(task, request)
            )
        except ActivityFailed as error:
            reason = submission_failure_reason(error)
            if not task.is_open:  # the case was cancelled or lost meanwhile: nobody to tell
                reject(Rejection.CONFLICT, f"not submitted ({reason}); {self._closed(task)}")
            self._submission_failed(task, request.actor, reason)
            await self._after_change(since)
            reject(
                Rejection.SUBMISSION_FAILED,
                f"not submitted: {reason}. The {task.type.value} task stays open and "
                "supervisors were told; submit again once the clearinghouse is back (it goes "
                "under the same submission id, so it is never sent twice)",
            )
        finally:
            self._sending.discard(task.task_id)
        if not task.is_open:
            self._receipt_event(receipt, request.actor)
            await self._after_change(since)
            reject(Rejection.CONFLICT, f"sent (receipt on the timeline), but {self._closed(task)}")
        return receipt

    def _closed(self, task: Task) -> str:
        return f"task {task.task_id} was {task.status.value} meanwhile"

    def _submission_failed(self, task: Task, actor: Actor, reason: str) -> None:
        self._event(
            "submission_failed",
            f"The {task.type.value} work was not submitted: {reason}",
            actor=actor.user_id,
            data={"task_id": task.task_id},
        )
        if not any(t.type is TaskType.RESOLVE_SUBMISSION_FAILURE for t in self._state.open_tasks):
            self._add_task(
                TaskType.RESOLVE_SUBMISSION_FAILURE,
                deadline_key=task.deadline_key,
                queue=Role.SUPERVISOR,
            )

    def _close_submission_failures(self, actor: Actor) -> None:
        """The work went out: the supervisors' task about its failure closes by itself."""
        for task in self._state.open_tasks:
            if task.type is TaskType.RESOLVE_SUBMISSION_FAILURE:
                self._finish_task(task, SYSTEM_ACTOR)
                self._event(
                    "submission_failure_resolved",
                    f"Submission failure resolved: {actor.user_id} sent the work",
                    data={"task_id": task.task_id},
                )

    def _attach_receipt(self, receipt: SubmissionReceipt) -> None:
        """Keep the adapter's receipt with the submission it sent (the one just recorded)."""
        state = self._state
        state.submissions[-1] = state.submissions[-1].model_copy(
            update={
                "submission_id": receipt.submission_id,
                "sent_at": receipt.sent_at,
                "sent_to": receipt.location,
                "sha256": receipt.sha256,
            }
        )

    def _receipt_event(self, receipt: SubmissionReceipt, actor: Actor) -> None:
        if receipt.location:
            message = (
                f"Sent via {receipt.adapter} at {receipt.sent_at.isoformat(timespec='seconds')} "
                f"(SHA-256 {receipt.sha256[:12]})"
            )
        else:
            message = "Recorded as sent outside the case manager (no structured corrections)"
        self._event(
            "submission_sent",
            message,
            actor=actor.user_id,
            data={"submission_id": receipt.submission_id, "document_id": receipt.document_id},
        )
        self._touch_version()

    @complete_task.validator
    def _validate_complete_task(self, request: CompleteTask) -> None:
        self._check_complete_task(request)
        if request.task_id in self._sending:
            reject(
                Rejection.CONFLICT,
                f"task {request.task_id} is being sent to the clearinghouse; reload the case",
            )
        # Rules added after histories were saved are checked here only: a validator does not
        # run on replay, and what it refuses never reaches the history.
        problem = self._submission_problem(request.payload) or self._decided_level_problem(
            request.payload
        )
        if problem is None and isinstance(request.payload, PayerResponseEntry):
            problem = answer_problem(self._state, _entered_response(request.payload), self._today())
        if problem:
            reject(Rejection.INVALID, problem)

    def _decided_level_problem(self, payload: TaskPayload) -> str | None:
        if (
            isinstance(payload, WriteOffDecision)
            and not payload.approve
            and payload.next_path is WorkPath.APPEAL
        ):
            problem = decided_appeal_level_problem(self._state)
            return f"cannot take the appeal path: {problem}" if problem else None
        return None

    def _submission_problem(self, payload: TaskPayload) -> str | None:
        state = self._state
        if isinstance(payload, AppealSubmitted):
            return attestation_problem(state.category, state.attestation) or appeal_letter_problem(
                payload.letter
            )
        if isinstance(payload, CorrectedClaimSubmitted) and payload.claim_corrections:
            problem = corrections_problem(
                state.record.claim, payload.claim_corrections, state.kind, self._today()
            )
            return f"claim_corrections: {problem}" if problem else None
        return None

    def _check_complete_task(self, request: CompleteTask) -> None:
        task = self._open_task_for(request.actor, request.task_id)
        problem = work_permission_problem(request.actor, task)
        if isinstance(request.payload, WriteOffDecision) and request.payload.approve:
            problem = problem or write_off_approval_problem(
                request.actor, self._state.outstanding_amount, self._state.policy
            )
        if problem:
            reject(Rejection.FORBIDDEN, problem)
        if request.payload.type != task.type.value:
            reject(
                Rejection.INVALID,
                f"task {task.task_id} is a {task.type.value} task, not {request.payload.type}",
            )
        problem = self._payload_problem(task, request)
        if problem:
            reject(Rejection.INVALID, problem)

    def _completion_handlers(self) -> dict[TaskType, Callable[[Task, CompleteTask], None]]:
        return {
            TaskType.CONFIRM_TRIAGE: self._confirm_triage,
            TaskType.CONFIRM_ROOT_CAUSE: self._confirm_root_cause,
            TaskType.PREPARE_CORRECTED_CLAIM: self._record_submission,
            TaskType.PREPARE_APPEAL: self._record_submission,
            TaskType.APPROVE_WRITE_OFF: self._decide_write_off,
            TaskType.RESOLVE_DUPLICATE: self._resolve_duplicate,
            TaskType.RECORD_PAYER_RESPONSE: self._record_payer_response,
            TaskType.FOLLOW_UP_WITH_PAYER: self._record_follow_up,
            TaskType.RESOLVE_SUBMISSION_FAILURE: self._review_submission_failure,
        }

    def _payload_problem(self, task: Task, request: CompleteTask) -> str | None:
        """Why a payload cannot be accepted in the case's current state, or None."""
        state = self._state
        payload = request.payload
        today = self._today()
        if isinstance(payload, ConfirmTriage):
            return triage_problem(state, payload.category, payload.path, today)
        if isinstance(payload, AppealSubmitted):
            return submission_problem(state, task, payload.submitted_on, today, payload.level)
        if isinstance(payload, CorrectedClaimSubmitted):
            return submission_problem(state, task, payload.submitted_on, today)
        if isinstance(payload, WriteOffDecision) and not payload.approve:
            return next_path_problem(state, payload.next_path, today, "refusing a write-off")
        if isinstance(payload, DuplicateResolution) and not payload.is_duplicate:
            return next_path_problem(
                state, payload.next_path, today, "a claim that is not a duplicate"
            )
        if isinstance(payload, PayerResponseEntry):
            return answer_basics_problem(state, _entered_response(payload), today)
        if isinstance(payload, FollowUpResult):
            return expected_decision_problem(payload.expected_decision_date, today)
        return None

    def _confirm_triage(self, task: Task, request: CompleteTask) -> None:
        state = self._state
        payload = request.payload
        assert isinstance(payload, ConfirmTriage)
        overrides = {
            name: value.value
            for name, value, current in (
                ("category", payload.category, state.category),
                ("denial_class", payload.denial_class, state.denial_class),
                ("path", payload.path, state.suggested_path),
            )
            if value is not None and value != current
        }
        state.category = payload.category or state.category
        state.denial_class = payload.denial_class or state.denial_class
        path = payload.path or state.suggested_path
        assert path is not None
        state.path = path
        self._finish_task(task, request.actor)
        changes = ", ".join(f"{name} {value}" for name, value in overrides.items())
        self._event(
            "triage_confirmed",
            f"Triage {'overridden: ' + changes if overrides else 'confirmed'}"
            f"{': ' + payload.notes if payload.notes else ''}",
            actor=request.actor.user_id,
            data=overrides,
        )
        state.status = CaseStatus.ROOT_CAUSE
        appeal_rights = state.classification.appeal_rights if state.classification else True
        self._add_task(
            TaskType.CONFIRM_ROOT_CAUSE,
            deadline_key=path_deadline_key(state.kind, path, state.appeal_level, appeal_rights),
        )

    def _confirm_root_cause(self, task: Task, request: CompleteTask) -> None:
        state = self._state
        payload = request.payload
        assert isinstance(payload, ConfirmRootCause) and state.suggested_root_cause is not None
        suggested = state.suggested_root_cause
        state.root_cause = RootCause(
            cause=payload.cause or suggested.cause,
            owning_team=payload.owning_team or suggested.owning_team,
            pattern=suggested.pattern if payload.pattern is None else payload.pattern,
            notes=payload.notes,
            pattern_key=suggested.pattern_key,
            evidence=suggested.evidence,
        )
        self._finish_task(task, request.actor)
        self._event(
            "root_cause_confirmed",
            f"Root cause: {state.root_cause.cause} ({state.root_cause.owning_team.value}, "
            f"{'pattern' if state.root_cause.pattern else 'one-off'})",
            actor=request.actor.user_id,
        )
        assert state.path is not None
        self._enter_path(state.path)

    def _record_submission(self, task: Task, request: CompleteTask) -> None:
        """The task's appeal or corrected claim went out: record it, then await the answer."""
        payload = request.payload
        assert isinstance(payload, AppealSubmitted | CorrectedClaimSubmitted)
        by = request.actor.user_id
        on = payload.submitted_on.isoformat()
        if isinstance(payload, AppealSubmitted):
            event = "appeal_submitted"
            message = f"Level {payload.level} appeal submitted on {on}"
            data: dict[str, Any] = {"reference": payload.reference, "level": payload.level}
            kind, level, summary = SubmissionKind.APPEAL, payload.level, payload.argument
        else:
            event = "corrected_claim_submitted"
            message = f"Corrected claim submitted on {on}: {payload.corrections}"
            data = {"reference": payload.reference}
            kind, level, summary = SubmissionKind.CORRECTED_CLAIM, None, payload.corrections
        self._finish_task(task, request.actor)
        self._event(event, message, actor=by, data=data)
        self._await_payer(
            Submission(
                kind=kind,
                appeal_level=level,
                submitted_on=payload.submitted_on,
                reference=payload.reference,
                summary=summary,
                submitted_by=by,
            )
        )

    def _decide_write_off(self, task: Task, request: CompleteTask) -> None:
        state = self._state
        payload = request.payload
        assert isinstance(payload, WriteOffDecision)
        self._finish_task(task, request.actor)
        if payload.approve:
            remainder = state.recovered_amount > 0
            self._event(
                "write_off_approved",
                f"Write-off{f' of the remaining ${state.outstanding_amount}' if remainder else ''}"
                f" approved: {payload.reason}",
                actor=request.actor.user_id,
            )
            self._close(write_off_outcome(state), payload.reason)
            return
        assert payload.next_path is not None
        state.lost_to_deadline = False
        self._event(
            "write_off_refused",
            f"Write-off refused, worked as {payload.next_path.value}: {payload.reason}",
            actor=request.actor.user_id,
        )
        self._enter_path(payload.next_path)

    def _resolve_duplicate(self, task: Task, request: CompleteTask) -> None:
        payload = request.payload
        assert isinstance(payload, DuplicateResolution)
        self._finish_task(task, request.actor)
        if payload.is_duplicate:
            self._event(
                "duplicate_confirmed",
                f"Duplicate of {payload.original_claim_reference or 'an earlier claim'}",
                actor=request.actor.user_id,
            )
            self._close(CaseOutcome.CLOSED_DUPLICATE, "the original claim was already adjudicated")
            return
        assert payload.next_path is not None
        self._event(
            "not_duplicate",
            f"Not a duplicate: worked as {payload.next_path.value}",
            actor=request.actor.user_id,
        )
        self._enter_path(payload.next_path)

    def _record_payer_response(self, task: Task, request: CompleteTask) -> None:
        payload = request.payload
        assert isinstance(payload, PayerResponseEntry)
        self._apply_payer_response(_entered_response(payload), request.actor)

    def _record_follow_up(self, task: Task, request: CompleteTask) -> None:
        state = self._state
        payload = request.payload
        assert isinstance(payload, FollowUpResult)
        self._finish_task(task, request.actor)
        now = workflow.now()
        state.next_follow_up_at = (
            deadline_instant(payload.expected_decision_date, state.policy.tz)
            if payload.expected_decision_date
            else now + timedelta(days=state.policy.follow_up_interval_days)
        )
        self._event(
            "followed_up",
            f"Followed up with the payer: {payload.contact_notes}; next follow-up "
            f"{due_day(state.next_follow_up_at, state.policy.tz).isoformat()}",
            actor=request.actor.user_id,
            data={"reference": payload.reference},
        )

    def _review_submission_failure(self, task: Task, request: CompleteTask) -> None:
        payload = request.payload
        assert isinstance(payload, SubmissionFailureReviewed)
        self._finish_task(task, request.actor)
        self._event(
            "submission_failure_reviewed",
            f"Submission failure reviewed: {payload.notes}",
            actor=request.actor.user_id,
            data={"task_id": task.task_id},
        )

    # --- Updates: claiming and supervising -------------------------------------------------

    @workflow.update
    async def claim_task(self, request: ClaimTask) -> CaseChange:
        since = self._state.event_seq
        self._validate_claim_task(request)  # state may have moved since validation
        task = self._open_task_for(request.actor, request.task_id)
        task.assignee = request.actor.user_id
        task.placement_before_urgent = None  # someone took it up: it stays where it is now
        task.last_touched_at = workflow.now()
        task.stalled = False
        if request.actor.role is Role.BILLER and self._state.owner is None:
            self._state.owner = request.actor.user_id
        self._event(
            "task_claimed",
            f"Task {task.type.value} claimed by {request.actor.user_id}",
            actor=request.actor.user_id,
            data={"task_id": task.task_id},
        )
        return await self._after_change(since)

    @claim_task.validator
    def _validate_claim_task(self, request: ClaimTask) -> None:
        task = self._open_task_for(request.actor, request.task_id)
        if task.assignee == request.actor.user_id:
            reject(Rejection.CONFLICT, f"task {task.task_id} is already yours")
        if task.assignee is not None:
            reject(Rejection.CONFLICT, f"task {task.task_id} is already claimed by {task.assignee}")
        if request.actor.role is not Role.SUPERVISOR and task.queue is not request.actor.role:
            reject(Rejection.FORBIDDEN, f"task {task.task_id} is in the {task.queue.value} queue")

    @workflow.update
    async def release_task(self, request: ReleaseTask) -> CaseChange:
        since = self._state.event_seq
        self._validate_release_task(request)  # state may have moved since validation
        task = self._open_task_for(request.actor, request.task_id)
        previous = task.assignee
        task.assignee = None
        task.placement_before_urgent = None
        task.last_touched_at = workflow.now()
        if self._state.owner == previous:
            self._state.owner = None
        self._event(
            "task_released",
            f"Task {task.type.value} released to the {task.queue.value} queue",
            actor=request.actor.user_id,
            data={"task_id": task.task_id},
        )
        return await self._after_change(since)

    @release_task.validator
    def _validate_release_task(self, request: ReleaseTask) -> None:
        task = self._open_task_for(request.actor, request.task_id)
        if task.assignee is None:
            reject(Rejection.CONFLICT, f"task {task.task_id} is not assigned")
        if request.actor.role is not Role.SUPERVISOR and task.assignee != request.actor.user_id:
            reject(Rejection.FORBIDDEN, f"task {task.task_id} is assigned to {task.assignee}")

    def _require_supervisor(self, actor: Actor, action: str) -> None:
        if actor.role is not Role.SUPERVISOR:
            reject(Rejection.FORBIDDEN, f"only a supervisor can {action}")
        if self._state.status is CaseStatus.CLOSED:
            reject(Rejection.CONFLICT, "case is closed")

    @workflow.update
    async def reassign_task(self, request: ReassignTask) -> CaseChange:
        since = self._state.event_seq
        self._validate_reassign_task(request)  # state may have moved since validation
        task = self._open_task_for(request.actor, request.task_id)
        previous = task.assignee or f"{task.queue.value} queue"
        task.assignee = request.assignee
        task.queue = request.assignee_role
        task.placement_before_urgent = None
        task.last_touched_at = workflow.now()
        task.stalled = False
        if request.assignee and request.assignee_role is Role.BILLER:
            self._state.owner = request.assignee
        target = request.assignee or f"{request.assignee_role.value} queue"
        self._event(
            "task_reassigned",
            f"Task {task.type.value} reassigned from {previous} to {target}"
            f"{': ' + request.reason if request.reason else ''}",
            actor=request.actor.user_id,
            data={"task_id": task.task_id, "from": previous, "to": target},
        )
        return await self._after_change(since)

    @reassign_task.validator
    def _validate_reassign_task(self, request: ReassignTask) -> None:
        self._require_supervisor(request.actor, "reassign tasks")
        task = self._open_task_for(request.actor, request.task_id)
        if request.assignee_role not in CASE_WORKERS:
            reject(
                Rejection.INVALID,
                f"tasks go to billers or supervisors, not {request.assignee_role.value}",
            )
        if request.assignee is not None and request.assignee == task.assignee:
            reject(
                Rejection.CONFLICT, f"task {task.task_id} is already assigned to {task.assignee}"
            )
        if (
            request.assignee is None
            and task.assignee is None
            and task.queue is request.assignee_role
        ):
            reject(
                Rejection.CONFLICT,
                f"task {task.task_id} is already in the {task.queue.value} queue, unassigned",
            )

    @workflow.update
    async def change_priority(self, request: ChangePriority) -> CaseChange:
        since = self._state.event_seq
        self._validate_change_priority(request)  # state may have moved since validation
        state = self._state
        state.priority_adjustment = request.adjustment
        state.priority_adjustment_reason = request.reason
        self._event(
            "priority_changed",
            f"Priority adjusted x{request.adjustment:g}: {request.reason}",
            actor=request.actor.user_id,
        )
        self._refresh_priority()
        return await self._after_change(since)

    @change_priority.validator
    def _validate_change_priority(self, request: ChangePriority) -> None:
        self._require_supervisor(request.actor, "change priority")

    @workflow.update
    async def add_note(self, request: AddNote) -> CaseChange:
        since = self._state.event_seq
        self._validate_add_note(request)  # state may have moved since validation
        now = workflow.now()
        for task in self._state.open_tasks:
            task.last_touched_at = now
            task.stalled = False
        self._event("note", request.text, actor=request.actor.user_id)
        return await self._after_change(since)

    @add_note.validator
    def _validate_add_note(self, request: AddNote) -> None:
        if request.actor.role not in CASE_WORKERS:
            reject(Rejection.FORBIDDEN, f"role '{request.actor.role.value}' cannot add case notes")
        if not request.text.strip():
            reject(Rejection.INVALID, "a note needs text")
        if self._state.status is CaseStatus.CLOSED:
            reject(Rejection.CONFLICT, "case is closed")

    @workflow.update
    async def cancel_case(self, request: CancelCase) -> CaseChange:
        since = self._state.event_seq
        self._validate_cancel_case(request)  # state may have moved since validation
        self._close(
            CaseOutcome.CANCELLED, f"cancelled by {request.actor.user_id}: {request.reason}"
        )
        return await self._after_change(since)

    @cancel_case.validator
    def _validate_cancel_case(self, request: CancelCase) -> None:
        self._require_supervisor(request.actor, "cancel a case")
        if self._state.status is CaseStatus.RECEIVED:
            reject(Rejection.CONFLICT, "case is still being triaged; try again in a moment")

    @workflow.update
    async def record_extension(self, request: RecordExtension) -> CaseChange:
        since = self._state.event_seq
        self._validate_record_extension(request)  # state may have moved since validation
        state = self._state
        current = find_deadline(state.deadlines, request.kind, request.level)
        assert current is not None
        state.extensions.append(
            DeadlineExtension(
                kind=request.kind,
                level=request.level,
                new_due=request.new_due,
                reason=request.reason,
                recorded_by=request.actor.user_id,
            )
        )
        self._recompute_deadlines()
        self._event(
            "deadline_extended",
            f"{current.label} deadline extended from {current.due.isoformat()} to "
            f"{request.new_due.isoformat()}: {request.reason}",
            actor=request.actor.user_id,
        )
        self._refresh_priority()
        return await self._after_change(since)

    @record_extension.validator
    def _validate_record_extension(self, request: RecordExtension) -> None:
        if request.actor.role not in CASE_WORKERS:
            reject(
                Rejection.FORBIDDEN, f"role '{request.actor.role.value}' cannot record extensions"
            )
        if self._state.status in (CaseStatus.RECEIVED, CaseStatus.CLOSED):
            reject(Rejection.CONFLICT, f"case is {self._state.status.value}")
        current = find_deadline(self._state.deadlines, request.kind, request.level)
        if current is None:
            level = f" level {request.level}" if request.level else ""
            reject(Rejection.NOT_FOUND, f"the case has no {request.kind.value}{level} deadline")
        if request.new_due <= current.due:
            reject(
                Rejection.INVALID,
                f"new_due {request.new_due.isoformat()} is not after the "
                f"current deadline {current.due.isoformat()}",
            )

    @workflow.update
    async def record_attestation(self, request: RecordAttestation) -> CaseChange:
        since = self._state.event_seq
        self._validate_record_attestation(request)
        state = self._state
        state.attestation = Attestation(
            method=AttestationMethod.UPLOADED
            if request.document_sha256
            else AttestationMethod.PHYSICIAN_SIGNED,
            attested_by=request.actor.user_id,
            physician_name=request.physician_name,
            statement=request.statement,
            document_sha256=request.document_sha256,
            recorded_at=workflow.now(),
        )
        how = "uploaded signed attestation" if request.document_sha256 else "attested"
        self._event(
            "attested",
            f"Medical necessity {how}: {request.physician_name}",
            actor=request.actor.user_id,
            data={"document_sha256": request.document_sha256},
        )
        self._touch_version()
        return await self._after_change(since)

    @record_attestation.validator
    def _validate_record_attestation(self, request: RecordAttestation) -> None:
        state = self._state
        actor = request.actor
        if request.document_sha256:
            if actor.role not in (*CASE_WORKERS, Role.PHYSICIAN):
                reject(Rejection.FORBIDDEN, f"role '{actor.role.value}' cannot record attestations")
        elif actor.role is not Role.PHYSICIAN:
            reject(
                Rejection.FORBIDDEN,
                "only a physician attests in the case manager; upload the signed attestation",
            )
        refusal = attestation_refusal(state)
        if refusal is not None:
            is_conflict, reason = refusal
            reject(Rejection.CONFLICT if is_conflict else Rejection.INVALID, reason)

    @workflow.update
    async def refresh_rules(self, request: RefreshRules) -> CaseChange:
        since = self._state.event_seq
        self._validate_refresh_rules(request)  # state may have moved since validation
        state = self._state
        rules_request = RulesRequest(record=state.record, as_of=self._today())
        if not self._bounded:
            rule = await run_unbounded(TriageActivities.current_rule, rules_request)
        else:
            try:
                rule = await run_local(TriageActivities.current_rule, rules_request)
            except ActivityFailed as error:
                reject(
                    Rejection.UNAVAILABLE,
                    f"the payer rules could not be read ({type(error).__name__}); "
                    "nothing changed, try again shortly",
                )
        if state.status is not CaseStatus.CLOSED:
            previous = state.rule.id if state.rule else "none"
            state.rule = rule
            self._recompute_deadlines()
            self._event(
                "deadlines_recomputed",
                f"Deadlines recomputed from payer rule {rule.id} (was {previous})",
                actor=request.actor.user_id,
            )
            self._refresh_priority()
        return await self._after_change(since)

    @refresh_rules.validator
    def _validate_refresh_rules(self, request: RefreshRules) -> None:
        if request.actor.role not in (Role.SUPERVISOR, Role.ADMIN):
            reject(Rejection.FORBIDDEN, "only a supervisor or an admin can recompute deadlines")
        if self._state.status in (CaseStatus.RECEIVED, CaseStatus.CLOSED):
            reject(Rejection.CONFLICT, f"case is {self._state.status.value}")

    @workflow.update
    async def identify_claim(self, request: IdentifyClaim) -> CaseChange:
        since = self._state.event_seq
        self._validate_identify_claim(request)  # state may have moved since validation
        state = self._state
        before = state.record
        record = identified_record(before, _identification(request))
        try:
            rule = await run_local(
                TriageActivities.current_rule, RulesRequest(record=record, as_of=self._today())
            )
        except ActivityFailed as error:
            reject(
                Rejection.UNAVAILABLE,
                f"the payer rules could not be read ({type(error).__name__}); nothing changed, "
                "try again shortly",
            )
        if state.record != before:
            reject(Rejection.CONFLICT, "the claim was identified meanwhile: reload the case")
        if state.status is not CaseStatus.CLOSED:
            state.record, state.rule = record, rule
            if state.classification is not None and request.billed_amount:
                state.classification = state.classification.model_copy(
                    update={"denied_amount": request.billed_amount}
                )
            self._recompute_deadlines()
            payer = record.claim.payer
            self._event(
                "claim_identified",
                f"Claim sent to {payer.name} ({payer.payer_id}), served "
                f"{request.service_date_from.isoformat()}: deadlines counted from payer rule "
                f"{rule.id}",
                actor=request.actor.user_id,
            )
            self._refresh_priority()
        return await self._after_change(since)

    @identify_claim.validator
    def _validate_identify_claim(self, request: IdentifyClaim) -> None:
        state = self._state
        if not allows(request.actor.role, Permission.IDENTIFY_CLAIMS):
            reject(Rejection.FORBIDDEN, f"a {request.actor.role.value} does not identify claims")
        if state.status in (CaseStatus.RECEIVED, CaseStatus.CLOSED):
            reject(Rejection.CONFLICT, f"case is {state.status.value}")
        problem = identification_problem(state.record, _identification(request), self._today())
        if problem is not None:
            reject(Rejection.INVALID, problem)

    # --- Updates: users leaving -------------------------------------------------------------

    @workflow.update
    async def return_user_work(self, request: ReturnUserWork) -> CaseChange:
        since = self._state.event_seq
        self._validate_return_user_work(request)  # state may have moved since validation
        state = self._state
        user = request.user_id
        for task in state.open_tasks:
            placement = task.placement_before_urgent
            if placement is not None and placement.assignee == user:
                task.placement_before_urgent = placement.model_copy(update={"assignee": None})
            if task.assignee == user:
                task.assignee = None
                self._event(
                    "task_returned",
                    f"Task {task.type.value} returned to the {task.queue.value} queue: "
                    f"{request.reason}",
                    actor=request.actor.user_id,
                    data={"task_id": task.task_id, "from": user},
                )
        if state.owner == user:
            state.owner = None
            self._event(
                "owner_cleared",
                f"{user} no longer owns the case; its new tasks go to the queue: {request.reason}",
                actor=request.actor.user_id,
                data={"from": user},
            )
        return await self._after_change(since)

    @return_user_work.validator
    def _validate_return_user_work(self, request: ReturnUserWork) -> None:
        role = request.actor.role
        if not (allows(role, Permission.MANAGE_USERS) or allows(role, Permission.SUPERVISE)):
            reject(Rejection.FORBIDDEN, f"role '{role.value}' cannot hand back a user's work")
        if self._state.status is CaseStatus.CLOSED:
            reject(Rejection.CONFLICT, "case is closed")


def _entered_response(payload: PayerResponseEntry) -> PayerResponse:
    """The answer typed into the record-payer-response task."""
    return PayerResponse(
        decision=payload.decision,
        paid_amount=payload.paid_amount,
        decision_date=payload.decision_date,
        payer_claim_control_number=payload.payer_claim_control_number,
        reference=payload.reference,
        notes=payload.notes,
        source="manual",
    )


def _identification(request: IdentifyClaim) -> Identification:
    by = LATER_FILE if request.actor.role is Role.SYSTEM else request.actor.user_id
    return Identification(
        payer=request.payer,
        service_date_from=request.service_date_from,
        service_date_to=request.service_date_to,
        billed_amount=request.billed_amount,
        by=by,
    )
