"""Out of office: supervisors mark billers away; their open tasks move by workload."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.errors import ERROR_RESPONSES
from app.deps import AbsenceServiceDep, Supervisor
from services.absences import AbsenceIn, AbsenceOut

router = APIRouter(prefix="/api/v1", tags=["out of office"], responses=ERROR_RESPONSES)


@router.get("/absences")
def list_absences(
    absences: AbsenceServiceDep, actor: Supervisor, user_id: str | None = None
) -> list[AbsenceOut]:
    return absences.list(user_id)


@router.post("/users/{user_id}/absences", status_code=status.HTTP_201_CREATED)
async def mark_away(
    user_id: str, period: AbsenceIn, absences: AbsenceServiceDep, actor: Supervisor
) -> AbsenceOut:
    """From `starts_at` the user's open tasks go to the least-loaded billers; at `ends_at`,
    if `return_tasks`, those still open come back."""
    return await absences.mark_away(user_id, period, actor)


@router.post("/absences/{absence_id}/end")
async def end_absence(
    absence_id: str, absences: AbsenceServiceDep, actor: Supervisor
) -> AbsenceOut:
    """End the absence now (or cancel it before it starts)."""
    return await absences.end(absence_id, actor)
