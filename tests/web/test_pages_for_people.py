"""Issue 15 in Chromium against `denials up` with the demo data: work typed into a form outlives
an ended session and a stale tab; error pages are pages, with navigation and claim numbers;
ingest results link to the cases they started; a closed case counts nothing down; every main
page fits a 390 px phone, with no console error (the favicon) and no serious axe violation.

Each test picks its own demo claim, so their order does not matter.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from tests.ingest_helpers import denied_claim, remittance_file
from tests.web.axe import assert_accessible
from tests.web.conftest import SCREENSHOTS, Shots
from tests.web.stack import Stack
from tests.web.test_browser import demo_case_id, flash, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NOTE = "Called the payer: the claim is being reprocessed, reference 42-ALPHA"
PHONE = {"width": 390, "height": 844}


def note_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Note", exact=True)


def end_sessions(stack: Stack, user: str) -> None:
    """The user's sessions go idle past any limit, as if she had left for lunch."""
    with sqlite3.connect(stack.data_dir / "denials.db") as db:
        db.execute(
            "UPDATE sessions SET last_seen_at = '2000-01-01 00:00:00.000000' WHERE user_id = ?",
            (user,),
        )


def sign_in_again(page: Page, user: str) -> None:
    page.get_by_label("User id").fill(user)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()


def errors_of(page: Page) -> list[str]:
    """Console errors and uncaught exceptions, collected as the page is used."""
    seen: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.append(f"{message.location.get('url')}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda exc: seen.append(f"uncaught: {exc}"))
    return seen


def test_a_note_typed_before_the_session_ended_is_kept(
    page: Page, shot: Shots, stack: Stack
) -> None:
    """Alice types a note, her session ends, she submits: the sign-in page says what happened,
    and after signing in she is back on the case with the note in its box and a sentence
    saying so; submitting it then saves it."""
    errors = errors_of(page)
    sign_in(page, "alice", shot)
    page.goto(f"/cases/{demo_case_id(page, 'DEMO-PCN-0002')}")
    note_box(page).fill(NOTE)
    end_sessions(stack, "alice")
    page.get_by_role("button", name="Add note").click()

    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcases%2Fcase-[0-9a-f]+$"))
    notice = page.locator("#draft-notice")
    expect(notice).to_contain_text("Your session ended, so your last change was not saved.")
    expect(notice).to_contain_text("What you typed is kept in this tab")
    assert NOTE not in page.url
    shot("signed-out-note-kept")
    assert_accessible(page, "sign-in page after a session ended")

    sign_in_again(page, "alice")
    expect(page).to_have_url(re.compile(r"/cases/case-[0-9a-f]+$"))
    expect(notice).to_contain_text("Your session ended before your change was saved")
    expect(notice).to_contain_text("What you typed is back in the form below")
    expect(note_box(page)).to_have_value(NOTE)
    expect(page.locator(".kept-hint")).to_be_visible()
    shot("back-at-the-form")
    assert_accessible(page, "case page with the note put back")

    page.get_by_role("button", name="Add note").click()
    expect(flash(page)).to_have_text("Note added")
    expect(page.locator("ol.timeline")).to_contain_text(NOTE)
    expect(note_box(page)).to_have_value("")
    page.reload()  # the draft is gone once used
    expect(note_box(page)).to_have_value("")
    assert page.locator("#draft-notice").count() == 0
    assert errors == []


def test_a_tab_older_than_the_sign_in_keeps_its_text(browser: Browser, stack: Stack) -> None:
    """A tab opened before Alice signed out and in again (in another tab) posts the form with
    the old session's token: nothing is done, the same tab comes back with a fresh form, the
    text in it and a sentence saying why; then it saves."""
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900})
    try:
        old_tab = context.new_page()
        shot = Shots(old_tab, "test_a_tab_older_than_the_sign_in_keeps_its_text")
        sign_in(old_tab, "alice", shot)
        old_tab.goto(f"/cases/{demo_case_id(old_tab, 'DEMO-PCN-0003')}")
        note_box(old_tab).fill("Typed in a tab opened before signing in again")

        new_tab = context.new_page()
        new_tab.goto("/tasks")
        new_tab.get_by_role("button", name="Sign out").click()
        sign_in_again(new_tab, "alice")
        expect(new_tab.locator(".signout")).to_contain_text("Alice")

        old_tab.get_by_role("button", name="Add note").click()
        expect(old_tab).to_have_url(re.compile(r"/cases/case-[0-9a-f]+$"))
        notice = old_tab.locator("#draft-notice")
        expect(notice).to_contain_text("This page was opened before you last signed in")
        expect(notice).to_contain_text("What you typed is back in the form below")
        expect(note_box(old_tab)).to_have_value("Typed in a tab opened before signing in again")
        shot("stale-tab-text-kept")
        assert_accessible(old_tab, "case page after a stale form")

        old_tab.get_by_role("button", name="Add note").click()
        expect(flash(old_tab)).to_have_text("Note added")
        expect(old_tab.locator("ol.timeline")).to_contain_text("Typed in a tab opened before")
    finally:
        context.close()


