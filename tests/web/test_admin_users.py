"""The admin's user pages in-process (no Temporal: the users changed hold no open work): adding
a user with every problem shown at once, changing role and e-mail, a new password that ends
the user's sessions, deactivating after a confirmation (never oneself) and reactivating; each
change audited like the API's. Only admins open these pages."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuditEventRow, SessionRow, UserRow
from domain.rulebook import Rulebook
from tests.api.test_auth_sessions import Site, csrf_of, serve, web_login

STRONG = "correct horse battery staple 42"


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        assert (await web_login(running, "ada")).status_code == 303
        yield running


async def post(site: Site, page: str, data: dict[str, str], action: str = "") -> httpx.Response:
    """The form on `page`, sent with the page's token (to `action`, else to the page)."""
    token = csrf_of((await site.http.get(page)).text)
    return await site.http.post(action or page, data={**data, "csrf_token": token})


def audited(site: Site, action: str) -> list[tuple[str, dict[str, object]]]:
    with Session(site.engine) as session:
        rows = session.exec(
            select(AuditEventRow)
            .where(col(AuditEventRow.action) == action)
            .order_by(col(AuditEventRow.id))
        )
        return [(row.user_id, row.detail) for row in rows]


def user_row(site: Site, user_id: str) -> UserRow | None:
    with Session(site.engine) as session:
        return session.get(UserRow, user_id)


def sessions_of(site: Site, user_id: str) -> int:
    with Session(site.engine) as session:
        return len(session.exec(select(SessionRow).where(col(SessionRow.user_id) == user_id)).all())


def field_errors(page: str) -> dict[str, str]:
    found = re.findall(r'<small class="field-error" id="a-([a-z_0-9]+)-error">([^<]+)', page)
    return {name: html.unescape(text) for name, text in found}


async def test_list_shows_role_status_and_email(site: Site) -> None:
    page = await site.http.get("/admin")
    assert page.status_code == 200, page.text
    text = page.text
    for user_id in ("alice", "bob", "sam", "ada", "drew"):
        assert f'href="/admin/users/{user_id}"' in text
    assert "alice@example.org" in text
    assert re.search(r"<td>alice</td><td>Alice Moreno</td><td>biller</td>\s*<td>active</td>", text)


async def test_every_problem_of_a_new_user_shows_at_once(site: Site) -> None:
    """A bad id, an empty name, a bad e-mail and a weak password: each beside its field and
    listed on top, in one answer; what was typed stays (never the password); nothing saved."""
    data = {
        "user_id": "Bad Id",
        "display_name": "",
        "role": "biller",
        "email": "not-an-address",
        "password": "password",
    }
    response = await post(site, "/admin/users/new", data)
    assert response.status_code == 422, response.text
    errors = field_errors(response.text)
    assert set(errors) == {"user_id", "display_name", "email", "password"}, errors
    assert "lower-case letters" in errors["user_id"]
    assert errors["display_name"] == "cannot be empty"
    assert "e-mail address" in errors["email"]
    password_input = response.text.split('id="a-password"')[1].split(">")[0]
    assert "value=" not in password_input
    assert "4 things to fix" in response.text
    assert 'value="Bad Id"' in response.text
    assert user_row(site, "bad id") is None
    assert audited(site, "user.create") == []


async def test_taken_id_and_the_users_own_name_as_password_are_refused(site: Site) -> None:
    taken = await post(
        site,
        "/admin/users/new",
        {"user_id": "alice", "display_name": "A", "role": "biller", "password": STRONG},
    )
    assert field_errors(taken.text) == {"user_id": "'alice' is taken: choose another user id"}
    named = await post(
        site,
        "/admin/users/new",
        {
            "user_id": "jdoe",
            "display_name": "Jonathan Doe-Smithers",
            "role": "biller",
            "password": "Jonathan Doe-Smithers",
        },
    )
    assert set(field_errors(named.text)) == {"password"}
    assert user_row(site, "jdoe") is None


