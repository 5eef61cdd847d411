"""A checked claim's first 835 answer is recorded beside its check (issue 18, outcome
feedback), on SQLite and PostgreSQL, through the path an ingest takes (db.remittance_claims):
the latest check made before the remittance is answered, once; a remittance sent twice or a
later one changes nothing; several checks of other payers are ambiguous and left alone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.check_outcomes import ClaimCheckOutcomeRow
from db.claim_checks import ClaimCheckRunRow, add_results, add_run
from domain.claim_checks.findings import ClaimCheckResult, ClaimUnderCheck, LineUnderCheck
from domain.rulebook import Rulebook
from testkit.x12 import Claim835, Envelope, Line835, Remittance835, build_file
from tests.db.test_remittance_claims import record

PAID_ON = date(2026, 3, 2)


def checked_claim(
    claim_id: str, payer_id: str, code: str = "97110", modifiers: tuple[str, ...] = ()
) -> ClaimUnderCheck:
    line = LineUnderCheck(
        line_number=1,
        procedure_code=code,
        modifiers=modifiers,
        charge=Decimal(500),
        service_date=date(2026, 1, 20),
        diagnosis_codes=("M54.5",),
    )
    return ClaimUnderCheck(
        claim_id=claim_id,
        payer_id=payer_id,
        payer_name="PLAN",
        diagnosis_codes=("M54.5",),
        total_charge=Decimal(500),
        service_date_from=date(2026, 1, 20),
        service_date_to=date(2026, 1, 20),
        lines=(line,),
    )


def store_checks(
    engine: Engine, at: datetime, results: list[tuple[ClaimCheckResult, ClaimUnderCheck]]
) -> str:
    """Store a check run made at `at` of these (result, claim as checked); its run id."""
    run_id = uuid.uuid4().hex
    with Session(engine) as session:
        add_run(
            session,
            ClaimCheckRunRow(
                run_id=run_id,
                file_sha256="0" * 64,
                file_size=100,
                source="cli",
                checked_by="test",
                checked_at=at,
                submission_date=at.date(),
                claims=len(results),
                lines=len(results),
                blocked=0,
                warned=0,
                findings=0,
            ),
        )
        add_results(session, run_id, 1, results)
        session.commit()
    return run_id


def check(engine: Engine, claim_id: str, payer_id: str, at: datetime, probability: float) -> str:
    """Store a one-claim check run made at `at`; its run id."""
    result = ClaimCheckResult(
        claim_id=claim_id, payer_id=payer_id, line_count=1, denial_probability=probability
    )
    return store_checks(engine, at, [(result, checked_claim(claim_id, payer_id))])


def remit(
    engine: Engine,
    rulebook: Rulebook,
    payer_id: str,
    claim: Claim835,
    control: int = 1,
    on: date = PAID_ON,
) -> None:
    """Record the adjudicated claims of a one-claim 835 from `payer_id`, dated `on`."""
    sent = Remittance835(
        claims=[claim],
        payer_id=payer_id,
        trace_number=f"EFT{control}",
        payment_date=on,
        production_date=on,
    )
    record(engine, rulebook, build_file(sent, envelope=Envelope(first_control_number=control)))


def denied(claim_id: str) -> Claim835:
    return Claim835(
        claim_id, status="4", lines=[Line835(billed=500, paid=0, cas=[("CO", "50", 500)])]
    )


def paid(claim_id: str) -> Claim835:
    return Claim835(claim_id, status="1", lines=[Line835(billed=500, paid=500)])


def outcomes(engine: Engine, *run_ids: str) -> dict[str, tuple[bool, bool]]:
    """run id -> (denied, payer matched) for the runs that have an outcome."""
    with Session(engine) as session:
        rows = session.exec(
            select(ClaimCheckOutcomeRow).where(col(ClaimCheckOutcomeRow.run_id).in_(run_ids))
        ).all()
    return {row.run_id: (row.denied, row.payer_matched) for row in rows}


def test_the_latest_check_before_the_answer_gets_it_once(
    engine: Engine, rulebook: Rulebook
) -> None:
    claim, payer = f"C{uuid.uuid4().hex[:10]}", f"P{uuid.uuid4().hex[:8]}"
    first = check(engine, claim, payer, datetime(2026, 2, 1, 9, tzinfo=UTC), 0.2)
    second = check(engine, claim, payer, datetime(2026, 2, 1, 15, tzinfo=UTC), 0.7)
    after = check(engine, claim, payer, datetime(2026, 3, 5, tzinfo=UTC), 0.1)

    remit(engine, rulebook, payer, denied(claim))
    assert outcomes(engine, first, second, after) == {second: (True, True)}

    remit(engine, rulebook, payer, denied(claim), control=7)  # the same remittance again
    remit(engine, rulebook, payer, paid(claim), control=9)  # and a later answer
    # The earlier check was settled by the first answer; the check made after it (a
    # resubmission checked on 5 March) is not answered by remittances dated 2 March.
    assert outcomes(engine, first, second, after) == {second: (True, True)}


def test_a_paid_claim_checked_for_another_payer_id_matches_alone(
    engine: Engine, rulebook: Rulebook
) -> None:
    claim = f"C{uuid.uuid4().hex[:10]}"
    run = check(engine, claim, "CLEARINGHOUSE-ID", datetime(2026, 2, 1, tzinfo=UTC), 0.05)
    remit(engine, rulebook, f"P{uuid.uuid4().hex[:8]}", paid(claim))
    assert outcomes(engine, run) == {run: (False, False)}


def test_checks_of_several_other_payers_are_left_unmatched(
    engine: Engine, rulebook: Rulebook
) -> None:
    claim = f"C{uuid.uuid4().hex[:10]}"
    primary = check(engine, claim, "PAYER-A", datetime(2026, 2, 1, tzinfo=UTC), 0.3)
    secondary = check(engine, claim, "PAYER-B", datetime(2026, 2, 2, tzinfo=UTC), 0.3)
    remit(engine, rulebook, f"P{uuid.uuid4().hex[:8]}", denied(claim))
    assert outcomes(engine, primary, secondary) == {}
