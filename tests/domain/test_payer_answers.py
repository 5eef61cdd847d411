"""The one check of a payer's answer (task Update and API), and what a late payment does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.case import CaseOutcome, CasePolicy, CaseState, CaseStatus, PayerDecision, PayerResponse
from domain.payer_answers import (
    answer_problem,
    late_payment_problem,
    outcome_after_late_payment,
    posted_answer_problem,
    reference_for,
)
from testkit.records import adj, make_record

TODAY = date(2026, 5, 4)


def case(**changes: object) -> CaseState:
    record = make_record(TODAY, adjustments=[adj("CO-50", 800)], billed=800)
    at = datetime(2026, 5, 4, tzinfo=UTC)
    state = CaseState(
        case_id="case-1", record=record, policy=CasePolicy(), created_at=at, updated_at=at
    )
    return state.model_copy(update=changes)


def answer(
    decision: PayerDecision, paid: int = 0, reference: str = "", **more: object
) -> PayerResponse:
    return PayerResponse(
        decision=decision,
        paid_amount=Decimal(paid),
        decision_date=more.pop("on", TODAY),  # type: ignore[arg-type]
        reference=reference,
    )


def test_an_answer_is_checked_the_same_way_wherever_it_comes_from() -> None:
    state = case(status=CaseStatus.AWAITING_PAYER)
    assert answer_problem(state, answer(PayerDecision.PAID, 800, "EFT1"), TODAY) is None
    future = answer(PayerDecision.UPHELD, on=TODAY + timedelta(days=1))
    assert "in the future" in str(answer_problem(state, future, TODAY))
    assert "above 0" in str(answer_problem(state, answer(PayerDecision.PAID), TODAY))
    assert "rejection" in str(answer_problem(state, answer(PayerDecision.ACCEPTED), TODAY))


def test_a_payment_posted_outside_a_task_must_name_itself_and_counts_once() -> None:
    seen = answer(PayerDecision.PARTIALLY_PAID, 500, "CHK-1")
    state = case(status=CaseStatus.WRITE_OFF_REVIEW, payer_responses=[seen])
    unnamed = answer(PayerDecision.PARTIALLY_PAID, 500)
    assert "needs its reference" in str(posted_answer_problem(state, unnamed, TODAY))
    assert "already recorded" in str(posted_answer_problem(state, seen, TODAY))
    # An answer without money takes a derived reference: the same one twice is one answer.
    upheld = answer(PayerDecision.UPHELD)
    assert reference_for(upheld) == f"manual:upheld:{TODAY.isoformat()}"


def test_a_late_payment_reopens_the_books_of_a_written_off_case_only() -> None:
    written_off = case(
        status=CaseStatus.CLOSED,
        outcome=CaseOutcome.WRITTEN_OFF,
        classification=None,
    )
    payment = answer(PayerDecision.PAID, 300, "EFT9")
    assert late_payment_problem(written_off, payment, TODAY) is None
    upheld = answer(PayerDecision.UPHELD, reference="u")
    assert "only a late payment" in str(late_payment_problem(written_off, upheld, TODAY))
    recovered = written_off.model_copy(update={"outcome": CaseOutcome.RECOVERED})
    assert "closed (recovered)" in str(late_payment_problem(recovered, payment, TODAY))
    partly = written_off.model_copy(update={"recovered_amount": Decimal(300)})
    assert outcome_after_late_payment(partly) is CaseOutcome.PARTIALLY_RECOVERED
    assert (written_off.written_off_amount, partly.written_off_amount) == (800, 500)
    assert recovered.written_off_amount == 0
    paid = written_off.model_copy(update={"recovered_amount": Decimal(800)})
    assert outcome_after_late_payment(paid) is CaseOutcome.RECOVERED


def test_a_payment_is_bounded_by_what_is_outstanding_when_the_charge_is_known() -> None:
    state = case(status=CaseStatus.AWAITING_PAYER)
    assert "more than the $800" in str(
        answer_problem(state, answer(PayerDecision.PAID, 900, "EFT2"), TODAY)
    )
    cents = answer(PayerDecision.PAID, 1, "EFT3").model_copy(
        update={"paid_amount": Decimal("0.004")}
    )
    assert "dollars and cents" in str(answer_problem(state, cents, TODAY))
    unknown = state.model_copy(
        update={
            "record": state.record.model_copy(
                update={"claim": state.record.claim.model_copy(update={"billed_amount": 0})}
            ),
            "classification": None,
        }
    )
    assert answer_problem(unknown, answer(PayerDecision.PAID, 500, "EFT4"), TODAY) is None


def test_a_later_file_does_not_overwrite_what_a_user_set() -> None:
    from domain.identity import LATER_FILE, Identification, identification_problem
    from domain.models import Payer

    record = case().record.model_copy(
        update={"identified_by": "alice", "claim": case().record.claim}
    )
    later = Identification(
        payer=Payer(payer_id="P2", name="OTHER"), service_date_from=TODAY, by=LATER_FILE
    )
    assert "alice set the claim's payer" in str(identification_problem(record, later, TODAY))
    by_bob = later.model_copy(update={"by": "bob"})
    assert identification_problem(record, by_bob, TODAY) is None
