"""Remittance rules: which PLB adjustments take money back, how a later 835 answers an open
case."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.case import PayerDecision
from domain.remittance_rules import decision_from_remittance, is_recoupment, newly_paid


@pytest.mark.parametrize(
    ("total", "paid_when_denied", "recovered", "expected"),
    [
        (1000, 0, 0, 1000),  # a claim-level denial paid in full
        (1000, 600, 0, 400),  # a line denied inside a paid claim: only the line is new
        (500, 0, 300, 200),  # a second report after $300 was recovered
        (500, 0, 500, 0),  # the same total reported again
        (600, 700, 0, 0),  # a total below what was paid (a recoupment) adds nothing
    ],
)
def test_newly_paid_counts_only_what_the_case_has_not_seen(
    total: int, paid_when_denied: int, recovered: int, expected: int
) -> None:
    assert newly_paid(Decimal(total), Decimal(paid_when_denied), Decimal(recovered)) == expected


@pytest.mark.parametrize(
    ("reason", "amount", "expected"),
    [
        ("WO", 75, True),  # overpayment recovery
        ("FB", 40, True),  # forward balance taken from this payment
        ("CS", 10, True),  # payer-initiated adjustment
        ("72", 120, True),  # authorized return
        ("fb ", 40, True),  # as some payers pad or lowercase it
        ("FB", -40, False),  # a negative amount adds money
        ("L6", 12, False),  # interest owed to the provider
        ("WO", 0, False),
    ],
)
def test_which_plb_adjustments_take_money_back(reason: str, amount: float, expected: bool) -> None:
    assert is_recoupment(reason, amount) is expected


@pytest.mark.parametrize(
    ("paid", "still_denied", "rejection", "patient", "expected"),
    [
        (500, False, False, 0, PayerDecision.PAID),
        (200, True, False, 0, PayerDecision.PARTIALLY_PAID),
        (0, True, False, 0, PayerDecision.UPHELD),
        # No longer denied but nothing paid: moved to the patient, or still nothing owed.
        (0, False, False, 800, PayerDecision.PATIENT_RESPONSIBILITY),
        (0, False, False, 0, PayerDecision.UPHELD),
        # A resubmitted rejection adjudicated: paid, or accepted (its denial is a new case).
        (300, False, True, 0, PayerDecision.PAID),
        (0, True, True, 0, PayerDecision.ACCEPTED),
        (0, False, True, 100, PayerDecision.ACCEPTED),
    ],
)
def test_decision_from_remittance(
    paid: int, still_denied: bool, rejection: bool, patient: int, expected: PayerDecision
) -> None:
    assert (
        decision_from_remittance(
            Decimal(paid), still_denied, answers_rejection=rejection, patient_share=Decimal(patient)
        )
        is expected
    )
