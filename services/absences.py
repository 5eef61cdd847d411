"""Users away from their work: a supervisor marks a biller out of office (an AbsenceWorkflow
moves their tasks), and a deactivated user's work goes back to the queues for good."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session, col, select
from temporalio.client import Client

from activities.deactivation import HandBack
from db.models import AbsenceReassignmentRow, AbsenceRow, UserRow
from domain.case import Actor, Role
from domain.permissions import Permission, allows
from services.audit import AuditService, Outcome
from services.errors import Conflict, Invalid, NotFound, ServiceError, Unavailable
from services.temporal_calls import release_connection, temporal_errors
from services.users import cases_holding
from workflows.absence_workflow import AbsenceInput, AbsenceWorkflow
from workflows.deactivation_workflow import DeactivationWorkflow


class AbsenceIn(BaseModel):
    starts_at: datetime
    ends_at: datetime
    return_tasks: bool = Field(description="Give the tasks still open back when the user returns")

    @model_validator(mode="after")
    def _period(self) -> AbsenceIn:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("give starts_at and ends_at with a time zone (e.g. ...Z)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AbsenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    absence_id: str
    user_id: str
    starts_at: datetime
    ends_at: datetime
    return_tasks: bool
    status: str
    created_by: str
    created_at: datetime
    tasks_moved: int = 0


class AbsenceService:
    def __init__(
        self, session: Session, client: Client, task_queue: str, audit: AuditService
    ) -> None:
        self._session = session
        self._client = client
        self._task_queue = task_queue
        self._audit = audit

    def _out(self, row: AbsenceRow) -> AbsenceOut:
        moved = self._session.exec(
            select(AbsenceReassignmentRow).where(
                AbsenceReassignmentRow.absence_id == row.absence_id
            )
        ).all()
        return AbsenceOut.model_validate(row).model_copy(update={"tasks_moved": len(moved)})

    def list(self, user_id: str | None = None) -> list[AbsenceOut]:
        statement = select(AbsenceRow).order_by(col(AbsenceRow.starts_at).desc())
        if user_id is not None:
            statement = statement.where(AbsenceRow.user_id == user_id)
        return [self._out(row) for row in self._session.exec(statement)]

    async def mark_away(self, user_id: str, period: AbsenceIn, actor: Actor) -> AbsenceOut:
        user = self._session.get(UserRow, user_id)
        if user is None or not user.active:
            raise NotFound(f"no active user '{user_id}'")
        if not allows(Role(user.role), Permission.COVERED_WHEN_AWAY):
            raise Invalid(f"user_id: '{user_id}' is a {user.role}; out of office is for billers")
        if period.ends_at <= datetime.now(UTC):
            raise Invalid("ends_at: the absence is already over")
        overlapping = self._session.exec(
            select(AbsenceRow).where(
                AbsenceRow.user_id == user_id,
                col(AbsenceRow.status).in_(["scheduled", "active"]),
                col(AbsenceRow.starts_at) < period.ends_at,
                col(AbsenceRow.ends_at) > period.starts_at,
            )
        ).first()
        if overlapping is not None:
            raise Conflict(f"'{user_id}' is already away then (absence {overlapping.absence_id})")
        row = AbsenceRow(
            absence_id=uuid.uuid4().hex,
            user_id=user_id,
            starts_at=period.starts_at,
            ends_at=period.ends_at,
            return_tasks=period.return_tasks,
            status="scheduled",
            created_by=actor.user_id,
            created_at=datetime.now(UTC),
        )
        self._session.add(row)
        self._session.commit()
        async with temporal_errors(row.absence_id):
            await self._client.start_workflow(
                AbsenceWorkflow.run,
                AbsenceInput(
                    absence_id=row.absence_id,
                    user_id=user_id,
                    starts_at=period.starts_at,
                    ends_at=period.ends_at,
                    return_tasks=period.return_tasks,
                    by=actor,
                ),
                id=f"absence-{row.absence_id}",
                task_queue=self._task_queue,
            )
        self._audit.record(
            actor,
            "user.away",
            target=user_id,
            absence_id=row.absence_id,
            starts_at=period.starts_at.isoformat(),
            ends_at=period.ends_at.isoformat(),
            return_tasks=period.return_tasks,
        )
        return self._out(row)

    async def hand_back_all(self, user_id: str, actor: Actor) -> None:
        """A deactivated user's open tasks go back to their queues and her cases' ownership
        to the queue, durably (DeactivationWorkflow), each case audited."""
        if not cases_holding(self._session, user_id):
            return
        release_connection(self._session)
        try:
            async with temporal_errors(f"deactivation-{user_id}"):
                await self._client.start_workflow(
                    DeactivationWorkflow.run,
                    HandBack(user_id=user_id, by=actor),
                    id=f"deactivation-{user_id}-{uuid.uuid4().hex[:8]}",
                    task_queue=self._task_queue,
                )
        except ServiceError as exc:
            self._audit.record(
                actor, "user.hand_back", Outcome.FAILED, target=user_id, reason=exc.message
            )
            raise Unavailable(
                f"'{user_id}' is deactivated, but their open work could not be handed back "
                f"({exc.message}); deactivate them again once the workflow service answers"
            ) from exc
        self._audit.record(actor, "user.hand_back", target=user_id)

    async def end(self, absence_id: str, actor: Actor) -> AbsenceOut:
        """End an absence now (or cancel one not started): tasks come back if so chosen."""
        row = self._session.get(AbsenceRow, absence_id)
        if row is None:
            raise NotFound(f"no absence {absence_id}")
        if row.status not in ("scheduled", "active"):
            self._audit.record(actor, "user.back", Outcome.REFUSED, absence_id=absence_id)
            raise Conflict(f"absence {absence_id} is already {row.status}")
        release_connection(self._session)
        async with temporal_errors(absence_id):
            handle = self._client.get_workflow_handle_for(
                AbsenceWorkflow.run, f"absence-{absence_id}"
            )
            await handle.signal(AbsenceWorkflow.cancel, actor.user_id)
        self._audit.record(actor, "user.back", target=row.user_id, absence_id=absence_id)
        return self._out(row)
