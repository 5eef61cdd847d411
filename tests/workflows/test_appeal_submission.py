"""Submitting appeals and corrected claims: the attestation gate, the packet or 837 sent
through the outbox adapter, the receipt kept with the submission, and idempotence."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError

from activities.submission import SubmissionActivities
from db.models import CaseDocumentRow, SubmissionRecordRow
from domain.appeals.corrections import ClaimCorrections, LineCorrection
from domain.appeals.finishing import EnclosureItem
from domain.case import Actor, CaseStatus, SubmissionKind, TaskType
from domain.models import Category, ServiceLine, WorkPath
from domain.rulebook import Rulebook
from edi.claim837 import Submitter, read_837
from edi.validation import validate
from services.clearinghouse import OutboxAdapter, SubmissionPackage
from services.documents import DocumentStore
from testkit.records import adj, finished_appeal, finished_letter, make_record
from tests.domain.appeals.case_builder import letter_case
from tests.harness import ALICE, DREW, CaseHarness
from tests.workflows.case_flow import refused, to_path
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AppealSubmitted,
    CompleteTask,
    CorrectedClaimSubmitted,
    RecordAttestation,
    SubmitRequest,
)

LINE = ServiceLine(line_number=1, procedure_code="99215", billed_amount=Decimal(800))


def _pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def _read_text(path: Path) -> str:
    return path.read_text(encoding="ascii")


def _attest(actor: Actor, document_sha256: str = "") -> RecordAttestation:
    return RecordAttestation(
        actor=actor,
        physician_name="Dr. Drew Test",
        statement="The visit was medically necessary.",
        document_sha256=document_sha256,
    )


async def test_medical_necessity_appeal_waits_for_the_attestation(harness: CaseHarness) -> None:
    today = await harness.today()
    record = make_record(today, adjustments=[adj("CO-50", 800)], billed=800, lines=[LINE])
    handle, _ = await harness.triaged(record)
    state = await to_path(harness, handle)
    assert state.status is CaseStatus.APPEAL
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    appeal = CompleteTask(
        actor=ALICE,
        task_id=task.task_id,
        payload=finished_appeal(1, "records enclosed", today),
    )

    message = await refused(
        handle.execute_update(DenialCaseWorkflow.complete_task, appeal), "Invalid"
    )
    assert message.startswith("a medical-necessity appeal needs a physician attestation")
    # A biller cannot attest in the app; a physician can, once.
    message = await refused(
        handle.execute_update(DenialCaseWorkflow.record_attestation, _attest(ALICE)), "Forbidden"
    )
    assert "only a physician attests" in message
    state = await harness.update(handle, DenialCaseWorkflow.record_attestation, _attest(DREW))
    assert state.attestation is not None and state.attestation.attested_by == "drew"
    await refused(
        handle.execute_update(DenialCaseWorkflow.record_attestation, _attest(DREW)), "Conflict"
    )

    state = await harness.update(handle, DenialCaseWorkflow.complete_task, appeal)
    assert state.status is CaseStatus.AWAITING_PAYER
    (submission,) = state.submissions
    assert submission.sent_at is not None and submission.sha256
    sent = Path(submission.sent_to)
    assert harness.data_dir is not None and sent.parent == harness.data_dir / "outbox"
    text = _pdf_text(sent)
    assert "Attested by Dr. Drew Test" in text
    assert "WHY THE CLAIM SHOULD BE PAID\nrecords enclosed" in text  # the letter submitted
    assert "submission_sent" in [event.type for event in harness.timeline(state)]
    with Session(harness.engine) as session:
        (row,) = session.exec(select(SubmissionRecordRow)).all()
        assert (row.case_id, row.kind, row.appeal_level, row.adapter) == (
            handle.id,
            "appeal",
            1,
            "outbox",
        )
        assert row.sha256 == submission.sha256


async def test_uploaded_attestation_is_accepted_from_a_biller(harness: CaseHarness) -> None:
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 300)]))
    await to_path(harness, handle)
    state = await harness.update(
        handle, DenialCaseWorkflow.record_attestation, _attest(ALICE, "ab" * 32)
    )
    assert state.attestation is not None and state.attestation.document_sha256 == "ab" * 32


async def test_attestation_refused_where_not_needed(harness: CaseHarness) -> None:
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-197", 300)]))
    message = await refused(
        handle.execute_update(DenialCaseWorkflow.record_attestation, _attest(DREW)), "Invalid"
    )
    assert message == "this case needs no physician attestation (category: authorization)"


async def test_corrected_claim_sends_a_replacement_837(harness: CaseHarness) -> None:
    today = await harness.today()
    record = make_record(today, adjustments=[adj("CO-4", 800)], billed=800, lines=[LINE])
    handle, _ = await harness.triaged(record)
    state = await to_path(harness, handle, path=WorkPath.CORRECTED_CLAIM)
    corrections = ClaimCorrections(
        diagnosis_codes=["R69"],
        lines=[LineCorrection(line_number=1, modifiers=["25"], units=Decimal(2))],
    )
    task = harness.open_task(state, TaskType.PREPARE_CORRECTED_CLAIM)
    bad = CorrectedClaimSubmitted(
        corrections="modifier 25 added",
        submitted_on=today,
        claim_corrections=corrections.model_copy(
            update={"lines": [LineCorrection(line_number=4, units=Decimal(1))]}
        ),
    )
    message = await refused(
        handle.execute_update(
            DenialCaseWorkflow.complete_task,
            CompleteTask(actor=ALICE, task_id=task.task_id, payload=bad),
        ),
        "Invalid",
    )
    assert message == (
        "claim_corrections: corrections name service lines [4] that the claim does not have"
    )

    state = await harness.complete(
        handle,
        TaskType.PREPARE_CORRECTED_CLAIM,
        CorrectedClaimSubmitted(
            corrections="modifier 25 added", submitted_on=today, claim_corrections=corrections
        ),
    )
    (submission,) = state.submissions
    assert submission.kind is SubmissionKind.CORRECTED_CLAIM
    text = _read_text(Path(submission.sent_to))
    assert validate(text.encode()) == []
    parsed = read_837(text)
    assert (parsed.claim_id, parsed.frequency_code) == (record.claim.claim_id, "7")
    assert parsed.payer_claim_control_number == record.claim.payer_claim_control_number
    assert [(ln.procedure_code, ln.modifiers, ln.units) for ln in parsed.lines] == [
        ("99215", ["25"], Decimal(2))
    ]
    with Session(harness.engine) as session:
        (document,) = session.exec(select(CaseDocumentRow)).all()
        assert (document.kind, document.sha256) == ("corrected_claim_837", submission.sha256)


async def test_submission_activity_is_idempotent(
    harness: CaseHarness, rulebook: Rulebook, tmp_path: Path
) -> None:
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-197", 300)]))
    state = await to_path(harness, handle)
    activities = SubmissionActivities(
        harness.engine,
        rulebook,
        OutboxAdapter(tmp_path / "outbox"),
        DocumentStore(tmp_path),
        Submitter(),
    )
    request = SubmitRequest(
        submission_id=f"{handle.id}-again",
        state=state,
        kind=SubmissionKind.APPEAL,
        appeal_level=1,
        letter=finished_letter("The authorisation was on file."),
        submitted_by="alice",
        requested_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    first = activities.submit(request)
    second = activities.submit(request)
    assert first.model_dump(exclude={"document_id"}) == second.model_dump(exclude={"document_id"})
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [Path(first.location).name]
    with Session(harness.engine) as session:
        rows = session.exec(
            select(SubmissionRecordRow).where(
                SubmissionRecordRow.submission_id == request.submission_id
            )
        ).all()
        assert len(rows) == 1


def test_a_retry_after_the_letter_changed_returns_the_file_first_sent(tmp_path: Path) -> None:
    """An attempt that sent its file but failed before recording it is retried with a newer
    letter: the outbox keeps the one file that went out and the receipt describes it."""
    outbox = OutboxAdapter(tmp_path / "outbox")
    sent = SubmissionPackage(
        submission_id="case-1-t4",
        case_id="case-1",
        kind="appeal",
        filename="appeal-level1-v1.pdf",
        media_type="application/pdf",
        content=b"%PDF letter v1",
    )
    first = outbox.send(sent)
    retry = outbox.send(
        sent.model_copy(update={"filename": "appeal-level1-v2.pdf", "content": b"%PDF v2"})
    )
    assert retry == first
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["case-1-t4-appeal-level1-v1.pdf"]
    assert first.sha256 == hashlib.sha256(b"%PDF letter v1").hexdigest()


async def test_the_workflow_refuses_an_unfinished_letter_from_any_client(
    harness: CaseHarness,
) -> None:
    """Sent straight to the workflow (not through the service), an appeal without its letter
    or with a prompt left in it is refused by the validator: nothing reaches the outbox."""
    today = await harness.today()
    handle, _ = await harness.triaged(make_record(today, adjustments=[adj("CO-197", 300)]))
    state = await to_path(harness, handle)
    task = harness.open_task(state, TaskType.PREPARE_APPEAL)
    prompt = finished_letter("Authorisation [number] was on file.")
    ticked = finished_letter("Authorisation A-1 was on file.").model_copy(
        update={"enclosures": [EnclosureItem(name="Authorisation record")]}
    )
    for letter, reason in (
        (None, "the appeal letter is missing: submit the appeal from its task"),
        (prompt, 'the appeal is not ready to send: Fill in or remove "[number]" (in the argument)'),
        (ticked, 'the appeal is not ready to send: Attach "Authorisation record", or untick it'),
    ):
        payload = AppealSubmitted(
            level=1, argument="Authorisation", submitted_on=today, letter=letter
        )
        message = await refused(
            handle.execute_update(
                DenialCaseWorkflow.complete_task,
                CompleteTask(actor=ALICE, task_id=task.task_id, payload=payload),
            ),
            "Invalid",
        )
        assert message.startswith(reason)
    assert harness.data_dir is not None and not (harness.data_dir / "outbox").exists()
    assert (await harness.state(handle)).submissions == []


def test_the_submission_activity_sends_no_unfinished_letter(
    harness: CaseHarness, rulebook: Rulebook, tmp_path: Path
) -> None:
    """The last gate before the adapter: whatever reached the activity (an Update accepted
    before letters were checked), an unfinished letter is not sent, for good."""
    state = letter_case(rulebook, Category.AUTHORIZATION)
    activities = SubmissionActivities(
        harness.engine,
        rulebook,
        OutboxAdapter(tmp_path / "outbox"),
        DocumentStore(tmp_path),
        Submitter(),
    )
    request = SubmitRequest(
        submission_id="case-x-t5",
        state=state,
        kind=SubmissionKind.APPEAL,
        appeal_level=1,
        letter=finished_letter("Authorisation [number] was on file."),
        submitted_by="alice",
        requested_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    with pytest.raises(ApplicationError) as raised:
        activities.submit(request)
    assert (raised.value.type, raised.value.non_retryable) == ("AppealUnfinished", True)
    assert raised.value.message == (
        'the appeal letter is not finished: Fill in or remove "[number]" (in the argument)'
    )
    assert not (tmp_path / "outbox").exists()
