"""What an ingest counts: a remittance sent again in another file adds nothing to the denial
rate, and an ingest's summary counts the claims of the files it ingested only."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from db.analytics import claims_by_payer_month
from domain.rulebook import Rulebook
from services.ingest_report import FileReport, IngestSummary
from testkit.x12 import Claim835, Envelope, Line835, Remittance835, build_file
from tests.harness import ALICE, CaseHarness


async def test_a_remittance_sent_again_counts_once_in_the_denial_rate(
    harness: CaseHarness, rulebook: Rulebook
) -> None:
    """The same remittance (trace, payer, claims) in a second interchange: other bytes, so
    another file, but its three denials are still 3 of 3 adjudicated, not 6 of 6."""
    today = await harness.today()
    lines = [Line835(billed=500, paid=0, cas=[("CO", "50", 500)], service_date=today)]
    sent = Remittance835(
        claims=[Claim835(f"PCN{n}", status="4", lines=lines) for n in range(3)],
        payer_id="RESENT",
        payment_date=today,
        production_date=today,
    )
    with Session(harness.engine, expire_on_commit=False) as session:
        service = harness.ingest_service(session, rulebook)
        first = await service.ingest("a.835", build_file(sent), ALICE)
        again = await service.ingest(
            "b.835", build_file(sent, envelope=Envelope(first_control_number=2)), ALICE
        )
        assert first.sha256 != again.sha256
        assert (first.status, first.cases_started) == ("ingested", 3)
        assert (again.status, again.cases_started, again.duplicates_skipped) == ("ingested", 0, 3)
        facts = claims_by_payer_month(session, today - timedelta(days=1), today)
    assert [(fact.payer_id, fact.is_denial, fact.count) for fact in facts] == [("RESENT", True, 3)]


def report(status: str, claims: int, denials: int, **done: int) -> FileReport:
    return FileReport(
        file=f"{status}.835",
        sha256=status,
        status=status,
        claims=claims,
        denials=denials,
        rejections=1,
        reversals=1,
        errors=[{"message": "x"}] if status in ("failed", "incomplete") else [],
        **done,
    )


def test_a_summary_counts_the_claims_of_the_files_ingested_only() -> None:
    """A failed file started nothing and a duplicate was counted when first ingested: their
    claims, denials, rejections and reversals are not the ingest's. What was done (a case
    started before Temporal went away, duplicates skipped) counts wherever it was done; files
    and errors count every file."""
    summary = IngestSummary.of(
        [
            report("ingested", 10, 2, cases_started=2),
            report("failed", 7, 7),
            report("duplicate", 10, 2, duplicates_skipped=4),
            report("incomplete", 5, 3, cases_started=1, payer_responses_matched=1),
        ]
    )
    assert (summary.claims, summary.denials, summary.rejections, summary.reversals) == (
        10,
        2,
        1,
        1,
    )
    assert (summary.cases_started, summary.duplicates_skipped) == (3, 4)
    assert summary.payer_responses_matched == 1
    assert (summary.files, summary.errors, len(summary.reports)) == (4, 2, 4)
