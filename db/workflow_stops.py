"""Stopped case workflows in the read model: recorded once whoever notices first, cleared when
the case runs again, and the sweep's marks. Every write is idempotent (several workers, and
requests, may notice the same stop at once)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from db.models import CaseRow, CaseWorkflowStopRow, SweepMarkRow
from db.upsert import upsert
from domain.case import CaseStatus
from domain.workflow_stops import DetectedBy, StopStatus


@dataclass(frozen=True)
class StopFound:
    """A case's latest run, stopped (or gone), as Temporal described it."""

    case_id: str
    run_id: str | None
    status: StopStatus
    stopped_at: datetime | None
    stopped_by: str | None = None


def _table() -> Table:
    return CaseWorkflowStopRow.__table__  # type: ignore[attr-defined,no-any-return]


def case_is_open(session: Session, case_id: str) -> int | None:
    """The read model's version of the case while it shows it open; None when it is closed or
    unknown (a closed case refusing changes is no stop). Read afresh, not from the session."""
    found = session.exec(
        select(CaseRow.status, CaseRow.version).where(CaseRow.case_id == case_id)
    ).first()
    if found is None or found[0] == CaseStatus.CLOSED:
        return None
    return int(found[1])


def record_stop(
    session: Session, found: StopFound, detected_by: DetectedBy, now: datetime
) -> CaseWorkflowStopRow | None:
    """Record the stop unless the case is closed, has an open stop already, or this run was
    recorded before (and perhaps restarted since); the new row, or None."""
    version = case_is_open(session, found.case_id)
    if version is None:
        return None
    values: dict[str, Any] = {
        "case_id": found.case_id,
        "run_id": found.run_id,
        "status": found.status.value,
        "stopped_at": found.stopped_at,
        "stopped_by": (found.stopped_by or None) and found.stopped_by[:200],
        "case_version": version,
        "detected_at": now,
        "detected_by": detected_by.value,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # No conflict target: either unique index (one open stop per case, a run once) may refuse.
    statement = insert(_table()).values(values).on_conflict_do_nothing()
    inserted = session.execute(statement.returning(_table().c.id)).scalar_one_or_none()
    session.commit()
    return None if inserted is None else session.get(CaseWorkflowStopRow, inserted)


def clear_stop(
    session: Session, case_id: str, by: str, now: datetime, new_run_id: str | None = None
) -> CaseWorkflowStopRow | None:
    """Clear the case's open stop (its workflow runs again); the stop cleared, or None."""
    stop = open_stop(session, case_id)
    if stop is None:
        return None
    # Guarded by cleared_at IS NULL: a stop two clearers race for is cleared once, by one.
    cleared = session.execute(
        update(_table())
        .where(_table().c.id == stop.id, _table().c.cleared_at.is_(None))
        .values(cleared_at=now, cleared_by=by[:80], new_run_id=new_run_id)
        .returning(_table().c.id)
    ).scalar_one_or_none()
    session.commit()
    return stop if cleared is not None else None


def open_stop(session: Session, case_id: str) -> CaseWorkflowStopRow | None:
    return session.exec(
        select(CaseWorkflowStopRow)
        .where(
            CaseWorkflowStopRow.case_id == case_id, col(CaseWorkflowStopRow.cleared_at).is_(None)
        )
        .execution_options(populate_existing=True)
    ).first()


def open_stops(session: Session, limit: int = 100) -> list[tuple[CaseWorkflowStopRow, CaseRow]]:
    """Open stops with their cases, the longest stopped first."""
    rows = session.exec(
        select(CaseWorkflowStopRow, CaseRow)
        .join(CaseRow, col(CaseRow.case_id) == col(CaseWorkflowStopRow.case_id))
        .where(col(CaseWorkflowStopRow.cleared_at).is_(None))
        .order_by(col(CaseWorkflowStopRow.detected_at), col(CaseWorkflowStopRow.id))
        .limit(limit)
    ).all()
    return [(stop, case) for stop, case in rows]


def count_open_stops(session: Session) -> dict[str, int]:
    """Open stops per status (terminated, failed...)."""
    rows = session.exec(
        select(CaseWorkflowStopRow.status, func.count())
        .where(col(CaseWorkflowStopRow.cleared_at).is_(None))
        .group_by(col(CaseWorkflowStopRow.status))
    ).all()
    return {status: int(count) for status, count in rows}


def stopped_among(session: Session, case_ids: Iterable[str]) -> set[str]:
    """Which of these cases have an open stop (a worklist marks them)."""
    wanted = list(case_ids)
    if not wanted:
        return set()
    return set(
        session.exec(
            select(CaseWorkflowStopRow.case_id).where(
                col(CaseWorkflowStopRow.case_id).in_(wanted),
                col(CaseWorkflowStopRow.cleared_at).is_(None),
            )
        )
    )


def recorded_runs(session: Session, case_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(case, run) pairs already recorded, open or cleared: the sweep need not look again."""
    wanted = list(case_ids)
    if not wanted:
        return set()
    rows = session.exec(
        select(CaseWorkflowStopRow.case_id, CaseWorkflowStopRow.run_id).where(
            col(CaseWorkflowStopRow.case_id).in_(wanted),
            col(CaseWorkflowStopRow.run_id).is_not(None),
        )
    ).all()
    return {(case_id, run_id) for case_id, run_id in rows if run_id is not None}


def open_case_ids(session: Session, case_ids: Iterable[str]) -> set[str]:
    """Which of these cases the read model shows open."""
    wanted = list(case_ids)
    if not wanted:
        return set()
    return set(
        session.exec(
            select(CaseRow.case_id).where(
                col(CaseRow.case_id).in_(wanted), col(CaseRow.status) != CaseStatus.CLOSED.value
            )
        )
    )


def open_cases_without_stop(session: Session) -> list[str]:
    """Every case the read model shows open with no open stop: what a workflow should run."""
    stopped = select(CaseWorkflowStopRow.case_id).where(
        col(CaseWorkflowStopRow.cleared_at).is_(None)
    )
    return list(
        session.exec(
            select(CaseRow.case_id).where(
                col(CaseRow.status) != CaseStatus.CLOSED.value,
                col(CaseRow.case_id).not_in(stopped),
            )
        )
    )


def open_stop_case_ids(session: Session) -> list[str]:
    return list(
        session.exec(
            select(CaseWorkflowStopRow.case_id).where(col(CaseWorkflowStopRow.cleared_at).is_(None))
        )
    )


def get_mark(session: Session, name: str) -> datetime | None:
    row = session.get(SweepMarkRow, name, populate_existing=True)
    return row.at if row is not None else None


def set_mark(session: Session, name: str, at: datetime) -> None:
    upsert(session, SweepMarkRow.__table__, [{"name": name, "at": at}], ["name"])  # type: ignore[attr-defined]
    session.commit()
