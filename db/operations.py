"""What the operations endpoints read: the grouped counts /metrics exports at scrape time (on
indexed columns, so a scrape stays cheap) and the readiness probe's round trip."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from db.models import CaseEventRow, CaseRow, IngestFileRow, TaskRow
from db.workflow_stops import count_open_stops


@dataclass(frozen=True)
class ReadModelCounts:
    cases_by_status: dict[str, int]
    open_tasks_by_queue: dict[str, int]
    overdue_tasks_by_queue: dict[str, int]
    events_by_type: dict[str, int]  # of the event types asked for
    ingest_files_by_status: dict[str, int]
    open_stops_by_status: dict[str, int]


def read_model_counts(
    session: Session, now: datetime, event_types: Iterable[str]
) -> ReadModelCounts:
    is_open = col(TaskRow.status) == "open"
    late = is_open & (col(TaskRow.due_at) < now)

    def grouped(column: object, where: object = None) -> dict[str, int]:
        query = select(column, func.count())  # type: ignore[call-overload]
        if where is not None:
            query = query.where(where)
        return dict(session.exec(query.group_by(column)).all())

    return ReadModelCounts(
        cases_by_status=grouped(CaseRow.status),
        open_tasks_by_queue=grouped(TaskRow.queue, is_open),
        overdue_tasks_by_queue=grouped(TaskRow.queue, late),
        events_by_type=grouped(CaseEventRow.type, col(CaseEventRow.type).in_(list(event_types))),
        ingest_files_by_status=grouped(IngestFileRow.status),
        open_stops_by_status=count_open_stops(session),
    )


def ping(session: Session) -> None:
    """One round trip to the database; raises when it cannot be reached."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    session.commit()  # not holding a connection afterwards
