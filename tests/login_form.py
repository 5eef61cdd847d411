"""Signing in through the web form as a browser does: show the form (its CSRF cookie and
hidden field), then post it with the field (web.login_csrf)."""

from __future__ import annotations

import re

import httpx


def login_token(page: str) -> str:
    """The sign-in form's CSRF token (its hidden field)."""
    match = re.search(
        r'<form method="post" action="/login">.*?name="csrf_token" value="([^"]+)"', page, re.S
    )
    assert match, "no csrf_token field in the sign-in form"
    return match.group(1)


async def post_login(
    http: httpx.AsyncClient,
    data: dict[str, str],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """GET /login then POST /login with `data` and the form's token (the client keeps the
    token's cookie and sends it back)."""
    form = await http.get("/login", headers=headers)
    assert form.status_code == 200, form.text
    return await http.post(
        "/login", data={**data, "csrf_token": login_token(form.text)}, headers=headers
    )
