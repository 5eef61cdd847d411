"""The appeal task in a real browser (Debian's Chromium) against `denials up`: alice opens the
appeal from the case page, sees everything still missing listed at once, is refused when she
submits the draft as is (nothing reaches the outbox), writes the argument, unticks what she
does not send, attaches a PDF and a scan, and submits: the packet in the outbox carries her
argument, no internal note, and the two files. axe-core finds no serious or critical
violation in any of these states."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pypdf
import pytest
from playwright.sync_api import Locator, Page, expect

from domain.models import PayerType
from testkit.records import adj, make_record
from tests.documents import pdf_bytes, png_bytes
from tests.web.axe import serious_violations
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer
from tests.web.test_browser import case_status, flash, sign_in, wait_for_open_task

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.shared_stack]

OUTER_PROMPT = "If no authorisation applied: the services were urgent/emerg"
ARGUMENT = "Authorisation A-778 was issued on January 5 for the visit billed; it is enclosed."


def authorization_appeal(stack: Stack) -> str:
    """A new commercial CO-197 denial, triage and root cause confirmed by alice: its level-1
    appeal task is hers."""
    today = datetime.now(UTC).date()
    record = make_record(
        today, billed=640, payer_type=PayerType.COMMERCIAL, adjustments=[adj("CO-197", 640)]
    )
    with httpx.Client(base_url=stack.base_url, headers=bearer(stack.base_url, "alice")) as api:
        opened = api.post("/api/v1/cases", json=record.model_dump(mode="json"), timeout=30)
        assert opened.status_code == 201, opened.text
        case_id = str(opened.json()["case_id"])
        for task_type in ("confirm_triage", "confirm_root_cause"):
            task_id = wait_for_open_task(api, case_id, task_type)
            done = api.post(
                f"/api/v1/tasks/{task_id}/complete",
                json={"payload": {"type": task_type}},
                timeout=30,
            )
            assert done.status_code == 200, done.text
        wait_for_open_task(api, case_id, "prepare_appeal")
    return case_id


def sent_for(stack: Stack, case_id: str) -> list[Path]:
    """The case's packets in the outbox (other modules' cases share the stack's outbox)."""
    return sorted((stack.data_dir / "outbox").glob(f"{case_id}*"))


def missing_list(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=missing-h] ul.missing li")


def enclosure(page: Page, name: str) -> Locator:
    return page.locator("fieldset.enclosure").filter(
        has=page.locator("legend", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def assert_accessible(page: Page, state: str) -> None:
    assert serious_violations(page) == [], state


def test_biller_finishes_and_sends_an_appeal_with_its_files(
    page: Page, shot: Shots, stack: Stack, tmp_path: Path
) -> None:
    case_id = authorization_appeal(stack)
    assert sent_for(stack, case_id) == []
    sign_in(page, "alice", shot)
    page.goto(f"/cases/{case_id}")
    task = page.locator("section[aria-labelledby=task-h]")
    expect(task.locator("#task-h")).to_have_text("Submit the appeal (level 1)")
    task.get_by_role("link", name="Open the appeal task").click()

    # The task: the letter in its parts, what is missing, the notes only she reads.
    expect(page.locator("h1")).to_contain_text("Appeal, level 1")
    expect(page.locator("#missing-h")).to_have_text("Before this appeal can be sent")
    expected = [
        'Fill in or remove "[number]" (in the argument)',
        'Fill in or remove "[date]" (in the argument)',
        'Fill in or remove "[services and dates]" (in the argument)',
        f'Fill in or remove "[{OUTER_PROMPT}…]" (in the argument)',
        'Fill in or remove "[date]" (in the argument)',
        *[
            f'Attach "{name}", or untick it if it is not enclosed'
            for name in (
                "Copy of the claim as billed",
                "Remittance advice (835) showing the denial",
                "Authorisation record",
                "Clinical notes",
            )
        ],
    ]
    expect(missing_list(page)).to_have_text(expected)
    notes = page.locator("section[aria-labelledby=notes-h]")
    expect(notes).to_contain_text("Verify per contract")
    preview = page.locator("section[aria-labelledby=sent-h] pre")
    expect(preview).not_to_contain_text("Verify per contract")
    expect(preview).not_to_contain_text("commercial-erisa")
    assert_accessible(page, "the appeal task as opened")
    shot("appeal-task")

    # Submitted as the template left it: refused, everything missing listed, nothing sent.
    page.get_by_role("button", name="Submit the appeal").click()
    expect(page.locator("#missing-h")).to_have_text("This appeal was not sent")
    expect(page.locator("section[aria-labelledby=missing-h] [role=alert]")).to_be_visible()
    expect(missing_list(page)).to_have_text(expected)
    assert sent_for(stack, case_id) == []
    assert_accessible(page, "the appeal refused")
    page.locator("#missing-h").scroll_into_view_if_needed()
    shot("refused")

    # She writes the argument, unticks what she does not send and attaches the rest.
    auth, scan = tmp_path / "auth-778.pdf", tmp_path / "notes-scan.png"
    auth.write_bytes(pdf_bytes("AUTH-778 approved", pages=2))
    scan.write_bytes(png_bytes())
    page.get_by_label("Argument: why the claim should be paid").fill(ARGUMENT)
    for name in ("Copy of the claim as billed", "Remittance advice (835) showing the denial"):
        enclosure(page, name).get_by_label("Send with this appeal").uncheck()
    enclosure(page, "Authorisation record").get_by_label(
        "Attach a file to Authorisation record"
    ).set_input_files(auth)
    page.get_by_role("button", name="Save the letter").click()
    expect(flash(page)).to_have_text("auth-778.pdf attached to Authorisation record")
    expect(enclosure(page, "Authorisation record").locator("ul.files")).to_contain_text(
        "auth-778.pdf"
    )
    expect(missing_list(page)).to_have_text(
        ['Attach "Clinical notes", or untick it if it is not enclosed']
    )
    assert_accessible(page, "one enclosure still to attach")
    shot("one-left")
    enclosure(page, "Clinical notes").get_by_label(
        "Attach a file to Clinical notes"
    ).set_input_files(scan)
    page.get_by_role("button", name="Save the letter").click()
    expect(page.locator("#missing-h")).to_have_text("Ready to send")
    expect(preview).to_contain_text(f"WHY THE CLAIM SHOULD BE PAID\n{ARGUMENT}")
    expect(preview).to_contain_text("Enclosures (2):\n- Authorisation record\n- Clinical notes")
    assert_accessible(page, "the appeal ready to send")
    shot("ready")

    page.get_by_label("Submission reference").fill("WEB-778")
    page.get_by_role("button", name="Submit the appeal").click()
    expect(flash(page)).to_have_text("Appeal submitted: the level 1 packet was sent")
    expect(case_status(page)).to_have_text("awaiting payer")
    shot("sent")

    (packet,) = sent_for(stack, case_id)
    assert packet.suffix == ".pdf"
    reader = pypdf.PdfReader(io.BytesIO(packet.read_bytes()))
    pages = [p.extract_text() for p in reader.pages]
    letter = "\n".join(pages[:-4])
    assert f"WHY THE CLAIM SHOULD BE PAID\n{ARGUMENT}" in letter
    assert "[" not in letter and "Verify per" not in letter
    assert "1. Authorisation record: auth-778.pdf (2 pages)" in pages[-4]
    assert "2. Clinical notes: notes-scan.png (1 page)" in pages[-4]
    assert "AUTH-778 approved (page 2)" in pages[-2]
    assert len(reader.pages[-1].images) == 1
