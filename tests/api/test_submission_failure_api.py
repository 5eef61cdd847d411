"""Submitting while the clearinghouse is down, over HTTP: a prompt 502 saying nothing was
sent, the task still open, the supervisors' task in their queue, the refusal audited."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from db.models import AuditEventRow
from domain.models import ServiceLine
from services.temporal_calls import ANSWER_SECONDS
from testkit.records import adj, make_record
from tests.api.conftest import Api, as_user
from tests.harness import CaseHarness
from tests.workflows.clearinghouse import Clearinghouse

ALICE, SAM = as_user("alice"), as_user("sam")


@pytest.fixture
def harness(clearinghouse_harness: CaseHarness) -> CaseHarness:
    return clearinghouse_harness


async def test_a_submission_the_clearinghouse_did_not_take_answers_502(
    api: Api, harness: CaseHarness, clearinghouse: Clearinghouse
) -> None:
    today = await harness.today()
    line = ServiceLine(line_number=1, procedure_code="99213", billed_amount=Decimal(500))
    record = make_record(today, adjustments=[adj("CO-16", 500)], billed=500, lines=[line])
    case_id, detail = await api.opened_triaged(record)
    prepare = await api.to_corrected_claim_task(case_id, detail)
    corrected = {
        "type": "prepare_corrected_claim",
        "corrections": "added the missing modifier",
        "submitted_on": today.isoformat(),
        "claim_corrections": {"diagnosis_codes": ["R69"]},
    }

    started = time.monotonic()
    failed = await api.http.post(
        f"/api/v1/tasks/{prepare}/complete", json={"payload": corrected}, headers=ALICE
    )
    assert time.monotonic() - started < ANSWER_SECONDS
    assert failed.status_code == 502, failed.text
    message = failed.json()["detail"]
    assert message.startswith("not submitted: the clearinghouse (test-clearinghouse) did not take")
    assert "connection refused" in message and "stays open" in message

    detail = await api.detail(case_id, user="sam")
    assert api.open_task(detail, "prepare_corrected_claim")["task_id"] == prepare
    alarm = api.open_task(detail, "resolve_submission_failure")
    assert (alarm["queue"], alarm["assignee"]) == ("supervisor", None)
    queue = await api.http.get("/api/v1/tasks/queue", headers=SAM)
    assert alarm["task_id"] in [t["task_id"] for t in queue.json()["items"]]
    with Session(harness.engine) as session:
        audited = session.exec(
            select(AuditEventRow).where(
                AuditEventRow.task_id == prepare, AuditEventRow.action == "task.complete"
            )
        ).one()
    assert (audited.outcome, audited.detail["reason"]) == ("failed", message)

    clearinghouse.down = False
    sent = await api.http.post(
        f"/api/v1/tasks/{prepare}/complete", json={"payload": corrected}, headers=ALICE
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "awaiting_payer"
    detail = await api.detail(case_id, user="sam")
    closed = next(t for t in detail["tasks"] if t["task_id"] == alarm["task_id"])
    assert (closed["status"], closed["completed_by"]) == ("completed", "system")
