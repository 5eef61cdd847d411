"""Ingesting acknowledgments and later remittances: 277CA / 999 rejections open rejection cases,
a later 277CA answers a resubmitted rejection, a later 835 answers a corrected claim or appeal,
re-sent answers are ignored, reversals and PLB recoupments open cases of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from db.models import CaseRow, RemittanceClaimRow
from domain.case import CaseOutcome, CaseStatus, PayerDecision, TaskType
from domain.deadlines import DeadlineKind
from domain.models import Category, DenialKind, WorkPath
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.ingest import IngestService
from services.ingest_report import FileReport
from testkit.records import finished_appeal
from testkit.x12 import (
    Claim277,
    Claim835,
    ClaimAck277,
    ElementError999,
    Envelope,
    FunctionalAck999,
    Line835,
    Plb,
    SegmentError999,
    SetResponse999,
    build_file,
)
from tests.api.polling import eventually
from tests.harness import ALICE, BOB, CaseHandle, CaseHarness
from tests.ingest_helpers import (
    PAYER_ID,
    case_ids_of,
    denied_claim,
    paid_claim,
    remittance_file,
    wait_row,
)
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    ConfirmRootCause,
    ConfirmTriage,
    CorrectedClaimSubmitted,
)

CLAIM = "CLM7"
OTHER_TIMELY_FILING_DAYS = 90  # payer rule "other": the 277CA's payer has no known type


@pytest.fixture
def service(harness: CaseHarness, rulebook: Rulebook) -> Iterator[IngestService]:
    with Session(harness.engine, expire_on_commit=False) as session:
        audit = AuditService(session)
        cases = CaseService(
            session, harness.client, rulebook, harness.policy, harness.task_queue, audit
        )
        yield IngestService(session, cases, rulebook, audit)


def ack_277(today: date, service_date: date, *, category: str, status: str, control: int) -> bytes:
    """A 277CA from SHP01 dated `today` on claim CLM7 ($640)."""
    return build_file(
        ClaimAck277(
            claims=[
                Claim277(
                    CLAIM, category=category, status=status, amount=640, service_from=service_date
                )
            ],
            created=today,
            reference=f"BATCH{control:04d}",
        ),
        envelope=Envelope(created=today, first_control_number=control),
    )


def counts(report: FileReport) -> dict[str, object]:
    return {
        "status": report.status,
        "claims": report.claims,
        "denials": report.denials,
        "rejections": report.rejections,
        "reversals": report.reversals,
        "cases_started": report.cases_started,
        "duplicates_skipped": report.duplicates_skipped,
        "payer_responses_matched": report.payer_responses_matched,
        "errors": report.errors,
    }


def expected(status: str = "ingested", claims: int = 1, **nonzero: int) -> dict[str, object]:
    fields = ("denials", "rejections", "reversals", "cases_started", "duplicates_skipped")
    base: dict[str, object] = {"status": status, "claims": claims, "errors": []}
    base |= {name: nonzero.get(name, 0) for name in (*fields, "payer_responses_matched")}
    return base


def case_rows(harness: CaseHarness) -> list[CaseRow]:
    with Session(harness.engine) as session:
        return list(session.exec(select(CaseRow).order_by(CaseRow.claim_id)))  # type: ignore[arg-type]


def handle_of(harness: CaseHarness, case_id: str) -> CaseHandle:
    return harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)


async def rejection_awaiting_payer(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> tuple[CaseHandle, date, date]:
    """A 277CA rejection of CLM7 (served 20 days ago) ingested, triaged and checked, then
    corrected and resubmitted today: the case awaits the payer."""
    today = await harness.today()
    service_date = today - timedelta(days=20)
    rejected = ack_277(today, service_date, category="A7", status="21", control=1)
    report = await service.ingest("rejected.277", rejected, ALICE)
    assert report.kind == "277CA"
    assert counts(report) == expected(rejections=1, cases_started=1)
    (case_id,) = case_ids_of(rejected, rulebook)
    handle = handle_of(harness, case_id)

    state = await harness.wait_status(handle, CaseStatus.TRIAGED)
    assert (state.kind, state.category) == (DenialKind.REJECTION, Category.REJECTION)
    assert (state.record.claim.claim_id, state.record.claim.payer.payer_id) == (CLAIM, PAYER_ID)
    timely = service_date + timedelta(days=OTHER_TIMELY_FILING_DAYS)
    assert state.next_deadline is not None
    assert (state.next_deadline.kind, state.next_deadline.due) == (
        DeadlineKind.TIMELY_FILING,
        timely,
    )
    assert harness.open_task(state, TaskType.CONFIRM_TRIAGE).deadline_key == "timely_filing"
    row = await wait_row(harness, case_id, lambda r: r.status == "triaged")
    assert (row.kind, row.category, row.next_deadline_kind, row.next_deadline) == (
        "rejection",
        "rejection",
        "timely_filing",
        timely,
    )

    await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage())
    state = await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
    assert harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM).deadline_key == (
        "timely_filing"
    )
    state = await harness.complete(
        handle,
        TaskType.PREPARE_CORRECTED_CLAIM,
        CorrectedClaimSubmitted(corrections="fixed the billing NPI", submitted_on=today),
    )
    assert state.status is CaseStatus.AWAITING_PAYER
    return handle, today, service_date


async def test_277ca_acceptance_closes_the_resubmitted_rejection(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A resubmitted rejection the payer now accepts (277CA A2) is answered by Signal and
    closes as recovered; the accepting file opens no case."""
    handle, today, service_date = await rejection_awaiting_payer(harness, service, rulebook)

    accepted = ack_277(today, service_date, category="A2", status="20", control=2)
    report = await service.ingest("accepted.277", accepted, ALICE)
    assert counts(report) == expected(payer_responses_matched=1)

    state = await harness.wait_status(handle, CaseStatus.CLOSED)
    assert state.outcome is CaseOutcome.RECOVERED
    (response,) = state.payer_responses
    assert (response.decision, response.source, response.decision_date) == (
        PayerDecision.ACCEPTED,
        "277CA",
        today,
    )
    assert response.reference == f"{report.sha256}:ack0"
    assert not state.open_tasks
    row = await wait_row(harness, handle.id, lambda r: r.status == "closed")
    assert row.outcome == "recovered"
    assert [r.case_id for r in case_rows(harness)] == [handle.id]


