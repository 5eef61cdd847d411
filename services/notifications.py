"""Notifications: who is told what, derived from the read model, each thing once.

The case workflow announces escalations (domain.escalation) and the projection writes each
open task's level into the read model; this service turns those levels into notifications
without a second policy and without touching the workflow: supervisors are told of deadlines
reaching escalated (T-7) and urgent (T-2), billers (and supervisors) of the tasks assigned to
them reaching the reminder (T-14, "due soon"). The unique key (user, case, kind, deadline)
makes every derivation after the first a no-op, whichever process runs it; a deadline moved
later is a new deadline, told again when it comes near. Urgent ones are e-mailed at once,
the others in a daily digest (services.mailer sends both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from db.models import CaseRow, TaskRow, UserRow
from db.notifications import NotificationPreferenceRow, NotificationRow
from domain.case import EscalationLevel, Role, TaskStatus
from domain.permissions import Permission, allows
from services.errors import NotFound

DUE_SOON, ESCALATED, URGENT = "due_soon", "escalated", "urgent"
KIND_WORDS = {
    DUE_SOON: "Task due soon",
    ESCALATED: "Escalated to supervisors",
    URGENT: "Urgent",
}


def deadline_words(deadline_key: str) -> str:
    """'appeal:1' -> 'Appeal level 1', as domain.deadlines.Deadline.label words it: the
    deadline's kind names no patient."""
    kind, _, level = deadline_key.partition(":")
    words = kind.replace("_", " ").capitalize()
    return f"{words} level {level}" if level else words


@dataclass(frozen=True)
class _Wanted:
    user_id: str
    case_id: str
    kind: str
    deadline: date
    deadline_key: str
    claim_id: str


class NotificationOut(BaseModel):
    id: int
    case_id: str
    claim_id: str
    kind: str
    title: str
    deadline: date
    deadline_kind: str
    created_at: datetime
    read: bool


class NotificationPreferences(BaseModel):
    # The daily e-mail digest of what is not urgent (urgent alerts are always e-mailed).
    email_digest: bool = True


def _out(row: NotificationRow) -> NotificationOut:
    assert row.id is not None
    return NotificationOut(
        id=row.id,
        case_id=row.case_id,
        claim_id=row.claim_id,
        kind=row.kind,
        title=KIND_WORDS.get(row.kind, row.kind),
        deadline=row.deadline,
        deadline_kind=deadline_words(row.deadline_key),
        created_at=row.created_at,
        read=row.read_at is not None,
    )


def _wanted(session: Session) -> list[_Wanted]:
    """Every notification the read model calls for now (most exist already)."""
    rows = session.exec(
        select(
            TaskRow.case_id,
            TaskRow.deadline_key,
            TaskRow.deadline_due,
            TaskRow.escalation,
            TaskRow.assignee,
            CaseRow.claim_id,
        )
        .join(CaseRow, col(CaseRow.case_id) == col(TaskRow.case_id))
        .where(
            col(TaskRow.status) == TaskStatus.OPEN.value,
            col(TaskRow.escalation) >= int(EscalationLevel.REMINDER),
            col(TaskRow.deadline_due).is_not(None),
            col(TaskRow.deadline_key).is_not(None),
        )
    ).all()
    users = {u.user_id: u for u in session.exec(select(UserRow).where(col(UserRow.active)))}
    # Escalations go to those who steer the team's work.
    supervisors = [u for u in users.values() if allows(Role(u.role), Permission.SUPERVISE)]
    wanted: set[_Wanted] = set()
    for case_id, key, due, level, assignee, claim_id in rows:
        assert key is not None and due is not None
        holder = users.get(assignee or "")
        # Whoever works the task hears it is due soon (supervisors work tasks too).
        if holder is not None and allows(Role(holder.role), Permission.WORK_TASKS):
            wanted.add(_Wanted(holder.user_id, case_id, DUE_SOON, due, key, claim_id))
        # The level the deadline reached (tasks racing it share it): escalated or urgent.
        kind = URGENT if level >= EscalationLevel.URGENT else ESCALATED
        if level >= EscalationLevel.ESCALATED:
            for supervisor in supervisors:
                wanted.add(_Wanted(supervisor.user_id, case_id, kind, due, key, claim_id))
    return sorted(wanted, key=lambda w: (w.user_id, w.case_id, w.kind, w.deadline))


