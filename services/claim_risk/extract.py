"""The history the product has stored, as lines the risk model learns from.

What is stored today (README, "Learned risk"): every claim an 835 adjudicated, denied or not,
is a row of `remittance_claims` (payer, billing provider NPI, billed amount, denied or not,
service date) but without its service lines; a denied claim's lines (codes, modifiers, units,
CARCs) are kept only in its case. Learning codes and modifiers from denied claims alone would
teach the model that a known code means a denial, so the stored history is read at the claim
level for every claim alike: payer, provider and charge, with the case's CARC on a denial.
Line detail comes once paid claims' 835 service lines, or checked claims' outcomes, are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlmodel import Session, col, func, select

from db.models import CaseRow, RemittanceClaimRow
from services.claim_risk.history import HistoryLine

BATCH = 5_000


def stored_history(session: Session, since: date) -> Iterator[HistoryLine]:
    """One line per adjudicated claim served since `since` (a claim-level record)."""
    carcs = {
        (claim_id, payer_id): carc
        for claim_id, payer_id, carc in session.exec(
            select(CaseRow.claim_id, CaseRow.payer_id, CaseRow.carc).where(
                col(CaseRow.service_date_from) >= since
            )
        )
    }
    rows = session.exec(
        select(
            RemittanceClaimRow.claim_id,
            RemittanceClaimRow.payer_id,
            RemittanceClaimRow.payer_name,
            RemittanceClaimRow.provider_npi,
            RemittanceClaimRow.billed_amount,
            RemittanceClaimRow.is_denial,
            RemittanceClaimRow.service_date,
        )
        .where(col(RemittanceClaimRow.service_date) >= since)
        .execution_options(yield_per=BATCH)
    )
    for claim_id, payer_id, payer_name, npi, billed, denied, served in rows:
        yield HistoryLine(
            claim_key=f"{payer_id}|{claim_id}",
            service_date=served,
            payer_id=payer_id,
            payer_name=payer_name,
            procedure_code="",
            rendering_npi=npi,
            charge=float(billed),
            denied=bool(denied),
            carc=carcs.get((claim_id, payer_id), "") if denied else "",  # "CO-197"
        )


def stored_history_size(session: Session, since: date) -> int:
    """How many adjudicated claims served since `since` a retraining would learn from."""
    return session.exec(
        select(func.count())
        .select_from(RemittanceClaimRow)
        .where(col(RemittanceClaimRow.service_date) >= since)
    ).one()
