"""Pages: sign in and out, the case worklist, the case detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SESSION_COOKIE, AuditDep, AuthDep, CaseServiceDep, SettingsDep
from domain.case import Actor, Role
from domain.models import Category
from services.audit import Outcome
from services.auth import SessionKind
from services.schemas import CaseFilters
from web.session import CaseReaderPage, PageUser, safe_next, set_session_cookie
from web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(user: PageUser) -> RedirectResponse:
    return RedirectResponse("/cases", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"next": safe_next(next)})


@router.post("/login", response_model=None)
def login(
    request: Request,
    auth: AuthDep,
    audit: AuditDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = auth.authenticate(username, password)
    if user is None:
        audit.record(
            Actor(user_id=username or "?", role=Role.SYSTEM),
            "auth.login",
            Outcome.REFUSED,
            kind="cookie",
        )
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": safe_next(next), "username": username, "error": "Wrong user id or password."},
            status_code=401,
        )
    token, _ = auth.open_session(user, SessionKind.COOKIE)
    audit.record(Actor(user_id=user.user_id, role=Role(user.role)), "auth.login", kind="cookie")
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, settings, token)
    return response


@router.post("/logout")
def logout(request: Request, user: PageUser, auth: AuthDep, audit: AuditDep) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.close(token)
    audit.record(user.actor, "auth.logout", kind="cookie")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/cases", response_class=HTMLResponse)
def case_list(
    request: Request,
    filters: Annotated[CaseFilters, Query()],
    cases: CaseServiceDep,
    user: CaseReaderPage,
) -> HTMLResponse:
    page = cases.list_cases(filters, user.actor)
    return templates.TemplateResponse(
        request,
        "cases.html",
        {
            "page": page,
            "filters": filters,
            "categories": [c.value for c in Category],
            "user": user,
        },
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_detail(
    request: Request,
    case_id: str,
    cases: CaseServiceDep,
    settings: SettingsDep,
    user: CaseReaderPage,
) -> HTMLResponse:
    detail = cases.get_case(case_id, user.actor)
    temporal_link = (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{settings.temporal_namespace}"
        f"/workflows/{case_id}"
    )
    return templates.TemplateResponse(
        request,
        "case_detail.html",
        {"case": detail, "temporal_link": temporal_link, "user": user},
    )
