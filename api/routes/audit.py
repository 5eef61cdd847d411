"""The audit trail, for supervisors and admins: search, per case, and CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.errors import ERROR_RESPONSES
from app.deps import AuditDep, AuditReader, OffsetQuery
from domain.permissions import Permission, allows
from services.audit import AuditEventView, AuditFilters, Outcome
from services.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/audit")
def search_audit(
    filters: Annotated[AuditFilters, Query()], audit: AuditDep, actor: AuditReader
) -> Page[AuditEventView]:
    page = Page[AuditEventView](
        items=audit.search(filters, full_detail=allows(actor.role, Permission.VIEW_AUDIT_DETAIL)),
        total=audit.count(filters),
        limit=filters.limit,
        offset=filters.offset,
    )
    audit.record(actor, "audit.search", filters=filters.model_dump_json(exclude_defaults=True))
    return page


@router.get("/audit.csv", response_class=StreamingResponse)
def export_audit(
    filters: Annotated[AuditFilters, Query()], audit: AuditDep, actor: AuditReader
) -> StreamingResponse:
    """Every matching event, oldest first (no paging)."""
    audit.record(actor, "audit.export", filters=filters.model_dump_json(exclude_defaults=True))
    return StreamingResponse(
        audit.csv_lines(filters, full_detail=allows(actor.role, Permission.VIEW_AUDIT_DETAIL)),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@router.get("/cases/{case_id}/audit")
def case_audit(
    case_id: str,
    audit: AuditDep,
    actor: AuditReader,
    action: str | None = None,
    outcome: Outcome | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
) -> Page[AuditEventView]:
    """Everything done to or seen of one case."""
    filters = AuditFilters(
        case_id=case_id, action=action, outcome=outcome, limit=limit, offset=offset
    )
    return search_audit(filters, audit, actor)
