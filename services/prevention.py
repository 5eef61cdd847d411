"""Prevention items: one per pattern of denials, worked upstream by the owning team."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import CaseRow, PreventionCaseLink, PreventionTaskRow
from db.patterns import adjudicated_claims, category_denials, pattern_denials
from domain.case import Actor
from domain.effectiveness import Effectiveness, RecurrenceWindow, Window, comparison_windows
from domain.effectiveness import effectiveness as compare
from domain.root_cause import PatternKey, PatternKind
from services.audit import AuditService, Outcome
from services.errors import Invalid, NotFound
from services.schemas import Page


class PreventionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


# open -> in progress -> done; reopening a done item is a new item (the pattern's next one).
_NEXT = {
    PreventionStatus.OPEN: {PreventionStatus.IN_PROGRESS, PreventionStatus.DONE},
    PreventionStatus.IN_PROGRESS: {PreventionStatus.OPEN, PreventionStatus.DONE},
    PreventionStatus.DONE: set(),
}


class PreventionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    prevention_task_id: str
    pattern_key: str
    payer_id: str
    payer_name: str
    category: str | None
    root_cause: str
    owning_team: str
    recommended_action: str
    status: str
    owner: str | None
    notes: str
    case_count: int
    dollars_at_stake: Decimal
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    pattern: str = Field(default="", description="What the cases have in common")
    effectiveness: Effectiveness | None = Field(
        default=None, description="Once done: the pattern's denial rate before and after"
    )


class LinkedCase(BaseModel):
    case_id: str
    claim_id: str
    outcome: str
    denied_amount: Decimal
    linked_at: datetime


class PreventionDetail(PreventionOut):
    cases: list[LinkedCase]


class PreventionChange(BaseModel):
    status: PreventionStatus | None = None
    owner: str | None = Field(default=None, max_length=80)
    notes: str | None = Field(default=None, max_length=8000)


class PreventionService:
    def __init__(self, session: Session, audit: AuditService, window_days: int = 90) -> None:
        self._session = session
        self._audit = audit
        self._window_days = window_days  # the effectiveness windows, as long as the pattern's

    def list(
        self,
        actor: Actor,
        status: PreventionStatus | None = None,
        owning_team: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[PreventionOut]:
        conditions = []
        if status is not None:
            conditions.append(col(PreventionTaskRow.status) == status.value)
        if owning_team is not None:
            conditions.append(col(PreventionTaskRow.owning_team) == owning_team)
        total = self._session.exec(
            select(func.count()).select_from(PreventionTaskRow).where(*conditions)
        ).one()
        rows = self._session.exec(
            select(PreventionTaskRow)
            .where(*conditions)
            .order_by(
                col(PreventionTaskRow.dollars_at_stake).desc(),
                col(PreventionTaskRow.prevention_task_id),
            )
            .offset(offset)
            .limit(limit)
        )
        self._audit.record(actor, "prevention.list", status=status.value if status else None)
        return Page[PreventionOut](
            items=[self._out(row) for row in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    def _row(self, prevention_task_id: str) -> PreventionTaskRow:
        row = self._session.get(PreventionTaskRow, prevention_task_id)
        if row is None:
            raise NotFound(f"no prevention task {prevention_task_id}")
        return row

    def get(self, prevention_task_id: str, actor: Actor) -> PreventionDetail:
        row = self._row(prevention_task_id)
        links = self._session.exec(
            select(PreventionCaseLink, CaseRow)
            .join(CaseRow, col(CaseRow.case_id) == col(PreventionCaseLink.case_id))
            .where(PreventionCaseLink.prevention_task_id == prevention_task_id)
            .order_by(col(PreventionCaseLink.linked_at))
        ).all()
        self._audit.record(actor, "prevention.view", prevention_task_id=prevention_task_id)
        return PreventionDetail(
            **self._out(row).model_dump(),
            cases=[
                LinkedCase(
                    case_id=link.case_id,
                    claim_id=case.claim_id,
                    outcome=link.outcome,
                    denied_amount=link.denied_amount,
                    linked_at=link.linked_at,
                )
                for link, case in links
            ],
        )

    def change(
        self, prevention_task_id: str, change: PreventionChange, actor: Actor
    ) -> PreventionOut:
        row = self._row(prevention_task_id)
        current = PreventionStatus(row.status)
        if change.status is not None and change.status is not current:
            if change.status not in _NEXT[current]:
                reason = f"status: cannot go from {current.value} to {change.status.value}"
                self._audit.record(
                    actor,
                    "prevention.change",
                    Outcome.REFUSED,
                    prevention_task_id=prevention_task_id,
                    reason=reason,
                )
                raise Invalid(reason)
            row.status = change.status.value
            row.completed_at = datetime.now(UTC) if change.status is PreventionStatus.DONE else None
        if change.owner is not None:
            row.owner = change.owner or None
        if change.notes is not None:
            row.notes = change.notes
        row.updated_at = datetime.now(UTC)
        self._session.add(row)
        self._session.commit()
        self._audit.record(
            actor,
            "prevention.change",
            prevention_task_id=prevention_task_id,
            status=row.status,
            owner=row.owner,
        )
        return self._out(row)

    def _out(self, row: PreventionTaskRow) -> PreventionOut:
        pattern = PatternKey.parse(row.pattern_key)
        payer = row.payer_name or row.payer_id
        described = (
            pattern.describe(row.payer_name)
            if pattern
            else f"{payer} · {row.category or 'unknown'} · {row.root_cause}"
        )
        return PreventionOut.model_validate(row).model_copy(
            update={
                "pattern": described,
                "effectiveness": self._effectiveness(row, pattern) if row.completed_at else None,
            }
        )

    def _effectiveness(self, row: PreventionTaskRow, pattern: PatternKey | None) -> Effectiveness:
        assert row.completed_at is not None
        done_on = row.completed_at.date()
        before, after = comparison_windows(done_on, self._window_days, datetime.now(UTC).date())
        return compare(
            done_on, self._recurrence(row, pattern, before), self._recurrence(row, pattern, after)
        )

    def _recurrence(
        self, row: PreventionTaskRow, pattern: PatternKey | None, window: Window
    ) -> RecurrenceWindow:
        """Denials of the pattern over the claims its payer (or provider) had adjudicated."""
        since, until = window.start, window.end
        if pattern is None:
            denials = category_denials(self._session, row.payer_id, row.category, since, until)
            claims = adjudicated_claims(self._session, since, until, payer_id=row.payer_id)
        elif pattern.kind is PatternKind.PROVIDER_CARC:
            denials = pattern_denials(self._session, pattern, since, until)
            claims = adjudicated_claims(
                self._session, since, until, provider_npi=pattern.provider_npi
            )
        else:
            denials = pattern_denials(self._session, pattern, since, until)
            claims = adjudicated_claims(self._session, since, until, payer_id=pattern.payer_id)
        return RecurrenceWindow(start=since, end=until, denials=denials, claims=claims)
