"""Browser-enforced defences, in Chromium: the pages work under their Content-Security-Policy
with no violation reported (issue 14, item 7), the API docs too, with nothing fetched from
another site (issue 16, item 4), and a sign-in forged by another site is refused while the
sign-in form itself works (login CSRF, issue 14, item 9)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Route, expect

from tests.web.conftest import Shots
from tests.web.stack import Stack
from tests.web.test_browser import sign_in

pytestmark = pytest.mark.shared_stack

FORGER = "http://forger.example"


def test_no_page_breaks_its_content_security_policy(page: Page, shot: Shots) -> None:
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    sign_in(page, "sam", shot)
    for link in ("My tasks", "Team queue", "Cases", "Ingest", "Prevention", "Dashboard"):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
        expect(page.locator("main h1").first).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    page.locator("table a[href^='/cases/case-']").first.click()
    expect(page.locator(".case-head h1")).to_be_visible()
    assert violations == []


def test_the_api_docs_work_offline(page: Page, shot: Shots) -> None:
    """/docs renders every operation from the app's own files: no request leaves 127.0.0.1
    (any that tried would be refused here and listed), no policy violation, and an operation
    can be tried out."""
    violations: list[str] = []
    elsewhere: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def only_local(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto("/docs")
    expect(page.get_by_role("heading", name="Denials case manager")).to_be_visible()
    operations = page.locator(".opblock-summary-path")
    expect(operations.filter(has_text="/api/v1/tasks/{task_id}/complete")).to_be_visible()
    assert operations.count() >= 50
    shot("swagger-ui")
    page.locator("#operations-health-healthz_healthz_get").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tbody td.response-col_status")).to_have_text("200")
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.get_by_text("Token from POST /api/v1/auth/token")).to_be_visible()
    shot("swagger-ui-authorize")
    assert violations == []
    assert elsewhere == []


def test_a_sign_in_forged_by_another_site_is_refused(page: Page, shot: Shots, stack: Stack) -> None:
    """Another site's page posts the sign-in form with the forger's own account (and a token it
    fetched for itself): Chromium sends it cross-site without the token cookie, the app
    refuses it with the form again, nobody is signed in, and that form then signs in."""
    page.goto("/login")  # the victim has seen the sign-in page: she holds a token cookie
    forged_token = re.search(
        r'name="csrf_token" value="([^"]+)"', page.request.get(f"{stack.base_url}/login").text()
    )
    assert forged_token is not None
    page.context.clear_cookies()  # the forger's fetch above left its own cookie: not hers
    page.goto("/login")

    def forger_page(route: Route) -> None:
        route.fulfill(
            content_type="text/html",
            body=f"""<form id="f" method="post" action="{stack.base_url}/login">
<input name="username" value="bob"><input name="password" value="demo">
<input name="csrf_token" value="{forged_token.group(1)}"></form>
<script>document.getElementById("f").submit()</script>""",
        )

    page.route(f"{FORGER}/**", forger_page)
    with page.expect_navigation(url=f"{stack.base_url}/login") as landed:
        page.goto(f"{FORGER}/win-a-prize")
    response = landed.value
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text(
        "This sign-in form is out of date or was not sent from this site"
    )
    shot("forged-sign-in-refused")
    assert [c["name"] for c in page.context.cookies() if c["name"] == "denials_session"] == []

    page.get_by_label("User id").fill("alice")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".signout")).to_contain_text("Alice")
