"""Login CSRF (issue 14, item 9): the web sign-in form carries a pre-session token, in a
cookie and a hidden field (web.login_csrf). A sign-in posted without the pair, with a wrong
token, with another browser's token, or from another site is refused with a clear message and
a fresh form, and counts against nobody; the real form signs in; the API's token sign-in is no
browser form and needs no token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.models import SessionRow, SignInFailureRow
from domain.rulebook import Rulebook
from tests.api.test_auth_sessions import TOKEN, Site, serve, session_cookies
from tests.login_form import login_token, post_login

ALICE = {"username": "alice", "password": "demo", "next": "/cases"}
REFUSED = "This sign-in form is out of date or was not sent from this site"


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        yield running


def assert_refused(site: Site, response: httpx.Response, why: str) -> None:
    """403 with the message and the form again (a fresh token), no session opened or counted
    as a failed password, and the refusal audited with its reason."""
    assert response.status_code == 403, response.text
    assert REFUSED in response.text
    assert 'name="username"' in response.text and 'value="alice"' in response.text
    login_token(response.text)  # the form comes back ready to sign in with
    assert session_cookies(response) == []
    with Session(site.engine) as session:
        assert session.exec(select(SessionRow)).all() == []
        assert session.exec(select(SignInFailureRow)).all() == []
    assert site.audit("auth.login")[-1] == (
        "alice",
        "system",
        "refused",
        {"kind": "cookie", "csrf": why},
    )


async def test_a_sign_in_without_the_token_is_refused(site: Site) -> None:
    """A post that never saw the form (what a forging site sends) is refused; the page it
    gets back signs in."""
    refused = await site.http.post("/login", data=ALICE)
    assert_refused(site, refused, "missing")
    again = await site.http.post("/login", data={**ALICE, "csrf_token": login_token(refused.text)})
    assert (again.status_code, again.headers["location"]) == (303, "/cases")


async def test_a_wrong_token_is_refused(site: Site) -> None:
    form = await site.http.get("/login")
    token = login_token(form.text)
    wrong = token[:-1] + ("x" if token[-1] != "x" else "y")
    assert_refused(
        site, await site.http.post("/login", data={**ALICE, "csrf_token": wrong}), "wrong"
    )


async def test_another_browsers_token_is_refused(site: Site) -> None:
    """The forger fetches a genuine form for itself, then has the victim's browser post its
    token: the victim's browser holds no matching cookie."""
    forger_form = await site.http.get("/login")
    token = login_token(forger_form.text)
    victim = httpx.AsyncClient(transport=site.http._transport, base_url="http://test")
    async with victim:
        response = await victim.post("/login", data={**ALICE, "csrf_token": token})
    assert_refused(site, response, "missing")


async def test_a_cross_site_post_is_refused_even_with_the_pair(site: Site) -> None:
    form = await site.http.get("/login")
    response = await site.http.post(
        "/login",
        data={**ALICE, "csrf_token": login_token(form.text)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert_refused(site, response, "cross-site")


async def test_the_form_signs_in_and_drops_its_token(site: Site) -> None:
    """GET /login sets the token cookie (HttpOnly, SameSite=Strict) beside the hidden field;
    two tabs share one token; posting the form from this site signs in and clears it."""
    first = await site.http.get("/login")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("denials_login_csrf=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    second = await site.http.get("/login")
    assert login_token(second.text) == login_token(first.text)
    response = await site.http.post(
        "/login",
        data={**ALICE, "csrf_token": login_token(first.text)},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/cases")
    assert "denials_login_csrf" not in site.http.cookies
    assert (await site.http.get("/api/v1/auth/me")).json()["user_id"] == "alice"


async def test_the_api_token_sign_in_needs_no_form_token(site: Site) -> None:
    """POST /api/v1/auth/token answers a token in its body and sets no cookie: no login CSRF
    to guard, so API clients sign in as before."""
    response = await site.http.post(TOKEN, data={"username": "alice", "password": "demo"})
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers
    assert (await post_login(site.http, ALICE)).status_code == 303
