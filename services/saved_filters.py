"""Case-list filters a user names and applies again. They are kept in the read model with
the user; their terms may name a patient, so the audit records them under 'filters', which
admins never see (domain.audit_detail), and the names are not recorded at all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.case_search import SavedCaseFilterRow
from domain.case import Actor
from services.audit import AuditService, Outcome
from services.errors import Invalid, NotFound
from services.schemas import CaseFilters

MAX_SAVED_FILTERS = 50  # per user: a list to pick from, not a store

# What a saved filter keeps: the search, not the page the user was on.
_NOT_KEPT = {"limit", "offset", "cursor"}


class SavedFilterIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    filters: CaseFilters

    @field_validator("name")
    @classmethod
    def _trimmed(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("give the filter a name")
        return " ".join(name.split())


class SavedFilter(BaseModel):
    filter_id: int
    name: str
    filters: CaseFilters
    created_at: datetime

    @property
    def query(self) -> str:
        """The case list's query string that applies it (GET /cases?...)."""
        return urlencode(query_values(self.filters), doseq=True)


def kept(filters: CaseFilters) -> dict[str, Any]:
    return filters.model_dump(mode="json", exclude_defaults=True, exclude=_NOT_KEPT)


def query_values(filters: CaseFilters) -> dict[str, Any]:
    values = kept(filters)
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in values.items()}


class SavedFilterService:
    def __init__(self, session: Session, audit: AuditService) -> None:
        self._session = session
        self._audit = audit

    def _out(self, row: SavedCaseFilterRow) -> SavedFilter:
        assert row.id is not None
        return SavedFilter(
            filter_id=row.id,
            name=row.name,
            filters=CaseFilters.model_validate(row.filters),
            created_at=row.created_at,
        )

    def list(self, actor: Actor) -> list[SavedFilter]:
        rows = self._session.exec(
            select(SavedCaseFilterRow)
            .where(SavedCaseFilterRow.user_id == actor.user_id)
            .order_by(col(SavedCaseFilterRow.name))
        )
        return [self._out(row) for row in rows]

    def get(self, filter_id: int, actor: Actor) -> SavedFilter:
        return self._out(self._own(filter_id, actor))

    def _own(self, filter_id: int, actor: Actor) -> SavedCaseFilterRow:
        """The user's own filter; another user's is as unknown as a missing one."""
        row = self._session.get(SavedCaseFilterRow, filter_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFound(f"no saved filter {filter_id}")
        return row

    def save(self, saved: SavedFilterIn, actor: Actor) -> SavedFilter:
        """Save under a name; saving again under the same name replaces that filter."""
        filters = kept(saved.filters)
        if not filters:
            self._audit.record(actor, "case_filter.save", Outcome.REFUSED, reason="no filter")
            raise Invalid("filters: choose at least one filter or search to save")
        row = self._session.exec(
            select(SavedCaseFilterRow).where(
                SavedCaseFilterRow.user_id == actor.user_id,
                SavedCaseFilterRow.name == saved.name,
            )
        ).first()
        if row is None:
            count = len(self.list(actor))
            if count >= MAX_SAVED_FILTERS:
                raise Invalid(f"name: {MAX_SAVED_FILTERS} saved filters at most; delete one")
            row = SavedCaseFilterRow(
                user_id=actor.user_id, name=saved.name, filters=filters, created_at=_now()
            )
        else:
            row.filters, row.created_at = filters, _now()
        self._session.add(row)
        try:
            self._session.commit()
        except IntegrityError as exc:  # the same name saved at the same moment elsewhere
            self._session.rollback()
            raise Invalid(f"name: '{saved.name}' was just saved; try again") from exc
        self._session.refresh(row)
        self._audit.record(actor, "case_filter.save", filter_id=row.id, filters=filters)
        return self._out(row)

    def delete(self, filter_id: int, actor: Actor) -> None:
        row = self._own(filter_id, actor)
        self._session.delete(row)
        self._session.commit()
        self._audit.record(actor, "case_filter.delete", filter_id=filter_id)


def _now() -> datetime:
    return datetime.now(UTC)
