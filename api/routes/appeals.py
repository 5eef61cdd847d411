"""Appeal letters (versions), the packet PDF, physician attestation and case documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import AppealServiceDep, Attester, CaseReader, LetterReader, TaskWorker
from api.downloads import content_disposition
from api.errors import ERROR_RESPONSES
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


class LetterIn(BaseModel):
    body: str = Field(min_length=1, max_length=50_000, description="The letter as edited")
    level: int | None = Field(default=None, ge=1, le=9)


class AttestationIn(BaseModel):
    physician_name: str = Field(min_length=1, max_length=200)
    statement: str = Field(min_length=1, max_length=4000)


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
    """The generated draft, every saved version (who, when) and the attestation status."""
    return appeals.letter(case_id, actor, level)


@router.post("/{case_id}/appeal-letter", status_code=status.HTTP_201_CREATED)
def save_appeal_letter(
    case_id: str, letter: LetterIn, appeals: AppealServiceDep, actor: TaskWorker
) -> LetterVersionView:
    """Keep an edited letter as a new version; earlier versions stay."""
    return appeals.save_letter(case_id, letter.body, actor, letter.level)


@router.get("/{case_id}/appeal-letter/pdf", response_class=Response, responses=PDF_RESPONSE)
def appeal_packet_pdf(
    case_id: str, appeals: AppealServiceDep, actor: LetterReader, level: LevelQuery = None
) -> Response:
    """The packet (newest letter, enclosure checklist, attestation status) as a PDF, kept
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
    statement: Annotated[str, Form(min_length=1, max_length=4000)],
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
