"""Recording the claims an 835 adjudicated, the denial rate's denominator: each once per payer +
remittance trace (TRN02, the check or EFT trace number) + claim, however many files (another
interchange, other bytes) bring the same remittance again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from db.models import RemittanceClaimRow
from db.upsert import upsert
from domain.kpis import AdjudicationRef, adjudication_ids
from edi.results import AdjudicatedClaim


def adjudicated_rows(sha256: str, claims: Sequence[AdjudicatedClaim]) -> list[dict[str, Any]]:
    """The rows of the claims a file adjudicated, keyed by adjudication_ids."""
    return list(_unique_rows(sha256, claims))


def _unique_rows(sha256: str, claims: Sequence[AdjudicatedClaim]) -> Iterator[dict[str, Any]]:
    """One row per adjudication id, the first of a remittance found twice in one file, made
    as they are written: a large remittance's rows all at once would be hundreds of MB."""
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
    seen: set[str] = set()
    for row_id, (_, item) in zip(ids, recorded, strict=True):
        if row_id in seen:  # a remittance twice in one file: once
            continue
        seen.add(row_id)
        yield {
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


def record_adjudicated(session: Session, sha256: str, claims: Sequence[AdjudicatedClaim]) -> None:
    """Add the file's adjudicated claims; one recorded already (by an earlier file) is kept."""
    table: Table = RemittanceClaimRow.__table__  # type: ignore[attr-defined]
    rows = _unique_rows(sha256, claims)
    while batch := list(islice(rows, 1000)):
        upsert(session, table, batch, ["row_id"], update=False)
    session.commit()
