"""The appeal letter as the task holds it now: the newest saved version (else the generated
draft), its enclosures with the files attached, and what is still missing before it can be
sent. Shared by the appeals service (the task, the API), the task service (submission) and the
submission activity (what is sent), so all of them see one letter."""

from __future__ import annotations

import io
from datetime import date, datetime

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from db.models import AppealLetterRow, CaseDocumentRow
from domain.appeals.attestation import Attestation, attestation_problem
from domain.appeals.enclosures import ATTESTATION_ENCLOSURE
from domain.appeals.finishing import (
    AttachedFile,
    EnclosureItem,
    LetterToSend,
    unfinished_parts,
)
from domain.appeals.letters import (
    LetterFacts,
    build_letter_facts,
    notes_for_biller,
    render_letter,
    with_current_attestation,
)
from domain.case import CaseState
from domain.classification import ClassificationTable
from services.appeal_packets import latest_letter
from services.documents import DocumentStore
from services.errors import Invalid, NotFound
from services.packet_pdf import EnclosedFile

MIB = 2**20
MAX_ENCLOSURE_BYTES = 10 * MIB
# What one packet may carry in attachments: clearinghouse and payer portals cap an upload
# around 25-50 MB; the PDF adds little beyond its files.
MAX_PACKET_ENCLOSURE_BYTES = 25 * MIB
# What an enclosure or a signed attestation may be: a PDF or a scan.
SIGNATURES = {
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
    opening: str = Field(description="The current letter up to its argument")
    argument: str = Field(description="The current letter's argument (why it should be paid)")
    closing: str = Field(description="The current letter after its argument")
    as_sent: str = Field(description="The current letter as the payer reads it, enclosures listed")
    enclosures: list[EnclosureItem] = Field(description="What the packet encloses, with files")
    missing: list[str] = Field(description="What must be done before it can be sent")
    notes_for_biller: list[str] = Field(description="Internal notes, never sent to the payer")
    task_id: str | None = Field(description="The open appeal task of this level, if any")
    editable: bool = Field(description="Whether this level's appeal is still being prepared")
    versions: list[LetterVersionView]
    attestation_required: bool
    attestation: Attestation | None


class CurrentLetter(BaseModel):
    """One level's letter as the appeal task shows it and would send it."""

    model_config = ConfigDict(frozen=True)

    facts: LetterFacts
    template: str
    draft: str
    letter: LetterToSend
    missing: list[str]
    notes: list[str]


def media_type_of(content: bytes) -> str | None:
    return next((t for magic, t in SIGNATURES.items() if content.startswith(magic)), None)


def safe_filename(filename: str, fallback: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[-80:] or fallback


def upload_problem(filename: str, content: bytes, limit: int = MAX_ENCLOSURE_BYTES) -> str | None:
    """Why an uploaded file cannot be enclosed with a packet, or None. A payer must be able to
    open it: a PDF that reads (and has no password) or a PNG / JPEG image that decodes."""
    media_type = media_type_of(content)
    if not content:
        return f"file {filename!r} is empty"
    if len(content) > limit:
        return f"file {filename!r} is larger than {limit // MIB} MiB"
    if media_type is None:
        return f"file {filename!r} is not a PDF, PNG or JPEG"
    try:
        if media_type == "application/pdf":
            import pypdf  # ~30 MiB: loaded when a PDF is checked, not at every start

            reader = pypdf.PdfReader(io.BytesIO(content))
            if reader.is_encrypted:
                return f"file {filename!r} is password-protected: save it without a password"
            if len(reader.pages) == 0:
                return f"file {filename!r} has no pages"
        else:
            with Image.open(io.BytesIO(content)) as image:
                image.verify()
    except Exception:  # any parser error: the payer could not open it either
        return f"file {filename!r} is damaged: it does not open as a {media_type.split('/')[1]}"
    return None


def _attestation_item(state: CaseState, session: Session) -> EnclosureItem | None:
    """The attestation goes with the packet once recorded: the signed file uploaded, or the
    physician's attestation in the case manager (stated in the letter)."""
    attestation = state.attestation
    if attestation is None:
        return None
    item = EnclosureItem(name=ATTESTATION_ENCLOSURE.name, detail=ATTESTATION_ENCLOSURE.detail)
    if not attestation.document_sha256:
        signed = state.policy.today(attestation.recorded_at).isoformat()
        provided = f"signed by {attestation.physician_name} in the case manager on {signed}"
        return item.model_copy(update={"provided": provided})
    document = session.exec(
        select(CaseDocumentRow).where(
            CaseDocumentRow.case_id == state.case_id,
            CaseDocumentRow.kind == "attestation",
            CaseDocumentRow.sha256 == attestation.document_sha256,
        )
    ).first()
    if document is None:  # kept elsewhere: the letter states it, the contents page names it
        return item.model_copy(update={"provided": "signed attestation uploaded to the case"})
    attached = AttachedFile(
        document_id=document.document_id, filename=document.filename, sha256=document.sha256
    )
    return item.model_copy(update={"files": [attached]})


def enclosures_of(
    facts: LetterFacts, row: AppealLetterRow | None, state: CaseState, session: Session
) -> list[EnclosureItem]:
    """The category's enclosures as the biller last left them (ticks, files), any she added,
    and the attestation once recorded."""
    saved = [EnclosureItem.model_validate(item) for item in (row.enclosures or [])] if row else []
    by_name = {item.name: item for item in saved}
    items = [
        by_name.pop(e.name, EnclosureItem(name=e.name, detail=e.detail))
        for e in facts.enclosures
        if e != ATTESTATION_ENCLOSURE
    ]
    items.extend(by_name.values())
    attestation = _attestation_item(state, session)
    return [*items, attestation] if attestation else items


def stored_enclosures(items: list[EnclosureItem]) -> list[dict[str, object]]:
    """What a letter version keeps: the biller's enclosures (the attestation's follows the
    case)."""
    return [
        item.model_dump(mode="json") for item in items if item.name != ATTESTATION_ENCLOSURE.name
    ]


def missing_parts(letter: LetterToSend, state: CaseState) -> list[str]:
    """What the biller must still do: the letter's unfinished parts, then the attestation when
    the letter does not already say it is pending."""
    missing = unfinished_parts(letter)
    problem = attestation_problem(state.category, state.attestation)
    if problem and not any("attestation" in part for part in missing):
        missing.append(problem[0].upper() + problem[1:])
    return missing


def current_letter(
    session: Session,
    state: CaseState,
    table: ClassificationTable,
    today: date,
    level: int,
    row: AppealLetterRow | None = None,
) -> CurrentLetter:
    """The newest saved version of `level`'s letter (or `row`), else the generated draft."""
    facts = build_letter_facts(state, table, today, level)
    draft = render_letter(facts)
    row = row or latest_letter(session, state.case_id, level)
    body = with_current_attestation(row.body, facts.attestation) if row else draft.body
    letter = LetterToSend(
        body=body,
        enclosures=enclosures_of(facts, row, state, session),
        version=row.version if row else 0,
        written_by=row.created_by if row else "",
    )
    return CurrentLetter(
        facts=facts,
        template=draft.template,
        draft=draft.body,
        letter=letter,
        missing=missing_parts(letter, state),
        notes=notes_for_biller(facts),
    )


def check_packet_size(session: Session, letter: LetterToSend, adding: int = 0) -> None:
    """Refuse a file that would take the packet's attachments past the limit."""
    total = adding
    for item in letter.enclosures:
        for attached in item.files:
            document = session.get(CaseDocumentRow, attached.document_id)
            total += document.size if document else 0
    if total > MAX_PACKET_ENCLOSURE_BYTES:
        raise Invalid(
            f"the packet's attachments would come to {total / MIB:.1f} MiB, over the "
            f"{MAX_PACKET_ENCLOSURE_BYTES // MIB} MiB a packet may carry: attach smaller "
            "scans or fewer pages"
        )


def enclosed_files(
    session: Session, documents: DocumentStore, case_id: str, letter: LetterToSend
) -> list[EnclosedFile]:
    """The bytes of every file the letter's ticked enclosures carry, checked against the
    SHA-256 each was attached with (NotFound when one is gone or changed)."""
    files = []
    for item in letter.enclosures:
        if not item.included:
            continue
        for attached in item.files:
            row, content = documents.read(session, case_id, attached.document_id)
            if row.sha256 != attached.sha256:
                raise NotFound(f"enclosure file {attached.filename} is not the one attached")
            files.append(
                EnclosedFile(
                    enclosure=item.name,
                    filename=attached.filename,
                    media_type=row.media_type,
                    content=content,
                )
            )
    return files
