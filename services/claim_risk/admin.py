"""What supervisors do with the risk models: list the stored versions with their metrics, start
a retraining now, and put an older version back in use."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from db.risk_models import StoredModel, activate, stored_models
from domain.case import Actor
from services.audit import AuditService
from services.claim_risk import HISTORY_DAYS
from services.claim_risk.extract import stored_history_size
from services.claim_risk.history import MIN_LINES
from services.errors import Conflict, NotFound, Unavailable
from services.temporal_calls import ANSWER_SECONDS, UNREACHABLE
from workflows.risk_retrain import ON_DEMAND_ID, RiskRetrainWorkflow


class RiskModelView(BaseModel):
    version: str
    trained_at: datetime
    trigger: str
    lines: int
    metrics: dict[str, Any]
    sha256: str
    size: int
    active: bool
    note: str


class HistorySize(BaseModel):
    claims: int  # adjudicated claims of the last HISTORY_DAYS
    days: int
    needed: int  # fewer: a retraining stores nothing

    @property
    def enough(self) -> bool:
        return self.claims >= self.needed


class RetrainStarted(BaseModel):
    workflow_id: str
    detail: str


def _view(stored: StoredModel) -> RiskModelView:
    return RiskModelView.model_validate(stored, from_attributes=True)


def list_models(session: Session, limit: int = 50) -> list[RiskModelView]:
    return [_view(stored) for stored in stored_models(session, limit)]


def history_size(session: Session, today: date) -> HistorySize:
    """What the next retraining would learn from (the stored history is read one line per
    claim: services.claim_risk.extract)."""
    since = today - timedelta(days=HISTORY_DAYS)
    return HistorySize(
        claims=stored_history_size(session, since), days=HISTORY_DAYS, needed=MIN_LINES
    )


async def start_retrain(
    client: Client, task_queue: str, actor: Actor, audit: AuditService
) -> RetrainStarted:
    """Start a retraining now (one at a time: 409 while one runs)."""
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            await client.start_workflow(
                RiskRetrainWorkflow.run, "on demand", id=ON_DEMAND_ID, task_queue=task_queue
            )
    except WorkflowAlreadyStartedError as exc:
        raise Conflict("a retraining of the risk model is already running") from exc
    except (TimeoutError, RPCError) as exc:
        raise Unavailable(UNREACHABLE) from exc
    except RuntimeError as exc:  # a lazy client that cannot connect
        if "connect" not in str(exc).lower():
            raise
        raise Unavailable(UNREACHABLE) from exc
    audit.record(actor, "risk_model.retrain")
    return RetrainStarted(
        workflow_id=ON_DEMAND_ID,
        detail="retraining started: the new version is listed when it is stored",
    )


def put_in_use(session: Session, version: str, actor: Actor, audit: AuditService) -> RiskModelView:
    """Make a stored version the one checks use (back to an older one, say)."""
    stored = activate(session, version)
    if stored is None:
        raise NotFound(f"no risk model version {version!r}")
    session.commit()
    audit.record(actor, "risk_model.activate", version=version)
    return _view(stored)
