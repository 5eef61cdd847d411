"""Cases whose workflow was stopped outside the product: the supervisors' list, and restart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.errors import ERROR_RESPONSES
from app.deps import StoppedCaseServiceDep, Supervisor, WorkflowRestarter
from services.stopped_cases import RestartedCase, StoppedCaseView

router = APIRouter(tags=["cases"], responses=ERROR_RESPONSES)


@router.get("/api/v1/stopped-cases")
def list_stopped_cases(
    stops: StoppedCaseServiceDep,
    actor: Supervisor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[StoppedCaseView]:
    """Cases the read model shows open whose workflow was terminated, failed, timed out or
    cancelled in Temporal, or is gone: nothing changes them until restarted. Longest first."""
    return stops.list_stopped(actor, limit)


@router.post("/api/v1/cases/{case_id}/restart")
async def restart_case_workflow(
    case_id: str, stops: StoppedCaseServiceDep, actor: WorkflowRestarter
) -> RestartedCase:
    """Start a new run of the case's stopped workflow (same id) from the state the read model
    last showed: its tasks, deadlines and timers carry on. 409 while the workflow runs."""
    return await stops.restart(case_id, actor)
