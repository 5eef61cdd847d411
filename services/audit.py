"""The audit trail: who viewed or changed what, when, and whether it was allowed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, insert
from sqlmodel import Session, col, select

from db.audit_outcomes import applied_updates, reconcile_unknown
from db.models import AuditEventRow, Outcome
from domain.audit_detail import visible_detail
from domain.case import Actor
from services.schemas import MAX_OFFSET

_INSERT = insert(AuditEventRow)


class AuditFilters(BaseModel):
    user_id: str | None = None
    case_id: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class AuditEventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: str
    role: str
    action: str
    outcome: str
    case_id: str | None
    task_id: str | None
    detail: dict[str, Any]
    client_ip: str


CSV_COLUMNS = (
    "at",
    "user_id",
    "role",
    "action",
    "outcome",
    "case_id",
    "task_id",
    "client_ip",
    "detail",
)


class AuditService:
    def __init__(self, session: Session, client_ip: str = "") -> None:
        self._session = session
        self._client_ip = client_ip

    def record(
        self,
        actor: Actor,
        action: str,
        outcome: Outcome = Outcome.OK,
        *,
        case_id: str | None = None,
        task_id: str | None = None,
        update_id: str | None = None,
        **detail: Any,
    ) -> None:
        """Write one event now, in its own commit: an audit entry never waits on, nor rolls
        back with, the work it describes. `update_id` names the Update a change was sent as.
        One compiled INSERT on the session's connection, given the values as parameters: every
        list view writes one, and an ORM flush (or a statement built per call) cost more than
        the list's own statements (issue 20)."""
        self._session.connection().execute(
            _INSERT,
            {
                "at": datetime.now(UTC),
                "user_id": actor.user_id,
                "role": actor.role.value,
                "action": action,
                "outcome": outcome.value,
                "case_id": case_id,
                "task_id": task_id,
                "detail": {key: value for key, value in detail.items() if value is not None},
                "client_ip": self._client_ip,
                "update_id": update_id,
            },
        )
        self._session.commit()

    def record_unanswered(
        self,
        actor: Actor,
        action: str,
        update_id: str,
        *,
        case_id: str | None = None,
        task_id: str | None = None,
        **detail: Any,
    ) -> None:
        """A change sent as `update_id` got no answer in time: 'unknown' until the workflow's
        projection reconciles it, or reconciled at once if the read model already shows it
        applied (the projection came before this entry)."""
        self.record(
            actor,
            action,
            Outcome.UNKNOWN,
            case_id=case_id,
            task_id=task_id,
            update_id=update_id,
            **detail,
        )
        # Written first, then checked: a projection landing in between finds the entry.
        if update_id in applied_updates(self._session, [update_id]):
            reconcile_unknown(self._session, [update_id])
            self._session.commit()

    def _conditions(self, filters: AuditFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        for column, value in (
            (AuditEventRow.user_id, filters.user_id),
            (AuditEventRow.case_id, filters.case_id),
            (AuditEventRow.action, filters.action),
            (AuditEventRow.outcome, filters.outcome.value if filters.outcome else None),
        ):
            if value is not None:
                conditions.append(col(column) == value)
        if filters.since is not None:
            conditions.append(col(AuditEventRow.at) >= filters.since)
        if filters.until is not None:
            conditions.append(col(AuditEventRow.at) < filters.until)
        return conditions

    def count(self, filters: AuditFilters) -> int:
        statement = (
            select(func.count()).select_from(AuditEventRow).where(*self._conditions(filters))
        )
        return int(self._session.exec(statement).one())

    def search(self, filters: AuditFilters, *, full_detail: bool) -> list[AuditEventView]:
        rows = self._session.exec(
            select(AuditEventRow)
            .where(*self._conditions(filters))
            .order_by(col(AuditEventRow.at).desc(), col(AuditEventRow.id).desc())
            .offset(filters.offset)
            .limit(filters.limit)
        )
        views = [AuditEventView.model_validate(row) for row in rows]
        for view in views:
            view.detail = visible_detail(view.detail, full=full_detail)
        return views

    def csv_lines(self, filters: AuditFilters, *, full_detail: bool) -> Iterator[str]:
        """Every matching event, oldest first, as CSV (streamed: the export has no page size)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        statement = (
            select(AuditEventRow)
            .where(*self._conditions(filters))
            .order_by(col(AuditEventRow.at), col(AuditEventRow.id))
            .execution_options(yield_per=500)
        )
        for row in self._session.exec(statement):
            writer.writerow(
                [
                    row.at.astimezone(UTC).isoformat(),
                    row.user_id,
                    row.role,
                    row.action,
                    row.outcome,
                    row.case_id or "",
                    row.task_id or "",
                    row.client_ip,
                    ";".join(
                        f"{k}={v}"
                        for k, v in sorted(visible_detail(row.detail, full=full_detail).items())
                    ),
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
