"""Signing in and out of the web UI (session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.deps import SESSION_COOKIE, AuditDep, AuthDep, ClientAddress, SettingsDep, ThrottleDep
from domain.case import Actor, Role
from services.audit import Outcome
from services.auth import SessionKind, TooManyAttempts, sign_in
from web import login_csrf
from web.session import PageUser, PostedForm, safe_next, set_session_cookie
from web.templating import render

router = APIRouter(include_in_schema=False)


def login_page(
    request: Request,
    settings: SettingsDep,
    context: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    """The sign-in form, with its CSRF token in a hidden field and in a cookie."""
    token = login_csrf.current_token(request, settings)
    page = render(request, "login.html", {**context, "csrf_token": token}, status_code)
    login_csrf.set_token_cookie(page, request, settings, token)
    return page


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/") -> HTMLResponse:
    return login_page(request, settings, {"next": safe_next(next)})


@router.post("/login", response_model=None)
def login(
    request: Request,
    auth: AuthDep,
    throttle: ThrottleDep,
    audit: AuditDep,
    settings: SettingsDep,
    address: ClientAddress,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    refused = login_csrf.refusal(request, settings, csrf_token)
    if refused is not None:
        # A forged sign-in (or a stale form): the password is not even checked, and nothing
        # counts against the account. The page comes back with a fresh pair to sign in with.
        audit.record(
            Actor(user_id=username[:80] or "?", role=Role.SYSTEM),
            "auth.login",
            Outcome.REFUSED,
            kind=SessionKind.COOKIE.value,
            csrf=refused,
        )
        return login_page(
            request,
            settings,
            {"next": safe_next(next), "username": username, "error": login_csrf.REFUSED},
            status_code=403,
        )
    try:
        user = sign_in(
            auth,
            throttle,
            audit,
            user_id=username,
            password=password,
            address=address,
            kind=SessionKind.COOKIE,
        )
    except TooManyAttempts as exc:
        page = login_page(
            request,
            settings,
            {
                "next": safe_next(next),
                "username": username,
                "error": f"{exc.message[0].upper()}{exc.message[1:]}.",
            },
            status_code=exc.status_code,
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if user is None:
        return login_page(
            request,
            settings,
            {"next": safe_next(next), "username": username, "error": "Wrong user id or password."},
            status_code=401,
        )
    token, _ = auth.open_session(user, SessionKind.COOKIE)
    audit.record(Actor(user_id=user.user_id, role=Role(user.role)), "auth.login", kind="cookie")
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, settings, token)
    login_csrf.clear_token_cookie(response, request, settings)
    return response


@router.post("/logout")
def logout(
    request: Request, user: PageUser, form: PostedForm, auth: AuthDep, audit: AuditDep
) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.close(token)
    audit.record(user.actor, "auth.logout", kind="cookie")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
