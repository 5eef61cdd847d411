"""What the supervisor console and reassignment need beyond the worklists: who is out of
office now (and until when), refusing to hand work to them unless overridden, and the
write-off approvals waiting for a supervisor."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from db.models import AbsenceRow, CaseRow, TaskRow
from domain.case import TaskStatus, TaskType
from services.errors import Conflict

# An absence counts from its start to its end unless a supervisor ended or cancelled it; a
# scheduled one whose start has passed counts too (its workflow may not have run yet).
_CURRENT = ("scheduled", "active")


class OutOfOffice(Conflict):
    """The assignee is away: the reassignment is refused unless the supervisor overrides."""


def away_until(
    session: Session, user_ids: Iterable[str] | None = None, at: datetime | None = None
) -> dict[str, datetime]:
    """Each user (of those given, else all) away at `at` (now), with the end of that absence."""
    at = at or datetime.now(UTC)
    statement = select(AbsenceRow).where(
        col(AbsenceRow.status).in_(_CURRENT),
        col(AbsenceRow.starts_at) <= at,
        col(AbsenceRow.ends_at) > at,
    )
    if user_ids is not None:
        statement = statement.where(col(AbsenceRow.user_id).in_(list(user_ids)))
    rows = session.exec(statement)
    until: dict[str, datetime] = {}
    for row in rows:
        until[row.user_id] = max(row.ends_at, until.get(row.user_id, row.ends_at))
    return until


def refuse_if_away(session: Session, assignee: str | None, *, override: bool) -> bool:
    """Raise OutOfOffice when the assignee is away and the override is not given; True when
    the assignee is away and the override was given (the audit records it)."""
    if assignee is None:
        return False
    until = away_until(session, [assignee]).get(assignee)
    if until is None:
        return False
    if not override:
        raise OutOfOffice(
            f"assignee: '{assignee}' is out of office until {until.astimezone(UTC):%Y-%m-%d %H:%M}"
            " UTC; choose someone else, or confirm the override to assign the task anyway"
        )
    return True


def with_absences(session: Session, loads: Iterable[BaseModel]) -> list[dict[str, Any]]:
    """Workload rows (services.users.Workload) with `away_until` for those away now."""
    away = away_until(session)
    return [load.model_dump() | {"away_until": away.get(load.user_id)} for load in loads]  # type: ignore[attr-defined]


class WriteOffApproval(BaseModel):
    task_id: str
    case_id: str
    claim_id: str
    payer_name: str
    denied_amount: Decimal
    recovered_amount: Decimal
    assignee: str | None
    due_at: datetime


def write_off_approvals(session: Session, limit: int = 25) -> list[WriteOffApproval]:
    """Open write-off approval tasks, oldest due first (ix_tasks_status_assignee narrows to
    the open tasks; approvals are few)."""
    rows = session.exec(
        select(
            TaskRow,
            CaseRow.claim_id,
            CaseRow.payer_name,
            CaseRow.payer_id,
            CaseRow.denied_amount,
            CaseRow.recovered_amount,
        )  # the case's headline, not its state document
        .join(CaseRow, col(CaseRow.case_id) == col(TaskRow.case_id))
        .where(
            col(TaskRow.status) == TaskStatus.OPEN.value,
            col(TaskRow.type) == TaskType.APPROVE_WRITE_OFF.value,
        )
        .order_by(col(TaskRow.due_at), col(TaskRow.task_id))
        .limit(limit)
    )
    return [
        WriteOffApproval(
            task_id=task.task_id,
            case_id=task.case_id,
            claim_id=claim_id,
            payer_name=payer_name or payer_id,
            denied_amount=denied,
            recovered_amount=recovered,
            assignee=task.assignee,
            due_at=task.due_at,
        )
        for task, claim_id, payer_name, payer_id, denied, recovered in rows
    ]
