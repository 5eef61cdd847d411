"""Prevention edits as stored: every version of every edit, which one is current, whether it is
switched on, and how many claims each version caught. Imported by db.models so that its table
is on the one metadata.

Changing an edit's condition, severity or fix adds a version and keeps the old ones, so a
finding's code (id@version) and its hits always point at the condition that fired. Switching an
edit off or on changes its current version only: the same condition, not a new one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from db.types import UTCDateTime
from domain.claim_checks.edits import EditCondition, EditDraft, PreventionEdit
from domain.claim_checks.findings import Severity

_CODE = re.compile(r"(PE-[0-9a-f]{12})@v([0-9]{1,6})")


class PreventionEditRow(SQLModel, table=True):
    __tablename__ = "prevention_edits"
    __table_args__ = (Index("ix_prevention_edits_active", "is_current", "enabled"),)

    edit_id: str = Field(primary_key=True, max_length=40)
    version: int = Field(primary_key=True)
    prevention_task_id: str = Field(
        foreign_key="prevention_tasks.prevention_task_id", max_length=40, index=True
    )
    severity: str = Field(max_length=8)  # warn / block
    condition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    fix: str
    enabled: bool = True
    is_current: bool = True  # the newest version: the one checks use
    hits: int = 0  # claims (or lines) this version caught
    last_hit_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    written_by: str = Field(max_length=80)
    written_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class EditVersion(PreventionEdit):
    """A stored version with who wrote it and what it caught (for the board)."""

    is_current: bool
    hits: int
    last_hit_at: datetime | None
    written_by: str
    written_at: datetime


def _edit(row: PreventionEditRow) -> PreventionEdit:
    return PreventionEdit(
        edit_id=row.edit_id,
        version=row.version,
        prevention_task_id=row.prevention_task_id,
        severity=Severity(row.severity),
        condition=EditCondition.model_validate(row.condition),
        fix=row.fix,
        enabled=row.enabled,
    )


def _version(row: PreventionEditRow) -> EditVersion:
    return EditVersion(
        **_edit(row).model_dump(),
        is_current=row.is_current,
        hits=row.hits,
        last_hit_at=row.last_hit_at,
        written_by=row.written_by,
        written_at=row.written_at,
    )


def _stored(draft: EditDraft) -> dict[str, Any]:
    return draft.condition.model_dump(mode="json")


def current_row(session: Session, edit_id: str) -> PreventionEditRow | None:
    return session.exec(
        select(PreventionEditRow).where(
            PreventionEditRow.edit_id == edit_id, col(PreventionEditRow.is_current)
        )
    ).first()


def _write_version(
    session: Session,
    edit_id: str,
    version: int,
    prevention_task_id: str,
    draft: EditDraft,
    written_by: str,
) -> EditVersion:
    row = PreventionEditRow(
        edit_id=edit_id,
        version=version,
        prevention_task_id=prevention_task_id,
        severity=draft.severity.value,
        condition=_stored(draft),
        fix=draft.fix,
        enabled=draft.enabled,
        written_by=written_by,
        written_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return _version(row)


def add_edit(
    session: Session, prevention_task_id: str, draft: EditDraft, written_by: str
) -> EditVersion:
    """A new edit on a prevention item, at version 1 (in the caller's transaction)."""
    edit_id = f"PE-{uuid.uuid4().hex[:12]}"
    return _write_version(session, edit_id, 1, prevention_task_id, draft, written_by)


def revise_edit(
    session: Session, current: PreventionEditRow, draft: EditDraft, written_by: str
) -> EditVersion:
    """The edit's next version; the one before stays, no longer current, with its hits."""
    current.is_current = False
    session.add(current)
    session.flush()
    return _write_version(
        session,
        current.edit_id,
        current.version + 1,
        current.prevention_task_id,
        draft,
        written_by,
    )


def switch_edit(session: Session, current: PreventionEditRow, enabled: bool) -> EditVersion:
    current.enabled = enabled
    session.add(current)
    session.flush()
    return _version(current)


def edit_versions(session: Session, prevention_task_id: str) -> list[EditVersion]:
    """Every version of the item's edits: each edit's newest first, edits oldest first."""
    rows = session.exec(
        select(PreventionEditRow)
        .where(PreventionEditRow.prevention_task_id == prevention_task_id)
        .order_by(col(PreventionEditRow.edit_id), col(PreventionEditRow.version).desc())
    ).all()
    versions = [_version(row) for row in rows]
    first_written = {v.edit_id: v.written_at for v in versions if v.version == 1}
    return sorted(versions, key=lambda v: (first_written.get(v.edit_id, v.written_at), v.edit_id))


def active_edits(session: Session) -> list[PreventionEdit]:
    """The current version of every edit switched on: what a claim check applies."""
    rows = session.exec(
        select(PreventionEditRow)
        .where(col(PreventionEditRow.is_current), col(PreventionEditRow.enabled))
        .order_by(col(PreventionEditRow.edit_id))
    ).all()
    return [_edit(row) for row in rows]


def record_edit_hits(session: Session, codes: Mapping[str, int]) -> None:
    """Add what a check caught to each edit version's hits: `codes` maps a finding's code
    (id@vN) to how many findings carried it. Codes of other kinds of finding are skipped. In the
    caller's transaction, so the hits commit with the check results they count; the increment
    is done by the database, so concurrent checks do not lose each other's hits."""
    now = datetime.now(UTC)
    for code, count in codes.items():
        matched = _CODE.fullmatch(code)
        if matched is None or count <= 0:
            continue
        session.execute(
            update(PreventionEditRow)
            .where(
                col(PreventionEditRow.edit_id) == matched.group(1),
                col(PreventionEditRow.version) == int(matched.group(2)),
            )
            .values(hits=col(PreventionEditRow.hits) + count, last_hit_at=now)
        )


def edit_hits_by_item(session: Session, prevention_task_ids: Sequence[str]) -> dict[str, int]:
    """All hits of all versions of each item's edits; an item without an edit is left out."""
    if not prevention_task_ids:
        return {}
    rows = session.exec(
        select(PreventionEditRow.prevention_task_id, func.sum(PreventionEditRow.hits))
        .where(col(PreventionEditRow.prevention_task_id).in_(prevention_task_ids))
        .group_by(col(PreventionEditRow.prevention_task_id))
    ).all()
    return {item: int(hits or 0) for item, hits in rows}
