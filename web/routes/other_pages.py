"""Ingest (upload X12 files), the prevention board and its items, and the admin page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import IngestServiceDep, PreventionServiceDep, SessionDep, UserServiceDep
from api.upload_limits import MAX_FILE_BYTES
from domain.permissions import Permission
from services.auth import SignedIn
from services.errors import Invalid
from services.ingest import list_ingests
from services.ingest_report import IngestSummary
from services.prevention import PreventionChange, PreventionStatus
from web.session import CaseReaderPage, IngestPage, PostedForm, SupervisorPage, page_permission
from web.templating import redirect_with_flash, render
from web.wording import located_errors

router = APIRouter(include_in_schema=False)

AdminPage = Annotated[SignedIn, Depends(page_permission(Permission.MANAGE_USERS))]


@router.get("/ingest", response_class=HTMLResponse)
def ingest_page(request: Request, session: SessionDep, user: IngestPage) -> HTMLResponse:
    return render(request, "ingest.html", {"user": user, "recent": list_ingests(session, 20)})


@router.post("/ingest", response_class=HTMLResponse)
async def upload(
    request: Request,
    form: PostedForm,
    ingest: IngestServiceDep,
    session: SessionDep,
    user: IngestPage,
) -> HTMLResponse:
    files = [
        value for value in form.getlist("files") if isinstance(value, UploadFile) and value.filename
    ]
    if not files:
        return render(
            request,
            "ingest.html",
            {
                "user": user,
                "recent": list_ingests(session, 20),
                "error": "Choose at least one file",
            },
            status_code=422,
        )
    contents = [
        (upload.filename or "upload", await upload.read(MAX_FILE_BYTES + 1)) for upload in files
    ]
    too_big = [name for name, raw in contents if len(raw) > MAX_FILE_BYTES]
    if too_big:
        return render(
            request,
            "ingest.html",
            {
                "user": user,
                "recent": list_ingests(session, 20),
                "error": f"{', '.join(too_big)}: larger than {MAX_FILE_BYTES // 2**20} MiB",
            },
            status_code=422,
        )
    summary: IngestSummary = await ingest.ingest_many(contents, user.actor)
    return render(
        request,
        "ingest.html",
        {"user": user, "recent": list_ingests(session, 20), "summary": summary},
    )


@router.get("/prevention", response_class=HTMLResponse)
def prevention_board(
    request: Request,
    prevention: PreventionServiceDep,
    user: CaseReaderPage,
    status: PreventionStatus | None = None,
) -> HTMLResponse:
    page = prevention.list(user.actor, status=status, limit=100)
    return render(request, "prevention.html", {"user": user, "page": page, "status": status})


@router.get("/prevention/{prevention_task_id}", response_class=HTMLResponse)
def prevention_item(
    request: Request,
    prevention_task_id: str,
    prevention: PreventionServiceDep,
    user: CaseReaderPage,
) -> HTMLResponse:
    item = prevention.get(prevention_task_id, user.actor)
    return render(request, "prevention_item.html", {"user": user, "item": item})


@router.post("/prevention/{prevention_task_id}")
async def change_prevention_item(
    prevention_task_id: str,
    form: PostedForm,
    prevention: PreventionServiceDep,
    user: SupervisorPage,
) -> RedirectResponse:
    """Move the item along (open -> in progress -> done), name its owner, keep notes."""
    here = f"/prevention/{prevention_task_id}"
    try:
        change = PreventionChange.model_validate(
            {
                "status": form.get("status") or None,
                "owner": str(form.get("owner") or ""),
                "notes": str(form.get("notes") or ""),
            }
        )
    except ValidationError as exc:
        return redirect_with_flash(here, f"Not saved: {located_errors(exc.errors())}")
    try:
        item = prevention.change(prevention_task_id, change, user.actor)
    except Invalid as exc:
        return redirect_with_flash(here, f"Not saved: {exc}")
    return redirect_with_flash(here, f"Saved: {item.status.replace('_', ' ')}")


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, users: UserServiceDep, user: AdminPage) -> HTMLResponse:
    rules = request.app.state.rule_store.rules()
    return render(request, "admin.html", {"user": user, "users": users.list(), "rules": rules})
