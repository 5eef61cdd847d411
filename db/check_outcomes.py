"""What became of checked claims: when an 835 adjudicates a claim the product checked before it
went out, the payer's first answer (denied or not) is recorded beside the check's prediction,
so the dashboard can set predicted against actual and count what the edits caught.

The claim a remittance answers is found by its patient control number (CLP01 = CLM01): the
latest check of that number made on or before the remittance's date, of the same payer. A
check of another payer counts only when it is the one check of that number (837 and 835 payer
ids differ between clearinghouses); several of other payers are ambiguous and left unmatched,
counted for the caller to report, never guessed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import Column, ForeignKeyConstraint, Index, insert
from sqlmodel import Field, Session, SQLModel, col, select

from db.claim_checks import ClaimCheckResultRow, ClaimCheckRunRow
from db.types import UTCDateTime
from domain.prevention_loop import Answered

_IN_LIST = 500  # claim numbers per lookup: well under every database's parameter limit


class ClaimCheckOutcomeRow(SQLModel, table=True):
    __tablename__ = "claim_check_outcomes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "position"],
            ["claim_check_results.run_id", "claim_check_results.position"],
        ),
        Index("ix_claim_check_outcomes_recorded_at", "recorded_at"),
    )

    run_id: str = Field(primary_key=True, max_length=40)
    position: int = Field(primary_key=True)
    denied: bool  # the first 835's answer: a denial (classification) or not
    category: str | None = Field(default=None, max_length=40)  # the denial's category
    payer_matched: bool  # False: matched by claim number alone (the one check of it)
    adjudicated_on: date | None = None  # the remittance's date, when the 835 gave one
    remittance_row_id: str = Field(max_length=80)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


@dataclass(frozen=True)
class _Check:
    run_id: str
    position: int
    claim_id: str
    payer_id: str
    checked_at: datetime

    @property
    def checked_on(self) -> date:
        return self.checked_at.date()


@dataclass(frozen=True)
class OutcomesRecorded:
    recorded: int
    ambiguous: int  # remittances naming a claim number checked for several other payers


def _open_checks(session: Session, claim_ids: Sequence[str]) -> dict[str, list[_Check]]:
    """Checks of these claim numbers made after the last one a remittance answered, oldest
    first: once a claim is answered, the checks before that answer are settled too."""
    found: dict[str, list[_Check]] = {}
    ids = iter(sorted(set(claim_ids)))
    while chunk := list(islice(ids, _IN_LIST)):
        rows = session.exec(
            select(
                ClaimCheckResultRow.run_id,
                ClaimCheckResultRow.position,
                ClaimCheckResultRow.claim_id,
                ClaimCheckResultRow.payer_id,
                ClaimCheckRunRow.checked_at,
                ClaimCheckOutcomeRow.run_id,
            )
            .join(ClaimCheckRunRow, col(ClaimCheckRunRow.run_id) == ClaimCheckResultRow.run_id)
            .outerjoin(
                ClaimCheckOutcomeRow,
                (col(ClaimCheckOutcomeRow.run_id) == ClaimCheckResultRow.run_id)
                & (col(ClaimCheckOutcomeRow.position) == ClaimCheckResultRow.position),
            )
            .where(col(ClaimCheckResultRow.claim_id).in_(chunk))
            .order_by(col(ClaimCheckRunRow.checked_at), col(ClaimCheckResultRow.position))
        ).all()
        for run_id, position, claim_id, payer_id, checked_at, answered in rows:
            if answered is not None:
                found[claim_id] = []  # everything checked up to this answer is settled
                continue
            check = _Check(run_id, position, claim_id, payer_id, checked_at)
            found.setdefault(claim_id, []).append(check)
    return {claim_id: checks for claim_id, checks in found.items() if checks}


class _Match(NamedTuple):
    check: _Check | None  # None: no check before the remittance, or several of other payers
    payer_matched: bool
    ambiguous: bool  # no check of this payer, and checks of several others


def _answered(checks: list[_Check], payer_id: str, on: date | None) -> _Match:
    """The check a remittance of `payer_id` dated `on` answers."""
    before = [check for check in checks if on is None or check.checked_on <= on]
    same_payer = [check for check in before if check.payer_id == payer_id]
    if same_payer:
        return _Match(same_payer[-1], True, False)
    others = {check.payer_id for check in before}
    if len(others) == 1:
        return _Match(before[-1], False, False)
    return _Match(None, False, len(others) > 1)


def record_check_outcomes(
    session: Session, adjudicated: Sequence[Mapping[str, Any]]
) -> OutcomesRecorded:
    """Record the outcome of each checked claim these remittance rows (db.remittance_claims'
    row dicts) answer for the first time; a claim answered before keeps its first outcome."""
    checks = _open_checks(session, [row["claim_id"] for row in adjudicated])
    if not checks:
        return OutcomesRecorded(0, 0)
    now = datetime.now(UTC)
    outcomes: list[dict[str, Any]] = []
    ambiguous = 0
    for row in adjudicated:
        candidates = checks.get(row["claim_id"])
        if not candidates:
            continue
        check, payer_matched, unclear = _answered(
            candidates, row["payer_id"], row["remittance_date"]
        )
        if check is None:
            ambiguous += unclear
            continue
        # Settled: this check and the ones before it; a later check stays open.
        checks[row["claim_id"]] = [c for c in candidates if c.checked_at > check.checked_at]
        outcomes.append(
            {
                "run_id": check.run_id,
                "position": check.position,
                "denied": bool(row["is_denial"]),
                "category": row["category"],
                "payer_matched": payer_matched,
                "adjudicated_on": row["remittance_date"],
                "remittance_row_id": row["row_id"],
                "recorded_at": now,
            }
        )
    if outcomes:
        session.execute(insert(ClaimCheckOutcomeRow), outcomes)
    return OutcomesRecorded(len(outcomes), ambiguous)


def _edit_severity(findings: Sequence[Mapping[str, Any]]) -> str | None:
    """The worst severity among a claim's prevention-edit findings (None: no edit fired)."""
    found = {f.get("severity") for f in findings if f.get("kind") == "prevention_edit"}
    return next((severity for severity in ("block", "warn") if severity in found), None)


