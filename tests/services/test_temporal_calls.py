"""A case whose worker does not answer gets a clear error instead of a request that hangs."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from db.models import AuditEventRow
from domain.case import Actor, CasePolicy, PayerDecision, PayerResponse, Role
from domain.rulebook import Rulebook
from services import temporal_calls
from services.errors import Busy, Unavailable
from testkit.records import make_record
from tests.conftest import running_harness
from tests.ingest_helpers import wait_row

ALICE = Actor(user_id="alice", role=Role.BILLER)


async def test_an_update_no_worker_runs_answers_unavailable_in_time(
    workflow_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    rulebook: Rulebook,
    policy: CasePolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_harness(workflow_env, sqlite_engine, rulebook, policy) as harness:
        handle, _ = await harness.triaged(make_record(await harness.today()))
        case_id = handle.id
        await wait_row(harness, case_id, lambda row: row.status == "triaged")
    # The worker has stopped: nothing runs the case's Updates any more.
    monkeypatch.setattr(temporal_calls, "ANSWER_SECONDS", 1.0)
    with Session(sqlite_engine) as session:
        cases = harness.case_service(session, rulebook)
        started = time.monotonic()
        with pytest.raises(Unavailable) as refused:
            await cases.add_note(case_id, "called the payer", ALICE)
        assert time.monotonic() - started < 10
        assert refused.value.message == (
            f"case {case_id} did not answer within 1 s: Temporal or its worker is stopped "
            "or busy. A change may still be applied: reload the case before trying again"
        )
        audit = session.exec(
            select(AuditEventRow).where(
                AuditEventRow.case_id == case_id, AuditEventRow.action == "case.note"
            )
        ).one()
        assert audit.outcome == "unknown" and audit.update_id  # settled when applied
        assert audit.detail["reason"] == refused.value.message

        # A typed-in answer is checked against the case first: that Query went unanswered,
        # so nothing was sent, and the audit says it failed (not 'unknown').
        answer = PayerResponse(
            decision=PayerDecision.UPHELD, decision_date=await harness.today(), source="manual"
        )
        with pytest.raises(Unavailable):
            await cases.signal_payer_response(case_id, answer, ALICE)
        (answered,) = session.exec(
            select(AuditEventRow).where(AuditEventRow.action == "case.payer_response")
        ).all()
        assert answered.outcome == "failed"


async def test_a_case_taking_too_many_changes_at_once_answers_busy() -> None:
    """Temporal admits ten Updates in flight per workflow; the eleventh is refused, not
    applied: the user is told to try again, not shown an internal error."""
    with pytest.raises(Busy) as refused:
        async with temporal_calls.temporal_errors("case-1"):
            raise RPCError(
                "limit on number of concurrent in-flight updates has been reached (10)",
                RPCStatusCode.RESOURCE_EXHAUSTED,
                b"",
            )
    assert refused.value.status_code == 429
    assert refused.value.message == (
        "Temporal is taking too much at once (for case case-1, or in all); this change was not "
        "applied: try again in a moment"
    )
