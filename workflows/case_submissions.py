"""Sending an appeal or a corrected claim through the clearinghouse adapter and recording it:
the receipt, a failure and the supervisors' task about it."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.submission import SubmissionActivities
    from domain.appeals.attestation import attestation_problem
    from domain.appeals.corrections import corrections_problem
    from domain.appeals.finishing import appeal_letter_problem
    from domain.case import SYSTEM_ACTOR, Actor, Role, Submission, SubmissionKind, Task, TaskType
    from workflows.case_activities import ActivityFailed, run_submission, submission_failure_reason
    from workflows.messages import (
        AppealSubmitted,
        CompleteTask,
        CorrectedClaimSubmitted,
        SubmissionReceipt,
        SubmitRequest,
        TaskPayload,
    )
    from workflows.refusals import Refusal, refuse
from workflows.case_core import CaseCore


class CaseSubmissions(CaseCore):
    """Submissions of the prepare-appeal and prepare-corrected-claim tasks."""

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
                refuse(Refusal.CONFLICT, f"not submitted ({reason}); {self._closed(task)}")
            self._submission_failed(task, request.actor, reason)
            await self._after_change(since)
            refuse(
                Refusal.SUBMISSION_FAILED,
                f"not submitted: {reason}. The {task.type.value} task stays open and "
                "supervisors were told; submit again once the clearinghouse is back (it goes "
                "under the same submission id, so it is never sent twice)",
            )
        finally:
            self._sending.discard(task.task_id)
        if not task.is_open:
            self._receipt_event(receipt, request.actor)
            await self._after_change(since)
            refuse(Refusal.CONFLICT, f"sent (receipt on the timeline), but {self._closed(task)}")
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
