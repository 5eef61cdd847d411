"""Security headers on pages and API answers (issue 14, item 7)."""

from __future__ import annotations

from tests.api.conftest import Api, as_user


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


async def test_the_docs_page_may_load_swagger_ui(api: Api) -> None:
    policy = (await api.http.get("/docs")).headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy
