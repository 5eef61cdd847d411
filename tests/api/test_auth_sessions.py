"""Signing in and staying signed in: bearer tokens, the web session cookie and its CSRF token,
idle and hard expiry, safe redirects after login, and user administration that signs people
out. These paths never reach Temporal, so the app runs on SQLite with a client that points
nowhere (fast: no worker, no test server)."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import temporalio.client
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.http import create_app
from app.settings import Settings
from db.models import AuditEventRow, SessionRow, UserRow
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind
from services.users import UserService
from tests.api.conftest import problem
from tests.ingest_helpers import GARBAGE
from tests.login_form import login_token, post_login

ME = "/api/v1/auth/me"
TOKEN = "/api/v1/auth/token"
EXPIRED = {"detail": "the bearer token is invalid or has expired: sign in again"}
CSRF_REFUSED = {"detail": "missing or wrong CSRF token: reload the page and try again"}
NEW_PASSWORD = "correct horse battery"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()  # sessions are stored by this only


@dataclass
class Site:
    http: httpx.AsyncClient
    engine: Engine
    settings: Settings

    def bearer(self, user_id: str) -> dict[str, str]:
        """A fresh bearer session for a demo user, opened without the (slow) password check."""
        with Session(self.engine, expire_on_commit=False) as session:
            user = UserService(session).get(user_id)
            token, _ = self._auth(session).open_session(user, SessionKind.BEARER)
        return {"Authorization": f"Bearer {token}"}

    def _auth(self, session: Session) -> AuthService:
        return AuthService(
            session,
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            lifetime=timedelta(hours=self.settings.session_max_hours),
        )

    def session_row(self, token: str) -> SessionRow | None:
        with Session(self.engine) as session:
            return session.get(SessionRow, _token_hash(token))

    def shift_session(self, token: str, **moves: timedelta) -> None:
        """Move a session's timestamps (e.g. last_seen_at=-2 minutes) as if time had passed."""
        with Session(self.engine) as session:
            row = session.get(SessionRow, _token_hash(token))
            assert row is not None
            for name, delta in moves.items():
                setattr(row, name, getattr(row, name) + delta)
            session.add(row)
            session.commit()

    def audit(self, action: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(AuditEventRow)
                .where(AuditEventRow.action == action)
                .order_by(col(AuditEventRow.id))
            )
            return [(r.user_id, r.role, r.outcome, r.detail) for r in rows]


@contextlib.asynccontextmanager
async def serve(
    engine: Engine, tmp_path: Path, rulebook: Rulebook, **overrides: Any
) -> AsyncIterator[Site]:
    settings = Settings(data_dir=tmp_path, **overrides)
    with Session(engine) as session:
        UserService(session).ensure_demo_users()
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(settings, engine=engine, client=client, rulebook=rulebook)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Site(http, engine, settings)


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(site: Site, user: str, password: str = "demo") -> httpx.Response:
    return await site.http.post(TOKEN, data={"username": user, "password": password})


async def web_login(site: Site, user: str = "alice", **extra: str) -> httpx.Response:
    return await post_login(site.http, {"username": user, "password": "demo", **extra})


def session_cookies(response: httpx.Response) -> list[str]:
    """The Set-Cookie headers of the session cookie (the sign-in form's token is another)."""
    return [c for c in response.headers.get_list("set-cookie") if c.startswith("denials_session=")]


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no csrf_token field on the page"
    return match.group(1)


# --- Bearer tokens --------------------------------------------------------------------------


async def test_token_signs_in_for_the_api(site: Site) -> None:
    """The right password returns a bearer token (expiring after the idle period) that
    /auth/me answers for; the sign-in is audited."""
    response = await sign_in(site, "alice")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["token_type"], body["user_id"], body["role"]) == ("bearer", "alice", "biller")
    assert body["expires_in"] == 30 * 60
    me = await site.http.get(ME, headers=bearer(body["access_token"]))
    assert (me.status_code, me.json()) == (
        200,
        {"user_id": "alice", "display_name": "Alice Moreno", "role": "biller"},
    )
    assert site.audit("auth.login") == [("alice", "biller", "ok", {"kind": "bearer"})]
    row = site.session_row(body["access_token"])
    assert row is not None and (row.user_id, row.kind) == ("alice", "bearer")


