"""The case list: search and filters, and the filters each user saves to apply again."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.deps import CaseServiceDep, SavedFiltersDep, StoppedCaseServiceDep
from domain.models import Category
from domain.permissions import Permission, allows
from services.errors import Invalid
from services.saved_filters import SavedFilterIn, query_values
from services.schemas import CaseFilters
from web.session import CaseReaderPage, PostedForm
from web.templating import redirect_with_flash, render
from web.wording import located_errors

router = APIRouter(include_in_schema=False)
CATEGORIES = [category.value for category in Category]
# Fields of the save form that are not filters.
_NOT_FILTERS = {"name", "csrf_token"}
_PAGING = {"offset", "cursor"}


def pager_base(request: Request) -> str:
    """The current search's URL without its page, ready for "cursor=..." to be appended."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in _PAGING]
    return "/cases?" + "".join(f"{part}&" for part in [urlencode(kept)] if kept)


@router.get("/cases", response_class=HTMLResponse)
def case_list(
    request: Request,
    filters: Annotated[CaseFilters, Query()],
    cases: CaseServiceDep,
    stops: StoppedCaseServiceDep,
    saved: SavedFiltersDep,
    user: CaseReaderPage,
) -> HTMLResponse:
    page = cases.list_cases(filters, user.actor)
    return render(
        request,
        "cases.html",
        {
            "page": page,
            "pager_base": pager_base(request),
            "filters": filters,
            "categories": CATEGORIES,
            "user": user,
            # What the save form sends back: the search as it is now, not its page.
            "current": query_values(filters),
            "saved_filters": saved.list(user.actor),
            # Cases whose workflow was stopped in Temporal: marked in the list, and counted
            # for supervisors, who restart them.
            "stopped": stops.stopped_among([case.case_id for case in page.items]),
            "stopped_total": stops.count()
            if allows(user.actor.role, Permission.RESTART_WORKFLOWS)
            else 0,
        },
    )


@router.post("/cases/filters")
def save_filter(form: PostedForm, saved: SavedFiltersDep, user: CaseReaderPage) -> RedirectResponse:
    """Save the search shown under a name, then show it again."""
    values: dict[str, Any] = {}
    for key in set(form.keys()) - _NOT_FILTERS:
        found = [str(v) for v in form.getlist(key) if str(v)]
        if found:
            values[key] = found if key == "status" else found[-1]
    try:
        body = SavedFilterIn(name=str(form.get("name") or ""), filters=CaseFilters(**values))
    except ValidationError as exc:
        return redirect_with_flash("/cases", f"Filter not saved: {located_errors(exc.errors())}")
    try:
        kept = saved.save(body, user.actor)
    except Invalid as exc:
        return redirect_with_flash("/cases", f"Filter not saved: {exc.message}")
    return redirect_with_flash(f"/cases?{kept.query}", "Filter saved: it is under Saved filters")


@router.post("/cases/filters/{filter_id}/delete")
def delete_filter(
    filter_id: int, form: PostedForm, saved: SavedFiltersDep, user: CaseReaderPage
) -> RedirectResponse:
    saved.delete(filter_id, user.actor)
    return redirect_with_flash("/cases", "Saved filter deleted")