async def test_admin_adds_a_user_who_can_sign_in(site: Site) -> None:
    response = await post(
        site,
        "/admin/users/new",
        {
            "user_id": "jdoe",
            "display_name": "J Doe",
            "role": "supervisor",
            "email": "jdoe@example.org",
            "password": STRONG,
        },
    )
    assert (response.status_code, response.headers["location"]) == (303, "/admin/users/jdoe")
    row = user_row(site, "jdoe")
    assert row is not None
    assert (row.role, row.email, row.active) == ("supervisor", "jdoe@example.org", True)
    assert audited(site, "user.create") == [("ada", {"target": "jdoe", "role": "supervisor"})]
    signed_in = await web_login(site, "jdoe", password=STRONG)  # last: ada's cookie is replaced
    assert signed_in.status_code == 303


async def test_role_and_email_change_and_the_self_demotion_refused(site: Site) -> None:
    changed = await post(
        site,
        "/admin/users/bob",
        {"action": "details", "display_name": "Bob O.", "email": "", "role": "supervisor"},
    )
    assert changed.status_code == 303, changed.text
    row = user_row(site, "bob")
    assert row is not None
    assert (row.display_name, row.role, row.email) == ("Bob O.", "supervisor", None)
    assert audited(site, "user.change") == [
        ("ada", {"target": "bob", "fields": "display_name,email,role"})
    ]
    refused = await post(
        site,
        "/admin/users/ada",
        {"action": "details", "display_name": "Ada", "email": "", "role": "biller"},
    )
    assert refused.status_code == 422
    assert "an admin cannot deactivate or demote themselves" in refused.text
    ada = user_row(site, "ada")
    assert ada is not None and ada.role == "admin"


async def test_new_password_ends_the_users_sessions(site: Site) -> None:
    site.bearer("alice")
    assert sessions_of(site, "alice") == 1
    weak = await post(site, "/admin/users/alice", {"action": "password", "password": "short"})
    assert weak.status_code == 422
    assert set(field_errors(weak.text)) == {"password"}
    # The details form beside it still shows what is saved, not the password form's blanks.
    assert 'name="display_name" type="text" value="Alice Moreno"' in weak.text
    assert '<option value="biller" selected>' in weak.text
    assert sessions_of(site, "alice") == 1
    own_name = await post(
        site, "/admin/users/alice", {"action": "password", "password": "Alice Moreno"}
    )
    assert set(field_errors(own_name.text)) == {"password"}
    done = await post(site, "/admin/users/alice", {"action": "password", "password": STRONG})
    assert done.status_code == 303, done.text
    assert sessions_of(site, "alice") == 0
    assert audited(site, "user.change") == [("ada", {"target": "alice", "fields": "password"})]


async def test_deactivation_is_confirmed_then_reactivated(site: Site) -> None:
    """Drew (no open work) is deactivated only from the confirmation page, signed out, then
    reactivated; the admin's own confirmation page refuses, and so would the post."""
    site.bearer("drew")
    confirm = await site.http.get("/admin/users/drew/deactivate")
    assert "Yes, deactivate drew" in confirm.text and "They hold no open work" in confirm.text
    assert user_row(site, "drew").active  # type: ignore[union-attr]
    done = await post(site, "/admin/users/drew/deactivate", {})
    assert done.status_code == 303, done.text
    assert not user_row(site, "drew").active  # type: ignore[union-attr]
    assert sessions_of(site, "drew") == 0
    page = await site.http.get("/admin/users/drew")
    assert "deactivated" in page.text and "Reactivate" in page.text
    back = await post(site, "/admin/users/drew", {"action": "reactivate"})
    assert back.status_code == 303
    assert user_row(site, "drew").active  # type: ignore[union-attr]
    assert [d["fields"] for _, d in audited(site, "user.change")] == ["active", "active"]

    own = await site.http.get("/admin/users/ada/deactivate")
    assert "You cannot deactivate yourself" in own.text
    assert "Yes, deactivate" not in own.text
    forced = await post(site, "/admin/users/ada/deactivate", {}, "/admin/users/ada/deactivate")
    assert forced.status_code == 303
    assert user_row(site, "ada").active  # type: ignore[union-attr]
    assert "Not deactivated" in (await site.http.get("/admin/users/ada")).text


@pytest.mark.parametrize("who", ["alice", "sam"])
async def test_only_admins_open_the_user_pages(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook, who: str
) -> None:
    async with serve(sqlite_engine, tmp_path, rulebook) as other:
        assert (await web_login(other, who)).status_code == 303
        for path in ("/admin", "/admin/users/new", "/admin/users/bob"):
            assert (await other.http.get(path)).status_code == 403