async def test_wrong_password_is_401_and_audited(site: Site) -> None:
    """A wrong password answers 401 "wrong user id or password" (asking for a bearer token),
    opens no session, and leaves an auth.login refused row."""
    response = await sign_in(site, "alice", "not-demo")
    assert (response.status_code, response.json()) == (401, {"detail": "wrong user id or password"})
    assert response.headers["www-authenticate"] == "Bearer"
    assert site.audit("auth.login") == [("alice", "system", "refused", {"kind": "bearer"})]
    with Session(site.engine) as session:
        assert session.exec(select(SessionRow)).all() == []


async def test_inactive_and_unknown_users_cannot_sign_in(site: Site) -> None:
    """An inactive user with the right password, and a user id nobody has, both get the same
    401 as a wrong password (which of the two is not told)."""
    with Session(site.engine) as session:
        bob = session.get(UserRow, "bob")
        assert bob is not None
        bob.active = False
        session.add(bob)
        session.commit()
    for user in ("bob", "mallory"):
        response = await sign_in(site, user)
        assert (response.status_code, response.json()) == (
            401,
            {"detail": "wrong user id or password"},
        ), user
    assert [(u, outcome) for u, _, outcome, _ in site.audit("auth.login")] == [
        ("bob", "refused"),
        ("mallory", "refused"),
    ]


async def test_logout_ends_the_token(site: Site) -> None:
    """POST /auth/logout ends that bearer token's session (401 after, row gone); another
    token of the same user still works."""
    token = (await sign_in(site, "alice")).json()["access_token"]
    other = site.bearer("alice")
    out = await site.http.post("/api/v1/auth/logout", headers=bearer(token))
    assert out.status_code == 204
    after = await site.http.get(ME, headers=bearer(token))
    assert (after.status_code, after.json()) == (401, EXPIRED)
    assert site.session_row(token) is None
    assert (await site.http.get(ME, headers=other)).status_code == 200
    assert site.audit("auth.logout") == [("alice", "biller", "ok", {"kind": "bearer"})]


# --- Expiry ---------------------------------------------------------------------------------


async def test_idle_session_expires(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook
) -> None:
    """With a one-minute idle limit, a token unused for two minutes answers 401 and its
    session row is deleted; the token says it expires in 60 s."""
    async with serve(sqlite_engine, tmp_path, rulebook, session_idle_minutes=1) as site:
        response = await sign_in(site, "alice")
        assert response.json()["expires_in"] == 60
        token = response.json()["access_token"]
        assert (await site.http.get(ME, headers=bearer(token))).status_code == 200
        site.shift_session(token, last_seen_at=-timedelta(minutes=2))
        expired = await site.http.get(ME, headers=bearer(token))
        assert (expired.status_code, expired.json()) == (401, EXPIRED)
        assert site.session_row(token) is None


async def test_activity_restarts_the_idle_period(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook
) -> None:
    """Idle means without requests: with a one-minute limit, a request 50 s after the last one
    keeps the session alive for another minute, so 20 s later it still works."""
    async with serve(sqlite_engine, tmp_path, rulebook, session_idle_minutes=1) as site:
        headers = site.bearer("alice")
        token = headers["Authorization"].removeprefix("Bearer ")
        site.shift_session(token, last_seen_at=-timedelta(seconds=50))
        assert (await site.http.get(ME, headers=headers)).status_code == 200
        # 20 s pass: the session was last used 20 s ago, well within the minute.
        site.shift_session(token, last_seen_at=-timedelta(seconds=20))
        again = await site.http.get(ME, headers=headers)
        assert again.status_code == 200, again.json()


async def test_hard_expiry(site: Site) -> None:
    """A session past its expires_at answers 401 even if used a moment ago, and is deleted."""
    headers = site.bearer("alice")
    token = headers["Authorization"].removeprefix("Bearer ")
    site.shift_session(token, expires_at=-timedelta(hours=13))
    response = await site.http.get(ME, headers=headers)
    assert (response.status_code, response.json()) == (401, EXPIRED)
    assert site.session_row(token) is None


