"""Follow-up dates: a biller parks a case until a day (with a reason), and it comes back to
the actionable worklists on that day (domain.worklist). Work management, not case state: it
lives in the read model, changes nothing in the case workflow (whose deadlines and escalation
go on), and every change is audited."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, bindparam, exists, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import CaseRow, TaskRow
from db.work_management import CaseFollowUpRow
from domain.case import Actor, CaseStatus, TaskStatus
from domain.worklist import MAX_REASON_LENGTH, WAITING_ON_PAYER, follow_up_problem, is_parked
from services.audit import AuditService, Outcome
from services.errors import Conflict, Invalid, NotFound, ServiceError


class FollowUpIn(BaseModel):
    follow_up_on: date = Field(description="The day the case comes back to the worklists")
    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)


class FollowUpView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: str
    follow_up_on: date
    reason: str
    set_by: str
    set_at: datetime
    parked: bool = Field(description="True until the follow-up date; from then on it is due")


def open_follow_up(case_id: ColumnElement[str] | str) -> list[ColumnElement[bool]]:
    return [col(CaseFollowUpRow.case_id) == case_id, col(CaseFollowUpRow.cleared_at).is_(None)]


# A case's open follow-up, looked up after every task completed: built once (building the
# statement and its cache key per call cost more CPU than running it on SQLite).
_OPEN = select(CaseFollowUpRow).where(*open_follow_up(bindparam("case_id")))


def parked_case(today: date) -> ColumnElement[bool]:
    """The task's case has a follow-up date after `today` (served by the open follow-up's
    partial index)."""
    return exists().where(
        *open_follow_up(col(TaskRow.case_id)), col(CaseFollowUpRow.follow_up_on) > today
    )


class FollowUpService:
    def __init__(self, session: Session, audit: AuditService, today: Callable[[], date]) -> None:
        self._session = session
        self._audit = audit
        self._today = today

    def _open(self, case_id: str) -> CaseFollowUpRow | None:
        return self._session.exec(_OPEN, params={"case_id": case_id}).first()

    def _view(self, row: CaseFollowUpRow) -> FollowUpView:
        return FollowUpView.model_validate(
            {**row.model_dump(), "parked": is_parked(row.follow_up_on, self._today())}
        )

    def get(self, case_id: str) -> FollowUpView | None:
        if self._session.get(CaseRow, case_id) is None:
            raise NotFound(f"no case {case_id}")
        row = self._open(case_id)
        return self._view(row) if row else None

    def among(self, case_ids: Iterable[str]) -> dict[str, FollowUpView]:
        """The open follow-ups of these cases (one query, for a worklist page)."""
        wanted = list(dict.fromkeys(case_ids))
        if not wanted:
            return {}
        rows = self._session.exec(
            select(CaseFollowUpRow).where(
                col(CaseFollowUpRow.case_id).in_(wanted), col(CaseFollowUpRow.cleared_at).is_(None)
            )
        ).all()
        return {row.case_id: self._view(row) for row in rows}

    def _work_due(self, case_id: str) -> date | None:
        """The earliest deadline the case's open work (not the wait for the payer) races."""
        return self._session.exec(
            select(func.min(TaskRow.deadline_due)).where(
                col(TaskRow.case_id) == case_id,
                col(TaskRow.status) == TaskStatus.OPEN.value,
                col(TaskRow.type).not_in([t.value for t in WAITING_ON_PAYER]),
            )
        ).one()

    def set(self, case_id: str, follow_up_on: date, reason: str, actor: Actor) -> FollowUpView:
        """Park the case until `follow_up_on`, replacing any follow-up date it had."""
        try:
            case = self._session.get(CaseRow, case_id)
            if case is None:
                raise NotFound(f"no case {case_id}")
            if case.status == CaseStatus.CLOSED.value:
                raise Conflict(f"case {case_id} is closed: there is nothing to follow up")
            due = self._work_due(case_id)
            problem = follow_up_problem(follow_up_on, reason, self._today(), due)
            if problem:
                raise Invalid(problem)
            now = datetime.now(UTC)
            previous = self._open(case_id)
            if previous is not None:
                previous.cleared_at, previous.cleared_by = now, actor.user_id
                self._session.add(previous)
                self._session.flush()
            row = CaseFollowUpRow(
                case_id=case_id,
                follow_up_on=follow_up_on,
                reason=reason.strip(),
                set_by=actor.user_id,
                set_at=now,
            )
            self._session.add(row)
            try:
                self._session.commit()
            except IntegrityError as exc:  # another follow-up set at the same moment
                self._session.rollback()
                raise Conflict(
                    f"case {case_id}: a follow-up date was set meanwhile; reload and try again"
                ) from exc
        except ServiceError as exc:
            self._audit.record(
                actor, "case.follow_up", Outcome.REFUSED, case_id=case_id, reason=exc.message
            )
            raise
        self._audit.record(
            actor,
            "case.follow_up",
            case_id=case_id,
            until=follow_up_on.isoformat(),
            reason=row.reason,
        )
        return self._view(row)

    def clear(self, case_id: str, actor: Actor, why: str = "unparked") -> None:
        """Bring the case back now (its open follow-up date is cleared)."""
        row = self._open(case_id)
        if row is None:
            self._audit.record(
                actor, "case.follow_up_cleared", Outcome.REFUSED, case_id=case_id, why=why
            )
            raise NotFound(f"case {case_id} has no follow-up date")
        row.cleared_at, row.cleared_by = datetime.now(UTC), actor.user_id
        self._session.add(row)
        self._session.commit()
        self._audit.record(
            actor,
            "case.follow_up_cleared",
            case_id=case_id,
            until=row.follow_up_on.isoformat(),
            why=why,
        )

    def clear_reached(self, case_id: str, actor: Actor) -> None:
        """A task completed on a case whose follow-up date has come: the follow-up is done."""
        row = self._open(case_id)
        if row is not None and not is_parked(row.follow_up_on, self._today()):
            self.clear(case_id, actor, why="task completed on or after the follow-up date")
