"""Issue 15 (items 4, 5, 7, 13) in Chromium against `denials up` with the demo data: My tasks
shows what can be done today and the payer's answers apart; a follow-up date parks a case and
it comes back on its day; completing a task lands in the next one's form, focused; a claimed
task is released to the queue; only supervisors see the link to the Temporal Web UI. Every page
and state is checked with axe-core (no serious or critical violation).

Each test works its own demo claims (alice: 0001, 0002, 0003, 0007; bob: 0004, 0005), so the
others' work does not change what it sees.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer
from tests.web.test_browser import (
    demo_case_id,
    flash,
    row_of,
    sign_in,
    task_heading,
    wait_for_open_task,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def api_as(stack: Stack, user: str) -> httpx.Client:
    return httpx.Client(base_url=stack.base_url, headers=bearer(stack.base_url, user), timeout=30)


def case_of(api: httpx.Client, claim_id: str) -> str:
    [case] = api.get("/api/v1/cases", params={"q": claim_id}).json()["items"]
    return str(case["case_id"])


def claim(api: httpx.Client, case_id: str, task_type: str = "confirm_triage") -> str:
    task_id = wait_for_open_task(api, case_id, task_type)
    claimed = api.post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200, claimed.text
    return task_id


def complete(api: httpx.Client, case_id: str, payload: dict[str, str]) -> None:
    task_id = wait_for_open_task(api, case_id, payload["type"])
    done = api.post(f"/api/v1/tasks/{task_id}/complete", json={"payload": payload})
    assert done.status_code == 200, done.text


def checked(page: Page, shot: Shots, step: str) -> None:
    shot(step)
    assert_accessible(page, step)


def tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Which tasks").get_by_role(
        "link", name=re.compile(f"^{name}")
    ).click()


def focused_field(page: Page) -> str:
    """The id of the focused element if it is a control of the task form, else ''."""
    return str(
        page.evaluate(
            "(() => { const el = document.activeElement;"
            " return el && el.closest('form.task-form') ? el.id : ''; })()"
        )
    )


def test_my_tasks_show_the_triage_and_the_payers_answer_apart(
    page: Page, shot: Shots, stack: Stack
) -> None:
    """Alice sends DEMO-PCN-0002's corrected claim (its record-payer-response task outranks
    any triage) and claims the medical-necessity triage of DEMO-PCN-0001: My tasks shows the
    triage, and the payer's answer only under Waiting on payer, with the day it is expected."""
    today = datetime.now(UTC).date()
    with api_as(stack, "alice") as api:
        waiting = case_of(api, "DEMO-PCN-0002")
        claim(api, waiting)
        complete(api, waiting, {"type": "confirm_triage", "path": "corrected_claim"})
        complete(api, waiting, {"type": "confirm_root_cause"})
        complete(
            api,
            waiting,
            {
                "type": "prepare_corrected_claim",
                "corrections": "added the authorization number",
                "submitted_on": today.isoformat(),
            },
        )
        wait_for_open_task(api, waiting, "record_payer_response")
        claim(api, case_of(api, "DEMO-PCN-0001"))

    sign_in(page, "alice", shot)
    expect(page).to_have_url(re.compile("/tasks$"))
    rows = page.locator("table.grid tbody tr")
    expect(rows.first.get_by_role("link")).to_have_text("DEMO-PCN-0001")
    expect(rows.first).to_contain_text("confirm triage")
    expect(row_of(page, "DEMO-PCN-0002")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^Waiting on payer"))).to_have_text(
        "Waiting on payer (1)"
    )
    checked(page, shot, "actionable")

    tab(page, "Waiting on payer")
    answer = row_of(page, "DEMO-PCN-0002")
    expect(answer).to_contain_text("record payer response")
    expect(page.locator("thead")).to_contain_text("Answer expected")
    expect(answer.locator("td").nth(6)).to_contain_text(re.compile(r"\d+ d left"))
    expect(row_of(page, "DEMO-PCN-0001")).to_have_count(0)
    checked(page, shot, "waiting")


def test_a_parked_case_leaves_my_tasks_and_comes_back_on_its_date(
    page: Page, shot: Shots, stack: Stack
) -> None:
    """Alice parks DEMO-PCN-0003 until tomorrow with a reason: the case page says so, My tasks
    no longer lists it and the Parked tab does, with its date. When the date comes (the row's
    date moved to today, as the clock would) it is back, marked follow-up due."""
    with api_as(stack, "alice") as api:
        case_id = case_of(api, "DEMO-PCN-0003")
        claim(api, case_id)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()

    sign_in(page, "alice", shot)
    expect(row_of(page, "DEMO-PCN-0003")).to_have_count(1)
    page.goto(f"/cases/{case_id}")
    follow_up = page.locator("section[aria-labelledby=follow-up-h]")
    checked(page, shot, "case")
    follow_up.get_by_label("Follow up on").fill(tomorrow)
    follow_up.get_by_label("Reason").fill("Payer rep asked to call back after their review")
    follow_up.get_by_role("button", name="Park until then").click()
    expect(flash(page)).to_have_text(
        f"Parked until {tomorrow}: the case comes back to the worklists that day"
    )
    expect(follow_up).to_contain_text(f"Parked until {tomorrow}")
    expect(page.locator(".case-head .tag.parked")).to_have_text(f"parked until {tomorrow}")
    expect(follow_up).to_contain_text("Why: Payer rep asked to call back after their review")
    checked(page, shot, "case-parked")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    expect(row_of(page, "DEMO-PCN-0003")).to_have_count(0)
    checked(page, shot, "left")
    tab(page, "Parked")
    parked = row_of(page, "DEMO-PCN-0003")
    expect(parked.locator(".tag.parked")).to_have_text(f"parked until {tomorrow}")
    checked(page, shot, "parked-tab")

    with sqlite3.connect(stack.data_dir / "denials.db") as db:
        db.execute(
            "UPDATE case_follow_ups SET follow_up_on = ? WHERE case_id = ?",
            (datetime.now(UTC).date().isoformat(), case_id),
        )
    page.goto("/tasks")
    back = row_of(page, "DEMO-PCN-0003")
    expect(back.locator(".tag.follow-up")).to_have_text("follow-up due")
    checked(page, shot, "back")
    back.get_by_role("link", name="DEMO-PCN-0003").click()
    expect(page.locator("section[aria-labelledby=follow-up-h]")).to_contain_text(
        "has come: the case is back"
    )
    checked(page, shot, "case-back")


