"""Record workflow histories for the replay tests.

Run after an intentional, compatible change to the workflow (new code paths behind
`workflow.patched`), never to paper over a non-determinism error; keep the histories of
earlier versions, they prove old cases still replay:

    .venv/bin/python -m tests.workflows.record_histories VERSION [SCENARIO...]

Each scenario (all of them unless named) drives one case through the paths that matter and
saves its history to tests/workflows/histories/<name>.<VERSION>.json.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, migrate
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from domain.appeals.corrections import ClaimCorrections
from domain.case import CasePolicy, CaseStatus, PayerDecision, PayerResponse, TaskType
from domain.models import DenialKind, PayerType, ServiceLine, WorkPath
from domain.rulebook import Rulebook
from tests.conftest import running_harness
from tests.factories import adj, make_record
from tests.harness import ALICE, SAM, CaseHandle, CaseHarness
from tests.workflows.case_flow import submit_appeal, submit_corrected_claim, to_path
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AddNote,
    AppealSubmitted,
    CancelCase,
    ConfirmRootCause,
    ConfirmTriage,
    CorrectedClaimSubmitted,
    FollowUpResult,
    PayerResponseEntry,
    ReassignTask,
    WriteOffDecision,
)

HISTORIES = Path(__file__).with_name("histories")


async def appeal_chain(h: CaseHarness) -> CaseHandle:
    """Medicare appeal upheld at level 1, follow-up, level 2 paid by an 835 Signal."""
    today = await h.today()
    record = make_record(
        today, payer_type=PayerType.MEDICARE, adjustments=[adj("CO-50", 2400)], billed=2400
    )
    handle, _ = await h.triaged(record)
    await to_path(h, handle)
    await submit_appeal(h, handle, 1, today)
    await h.sleep(timedelta(days=62))
    await h.wait_for(
        handle, lambda s: any(t.type is TaskType.FOLLOW_UP_WITH_PAYER for t in s.open_tasks)
    )
    await h.complete(handle, TaskType.FOLLOW_UP_WITH_PAYER, FollowUpResult(contact_notes="called"))
    decided = await h.today()
    await h.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        PayerResponseEntry(decision=PayerDecision.UPHELD, decision_date=decided),
    )
    await h.complete(
        handle,
        TaskType.PREPARE_APPEAL,
        AppealSubmitted(level=2, argument="QIC", submitted_on=decided),
    )
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PAID,
            paid_amount=Decimal(2400),
            decision_date=decided,
            source="835",
        ),
    )
    await handle.result()
    return handle


async def escalation_and_loss(h: CaseHarness) -> CaseHandle:
    """Nobody works it: reminder, escalation, urgent, stalled, lost to deadline, written off."""
    today = await h.today()
    record = make_record(
        today,
        payer_type=PayerType.COMMERCIAL,
        remit_days_ago=160,
        billed=900,
        adjustments=[adj("CO-197", 900)],
    )
    handle, _ = await h.triaged(record)
    await handle.execute_update(
        DenialCaseWorkflow.add_note, AddNote(actor=SAM, text="calling payer")
    )
    await h.sleep(timedelta(days=25))
    await h.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    await h.complete(
        handle,
        TaskType.APPROVE_WRITE_OFF,
        WriteOffDecision(approve=True, reason="window closed"),
        SAM,
    )
    await handle.result()
    return handle


async def rejection_resubmitted(h: CaseHarness) -> CaseHandle:
    """A 277CA rejection reassigned by a supervisor, corrected and accepted."""
    today = await h.today()
    line = ServiceLine(line_number=1, procedure_code="99213", billed_amount=Decimal(500))
    record = make_record(today, kind=DenialKind.REJECTION, billed=500, lines=[line])
    handle, state = await h.triaged(record)
    await handle.execute_update(
        DenialCaseWorkflow.reassign_task,
        ReassignTask(actor=SAM, task_id=state.open_tasks[0].task_id, assignee="alice"),
    )
    await h.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(), ALICE)
    await h.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
    await h.complete(
        handle,
        TaskType.PREPARE_CORRECTED_CLAIM,
        CorrectedClaimSubmitted(
            corrections="fixed billing NPI",
            submitted_on=today,
            claim_corrections=ClaimCorrections(diagnosis_codes=["R69"]),
        ),
    )
    await h.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        PayerResponseEntry(
            decision=PayerDecision.PAID, paid_amount=Decimal(500), decision_date=today
        ),
    )
    await handle.result()
    return handle


async def partial_payment(h: CaseHarness) -> CaseHandle:
    """A corrected claim the payer pays in part; the remainder written off if it is reviewed."""
    today = await h.today()
    handle, _ = await h.triaged(make_record(today, adjustments=[adj("CO-16", 1000)]))
    await to_path(h, handle)
    await submit_corrected_claim(h, handle, today)
    state = await h.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        PayerResponseEntry(
            decision=PayerDecision.PARTIALLY_PAID, paid_amount=Decimal(400), decision_date=today
        ),
    )
    if state.status is CaseStatus.WRITE_OFF_REVIEW:
        await h.complete(
            handle,
            TaskType.APPROVE_WRITE_OFF,
            WriteOffDecision(approve=True, reason="contractual remainder"),
            SAM,
        )
    await handle.result()
    return handle


async def corrected_after_last_appeal(h: CaseHarness) -> CaseHandle:
    """Both commercial appeal levels upheld; the write-off refused for a corrected claim, which
    the payer denies again. No appeal level is left: the write-off is reviewed again."""
    today = await h.today()
    handle, _ = await h.triaged(make_record(today, adjustments=[adj("CO-50", 1000)]))
    await to_path(h, handle)
    upheld = PayerResponseEntry(decision=PayerDecision.UPHELD, decision_date=today)
    for level in (1, 2):
        await submit_appeal(h, handle, level, today)
        await h.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld)
    await h.complete(
        handle,
        TaskType.APPROVE_WRITE_OFF,
        WriteOffDecision(
            approve=False, reason="coding error found", next_path=WorkPath.CORRECTED_CLAIM
        ),
        SAM,
    )
    await submit_corrected_claim(h, handle, today)
    state = await h.complete(handle, TaskType.RECORD_PAYER_RESPONSE, upheld)
    if state.status is CaseStatus.WRITE_OFF_REVIEW:
        decision = WriteOffDecision(approve=True, reason="no appeal left")
        await h.complete(handle, TaskType.APPROVE_WRITE_OFF, decision, SAM)
    else:  # before v5 the decided level 2 appeal was opened again
        await handle.execute_update(
            DenialCaseWorkflow.cancel_case, CancelCase(actor=SAM, reason="appeal already decided")
        )
    await handle.result()
    return handle


SCENARIOS: dict[str, Callable[[CaseHarness], Awaitable[CaseHandle]]] = {
    "appeal_chain": appeal_chain,
    "escalation_and_loss": escalation_and_loss,
    "rejection_resubmitted": rejection_resubmitted,
    "partial_payment": partial_payment,
    "corrected_after_last_appeal": corrected_after_last_appeal,
}


async def record_all(version: str, names: list[str]) -> None:
    HISTORIES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/record.db")
        migrate(engine)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(installed_binary("temporal-test-server")),
            data_converter=pydantic_data_converter,
        )
        async with env:
            await ensure_search_attributes(env.client, "default")
            async with running_harness(env, engine, Rulebook.load(), CasePolicy()) as harness:
                for name in names or list(SCENARIOS):
                    handle = await SCENARIOS[name](harness)
                    history = await handle.fetch_history()
                    (HISTORIES / f"{name}.{version}.json").write_text(history.to_json())
                    print(f"recorded {name}: {len(history.events)} events")
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(record_all(sys.argv[1], sys.argv[2:]))
