"""Checked claims the payer answered teach the risk model line by line (issue 18, outcome
feedback): their codes and modifiers reach the training lines with the claim's answer, and
their remittance is not learned a second time at the claim level."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.claim_checks.findings import ClaimCheckResult
from domain.rulebook import Rulebook
from services.claim_risk.extract import stored_history
from tests.db.test_check_outcomes import checked_claim, denied, paid, remit, store_checks

ANSWERED_ON = date(2026, 2, 10)


def test_answered_checks_are_learned_with_their_lines(
    sqlite_engine: Engine, rulebook: Rulebook
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    without_gp, with_gp, never_checked = f"{tag}1", f"{tag}2", f"{tag}3"
    claims = [
        checked_claim(without_gp, "SHP01"),
        checked_claim(with_gp, "SHP01", "97110", ("GP",)),
    ]
    store_checks(
        sqlite_engine,
        datetime(2026, 2, 1, tzinfo=UTC),
        [
            (ClaimCheckResult(claim_id=c.claim_id, payer_id="SHP01", line_count=1), c)
            for c in claims
        ],
    )
    remit(sqlite_engine, rulebook, "SHP01", denied(without_gp), control=21, on=ANSWERED_ON)
    remit(sqlite_engine, rulebook, "SHP01", paid(with_gp), control=22, on=ANSWERED_ON)
    remit(sqlite_engine, rulebook, "SHP01", paid(never_checked), control=23, on=ANSWERED_ON)

    with Session(sqlite_engine) as session:
        lines = list(stored_history(session, date(2020, 1, 1)))
    learned = sorted(
        (line.procedure_code, line.modifiers, line.diagnosis, line.denied) for line in lines
    )
    # The two checked claims line by line; the unchecked one as a claim-level line (no code).
    assert learned == [
        ("", (), "", False),
        ("97110", (), "M54.5", True),
        ("97110", ("GP",), "M54.5", False),
    ]
