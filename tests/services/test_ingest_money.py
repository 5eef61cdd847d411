"""What later 835s do to a case's money: a balance moved to the patient is no recovery, and a
payment after a write-off is recorded on the closed case instead of dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from domain.case import CaseOutcome, CaseStatus, PayerDecision, PayerResponse, TaskType
from domain.models import WorkPath
from domain.rulebook import Rulebook
from services.ingest import IngestService
from tests.harness import ALICE, SAM, CaseHarness
from tests.ingest_helpers import case_ids_of, wait_row
from tests.services.test_ingest import remittance
from tests.workflows.case_flow import event_types, submit_appeal, submit_corrected_claim, to_path
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import WriteOffDecision


@pytest.fixture
def service(harness: CaseHarness, rulebook: Rulebook) -> Iterator[IngestService]:
    with Session(harness.engine, expire_on_commit=False) as session:
        yield harness.ingest_service(session, rulebook)


def denial(claim_id: str, served: date, paid_on: date, billed: int = 800) -> bytes:
    return remittance(
        f"CLP*{claim_id}*4*{billed}*0**CI*ICN{claim_id}\nCAS*CO*50*{billed}\n"
        f"DTM*232*{served:%Y%m%d}",
        paid_on=paid_on,
    )


async def opened(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook, raw: bytes
) -> str:
    assert (await service.ingest("denied.835", raw, ALICE)).cases_started == 1
    (case_id,) = case_ids_of(raw, rulebook)
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    return case_id


async def test_reprocessed_as_patient_responsibility_is_a_transfer_not_a_recovery(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """An appealed denial that the payer reprocesses as deductible (paid 0, PR-1) closes
    transferred to the patient with nothing recovered: no $0 'recovery', no overturn."""
    today = await harness.today()
    served = today - timedelta(days=30)
    case_id = await opened(
        harness, service, rulebook, denial("PCNPR", served, today - timedelta(days=5))
    )
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await to_path(harness, handle, path=WorkPath.APPEAL)
    await submit_appeal(harness, handle, 1, today)
    await wait_row(harness, case_id, lambda row: row.status == "awaiting_payer")

    reprocessed = remittance(
        f"CLP*PCNPR*1*800*0*800*CI*ICNPCNPR\nCAS*PR*1*800\nDTM*232*{served:%Y%m%d}",
        paid_on=today,
    )
    report = await service.ingest("reprocessed.835", reprocessed, ALICE)
    assert (report.payer_responses_matched, report.cases_started) == (1, 0)
    result = await handle.result()
    assert (result.outcome, result.recovered_amount) == (CaseOutcome.TRANSFERRED_TO_PATIENT, 0)


async def test_payment_after_write_off_reduces_the_write_off(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A denial written off, then paid $500 of $800 on a later 835: the closed case records
    the payment (partially recovered, $300 written off), the report says so, and the same
    payment sent again in another file is not counted twice."""
    case_id, served = await written_off(harness, service, rulebook, "PCNWO", 800)
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    assert (await handle.result()).outcome is CaseOutcome.WRITTEN_OFF
    today = await harness.today()

    late = remittance(
        f"CLP*PCNWO*2*800*500**CI*ICNPCNWO\nCAS*CO*45*300\nDTM*232*{served:%Y%m%d}",
        paid_on=today,
    )
    report = await service.ingest("late.835", late, ALICE)
    assert (report.late_payments, report.cases_started) == (1, 0)
    assert any("after its case closed written off" in w["message"] for w in report.warnings)
    row = await wait_row(harness, case_id, lambda row: row.outcome == "partially_recovered")
    assert (row.status, row.recovered_amount, row.denied_amount) == ("closed", 500, 800)
    state = await harness.state(handle)
    assert state.outstanding_amount == Decimal(300)
    assert "late_payment" in event_types(harness, state)

    resent = await service.ingest("late-again.835", late + b"\n", ALICE)
    assert resent.late_payments == 0
    assert (await harness.state(handle)).recovered_amount == 500


async def written_off(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook, claim_id: str, billed: int
) -> tuple[str, date]:
    """A denial of `claim_id` (served 40 days ago) triaged and written off by sam."""
    today = await harness.today()
    served = today - timedelta(days=40)
    case_id = await opened(
        harness,
        service,
        rulebook,
        denial(claim_id, served, today - timedelta(days=10), billed=billed),
    )
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await to_path(harness, handle, path=WorkPath.WRITE_OFF_REVIEW)
    approve = WriteOffDecision(approve=True, reason="small")
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, SAM)
    await wait_row(harness, case_id, lambda row: row.outcome == "written_off")
    return case_id, served


