"""What a payer's answer does to a case: the money it adds, whether and how the case closes,
and how a part payment's remainder is reviewed (the rules the case workflow applies)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.answer_effects import (
    AnswerEffect,
    NextStep,
    amount_newly_paid,
    answer_effect,
    pays_nothing,
    remainder_review,
    retry_path,
)
from domain.case import (
    CaseOutcome,
    CasePolicy,
    CaseState,
    CaseStatus,
    PayerDecision,
    PayerResponse,
    Role,
    Task,
    TaskType,
)
from domain.deadlines import Deadline, DeadlineKind
from domain.models import DenialKind, WorkPath
from testkit.records import adj, make_record

TODAY = date(2026, 5, 4)
AT = datetime(2026, 5, 4, 9, tzinfo=UTC)
DAY = timedelta(days=1)
ZERO = Decimal(0)


def case(kind: DenialKind = DenialKind.DENIAL, **changes: object) -> CaseState:
    """A claim billed $1,000 and paid $200 when denied: $800 denied (no triage yet)."""
    record = (
        make_record(TODAY, kind=kind, billed=1000)
        if kind is DenialKind.REJECTION
        else make_record(TODAY, adjustments=[adj("CO-50", 800)], billed=1000, paid=200)
    )
    state = CaseState(
        case_id="case-1",
        record=record,
        policy=CasePolicy(),
        created_at=AT,
        updated_at=AT,
        status=CaseStatus.AWAITING_PAYER,
        path=WorkPath.APPEAL,
        appeal_level=1,
        reviews_partial_payments=True,
        deadlines=[
            Deadline(
                kind=DeadlineKind.CORRECTED_CLAIM,
                due=TODAY + 20 * DAY,
                basis="test",
                rule_id="r",
                source="test",
            )
        ],
    )
    return state.model_copy(update=changes)


def answer(decision: PayerDecision, paid: int = 0, total: int | None = None) -> PayerResponse:
    return PayerResponse(
        decision=decision,
        paid_amount=Decimal(paid),
        claim_paid_total=None if total is None else Decimal(total),
        decision_date=TODAY,
    )


def effect(
    state: CaseState, decision: PayerDecision, paid: int = 0, *, zero_payment: bool = False
) -> AnswerEffect:
    return answer_effect(state, answer(decision, paid), Decimal(paid), zero_payment=zero_payment)


def test_what_an_835_newly_pays_is_counted_on_the_case_not_on_its_estimate() -> None:
    state = case(recovered_amount=Decimal(300))
    # $1,000 paid in all, of which $200 when denied and $300 recovered since.
    assert amount_newly_paid(state, answer(PayerDecision.PAID, 450, total=1000)) == 500
    assert amount_newly_paid(state, answer(PayerDecision.PAID, 450, total=400)) == 0
    # A typed answer, or a case started before partial payments were reviewed, takes the
    # amount the answer names.
    assert amount_newly_paid(state, answer(PayerDecision.PAID, 450)) == 450
    older = state.model_copy(update={"reviews_partial_payments": False})
    assert amount_newly_paid(older, answer(PayerDecision.PAID, 450, total=1000)) == 450


def test_a_payment_closes_the_case_with_the_money_it_brings() -> None:
    state = case()
    paid = effect(state, PayerDecision.PAID, 800)
    assert paid == AnswerEffect(
        NextStep.CLOSE,
        recovers=True,
        nothing_new=False,
        outcome=CaseOutcome.RECOVERED,
        reason="payer paid",
    )
    moved = effect(state, PayerDecision.PATIENT_RESPONSIBILITY, 50)
    assert (moved.step, moved.recovers, moved.outcome) == (
        NextStep.CLOSE,
        True,
        CaseOutcome.TRANSFERRED_TO_PATIENT,
    )
    assert moved.reason == "the payer moved the balance to patient responsibility"
    accepted = effect(case(DenialKind.REJECTION), PayerDecision.ACCEPTED)
    assert (accepted.step, accepted.recovers, accepted.outcome) == (
        NextStep.CLOSE,
        False,
        CaseOutcome.RECOVERED,
    )


def test_a_paid_answer_paying_nothing_is_the_answer_without_money() -> None:
    nothing = answer(PayerDecision.PAID)
    assert pays_nothing(nothing, ZERO)
    assert not pays_nothing(answer(PayerDecision.PAID, 10), Decimal(10))
    assert not pays_nothing(answer(PayerDecision.UPHELD), ZERO)
    awaited = effect(case(), PayerDecision.PAID, zero_payment=True)
    assert awaited == AnswerEffect(NextStep.WORK_FURTHER, recovers=False, nothing_new=True)
    # Nothing awaited an answer: the 835 only repeats what the case knows.
    preparing = case(status=CaseStatus.APPEAL)
    assert effect(preparing, PayerDecision.PAID, zero_payment=True).step is NextStep.NONE
    # Cases before the no-zero-recovery patch closed recovered with $0, and still do.
    before = effect(case(), PayerDecision.PAID, zero_payment=False)
    assert (before.step, before.outcome, before.nothing_new) == (
        NextStep.CLOSE,
        CaseOutcome.RECOVERED,
        False,
    )


def test_a_part_payment_is_reviewed_closed_or_ignored_by_what_it_leaves() -> None:
    state = case(recovered_amount=Decimal(300))
    part = effect(state, PayerDecision.PARTIALLY_PAID, 200)
    assert part == AnswerEffect(NextStep.REVIEW_REMAINDER, recovers=True, nothing_new=False)
    rest = effect(state, PayerDecision.PARTIALLY_PAID, 500)
    assert (rest.step, rest.outcome, rest.reason) == (
        NextStep.CLOSE,
        CaseOutcome.RECOVERED,
        "payer paid the rest",
    )
    repeated = effect(state, PayerDecision.PARTIALLY_PAID)
    assert repeated == AnswerEffect(NextStep.WORK_FURTHER, recovers=False, nothing_new=True)
    assert (
        effect(
            state.model_copy(update={"status": CaseStatus.APPEAL}), PayerDecision.PARTIALLY_PAID
        ).step
        is NextStep.NONE
    )
    # Cases started before partial payments were reviewed close on one; so does a rejection,
    # whose remainder is the adjudicated claim's own denial case.
    for closing in (
        state.model_copy(update={"reviews_partial_payments": False}),
        case(DenialKind.REJECTION),
    ):
        closed = effect(closing, PayerDecision.PARTIALLY_PAID, 200)
        assert (closed.step, closed.recovers, closed.outcome, closed.reason) == (
            NextStep.CLOSE,
            True,
            CaseOutcome.PARTIALLY_RECOVERED,
            "payer paid $200",
        )


def test_an_upheld_answer_works_the_denial_further() -> None:
    for status in (CaseStatus.AWAITING_PAYER, CaseStatus.APPEAL):
        upheld = effect(case(status=status), PayerDecision.UPHELD)
        assert upheld == AnswerEffect(NextStep.WORK_FURTHER, recovers=False, nothing_new=False)
    assert retry_path(DenialKind.DENIAL) is WorkPath.APPEAL
    assert retry_path(DenialKind.REJECTION) is WorkPath.CORRECTED_CLAIM


def review_task(deadline_key: str | None) -> Task:
    return Task(
        task_id="case-1-t9",
        type=TaskType.APPROVE_WRITE_OFF,
        queue=Role.BILLER,
        created_at=AT,
        due_at=AT + DAY,
        deadline_key=deadline_key,
        last_touched_at=AT,
    )


def test_a_remainder_review_races_the_deadline_of_the_work_it_may_lead_to() -> None:
    # Answering the appeal awaited: the next level may open; nothing else to race yet.
    awaited = remainder_review(case(), TODAY)
    assert (awaited.answers_appeal, awaited.deadline_key) == (True, None)
    # A corrected claim being prepared (the payment crossed it) keeps its open deadline.
    preparing = case(status=CaseStatus.CORRECTED_CLAIM, path=WorkPath.CORRECTED_CLAIM)
    crossed = remainder_review(preparing, TODAY)
    assert (crossed.answers_appeal, crossed.deadline_key) == (False, "corrected_claim")
    # ... not one already passed: a review it replaces hands on its own deadline instead.
    passed = remainder_review(preparing, TODAY + 21 * DAY)
    assert passed.deadline_key is None
    reviewing = preparing.model_copy(update={"tasks": [review_task("timely_filing")]})
    assert remainder_review(reviewing, TODAY + 21 * DAY).deadline_key == "timely_filing"
    assert remainder_review(reviewing, TODAY).deadline_key == "corrected_claim"
