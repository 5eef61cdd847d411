"""Rules for reading remittances: the payer type a claim was filed under, and which provider-
level adjustments (PLB) take back money already paid.

Codes from the X12 835 (005010X221A1) implementation guide: CLP06 claim filing indicator and
PLB03-1 adjustment reason codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.models import Adjustment, GroupCode, PayerType

if TYPE_CHECKING:  # domain.case (deadlines, holidays) is not needed to read a file
    from domain.case import PayerDecision

# CLP06 claim filing indicator -> the payer type whose rules govern the claim.
FILING_INDICATOR_PAYER_TYPES: dict[str, PayerType] = {
    "MA": PayerType.MEDICARE,  # Medicare Part A
    "MB": PayerType.MEDICARE,  # Medicare Part B
    "16": PayerType.MEDICARE_ADVANTAGE,  # HMO Medicare Risk
    "MC": PayerType.MEDICAID,
    "CI": PayerType.COMMERCIAL,  # commercial insurance
    "BL": PayerType.COMMERCIAL,  # Blue Cross / Blue Shield
    "HM": PayerType.COMMERCIAL,  # HMO
    "12": PayerType.COMMERCIAL,  # PPO
    "13": PayerType.COMMERCIAL,  # POS
    "14": PayerType.COMMERCIAL,  # EPO
    "15": PayerType.COMMERCIAL,  # indemnity
    "17": PayerType.COMMERCIAL,  # dental maintenance organisation
    "DS": PayerType.COMMERCIAL,  # disability
    "EB": PayerType.COMMERCIAL,  # employer benefit
}

# PLB03-1 reasons that take back money already paid: overpayment recovery, forward balance
# (a negative balance carried into this payment), payer-initiated adjustments and authorized
# returns (72: the provider agreed to refund).
RECOUPMENT_PLB_REASONS = frozenset({"WO", "FB", "CS", "72"})


def payer_type_for(filing_indicator: str, payer_name: str = "") -> PayerType:
    """The payer type from CLP06, else from the payer's name, else other."""
    known = FILING_INDICATOR_PAYER_TYPES.get(filing_indicator.strip().upper())
    if known is not None:
        return known
    name = payer_name.upper()
    if "MEDICAID" in name:
        return PayerType.MEDICAID
    if "MEDICARE" in name:
        return PayerType.MEDICARE_ADVANTAGE if "ADVANTAGE" in name else PayerType.MEDICARE
    return PayerType.OTHER


def is_recoupment(reason: str, amount_taken: float) -> bool:
    """A PLB adjustment is a recoupment when its reason takes money back (positive amounts
    reduce the payment)."""
    return reason.strip().upper() in RECOUPMENT_PLB_REASONS and amount_taken > 0


def newly_paid(claim_paid_total: Decimal, paid_when_denied: Decimal, recovered: Decimal) -> Decimal:
    """What a later 835 adds to a case: it reports what the claim is paid in all, of which the
    claim had been paid some when denied and the case has recovered some since."""
    return max(claim_paid_total - paid_when_denied - recovered, Decimal(0))


def decision_from_remittance(
    paid_amount: Decimal,
    still_denied: bool,
    answers_rejection: bool = False,
    patient_share: Decimal = Decimal(0),
) -> PayerDecision:
    """How a later 835's report of a claim answers its open case. For a resubmitted
    rejection, an adjudicated denial still means the claim was accepted: the rejection is
    resolved and the denial is a case of its own. A claim no longer denied but paid nothing
    more was not recovered: the balance went to the patient (PR adjustments), or the payer
    still pays nothing, which upholds the denial."""
    from domain.case import PayerDecision

    if answers_rejection:
        paid = paid_amount > 0 and not still_denied
        return PayerDecision.PAID if paid else PayerDecision.ACCEPTED
    if still_denied:
        return PayerDecision.PARTIALLY_PAID if paid_amount > 0 else PayerDecision.UPHELD
    if paid_amount > 0:
        return PayerDecision.PAID
    return PayerDecision.PATIENT_RESPONSIBILITY if patient_share > 0 else PayerDecision.UPHELD


def patient_share(adjustments: Iterable[Adjustment]) -> Decimal:
    """What the payer put on the patient: the PR (patient responsibility) adjustments."""
    return sum((a.amount for a in adjustments if a.group is GroupCode.PR), Decimal(0))