async def test_277ca_rejecting_again_sends_the_case_back_to_correction(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """The same claim rejected again after resubmission answers the open case (upheld): it goes
    back to corrected_claim with a new task, and no second case is opened."""
    handle, today, service_date = await rejection_awaiting_payer(harness, service, rulebook)
    first_task = next(
        t for t in (await harness.state(handle)).tasks if t.type is TaskType.PREPARE_CORRECTED_CLAIM
    )

    again = ack_277(today, service_date, category="A6", status="35", control=2)
    report = await service.ingest("rejected-again.277", again, ALICE)
    assert counts(report) == expected(rejections=1, payer_responses_matched=1)

    state = await harness.wait_status(handle, CaseStatus.CORRECTED_CLAIM)
    assert (state.path, state.appeal_level, state.outcome) == (WorkPath.CORRECTED_CLAIM, 0, None)
    task = harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM)
    assert task.task_id != first_task.task_id
    assert task.deadline_key == "timely_filing"
    assert [t.type for t in state.open_tasks] == [TaskType.PREPARE_CORRECTED_CLAIM]
    (response,) = state.payer_responses
    assert (response.decision, response.source) == (PayerDecision.UPHELD, "277CA")
    assert "A6:35" in response.notes
    await wait_row(harness, handle.id, lambda r: r.status == "corrected_claim")
    assert [r.case_id for r in case_rows(harness)] == [handle.id]


