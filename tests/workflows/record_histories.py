"""Record workflow histories for the replay tests.

Run after an intentional, compatible change to the workflow (new code paths behind
`workflow.patched`), never to paper over a non-determinism error; keep the histories of
earlier versions, they prove old cases still replay:

    .venv/bin/python -m tests.workflows.record_histories VERSION [SCENARIO...]

e.g. `... record_histories v8-my-change appeal_chain`. Each scenario (all of them unless
named; a wrong name lists them) drives one case through the paths that matter and saves its
history to tests/workflows/histories/<name>.<VERSION>.json, or, for a case that continued
as new, each run's to <name>.<VERSION>.run<N>.json; a version already recorded for a scenario
is never overwritten (`--out DIR` writes elsewhere, to try it). Most run on the time-skipping
test server; `continued` runs on the dev server, told to suggest continuing as new early.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, migrate
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from domain.appeals.corrections import ClaimCorrections
from domain.case import CasePolicy, CaseStatus, PayerDecision, PayerResponse, TaskType
from domain.deadlines import DeadlineKind
from domain.models import SERVICE_DATE_UNKNOWN, DenialKind, Payer, PayerType, ServiceLine, WorkPath
from domain.rulebook import Rulebook
from testkit.records import adj, finished_appeal, make_record
from tests.conftest import running_harness
from tests.harness import ALICE, SAM, CaseHandle, CaseHarness
from tests.workflows.case_flow import (
    appeal_and_get_paid,
    due,
    submit_appeal,
    submit_corrected_claim,
    to_path,
)
from tests.workflows.clearinghouse import Clearinghouse
from tests.workflows.history_limits import runs_of
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AddNote,
    CancelCase,
    CaseInput,
    ChangePriority,
    ClaimTask,
    CompleteTask,
    ConfirmRootCause,
    ConfirmTriage,
    CorrectedClaimSubmitted,
    FollowUpResult,
    IdentifyClaim,
    PayerResponseEntry,
    ReassignTask,
    RecordExtension,
    RefreshRules,
    ReleaseTask,
    WriteOffDecision,
)

HISTORIES = Path(__file__).with_name("histories")
# The dev server suggests continuing as new after this many events (its default is 4,000).
SUGGEST_CONTINUE_AS_NEW_AT = 60


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
        finished_appeal(2, "QIC", decided),
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


async def submission_failure(h: CaseHarness, clearinghouse: Clearinghouse) -> CaseHandle:
    """The clearinghouse is down when the appeal is submitted: refused, a task for the
    supervisors; three days later it is back, the appeal goes out, the payer pays."""
    today = await h.today()
    handle, _ = await h.triaged(make_record(today, adjustments=[adj("CO-16", 800)], billed=800))
    await to_path(h, handle, path=WorkPath.APPEAL)
    clearinghouse.down = True
    state = await h.state(handle)
    task = h.open_task(state, TaskType.PREPARE_APPEAL)
    appeal = finished_appeal(1, "records enclosed", today)
    try:
        await handle.execute_update(
            DenialCaseWorkflow.complete_task,
            CompleteTask(actor=ALICE, task_id=task.task_id, payload=appeal),
        )
        raise AssertionError("the clearinghouse was down")
    except WorkflowUpdateFailedError:
        pass
    await h.sleep(timedelta(days=3))
    clearinghouse.down = False
    await submit_appeal(h, handle, 1, await h.today())
    await h.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        PayerResponseEntry(
            decision=PayerDecision.PAID, paid_amount=Decimal(800), decision_date=await h.today()
        ),
    )
    await handle.result()
    return handle


async def continued(h: CaseHarness, _: Clearinghouse) -> CaseHandle:
    """A supervised, busy case: claimed and released, reassigned, reprioritised, extended,
    its rules refreshed, then noted until it continues as new; the next run works it to the
    end."""
    today = await h.today()
    handle, state = await h.triaged(make_record(today, adjustments=[adj("CO-197", 700)]))
    triage = h.open_task(state, TaskType.CONFIRM_TRIAGE).task_id
    for update, request in (
        (DenialCaseWorkflow.claim_task, ClaimTask(actor=ALICE, task_id=triage)),
        (DenialCaseWorkflow.release_task, ReleaseTask(actor=ALICE, task_id=triage)),
        (
            DenialCaseWorkflow.reassign_task,
            ReassignTask(actor=SAM, task_id=triage, assignee="alice", reason="hers"),
        ),
        (
            DenialCaseWorkflow.change_priority,
            ChangePriority(actor=SAM, adjustment=1.5, reason="large payer"),
        ),
        (
            DenialCaseWorkflow.record_extension,
            RecordExtension(
                actor=ALICE,
                kind=DeadlineKind.APPEAL,
                level=1,
                new_due=due(state, "appeal:1") + timedelta(days=30),
                reason="payer agreed",
            ),
        ),
        (DenialCaseWorkflow.refresh_rules, RefreshRules(actor=SAM)),
    ):
        await handle.execute_update(update, request)
    first_run = (await handle.describe()).run_id
    for number in range(200):
        await handle.execute_update(
            DenialCaseWorkflow.add_note, AddNote(actor=ALICE, text=f"note {number}")
        )
        if (await handle.describe()).run_id != first_run:
            break
    else:
        raise AssertionError("the case never continued as new")
    await appeal_and_get_paid(h, handle, Decimal(700), today)
    await handle.result()
    return handle


async def payer_money(h: CaseHarness) -> CaseHandle:
    """An appeal answered 'paid' with $0 (no recovery: level 2 opens), then moved to the
    patient (closes transferred)."""
    today = await h.today()
    handle, _ = await h.triaged(make_record(today, adjustments=[adj("CO-50", 600)], billed=600))
    await to_path(h, handle, path=WorkPath.APPEAL)
    await submit_appeal(h, handle, 1, today)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(decision=PayerDecision.PAID, decision_date=today, reference="zero"),
    )
    await h.wait_status(handle, CaseStatus.APPEAL)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PATIENT_RESPONSIBILITY, decision_date=today, reference="pr"
        ),
    )
    await handle.result()
    return handle


async def identified_rejection(h: CaseHarness) -> CaseHandle:
    """A 999 rejection (no payer named, no date of service) the biller identifies, then
    corrects; the payer pays it."""
    today = await h.today()
    record = make_record(today, kind=DenialKind.REJECTION, billed=500)
    record = record.model_copy(
        update={
            "claim": record.claim.model_copy(
                update={"payer": Payer(payer_id="CLEARHOUSE"), "billed_amount": Decimal(0)}
            ),
            "details": [SERVICE_DATE_UNKNOWN],
        }
    )
    handle, _ = await h.triaged(record)
    await handle.execute_update(
        DenialCaseWorkflow.identify_claim,
        IdentifyClaim(
            actor=ALICE,
            payer=Payer(payer_id="60054", name="AETNA", type=PayerType.COMMERCIAL),
            service_date_from=today - timedelta(days=30),
            billed_amount=Decimal(500),
        ),
    )
    await to_path(h, handle)
    await submit_corrected_claim(h, handle, today)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PAID,
            paid_amount=Decimal(500),
            decision_date=today,
            reference="p",
        ),
    )
    await handle.result()
    return handle


async def late_payment(h: CaseHarness) -> CaseHandle:
    """A denial written off, then paid late: a second run of the closed case records the
    payment (this history is that run)."""
    today = await h.today()
    handle, _ = await h.triaged(make_record(today, adjustments=[adj("CO-50", 500)], billed=500))
    await to_path(h, handle, path=WorkPath.WRITE_OFF_REVIEW)
    await h.complete(
        handle, TaskType.APPROVE_WRITE_OFF, WriteOffDecision(approve=True, reason="small"), SAM
    )
    await handle.result()
    closed = await h.state(handle)
    paid = PayerResponse(
        decision=PayerDecision.PAID, paid_amount=Decimal(500), decision_date=today, reference="l"
    )
    late = await h.client.start_workflow(
        DenialCaseWorkflow.run,
        CaseInput(
            case_id=handle.id,
            record=closed.record,
            policy=closed.policy,
            resume=closed,
            late_payment=paid,
        ),
        id=handle.id,
        task_queue=h.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    await late.result()
    return late


def _ignoring_clearinghouse(
    scenario: Callable[[CaseHarness], Awaitable[CaseHandle]],
) -> Callable[[CaseHarness, Clearinghouse], Awaitable[CaseHandle]]:
    async def run(h: CaseHarness, _: Clearinghouse) -> CaseHandle:
        return await scenario(h)

    return run


Scenario = Callable[[CaseHarness, Clearinghouse], Awaitable[CaseHandle]]
SCENARIOS: dict[str, Scenario] = {
    "appeal_chain": _ignoring_clearinghouse(appeal_chain),
    "escalation_and_loss": _ignoring_clearinghouse(escalation_and_loss),
    "rejection_resubmitted": _ignoring_clearinghouse(rejection_resubmitted),
    "partial_payment": _ignoring_clearinghouse(partial_payment),
    "corrected_after_last_appeal": _ignoring_clearinghouse(corrected_after_last_appeal),
    "submission_failure": submission_failure,
    "payer_money": _ignoring_clearinghouse(payer_money),
    "identified_rejection": _ignoring_clearinghouse(identified_rejection),
    "late_payment": _ignoring_clearinghouse(late_payment),
}
# Recorded on the dev server: the test server never suggests continuing as new.
ON_DEV_SERVER: dict[str, Scenario] = {"continued": continued}


async def _environment(dev_server: bool) -> WorkflowEnvironment:
    if dev_server:
        return await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(installed_binary("temporal")),
            dev_server_extra_args=[
                "--dynamic-config-value",
                f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AT}",
            ],
            data_converter=pydantic_data_converter,
        )
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(installed_binary("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )


async def _record(
    version: str, names: list[str], scenarios: dict[str, Scenario], out: Path
) -> None:
    chosen = [name for name in names or list(scenarios) if name in scenarios]
    if not chosen:
        return
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/record.db")
        migrate(engine)
        clearinghouse = Clearinghouse(Path(folder) / "outbox", down=False)
        env = await _environment(scenarios is ON_DEV_SERVER)
        async with env:
            await ensure_search_attributes(env.client, "default")
            async with running_harness(
                env, engine, Rulebook.load(), CasePolicy(), adapter=clearinghouse
            ) as harness:
                for name in chosen:
                    handle = await scenarios[name](harness, clearinghouse)
                    runs = await runs_of(env.client, handle.id, handle.result_run_id or "")
                    for number, run in enumerate(runs, start=1):
                        suffix = f".run{number}" if len(runs) > 1 else ""
                        history = await env.client.get_workflow_handle(
                            handle.id, run_id=run.run_id
                        ).fetch_history()
                        path = out / f"{name}.{version}{suffix}.json"
                        path.write_text(history.to_json())
                        print(f"recorded {path.name}: {len(history.events)} events")
        engine.dispose()


async def record_all(version: str, names: list[str], out: Path = HISTORIES) -> None:
    await _record(version, names, SCENARIOS, out)
    await _record(version, names, ON_DEV_SERVER, out)


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    every = [*SCENARIOS, *ON_DEV_SERVER]
    parser = argparse.ArgumentParser(
        prog="python -m tests.workflows.record_histories",
        description="Record case workflow histories for the replay tests.",
    )
    parser.add_argument("version", help="name of the workflow version, e.g. v8-my-change")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="default: all of them")
    parser.add_argument("--out", type=Path, default=HISTORIES, help="folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", args.version):
        parser.error(f"version '{args.version}': letters, digits, '.', '_' or '-' only")
    unknown = sorted(set(args.scenarios) - set(every))
    if unknown:
        parser.error(f"no scenario {', '.join(unknown)}: choose from {', '.join(every)}")
    recorded = sorted(
        path.name
        for name in args.scenarios or every
        for path in args.out.glob(f"{name}.{args.version}.*json")
    )
    if recorded:  # older versions' histories prove old cases still replay: keep them
        parser.error(f"already recorded, not overwritten: {', '.join(recorded)}")
    args.out.mkdir(parents=True, exist_ok=True)
    return args


if __name__ == "__main__":
    arguments = _arguments()
    asyncio.run(record_all(arguments.version, arguments.scenarios, arguments.out))
