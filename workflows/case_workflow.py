"""DenialCaseWorkflow: one durable workflow per denial or rejection.

received -> triaged -> root cause -> corrected claim | appeal (level n) | write-off review |
transfer to patient | duplicate check -> awaiting payer -> closed, and every ending emits exactly
one prevention task.

The workflow only orchestrates. Rules come from `domain` (pure functions called with
`workflow.now()`), I/O from activities. Human input arrives as Updates whose validators refuse
with a reason; the payer's answer arrives as a Signal; the state is read with a Query. One loop
wakes at the next moment something is due (an escalation, a stall, a follow-up, a deadline),
so deadlines that move take their timers with them.

This module holds the run loop; the handlers and the rules they apply live in its parts, one
class each that DenialCaseWorkflow inherits: case_core (state changes every part makes),
case_clock (escalations, stalls, follow-ups), case_payer_answers (the payer's answers),
case_submissions (the clearinghouse adapter), case_task_work (the complete_task Update),
case_task_claims (who works a task) and case_changes (the other Updates). The patch ids are in
case_patches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.prevention import PreventionActivities
    from activities.projection import ProjectionActivities
    from activities.triage import TriageActivities
    from domain.case import (
        CaseOutcome,
        CaseState,
        CaseStatus,
        TaskType,
        case_deadlines,
        path_deadline_key,
        prevention_key,
    )
    from domain.classification import Classification
    from domain.escalation import announced_from_tasks, lowered_levels
    from workflows.messages import (
        CaseInput,
        CaseResult,
        PreventionRequest,
        TriageRequest,
        TriageResult,
    )
from workflows.case_changes import CaseChanges
from workflows.case_clock import CaseClock
from workflows.case_patches import BOUNDED_RUN, PARTIAL_PAYMENT_REVIEW
from workflows.case_task_claims import CaseTaskClaims
from workflows.case_task_work import CaseTaskWork

# Servers that never suggest continuing as new (the test server, older ones) are held to the
# limits a Temporal server suggests at by default (4 MB, 4,000 events), far below the 50 MB /
# 51,200 events at which it terminates a run.
CONTINUE_AS_NEW_BYTES = 4 * 1024 * 1024
CONTINUE_AS_NEW_EVENTS = 4_000
# The workflow type every saved history and running case was started under: pinned, so that
# renaming or moving the class cannot orphan them.
WORKFLOW_NAME = "DenialCaseWorkflow"


@workflow.defn(name=WORKFLOW_NAME)
class DenialCaseWorkflow(CaseTaskWork, CaseTaskClaims, CaseChanges, CaseClock):
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
        self._search_attributes = {}
        self._recent_events = deque(maxlen=64)
        self._sending = set()
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

    @workflow.query
    def state(self) -> CaseState:
        return self._state
