"""Saved case-list filters: each user names, lists, applies and deletes their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from api.deps import AuditDep, CaseReader, SessionDep
from api.errors import ERROR_RESPONSES
from services.saved_filters import SavedFilter, SavedFilterIn, SavedFilterService

router = APIRouter(prefix="/api/v1/case-filters", tags=["cases"], responses=ERROR_RESPONSES)


def get_saved_filters(session: SessionDep, audit: AuditDep) -> SavedFilterService:
    return SavedFilterService(session, audit)


SavedFiltersDep = Annotated[SavedFilterService, Depends(get_saved_filters)]


@router.get("")
def list_filters(saved: SavedFiltersDep, actor: CaseReader) -> list[SavedFilter]:
    """The acting user's saved filters, by name; apply one with GET /api/v1/cases and its
    `filters` as the query."""
    return saved.list(actor)


@router.post("", status_code=status.HTTP_201_CREATED)
def save_filter(body: SavedFilterIn, saved: SavedFiltersDep, actor: CaseReader) -> SavedFilter:
    """Save the filters under a name (the same name again replaces them)."""
    return saved.save(body, actor)


@router.get("/{filter_id}")
def get_filter(filter_id: int, saved: SavedFiltersDep, actor: CaseReader) -> SavedFilter:
    return saved.get(filter_id, actor)


@router.delete("/{filter_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_filter(filter_id: int, saved: SavedFiltersDep, actor: CaseReader) -> Response:
    saved.delete(filter_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
