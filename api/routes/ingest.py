"""Ingest X12 files (835, 277CA, 999) and read back what each ingest did."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
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
from app.upload_limits import MAX_FILE_BYTES
from db.ingest_files import ingested_file
from db.models import IngestFileRow
from services.errors import Invalid, NotFound
from services.ingest import list_ingests
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


@router.post("")
async def ingest_files(
    files: Annotated[list[UploadFile], File(description="835, 277CA or 999 files")],
    ingest: IngestServiceDep,
    actor: Ingester,
) -> IngestSummary:
    """Parse each file whole, then open cases or answer open ones; returns the summary."""
    contents = []
    for upload in files:
        raw = await upload.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise Invalid(f"{upload.filename}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
        contents.append((upload.filename or "upload", raw))
    return await ingest.ingest_many(contents, actor)


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


def _ingested(session: SessionDep, sha256: str, content: bool = False) -> IngestFileRow:
    row = ingested_file(session, sha256, content=content)
    if row is None:
        raise NotFound(f"no ingested file {sha256}")
    return row


@router.get("/{sha256}")
def get_ingested(sha256: str, session: SessionDep, actor: Ingester) -> IngestOut:
    return IngestOut.model_validate(_ingested(session, sha256), from_attributes=True)


@router.get("/{sha256}/raw", response_class=Response)
def get_raw(sha256: str, session: SessionDep, actor: Ingester, audit: AuditDep) -> Response:
    """The file exactly as received (it holds PHI: the download is audited)."""
    row = _ingested(session, sha256, content=True)
    audit.record(actor, "ingest.download", sha256=sha256, file=row.filename)
    return Response(
        row.content,
        media_type="application/edi-x12",
        headers={"Content-Disposition": content_disposition(row.filename)},
    )
