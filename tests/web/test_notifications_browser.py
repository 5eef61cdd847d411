"""Issue 15 (item 10) in Chromium against `denials up` with the demo data, its worker e-mailing
through a real SMTP server in this process (aiosmtpd) and sweeping every second: the demo's
escalated deadline reaches sam (supervisor) by e-mail, in his daily digest, with the claim
number and a link but no patient; in the app the header's bell shows his unread count; alice
claims two tasks inside their reminder window and her bell counts them, the notifications page
lists them, marking one read and then all lowers the count to none, and she turns the digest
off. axe-core finds no
serious or critical violation on each state."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.services.smtp_server import Inbox, smtp_server
from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer, start_stack
from tests.web.test_biller_queue import api_as, case_of, claim
from tests.web.test_browser import sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def inbox_and_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Inbox, Stack]]:
    with smtp_server() as (inbox, port), pytest.MonkeyPatch.context() as env:
        for name, value in {
            "DENIALS_SMTP_HOST": "127.0.0.1",
            "DENIALS_SMTP_PORT": str(port),
            "DENIALS_SMTP_TLS": "none",
            "DENIALS_NOTIFY_EVERY_SECONDS": "1",
            "DENIALS_NOTIFY_DIGEST_HOUR": "0",  # the digests go at once, whatever the hour
        }.items():
            env.setenv(name, value)
        running = start_stack(tmp_path_factory.mktemp("notify-stack"))
        try:
            yield inbox, running
        finally:
            assert running.stop() == 0, running.log_text()


@pytest.fixture
def stack(inbox_and_stack: tuple[Inbox, Stack]) -> Stack:
    return inbox_and_stack[1]


def _unread(stack: Stack, user: str, at_least: int = 1) -> int:
    """The user's unread count once the worker's sweeps have given her `at_least`."""
    headers = bearer(stack.base_url, user)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = httpx.get(f"{stack.base_url}/api/v1/notifications", headers=headers).json()
        if body["unread"] >= at_least:
            return int(body["unread"])
        time.sleep(0.5)
    raise AssertionError(f"no notification for {user}:\n{stack.log_text()[-3000:]}")


def test_emails_then_bell_and_mark_read(
    inbox_and_stack: tuple[Inbox, Stack], page: Page, request: pytest.FixtureRequest
) -> None:
    inbox, stack = inbox_and_stack
    unread = _unread(stack, "sam")
    deadline = time.monotonic() + 30
    while not inbox.to("sam@example.org") and time.monotonic() < deadline:
        time.sleep(0.5)
    mail = inbox.to("sam@example.org")
    assert mail, stack.log_text()[-3000:]
    for message in inbox.received:
        assert message.mail_from == "denials@localhost"
        assert len(message.rcpt_tos) == 1 and message.rcpt_tos[0].endswith("@example.org")
        text = message.message["Subject"] + message.body
        assert re.search(r"claim \S+", text)
        assert f"{stack.base_url}/cases/case-" in message.body
        assert "DEMO PATIENT" not in text and "DEMO-M0" not in text
    subjects = [m.message["Subject"] for m in mail]
    assert all(s.startswith(("Urgent: claim ", "Denials digest ")) for s in subjects), subjects
    assert sum(s.startswith("Denials digest ") for s in subjects) == 1  # once, though swept often

    shot = Shots(page, request.node.name)
    sign_in(page, "sam", shot)
    bell = page.locator("#bell")
    expect(bell.locator(".badge")).to_have_text(str(unread))
    expect(bell).to_have_attribute("aria-label", f"Notifications: {unread} unread")
    shot("sam-bell")
    assert_accessible(page, "sam's bell")
    page.get_by_role("button", name="Sign out").click()

    # alice claims the demo's two tasks inside their reminder window: each is hers to hear of.
    with api_as(stack, "alice") as api:
        for claim_id in ("DEMO-PCN-0004", "DEMO-PCN-0006"):
            claim(api, case_of(api, claim_id))
    assert _unread(stack, "alice", at_least=2) == 2
    sign_in(page, "alice", shot)
    expect(page.locator("#bell .badge")).to_have_text("2")
    shot("alice-bell")
    assert_accessible(page, "alice's bell")

    page.locator("#bell").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("(2 unread)")
    expect(page.locator("tr.unread")).to_have_count(2)
    shot("notifications")
    assert_accessible(page, "notifications")

    page.locator("tr.unread").first.get_by_role("button", name=re.compile("read$")).click()
    expect(page.locator(".flash")).to_contain_text("Marked read: claim DEMO-PCN-000")
    expect(page.locator("#bell .badge")).to_have_text("1")
    expect(page.locator("tr.read")).to_have_count(1)
    shot("one-read")
    assert_accessible(page, "one read")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    page.reload()
    shot("phone")
    assert_accessible(page, "on a phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".flash")).to_contain_text("1 marked read")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications: 0 unread")
    expect(page.locator("#bell .badge")).to_have_count(0)
    expect(page.locator("tr.unread")).to_have_count(0)
    shot("all-read")
    assert_accessible(page, "all read")

    page.get_by_label("E-mail me a daily digest").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Daily e-mail digest off")
    expect(page.get_by_label("E-mail me a daily digest")).not_to_be_checked()
