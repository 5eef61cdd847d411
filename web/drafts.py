"""Work typed into a form is not lost when the form cannot be taken: its session ended (sign in,
then back at the form), or the tab was opened before the user signed in again (stale CSRF
token: back at the form with a fresh token).

What was typed never reaches the server's storage, a URL or a log: /static/drafts.js keeps the
fields in the tab's sessionStorage as the form is sent, and puts them back when the page the
form is on comes back with `data-draft="restore"`. The server only remembers, in a cookie with
no PHI (`denials_resume`: why, and the page's path), that the form was not taken, so the login
page and the form's page can say so; the script adds that what was typed is kept only when it
really has it (no JavaScript: the page says the change was not saved).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from web.session import LoginRequired, StaleForm, login_redirect_target, safe_next

RESUME_COOKIE = "denials_resume"
# As long as a session may last: a sign-in the next morning still finds the draft's page.
RESUME_SECONDS = 12 * 3600
ENDED, STALE = "ended", "stale"
MESSAGES = {
    ENDED: "Your session ended before your change was saved, so nothing was changed.",
    STALE: "This page was opened before you last signed in, so your change was not saved "
    "and nothing was changed.",
}
LOGIN_MESSAGE = (
    "Your session ended, so your last change was not saved. Sign in again to go back to it."
)


@dataclass(frozen=True)
class Resume:
    why: str  # ENDED | STALE
    page: str  # path (and query) of the page the form is on

    @property
    def message(self) -> str:
        return MESSAGES[self.why]


def _same_origin(request: Request) -> bool:
    """Only a form sent from this site leaves a note to resume (another site's post is not
    the user's work). Browsers say so in Sec-Fetch-Site; clients that do not are trusted."""
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def _remember(response: Response, why: str, page: str) -> None:
    response.set_cookie(
        RESUME_COOKIE,
        quote(f"{why} {page}", safe=""),
        max_age=RESUME_SECONDS,
        httponly=True,
        samesite="lax",
        path="/",
    )


def after_lost_session(request: Request, exc: LoginRequired) -> RedirectResponse:
    """To the sign-in page; a form posted without a session comes back after it."""
    response = RedirectResponse(login_redirect_target(exc), status_code=303)
    if exc.form_lost and _same_origin(request):
        _remember(response, ENDED, exc.next_url)
    return response


def after_stale_form(request: Request, exc: StaleForm) -> RedirectResponse:
    """Back to the form's page, which now carries the current session's token."""
    page = safe_next(exc.page)
    response = RedirectResponse(page, status_code=303)
    if _same_origin(request):
        _remember(response, STALE, page)
    return response


def pending(request: Request) -> Resume | None:
    """The form that was not taken, if this browser has one to go back to."""
    raw = unquote(request.cookies.get(RESUME_COOKIE, ""))
    why, _, page = raw.partition(" ")
    return Resume(why, page) if why in MESSAGES and page.startswith("/") else None


def resume_here(request: Request) -> Resume | None:
    """The pending resume if this request is for its page (query aside)."""
    resume = pending(request)
    if resume is None or resume.page.partition("?")[0] != request.url.path:
        return None
    return resume


def forget(response: Response) -> None:
    response.delete_cookie(RESUME_COOKIE, path="/")
