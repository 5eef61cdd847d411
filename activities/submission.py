"""Submit an appeal packet or a corrected claim through the clearinghouse adapter.

Idempotent: a submission id already recorded returns its receipt; a retry after a crash finds
the document and the outbox file already written and reuses them."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory, CancelledError

from db.engine import session_scope
from db.models import SubmissionRecordRow
from domain.appeals.corrections import replacement_claim, revenue_codes
from domain.appeals.finishing import unfinished_parts
from domain.case import SubmissionKind
from domain.rulebook import Rulebook
from edi.claim837 import Submitter, write_837
from services.appeal_letters import current_letter, enclosed_files
from services.appeal_packets import packet_contents, packet_pdf
from services.clearinghouse import (
    ClearinghouseAdapter,
    SentReceipt,
    SubmissionPackage,
    SubmissionRefused,
)
from services.documents import DocumentStore
from services.errors import NotFound
from workflows.messages import SubmissionReceipt, SubmitRequest

NOTHING_SENT = "none"


def _receipt(row: SubmissionRecordRow, document_id: str | None) -> SubmissionReceipt:
    return SubmissionReceipt(
        submission_id=row.submission_id,
        adapter=row.adapter,
        location=row.location,
        sha256=row.sha256,
        sent_at=row.submitted_at,
        document_id=document_id,
    )


def _control_number(submission_id: str) -> int:
    """A stable ISA/GS control number per submission (a retry writes the same file)."""
    return int(hashlib.sha256(submission_id.encode()).hexdigest()[:8], 16) % 1_000_000_000


class SubmissionActivities:
    def __init__(
        self,
        engine: Engine,
        rulebook: Rulebook,
        adapter: ClearinghouseAdapter,
        documents: DocumentStore,
        submitter: Submitter,
    ) -> None:
        self._engine = engine
        self._rulebook = rulebook
        self._adapter = adapter
        self._documents = documents
        self._submitter = submitter

    def _package(
        self, session: Session, request: SubmitRequest
    ) -> tuple[str, str, str, bytes] | None:
        """(kind, filename, media type, bytes) of what to send, or None when nothing can be
        built (a corrected claim recorded without structured corrections)."""
        state = request.state
        if request.kind is SubmissionKind.APPEAL:
            return self._appeal_packet(session, request)
        corrections = request.claim_corrections
        if corrections is None:
            return None
        claim = replacement_claim(state.record.claim, corrections, state.kind)
        text = write_837(
            claim,
            corrections.diagnosis_codes,
            self._submitter,
            _control_number(request.submission_id),
            request.requested_at,
            revenue_codes(corrections),
        )
        kind = "void_837" if claim.frequency_code == "8" else "corrected_claim_837"
        return kind, f"{kind.replace('_', '-')}.x12", "application/edi-x12", text.encode()

    def _appeal_packet(
        self, session: Session, request: SubmitRequest
    ) -> tuple[str, str, str, bytes]:
        """The packet of the letter the biller submitted (an Update sent before letters came
        with it: the newest saved one). Whatever the way here, an unfinished letter or a
        missing file never leaves: this is the last gate before the adapter."""
        state = request.state
        level = request.appeal_level or max(state.appeal_level, 1)
        today = state.policy.today(request.requested_at)
        current = current_letter(session, state, self._rulebook.table, today, level)
        letter = request.letter or current.letter
        missing = unfinished_parts(letter)
        if missing:
            raise ApplicationError(
                f"the appeal letter is not finished: {'; '.join(missing)}",
                type="AppealUnfinished",
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            )
        try:
            files = enclosed_files(session, self._documents, state.case_id, letter)
        except NotFound as exc:
            raise ApplicationError(
                f"an enclosure cannot be sent: {exc.message}",
                type="EnclosureMissing",
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        packet = packet_contents(state.case_id, current.facts, letter, request.requested_at, files)
        filename, content = packet_pdf(packet)
        return "appeal_packet", filename, "application/pdf", content

    def _send(self, package: SubmissionPackage) -> SentReceipt:
        """The adapter's words are what the biller is told. Its failures are expected (the
        case records them), so they are benign: logged at DEBUG, not with every attempt at
        WARNING, since a clearinghouse's message may quote the claim."""
        try:
            return self._adapter.send(package)
        except CancelledError:
            raise
        except SubmissionRefused as exc:
            raise ApplicationError(
                f"the clearinghouse ({self._adapter.name}) refused it: {exc}",
                type="SubmissionRefused",
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        except Exception as exc:
            raise ApplicationError(
                f"the clearinghouse ({self._adapter.name}) did not take it: {exc}",
                type="ClearinghouseUnavailable",
                category=ApplicationErrorCategory.BENIGN,
            ) from None

    @activity.defn(name="submit_case_work")
    def submit(self, request: SubmitRequest) -> SubmissionReceipt:
        try:
            return self._submit(request)
        except IntegrityError:
            # An attempt that timed out recorded the same submission meanwhile (its thread
            # ran on): what it sent is the submission.
            with Session(self._engine) as session:
                existing = session.get(SubmissionRecordRow, request.submission_id)
                if existing is None:
                    raise
                return _receipt(existing, None)

    def _submit(self, request: SubmitRequest) -> SubmissionReceipt:
        with session_scope(self._engine) as session:
            existing = session.get(SubmissionRecordRow, request.submission_id)
            if existing is not None:
                return _receipt(existing, None)
            built = self._package(session, request)
            document_id: str | None = None
            if built is None:
                location, sha256, adapter = "", "", NOTHING_SENT
                sent_at: datetime = request.requested_at
            else:
                kind, filename, media_type, content = built
                document = self._documents.save(
                    session,
                    case_id=request.state.case_id,
                    kind=kind,
                    filename=filename,
                    media_type=media_type,
                    content=content,
                    created_by=request.submitted_by,
                    created_at=request.requested_at,
                    detail={"submission_id": request.submission_id},
                )
                sent = self._send(
                    SubmissionPackage(
                        submission_id=request.submission_id,
                        case_id=request.state.case_id,
                        kind=request.kind.value,
                        filename=filename,
                        media_type=media_type,
                        content=content,
                    )
                )
                location, sha256, adapter = sent.location, sent.sha256, sent.adapter
                sent_at, document_id = sent.sent_at, document.document_id
            row = SubmissionRecordRow(
                submission_id=request.submission_id,
                case_id=request.state.case_id,
                kind=request.kind.value,
                appeal_level=request.appeal_level,
                adapter=adapter,
                location=location,
                sha256=sha256,
                submitted_at=sent_at,
                submitted_by=request.submitted_by,
            )
            session.add(row)
            return _receipt(row, document_id)
