"""Deterministic case ids that carry no PHI.

The id hashes the payer id, the claim number and the denial sequence, so the same denial always
maps to the same workflow (starting it twice is a no-op) while the id itself reveals nothing
about the patient or the account.
"""

import hashlib

from domain.models import DenialKind, DenialRecord


def case_id_for(record: DenialRecord) -> str:
    claim = record.claim
    if record.kind is DenialKind.DENIAL and claim.payer_claim_control_number:
        number = f"icn:{claim.payer_claim_control_number}"
    else:  # rejections never got a payer claim number
        number = f"pcn:{claim.claim_id}"
    material = f"{record.kind.value}|{claim.payer.payer_id}|{number}|{record.sequence}"
    return "case-" + hashlib.sha256(material.encode()).hexdigest()[:24]