async def test_cookie_is_not_a_bearer_token(site: Site) -> None:
    """A web session's token sent as a bearer token is refused (and vice versa the cookie
    must come from /login): the two kinds of session do not mix."""
    login = await web_login(site)
    cookie = login.cookies["denials_session"]
    response = await site.http.get(ME, headers=bearer(cookie))
    assert (response.status_code, response.json()) == (401, EXPIRED)
    site.http.cookies.clear()
    token = site.bearer("alice")["Authorization"].removeprefix("Bearer ")
    site.http.cookies.set("denials_session", token)
    as_cookie = await site.http.get(ME)
    assert as_cookie.status_code == 401


# --- The web session cookie -----------------------------------------------------------------


async def test_login_sets_an_httponly_samesite_cookie(site: Site) -> None:
    """POST /login (form) redirects to `next` and sets the session cookie: HttpOnly,
    SameSite=lax, path /, the hard lifetime as Max-Age, not Secure over plain HTTP."""
    response = await web_login(site, next="/cases")
    assert (response.status_code, response.headers["location"]) == (303, "/cases")
    [cookie] = session_cookies(response)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=43200" in cookie
    assert "Secure" not in cookie
    assert site.audit("auth.login") == [("alice", "biller", "ok", {"kind": "cookie"})]
    me = await site.http.get(ME)  # the client sends the cookie back
    assert (me.status_code, me.json()["user_id"]) == (200, "alice")


@pytest.mark.parametrize(
    ("overrides", "headers", "secure"),
    [
        ({"secure_cookies": True}, {}, True),
        ({"trusted_proxies": "127.0.0.1"}, {"X-Forwarded-Proto": "https"}, True),
        ({}, {"X-Forwarded-Proto": "https"}, False),  # no proxy trusted by default
        (
            {"secure_cookies": False, "trusted_proxies": "127.0.0.1"},
            {"X-Forwarded-Proto": "https"},
            False,
        ),
    ],
    ids=["setting", "forwarded-https", "forwarded-untrusted", "setting-wins"],
)
async def test_secure_cookie(
    sqlite_engine: Engine,
    tmp_path: Path,
    rulebook: Rulebook,
    overrides: dict[str, Any],
    headers: dict[str, str],
    secure: bool,
) -> None:
    """The cookie is Secure when settings.secure_cookies says so, or (unset) when the request
    came over HTTPS as a trusted proxy's X-Forwarded-Proto tells."""
    async with serve(sqlite_engine, tmp_path, rulebook, **overrides) as site:
        # A Secure token cookie does not come back over plain HTTP by itself: send it.
        form = await site.http.get("/login", headers=headers)
        [(name, value)] = form.cookies.items()
        assert name == ("__Host-denials_login_csrf" if secure else "denials_login_csrf")
        response = await site.http.post(
            "/login",
            data={"username": "alice", "password": "demo", "csrf_token": login_token(form.text)},
            headers={**headers, "Cookie": f"{name}={value}"},
        )
        assert response.status_code == 303
        [cookie] = session_cookies(response)
        assert ("Secure" in cookie) is secure


