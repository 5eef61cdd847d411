"""Prevention tasks: what closed cases teach, grouped by pattern, for the owning team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.errors import ERROR_RESPONSES
from app.deps import CaseReader, OffsetQuery, PreventionServiceDep, Supervisor
from services.prevention import (
    PreventionChange,
    PreventionDetail,
    PreventionOut,
    PreventionStatus,
)
from services.schemas import Page

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
