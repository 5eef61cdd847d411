"""Project a case into the SQL read model (versioned, so retries never roll it back)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from db.engine import session_scope
from db.models import CaseRow
from db.projection import write_case_projection
from domain.case import CaseState, CaseStatus
from workflows.messages import ProjectionRequest


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="project_case")
    def project_case(self, request: ProjectionRequest) -> None:
        with session_scope(self._engine) as session:
            write_case_projection(session, request.state, request.new_events)

    @activity.defn(name="closed_case_state")
    def closed_case_state(self, case_id: str) -> CaseState | None:
        """The closed case as its last run projected it: a run recording a late payment starts
        from it, not from what its caller read (another late payment may have come between)."""
        with session_scope(self._engine) as session:
            row = session.get(CaseRow, case_id)
            if row is None or row.status != CaseStatus.CLOSED:
                return None
            return CaseState.model_validate(row.state)