def assert_error_page(page: Page, heading: str, *links: str) -> None:
    """An HTML page with the signed-in navigation, the heading, the links, and no internal id."""
    expect(page.locator("main h1")).to_have_text(heading)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    where = page.get_by_role("navigation", name="Where to go from here")
    for link in links:
        expect(where.get_by_role("link", name=link)).to_be_visible()
    text = page.locator("main").inner_text()
    assert not re.search(r"case-[0-9a-f]{6}|\{\"detail\"|[a-z]+_[a-z]+", text), text


def test_error_pages_are_pages_in_words(page: Page, shot: Shots) -> None:
    """404 (an unknown address, an unknown case), 403 (a biller at the supervisor console),
    405 (a form's address opened after sign-in), 409 (cancelling a case another tab already
    cancelled) and 422 (a query a page cannot use): each an HTML page with navigation, in
    claim numbers, and accessible."""
    sign_in(page, "sam", shot)
    case_id = demo_case_id(page, "DEMO-PCN-0005")

    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert_error_page(page, "Not found", "Your start page: Supervisor console", "Open cases")
    shot("404-unknown-address")
    assert_accessible(page, "404 page")

    response = page.goto("/cases/case-000000000000000000000000")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_have_text("No such case")
    assert_error_page(page, "Not found")

    response = page.goto(f"/cases/{case_id}/notes")
    assert response is not None and response.status == 405
    assert_error_page(page, "Not a page to open", "Back to claim DEMO-PCN-0005")
    shot("405-form-address")
    assert_accessible(page, "405 page")
    page.get_by_role("link", name="Back to claim DEMO-PCN-0005").click()
    expect(page.locator(".case-head h1")).to_contain_text("DEMO-PCN-0005")

    response = page.goto("/queue?sort=sideways")
    assert response is not None and response.status == 422
    assert_error_page(page, "Not accepted")
    expect(page.get_by_role("alert")).to_contain_text("Sort:")

    # Two tabs on one case: the second cancels what the first already cancelled.
    page.goto(f"/cases/{case_id}")
    other = page.context.new_page()
    other.goto(f"/cases/{case_id}")
    page.get_by_label("Cancel with reason").fill("sent to the wrong payer")
    page.get_by_role("button", name="Cancel case").click()
    page.get_by_role("button", name="Yes, cancel the case").click()
    expect(flash(page)).to_have_text("Case cancelled")
    other.get_by_label("Cancel with reason").fill("duplicate of another case")
    other.get_by_role("button", name="Cancel case").click()
    with other.expect_response(lambda r: r.request.method == "POST") as posted:
        other.get_by_role("button", name="Yes, cancel the case").click()
    assert posted.value.status == 409
    assert_error_page(other, "Not changed", "Back to claim DEMO-PCN-0005")
    expect(other.get_by_role("alert")).to_contain_text("claim DEMO-PCN-0005")
    Shots(other, "test_error_pages_are_pages_in_words-409")("409-already-cancelled")
    assert_accessible(other, "409 page")
    other.close()

    page.context.clear_cookies()
    sign_in(page, "alice", shot)
    response = page.goto("/supervisor")
    assert response is not None and response.status == 403
    assert_error_page(page, "Not allowed", "Your start page: My tasks")
    expect(page.get_by_role("alert")).to_have_text("Your role (biller) cannot open this page")
    shot("403-biller-at-console")
    assert_accessible(page, "403 page")


