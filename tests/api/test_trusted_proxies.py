"""Behind a TLS proxy (issue 16, item 8): X-Forwarded-Proto is believed only from the addresses
in DENIALS_TRUSTED_PROXIES. From one of them the app sees https: Secure cookies, https asset
URLs, HSTS. From anywhere else the header changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import temporalio.client
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.http import create_app
from app.settings import Settings
from domain.rulebook import Rulebook
from services.users import UserService
from tests.login_form import login_token

PROXY = "10.0.0.2"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@asynccontextmanager
async def reached_from(
    address: str, engine: Engine, tmp_path: Path, rulebook: Rulebook, trusted: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The app over plain HTTP as a connection from `address` reaches it."""
    with Session(engine) as session:
        UserService(session).ensure_demo_users()
    settings = Settings(data_dir=tmp_path, trusted_proxies=trusted)
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(settings, engine=engine, client=client, rulebook=rulebook)
    transport = httpx.ASGITransport(app=app, client=(address, 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://cases.example") as http:
        yield http


async def sign_in(http: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
    form = await http.get("/login", headers=FORWARDED)
    assert form.status_code == 200, form.text
    [(name, value)] = form.cookies.items()
    signed_in = await http.post(
        "/login",
        data={"username": "alice", "password": "demo", "csrf_token": login_token(form.text)},
        # A Secure cookie does not come back over plain HTTP by itself: send it.
        headers={**FORWARDED, "Cookie": f"{name}={value}"},
    )
    assert signed_in.status_code == 303, signed_in.text
    return form, signed_in


def session_cookie(response: httpx.Response) -> str:
    [cookie] = [c for c in response.headers.get_list("set-cookie") if "denials_session" in c]
    return cookie


@pytest.mark.parametrize("trusted", [PROXY, "10.0.0.0/24", f"192.0.2.1, {PROXY}"])
async def test_a_trusted_proxy_makes_it_https(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook, trusted: str
) -> None:
    async with reached_from(PROXY, sqlite_engine, tmp_path, rulebook, trusted) as http:
        form, signed_in = await sign_in(http)
    assets = re.findall(r'href="([^"]*/static/app\.css)"', form.text)
    assert assets == ["https://cases.example/static/app.css"]
    assert "Strict-Transport-Security" in form.headers
    assert form.cookies.keys() == {"__Host-denials_login_csrf"}
    assert "; secure" in form.headers["set-cookie"].lower()
    assert "; secure" in session_cookie(signed_in).lower()


@pytest.mark.parametrize("address", ["10.0.0.9", "127.0.0.1"])
async def test_the_header_from_anyone_else_changes_nothing(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook, address: str
) -> None:
    async with reached_from(address, sqlite_engine, tmp_path, rulebook, PROXY) as http:
        form, signed_in = await sign_in(http)
    assert re.findall(r'href="([^"]*/static/app\.css)"', form.text) == [
        "http://cases.example/static/app.css"
    ]
    assert "Strict-Transport-Security" not in form.headers
    assert form.cookies.keys() == {"denials_login_csrf"}
    assert "secure" not in form.headers["set-cookie"].lower()
    assert "secure" not in session_cookie(signed_in).lower()
