"""The pages work under their Content-Security-Policy: Chromium reports no violation while a
biller and a supervisor go through them (issue 14, item 7)."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.web.conftest import Shots
from tests.web.test_browser import sign_in


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