def _insert_ignoring_duplicates(session: Session, values: list[dict[str, object]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING on the unique key: concurrent sweeps race safely."""
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(NotificationRow)
        .values(values)
        .on_conflict_do_nothing()
        .returning(NotificationRow.id)  # type: ignore[arg-type]
    )
    return len(session.execute(statement).all())  # rowcount is -1 on psycopg


def derive(session: Session, now: datetime | None = None) -> int:
    """Record the notifications the read model calls for; returns how many are new."""
    now = now or datetime.now(UTC)
    wanted = _wanted(session)
    if not wanted:
        return 0
    existing = set(
        session.exec(
            select(
                NotificationRow.user_id,
                NotificationRow.case_id,
                NotificationRow.kind,
                NotificationRow.deadline,
            ).where(col(NotificationRow.case_id).in_({w.case_id for w in wanted}))
        ).all()
    )
    values: list[dict[str, object]] = [
        {
            "user_id": w.user_id,
            "case_id": w.case_id,
            "kind": w.kind,
            "deadline": w.deadline,
            "deadline_key": w.deadline_key,
            "claim_id": w.claim_id,
            "created_at": now,
            # Urgent goes at once; the rest waits for the user's daily digest.
            "email_status": "pending" if w.kind == URGENT else "digest",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
        }
        for w in wanted
        if (w.user_id, w.case_id, w.kind, w.deadline) not in existing
    ]
    added = _insert_ignoring_duplicates(session, values)
    session.commit()
    return added


class NotificationService:
    """A user's own notifications in the app, and her e-mail preferences."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def list(self, user_id: str, *, limit: int = 100) -> list[NotificationOut]:
        rows = self._session.exec(
            select(NotificationRow)
            .where(col(NotificationRow.user_id) == user_id)
            .order_by(col(NotificationRow.read_at).is_not(None), col(NotificationRow.id).desc())
            .limit(limit)
        )
        return [_out(row) for row in rows]

    def unread_count(self, user_id: str) -> int:
        return int(
            self._session.exec(
                select(func.count()).where(
                    col(NotificationRow.user_id) == user_id,
                    col(NotificationRow.read_at).is_(None),
                )
            ).one()
        )

    def mark_read(self, user_id: str, notification_id: int) -> NotificationOut:
        row = self._session.get(NotificationRow, notification_id)
        if row is None or row.user_id != user_id:  # someone else's is not hers to see
            raise NotFound(f"no notification {notification_id}")
        if row.read_at is None:
            row.read_at = datetime.now(UTC)
            self._session.add(row)
            self._session.commit()
        return _out(row)

    def mark_all_read(self, user_id: str) -> int:
        result = self._session.execute(
            update(NotificationRow)
            .where(col(NotificationRow.user_id) == user_id, col(NotificationRow.read_at).is_(None))
            .values(read_at=datetime.now(UTC))
        )
        self._session.commit()
        return int(result.rowcount or 0)

    def preferences(self, user_id: str) -> NotificationPreferences:
        row = self._session.get(NotificationPreferenceRow, user_id)
        return NotificationPreferences(email_digest=row.email_digest if row else True)

    def set_preferences(
        self, user_id: str, preferences: NotificationPreferences
    ) -> NotificationPreferences:
        row = self._session.get(NotificationPreferenceRow, user_id) or NotificationPreferenceRow(
            user_id=user_id, updated_at=datetime.now(UTC)
        )
        row.email_digest = preferences.email_digest
        row.updated_at = datetime.now(UTC)
        self._session.add(row)
        self._session.commit()
        return self.preferences(user_id)
