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

from pydantic import BaseModel

from domain.models import SERVICE_DATE_UNKNOWN, Claim, DenialKind, DenialRecord, Payer

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


# Who supplied what a file left unknown, besides a user (by user id).
CLAIM_RECORD = "claim record"
LATER_FILE = "a later file"


class Identification(BaseModel):
    """What a user or a later file says of a claim whose file left it unknown."""

    payer: Payer | None = None
    service_date_from: date
    service_date_to: date | None = None
    billed_amount: Decimal | None = None
    by: str


def identification_problem(record: DenialRecord, given: Identification, today: date) -> str | None:
    """Why the claim's payer and dates of service cannot be set on the case, or None. What the
    file named is the record; what the claim record, a later file or a user supplied can be
    corrected."""
    if record.identity_from_file:
        return (
            "the file that opened the case named the claim's payer and date of service: they "
            "are not changed by hand"
        )
    by_user = record.identified_by not in ("", CLAIM_RECORD, LATER_FILE)
    if given.by == LATER_FILE and by_user:
        return f"{record.identified_by} set the claim's payer and dates: a later file does not"
    payer_from_file = record.payer_named and not record.identified_by
    if payer_from_file and given.payer and given.payer.payer_id != record.claim.payer.payer_id:
        return f"the file named the payer ({record.claim.payer.payer_id}): it is not changed"
    if not payer_from_file and (given.payer is None or not given.payer.name.strip()):
        return "name the payer the claim was sent to (its id and name)"
    if given.service_date_from > today:
        return f"the first date of service {given.service_date_from.isoformat()} is in the future"
    if given.service_date_to is not None and given.service_date_to < given.service_date_from:
        return "the last date of service is before the first"
    return None


def identified_record(record: DenialRecord, given: Identification) -> DenialRecord:
    """The record with what was given: the payer unless the file named it, the dates of
    service, and the charge when given."""
    payer_from_file = record.payer_named and not record.identified_by
    claim = record.claim.model_copy(
        update={
            "payer": record.claim.payer if payer_from_file or given.payer is None else given.payer,
            "service_date_from": given.service_date_from,
            "service_date_to": given.service_date_to,
            "billed_amount": given.billed_amount or record.claim.billed_amount,
        }
    )
    return record.model_copy(
        update={
            "claim": claim,
            "details": [d for d in record.details if d != SERVICE_DATE_UNKNOWN],
            "identified_by": given.by,
        }
    )
