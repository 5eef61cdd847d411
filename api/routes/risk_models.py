"""The learned-risk models: supervisors list the stored versions with their measured quality,
start a retraining now (besides the nightly schedule), and put a version back in use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.errors import ERROR_RESPONSES
from app.deps import AuditDep, ClientDep, SessionDep, SettingsDep, Supervisor
from services.claim_risk.admin import (
    RetrainStarted,
    RiskModelView,
    list_models,
    put_in_use,
    start_retrain,
)

router = APIRouter(prefix="/api/v1/risk-models", tags=["risk models"], responses=ERROR_RESPONSES)


@router.get("")
def list_risk_models(
    session: SessionDep, actor: Supervisor, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[RiskModelView]:
    """Stored versions, newest first, with their held-out metrics and which one is in use."""
    return list_models(session, limit)


@router.post("/retrain", status_code=status.HTTP_202_ACCEPTED)
async def retrain_risk_model(
    client: ClientDep, settings: SettingsDep, actor: Supervisor, audit: AuditDep
) -> RetrainStarted:
    """Retrain now from the stored history (the schedule does it nightly). The new version is
    used if its held-out AUC reaches 0.6. 409 while a retraining started here still runs."""
    return await start_retrain(client, settings.task_queue, actor, audit)


@router.post("/{version}/activate")
def activate_risk_model(
    version: str, session: SessionDep, actor: Supervisor, audit: AuditDep
) -> RiskModelView:
    """Make a stored version the one checks use (back to an older one, say)."""
    return put_in_use(session, version, actor, audit)
