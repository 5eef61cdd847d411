"""The codec endpoint the Temporal Web UI calls to show decrypted payloads: signed-in case
readers only, CORS for the UI's origin only, audited."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.api.common.v1 import Payload

from app.deps import SESSION_COOKIE
from app.encryption import ENCODING, EncryptionCodec, Keyring
from app.http import create_app
from app.settings import Settings
from db.models import AuditEventRow
from denials.temporal import connect
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind
from services.users import DEMO_USERS, UserService
from tests.api.conftest import problem

UI = "http://127.0.0.1:8233"
KEYRING = Keyring.parse(f"k1:{base64.b64encode(b'c' * 32).decode()}", source="test")
PLAIN = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "eyJhIjoxfQ=="}


@dataclass
class Site:
    http: httpx.AsyncClient
    engine: Engine
    bearer: dict[str, str]  # user id -> token
    cookie: str  # alice's browser session

    def as_user(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer[user_id]}"}


async def app_site(tmp_path: Path, engine: Engine, rulebook: Rulebook, codec: bool) -> Site:
    with Session(engine) as session:
        users = UserService(session)
        users.ensure_demo_users()
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        bearer = {
            user_id: auth.open_session(users.get(user_id), SessionKind.BEARER)[0]
            for user_id, *_ in DEMO_USERS
        }
        cookie, _ = auth.open_session(users.get("alice"), SessionKind.COOKIE)
    # The endpoint never calls Temporal: a client that is never connected is enough.
    client = await connect(
        "127.0.0.1:1", "default", codec=EncryptionCodec(KEYRING) if codec else None, lazy=True
    )
    settings = Settings(data_dir=tmp_path, temporal_ui_url=UI)
    app = create_app(settings, engine=engine, client=client, rulebook=rulebook)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    return Site(http, engine, bearer, cookie)


@pytest.fixture
async def site(tmp_path: Path, sqlite_engine: Engine, rulebook: Rulebook) -> AsyncIterator[Site]:
    site = await app_site(tmp_path, sqlite_engine, rulebook, codec=True)
    async with site.http:
        yield site


async def test_a_case_reader_decodes_and_nobody_encodes(site: Site) -> None:
    (sealed,) = await EncryptionCodec(KEYRING).encode([json_format.ParseDict(PLAIN, Payload())])
    sealed_json = json_format.MessageToDict(sealed)
    # Nobody gets chosen input encrypted with the server's key: the worker would accept it.
    encode = await site.http.post(
        "/api/v1/codec/encode", json={"payloads": [PLAIN]}, headers=site.as_user("sam")
    )
    assert encode.status_code in (404, 405)
    sealed = sealed_json

    decoded = await site.http.post(
        "/api/v1/codec/decode",
        json={"payloads": [sealed, PLAIN]},
        headers={**site.as_user("sam"), "X-Namespace": "default"},
    )
    assert decoded.status_code == 200, decoded.text
    assert decoded.json() == {"payloads": [PLAIN, PLAIN]}
    with Session(site.engine) as session:
        (event,) = session.exec(
            select(AuditEventRow).where(AuditEventRow.action == "temporal.payloads_decoded")
        ).all()
    assert (event.user_id, event.detail["count"], event.detail["namespace"]) == (
        "sam",
        2,
        "default",
    )


async def test_the_web_ui_sends_the_session_cookie_without_a_csrf_token(site: Site) -> None:
    site.http.cookies.set(SESSION_COOKIE, site.cookie)
    response = await site.http.post(
        "/api/v1/codec/decode", json={"payloads": [PLAIN]}, headers={"Origin": UI}
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == UI
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_cors_preflight_only_for_the_ui_origin_and_only_on_the_codec(site: Site) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    allowed = await site.http.options("/api/v1/codec/decode", headers={"Origin": UI, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI
    localhost = UI.replace("127.0.0.1", "localhost")
    alias = await site.http.options(
        "/api/v1/codec/decode", headers={"Origin": localhost, **preflight}
    )
    assert alias.headers["access-control-allow-origin"] == localhost
    evil = await site.http.options(
        "/api/v1/codec/decode", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in evil.headers
    elsewhere = await site.http.get(
        "/api/v1/cases", headers={"Origin": UI, **site.as_user("alice")}
    )
    assert "access-control-allow-origin" not in elsewhere.headers


async def test_anonymous_and_admins_are_refused(site: Site) -> None:
    anonymous = await site.http.post("/api/v1/codec/decode", json={"payloads": [PLAIN]})
    assert anonymous.status_code == 401
    assert "sign in" in anonymous.json()["detail"]
    admin = await site.http.post(
        "/api/v1/codec/decode", json={"payloads": [PLAIN]}, headers=site.as_user("ada")
    )
    assert admin.status_code == 403
    assert "view_cases" in admin.json()["detail"]


async def test_bad_payloads_are_refused_naming_the_problem(site: Site) -> None:
    alice = site.as_user("alice")
    not_base64 = await site.http.post(
        "/api/v1/codec/decode",
        json={"payloads": [PLAIN, {"metadata": {"encoding": "!!"}, "data": ""}]},
        headers=alice,
    )
    assert problem(not_base64) == "payloads.1.metadata.encoding: Value error, not base64"
    foreign_key = {
        "metadata": {
            "encoding": base64.b64encode(ENCODING).decode(),
            "encryption-key-id": base64.b64encode(b"k9").decode(),
        },
        "data": base64.b64encode(b"x" * 40).decode(),
    }
    unknown = await site.http.post(
        "/api/v1/codec/decode", json={"payloads": [foreign_key]}, headers=alice
    )
    assert unknown.status_code == 400
    assert "unknown key id 'k9'" in unknown.json()["detail"]


async def test_without_encryption_configured_the_endpoint_says_so(
    tmp_path: Path, sqlite_engine: Engine, rulebook: Rulebook
) -> None:
    site = await app_site(tmp_path, sqlite_engine, rulebook, codec=False)
    async with site.http:
        response = await site.http.post(
            "/api/v1/codec/decode", json={"payloads": [PLAIN]}, headers=site.as_user("alice")
        )
    assert response.status_code == 404
    assert response.json()["detail"] == "payload encryption is not configured on this server"
