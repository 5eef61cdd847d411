"""Appeal letters, packets, attestations and case documents for an acting user.

The letter's facts come from the case as projected in the read model; changes that the
workflow must know about (the attestation) go to it as an Update. Every view and change is
audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from temporalio.client import Client

from db.models import CaseDocumentRow, CaseRow, UserRow
from domain.appeals.access import attestation_refusal, letter_edit_problem, letter_view_problem
from domain.appeals.finishing import (
    AttachedFile,
    LetterToSend,
    letter_as_sent,
    merge_argument,
    normalise,
    split_letter,
)
from domain.appeals.letters import LetterError
from domain.case import Actor, CaseState, CaseStatus, SubmissionKind, TaskType
from domain.rulebook import Rulebook
from services.appeal_letters import (
    MAX_ENCLOSURE_BYTES,
    AppealLetterView,
    CurrentLetter,
    LetterVersionView,
    check_packet_size,
    current_letter,
    enclosed_files,
    media_type_of,
    missing_parts,
    safe_filename,
    stored_enclosures,
    upload_problem,
)
from services.appeal_packets import add_letter_version, letter_versions, packet_contents, packet_pdf
from services.audit import AuditService, Outcome
from services.audited_updates import AuditedUpdates
from services.documents import DocumentStore
from services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Unfinished,
)
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import AppealSubmitted, CaseChange, RecordAttestation

MAX_ATTESTATION_BYTES = MAX_ENCLOSURE_BYTES


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
        self._updates = AuditedUpdates(session, client, audit)

    def _state(self, case_id: str) -> CaseState:
        row = self._session.get(CaseRow, case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        return CaseState.model_validate(row.state)

    def state(self, case_id: str) -> CaseState:
        """The case as the read model shows it (for a page already audited as viewed)."""
        return self._state(case_id)

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

    def _current(self, state: CaseState, level: int, at: datetime | None = None) -> CurrentLetter:
        today = state.policy.today(at or datetime.now(UTC))
        try:
            return current_letter(self._session, state, self._rulebook.table, today, level)
        except LetterError as exc:
            raise Conflict(f"no appeal letter for case {state.case_id}: {exc}") from exc

    @staticmethod
    def _appeal_task_id(state: CaseState, level: int) -> str | None:
        return next(
            (
                t.task_id
                for t in state.open_tasks
                if t.type is TaskType.PREPARE_APPEAL and t.appeal_level == level
            ),
            None,
        )

    def letter(self, case_id: str, actor: Actor, level: int | None = None) -> AppealLetterView:
        state = self._allowed(case_id, actor, "appeal_letter.view", letter_view_problem)
        level = self._level(state, level)
        current = self._current(state, level)
        parts = split_letter(current.letter.body)
        versions = letter_versions(self._session, case_id, level)
        self._audit.record(actor, "appeal_letter.view", case_id=case_id, level=level)
        return AppealLetterView(
            case_id=case_id,
            appeal_level=level,
            level_name=current.facts.level_name,
            filing_deadline=current.facts.filing_deadline,
            template=current.template,
            draft=current.draft,
            current=current.letter.body,
            opening=parts.opening,
            argument=parts.argument,
            closing=parts.closing,
            as_sent=letter_as_sent(current.letter),
            enclosures=current.letter.enclosures,
            missing=current.missing,
            notes_for_biller=current.notes,
            task_id=self._appeal_task_id(state, level),
            editable=self._editable(state, level),
            versions=[LetterVersionView.model_validate(v) for v in versions],
            attestation_required=current.facts.attestation_required,
            attestation=current.facts.attestation,
        )

    def _editing(
        self, case_id: str, actor: Actor, action: str, level: int | None
    ) -> tuple[CaseState, int, CurrentLetter]:
        """The letter `actor` may change now, or a refusal (audited)."""
        state = self._allowed(case_id, actor, action, letter_edit_problem)
        level = self._level(state, level)
        try:
            current = self._current(state, level)
            if not self._editable(state, level):
                raise Conflict(
                    f"the level {level} appeal of case {case_id} is no longer being prepared: "
                    "its letter can no longer change"
                )
        except ServiceError as exc:
            self._refused(actor, action, case_id, exc.message)
            raise
        return state, level, current

    def _keep(
        self,
        state: CaseState,
        level: int,
        current: CurrentLetter,
        letter: LetterToSend,
        actor: Actor,
        action: str,
    ) -> LetterVersionView:
        """Keep `letter` as the level's new version (earlier ones stay), audited as `action`."""
        try:
            row = add_letter_version(
                self._session,
                case_id=state.case_id,
                level=level,
                template=current.template,
                body=letter.body,
                enclosures=stored_enclosures(letter.enclosures),
                created_by=actor.user_id,
                created_at=datetime.now(UTC),
            )
        except ServiceError as exc:
            self._refused(actor, action, state.case_id, exc.message)
            raise
        self._audit.record(actor, action, case_id=state.case_id, level=level, version=row.version)
        self._session.commit()
        return LetterVersionView.model_validate(row)

    def save_letter(
        self,
        case_id: str,
        body: str,
        actor: Actor,
        level: int | None = None,
        *,
        argument: str | None = None,
        included: dict[str, bool] | None = None,
        unless_unchanged: bool = False,
    ) -> LetterVersionView | None:
        """Keep the biller's edit as a new version: the letter, with `argument` as its
        argument when given, and the enclosures ticked or unticked (by name). With
        `unless_unchanged`, an edit that changes nothing keeps nothing (None)."""
        state, level, current = self._editing(case_id, actor, "appeal_letter.save", level)
        body = normalise(body)
        if argument is not None:
            body = merge_argument(body, argument)
        ticks = included or {}
        enclosures = [
            item.model_copy(update={"included": ticks.get(item.name, item.included)})
            for item in current.letter.enclosures
        ]
        if unless_unchanged and (body, enclosures) == (
            current.letter.body,
            current.letter.enclosures,
        ):
            return None
        letter = LetterToSend(body=body, enclosures=enclosures)
        return self._keep(state, level, current, letter, actor, "appeal_letter.save")

    def attach_enclosure(
        self,
        case_id: str,
        enclosure: str,
        filename: str,
        content: bytes,
        actor: Actor,
        level: int | None = None,
    ) -> LetterVersionView:
        """Attach a file (PDF, PNG, JPEG) to one of the letter's enclosures, ticking it: kept
        with the case, and sent in the packet."""
        action = "appeal_letter.attach"
        state, level, current = self._editing(case_id, actor, action, level)
        names = [item.name for item in current.letter.enclosures if not item.provided]
        try:
            if enclosure not in names:
                raise Invalid(f"enclosure: the letter has no enclosure {enclosure!r} to attach to")
            problem = upload_problem(filename, content)
            if problem:
                raise Invalid(problem)
            check_packet_size(self._session, current.letter, len(content))
        except ServiceError as exc:
            self._refused(actor, action, case_id, exc.message)
            raise
        row = self._store_upload(case_id, "enclosure", filename, content, actor, {"level": level})
        attached = AttachedFile(
            document_id=row.document_id, filename=row.filename, sha256=row.sha256
        )
        enclosures = [
            item.model_copy(update={"included": True, "files": [*item.files, attached]})
            if item.name == enclosure and attached not in item.files
            else item
            for item in current.letter.enclosures
        ]
        letter = current.letter.model_copy(update={"enclosures": enclosures})
        return self._keep(state, level, current, letter, actor, action)

    def detach_enclosure(
        self, case_id: str, document_id: str, actor: Actor, level: int | None = None
    ) -> LetterVersionView:
        """Take a file off the letter's enclosures (it stays among the case's documents)."""
        action = "appeal_letter.detach"
        state, level, current = self._editing(case_id, actor, action, level)
        enclosures = [
            item.model_copy(
                update={"files": [f for f in item.files if f.document_id != document_id]}
            )
            for item in current.letter.enclosures
        ]
        if enclosures == current.letter.enclosures:
            reason = f"no file {document_id} is attached to this letter"
            self._refused(actor, action, case_id, reason)
            raise NotFound(reason)
        letter = current.letter.model_copy(update={"enclosures": enclosures})
        return self._keep(state, level, current, letter, actor, action)

    def finished_payload(
        self, case_id: str, payload: AppealSubmitted, actor: Actor
    ) -> AppealSubmitted:
        """The submission with its letter: the task's newest letter with the payload's
        argument in it, refused (Unfinished, every missing part listed) while anything is
        missing. A letter the argument changed is kept as a new version first, so the task
        shows what was sent."""
        action = "appeal_letter.submit"
        if self._appeal_task_id(self._state(case_id), payload.level) is None:
            return payload  # no such task: the workflow refuses it, saying why
        state, level, current = self._editing(case_id, actor, action, payload.level)
        body = merge_argument(current.letter.body, payload.argument)
        letter = current.letter.model_copy(update={"body": body})
        missing = missing_parts(letter, state)
        if missing:
            error = Unfinished(missing)
            self._refused(actor, action, case_id, error.message)
            raise error
        if body != current.letter.body:
            saved = self._keep(state, level, current, letter, actor, "appeal_letter.save")
            letter = letter.model_copy(
                update={"version": saved.version, "written_by": saved.created_by}
            )
        argument = split_letter(body).argument
        return payload.model_copy(update={"letter": letter, "argument": argument})

    def packet(
        self, case_id: str, actor: Actor, level: int | None = None
    ) -> tuple[CaseDocumentRow, bytes]:
        """The packet PDF of the current letter and its attached files, kept with the case."""
        state = self._allowed(case_id, actor, "appeal_packet.download", letter_view_problem)
        level = self._level(state, level)
        versions = letter_versions(self._session, case_id, level)
        # Dated by what it shows, so downloading the same letter twice keeps one document.
        generated_at = versions[-1].created_at if versions else state.updated_at
        current = self._current(state, level, generated_at)
        files = enclosed_files(self._session, self._documents, case_id, current.letter)
        contents = packet_contents(case_id, current.facts, current.letter, generated_at, files)
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
        request = RecordAttestation(
            actor=actor,
            physician_name=physician_name,
            statement=statement,
            document_sha256=document_sha256,
        )
        return await self._updates.send(
            actor,
            "case.attest",
            case_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.record_attestation, request, id=update_id
            ),
            uploaded=bool(document_sha256),
        )

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
        problem = upload_problem(filename, content, MAX_ATTESTATION_BYTES)
        if problem:
            self._refused(actor, "case.attest", case_id, problem)
            raise Invalid(problem)
        row = self._store_upload(case_id, "attestation", filename, content, actor)
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

    def _store_upload(
        self,
        case_id: str,
        kind: str,
        filename: str,
        content: bytes,
        actor: Actor,
        detail: dict[str, object] | None = None,
    ) -> CaseDocumentRow:
        """Store an upload already checked (its type is one upload_problem accepts)."""
        media_type = media_type_of(content)
        assert media_type is not None
        return self._documents.save(
            self._session,
            case_id=case_id,
            kind=kind,
            filename=safe_filename(filename, kind),
            media_type=media_type,
            content=content,
            created_by=actor.user_id,
            created_at=datetime.now(UTC),
            detail=detail,
        )

    def _refused(self, actor: Actor, action: str, case_id: str, reason: str) -> None:
        self._audit.record(actor, action, Outcome.REFUSED, case_id=case_id, reason=reason)
