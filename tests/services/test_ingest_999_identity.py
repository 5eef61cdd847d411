"""A 999 names no payer (only its sender) and no date of service: its rejection takes them from
the claim record, or waits for the biller, and later answers still find it by claim."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from db.models import CaseRow
from domain.case import CaseOutcome, CaseStatus, TaskType
from domain.deadlines import DeadlineKind
from domain.models import Payer, PayerType
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.errors import Invalid
from services.ingest import IngestService
from testkit.x12 import (
    Claim277,
    ClaimAck277,
    Envelope,
    build_file,
)
from tests.harness import ALICE, CaseHarness
from tests.ingest_helpers import (
    PAYER_ID,
    denied_claim,
    paid_claim,
    rejecting_999,
    remittance_file,
    wait_row,
)
from workflows.messages import ConfirmRootCause, ConfirmTriage, CorrectedClaimSubmitted

OTHER_TIMELY_FILING_DAYS = 90  # payer rule "other"


@pytest.fixture
def cases(harness: CaseHarness, rulebook: Rulebook) -> Iterator[tuple[IngestService, CaseService]]:
    with Session(harness.engine, expire_on_commit=False) as session:
        audit = AuditService(session)
        case_service = CaseService(
            session, harness.client, rulebook, harness.policy, harness.task_queue, audit
        )
        yield IngestService(session, case_service, rulebook, audit), case_service


async def only_rejection(harness: CaseHarness) -> str:
    """The id of the one rejection case, once the read model shows it."""
    for _ in range(300):
        with Session(harness.engine) as session:
            rows = session.exec(select(CaseRow).where(CaseRow.kind == "rejection")).all()
        if rows:
            (row,) = rows
            return row.case_id
        await asyncio.sleep(0.05)
    raise AssertionError("no rejection case in the read model")


async def test_999_rejection_takes_payer_and_service_date_from_the_claim_record(
    harness: CaseHarness, cases: tuple[IngestService, CaseService]
) -> None:
    """Claim C9 was denied on SHP01's 835 (served 60 days ago); the 999 rejecting its
    resubmission opens a rejection case for SHP01 whose timely filing runs from the date of
    service, not from the 999's date."""
    ingest, _ = cases
    today = await harness.today()
    served = today - timedelta(days=60)
    denied = remittance_file(today - timedelta(days=30), denied_claim("C9", "16", 640, served))
    assert (await ingest.ingest("denied.835", denied, ALICE)).cases_started == 1
    report = await ingest.ingest("rejected.999", rejecting_999(today, "C9", control=5), ALICE)
    assert (report.rejections, report.cases_started) == (1, 1)
    case_id = await only_rejection(harness)
    state = await harness.wait_status(
        harness.client.get_workflow_handle(case_id), CaseStatus.TRIAGED
    )
    claim = state.record.claim
    assert (claim.payer.payer_id, claim.service_date_from) == (PAYER_ID, served)
    assert any("date of service and charge taken from its" in d for d in state.record.details)
    timely = state.deadline(DeadlineKind.TIMELY_FILING.value)
    assert timely is not None and timely.due < today + timedelta(days=OTHER_TIMELY_FILING_DAYS)


