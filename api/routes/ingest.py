"""Ingest X12 files (835, 277CA, 999) and read back what each ingest did."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from api.downloads import content_disposition
from api.errors import ERROR_RESPONSES
from app.deps import (
    AuditDep,
    Ingester,
    IngestResumer,
    IngestServiceDep,
    OffsetQuery,
    SessionDep,
)
from app.upload_limits import LARGE_UPLOAD_BYTES, MAX_FILE_BYTES
from db import ingest_chunks
from db.ingest_files import ingested_file
from db.models import IngestFileRow
from services.errors import Invalid, NotFound
from services.ingest import Received, list_ingests
from services.ingest_background import BackgroundIngests
from services.ingest_report import IngestSummary

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"], responses=ERROR_RESPONSES)


class IngestOut(BaseModel):
    sha256: str
    filename: str
    size: int
    kind: str | None
    status: str
    received_by: str
    received_at: datetime
    finished_at: datetime | None
    report: dict[str, Any]
    validation: dict[str, Any] | None = Field(
        description="The implementation-guide check (pyx12), run beside the ingest in another "
        "process: status pending | running | done | failed | interrupted, and when done its "
        "findings (warnings, as in the report) and findings_omitted; null if never run (no ISA "
        "envelope, or received before it ran this way)"
    )


class AcceptedFile(BaseModel):
    file: str
    sha256: str
    status: str = Field(
        description="received: being ingested in the background; duplicate: ingested before "
        "(nothing starts again); another status: that of the ingest already working the file"
    )
    report_url: str = Field(description="GET it for the file's progress, then its report")


class IngestAccepted(BaseModel):
    files: list[AcceptedFile]


@router.post(
    "",
    response_model=IngestSummary,
    responses={202: {"model": IngestAccepted, "description": "Large upload: being ingested"}},
)
async def ingest_files(
    request: Request,
    files: Annotated[list[UploadFile], File(description="835, 277CA or 999 files")],
    ingest: IngestServiceDep,
    actor: Ingester,
) -> IngestSummary | JSONResponse:
    """Store each file, check its structure, then open cases or answer open ones.

    Up to 5 MiB in all, the answer (200) is the summary, once every file is ingested. A larger
    upload is stored, then ingested in the background: the answer (202) comes at once and
    gives each file's sha256, status and `report_url` (GET /api/v1/ingest/{sha256}), which
    shows the ingest's stage and counts until the report is there. A file is at most 50 MiB,
    a request 100 MiB (413 past either, while the body streams in)."""
    for upload in files:  # app.upload_limits refused larger files as they came: a backstop
        if (upload.size or 0) > MAX_FILE_BYTES:
            raise Invalid(f"{upload.filename}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
    contents = [(upload.filename or "upload", upload.file) for upload in files]
    if sum(upload.size or 0 for upload in files) <= LARGE_UPLOAD_BYTES:
        return await ingest.ingest_many(contents, actor)
    background: BackgroundIngests = request.app.state.background_ingests
    outcomes = await background.receive(ingest, contents, actor)
    accepted = [
        AcceptedFile(
            file=name,
            sha256=outcome.sha256,
            # Else ingested before, or another ingest is working it: nothing to do here.
            status="received" if isinstance(outcome, Received) else outcome.status,
            report_url=f"{router.prefix}/{outcome.sha256}",
        )
        for (name, _), outcome in zip(contents, outcomes, strict=True)
    ]
    return JSONResponse(IngestAccepted(files=accepted).model_dump(mode="json"), status_code=202)


@router.post("/resume")
async def resume_unfinished(
    ingest: IngestServiceDep,
    actor: IngestResumer,
    older_than_minutes: Annotated[int, Query(ge=0, le=7 * 24 * 60)] = 10,
) -> IngestSummary:
    """Ingest again every file whose ingest did not finish (status received: the process
    stopped mid-way; incomplete: Temporal was unreachable), received more than
    `older_than_minutes` ago, that no other ingest is working (each file is leased to one).
    Supervisors only; the API also does this by itself when it starts. Nothing is started or
    counted twice."""
    return await ingest.resume_unfinished(actor, timedelta(minutes=older_than_minutes))


@router.get("")
def list_ingested(
    session: SessionDep,
    actor: Ingester,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
) -> list[IngestOut]:
    return [
        IngestOut.model_validate(row, from_attributes=True)
        for row in list_ingests(session, limit, offset)
    ]


def _ingested(session: SessionDep, sha256: str) -> IngestFileRow:
    row = ingested_file(session, sha256)
    if row is None:
        raise NotFound(f"no ingested file {sha256}")
    return row


@router.get("/{sha256}")
def get_ingested(sha256: str, session: SessionDep, actor: Ingester) -> IngestOut:
    return IngestOut.model_validate(_ingested(session, sha256), from_attributes=True)


@router.get("/{sha256}/raw", response_class=StreamingResponse)
def get_raw(
    sha256: str, session: SessionDep, actor: Ingester, audit: AuditDep
) -> StreamingResponse:
    """The file exactly as received (it holds PHI: the download is audited), streamed a chunk
    at a time as it is stored."""
    row = _ingested(session, sha256)
    audit.record(actor, "ingest.download", sha256=sha256, file=row.filename)
    return StreamingResponse(
        ingest_chunks.read(session.get_bind(), sha256),  # type: ignore[arg-type]
        media_type="application/edi-x12",
        headers={
            "Content-Disposition": content_disposition(row.filename),
            "Content-Length": str(row.size),
        },
    )