def test_closed_case_counts_nothing_down(page: Page, shot: Shots) -> None:
    """Once cancelled, the case page shows no countdown anywhere: its deadlines say the case
    closed, the header names no next deadline, the finished task shows its date only."""
    sign_in(page, "sam", shot)
    page.goto(f"/cases/{demo_case_id(page, 'DEMO-PCN-0009')}")
    assert page.locator("main span.due:not(.done)").count() > 0
    page.get_by_label("Cancel with reason").fill("billed in error")
    page.get_by_role("button", name="Cancel case").click()
    page.get_by_role("button", name="Yes, cancel the case").click()
    expect(flash(page)).to_have_text("Case cancelled")
    expect(page.locator("main span.due:not(.done)")).to_have_count(0)
    expect(page.locator(".case-head")).not_to_contain_text("next deadline")
    deadlines = page.locator("section[aria-labelledby=deadlines-h] tbody tr")
    assert deadlines.count() >= 1
    for row in deadlines.all():
        expect(row.locator("td").nth(1)).to_contain_text("case closed")
    timeline = page.locator("ol.timeline").inner_text()
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", timeline), timeline
    shot("closed-case")
    assert_accessible(page, "closed case page")


def test_ingest_results_link_to_the_cases_started(page: Page, shot: Shots, tmp_path: Path) -> None:
    """An 835 denying two claims: its result names both claims, each opening its case."""
    today = datetime.now(UTC).date()
    remit = tmp_path / "links.835"
    served = today - timedelta(days=9)
    claims = [denied_claim(f"LINK-PCN-{n}", "16", 300 + n, served) for n in (1, 2)]
    remit.write_bytes(remittance_file(today, *claims, control=5151))
    sign_in(page, "sam", shot)
    page.goto("/ingest")
    page.get_by_label("Files (835, 277CA, 999)").set_input_files([remit])
    page.get_by_role("button", name="Ingest", exact=True).click()
    report = page.locator("article.report").filter(has_text="links.835")
    expect(report.locator(".started")).to_contain_text("Cases started: LINK-PCN-1, LINK-PCN-2")
    shot("ingest-result-links")
    assert_accessible(page, "ingest result")
    report.get_by_role("link", name="LINK-PCN-2", exact=True).click()
    expect(page.locator(".case-head h1")).to_contain_text("LINK-PCN-2")


@pytest.fixture
def phone(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.base_url, viewport=PHONE)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_every_main_page_fits_a_phone(phone: Page) -> None:
    """At 390 px no page scrolls sideways (tables scroll inside themselves), no console error
    (a missing favicon was one on every page) and no serious axe violation."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = Shots(phone, "test_every_main_page_fits_a_phone")
    errors = errors_of(phone)
    visited: list[str] = []

    def check(name: str) -> None:
        width = phone.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} ({phone.url}) is {width}px wide"
        shot(name)
        assert_accessible(phone, name)
        visited.append(name)

    phone.goto("/login")
    check("login")
    for user, pages in (
        ("alice", ("/tasks", "/queue", "/cases?open_only=true", "/ingest", "/prevention")),
        ("sam", ("/supervisor", "/dashboard")),
        ("ada", ("/admin",)),
    ):
        phone.context.clear_cookies()
        phone.goto("/login")
        sign_in_again(phone, user)
        expect(phone.locator(".signout")).to_contain_text(user.capitalize())
        for path in pages:
            phone.goto(path)
            check(path.strip("/").split("?")[0])
        if user == "alice":
            phone.goto(f"/cases/{demo_case_id(phone, 'DEMO-PCN-0001')}")
            check("case")
            phone.goto(f"/cases/{demo_case_id(phone, 'DEMO-PCN-0001')}/appeal-letter")
            check("appeal-letter")
    assert len(visited) == 11
    assert errors == []
