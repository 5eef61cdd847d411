"""Appeal letters, packets, attestations and case documents for an acting user.

The letter's facts come from the case as projected in the read model; changes that the
workflow must know about (the attestation) go to it as an Update. Every view and change is
audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from temporalio.client import Client

from db.models import AppealLetterRow, CaseDocumentRow, CaseRow, UserRow
from domain.appeals.access import attestation_refusal, letter_edit_problem, letter_view_problem
from domain.appeals.attestation import Attestation
from domain.appeals.letters import (
    LetterError,
    build_letter_facts,
    render_letter,
    with_current_attestation,
)
from domain.case import Actor, CaseState, CaseStatus, SubmissionKind
from domain.rulebook import Rulebook
from services.appeal_packets import (
    add_letter_version,
    latest_letter,
    letter_versions,
    packet_contents,
    packet_pdf,
)
from services.audit import AuditService, Outcome
from services.documents import DocumentStore
from services.errors import Conflict, Forbidden, Invalid, NoAnswer, NotFound, ServiceError
from services.stopped_cases import case_errors
from services.temporal_calls import new_update_id, release_connection
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import CaseChange, RecordAttestation

MAX_ATTESTATION_BYTES = 10 * 1024 * 1024
# What a signed attestation may be: a PDF or a scan.
_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


class LetterVersionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    template: str
    body: str
    created_by: str
    created_at: datetime


class AppealLetterView(BaseModel):
    case_id: str
    appeal_level: int
    level_name: str
    filing_deadline: date | None
    template: str = Field(description="The template the draft was generated from")
    draft: str = Field(description="The letter as generated from the case now")
    current: str = Field(description="The newest saved version, else the draft")
    editable: bool = Field(description="Whether this level's appeal is still being prepared")
    versions: list[LetterVersionView]
    attestation_required: bool
    attestation: Attestation | None


class DocumentView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    document_id: str
    kind: str
    filename: str
    media_type: str
    sha256: str
    size: int
    created_by: str
    created_at: datetime


class AppealService:
    def __init__(
        self,
        session: Session,
        client: Client,
        rulebook: Rulebook,
        documents: DocumentStore,
        audit: AuditService,
    ) -> None:
        self._session = session
        self._client = client
        self._rulebook = rulebook
        self._documents = documents
        self._audit = audit

    def _state(self, case_id: str) -> CaseState:
        row = self._session.get(CaseRow, case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        return CaseState.model_validate(row.state)

    def _allowed(
        self,
        case_id: str,
        actor: Actor,
        action: str,
        rule: Callable[[Actor, CaseState], str | None],
    ) -> CaseState:
        """The case's state if `rule` lets the actor do `action` on it, else 403 (audited)."""
        state = self._state(case_id)
        problem = rule(actor, state)
        if problem:
            self._refused(actor, action, case_id, problem)
            raise Forbidden(problem)
        return state

    def _level(self, state: CaseState, level: int | None) -> int:
        return level or max(state.appeal_level, 1)

    @staticmethod
    def _editable(state: CaseState, level: int) -> bool:
        """A level's letter can change until that level's appeal is submitted."""
        if state.status is CaseStatus.CLOSED or level < max(state.appeal_level, 1):
            return False
        return not any(
            s.kind is SubmissionKind.APPEAL and s.appeal_level == level for s in state.submissions
        )

    # --- Letters ------------------------------------------------------------------------------

    def letter(self, case_id: str, actor: Actor, level: int | None = None) -> AppealLetterView:
        state = self._allowed(case_id, actor, "appeal_letter.view", letter_view_problem)
        level = self._level(state, level)
        try:
            facts = build_letter_facts(
                state, self._rulebook.table, state.policy.today(datetime.now(UTC)), level
            )
        except LetterError as exc:
            raise Conflict(f"no appeal letter for case {case_id}: {exc}") from exc
        draft = render_letter(facts)
        versions = letter_versions(self._session, case_id, level)
        self._audit.record(actor, "appeal_letter.view", case_id=case_id, level=level)
        return AppealLetterView(
            case_id=case_id,
            appeal_level=level,
            level_name=facts.level_name,
            filing_deadline=facts.filing_deadline,
            template=draft.template,
            draft=draft.body,
            current=with_current_attestation(versions[-1].body, facts.attestation)
            if versions
            else draft.body,
            editable=self._editable(state, level),
            versions=[LetterVersionView.model_validate(v) for v in versions],
            attestation_required=facts.attestation_required,
            attestation=facts.attestation,
        )

    def save_letter(
        self, case_id: str, body: str, actor: Actor, level: int | None = None
    ) -> LetterVersionView:
        """Keep the biller's edit as a new version (earlier ones stay)."""
        state = self._allowed(case_id, actor, "appeal_letter.save", letter_edit_problem)
        level = self._level(state, level)
        try:
            facts = build_letter_facts(
                state, self._rulebook.table, state.policy.today(datetime.now(UTC)), level
            )
            if not self._editable(state, level):
                raise Conflict(
                    f"the level {level} appeal of case {case_id} is no longer being prepared: "
                    "its letter can no longer change"
                )
            row = add_letter_version(
                self._session,
                case_id=case_id,
                level=level,
                template=render_letter(facts).template,
                body=body,
                created_by=actor.user_id,
                created_at=datetime.now(UTC),
            )
        except LetterError as exc:
            self._refused(actor, "appeal_letter.save", case_id, str(exc))
            raise Conflict(f"no appeal letter for case {case_id}: {exc}") from exc
        except ServiceError as exc:
            self._refused(actor, "appeal_letter.save", case_id, exc.message)
            raise
        self._audit.record(
            actor, "appeal_letter.save", case_id=case_id, level=level, version=row.version
        )
        self._session.commit()
        return LetterVersionView.model_validate(row)

    def packet(
        self, case_id: str, actor: Actor, level: int | None = None
    ) -> tuple[CaseDocumentRow, bytes]:
        """The packet PDF of the newest letter version, kept with the case."""
        state = self._allowed(case_id, actor, "appeal_packet.download", letter_view_problem)
        level = self._level(state, level)
        letter: AppealLetterRow | None = latest_letter(self._session, case_id, level)
        # Dated by what it shows, so downloading the same letter twice keeps one document.
        generated_at = letter.created_at if letter else state.updated_at
        try:
            contents = packet_contents(state, self._rulebook.table, letter, generated_at, level)
        except LetterError as exc:
            raise Conflict(f"no appeal packet for case {case_id}: {exc}") from exc
        filename, content = packet_pdf(contents)
        row = self._documents.save(
            self._session,
            case_id=case_id,
            kind="appeal_packet",
            filename=filename,
            media_type="application/pdf",
            content=content,
            created_by=actor.user_id,
            created_at=datetime.now(UTC),
            detail={"level": level, "letter_version": contents.letter_version},
        )
        self._audit.record(
            actor, "appeal_packet.download", case_id=case_id, level=level, sha256=row.sha256
        )
        self._session.commit()
        return row, content

    # --- Attestation --------------------------------------------------------------------------

    async def attest(
        self,
        case_id: str,
        physician_name: str,
        statement: str,
        actor: Actor,
        document_sha256: str = "",
    ) -> CaseChange:
        self._state(case_id)
        if not document_sha256:
            # Signed in the case manager: the name is the signed-in physician's, not typed.
            user = self._session.get(UserRow, actor.user_id)
            physician_name = user.display_name if user else physician_name
        handle = self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
        request = RecordAttestation(
            actor=actor,
            physician_name=physician_name,
            statement=statement,
            document_sha256=document_sha256,
        )
        update_id = new_update_id()
        uploaded = bool(document_sha256)
        release_connection(self._session)
        try:
            async with case_errors(self._session, self._client, case_id):
                change = await handle.execute_update(
                    DenialCaseWorkflow.record_attestation, request, id=update_id
                )
        except NoAnswer as exc:
            self._audit.record_unanswered(
                actor,
                "case.attest",
                update_id,
                case_id=case_id,
                reason=exc.message,
                uploaded=uploaded,
            )
            raise
        except ServiceError as exc:
            outcome = Outcome.FAILED if exc.status_code >= 500 else Outcome.REFUSED
            self._audit.record(actor, "case.attest", outcome, case_id=case_id, reason=exc.message)
            raise
        self._audit.record(
            actor, "case.attest", case_id=case_id, update_id=update_id, uploaded=uploaded
        )
        return change

    async def upload_attestation(
        self,
        case_id: str,
        physician_name: str,
        statement: str,
        filename: str,
        content: bytes,
        actor: Actor,
    ) -> CaseChange:
        """Keep the physician's signed attestation with the case, then record it. What the
        workflow would refuse is refused first, so no refused file is ever kept."""
        state = self._allowed(case_id, actor, "case.attest", letter_edit_problem)
        refusal = attestation_refusal(state)
        if refusal is not None:
            is_conflict, reason = refusal
            self._refused(actor, "case.attest", case_id, reason)
            raise Conflict(reason) if is_conflict else Invalid(reason)
        media_type = next(
            (t for magic, t in _SIGNATURES.items() if content.startswith(magic)), None
        )
        problem = None
        if not content:
            problem = f"file {filename!r} is empty"
        elif len(content) > MAX_ATTESTATION_BYTES:
            problem = f"file {filename!r} is larger than {MAX_ATTESTATION_BYTES // 2**20} MiB"
        elif media_type is None:
            problem = f"file {filename!r} is not a PDF, PNG or JPEG signed attestation"
        if problem:
            self._refused(actor, "case.attest", case_id, problem)
            raise Invalid(problem)
        assert media_type is not None
        safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[-80:]
        row = self._documents.save(
            self._session,
            case_id=case_id,
            kind="attestation",
            filename=safe_name or "attestation",
            media_type=media_type,
            content=content,
            created_by=actor.user_id,
            created_at=datetime.now(UTC),
        )
        self._session.commit()
        return await self.attest(case_id, physician_name, statement, actor, row.sha256)

    # --- Documents ----------------------------------------------------------------------------

    def documents(self, case_id: str, actor: Actor) -> list[DocumentView]:
        self._state(case_id)
        rows = self._documents.list(self._session, case_id)
        self._audit.record(actor, "case.documents", case_id=case_id)
        return [DocumentView.model_validate(row) for row in rows]

    def document(
        self, case_id: str, document_id: str, actor: Actor
    ) -> tuple[CaseDocumentRow, bytes]:
        self._state(case_id)
        row, content = self._documents.read(self._session, case_id, document_id)
        self._audit.record(actor, "case.document", case_id=case_id, document_id=document_id)
        return row, content

    def _refused(self, actor: Actor, action: str, case_id: str, reason: str) -> None:
        self._audit.record(actor, action, Outcome.REFUSED, case_id=case_id, reason=reason)
