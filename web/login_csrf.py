"""CSRF protection for the sign-in form, before any session exists (login CSRF).

A page signed in as the attacker's account would let the victim's work land in it. The sign-in
form is therefore a double-submit: showing it sets a random token in a cookie and the same
token in a hidden field; the POST must carry both, equal. Another site can neither read the
cookie nor make the browser send it (SameSite=Strict), so it cannot post a matching pair.
Over HTTPS the cookie is `__Host-` prefixed, so a sibling subdomain cannot plant one.

The token is not signed: before signing in there is no session to bind a signature to, and a
pair signed with a server key is as easy for an attacker to fetch from the login page as an
unsigned one. Fetch metadata refuses a cross-site post even before the token is compared.
"""

from __future__ import annotations

import hmac
import re
import secrets

from fastapi import Request
from fastapi.responses import Response

from app.settings import Settings

COOKIE = "denials_login_csrf"
SECURE_COOKIE = f"__Host-{COOKIE}"
# token_urlsafe(32): 43 characters of the URL-safe alphabet; anything else is not ours.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
REFUSED = (
    "This sign-in form is out of date or was not sent from this site (missing or wrong "
    "CSRF token). Sign in again with the form below."
)


def _secure(request: Request, settings: Settings) -> bool:
    # The same rule as the session cookie (web.session.set_session_cookie).
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return request.url.scheme == "https"


def _cookie_name(request: Request, settings: Settings) -> str:
    return SECURE_COOKIE if _secure(request, settings) else COOKIE


def current_token(request: Request, settings: Settings) -> str:
    """The token the browser already holds, else a new one: two open sign-in tabs share it,
    so signing in from the older tab still works."""
    held = request.cookies.get(_cookie_name(request, settings), "")
    return held if _TOKEN_SHAPE.fullmatch(held) else secrets.token_urlsafe(32)


def set_token_cookie(response: Response, request: Request, settings: Settings, token: str) -> None:
    """The cookie half of the pair, set with the form that carries the field half."""
    response.set_cookie(
        _cookie_name(request, settings),
        token,
        httponly=True,  # the form carries the token: no script needs to read it
        samesite="strict",
        secure=_secure(request, settings),
        path="/",  # __Host- cookies must be path=/ and name no domain
    )


def clear_token_cookie(response: Response, request: Request, settings: Settings) -> None:
    """Signed in: the pre-session token has done its work."""
    secure = _secure(request, settings)
    response.delete_cookie(
        _cookie_name(request, settings), path="/", secure=secure, httponly=True, samesite="strict"
    )


def refusal(request: Request, settings: Settings, given: str | None) -> str | None:
    """Why a sign-in post is refused ("cross-site", "missing" or "wrong"), None if it may go on."""
    # Browsers say where a request came from; a form posted from another site is refused
    # whatever it carries. Clients that send no fetch metadata are judged by the token.
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return "cross-site"
    held = request.cookies.get(_cookie_name(request, settings))
    if not held or not given:
        return "missing"
    if not hmac.compare_digest(held.encode(), given.encode()):
        return "wrong"
    return None
