"""Pages: the case worklist and the case detail (read-only until the web UI issue adds forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import CaseServiceDep, SettingsDep
from domain.models import Category
from services.schemas import CaseFilters
from web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/cases", status_code=303)


@router.get("/cases", response_class=HTMLResponse)
def case_list(
    request: Request, filters: Annotated[CaseFilters, Query()], cases: CaseServiceDep
) -> HTMLResponse:
    page = cases.list_cases(filters)
    return templates.TemplateResponse(
        request,
        "cases.html",
        {"page": page, "filters": filters, "categories": [c.value for c in Category]},
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_detail(
    request: Request, case_id: str, cases: CaseServiceDep, settings: SettingsDep
) -> HTMLResponse:
    detail = cases.get_case(case_id)
    temporal_link = (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{settings.temporal_namespace}"
        f"/workflows/{case_id}"
    )
    return templates.TemplateResponse(
        request, "case_detail.html", {"case": detail, "temporal_link": temporal_link}
    )