def answered_between(session: Session, start: datetime, end: datetime) -> list[Answered]:
    """The checked claims whose answer was recorded in [start, end)."""
    rows = session.exec(
        select(
            ClaimCheckResultRow.denial_probability,
            ClaimCheckOutcomeRow.denied,
            ClaimCheckResultRow.worst,
            ClaimCheckResultRow.findings,
        )
        .join(
            ClaimCheckResultRow,
            (col(ClaimCheckResultRow.run_id) == ClaimCheckOutcomeRow.run_id)
            & (col(ClaimCheckResultRow.position) == ClaimCheckOutcomeRow.position),
        )
        .where(
            col(ClaimCheckOutcomeRow.recorded_at) >= start,
            col(ClaimCheckOutcomeRow.recorded_at) < end,
        )
    ).all()
    return [
        Answered(
            probability=probability,
            denied=denied,
            flagged_by_edit=worst in ("block", "warn") and _edit_severity(findings) is not None,
        )
        for probability, denied, worst, findings in rows
    ]


def edit_flags_between(session: Session, start: datetime, end: datetime) -> tuple[int, int]:
    """(blocked, warned): claims checked in [start, end) that a prevention edit blocked, or
    warned about without blocking."""
    rows = session.exec(
        select(ClaimCheckResultRow.findings)
        .join(ClaimCheckRunRow, col(ClaimCheckRunRow.run_id) == ClaimCheckResultRow.run_id)
        .where(
            col(ClaimCheckRunRow.checked_at) >= start,
            col(ClaimCheckRunRow.checked_at) < end,
            col(ClaimCheckResultRow.worst).in_(["block", "warn"]),
        )
    ).all()
    severities = [_edit_severity(findings) for findings in rows]
    return severities.count("block"), severities.count("warn")
