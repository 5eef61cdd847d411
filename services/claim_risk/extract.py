"""The history the product has stored, as lines the risk model learns from.

What is stored (README, "Learned risk"):
- A claim checked before it went out whose 835 has since answered (db.check_outcomes) is kept
  as it was checked, lines and all: codes, modifiers, units, diagnoses, place of service,
  rendering provider, prior authorization. Each of its lines is learned with the claim's
  answer (the outcome is the claim's: a denied claim's lines all count as denied).
- Every other claim an 835 adjudicated, denied or not, is a row of `remittance_claims` (payer,
  billing provider NPI, billed amount, denied or not, service date) without its service lines;
  a denied claim's lines are kept only in its case. Learning codes and modifiers from denied
  claims alone would teach the model that a known code means a denial, so these are read at
  the claim level for every claim alike: payer, provider and charge, with the case's CARC on
  a denial.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

from sqlmodel import Session, col, func, select

from db.check_outcomes import ClaimCheckOutcomeRow
from db.claim_checks import ClaimCheckResultRow
from db.models import CaseRow, RemittanceClaimRow
from domain.claim_checks.findings import ClaimUnderCheck
from services.claim_risk.history import HistoryLine, lines_of

BATCH = 5_000


def answered_checks(session: Session, since: date) -> tuple[list[HistoryLine], set[str]]:
    """The lines of checked claims served since `since` that an 835 answered, each with the
    claim's answer, and the remittance rows those answers came from."""
    lines: list[HistoryLine] = []
    answered_by: set[str] = set()
    rows = session.exec(
        select(
            ClaimCheckResultRow.run_id,
            ClaimCheckResultRow.position,
            ClaimCheckResultRow.claim,
            ClaimCheckOutcomeRow.denied,
            ClaimCheckOutcomeRow.remittance_row_id,
        )
        .join(
            ClaimCheckOutcomeRow,
            (col(ClaimCheckOutcomeRow.run_id) == ClaimCheckResultRow.run_id)
            & (col(ClaimCheckOutcomeRow.position) == ClaimCheckResultRow.position),
        )
        .where(col(ClaimCheckResultRow.claim).is_not(None))
        .execution_options(yield_per=BATCH)
    )
    for run_id, position, stored, denied, remittance_row_id in rows:
        claim = ClaimUnderCheck.model_validate(stored)
        if claim.service_date_from is not None and claim.service_date_from < since:
            continue
        answered_by.add(remittance_row_id)
        key = f"check|{run_id}|{position}"
        lines += [
            dataclasses.replace(line, claim_key=key, denied=bool(denied))
            for line in lines_of(claim)
        ]
    return lines, answered_by


def stored_history(session: Session, since: date) -> Iterator[HistoryLine]:
    """Every adjudicated claim served since `since`: a checked claim the 835 answered line by
    line, any other as one claim-level line."""
    checked, answered_by = answered_checks(session, since)
    yield from checked
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
            RemittanceClaimRow.row_id,
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
    for row_id, claim_id, payer_id, payer_name, npi, billed, denied, served in rows:
        if row_id in answered_by:
            continue  # learned above, with its lines
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
