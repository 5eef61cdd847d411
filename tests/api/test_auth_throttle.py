"""Sign-in throttling over HTTP (issue 14, item 5): the token endpoint and the web sign-in
form answer 429 with Retry-After once an account or an address has failed too often, even for
the right password; and user administration refuses weak passwords saying why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from domain.rulebook import Rulebook
from tests.api.test_auth_sessions import TOKEN, Site, serve, sign_in
from tests.login_form import post_login

LOCKED = {"detail": "too many failed sign-ins: try again in 15 minutes"}


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(
        sqlite_engine, tmp_path, rulebook, sign_in_account_limit=5, sign_in_address_limit=8
    ) as running:
        yield running


async def test_wrong_passwords_lock_the_account_even_for_the_right_one(site: Site) -> None:
    for _ in range(5):
        assert (await sign_in(site, "alice", "wrong password")).status_code == 401
    locked = await sign_in(site, "alice")
    assert (locked.status_code, locked.json()) == (429, LOCKED)
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert (await sign_in(site, "bob")).status_code == 200  # other accounts sign in
    refusals = [row for row in site.audit("auth.login") if row[2] == "refused"]
    assert len(refusals) == 6 and refusals[-1][3]["throttled"] == "account"
    assert [(user, detail["scope"]) for user, _, _, detail in site.audit("auth.lockout")] == [
        ("alice", "account")
    ]


async def test_the_web_form_shows_the_lockout_without_telling_if_the_account_exists(
    site: Site,
) -> None:
    for user_id in ("alice", "nobody-here"):
        for _ in range(4):
            form = {"username": user_id, "password": "wrong password", "next": "/"}
            assert (await post_login(site.http, form)).status_code == 401
    for user_id, password in (("alice", "demo"), ("nobody-here", "demo")):
        page = await post_login(site.http, {"username": user_id, "password": password, "next": "/"})
        assert page.status_code == 429
        assert "Too many failed sign-ins: try again in 15 minutes." in page.text
        assert int(page.headers["Retry-After"]) > 0
        assert "denials_session" not in page.cookies


async def test_one_address_guessing_across_accounts_is_locked_out(site: Site) -> None:
    """Eight failures from one address, spread so that no account reaches its own five:
    every account is refused from that address, a correct password included."""
    for user_id in ("alice", "sam", "ada", "drew") * 2:
        assert (await sign_in(site, user_id, "wrong password")).status_code == 401
    locked = await site.http.post(TOKEN, data={"username": "bob", "password": "demo"})
    assert (locked.status_code, locked.json()) == (429, LOCKED)
    assert "Retry-After" in locked.headers
    assert site.audit("auth.lockout")[-1][3]["scope"] == "address"


async def test_a_success_resets_the_accounts_count(site: Site) -> None:
    for _ in range(2):
        for _ in range(4):
            assert (await sign_in(site, "alice", "wrong password")).status_code == 401
        assert (await sign_in(site, "alice")).status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "use at least 12 characters"),
        (
            "password1234",
            "this is a common password from breach lists, or built from one: "
            "choose a longer passphrase of uncommon words",
        ),
    ],
)
async def test_weak_passwords_are_refused_at_creation_and_reset(
    site: Site, password: str, message: str
) -> None:
    ada = site.bearer("ada")
    new = {"user_id": "carol", "display_name": "Carol", "role": "biller", "password": password}
    for answer in (
        await site.http.post("/api/v1/users", json=new, headers=ada),
        await site.http.patch("/api/v1/users/bob", json={"password": password}, headers=ada),
    ):
        assert answer.status_code == 422
        [problem] = answer.json()["detail"]
        assert (problem["loc"], problem["msg"]) == (["body", "password"], message)


async def test_a_reset_password_built_from_the_users_own_name_is_refused(site: Site) -> None:
    """The reset request carries only the password: the user's id and name still count."""
    ada = site.bearer("ada")
    answer = await site.http.patch(
        "/api/v1/users/bob", json={"password": "bob okafor 1987"}, headers=ada
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "password"]
    assert "built from the user id or name" in problem["msg"]
