"""Whether a payer's answer can be recorded on a case: one check for the answer typed into the
record-payer-response task (an Update) and the one posted to the API (a Signal)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.case import (
    GIVEN_UP_OUTCOMES,
    CaseOutcome,
    CaseState,
    CaseStatus,
    PayerDecision,
    PayerResponse,
)
from domain.models import DenialKind

PAYING = frozenset({PayerDecision.PAID, PayerDecision.PARTIALLY_PAID})
CENT = Decimal("0.01")


def answer_problem(state: CaseState, response: PayerResponse, today: date) -> str | None:
    """Why the answer cannot be recorded, or None when it can."""
    basic = answer_basics_problem(state, response, today)
    if basic is not None:
        return basic
    notice = state.record.claim.remittance_date
    if notice is not None and response.decision_date < notice:
        return (
            f"decision_date {response.decision_date.isoformat()} is before the remittance "
            f"{notice.isoformat()} that denied the claim"
        )
    return _amount_problem(state, response) or duplicate_problem(state, response)


def answer_basics_problem(state: CaseState, response: PayerResponse, today: date) -> str | None:
    """The checks a typed answer has had from the start: the task's Update handler repeats
    them (saved histories replay them); the rest of answer_problem came later and runs in
    the validator only, which replay skips."""
    if response.decision_date > today:
        return f"decision_date {response.decision_date.isoformat()} is in the future"
    if response.decision is PayerDecision.ACCEPTED and state.kind is not DenialKind.REJECTION:
        return "'accepted' answers a resubmitted rejection; a denial is paid or upheld"
    if response.decision in PAYING and response.paid_amount <= 0:
        return (
            f"a '{response.decision.value}' response needs a paid_amount above 0 (nothing "
            "paid is no recovery: record 'upheld', or 'patient_responsibility' when the payer "
            "moved the balance to the patient)"
        )
    return None


def _amount_problem(state: CaseState, response: PayerResponse) -> str | None:
    paid = response.paid_amount
    if paid != paid.quantize(CENT):
        return f"paid_amount {paid} is not in dollars and cents"
    # A 999 rejection carries no charge until identified: nothing to bound the payment by.
    if state.denied_amount > 0 and paid > state.outstanding_amount:
        return (
            f"paid_amount ${paid} is more than the ${state.outstanding_amount} outstanding "
            f"(${state.denied_amount} denied, ${state.recovered_amount} recovered)"
        )
    return None


def duplicate_problem(state: CaseState, response: PayerResponse) -> str | None:
    """An answer whose reference the case already holds is the same answer again."""
    if not response.reference:
        return None
    wanted = response.reference.strip().casefold()  # "chk-300" is the check "CHK-300"
    for seen in state.payer_responses:
        if seen.reference.strip().casefold() == wanted:
            return (
                f"reference {response.reference} is already recorded on this case "
                f"({seen.decision.value.replace('_', ' ')} on {seen.decision_date.isoformat()}"
                f"{f', ${seen.paid_amount}' if seen.paid_amount else ''}): the same answer is "
                "never counted twice"
            )
    return None


def posted_answer_problem(state: CaseState, response: PayerResponse, today: date) -> str | None:
    """An answer posted to the API (outside a task) must name itself: a payment by its check or
    EFT trace number, so that posting it twice is refused instead of counted twice. On a closed
    case it must be a late payment the case can take."""
    if response.decision in PAYING and not response.reference.strip():
        return (
            "a payment needs its reference (the check or EFT trace number, or the remittance's) "
            "so that the same payment is never posted twice"
        )
    return answer_problem(
        state, response.model_copy(update={"reference": reference_for(response)}), today
    )


def reference_for(response: PayerResponse) -> str:
    """The answer's reference as the case keeps it: in capitals (check "chk-300" is
    "CHK-300", and the workflow, which ignores a reference it holds, compares exactly), derived
    for an answer without money that has none (the same decision on the same day is the same
    answer)."""
    if response.reference.strip():
        return response.reference.strip().upper()
    return f"manual:{response.decision.value}:{response.decision_date.isoformat()}"


def takes_late_payment(state: CaseState) -> bool:
    return (
        state.status is CaseStatus.CLOSED
        and state.outcome in GIVEN_UP_OUTCOMES  # written off in all or part
        and state.outstanding_amount > 0
    )


def late_payment_problem(
    state: CaseState, response: PayerResponse, today: date, *, typed: bool = True
) -> str | None:
    """Why a payment cannot reopen the books of a closed case, or None. A payment read from a
    remittance is the payer's word: only its reference is checked (an EFT's BPR16 date may be
    days after the file arrives)."""
    if not takes_late_payment(state):
        return f"the case is closed ({(state.outcome or '').replace('_', ' ')})"
    if response.decision not in PAYING:
        return "a closed case takes only a late payment; it is closed to other answers"
    return answer_problem(state, response, today) if typed else duplicate_problem(state, response)


def outcome_after_late_payment(state: CaseState) -> CaseOutcome:
    """What a written-off case is once paid late: recovered when nothing is left owing."""
    if state.outstanding_amount == 0:
        return CaseOutcome.RECOVERED
    return CaseOutcome.PARTIALLY_RECOVERED
