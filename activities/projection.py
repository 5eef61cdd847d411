"""Project a case into the SQL read model (versioned, so retries never roll it back)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from db.engine import session_scope
from db.projection import write_case_projection
from workflows.messages import ProjectionRequest


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="project_case")
    def project_case(self, request: ProjectionRequest) -> None:
        with session_scope(self._engine) as session:
            write_case_projection(session, request.state, request.new_events)
