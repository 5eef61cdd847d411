"""Saved case-list filters: each user names, lists, applies and deletes their own."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.errors import ERROR_RESPONSES
from app.deps import CaseReader, SavedFiltersDep
from services.saved_filters import SavedFilter, SavedFilterIn

router = APIRouter(prefix="/api/v1/case-filters", tags=["cases"], responses=ERROR_RESPONSES)


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
