"""Issue 18 in Chromium against `denials up`: with a prevention edit on the board, alice checks
her corrected claim from the task (the edit's finding and fix shown in the form), sends it
anyway and is refused with the reason, what she typed kept; fixed as the edit says, it goes.
Each state is checked with axe-core and photographed."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.recent_samples import LINE_DENIAL_ICN, recent_emedny_835
from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer
from tests.web.test_browser import sign_in
from tests.web.test_prevention_edits_browser import prevention_item

# A stack of its own: the block edit written here would stop other modules' corrected claims,
# and the emedny case is worked by tests/web/test_claim_lines_browser.py in the shared one.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def checked(page: Page, shot: Shots, step: str) -> None:
    shot(step)
    assert_accessible(page, step)


def corrected_claim_case(stack: Stack) -> str:
    """NY Medicaid's line denial, ingested by alice and confirmed down the corrected-claim
    path, with a block edit on the board (sam's) for V2700 without modifier LT."""
    alice, sam = bearer(stack.base_url, "alice"), bearer(stack.base_url, "sam")
    today = datetime.now(UTC).date()
    with httpx.Client(base_url=stack.base_url, timeout=60) as api:
        sent = api.post(
            "/api/v1/ingest",
            files=[("files", (f"{uuid.uuid4().hex}.835", recent_emedny_835(today), "text/plain"))],
            headers=alice,
        )
        assert sent.status_code == 200, sent.text
        deadline = time.monotonic() + 60
        case_id, tasks = "", {}
        for path, payload in (
            ("confirm_triage", {"type": "confirm_triage", "path": "corrected_claim"}),
            ("confirm_root_cause", {"type": "confirm_root_cause"}),
            ("prepare_corrected_claim", None),
        ):
            while path not in tasks:
                assert time.monotonic() < deadline, f"no {path} task"
                time.sleep(0.2)
                found = api.get("/api/v1/cases", params={"q": LINE_DENIAL_ICN}, headers=alice)
                open_cases = [c for c in found.json()["items"] if c["status"] != "closed"]
                if not open_cases:
                    continue
                case_id = open_cases[0]["case_id"]
                detail = api.get(f"/api/v1/cases/{case_id}", headers=alice).json()
                tasks = {t["type"]: t["task_id"] for t in detail["tasks"] if t["status"] == "open"}
            if payload is not None:
                done = api.post(
                    f"/api/v1/tasks/{tasks[path]}/complete",
                    json={"payload": payload},
                    headers=alice,
                )
                assert done.status_code == 200, done.text
                tasks = {}
        edit = api.post(
            f"/api/v1/prevention/{prevention_item(stack)}/edits",
            json={
                "severity": "block",
                "fix": "Add modifier LT or RT to lens lines",
                "condition": {"procedure_codes": ["V2700"], "modifier_missing": "LT"},
            },
            headers=sam,
        )
        assert edit.status_code == 201, edit.text
    return case_id


def test_a_corrected_claim_is_checked_and_blocked_before_it_is_sent(
    page: Page, shot: Shots, stack: Stack
) -> None:
    case_id = corrected_claim_case(stack)
    sign_in(page, "alice", shot)
    page.goto(f"/cases/{case_id}")
    expect(page.get_by_role("heading", name="Check before sending")).to_be_visible()
    page.locator("#cc-diagnosis_codes").fill("H52.13, H52.4")
    page.locator("#cc-line-3-units").fill("1")
    page.locator("#cc-line-4-units").fill("2")
    page.locator("#cc-line-4-diagnosis_pointers").fill("2")
    checked(page, shot, "task")

    page.get_by_role("button", name="Check the claim").click()  # the rest may wait
    findings = page.locator("section.cc-check")
    expect(findings).to_contain_text("blocked: it cannot be sent")
    expect(findings).to_contain_text("Add modifier LT or RT to lens lines")
    expect(findings.locator("tbody tr").first).to_contain_text("line 3")
    checked(page, shot, "checked")

    page.get_by_label("Corrections made").fill("Units and modifiers of the lens lines")
    page.get_by_role("button", name="Record submission").click()
    expect(page.locator("p.error[role=alert]")).to_contain_text(
        "the check before sending blocks this corrected claim: line 3:"
    )
    expect(page.locator("#cc-line-4-units")).to_have_value("2")  # what was typed stays
    checked(page, shot, "refused")

    page.locator("#cc-line-3-modifiers").fill("RB, LT")
    page.get_by_role("button", name="Check the claim").click()
    expect(findings).not_to_contain_text("blocked")
    page.get_by_role("button", name="Record submission").click()
    expect(page.locator("p.flash[role=status]")).to_be_visible()
    checked(page, shot, "sent")
