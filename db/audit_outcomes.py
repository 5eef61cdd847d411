"""Reconciling audit entries whose request went unanswered: the workflow names the Update that
made each case event, and the projection writing those events settles the 'unknown' entries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from db.models import AuditEventRow, AuditSettledUpdateRow, CaseEventRow, Outcome


def applied_updates(session: Session, update_ids: Collection[str]) -> set[str]:
    """Which of these Updates the read model shows applied (a case event names them)."""
    if not update_ids:
        return set()
    found = session.exec(
        select(CaseEventRow.update_id).where(col(CaseEventRow.update_id).in_(update_ids))
    )
    return {update_id for update_id in found if update_id is not None}


def reconcile_unknown(session: Session, update_ids: Collection[str]) -> int:
    """Add an 'ok' entry for each 'unknown' one these Updates settle, once: a projection retried
    adds nothing more, and of a projection and an unanswered request settling the same Update
    at the same moment only the first to claim it does (AuditSettledUpdateRow's key). The
    unknown entry stays as it was written: the trail is append-only."""
    if not update_ids:
        return 0
    entries = session.exec(
        select(AuditEventRow).where(col(AuditEventRow.update_id).in_(update_ids))
    ).all()
    settled = {e.update_id for e in entries if e.outcome == Outcome.OK}
    added = 0
    for entry in entries:
        if entry.outcome != Outcome.UNKNOWN or entry.update_id in settled:
            continue
        settled.add(entry.update_id)
        if not _claim_settling(session, entry.update_id):
            continue  # another transaction settled it since the entries were read
        session.add(
            AuditEventRow(
                at=datetime.now(UTC),
                user_id=entry.user_id,
                role=entry.role,
                action=entry.action,
                outcome=Outcome.OK,
                case_id=entry.case_id,
                task_id=entry.task_id,
                detail={**entry.detail, "reconciles": entry.id},
                client_ip=entry.client_ip,
                update_id=entry.update_id,
            )
        )
        added += 1
    return added


def _claim_settling(session: Session, update_id: str) -> bool:
    """Whether this transaction is the first to settle the Update (a concurrent one waits on
    the key, then finds it taken)."""
    table: Table = AuditSettledUpdateRow.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(update_id=update_id, settled_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(table.c.update_id)
    )
    return session.execute(statement).scalar_one_or_none() is not None
