"""Appeal letters (versions), the packet PDF, physician attestation and case documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.downloads import content_disposition
from api.errors import ERROR_RESPONSES
from app.deps import AppealServiceDep, Attester, CaseReader, LetterReader, TaskWorker
from domain.appeals.finishing import MAX_LETTER_CHARS
from domain.models import MAX_NOTE_CHARS
from services.appeal_letters import MAX_ENCLOSURE_BYTES
from services.appeals import (
    MAX_ATTESTATION_BYTES,
    AppealLetterView,
    DocumentView,
    LetterVersionView,
)
from workflows.messages import CaseChange

router = APIRouter(prefix="/api/v1/cases", tags=["appeals"], responses=ERROR_RESPONSES)

LevelQuery = Annotated[
    int | None, Query(ge=1, le=9, description="Appeal level; default the case's current one")
]
PDF_RESPONSE = {200: {"content": {"application/pdf": {}}, "description": "The packet PDF"}}
FILE_RESPONSE = {200: {"content": {"application/octet-stream": {}}, "description": "The file"}}


class EnclosureTick(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    included: bool = Field(description="Sent with the appeal (it then needs a file)")


class LetterIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_LETTER_CHARS, description="The letter as edited")
    argument: str | None = Field(
        default=None,
        min_length=1,
        max_length=20_000,
        description="Replaces the letter's 'WHY THE CLAIM SHOULD BE PAID' section",
    )
    enclosures: list[EnclosureTick] = Field(
        default_factory=list, max_length=40, description="Enclosures to tick or untick, by name"
    )
    level: int | None = Field(default=None, ge=1, le=9)


class AttestationIn(BaseModel):
    physician_name: str = Field(min_length=1, max_length=200)
    statement: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


def _download(content: bytes, media_type: str, filename: str, sha256: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-SHA256": sha256,
        },
    )


@router.get("/{case_id}/appeal-letter")
def get_appeal_letter(
    case_id: str, appeals: AppealServiceDep, actor: LetterReader, level: LevelQuery = None
) -> AppealLetterView:
    """The generated draft, the current letter in parts, its enclosures, what is still missing
    before it can be sent, notes for the biller, every saved version and the attestation."""
    return appeals.letter(case_id, actor, level)


@router.post("/{case_id}/appeal-letter", status_code=status.HTTP_201_CREATED)
def save_appeal_letter(
    case_id: str, letter: LetterIn, appeals: AppealServiceDep, actor: TaskWorker
) -> LetterVersionView:
    """Keep an edited letter as a new version; earlier versions stay."""
    ticks = {tick.name: tick.included for tick in letter.enclosures}
    saved = appeals.save_letter(
        case_id, letter.body, actor, letter.level, argument=letter.argument, included=ticks
    )
    assert saved is not None  # kept even when unchanged
    return saved


@router.post("/{case_id}/appeal-letter/enclosures", status_code=status.HTTP_201_CREATED)
async def attach_enclosure(
    case_id: str,
    appeals: AppealServiceDep,
    actor: TaskWorker,
    enclosure: Annotated[str, Form(min_length=1, max_length=200, description="Its name")],
    file: Annotated[UploadFile, File(description="PDF, PNG or JPEG, at most 10 MiB")],
    level: Annotated[int | None, Form(ge=1, le=9)] = None,
) -> LetterVersionView:
    """Attach a file to one of the letter's enclosures (ticking it): a new letter version;
    the file is kept with the case and sent in the packet."""
    content = await file.read(MAX_ENCLOSURE_BYTES + 1)  # more is refused by the service
    return appeals.attach_enclosure(
        case_id, enclosure, file.filename or "enclosure", content, actor, level
    )


@router.delete("/{case_id}/appeal-letter/enclosures/{document_id}")
def detach_enclosure(
    case_id: str,
    document_id: str,
    appeals: AppealServiceDep,
    actor: TaskWorker,
    level: LevelQuery = None,
) -> LetterVersionView:
    """Take a file off the letter's enclosures: a new letter version (the file stays among
    the case's documents)."""
    return appeals.detach_enclosure(case_id, document_id, actor, level)


@router.get("/{case_id}/appeal-letter/pdf", response_class=Response, responses=PDF_RESPONSE)
def appeal_packet_pdf(
    case_id: str, appeals: AppealServiceDep, actor: LetterReader, level: LevelQuery = None
) -> Response:
    """The packet (the letter as sent, its contents page, the attached files) as a PDF, kept
    with the case."""
    row, content = appeals.packet(case_id, actor, level)
    return _download(content, row.media_type, row.filename, row.sha256)


@router.post("/{case_id}/attestation")
async def attest(
    case_id: str, attestation: AttestationIn, appeals: AppealServiceDep, actor: Attester
) -> CaseChange:
    """A physician attests the medical necessity of the services in a case."""
    return await appeals.attest(case_id, attestation.physician_name, attestation.statement, actor)


@router.post("/{case_id}/attestation/upload")
async def upload_attestation(
    case_id: str,
    appeals: AppealServiceDep,
    actor: TaskWorker,
    file: Annotated[UploadFile, File(description="The signed attestation: PDF, PNG or JPEG")],
    physician_name: Annotated[str, Form(min_length=1, max_length=200)],
    statement: Annotated[str, Form(min_length=1, max_length=MAX_NOTE_CHARS)],
) -> CaseChange:
    """Record the physician's signed attestation, uploaded by a biller."""
    content = await file.read(MAX_ATTESTATION_BYTES + 1)  # more is refused by the service
    return await appeals.upload_attestation(
        case_id, physician_name, statement, file.filename or "attestation", content, actor
    )


@router.get("/{case_id}/documents")
def list_documents(
    case_id: str, appeals: AppealServiceDep, actor: CaseReader
) -> list[DocumentView]:
    """Files kept with the case: packets, 837 files, signed attestations."""
    return appeals.documents(case_id, actor)


@router.get("/{case_id}/documents/{document_id}", response_class=Response, responses=FILE_RESPONSE)
def get_document(
    case_id: str, document_id: str, appeals: AppealServiceDep, actor: CaseReader
) -> Response:
    row, content = appeals.document(case_id, document_id, actor)
    return _download(content, row.media_type, row.filename, row.sha256)
