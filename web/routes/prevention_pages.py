"""The prevention board and its items (ingest: web.routes.ingest_pages; admin pages:
web.routes.admin_users and web.routes.admin_payer_rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.deps import PreventionServiceDep
from db.prevention_edits import EditVersion
from domain.claim_checks.edits import CONDITION_LABELS
from domain.permissions import Permission, allows
from services.errors import Invalid
from services.prevention import EditProblems, PreventionChange, PreventionStatus
from web.session import CaseReaderPage, PostedForm, SignedIn, SupervisorPage, page_permission
from web.templating import redirect_with_flash, render
from web.wording import located_errors

router = APIRouter(include_in_schema=False)

EditWriterPage = Annotated[SignedIn, Depends(page_permission(Permission.WRITE_PREVENTION_EDITS))]
EDIT_FIELDS = ("severity", "fix", "enabled", *CONDITION_LABELS)


@router.get("/prevention", response_class=HTMLResponse)
def prevention_board(
    request: Request,
    prevention: PreventionServiceDep,
    user: CaseReaderPage,
    status: PreventionStatus | None = None,
) -> HTMLResponse:
    page = prevention.list(user.actor, status=status, limit=100)
    return render(request, "prevention.html", {"user": user, "page": page, "status": status})


def _item_page(
    request: Request,
    prevention: PreventionServiceDep,
    user: SignedIn,
    prevention_task_id: str,
    revise: str = "",
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> HTMLResponse:
    item = prevention.get(prevention_task_id, user.actor)
    revising = next((e for e in item.edits if e.edit_id == revise and e.is_current), None)
    context = {
        "user": user,
        "item": item,
        "can_write_edits": allows(user.actor.role, Permission.WRITE_PREVENTION_EDITS),
        "revising": revising,
        "edit_values": values if values is not None else _edit_values(revising),
        "edit_errors": errors or {},
        "condition_labels": CONDITION_LABELS,
    }
    return render(request, "prevention_item.html", context, 422 if errors else 200)


def _edit_values(edit: EditVersion | None) -> dict[str, str]:
    """The form's fields for a new edit (switched on, warning) or the one being revised."""
    if edit is None:
        return {"severity": "warn", "enabled": "on"}
    condition = edit.condition
    values = {
        name: " ".join(value) if isinstance(value, tuple) else str(value)
        for name, value in condition.model_dump().items()
        if name in condition.named()
    }
    if condition.prior_authorization_missing:
        values["prior_authorization_missing"] = "on"
    values.update(severity=edit.severity.value, fix=edit.fix, enabled="on" if edit.enabled else "")
    return values


def _posted_edit(form: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """What was typed (to show again) and the edit as the service reads it. An unticked box
    is not posted: it reads as off."""
    values = {name: str(form.get(name) or "").strip() for name in EDIT_FIELDS}
    raw: dict[str, Any] = {name: values[name] for name in ("severity", "fix", "enabled")}
    raw["condition"] = {name: values[name] for name in CONDITION_LABELS}
    return values, raw


@router.get("/prevention/{prevention_task_id}", response_class=HTMLResponse)
def prevention_item(
    request: Request,
    prevention_task_id: str,
    prevention: PreventionServiceDep,
    user: CaseReaderPage,
    revise: str = "",
) -> HTMLResponse:
    """The item, its cases and its edits; `revise` names an edit to change in the form."""
    return _item_page(request, prevention, user, prevention_task_id, revise)


def _write_edit(
    request: Request,
    prevention_task_id: str,
    form: Mapping[str, Any],
    prevention: PreventionServiceDep,
    user: SignedIn,
    edit_id: str | None,
) -> Response:
    """Refused, the form comes back with what was typed and every problem beside its field."""
    values, raw = _posted_edit(form)
    try:
        written = prevention.write_edit(prevention_task_id, raw, user.actor, edit_id)
    except EditProblems as exc:
        return _item_page(
            request, prevention, user, prevention_task_id, edit_id or "", values, exc.problems
        )
    return redirect_with_flash(
        f"/prevention/{prevention_task_id}#edits-h",
        f"Saved edit {written.code}: claim checks "
        + ("apply it from now on" if written.enabled else "skip it while it is off"),
    )


@router.post("/prevention/{prevention_task_id}/edits")
async def write_prevention_edit(
    request: Request,
    prevention_task_id: str,
    form: PostedForm,
    prevention: PreventionServiceDep,
    user: EditWriterPage,
) -> Response:
    """A new edit on the item."""
    return _write_edit(request, prevention_task_id, form, prevention, user, None)


@router.post("/prevention/{prevention_task_id}/edits/{edit_id}")
async def revise_prevention_edit(
    request: Request,
    prevention_task_id: str,
    edit_id: str,
    form: PostedForm,
    prevention: PreventionServiceDep,
    user: EditWriterPage,
) -> Response:
    """The edit's next version (the earlier ones are kept, with their hits)."""
    return _write_edit(request, prevention_task_id, form, prevention, user, edit_id)


@router.post("/prevention/{prevention_task_id}/edits/{edit_id}/switch")
async def switch_prevention_edit(
    prevention_task_id: str,
    edit_id: str,
    form: PostedForm,
    prevention: PreventionServiceDep,
    user: EditWriterPage,
) -> RedirectResponse:
    enabled = str(form.get("enabled") or "") == "on"
    switched = prevention.switch_edit(prevention_task_id, edit_id, enabled, user.actor)
    state = "on: claim checks apply it" if switched.enabled else "off: claim checks skip it"
    return redirect_with_flash(
        f"/prevention/{prevention_task_id}#edits-h", f"Edit {switched.code} is {state}"
    )


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