async def test_a_late_part_payment_dated_after_arrival_is_recorded_and_opens_nothing(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """An EFT dated two days after the file arrives pays $300 of a written-off $500 denial,
    the other $200 still denied: the payment is recorded on the closed case and the rest opens
    no second case (the written-off case covers it)."""
    case_id, served = await written_off(harness, service, rulebook, "PCNLP", 500)
    today = await harness.today()
    late = remittance(
        f"CLP*PCNLP*1*500*300**CI*ICNPCNLP\nCAS*CO*50*200\nDTM*232*{served:%Y%m%d}",
        paid_on=today + timedelta(days=2),
    )
    report = await service.ingest("late.835", late, ALICE)
    assert (report.late_payments, report.cases_started, report.duplicates_skipped) == (1, 0, 0)
    row = await wait_row(harness, case_id, lambda r: r.outcome == "partially_recovered")
    assert (row.recovered_amount, row.denied_amount) == (300, 500)


async def test_a_payment_under_another_claims_number_answers_no_case(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """Claim Y is denied under a masked CLP07; an 835 pays claim X under that same number:
    Y's case is not closed with X's money, and the report says why."""
    today = await harness.today()
    served = today - timedelta(days=20)
    denied = remittance(
        f"CLP*PCNY*4*400*0**CI*MASKED\nCAS*CO*16*400\nDTM*232*{served:%Y%m%d}",
        paid_on=today - timedelta(days=3),
    )
    case_id = await opened(harness, service, rulebook, denied)
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await to_path(harness, handle)
    await submit_corrected_claim(harness, handle, today)
    await wait_row(harness, case_id, lambda row: row.status == "awaiting_payer")
    paid = remittance(f"CLP*PCNX*1*300*300**CI*MASKED\nDTM*232*{served:%Y%m%d}", paid_on=today)
    report = await service.ingest("other.835", paid, ALICE)
    assert report.payer_responses_matched == 0
    assert any("none of them this claim's alone" in w["message"] for w in report.warnings)
    assert (await harness.state(handle)).status is CaseStatus.AWAITING_PAYER


async def test_two_late_payments_at_once_both_count(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """Two payments posted on one written-off case at the same moment: each run of the case
    starts from the last one's state, so both count (none overwrites the other)."""
    case_id, _ = await written_off(harness, service, rulebook, "PCNTW", 600)
    today = await harness.today()
    first, second = (
        PayerResponse(
            decision=PayerDecision.PAID,
            paid_amount=Decimal(amount),
            decision_date=today,
            reference=reference,
            source="manual",
        )
        for amount, reference in ((100, "CHK-A"), (200, "CHK-B"))
    )
    # Time stands still meanwhile: the time-skipping server jumps to its next timer whenever
    # no call holds it, and a run whose workflow task waits for the busy worker has only its
    # default run timeout (ten years) ahead: it "timed out" about one time in eight.
    with (
        harness.env.auto_time_skipping_disabled(),
        Session(harness.engine) as one,
        Session(harness.engine) as other,  # two requests
    ):
        outcomes = await asyncio.gather(
            harness.case_service(one, rulebook).record_late_payment(case_id, first),
            harness.case_service(other, rulebook).record_late_payment(case_id, second),
        )
    assert outcomes == [None, None]
    row = await wait_row(harness, case_id, lambda r: r.recovered_amount == 300)
    assert (row.outcome, row.status) == ("partially_recovered", "closed")


async def test_a_new_denial_of_a_written_off_claim_opens_a_case(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A claim paid $600 of $1,000 whose denied $400 was written off, reported again later:
    the same $600 paid (nothing newly paid: no late payment) and the $400 denied for another
    reason. Not dropped: the new denial opens a case of its own."""
    today = await harness.today()
    served = today - timedelta(days=40)
    first = remittance(
        f"CLP*PCNND*1*1000*600**CI*ICNPCNND\nCAS*CO*50*400\nDTM*232*{served:%Y%m%d}",
        paid_on=today - timedelta(days=10),
    )
    case_id = await opened(harness, service, rulebook, first)
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await to_path(harness, handle, path=WorkPath.WRITE_OFF_REVIEW)
    approve = WriteOffDecision(approve=True, reason="small")
    await harness.complete(handle, TaskType.APPROVE_WRITE_OFF, approve, SAM)
    await wait_row(harness, case_id, lambda row: row.outcome == "written_off")
    again = remittance(
        f"CLP*PCNND*1*1000*600**CI*ICNPCNND\nCAS*CO*197*400\nDTM*232*{served:%Y%m%d}",
        paid_on=today,
    )
    report = await service.ingest("again.835", again, ALICE)
    assert (report.late_payments, report.cases_started) == (0, 1)
