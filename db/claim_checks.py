"""Pre-submission check runs as stored: one row per run (the file's digest, counts, the model
version that scored it) and one per claim checked (its findings as JSON). Imported by db.models
so that its tables are on the one metadata.

A run is keyed by a random id, never by anything of the claims: the id goes in URLs. The claim
rows hold the patient control number (the page lists it) like the rest of the read model holds
claims; it never goes in a log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Numeric, insert
from sqlmodel import Field, Session, SQLModel, col, select

from db.types import UTCDateTime
from domain.claim_checks.findings import ClaimCheckResult, ClaimUnderCheck, Finding


class ClaimCheckRunRow(SQLModel, table=True):
    __tablename__ = "claim_check_runs"
    __table_args__ = (Index("ix_claim_check_runs_checked_at", "checked_at"),)

    run_id: str = Field(primary_key=True, max_length=40)
    file_sha256: str = Field(max_length=64)  # which file, without its name (it may name a patient)
    file_size: int
    source: str = Field(max_length=8)  # cli / api / web
    checked_by: str = Field(max_length=80)
    checked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    submission_date: date
    claims: int
    lines: int
    blocked: int  # claims with a blocking finding
    warned: int  # claims whose worst finding is a warning
    findings: int
    model_version: str | None = Field(default=None, max_length=80)


class ClaimCheckResultRow(SQLModel, table=True):
    __tablename__ = "claim_check_results"
    # A remittance finds the checks of the claim it answers by its number (db.check_outcomes).
    __table_args__ = (Index("ix_claim_check_results_claim", "claim_id"),)

    run_id: str = Field(foreign_key="claim_check_runs.run_id", primary_key=True, max_length=40)
    position: int = Field(primary_key=True)  # the claim's order in the file, from 1
    claim_id: str = Field(max_length=80)
    payer_id: str = Field(max_length=80)
    payer_name: str = Field(max_length=80)
    kind: str = Field(max_length=16)
    line_count: int
    total_charge: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    worst: str = Field(max_length=8)  # block / warn / info / clean
    denial_probability: float | None = None
    findings: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    # The claim as checked (fields and lines), for the risk model once the payer answers it
    # (services.claim_risk.extract); None for a check stored before migration 0030.
    claim: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class CheckedClaim(ClaimCheckResult):
    """A stored result with what the page shows beside it."""

    position: int
    payer_name: str
    kind: str
    total_charge: Decimal


def worst_of(result: ClaimCheckResult) -> str:
    order = ("block", "warn", "info")
    found = {finding.severity.value for finding in result.findings}
    return next((severity for severity in order if severity in found), "clean")


def add_run(session: Session, run: ClaimCheckRunRow) -> None:
    session.add(run)
    session.flush()


def add_results(
    session: Session,
    run_id: str,
    first_position: int,
    results: Sequence[tuple[ClaimCheckResult, ClaimUnderCheck]],
) -> None:
    """Store `results` ((result, the claim as checked) in file order) as positions
    first_position, first_position + 1, ...: one multi-row INSERT per batch."""
    if not results:
        return
    session.execute(
        insert(ClaimCheckResultRow),
        [
            {
                "run_id": run_id,
                "position": first_position + offset,
                "claim_id": result.claim_id[:80],
                "payer_id": result.payer_id[:80],
                "payer_name": claim.payer_name[:80],
                "kind": claim.kind,
                "line_count": result.line_count,
                "total_charge": claim.total_charge,
                "worst": worst_of(result),
                "denial_probability": result.denial_probability,
                "findings": [finding.model_dump(mode="json") for finding in result.findings],
                "claim": claim.model_dump(mode="json"),
            }
            for offset, (result, claim) in enumerate(results)
        ],
    )


def get_run(session: Session, run_id: str) -> ClaimCheckRunRow | None:
    return session.get(ClaimCheckRunRow, run_id)


def recent_runs(session: Session, limit: int = 20) -> list[ClaimCheckRunRow]:
    return list(
        session.exec(
            select(ClaimCheckRunRow).order_by(col(ClaimCheckRunRow.checked_at).desc()).limit(limit)
        ).all()
    )


def run_results(session: Session, run: ClaimCheckRunRow) -> list[CheckedClaim]:
    """Every claim of a run in file order (a run is one file: bounded by the upload limit)."""
    rows = session.exec(
        select(ClaimCheckResultRow)
        .where(col(ClaimCheckResultRow.run_id) == run.run_id)
        .order_by(col(ClaimCheckResultRow.position))
    ).all()
    return [
        CheckedClaim(
            claim_id=row.claim_id,
            payer_id=row.payer_id,
            line_count=row.line_count,
            denial_probability=row.denial_probability,
            model_version=run.model_version if row.denial_probability is not None else None,
            findings=tuple(Finding.model_validate(raw) for raw in row.findings),
            position=row.position,
            payer_name=row.payer_name,
            kind=row.kind,
            total_charge=row.total_charge,
        )
        for row in rows
    ]
