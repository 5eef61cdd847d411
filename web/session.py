"""Web sign-in: the session cookie, and sending anonymous visitors to the login page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.deps import (
    SESSION_COOKIE,
    UNSAFE_METHODS,
    AuditDep,
    AuthDep,
    SettingsDep,
    record_refusal,
)
from domain.permissions import Permission, allows
from services.auth import SessionKind, SignedIn, csrf_matches
from services.errors import Forbidden


class LoginRequired(Exception):
    """Raised by pages for anonymous visitors; answered with a redirect to /login. `form_lost`:
    a form was posted without a session (it ended): nothing was done, and sign-in leads back
    to the page the form is on (web.drafts)."""

    def __init__(self, next_url: str, *, form_lost: bool = False) -> None:
        self.next_url = next_url
        self.form_lost = form_lost


class StaleForm(Exception):
    """A form posted with a live session but another session's CSRF token: the tab was
    opened before the user signed in again. Nothing was done; answered by going back to the
    form's page (web.drafts)."""

    def __init__(self, page: str) -> None:
        self.page = page


# Where each form posts -> the page it is on (a POST-only path visited after sign-in would
# answer 405). Checked in order; any other form is on the page of its own path (/ingest).
_FORM_PAGES = (
    (re.compile(r"/cases/([^/]+)/tasks/([^/]+)"), r"/cases/\1?task=\2"),
    (re.compile(r"/cases/([^/]+)/(?:appeal-letter|attestation)"), r"/cases/\1/appeal-letter"),
    (re.compile(r"/cases/([^/]+)/.+"), r"/cases/\1"),
    (re.compile(r"/tasks/[^/]+/claim"), "/queue"),
    (re.compile(r"/supervisor/.+"), "/supervisor"),
    (re.compile(r"/logout"), "/"),
)


def form_page(path: str) -> str:
    """The page whose form posts to `path`: where to go back to after sign-in."""
    quoted = quote(path, safe="/")  # a decoded path may hold anything: keep it one path
    for pattern, page in _FORM_PAGES:
        if pattern.fullmatch(quoted):
            return pattern.sub(page, quoted)
    return quoted


def page_user(request: Request, auth: AuthDep) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    user = auth.resolve(token, SessionKind.COOKIE) if token else None
    if user is None:
        if request.method in UNSAFE_METHODS:
            raise LoginRequired(form_page(request.url.path), form_lost=True)
        query = f"?{request.url.query}" if request.url.query else ""
        raise LoginRequired(request.url.path + query)
    request.state.user = user  # error pages show the signed-in navigation
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
    given = str(form.get("csrf_token", "")) or None
    if given is not None and not csrf_matches(user.csrf_token, given):
        raise StaleForm(form_page(request.url.path))
    if given is None:
        raise Forbidden("the form came without its security token: reload the page")
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
        # The scheme a trusted proxy forwarded (DENIALS_TRUSTED_PROXIES, app.http), never the
        # header of just anyone.
        else request.url.scheme == "https"
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
