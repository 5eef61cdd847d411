"""Payer answers the workflow receives as Signals: nothing paid is never a recovery, and an
answer nothing awaited is recorded as what it was."""

from __future__ import annotations

from decimal import Decimal

from domain.case import CaseStatus, PayerDecision, PayerResponse
from domain.models import WorkPath
from testkit.records import adj, make_record
from tests.harness import CaseHarness
from tests.workflows.case_flow import projected, submit_appeal, to_path
from workflows.case_workflow import DenialCaseWorkflow


async def test_a_paid_signal_paying_nothing_is_no_recovery(harness: CaseHarness) -> None:
    """A 'paid' answer of $0 to a level-1 appeal is taken as the payer's answer without money:
    the case moves to the level-2 appeal, never closes recovered with $0."""
    today = await harness.today()
    handle = await harness.start(make_record(today, adjustments=[adj("CO-50", 600)], billed=600))
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    await to_path(harness, handle, path=WorkPath.APPEAL)
    await submit_appeal(harness, handle, 1, today)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(decision=PayerDecision.PAID, decision_date=today, reference="zero"),
    )
    state = await harness.wait_status(handle, CaseStatus.APPEAL)
    assert (state.appeal_level, state.outcome, state.recovered_amount) == (2, None, Decimal(0))


async def test_an_answer_nothing_awaited_is_recorded_as_what_it_was(harness: CaseHarness) -> None:
    """An 'accepted' Signal on a triaged denial changes nothing and is not logged as the payer
    upholding the denial."""
    today = await harness.today()
    handle = await harness.start(make_record(today))
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(decision=PayerDecision.ACCEPTED, decision_date=today, reference="a1"),
    )
    for _ in range(100):
        state = await projected(harness, handle)
        if state.payer_responses:
            break
    assert state.status is CaseStatus.TRIAGED
    (event,) = [e for e in harness.timeline(state) if e.type == "payer_response"]
    assert "accepted" in event.message and "upheld" not in event.message
    assert "the case is unchanged" in event.message
