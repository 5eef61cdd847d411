"""Web sign-in: the session cookie, and sending anonymous visitors to the login page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.deps import SESSION_COOKIE, AuditDep, AuthDep, SettingsDep, record_refusal
from domain.permissions import Permission, allows
from services.auth import SessionKind, SignedIn, csrf_matches
from services.errors import Forbidden


class LoginRequired(Exception):
    """Raised by pages for anonymous visitors; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page_user(request: Request, auth: AuthDep) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    user = auth.resolve(token, SessionKind.COOKIE) if token else None
    if user is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise LoginRequired(request.url.path + query)
    return user


PageUser = Annotated[SignedIn, Depends(page_user)]


def page_permission(permission: Permission, *alternatives: Permission) -> Callable[..., SignedIn]:
    """Pages obey the API's role matrix: 403 (audited) without the permission (or one of
    the alternatives)."""

    def dependency(request: Request, user: PageUser, audit: AuditDep) -> SignedIn:
        if not any(allows(user.actor.role, p) for p in (permission, *alternatives)):
            record_refusal(audit, user.actor, request, permission)
            raise Forbidden(f"your role ({user.actor.role.value}) cannot open this page")
        return user

    return dependency


CaseReaderPage = Annotated[SignedIn, Depends(page_permission(Permission.VIEW_CASES))]
TaskWorkerPage = Annotated[SignedIn, Depends(page_permission(Permission.WORK_TASKS))]
SupervisorPage = Annotated[SignedIn, Depends(page_permission(Permission.SUPERVISE))]
IngestPage = Annotated[SignedIn, Depends(page_permission(Permission.INGEST_FILES))]
LetterPage = Annotated[SignedIn, Depends(page_permission(Permission.VIEW_CASES, Permission.ATTEST))]


async def posted_form(request: Request, user: PageUser) -> FormData:
    """The posted form, once its CSRF token matched the session's."""
    form = await request.form()
    if not csrf_matches(user.csrf_token, str(form.get("csrf_token", "")) or None):
        raise Forbidden("the form is out of date (missing or wrong CSRF token): reload the page")
    return form


PostedForm = Annotated[FormData, Depends(posted_form)]


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def login_redirect_target(exc: LoginRequired) -> str:
    return f"/login?next={quote(exc.next_url, safe='')}"


def set_session_cookie(
    response: Response, request: Request, settings: SettingsDep, token: str
) -> None:
    secure = (
        settings.secure_cookies
        if settings.secure_cookies is not None
        else request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
