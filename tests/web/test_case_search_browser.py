"""Issue 15 (items 6 and 8) in Chromium against `denials up` with the demo data: a biller finds
cases by part of a claim number and by a patient's name in any order, saves the search and
applies it again; the supervisor console shows a biller out of office (and refuses to hand him
work) and a write-off waiting for approval, with the link to act; cancelling a case asks for
confirmation on a page of its own. axe-core finds no serious or critical violation on each new
state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from domain.models import Patient
from testkit.records import make_record
from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer
from tests.web.test_browser import flash, row_of, sign_in, wait_for_open_task

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.shared_stack]


def api_as(stack: Stack, user: str) -> httpx.Client:
    return httpx.Client(base_url=stack.base_url, headers=bearer(stack.base_url, user), timeout=30)


def checked(page: Page, shot: Shots, step: str) -> None:
    shot(step)
    assert_accessible(page, step)


def open_case(stack: Stack, number: str, patient: str = "TEST, PATIENT") -> tuple[str, str]:
    """A new denial opened through the API as alice: (case id, claim number)."""
    record = make_record(date.today(), number=number)
    claim = record.claim.model_copy(update={"patient": Patient(name=patient, member_id="W1")})
    with api_as(stack, "alice") as api:
        opened = api.post(
            "/api/v1/cases",
            json=record.model_copy(update={"claim": claim}).model_dump(mode="json"),
        )
        assert opened.status_code == 201, opened.text
        case_id = str(opened.json()["case_id"])
        wait_for_open_task(api, case_id, "confirm_triage")
    return case_id, claim.claim_id


def listed_claims(page: Page) -> list[str]:
    return [
        text.strip()
        for text in page.locator("table.grid tbody tr td:nth-child(2) a").all_inner_texts()
    ]


def search(page: Page, words: str) -> None:
    page.get_by_role("searchbox", name="Search").fill(words)
    page.get_by_role("button", name="Search", exact=True).click()


def test_search_by_claim_number_part_and_patient_name_then_save_and_apply(
    page: Page, shot: Shots, stack: Stack
) -> None:
    _, garcia = open_case(stack, "0098765", patient="GARCIA, MARIA")
    sign_in(page, "alice", shot)
    page.goto("/cases")
    search(page, "PCN-0007")  # only the demo claim: testkit.records numbers PCN0000007 too
    expect(row_of(page, "DEMO-PCN-0007")).to_be_visible()
    assert listed_claims(page) == ["DEMO-PCN-0007"]
    checked(page, shot, "claim-number-part")

    search(page, "maria garcia")
    expect(row_of(page, garcia)).to_be_visible()
    assert listed_claims(page) == [garcia]
    checked(page, shot, "patient-name")

    page.get_by_label("Save this search as").fill("Garcia account")
    page.get_by_role("button", name="Save filter").click()
    expect(flash(page)).to_contain_text("Filter saved")
    saved = page.get_by_role("navigation", name="Saved filters")
    expect(saved.get_by_role("link", name="Garcia account")).to_be_visible()
    checked(page, shot, "saved")

    page.goto("/cases")  # the filter applies from any page of the list
    assert len(listed_claims(page)) > 1
    page.get_by_role("navigation", name="Saved filters").get_by_role(
        "link", name="Garcia account"
    ).click()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("maria garcia")
    assert listed_claims(page) == [garcia]
    checked(page, shot, "applied")

    page.get_by_role("button", name="delete the saved filter Garcia account").click()
    expect(flash(page)).to_contain_text("Saved filter deleted")
    expect(page.get_by_role("navigation", name="Saved filters")).to_have_count(0)


def test_supervisor_console_shows_who_is_away_and_the_write_offs_to_approve(
    page: Page, shot: Shots, stack: Stack
) -> None:
    case_id, claim_id = open_case(stack, "0098766")
    with api_as(stack, "alice") as alice:
        for task_type, payload in (
            ("confirm_triage", {"type": "confirm_triage", "path": "write_off_review"}),
            ("confirm_root_cause", {"type": "confirm_root_cause"}),
        ):
            task_id = wait_for_open_task(alice, case_id, task_type)
            done = alice.post(f"/api/v1/tasks/{task_id}/complete", json={"payload": payload})
            assert done.status_code == 200, done.text
        wait_for_open_task(alice, case_id, "approve_write_off")
    now = datetime.now(UTC)
    with api_as(stack, "sam") as sam:
        away = sam.post(
            "/api/v1/users/bob/absences",
            json={
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(days=3)).isoformat(),
                "return_tasks": True,
            },
        )
        assert away.status_code == 201, away.text

    sign_in(page, "sam", shot)
    page.goto("/supervisor")
    workload = page.locator("section[aria-labelledby=workload-h]")
    expect(workload.get_by_role("row", name="Bob")).to_contain_text("away until")
    expect(workload.get_by_role("row", name="Alice")).not_to_contain_text("away")
    approvals = page.locator("section[aria-labelledby=writeoff-h]")
    row = approvals.get_by_role("row").filter(has_text=claim_id)
    expect(row).to_be_visible()
    checked(page, shot, "console")

    # Handing bob a task while he is away is refused; nothing moves.
    page.locator(
        "section[aria-labelledby=reassign-h] input[type=checkbox][name=task_ids]"
    ).first.check()
    page.get_by_label("Give the selected tasks to").select_option("bob")
    page.get_by_role("button", name="Reassign selected").click()
    expect(flash(page)).to_contain_text(
        "Nothing reassigned: assignee: 'bob' is out of office until"
    )
    checked(page, shot, "refused")

    row = (
        page.locator("section[aria-labelledby=writeoff-h]")
        .get_by_role("row")
        .filter(has_text=claim_id)
    )
    row.get_by_role("link", name="Approve or refuse").click()
    expect(page).to_have_url(f"{stack.base_url}/cases/{case_id}?task=" + page.url.split("task=")[1])
    expect(page.locator("form.task-form")).to_be_visible()
    checked(page, shot, "approval-task")


def test_cancelling_a_case_asks_for_confirmation(page: Page, shot: Shots, stack: Stack) -> None:
    case_id, claim_id = open_case(stack, "0098767")
    sign_in(page, "sam", shot)
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Cancel with reason").fill("opened twice by mistake")
    page.get_by_role("button", name="Cancel case…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Cancel the case of claim {claim_id}?"
    )
    expect(page.locator("q")).to_have_text("opened twice by mistake")
    checked(page, shot, "confirm")

    page.get_by_role("link", name="No, keep the case open").click()
    expect(page).to_have_url(f"{stack.base_url}/cases/{case_id}")
    with api_as(stack, "sam") as sam:
        assert sam.get(f"/api/v1/cases/{case_id}").json()["summary"]["status"] != "closed"

    page.get_by_label("Cancel with reason").fill("opened twice by mistake")
    page.get_by_role("button", name="Cancel case…").click()
    page.get_by_role("button", name="Yes, cancel the case").click()
    expect(flash(page)).to_contain_text("Case cancelled")
    with api_as(stack, "sam") as sam:
        summary = sam.get(f"/api/v1/cases/{case_id}").json()["summary"]
    assert (summary["status"], summary["outcome"]) == ("closed", "cancelled")
    checked(page, shot, "cancelled")
