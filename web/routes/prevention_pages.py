"""The prevention board and its items (ingest: web.routes.ingest_pages; admin pages:
web.routes.admin_users and web.routes.admin_payer_rules)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.deps import PreventionServiceDep
from services.errors import Invalid
from services.prevention import PreventionChange, PreventionStatus
from web.session import CaseReaderPage, PostedForm, SupervisorPage
from web.templating import redirect_with_flash, render
from web.wording import located_errors

router = APIRouter(include_in_schema=False)


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
