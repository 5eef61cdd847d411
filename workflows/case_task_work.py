"""The complete_task Update: each task's work checked (domain.task_work) and applied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.submission import SubmissionActivities
    from domain.case import (
        CaseOutcome,
        CaseStatus,
        RootCause,
        Task,
        TaskType,
        decided_appeal_level_problem,
        path_deadline_key,
    )
    from domain.deadlines import deadline_instant, due_day
    from domain.models import WorkPath
    from domain.payer_answers import answer_basics_problem, answer_problem
    from domain.permissions import work_permission_problem, write_off_approval_problem
    from domain.task_work import (
        expected_decision_problem,
        next_path_problem,
        submission_problem,
        triage_problem,
        write_off_outcome,
    )
    from workflows.case_activities import run_unbounded
    from workflows.messages import (
        AppealSubmitted,
        CaseChange,
        CompleteTask,
        ConfirmRootCause,
        ConfirmTriage,
        CorrectedClaimSubmitted,
        DuplicateResolution,
        FollowUpResult,
        PayerResponseEntry,
        SubmissionFailureReviewed,
        TaskPayload,
        WriteOffDecision,
    )
    from workflows.refusals import Refusal, refuse
from workflows.case_patches import SUBMISSION_ADAPTER
from workflows.case_payer_answers import CasePayerAnswers, entered_response
from workflows.case_submissions import CaseSubmissions

SUBMISSION_TASKS = frozenset({TaskType.PREPARE_APPEAL, TaskType.PREPARE_CORRECTED_CLAIM})


class CaseTaskWork(CaseSubmissions, CasePayerAnswers):
    """complete_task: its validator, and one handler per task type."""

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

    @complete_task.validator
    def _validate_complete_task(self, request: CompleteTask) -> None:
        self._check_complete_task(request)
        if request.task_id in self._sending:
            refuse(
                Refusal.CONFLICT,
                f"task {request.task_id} is being sent to the clearinghouse; reload the case",
            )
        # Rules added after histories were saved are checked here only: a validator does not
        # run on replay, and what it refuses never reaches the history.
        problem = self._submission_problem(request.payload) or self._decided_level_problem(
            request.payload
        )
        if problem is None and isinstance(request.payload, PayerResponseEntry):
            problem = answer_problem(self._state, entered_response(request.payload), self._today())
        if problem:
            refuse(Refusal.INVALID, problem)

    def _decided_level_problem(self, payload: TaskPayload) -> str | None:
        if (
            isinstance(payload, WriteOffDecision)
            and not payload.approve
            and payload.next_path is WorkPath.APPEAL
        ):
            problem = decided_appeal_level_problem(self._state)
            return f"cannot take the appeal path: {problem}" if problem else None
        return None

    def _check_complete_task(self, request: CompleteTask) -> None:
        task = self._open_task_for(request.actor, request.task_id)
        problem = work_permission_problem(request.actor, task)
        if isinstance(request.payload, WriteOffDecision) and request.payload.approve:
            problem = problem or write_off_approval_problem(
                request.actor, self._state.outstanding_amount, self._state.policy
            )
        if problem:
            refuse(Refusal.FORBIDDEN, problem)
        if request.payload.type != task.type.value:
            refuse(
                Refusal.INVALID,
                f"task {task.task_id} is a {task.type.value} task, not {request.payload.type}",
            )
        problem = self._payload_problem(task, request)
        if problem:
            refuse(Refusal.INVALID, problem)

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
            return answer_basics_problem(state, entered_response(payload), today)
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
        self._apply_payer_response(entered_response(payload), request.actor)

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