async def test_wrong_password_rerenders_the_login_page(site: Site) -> None:
    """A wrong password on the form answers 401 with the login page and its error, keeps the
    user id typed, sets no cookie, and is audited."""
    response = await post_login(
        site.http, {"username": "alice", "password": "nope", "next": "/cases"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Wrong user id or password." in response.text
    assert 'value="alice"' in response.text
    assert session_cookies(response) == []
    assert site.audit("auth.login") == [("alice", "system", "refused", {"kind": "cookie"})]


async def test_cookie_changes_need_the_csrf_token(site: Site) -> None:
    """A cookie-authenticated POST to the API without the session's CSRF token (or with a
    wrong one) is 403 and changes nothing; with the token from the page, as the X-CSRF-Token
    header or a csrf_token form field, it is allowed. Reads need no token."""
    assert (await web_login(site)).status_code == 303
    page = await site.http.get("/cases")
    assert page.status_code == 200
    token = csrf_of(page.text)
    with Session(site.engine) as session:
        stored = session.exec(select(SessionRow).where(SessionRow.kind == "cookie")).one()
    assert token == stored.csrf_token

    def upload(name: str, **form: str) -> dict[str, Any]:
        return {"files": [("files", (name, GARBAGE + name.encode(), "text/plain"))], "data": form}

    missing = await site.http.post("/api/v1/ingest", **upload("a.txt"))
    assert (missing.status_code, missing.json()) == (403, CSRF_REFUSED)
    # Change the last character to one it is not, so the wrong token can never be the right one.
    wrong_token = token[:-1] + ("x" if token[-1] != "x" else "y")
    wrong = await site.http.post(
        "/api/v1/ingest", headers={"X-CSRF-Token": wrong_token}, **upload("b.txt")
    )
    assert (wrong.status_code, wrong.json()) == (403, CSRF_REFUSED)
    listed = await site.http.get("/api/v1/ingest")
    assert (listed.status_code, listed.json()) == (200, [])

    by_header = await site.http.post(
        "/api/v1/ingest", headers={"X-CSRF-Token": token}, **upload("c.txt")
    )
    assert by_header.status_code == 200, by_header.text
    by_field = await site.http.post("/api/v1/ingest", **upload("d.txt", csrf_token=token))
    assert by_field.status_code == 200, by_field.text
    names = [row["filename"] for row in (await site.http.get("/api/v1/ingest")).json()]
    assert sorted(names) == ["c.txt", "d.txt"]


OFF_SITE = ("//evil.example", "https://evil.example", "//evil.example/cases", "http:/evil.example")


async def test_login_never_redirects_off_site(site: Site) -> None:
    """`next` pointing at another site (scheme-relative or absolute) becomes "/": in the login
    form's hidden field, and in the redirect after signing in."""
    for target in OFF_SITE:
        form = await site.http.get("/login", params={"next": target})
        assert 'name="next" value="/"' in form.text, target
    for target in OFF_SITE[:2]:
        response = await web_login(site, next=target)
        assert (response.status_code, response.headers["location"]) == (303, "/"), target
    # A path whose backslash browsers would read as "//" is sent percent-encoded (stays here).
    sneaky = (await web_login(site, next="/\\evil.example")).headers["location"]
    assert sneaky.startswith("/") and sneaky[1:2] not in ("/", "\\"), sneaky
    inside = await web_login(site, next="/cases?open_only=true")
    assert inside.headers["location"] == "/cases?open_only=true"


async def test_logout_clears_the_cookie(site: Site) -> None:
    """POST /logout (with the page's CSRF token) ends the web session: the cookie is cleared
    and the old cookie value no longer signs anybody in."""
    await web_login(site)
    cookie = site.http.cookies["denials_session"]
    token = csrf_of((await site.http.get("/cases")).text)
    out = await site.http.post("/logout", data={"csrf_token": token})
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    cleared = out.headers["set-cookie"]
    assert cleared.startswith('denials_session=""') or cleared.startswith("denials_session=;")
    assert "Max-Age=0" in cleared or "expires=Thu, 01 Jan 1970" in cleared
    site.http.cookies.clear()
    site.http.cookies.set("denials_session", cookie)
    replay = await site.http.get(ME)
    assert replay.status_code == 401
    assert site.session_row(cookie) is None


# --- User administration --------------------------------------------------------------------


async def test_deactivating_a_user_signs_them_out(site: Site) -> None:
    """PATCH active=false ends all of the user's sessions at once (their token is 401) and
    they can no longer sign in; reactivated, they can."""
    ada, bob = site.bearer("ada"), site.bearer("bob")
    assert (await site.http.get(ME, headers=bob)).status_code == 200
    off = await site.http.patch("/api/v1/users/bob", json={"active": False}, headers=ada)
    assert (off.status_code, off.json()["active"]) == (200, False)
    response = await site.http.get(ME, headers=bob)
    assert (response.status_code, response.json()) == (401, EXPIRED)
    with Session(site.engine) as session:
        assert session.exec(select(SessionRow).where(SessionRow.user_id == "bob")).all() == []
    assert (await sign_in(site, "bob")).status_code == 401
    on = await site.http.patch("/api/v1/users/bob", json={"active": True}, headers=ada)
    assert on.status_code == 200
    assert (await sign_in(site, "bob")).status_code == 200
    assert [detail["fields"] for _, _, _, detail in site.audit("user.change")] == [
        "active",
        "active",
    ]


async def test_password_reset_signs_the_user_out(site: Site) -> None:
    """An admin resetting a password ends the user's sessions; the new password works, the
    old one not; the audit row names the field but never the password."""
    ada, alice = site.bearer("ada"), site.bearer("alice")
    reset = await site.http.patch(
        "/api/v1/users/alice", json={"password": NEW_PASSWORD}, headers=ada
    )
    assert reset.status_code == 200
    assert (await site.http.get(ME, headers=alice)).status_code == 401
    assert (await sign_in(site, "alice")).status_code == 401
    assert (await sign_in(site, "alice", NEW_PASSWORD)).status_code == 200
    [(user, _, _, detail)] = site.audit("user.change")
    assert (user, detail) == ("ada", {"target": "alice", "fields": "password"})


@pytest.mark.parametrize("change", [{"active": False}, {"role": "supervisor"}])
async def test_admin_cannot_deactivate_or_demote_themselves(
    site: Site, change: dict[str, Any]
) -> None:
    """An admin's own account cannot be switched off or lose the admin role (422); it stays
    as it was and the admin stays signed in."""
    ada = site.bearer("ada")
    response = await site.http.patch("/api/v1/users/ada", json=change, headers=ada)
    assert problem(response) == "an admin cannot deactivate or demote themselves"
    with Session(site.engine) as session:
        user = session.get(UserRow, "ada")
        assert user is not None and (user.role, user.active) == ("admin", True)
    assert (await site.http.get(ME, headers=ada)).status_code == 200


async def test_passwords_shorter_than_12_are_refused(site: Site) -> None:
    """Creating a user or resetting a password with fewer than 12 characters is 422 naming the
    password field; nothing changes."""
    ada = site.bearer("ada")
    new = {"user_id": "carol", "display_name": "Carol", "role": "biller", "password": "x" * 11}
    created = await site.http.post("/api/v1/users", json=new, headers=ada)
    assert created.status_code == 422
    assert [e["loc"] for e in created.json()["detail"]] == [["body", "password"]]
    reset = await site.http.patch("/api/v1/users/bob", json={"password": "short"}, headers=ada)
    assert reset.status_code == 422
    assert [e["loc"] for e in reset.json()["detail"]] == [["body", "password"]]
    with Session(site.engine) as session:
        assert session.get(UserRow, "carol") is None
    assert (await sign_in(site, "bob")).status_code == 200


async def test_created_user_can_sign_in(site: Site) -> None:
    """POST /users creates an active user (201, no password in the answer) who can then sign
    in with the password given; the same id again is 409."""
    ada = site.bearer("ada")
    new = {"user_id": "carol", "display_name": "Carol Ruiz", "role": "supervisor"}
    created = await site.http.post(
        "/api/v1/users", json={**new, "password": NEW_PASSWORD}, headers=ada
    )
    assert created.status_code == 201, created.text
    assert created.json() == {**new, "active": True, "email": None}
    token = await sign_in(site, "carol", NEW_PASSWORD)
    assert (token.status_code, token.json()["role"]) == (200, "supervisor")
    me = await site.http.get(ME, headers=bearer(token.json()["access_token"]))
    assert me.json() == {"user_id": "carol", "display_name": "Carol Ruiz", "role": "supervisor"}
    again = await site.http.post(
        "/api/v1/users", json={**new, "password": NEW_PASSWORD}, headers=ada
    )
    assert (again.status_code, again.json()) == (409, {"detail": "user 'carol' already exists"})
    assert site.audit("user.create") == [
        ("ada", "admin", "ok", {"target": "carol", "role": "supervisor"})
    ]


@pytest.mark.parametrize("user_id", ["Carol", "carol smith", " carol", "carol\t", "c"])
async def test_user_ids_are_lower_case_without_spaces(site: Site, user_id: str) -> None:
    """User ids with capitals, spaces or a single character are 422 on the user_id field."""
    body = {"user_id": user_id, "display_name": "C", "role": "biller", "password": NEW_PASSWORD}
    response = await site.http.post("/api/v1/users", json=body, headers=site.bearer("ada"))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "user_id"]]
    with Session(site.engine) as session:
        assert sorted(u.user_id for u in session.exec(select(UserRow))) == [
            "ada",
            "alice",
            "bob",
            "drew",
            "sam",
        ]


async def test_signed_in_at_is_recent(site: Site) -> None:
    """A new session starts now and ends at the hard limit (12 h by default)."""
    token = (await sign_in(site, "alice")).json()["access_token"]
    row = site.session_row(token)
    assert row is not None
    now = datetime.now(UTC)
    assert now - timedelta(seconds=30) < row.created_at <= now
    assert row.expires_at - row.created_at == timedelta(hours=12)
    assert row.last_seen_at == row.created_at