def test_completing_a_task_lands_in_the_next_ones_form(
    page: Page, shot: Shots, stack: Stack
) -> None:
    """Bob chooses to go on to the next task after completing one; he confirms DEMO-PCN-0004's
    triage and lands in the form of his next task (the top of My tasks), its first field
    focused, so the keyboard carries on. "Work the next task" does the same from My tasks."""
    with api_as(stack, "bob") as api:
        first = case_of(api, "DEMO-PCN-0004")
        claim(api, first)
        claim(api, case_of(api, "DEMO-PCN-0005"))

    sign_in(page, "bob", shot)
    option = page.get_by_label("After completing a task, open the next one")
    expect(option).not_to_be_checked()
    option.check()
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_have_text("After completing a task you go to the next one")
    expect(option).to_be_checked()
    checked(page, shot, "option")

    page.goto(f"/cases/{first}")
    expect(task_heading(page)).to_have_text("Confirm triage")
    page.get_by_role("button", name="Confirm triage").click()
    expect(flash(page)).to_have_text("Done: confirm triage. Next task")
    expect(page).to_have_url(re.compile(r"/cases/case-[0-9a-f]+\?task=[^&]+&focus=form$"))
    landed = re.search(r"task=([^&]+)", page.url)
    assert landed is not None
    with api_as(stack, "bob") as api:
        top = api.get("/api/v1/tasks/next").json()["task"]
    assert top["task_id"] == landed.group(1)  # the top of his actionable tasks
    expect(page.locator("form.task-form")).to_be_visible()
    first_field = page.locator(
        "form.task-form .field select, form.task-form .field input, form.task-form .field textarea"
    ).first
    assert focused_field(page) == first_field.get_attribute("id") != ""
    checked(page, shot, "next-task-focused")
    page.keyboard.press("Tab")
    assert focused_field(page) != ""  # Tab moves on within the form

    page.goto("/tasks")
    page.get_by_role("link", name="Work the next task →").click()
    expect(page).to_have_url(re.compile(r"focus=form$"))
    assert focused_field(page) != ""
    checked(page, shot, "work-next")


def test_a_claimed_task_is_released_to_the_queue(page: Page, shot: Shots, stack: Stack) -> None:
    """Alice gives DEMO-PCN-0007's triage back: it leaves My tasks and waits in the team
    queue, unassigned, with its Claim button."""
    with api_as(stack, "alice") as api:
        case_id = case_of(api, "DEMO-PCN-0007")
        claim(api, case_id)

    sign_in(page, "alice", shot)
    row_of(page, "DEMO-PCN-0007").get_by_role("link", name="DEMO-PCN-0007").click()
    release = page.get_by_role("button", name="Release to the biller queue")
    expect(release).to_be_visible()
    checked(page, shot, "claimed")
    release.click()
    expect(page).to_have_url(re.compile("/tasks$"))
    expect(flash(page)).to_have_text("Task released: it is back in the team queue")
    expect(row_of(page, "DEMO-PCN-0007")).to_have_count(0)
    checked(page, shot, "released")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team queue").click()
    queued = row_of(page, "DEMO-PCN-0007")
    expect(queued.locator("td").nth(6)).to_have_text("biller queue")
    expect(queued.get_by_role("button", name="Claim")).to_be_visible()
    checked(page, shot, "queue")


def test_only_supervisors_see_the_temporal_link(page: Page, shot: Shots, stack: Stack) -> None:
    """The Temporal Web UI has no sign-in: a biller's case page does not link to it, a
    supervisor's does (the role matrix's OPEN_TEMPORAL_UI)."""
    sign_in(page, "alice", shot)
    case_id = demo_case_id(page, "DEMO-PCN-0008")
    page.goto(f"/cases/{case_id}")
    expect(page.get_by_role("heading", name=re.compile("^Claim DEMO-PCN-0008"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Workflow in Temporal"))).to_have_count(0)
    checked(page, shot, "biller")

    page.context.clear_cookies()
    sign_in(page, "sam", shot)
    page.goto(f"/cases/{case_id}")
    link = page.get_by_role("link", name="Workflow in Temporal ↗")
    expect(link).to_have_attribute(
        "href",
        f"http://127.0.0.1:{stack.temporal_ui_port}/namespaces/default/workflows/{case_id}",
    )
    checked(page, shot, "supervisor")
