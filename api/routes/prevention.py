"""Prevention tasks: what closed cases teach, grouped by pattern, for the owning team."""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError

from api.errors import ERROR_RESPONSES
from app.deps import CaseReader, OffsetQuery, PreventionServiceDep, Supervisor, require
from db.prevention_edits import EditVersion
from domain.case import Actor
from domain.permissions import Permission
from services.prevention import (
    EditIn,
    EditProblems,
    EditSwitch,
    PreventionChange,
    PreventionDetail,
    PreventionOut,
    PreventionStatus,
)
from services.schemas import Page

EditWriter = Annotated[Actor, Depends(require(Permission.WRITE_PREVENTION_EDITS))]

router = APIRouter(prefix="/api/v1/prevention", tags=["prevention"], responses=ERROR_RESPONSES)


@router.get("")
def list_prevention(
    prevention: PreventionServiceDep,
    actor: CaseReader,
    status: PreventionStatus | None = None,
    owning_team: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
) -> Page[PreventionOut]:
    """Most dollars at stake first."""
    return prevention.list(actor, status, owning_team, limit, offset)


@router.get("/{prevention_task_id}")
def get_prevention_task(
    prevention_task_id: str, prevention: PreventionServiceDep, actor: CaseReader
) -> PreventionDetail:
    return prevention.get(prevention_task_id, actor)


@router.patch("/{prevention_task_id}")
def change_prevention_task(
    prevention_task_id: str,
    change: PreventionChange,
    prevention: PreventionServiceDep,
    actor: Supervisor,
) -> PreventionOut:
    """Move it open -> in progress -> done, name its owner, keep notes."""
    return prevention.change(prevention_task_id, change, actor)


def _location(name: str) -> list[str]:
    """Where a problem of a written edit is: its own field, or one of the condition's."""
    if name in ("severity", "fix", "enabled", "condition"):
        return ["body", name]
    return ["body", "condition", *([name] if name else [])]


def _refused(problems: EditProblems) -> NoReturn:
    """FastAPI's own 422 shape: every problem at once, each where it is."""
    raise RequestValidationError(
        [
            {"loc": _location(name), "msg": message, "type": "value_error"}
            for name, message in problems.problems.items()
        ]
    )


@router.get("/{prevention_task_id}/edits")
def list_prevention_edits(
    prevention_task_id: str, prevention: PreventionServiceDep, actor: CaseReader
) -> list[EditVersion]:
    """Every version of the item's edits, each edit's newest (current) version first."""
    return prevention.get(prevention_task_id, actor).edits


@router.post("/{prevention_task_id}/edits", status_code=201)
def write_prevention_edit(
    prevention_task_id: str, edit: EditIn, prevention: PreventionServiceDep, actor: EditWriter
) -> EditVersion:
    """A new edit on the item: claim checks apply it from now on (while it is enabled)."""
    try:
        return prevention.write_edit(prevention_task_id, edit.model_dump(), actor)
    except EditProblems as problems:
        _refused(problems)


@router.put("/{prevention_task_id}/edits/{edit_id}")
def revise_prevention_edit(
    prevention_task_id: str,
    edit_id: str,
    edit: EditIn,
    prevention: PreventionServiceDep,
    actor: EditWriter,
) -> EditVersion:
    """The edit's next version; the earlier ones are kept with their hits."""
    try:
        return prevention.write_edit(prevention_task_id, edit.model_dump(), actor, edit_id)
    except EditProblems as problems:
        _refused(problems)


@router.patch("/{prevention_task_id}/edits/{edit_id}")
def switch_prevention_edit(
    prevention_task_id: str,
    edit_id: str,
    switch: EditSwitch,
    prevention: PreventionServiceDep,
    actor: EditWriter,
) -> EditVersion:
    """Switch the edit off (checks stop applying it) or on again, without a new version."""
    return prevention.switch_edit(prevention_task_id, edit_id, switch.enabled, actor)
