"""Ingest pages: upload X12 files, see what each file did, and follow a large one as it goes.

Files up to LARGE_UPLOAD_BYTES in all are ingested while the browser waits and the result is
shown at once. A larger upload is handed to the background (services.ingest_background) and
the browser goes to the file's page, which shows the stage and counts so far and reloads
itself until the report is there: a 50 MiB remittance takes minutes.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.deps import IngestServiceDep, SessionDep
from app.upload_limits import LARGE_UPLOAD_BYTES, MAX_FILE_BYTES
from db.ingest_files import ingested_file
from services.errors import NotFound
from services.ingest import Received, list_ingests
from services.ingest_background import BackgroundIngests
from services.ingest_progress import describe
from services.ingest_report import FileReport, IngestSummary
from web.session import IngestPage, PostedForm
from web.templating import redirect_with_flash, render

router = APIRouter(include_in_schema=False)

REFRESH_SECONDS = 3
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _page(session: SessionDep, user: IngestPage, **context: object) -> dict[str, object]:
    return {"user": user, "recent": list_ingests(session, 20), "describe": describe, **context}


@router.get("/ingest", response_class=HTMLResponse)
def ingest_page(request: Request, session: SessionDep, user: IngestPage) -> HTMLResponse:
    return render(request, "ingest.html", _page(session, user))


@router.post("/ingest", response_model=None)
async def upload(
    request: Request,
    form: PostedForm,
    ingest: IngestServiceDep,
    session: SessionDep,
    user: IngestPage,
) -> Response:
    files = [
        value for value in form.getlist("files") if isinstance(value, UploadFile) and value.filename
    ]
    if not files:
        context = _page(session, user, error="Choose at least one file")
        return render(request, "ingest.html", context, status_code=422)
    # app.upload_limits refused anything larger while it streamed in; this is a backstop.
    too_big = [upload.filename for upload in files if (upload.size or 0) > MAX_FILE_BYTES]
    if too_big:
        error = f"{', '.join(too_big)}: larger than {MAX_FILE_BYTES // 2**20} MiB"
        return render(request, "ingest.html", _page(session, user, error=error), 422)
    # The spooled files themselves: stored a chunk at a time, never read whole here.
    contents: list[tuple[str, BinaryIO]] = [
        (upload.filename or "upload", upload.file) for upload in files
    ]
    if sum(upload.size or 0 for upload in files) > LARGE_UPLOAD_BYTES:
        return await _in_background(request, ingest, contents, user)
    summary: IngestSummary = await ingest.ingest_many(contents, user.actor)
    return render(request, "ingest.html", _page(session, user, summary=summary))


async def _in_background(
    request: Request,
    ingest: IngestServiceDep,
    contents: list[tuple[str, BinaryIO]],
    user: IngestPage,
) -> Response:
    """Store and lease each file now (so its page exists), ingest them in the background."""
    background: BackgroundIngests = request.app.state.background_ingests
    received = await background.receive(ingest, contents, user.actor)
    if len(contents) == 1:
        return RedirectResponse(f"/ingest/{received[0].sha256}", status_code=303)
    handed = sum(isinstance(outcome, Received) for outcome in received)
    return redirect_with_flash(
        "/ingest",
        f"{handed} of {len(contents)} files are being ingested: their progress shows "
        "below (a file's name opens its report)",
    )


@router.get("/ingest/{sha256}", response_class=HTMLResponse)
def ingest_file_page(
    request: Request, sha256: str, session: SessionDep, user: IngestPage
) -> HTMLResponse:
    """One file's report, or where its ingest is, and its implementation-guide check (the page
    reloads until both are done)."""
    if not _SHA256.fullmatch(sha256):
        raise NotFound(f"no ingested file {sha256}")
    row = ingested_file(session, sha256)
    if row is None:
        raise NotFound(f"no ingested file {sha256}")
    # Reloaded until the report is there and the implementation-guide check is done.
    checking = (row.validation or {}).get("status") in ("pending", "running")
    running = row.status == "received" or checking
    report = FileReport.model_validate(row.report) if "file" in row.report else None
    progress = describe(row.report.get("progress", {}))
    page = render(
        request,
        "ingest_file.html",
        {"user": user, "row": row, "sha256": sha256, "report": report, "progress": progress},
    )
    if running:
        page.headers["Refresh"] = str(REFRESH_SECONDS)
    return page
