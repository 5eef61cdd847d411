"""Prevention items: one per pattern of denials, worked upstream by the owning team."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import CaseRow, PreventionCaseLink, PreventionTaskRow
from db.patterns import adjudicated_claims, category_denials, pattern_denials
from db.prevention_edits import (
    EditVersion,
    PreventionEditRow,
    add_edit,
    current_row,
    edit_hits_by_item,
    edit_versions,
    revise_edit,
    switch_edit,
)
from domain.case import Actor
from domain.claim_checks.edits import read_edit
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
    edits: list[EditVersion] = Field(
        default_factory=list, description="Its prevention edits: each edit's newest version first"
    )


class EditIn(BaseModel):
    """A prevention edit as the owning team writes it. The condition names claim fields:
    payer_ids, procedure_codes, places_of_service, diagnosis_present, diagnosis_absent and
    rendering_npis (lists, or codes separated by commas), modifier_missing and modifier_present
    (one modifier), units_over (a number), prior_authorization_missing (true/false)."""

    severity: str = Field(description="warn or block")
    fix: str = Field(description="What to change before sending, shown to the biller")
    enabled: bool = True
    condition: dict[str, Any]


class EditSwitch(BaseModel):
    enabled: bool


class EditProblems(Invalid):
    """Every problem of a written edit, by field ("" for the condition as a whole)."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k or 'condition'}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


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
        ).all()  # read whole before the audit's INSERT: on SQLite a write after a read still
        # open must start from the newest snapshot, else it fails at once ("database is locked")
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
            edits=edit_versions(self._session, prevention_task_id),
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

    def write_edit(
        self,
        prevention_task_id: str,
        raw: Mapping[str, Any],
        actor: Actor,
        edit_id: str | None = None,
    ) -> EditVersion:
        """A new edit on the item, or (with `edit_id`) the edit's next version. Nothing is
        saved unless every field reads; the refusal names each problem by its field."""
        self._row(prevention_task_id)
        current = self._current_edit(prevention_task_id, edit_id) if edit_id else None
        draft, problems = read_edit(raw)
        if draft is None:
            self._audit.record(
                actor,
                "prevention.edit",
                Outcome.REFUSED,
                prevention_task_id=prevention_task_id,
                edit_id=edit_id,
                reason="; ".join(sorted(k or "condition" for k in problems)),
            )
            raise EditProblems(problems)
        if current is None:
            written = add_edit(self._session, prevention_task_id, draft, actor.user_id)
        else:
            written = revise_edit(self._session, current, draft, actor.user_id)
        self._session.commit()
        self._audit.record(
            actor,
            "prevention.edit",
            prevention_task_id=prevention_task_id,
            edit=written.code,
            severity=written.severity.value,
            condition=written.condition.describe(),
            enabled=written.enabled,
        )
        return written

    def switch_edit(
        self, prevention_task_id: str, edit_id: str, enabled: bool, actor: Actor
    ) -> EditVersion:
        """Switch an edit off (checks stop applying it) or on again: same version."""
        current = self._current_edit(prevention_task_id, edit_id)
        switched = switch_edit(self._session, current, enabled)
        self._session.commit()
        self._audit.record(
            actor,
            "prevention.edit_switch",
            prevention_task_id=prevention_task_id,
            edit=switched.code,
            enabled=enabled,
        )
        return switched

    def _current_edit(self, prevention_task_id: str, edit_id: str) -> PreventionEditRow:
        current = current_row(self._session, edit_id)
        if current is None or current.prevention_task_id != prevention_task_id:
            raise NotFound(f"no edit {edit_id} on prevention task {prevention_task_id}")
        return current

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
            done_on,
            self._recurrence(row, pattern, before),
            self._recurrence(row, pattern, after),
            edit_hits=edit_hits_by_item(self._session, [row.prevention_task_id]).get(
                row.prevention_task_id
            ),
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
