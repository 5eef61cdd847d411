"""The prevention board and its items, and the admin page (ingest: web.routes.ingest_pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import PreventionServiceDep, UserServiceDep
from domain.permissions import Permission
from services.auth import SignedIn
from services.errors import Invalid
from services.prevention import PreventionChange, PreventionStatus
from web.session import CaseReaderPage, PostedForm, SupervisorPage, page_permission
from web.templating import redirect_with_flash, render
from web.wording import located_errors

router = APIRouter(include_in_schema=False)

AdminPage = Annotated[SignedIn, Depends(page_permission(Permission.MANAGE_USERS))]


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
