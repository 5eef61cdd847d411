"""Recording the claims an 835 adjudicated, the denial rate's denominator: each once per payer +
remittance trace (TRN02, the check or EFT trace number) + claim, however many files (another
interchange, other bytes) bring the same remittance again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from db.models import RemittanceClaimRow
from db.upsert import upsert
from domain.kpis import AdjudicationRef, adjudication_ids
from edi.results import AdjudicatedClaim


def adjudicated_rows(sha256: str, claims: Sequence[AdjudicatedClaim]) -> list[dict[str, Any]]:
    """The rows of the claims a file adjudicated, keyed by adjudication_ids."""
    # A reversal takes back an earlier adjudication; it is neither a claim adjudicated nor a
    # denial for the denial rate (its re-adjudication, if any, comes as a claim of its own).
    recorded = [(index, item) for index, item in enumerate(claims) if not item.is_reversal]
    ids = adjudication_ids(
        AdjudicationRef(
            transaction=item.transaction,
            payer_id=item.payer.payer_id,
            trace=item.remittance_trace,
            claim_id=item.claim_id,
            payer_claim_control_number=item.payer_claim_control_number,
            fallback=f"{sha256}:{index}",
        )
        for index, item in recorded
    )
    rows = {
        row_id: {
            "row_id": row_id,
            "file_sha256": sha256,
            "payer_id": item.payer.payer_id,
            "payer_name": item.payer.name,
            "payer_type": item.payer.type.value,
            "claim_id": item.claim_id,
            "payer_claim_control_number": item.payer_claim_control_number,
            "claim_status": item.claim_status,
            "provider_npi": item.provider_npi,
            "billed_amount": item.billed_amount,
            "paid_amount": item.paid_amount,
            "denied_amount": item.classification.denied_amount,
            "is_denial": item.classification.is_denial,
            "category": item.classification.category.value
            if item.classification.is_denial
            else None,
            "service_date": item.service_date,
            "remittance_date": item.remittance_date,
        }
        for row_id, (_, item) in zip(ids, recorded, strict=True)
    }  # a remittance twice in one file: once
    return list(rows.values())


def record_adjudicated(session: Session, sha256: str, claims: Sequence[AdjudicatedClaim]) -> None:
    """Add the file's adjudicated claims; one recorded already (by an earlier file) is kept."""
    table: Table = RemittanceClaimRow.__table__  # type: ignore[attr-defined]
    rows = adjudicated_rows(sha256, claims)
    for start in range(0, len(rows), 1000):
        upsert(session, table, rows[start : start + 1000], ["row_id"], update=False)
    session.commit()
