"""Security headers on pages and API answers (issue 14, item 7)."""

from __future__ import annotations

import re

from api.security_headers import PAGES_POLICY
from tests.api.conftest import Api, as_user
from tests.login_form import post_login


async def test_pages_and_api_answers_carry_the_security_headers(api: Api) -> None:
    for path in ("/login", "/api/v1/cases", "/cases", "/static/app.css"):
        response = await api.http.get(path, headers=as_user("alice"))
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy, path
        assert "frame-ancestors 'none'" in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers  # plain HTTP here


async def test_hsts_is_sent_over_https_only(api: Api) -> None:
    response = await api.http.get("https://testserver/login")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_the_api_docs_are_served_by_the_app_under_its_own_policy(api: Api) -> None:
    """/docs names no other site: Swagger UI, its stylesheet, icon and start-up script come
    from the app, under the pages' policy (no inline script); there is no /redoc."""
    docs = await api.http.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == PAGES_POLICY
    assert "//" not in docs.text.replace("<!DOCTYPE html>", "")  # no absolute URL at all
    assert "<script>" not in docs.text and "style=" not in docs.text
    linked = re.findall(r'(?:src|href|data-openapi-url)="([^"]+)"', docs.text)
    assert sorted(linked) == [
        "/docs-assets/favicon.png",
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/docs/swagger-init.js",
        "/openapi.json",
    ]
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "json"}
    for path in linked:
        served = await api.http.get(path)
        assert served.status_code == 200, path
        assert types[path[path.rindex(".") :]] in served.headers["content-type"], path
    assert "SwaggerUIBundle" in (await api.http.get("/docs-assets/swagger-ui-bundle.js")).text
    for absent in ("/redoc", "/docs/oauth2-redirect", "/docs-assets/redoc.standalone.js"):
        assert (await api.http.get(absent)).status_code == 404, absent


async def test_an_offset_past_any_page_is_refused_not_a_server_error(api: Api) -> None:
    """Web lists take the API's bound on offsets: a huge one is a 422, never a 500."""
    signed_in = await post_login(api.http, {"username": "alice", "password": "demo"})
    assert signed_in.status_code == 303, signed_in.text
    for path in ("/tasks", "/queue", "/cases"):
        response = await api.http.get(path, params={"offset": 10**30})
        assert response.status_code == 422, (path, response.status_code)


async def test_a_refused_request_never_echoes_what_was_sent(api: Api) -> None:
    """A validation error says what is wrong and where, not the value: no password or
    patient name comes back in a 422 (nor into anything that logs answers)."""
    secret = "correct horse battery staple"
    response = await api.http.post(  # no role: FastAPI's answer would echo the whole body
        "/api/v1/users",
        json={"user_id": "zed", "password": secret, "name": "PATIENT NAME"},
        headers=as_user("ada"),
    )
    assert response.status_code == 422, response.text
    assert secret not in response.text and "PATIENT NAME" not in response.text
    assert all("input" not in error for error in response.json()["detail"])
