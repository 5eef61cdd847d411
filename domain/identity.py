"""Deterministic case ids that carry no PHI.

The id hashes the payer id, the claim number and the denial sequence (and, for money taken
back, the remittance date), so the same denial always maps to the same workflow (starting it
twice is a no-op) while the id itself reveals nothing about the patient or the account.

A case is one claim: payer + claim number (CLP07, else CLP01) names it, unless the payer reported
another claim under the same number (de-identified files mask CLP07 to one value). Then the
claim's fingerprint (CLP01, first service date, charge) tells them apart: the ingest detects the
collision, reports it, and the later claim's id includes its fingerprint.
"""

import hashlib
from datetime import date
from decimal import Decimal

from domain.models import Claim, DenialKind, DenialRecord

# Kinds that take money back on one remittance: each remittance's is an event of its own (an
# overpayment recouped in installments repeats its reference), even while an earlier is open.
EACH_REMITTANCE_COUNTS = frozenset({DenialKind.REVERSAL, DenialKind.RECOUPMENT})


def case_id_for(record: DenialRecord) -> str:
    claim = record.claim
    if record.kind is not DenialKind.REJECTION and claim.payer_claim_control_number:
        number = f"icn:{claim.payer_claim_control_number}"
    else:  # rejections never got a payer claim number; recoupments have their reference
        number = f"pcn:{claim.claim_id}"
    material = f"{record.kind.value}|{claim.payer.payer_id}|{number}|{record.sequence}"
    if record.distinguisher:
        material += f"|claim:{record.distinguisher}"
    if record.kind in EACH_REMITTANCE_COUNTS and claim.remittance_date is not None:
        # The remittance date keeps installments apart even before the read model shows the
        # earlier one (files ingested back to back); one re-sent keeps its id.
        material += f"|{claim.remittance_date.isoformat()}"
    return "case-" + hashlib.sha256(material.encode()).hexdigest()[:24]


def claim_fingerprint(claim_id: str, service_date: date, billed: Decimal) -> str:
    """What tells two claims reported under one payer claim number apart."""
    return f"{claim_id}|{service_date.isoformat()}|{billed:.2f}"


def fingerprint_of(claim: Claim) -> str:
    return claim_fingerprint(claim.claim_id, claim.service_date_from, claim.billed_amount)


def denial_sequence(
    existing: list[tuple[int, bool, date | None]], remittance_date: date | None, kind: DenialKind
) -> int | None:
    """The sequence for a denial of a claim that already has cases, or None when it repeats one.

    `existing` lists (sequence, still open, remittance date) of the claim's cases of the same
    kind. An open denial or rejection case already covers the claim; the same remittance date
    means the same event sent again; otherwise the claim was denied anew after its earlier cases
    closed, or had money taken back again.
    """
    if not existing:
        return 1
    if kind not in EACH_REMITTANCE_COUNTS and any(is_open for _, is_open, _ in existing):
        return None
    if remittance_date is not None and any(seen == remittance_date for *_, seen in existing):
        return None
    return max(sequence for sequence, *_ in existing) + 1


def identification_problem(
    record: DenialRecord, payer_name: str, today: date, served_from: date, served_to: date | None
) -> str | None:
    """Why a biller cannot set the claim's payer and dates of service on the case, or None.
    Only what the file left unknown is set: a file that named them is the record."""
    if record.payer_named and record.service_date_known:
        return (
            "the claim's payer and date of service are known (named by its file, or set on the "
            "case already): they are not changed here"
        )
    if not payer_name.strip():
        return "name the payer the claim was sent to"
    if served_from > today:
        return f"service_date_from {served_from.isoformat()} is in the future"
    if served_to is not None and served_to < served_from:
        return "service_date_to is before service_date_from"
    return None
