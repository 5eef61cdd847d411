"""The payer's answers: the Signal, an answer typed into a task, a late payment; what each
does is decided in domain.answer_effects."""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.answer_effects import (
        NextStep,
        amount_newly_paid,
        answer_effect,
        pays_nothing,
        remainder_review,
        retry_path,
    )
    from domain.case import (
        Actor,
        CaseStatus,
        PayerResponse,
        Role,
        TaskType,
        decided_appeal_level_problem,
        next_appeal_problem,
        path_deadline_key,
        path_problem,
        response_applies,
    )
    from domain.models import WorkPath
    from domain.payer_answers import outcome_after_late_payment, takes_late_payment
    from workflows.messages import PayerResponseEntry
from workflows.case_core import CaseCore
from workflows.case_patches import NO_REAPPEAL_OF_DECIDED_LEVEL, NO_ZERO_RECOVERY


class CasePayerAnswers(CaseCore):
    """The payer_response Signal and every way a payer's answer is applied."""

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

    def _already_received(self, response: PayerResponse) -> bool:
        return bool(response.reference) and any(
            seen.reference == response.reference for seen in self._state.payer_responses
        )

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


def entered_response(payload: PayerResponseEntry) -> PayerResponse:
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
