"""What an error page says and where it leads: a heading in words, the message with internal
ids named as claims, the signed-in navigation, and links back (the claim the request was
about, the user's start page). Browser requests get these pages; the API keeps its JSON."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.deps import SESSION_COOKIE
from db.case_names import claim_numbers
from domain.case import Role
from domain.permissions import Permission, allows
from services.auth import AuthService, SessionKind, SignedIn
from web.session import form_page
from web.wording import name_ids

HEADINGS = {
    400: "Request not understood",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not a page to open",
    409: "Not changed",
    413: "Too large",
    422: "Not accepted",
    429: "Too many attempts",
    502: "Not sent",
    503: "Unavailable right now",
}
MESSAGES = {
    404: "There is no page at this address. It may have been mistyped, or the link is old.",
    405: "This address takes a form when it is sent: it is not a page to open.",
}
HOMES = {
    Role.BILLER: ("/tasks", "My tasks"),
    Role.SUPERVISOR: ("/supervisor", "Supervisor console"),
    Role.ADMIN: ("/admin", "Admin"),
    Role.PHYSICIAN: ("/attestations", "Attestations"),
}
# Machine-read paths keep their JSON errors; everything else is a page a browser opens.
_MACHINE_PREFIXES = ("/api/", "/static/", "/docs")
_MACHINE_PATHS = frozenset({"/metrics", "/healthz", "/readyz", "/openapi.json", "/redoc"})
_CASE_PATH = re.compile(r"/cases/(case-[0-9a-f]{24})(/.*)?")


def _sentence(message: str) -> str:
    """The message as a sentence, unless it opens with a name (a file, a claim number, a
    code) that must read exactly as it is: 'scan.835: larger than ...'."""
    first = message.split(" ", 1)[0].rstrip(":,")
    if not first.isalpha():
        return message
    return message[:1].upper() + message[1:]


def wants_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(_MACHINE_PREFIXES) and path not in _MACHINE_PATHS


def visitor(request: Request, session: Session) -> SignedIn | None:
    """Who is signed in, for the navigation: known if a page resolved it, else from the
    session cookie (an unknown address resolves nobody on its way)."""
    user: SignedIn | None = getattr(request.state, "user", None)
    token = request.cookies.get(SESSION_COOKIE)
    if user is not None or not token:
        return user
    settings = request.app.state.settings
    auth = AuthService(
        session,
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )
    return auth.resolve(token, SessionKind.COOKIE)


def _links(request: Request, user: SignedIn | None, session: Session) -> list[tuple[str, str]]:
    path = request.url.path
    links: list[tuple[str, str]] = []
    if user is None:
        return [("/login", "Sign in")]
    case = _CASE_PATH.fullmatch(path)
    readable = allows(user.actor.role, Permission.VIEW_CASES)
    if case and readable and (case.group(2) or request.method != "GET"):
        case_id = case.group(1)
        claim = claim_numbers(session, [case_id]).get(case_id)
        if claim is not None:
            links.append((f"/cases/{case_id}", f"Back to claim {claim}"))
    elif form_page(path) != path:
        links.append((form_page(path), "Go to the page the form is on"))
    home = HOMES.get(user.actor.role)
    if home:
        links.append((home[0], f"Your start page: {home[1]}"))
    if readable:
        links.append(("/cases?open_only=true", "Open cases"))
    return links


def error_context(
    request: Request, status_code: int, message: str, *, lookups: bool = True
) -> dict[str, Any]:
    """The error page's context. `lookups`: the database may be read (not while it is
    down), to name ids as claims and show the signed-in navigation."""
    user: SignedIn | None = getattr(request.state, "user", None)
    links: list[tuple[str, str]] = [("/", "Start page")]
    if lookups:
        # A page about a failure must not fail itself: without the database it says less.
        with (
            contextlib.suppress(SQLAlchemyError),
            Session(request.app.state.engine, expire_on_commit=False) as session,
        ):
            user = visitor(request, session)
            message = name_ids(message, session)
            links = _links(request, user, session)
    return {
        "user": user,
        "status_code": status_code,
        "heading": HEADINGS.get(status_code, "Something went wrong"),
        "message": _sentence(message),
        "links": links,
    }


def with_claims(request: Request, text: str) -> str:
    """`text` with internal ids named as claims (a flash naming tasks it could not move)."""
    if "case-" not in text:
        return text
    with contextlib.suppress(SQLAlchemyError), Session(request.app.state.engine) as session:
        return name_ids(text, session)
    return text


def claim_number(request: Request, case_id: str) -> str:
    """The claim number a page names a case by (its id if the case is unknown)."""
    with Session(request.app.state.engine) as session:
        return claim_numbers(session, [case_id]).get(case_id, case_id)