async def test_999_rejection_of_an_unknown_claim_is_found_by_later_answers(
    harness: CaseHarness, cases: tuple[IngestService, CaseService]
) -> None:
    """No record of claim C8: the 999's case keeps the sender and says so. A 277CA from the
    payer rejecting the same claim opens no second case; once resubmitted, the payer's 835
    paying C8 closes the case."""
    ingest, _ = cases
    today = await harness.today()
    served = today - timedelta(days=10)
    report = await ingest.ingest("rejected.999", rejecting_999(today, "C8", control=5), ALICE)
    assert report.cases_started == 1
    assert any("set them on the case" in w["message"] for w in report.warnings)
    case_id = await only_rejection(harness)
    handle = harness.client.get_workflow_handle(case_id)
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    await wait_row(harness, case_id, lambda r: r.status == "triaged")

    ack = build_file(
        ClaimAck277(
            claims=[Claim277("C8", category="A7", status="21", amount=640, service_from=served)],
            created=today,
            reference="BATCH0009",
        ),
        envelope=Envelope(created=today, first_control_number=9),
    )
    again = await ingest.ingest("rejected.277", ack, ALICE)
    assert (again.cases_started, again.duplicates_skipped) == (0, 1)
    assert any("already has an open rejection case" in w["message"] for w in again.warnings)
    # The 277CA names the payer and the date of service: the 999's case takes them.
    identified = await harness.wait_for(
        handle, lambda state: state.record.claim.payer.payer_id == PAYER_ID
    )
    assert (identified.record.claim.service_date_from, identified.record.identified_by) == (
        served,
        "a later file",
    )

    await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
    await harness.complete(
        handle,
        TaskType.PREPARE_CORRECTED_CLAIM,
        CorrectedClaimSubmitted(corrections="fixed CLM02", submitted_on=today),
    )
    await wait_row(harness, case_id, lambda r: r.status == "awaiting_payer")
    paid = remittance_file(today, paid_claim("C8", 640, served), control=11)
    assert (await ingest.ingest("paid.835", paid, ALICE)).payer_responses_matched == 1
    state = await harness.wait_status(handle, CaseStatus.CLOSED)
    assert state.outcome is CaseOutcome.RECOVERED


async def test_the_biller_sets_what_the_999_left_unknown(
    harness: CaseHarness, cases: tuple[IngestService, CaseService]
) -> None:
    """The biller names the payer and the date of service: deadlines are counted from them;
    what a user set can be corrected (a typo), a date of service in the future is refused."""
    ingest, case_service = cases
    today = await harness.today()
    await ingest.ingest("rejected.999", rejecting_999(today, "C7", control=5), ALICE)
    case_id = await only_rejection(harness)
    handle = harness.client.get_workflow_handle(case_id)
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    await wait_row(harness, case_id, lambda r: r.status == "triaged")
    served = today - timedelta(days=60)
    payer = Payer(payer_id="60054", name="AETNA", type=PayerType.COMMERCIAL)
    change = await case_service.identify_claim(case_id, payer, (served, None), None, ALICE)
    assert "claim_identified" in change.changes
    state = await harness.state(handle)
    assert (state.record.claim.payer, state.record.service_date_known) == (payer, True)
    timely = state.deadline(DeadlineKind.TIMELY_FILING.value)
    assert timely is not None and str(served) in timely.basis
    row = await wait_row(harness, case_id, lambda r: r.payer_id == "60054")
    assert row.payer_name == "AETNA"
    with pytest.raises(Invalid, match="is in the future"):
        await case_service.identify_claim(
            case_id, payer, (today + timedelta(days=1), None), None, ALICE
        )
    corrected = Payer(payer_id="60055", name="AETNA BETTER HEALTH", type=PayerType.MEDICAID)
    await case_service.identify_claim(case_id, corrected, (served, None), None, ALICE)
    state = await harness.state(handle)
    assert (state.record.claim.payer, state.record.identified_by) == (corrected, "alice")


async def test_a_rejection_sent_again_without_its_date_of_service_is_the_same_case(
    harness: CaseHarness, cases: tuple[IngestService, CaseService]
) -> None:
    """A 277CA rejection with no DTP*472 (its date stands in) sent again three days later, in
    a new batch: the same claim id is the same claim, not a collision and not a second case."""
    ingest, _ = cases
    today = await harness.today()

    def without_service_date(created: date, control: int) -> bytes:
        raw = build_file(
            ClaimAck277(
                claims=[Claim277("C6", category="A7", status="21", amount=300)],
                created=created,
                reference=f"BATCH{control:04d}",
            ),
            envelope=Envelope(created=created, first_control_number=control),
        )
        return re.sub(rb"DTP\*472\*D8\*\d{8}~\n?", b"", raw)

    first = await ingest.ingest("a.277", without_service_date(today - timedelta(days=3), 21), ALICE)
    assert first.cases_started == 1
    await only_rejection(harness)
    again = await ingest.ingest("b.277", without_service_date(today, 22), ALICE)
    assert (again.cases_started, again.duplicates_skipped) == (0, 1)
    assert not any("shares payer claim number" in w["message"] for w in again.warnings)
