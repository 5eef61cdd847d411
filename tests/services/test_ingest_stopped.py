"""An 835's answer to a case whose workflow was stopped outside the product (terminated in
Temporal) is not dropped: the file is left incomplete with a message naming the claim's case,
and ingested again once the case is restarted, the answer reaches it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from db.models import IngestFileRow
from domain.case import CaseOutcome, CaseStatus
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.stopped_cases import StoppedCaseService
from tests.harness import ALICE, SAM, CaseHarness
from tests.services.test_ingest import case_ids_of, remittance
from workflows.case_workflow import DenialCaseWorkflow


async def test_an_answer_to_a_stopped_case_waits_for_its_restart(
    harness: CaseHarness, rulebook: Rulebook
) -> None:
    today = await harness.today()
    served = f"{today - timedelta(days=20):%Y%m%d}"
    denied = remittance(
        f"CLP*PCNST1*4*500*0**CI*ICNST1\nCAS*CO*16*500\nDTM*232*{served}",
        paid_on=today - timedelta(days=2),
    )
    paid = remittance(f"CLP*PCNST1*1*500*500**CI*ICNST1\nDTM*232*{served}", paid_on=today)
    with Session(harness.engine, expire_on_commit=False) as session:
        service = harness.ingest_service(session, rulebook)
        assert (await service.ingest("denied.835", denied, ALICE)).cases_started == 1
        (case_id,) = case_ids_of(denied, rulebook)
        handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
        await harness.wait_status(handle, CaseStatus.TRIAGED)
        await handle.terminate(reason="looked stuck")

        report = await service.ingest("paid.835", paid, ALICE)
        assert (report.status, report.payer_responses_matched) == ("incomplete", 0)
        (error,) = report.errors
        assert error["message"].startswith(
            "claim PCNST1: this file's answer could not reach its case (payer 87726), whose "
            "workflow was stopped outside the case manager"
        )
        assert f"/cases/{case_id}" in error["message"]
        assert error["location"]["segment_id"] == "CLP"
        assert not any("closed before this answer" in w["message"] for w in report.warnings)
        row = session.get(IngestFileRow, report.sha256, populate_existing=True)
        assert row is not None and row.status == "incomplete"

        stopped = StoppedCaseService(
            session, harness.client, harness.task_queue, AuditService(session)
        )
        await stopped.restart(case_id, SAM)
        again = await service.ingest("paid.835", paid, ALICE)
        assert (again.status, again.payer_responses_matched, again.errors) == ("ingested", 1, [])
    result = await handle.result()
    assert result.outcome is CaseOutcome.RECOVERED
