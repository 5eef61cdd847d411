"""A file ingested a part at a time (IngestService.part_claims) does what it does read whole:
what one part's plan must know of the parts before it is carried across them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db.models import AuditEventRow, CaseRow
from domain.rulebook import Rulebook
from services import ingest_report
from services.ingest import IngestService
from tests.harness import ALICE, CaseHarness
from tests.services.test_ingest import remittance


@pytest.fixture
def service(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> Iterator[IngestService]:
    monkeypatch.setattr(IngestService, "part_claims", 1)  # each claim a part of its own
    with Session(harness.engine, expire_on_commit=False) as session:
        yield harness.ingest_service(session, rulebook)


async def test_claims_sharing_a_number_in_different_parts_are_never_merged(
    harness: CaseHarness, service: IngestService
) -> None:
    """The second claim under a masked CLP07 is told apart from the case the first part
    opened (a case of this file: not yet in the read model, or excluded from it)."""
    today = await harness.today()
    served = today - timedelta(days=20)
    claims = [("PCNP1", 999.99, 0), ("PCNP2", 100, 1), ("PCNP3", 250.5, 2)]
    raw = remittance(
        "\n".join(
            f"CLP*{pcn}*4*{billed}*0**CI*MASKEDP\nCAS*CO*16*{billed}\n"
            f"DTM*232*{served - timedelta(days=offset):%Y%m%d}"
            for pcn, billed, offset in claims
        ),
        paid_on=today - timedelta(days=2),
    )
    report = await service.ingest("masked.835", raw, ALICE)
    assert (report.status, report.cases_started, report.duplicates_skipped) == ("ingested", 3, 0)
    collisions = [w for w in report.warnings if "shares payer claim number MASKEDP" in w["message"]]
    assert len(collisions) == 2
    assert len({case.case_id for case in report.started_cases}) == 3


async def test_the_same_denial_twice_in_one_file_opens_one_case(
    harness: CaseHarness, service: IngestService
) -> None:
    today = await harness.today()
    claim = f"CLP*PCNT2*4*300*0**CI*ICNT2\nCAS*CO*197*300\nDTM*232*{today:%Y%m%d}"
    raw = remittance(f"{claim}\n{claim}", paid_on=today)
    report = await service.ingest("twice.835", raw, ALICE)
    assert (report.claims, report.denials) == (2, 2)
    assert (report.cases_started, report.duplicates_skipped) == (1, 1)


async def test_a_case_the_file_opened_is_not_answered_by_a_later_part(
    harness: CaseHarness, service: IngestService
) -> None:
    """Denied, then paid further on in the same file: read whole, the payment finds no open
    case (the file's own case is not in the read model yet), so read in parts it must not
    either, whether or not the worker has projected the first part's case by then."""
    today = await harness.today()
    served = f"{today - timedelta(days=20):%Y%m%d}"
    denied = f"CLP*PCNT3*4*300*0**CI*ICNT3\nCAS*CO*197*300\nDTM*232*{served}"
    paid = f"CLP*PCNT3*1*300*300**CI*ICNT3\nDTM*232*{served}"
    raw = remittance(f"{denied}\n{paid}", paid_on=today)
    report = await service.ingest("both.835", raw, ALICE)
    assert (report.cases_started, report.payer_responses_matched) == (1, 0)
    with Session(harness.engine) as session:
        assert len(session.exec(select(CaseRow).where(CaseRow.claim_id == "PCNT3")).all()) <= 1


async def test_a_report_names_its_first_cases_and_counts_the_rest(
    harness: CaseHarness, service: IngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file's report lists the first STARTED_LIMIT cases and counts the others; the
    audit entry of the ingest names every case the file started."""
    monkeypatch.setattr(ingest_report, "STARTED_LIMIT", 2)
    today = await harness.today()
    raw = remittance(
        "\n".join(
            f"CLP*PCNL{n}*4*100*0**CI*ICNL{n}\nCAS*CO*16*100\nDTM*232*{today:%Y%m%d}"
            for n in range(3)
        ),
        paid_on=today,
    )
    report = await service.ingest("limit.835", raw, ALICE)
    assert (report.cases_started, len(report.started_cases)) == (3, 2)
    assert report.started_cases_omitted == 1
    with Session(harness.engine) as session:
        filed = select(AuditEventRow).where(AuditEventRow.action == "ingest.file")
        entry = session.exec(filed).one()
    assert len(entry.detail["cases_started"]) == 3