async def test_999_rejecting_a_transaction_set_opens_one_case_per_claim(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A 999 rejecting an 837 set names its claims in CTX CLM01: one rejection case each, each
    with its own errors; an accepted set opens nothing."""
    today = await harness.today()
    raw = build_file(
        FunctionalAck999(
            sets=[
                SetResponse999(
                    control_number="0001",
                    ack="R",
                    errors=["5"],
                    segment_errors=[
                        SegmentError999(claim_id="C1", elements=[ElementError999()]),
                        SegmentError999(
                            claim_id="C2",
                            position=40,
                            elements=[ElementError999(position="1", reference="1028", code="5")],
                        ),
                    ],
                ),
                SetResponse999(control_number="0002", ack="A"),
            ]
        ),
        envelope=Envelope(created=today, sender_id="CLEARHOUSE"),
    )
    report = await service.ingest("answer.999", raw, ALICE)
    assert report.kind == "999"
    assert counts(report) == expected(claims=3, rejections=2, cases_started=2)

    case_ids = case_ids_of(raw, rulebook)
    assert len(set(case_ids)) == 2
    own_error = {
        "C1": "IK4 CLM02 (data element 782): invalid code value (IK403 7)",
        "C2": "IK4 CLM01 (data element 1028): data element too long (IK403 5)",
    }
    for case_id in case_ids:
        state = await harness.wait_status(handle_of(harness, case_id), CaseStatus.TRIAGED)
        claim = state.record.claim
        assert (state.kind, state.category) == (DenialKind.REJECTION, Category.REJECTION)
        assert claim.payer.payer_id == "CLEARHOUSE"
        other = "C2" if claim.claim_id == "C1" else "C1"
        assert own_error[claim.claim_id] in state.record.details
        assert own_error[other] not in state.record.details
        assert state.next_deadline is not None
        assert (state.next_deadline.kind, state.next_deadline.due) == (
            DeadlineKind.TIMELY_FILING,
            today + timedelta(days=OTHER_TIMELY_FILING_DAYS),
        )
    rows = [await wait_row(harness, c, lambda r: r.status == "triaged") for c in case_ids]
    assert sorted((r.claim_id, r.kind, r.category) for r in rows) == [
        ("C1", "rejection", "rejection"),
        ("C2", "rejection", "rejection"),
    ]
    assert len(case_rows(harness)) == 2


async def denial_awaiting_payer(
    harness: CaseHarness,
    service: IngestService,
    rulebook: Rulebook,
    *,
    claim_id: str,
    carc: str,
    path: WorkPath,
) -> tuple[CaseHandle, date, date]:
    """An 835 denial (served 20 days ago, remitted 2 days ago) worked down `path` and submitted
    today: the case awaits the payer."""
    today = await harness.today()
    service_date = today - timedelta(days=20)
    raw = remittance_file(
        today - timedelta(days=2), denied_claim(claim_id, carc, 900, service_date)
    )
    report = await service.ingest(f"{claim_id}.835", raw, ALICE)
    assert counts(report) == expected(denials=1, cases_started=1)
    (case_id,) = case_ids_of(raw, rulebook)
    handle = handle_of(harness, case_id)
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(path=path))
    await harness.complete(handle, TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
    if path is WorkPath.APPEAL:
        await harness.attest_if_required(handle)
        state = await harness.complete(
            handle,
            TaskType.PREPARE_APPEAL,
            finished_appeal(1, "medically necessary, notes attached", today),
        )
    else:
        state = await harness.complete(
            handle,
            TaskType.PREPARE_CORRECTED_CLAIM,
            CorrectedClaimSubmitted(corrections="added the missing modifier", submitted_on=today),
        )
    assert state.status is CaseStatus.AWAITING_PAYER
    return handle, today, service_date


async def test_corrected_claim_denied_again_by_835_goes_to_appeal_level_1(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A later 835 denying the corrected claim again (new ICN, REF*F8 to the original, paid 0,
    same CARC) is the payer upholding it: the case moves to a first-level appeal."""
    handle, today, service_date = await denial_awaiting_payer(
        harness, service, rulebook, claim_id="PCND1", carc="16", path=WorkPath.CORRECTED_CLAIM
    )
    corrected = Claim835(
        "PCND1",
        status="4",
        icn="ICNPCND1B",
        frequency="7",
        original_reference="ICNPCND1",
        lines=[Line835(billed=900, paid=0, cas=[("CO", "16", 900)], service_date=service_date)],
    )
    raw = remittance_file(today, corrected, control=2)
    report = await service.ingest("denied-again.835", raw, ALICE)
    assert counts(report) == expected(denials=1, payer_responses_matched=1)

    state = await harness.wait_status(handle, CaseStatus.APPEAL)
    assert (state.path, state.appeal_level) == (WorkPath.APPEAL, 1)
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (task.appeal_level, task.deadline_key) == (1, "appeal:1")
    assert [t.type for t in state.open_tasks] == [TaskType.PREPARE_APPEAL]
    (response,) = state.payer_responses
    assert (response.decision, response.paid_amount, response.source) == (
        PayerDecision.UPHELD,
        0,
        "835",
    )
    assert response.payer_claim_control_number == "ICNPCND1B"
    await wait_row(harness, handle.id, lambda r: r.status == "appeal" and r.appeal_level == 1)
    assert [r.case_id for r in case_rows(harness)] == [handle.id]


async def test_appeal_upheld_by_835_goes_to_appeal_level_2(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A first-level appeal the next 835 still denies (paid 0, CO-50 again) moves to level 2,
    the notice date being the remittance date; no second case is opened."""
    handle, today, service_date = await denial_awaiting_payer(
        harness, service, rulebook, claim_id="PCND2", carc="50", path=WorkPath.APPEAL
    )
    raw = remittance_file(
        today, denied_claim("PCND2", "50", 900, service_date), control=2, trace_number="TRACE2"
    )
    report = await service.ingest("appeal-denied.835", raw, ALICE)
    assert counts(report) == expected(denials=1, payer_responses_matched=1)

    state = await harness.wait_for(handle, lambda s: s.appeal_level == 2)
    assert (state.status, state.path) == (CaseStatus.APPEAL, WorkPath.APPEAL)
    assert state.appeal_notice_dates == {2: today}
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    assert (task.appeal_level, task.deadline_key) == (2, "appeal:2")
    assert [t.type for t in state.open_tasks] == [TaskType.PREPARE_APPEAL]
    (response,) = state.payer_responses
    assert (response.decision, response.source, response.decision_date) == (
        PayerDecision.UPHELD,
        "835",
        today,
    )
    row = await wait_row(harness, handle.id, lambda r: r.appeal_level == 2)
    assert (row.status, row.path) == ("appeal", "appeal")
    assert [r.case_id for r in case_rows(harness)] == [handle.id]


async def test_the_same_paying_file_twice_answers_the_case_once(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A paying 835 ingested twice: the second is a duplicate that signals nothing, and the
    case holds exactly one payer response."""
    handle, today, service_date = await denial_awaiting_payer(
        harness, service, rulebook, claim_id="PCND3", carc="50", path=WorkPath.APPEAL
    )
    paid = Claim835(
        "PCND3",
        lines=[Line835(billed=900, paid=850, cas=[("CO", "45", 50)], service_date=service_date)],
    )
    raw = remittance_file(today, paid, control=2)
    first = await service.ingest("paid.835", raw, ALICE)
    assert counts(first) == expected(payer_responses_matched=1)
    state = await harness.wait_status(handle, CaseStatus.CLOSED)
    assert (state.outcome, state.recovered_amount) == (CaseOutcome.RECOVERED, Decimal(850))

    second = await service.ingest("paid-again.835", raw, BOB)
    assert counts(second) == expected(status="duplicate")
    assert second.sha256 == first.sha256
    state = await harness.state(handle)
    assert [(r.decision, r.paid_amount) for r in state.payer_responses] == [
        (PayerDecision.PAID, Decimal(850))
    ]
    assert len([e for e in harness.timeline(state) if e.type == "payer_response"]) == 1
    row = await wait_row(harness, handle.id, lambda r: r.status == "closed")
    assert (row.outcome, row.recovered_amount) == ("recovered", Decimal(850))


async def test_a_re_sent_answer_with_the_same_reference_is_ignored(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """An ingest run again after being cut short re-sends its Signals with the same reference
    (file + claim): the case applies the answer once."""
    handle, today, service_date = await denial_awaiting_payer(
        harness, service, rulebook, claim_id="PCND4", carc="50", path=WorkPath.APPEAL
    )
    raw = remittance_file(today, denied_claim("PCND4", "50", 900, service_date), control=2)
    report = await service.ingest("upheld.835", raw, ALICE)
    assert report.payer_responses_matched == 1
    state = await harness.wait_for(handle, lambda s: s.appeal_level == 2)
    (answer,) = state.payer_responses
    assert answer.reference == f"{report.sha256}:0"

    marker = answer.model_copy(update={"reference": "manual-check"})
    with Session(harness.engine) as session:
        cases = CaseService(
            session,
            harness.client,
            rulebook,
            harness.policy,
            harness.task_queue,
            AuditService(session),
        )
        assert await cases.send_payer_response(handle.id, answer)  # the re-sent Signal
        assert await cases.send_payer_response(handle.id, marker)  # processed after it
    state = await harness.wait_for(handle, lambda s: len(s.payer_responses) >= 2)
    assert [r.reference for r in state.payer_responses] == [answer.reference, "manual-check"]
    assert (state.status, state.appeal_level) == (CaseStatus.APPEAL, 2)


async def test_reversal_and_plb_recoupment_open_their_own_cases(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A claim paid, then reversed (CLP02 22) in a later 835 carrying a PLB WO recoupment: one
    reversal case and one recoupment case, both payment reversals by category."""
    today = await harness.today()
    service_date = today - timedelta(days=20)
    first = remittance_file(
        today - timedelta(days=5),
        paid_claim("PCNR1", 400, service_date),
        paid_claim("PCNR2", 1000, service_date),
    )
    report = await service.ingest("paid.835", first, ALICE)
    assert counts(report) == expected(claims=2)

    reversed_claim = Claim835(
        "PCNR1",
        status="22",
        icn="ICNPCNR1",
        original_reference="ICNPCNR1",
        lines=[Line835(billed=-400, paid=-400, service_date=service_date)],
    )
    raw = remittance_file(
        today,
        paid_claim("PCNR3", 1000, service_date),
        reversed_claim,
        plb=[Plb([("WO", "ICNPCNR2", 250)], fiscal_date=today)],
        control=2,
    )
    report = await service.ingest("reversed.835", raw, ALICE)
    assert counts(report) == expected(claims=2, reversals=2, cases_started=2)

    reversal_id, recoupment_id = case_ids_of(raw, rulebook)
    reversal = await harness.wait_status(handle_of(harness, reversal_id), CaseStatus.TRIAGED)
    assert (reversal.kind, reversal.category) == (DenialKind.REVERSAL, Category.PAYMENT_REVERSAL)
    assert (reversal.record.claim.claim_id, reversal.denied_amount) == ("PCNR1", Decimal(400))
    recoupment = await harness.wait_status(handle_of(harness, recoupment_id), CaseStatus.TRIAGED)
    assert (recoupment.kind, recoupment.category) == (
        DenialKind.RECOUPMENT,
        Category.PAYMENT_REVERSAL,
    )
    assert (recoupment.record.claim.claim_id, recoupment.denied_amount) == (
        "ICNPCNR2",
        Decimal(250),
    )
    rows = [
        await wait_row(harness, c, lambda r: r.status == "triaged")
        for c in (reversal_id, recoupment_id)
    ]
    assert [(r.kind, r.category, r.denied_amount) for r in rows] == [
        ("reversal", "payment_reversal", Decimal(400)),
        ("recoupment", "payment_reversal", Decimal(250)),
    ]
    assert len(case_rows(harness)) == 2


async def test_each_remittance_taking_money_back_opens_a_case_of_its_own(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """Two reversals of one provider claim (CLP01) under different payer claim numbers are two
    cases; an overpayment recouped in installments (the same PLB reference on two 835s a week
    apart) opens a case per installment even while the first is open; the same file again
    opens nothing. Reversals are not counted as adjudicated claims for the denial rate."""
    today = await harness.today()
    week_ago = today - timedelta(days=7)
    service_date = today - timedelta(days=30)

    def reversal(icn: str, amount: int) -> Claim835:
        line = Line835(billed=-amount, paid=-amount, service_date=service_date)
        return Claim835("PCNR4", status="22", icn=icn, original_reference=icn, lines=[line])

    installment = [("WO", "OVP123", 75)]
    first = remittance_file(
        week_ago,
        reversal("ICN4", 100),
        reversal("ICN4B", 60),
        plb=[Plb(installment, fiscal_date=week_ago)],
    )
    report = await service.ingest("first.835", first, ALICE)
    assert counts(report) == expected(claims=2, reversals=3, cases_started=3)
    # Ingested right away, before the read model shows the first installment's case.
    second = remittance_file(today, plb=[Plb(installment, fiscal_date=today)], control=2)
    report = await service.ingest("second.835", second, ALICE)
    assert counts(report) == expected(claims=0, reversals=1, cases_started=1)
    again = await service.ingest("second-again.835", second, ALICE)
    assert (again.status, again.cases_started) == ("duplicate", 0)

    # The second installment's sequence depends on whether the read model showed the first:
    # wait for all four cases rather than for known ids.
    async def triaged_rows() -> list[CaseRow]:
        return [r for r in case_rows(harness) if r.status == "triaged"]

    rows = await eventually(triaged_rows, lambda rows: len(rows) == 4, what="4 triaged cases")
    rows.sort(key=lambda r: (r.kind, r.remittance_date, r.payer_claim_control_number))
    assert [(r.kind, r.payer_claim_control_number, r.remittance_date) for r in rows] == [
        ("recoupment", "OVP123", week_ago),
        ("recoupment", "OVP123", today),
        ("reversal", "ICN4", week_ago),
        ("reversal", "ICN4B", week_ago),
    ]
    assert len(case_rows(harness)) == 4
    assert [r.denied_amount for r in rows] == [75, 75, 100, 60]
    with Session(harness.engine) as session:
        assert session.exec(select(RemittanceClaimRow)).all() == []


async def test_835_paying_the_resubmitted_rejection_closes_it(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A resubmitted rejection is answered by the 835 that pays the claim (same payer, CLP01 =
    the rejected claim id) when no 277CA acceptance was ingested: the payment closes the case
    as recovered instead of leaving it awaiting the payer."""
    handle, today, service_date = await rejection_awaiting_payer(harness, service, rulebook)
    raw = remittance_file(today, paid_claim(CLAIM, 640, service_date), control=3)
    report = await service.ingest("paid.835", raw, ALICE)
    assert counts(report) == expected(payer_responses_matched=1)
    state = await harness.wait_status(handle, CaseStatus.CLOSED)
    assert (state.outcome, state.recovered_amount) == (CaseOutcome.RECOVERED, Decimal(640))
