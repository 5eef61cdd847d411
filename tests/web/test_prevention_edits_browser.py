"""Issue 18 in Chromium against `denials up`: sam writes a prevention edit on an item of the
board (every problem beside its field first, what was typed kept), changes it into version 2
and switches it off; each state is checked with axe-core and photographed."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.records import make_record
from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer
from tests.web.test_browser import flash, sign_in

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.shared_stack]


def checked(page: Page, shot: Shots, step: str) -> None:
    shot(step)
    assert_accessible(page, step)


def prevention_item(stack: Stack) -> str:
    """A case alice opens and sam cancels: its pattern's prevention item."""
    record = make_record(datetime.now(UTC).date(), billed=700)
    alice, sam = bearer(stack.base_url, "alice"), bearer(stack.base_url, "sam")
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        opened = api.post("/api/v1/cases", json=record.model_dump(mode="json"), headers=alice)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        deadline = time.monotonic() + 30
        cancelled = False
        while True:  # cancelled once triaged; its item appears as the case closes
            shown = api.get(f"/api/v1/cases/{case_id}", headers=sam)
            detail = shown.json() if shown.status_code == 200 else {"timeline": []}
            status = detail.get("summary", {}).get("status", "not read yet")
            if status == "triaged" and not cancelled:
                done = api.post(
                    f"/api/v1/cases/{case_id}/cancel", json={"reason": "test"}, headers=sam
                )
                assert done.status_code == 200, done.text
                cancelled = True
            emitted = [e for e in detail["timeline"] if e["type"] == "prevention_task"]
            if emitted:
                return str(emitted[0]["data"]["prevention_task_id"])
            assert time.monotonic() < deadline, f"no prevention item (case {status})"
            time.sleep(0.2)


def test_supervisor_writes_changes_and_switches_off_an_edit(
    page: Page, shot: Shots, stack: Stack
) -> None:
    item_id = prevention_item(stack)
    sign_in(page, "sam", shot)
    page.goto(f"/prevention/{item_id}")
    expect(page.get_by_role("heading", name="Prevention edits")).to_be_visible()
    expect(page.get_by_text("No edit yet.")).to_be_visible()
    checked(page, shot, "no-edit")

    page.get_by_label("Procedure codes").fill("97110, 9711")
    page.get_by_label("Units over").fill("lots")
    page.get_by_role("button", name="Save the edit").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("3 things to fix")
    expect(summary.locator("li").first).to_contain_text("Procedure codes")
    for field in ("Procedure codes", "Units over", "Fix"):  # in the form's order
        expect(summary.get_by_role("link", name=re.compile(f"^{field}:"))).to_be_visible()
    expect(page.get_by_label("Procedure codes")).to_have_value("97110, 9711")
    expect(page.get_by_label("Procedure codes")).to_have_attribute("aria-invalid", "true")
    checked(page, shot, "problems")

    page.get_by_label("Procedure codes").fill("97110, 97140")
    page.get_by_label("Units over").fill("")
    page.get_by_label("Modifier missing").fill("GP")
    page.get_by_label("Warn or block").select_option("block")
    page.get_by_label("Fix", exact=True).fill("Add modifier GP to the therapy lines")
    page.get_by_role("button", name="Save the edit").click()
    expect(flash(page)).to_contain_text("claim checks apply it from now on")
    row = page.locator("section[aria-labelledby=edits-h] tbody tr").first
    expect(row).to_contain_text("procedure 97110 or 97140, without modifier GP")
    expect(row).to_contain_text("block")
    checked(page, shot, "saved")

    row.get_by_role("link", name=re.compile("^Change")).click()
    expect(page.locator("#edit-form-h")).to_contain_text("it becomes version 2")
    expect(page.get_by_label("Modifier missing")).to_have_value("GP")
    page.get_by_label("Units over").fill("4")
    checked(page, shot, "revising")
    page.get_by_role("button", name="Save version 2").click()
    expect(row).to_contain_text("@v2")
    expect(row).to_contain_text("more than 4 units")
    page.get_by_text("Earlier versions (1)").click()

    row.get_by_role("button", name=re.compile("^Switch off")).click()
    expect(flash(page)).to_contain_text("off: claim checks skip it")
    expect(row.get_by_role("button", name=re.compile("^Switch on"))).to_be_visible()
    checked(page, shot, "switched-off")
