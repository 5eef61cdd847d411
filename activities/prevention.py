"""Emit a closed case's prevention task, grouped with others of the same pattern."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from db.engine import session_scope
from db.prevention import link_case_to_prevention_task
from domain.models import Category
from domain.root_cause import PatternKey, recommended_action
from domain.rulebook import Rulebook
from workflows.messages import PreventionRequest


class PreventionActivities:
    def __init__(self, engine: Engine, rulebook: Rulebook) -> None:
        self._engine = engine
        self._rulebook = rulebook

    @activity.defn(name="emit_prevention_task")
    def emit_prevention_task(self, request: PreventionRequest) -> str:
        profile = self._rulebook.profiles[request.category or Category.OTHER]
        with session_scope(self._engine) as session:
            return link_case_to_prevention_task(
                session,
                case_id=request.case_id,
                pattern_key=request.pattern_key,
                payer_id=request.payer_id,
                payer_name=request.payer_name,
                category=request.category.value if request.category else None,
                root_cause=request.root_cause,
                owning_team=request.owning_team.value,
                recommended_action=recommended_action(
                    profile, PatternKey.parse(request.pattern_key), request.payer_name
                ),
                denied_amount=request.denied_amount,
                outcome=request.outcome.value,
            )
