"""What a payer's answer does to a case: the money it adds, whether the case closes and as
what, or whether the remainder of a part payment is reviewed or the denial worked further.
Pure: the workflow applies the effect (domain.payer_answers decides whether an answer can be
recorded at all)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.case import (
    CaseOutcome,
    CaseState,
    CaseStatus,
    PayerDecision,
    PayerResponse,
    TaskType,
    path_deadline_key,
    path_problem,
)
from domain.models import DenialKind, WorkPath
from domain.remittance_rules import newly_paid


class NextStep(StrEnum):
    CLOSE = "close"
    REVIEW_REMAINDER = "review_remainder"  # write the rest off, or work it further
    WORK_FURTHER = "work_further"  # upheld: the next appeal level, or appeal / resubmit again
    NONE = "none"  # the answer only repeats what the case knows


@dataclass(frozen=True)
class AnswerEffect:
    step: NextStep
    recovers: bool  # the amount newly paid is added to what the case recovered
    nothing_new: bool  # a payment that pays nothing new (said so on the timeline)
    outcome: CaseOutcome | None = None  # with CLOSE
    reason: str = ""


def amount_newly_paid(state: CaseState, response: PayerResponse) -> Decimal:
    """What an answer adds to the recovered amount. From an 835, the claim's total paid less
    what it had been paid when denied and what the case has recovered since: counted on the
    case's own state, which no later answer can overtake. Cases that close on a part payment
    (started before partial-payment review) take the amount the answer names."""
    if response.claim_paid_total is None or not state.reviews_partial_payments:
        return response.paid_amount
    return newly_paid(
        response.claim_paid_total, state.record.claim.paid_amount, state.recovered_amount
    )


def pays_nothing(response: PayerResponse, paid: Decimal) -> bool:
    """A 'paid' answer adding nothing to what was paid: no recovery, but the payer's answer
    without money (cases since the no-zero-recovery patch; before, it closed recovered)."""
    return response.decision is PayerDecision.PAID and not paid


def answer_effect(
    state: CaseState, response: PayerResponse, paid: Decimal, *, zero_payment: bool
) -> AnswerEffect:
    """What the answer does, `paid` being what it newly pays (amount_newly_paid) and
    `zero_payment` whether a 'paid' answer paying nothing is taken as no payment."""
    decision = response.decision
    # Since partial payments are reviewed, a part payment adding nothing is no payment.
    nothing_new = zero_payment or (
        state.reviews_partial_payments and decision is PayerDecision.PARTIALLY_PAID and not paid
    )
    if decision is PayerDecision.PAID and not zero_payment:
        return _closes(CaseOutcome.RECOVERED, "payer paid", nothing_new)
    if decision is PayerDecision.PATIENT_RESPONSIBILITY:
        return _closes(
            CaseOutcome.TRANSFERRED_TO_PATIENT,
            "the payer moved the balance to patient responsibility",
            nothing_new,
        )
    if decision is PayerDecision.ACCEPTED:
        return AnswerEffect(
            NextStep.CLOSE,
            recovers=False,
            nothing_new=nothing_new,
            outcome=CaseOutcome.RECOVERED,
            reason="the resubmitted claim was accepted",
        )
    if decision is PayerDecision.PARTIALLY_PAID and not nothing_new:
        # A rejection's remainder is the adjudicated claim's own denial case (ingest).
        if not state.reviews_partial_payments or state.kind is DenialKind.REJECTION:
            return _closes(CaseOutcome.PARTIALLY_RECOVERED, f"payer paid ${paid}", nothing_new)
        if state.recovered_amount + paid >= state.denied_amount:
            return _closes(CaseOutcome.RECOVERED, "payer paid the rest", nothing_new)
        return AnswerEffect(NextStep.REVIEW_REMAINDER, recovers=True, nothing_new=nothing_new)
    if nothing_new and state.status is not CaseStatus.AWAITING_PAYER:
        # Only as the answer awaited is it an upheld one; otherwise the 835 only repeats what
        # the case knows.
        return AnswerEffect(NextStep.NONE, recovers=False, nothing_new=nothing_new)
    return AnswerEffect(NextStep.WORK_FURTHER, recovers=False, nothing_new=nothing_new)


def _closes(outcome: CaseOutcome, reason: str, nothing_new: bool) -> AnswerEffect:
    return AnswerEffect(
        NextStep.CLOSE, recovers=True, nothing_new=nothing_new, outcome=outcome, reason=reason
    )


@dataclass(frozen=True)
class RemainderReview:
    answers_appeal: bool  # the payment answers the appeal awaited: its next level may open
    deadline_key: str | None  # the deadline the review races, if any


def remainder_review(state: CaseState, today: date) -> RemainderReview:
    """How the review of a part payment's remainder is set up, read before the case's open
    work is cancelled: it races the deadline for working the remainder further, if one is
    open. A review replaced by a further payment hands its deadline on; a path still being
    prepared (the payment crossed it) keeps its own."""
    answers_appeal = state.status is CaseStatus.AWAITING_PAYER and state.path is WorkPath.APPEAL
    earlier_review = next(
        (task for task in state.open_tasks if task.type is TaskType.APPROVE_WRITE_OFF), None
    )
    deadline_key = earlier_review.deadline_key if earlier_review else None
    working = state.path if state.path in (WorkPath.APPEAL, WorkPath.CORRECTED_CLAIM) else None
    if working is not None and not answers_appeal and not path_problem(state, working, today):
        deadline_key = path_deadline_key(state.kind, working, state.appeal_level)
    return RemainderReview(answers_appeal=answers_appeal, deadline_key=deadline_key)


def retry_path(kind: DenialKind) -> WorkPath:
    """How a corrected claim (or a resubmitted rejection) denied again is worked next: a
    denial is appealed, a rejection resubmitted while timely filing allows."""
    return WorkPath.CORRECTED_CLAIM if kind is DenialKind.REJECTION else WorkPath.APPEAL
