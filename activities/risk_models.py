"""Retraining the learned-risk model: the activity the nightly schedule and the on-demand
retrain run (workflows.risk_retrain). Each run stores a new version; running twice stores two,
which harms nothing (the newer is the one in use)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from services.claim_risk import NotEnoughHistory, retrain
from workflows.risk_retrain import RETRAIN_ACTIVITY, RetrainReport


class RiskModelActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name=RETRAIN_ACTIVITY)
    def retrain(self, trigger: str) -> RetrainReport:
        with Session(self._engine) as session:
            try:
                stored = retrain(session, trigger)
            except NotEnoughHistory as exc:
                return RetrainReport(note=str(exc))
        return RetrainReport(
            version=stored.version, lines=stored.lines, active=stored.active, note=stored.note
        )
