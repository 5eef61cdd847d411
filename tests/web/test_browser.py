"""The web UI in a real browser (Debian's Chromium through Playwright) against `denials up` with
the demo data: sign-in, worklists, working a case to the payer, inline form errors, the
supervisor console, ingest, the admin's limits, and keyboard / label accessibility.

The tests share one stack and run in file order: the supervisor test reassigns demo tasks
before the billers work the queue, and every test picks its cases so the others don't matter.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from domain.case import CasePolicy
from domain.models import PayerType
from testkit.records import adj, make_record
from testkit.x12 import Claim835
from tests.ingest_helpers import GARBAGE, denied_claim, paid_claim, remittance_file
from tests.web.appeal_task import finish_and_submit_appeal
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

URGENCY_CLASSES = {"overdue", "escalated", "reminder", "later"}


# --- helpers ----------------------------------------------------------------------------------


def sign_in(page: Page, user: str, shot: Shots) -> None:
    page.goto("/login")
    shot("login")
    page.get_by_label("User id").fill(user)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".signout")).to_contain_text(user.capitalize())


def task_field(scope: Page | Locator, label: str) -> Locator:
    """A task form control by its label's text: exactly `label`, plus " *" when required (the
    star is aria-hidden, so the accessible name stays `label`)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def flash(page: Page) -> Locator:
    return page.locator("p.flash[role=status]")


def case_status(page: Page) -> Locator:
    """The status shown in the case header, e.g. "awaiting payer"."""
    return page.locator(".case-head p > strong").first


def task_heading(page: Page) -> Locator:
    return page.locator("#task-h")


def expected_urgency(due: date) -> str:
    """As the case escalates (the stack's default policy, UTC): a deadline day ends at the
    next midnight, so with N days left it has not yet reached the N-day escalation."""
    days = (due - datetime.now(UTC).date()).days
    policy = CasePolicy()
    if days < 0:
        return "overdue"
    if days < policy.escalate_days:
        return "escalated"
    if days < policy.reminder_days:
        return "reminder"
    return "later"


def assert_countdowns_coloured(page: Page) -> int:
    """Every deadline countdown on the page carries the urgency class of its date and says
    how many days are left; returns how many there are."""
    countdowns = page.locator("span.due")
    count = countdowns.count()
    for index in range(count):
        element = countdowns.nth(index)
        due = date.fromisoformat(str(element.get_attribute("title")))
        classes = set(str(element.get_attribute("class")).split())
        assert classes & URGENCY_CLASSES == {expected_urgency(due)}, (due, classes)
        days = (due - datetime.now(UTC).date()).days
        text = element.inner_text()
        if days < 0:
            assert text == f"overdue {-days} d"
        elif days == 0:
            assert text == "due today"
        else:
            assert text == f"{days} d left"
    return count


def priorities(rows: Locator) -> list[float]:
    return [float(text) for text in rows.locator("td:first-child").all_inner_texts()]


RISK_TAGS = {"urgent": 3, "escalated": 2, "reminded": 1}


def risk_then_priority(rows: Locator) -> list[tuple[int, float]]:
    """Each row's deadline risk (its escalation tag) and priority: worklists sort by both."""
    risks = [
        max((RISK_TAGS.get(tag, 0) for tag in row.locator(".tag").all_inner_texts()), default=0)
        for row in rows.all()
    ]
    return list(zip(risks, priorities(rows), strict=True))


def row_of(page: Page, claim_id: str) -> Locator:
    return page.locator("table.grid tbody tr").filter(
        has=page.get_by_role("link", name=claim_id, exact=True)
    )


def has_appeal_rights(page: Page) -> bool:
    """A denial whose deadlines include a level-1 appeal (rejections have none)."""
    kind = page.locator(".case-head .tag").first.inner_text()
    deadlines = page.locator("section[aria-labelledby=deadlines-h] tbody td:first-child")
    labels = [text.lower() for text in deadlines.all_inner_texts()]
    return kind == "denial" and any("appeal" in text for text in labels)


def work_to_submission(page: Page, shot: Shots, path: str | None) -> str:
    """Confirm triage (choosing `path`, or keeping the suggestion) then the root cause, from
    the case page; returns the path the case took ("appeal" or "corrected claim")."""
    expect(task_heading(page)).to_have_text("Confirm triage")
    expect(case_status(page)).to_have_text("triaged")
    if path is not None:
        task_field(page, "Path").select_option(path)
    task_field(page, "Notes").fill("checked the remittance")
    page.get_by_role("button", name="Confirm triage").click()
    expect(flash(page)).to_have_text("Done: confirm triage")
    expect(case_status(page)).to_have_text("root cause")
    expect(task_heading(page)).to_have_text("Confirm root cause")
    shot("root-cause")
    page.get_by_role("button", name="Confirm root cause").click()
    expect(flash(page)).to_have_text("Done: confirm root cause")
    taken = case_status(page).inner_text()
    assert taken in ("appeal", "corrected claim"), taken
    expected_heading = (
        "Submit the appeal (level 1)" if taken == "appeal" else "Submit the corrected claim"
    )
    expect(task_heading(page)).to_have_text(expected_heading)
    return taken


# --- 1. anonymous visitors --------------------------------------------------------------------


def demo_case_id(page: Page, claim_id: str) -> str:
    """The case id of a demo claim, read from the case list (signed in)."""
    page.goto(f"/cases?q={claim_id}")
    link = page.get_by_role("link", name=claim_id, exact=True)
    href = str(link.get_attribute("href"))
    assert href.startswith("/cases/case-"), href
    return href.removeprefix("/cases/")


def test_anonymous_visitors_are_sent_to_login(page: Page, shot: Shots) -> None:
    """Every worklist, the console and a case page answer an anonymous visitor with the login
    page, remembering where they were going."""
    sign_in(page, "sam", shot)
    case_id = demo_case_id(page, "DEMO-PCN-0002")
    page.context.clear_cookies()

    for path in ("/tasks", "/queue", "/cases", "/supervisor", f"/cases/{case_id}"):
        response = page.goto(path)
        assert response is not None and response.status == 200
        assert page.url.split("?")[0].endswith("/login"), (path, page.url)
        assert re.search(r"[?&]next=([^&]+)", page.url) is not None, page.url
        expect(page.locator("input[name=next]")).to_have_value(path)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator(".signout")).to_have_count(0)
        shot(path.strip("/").split("/")[0] + ("-case" if path.count("/") > 1 else ""))

    # Signing in from there lands on the page asked for.
    page.get_by_label("User id").fill("alice")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(f"/cases/{case_id}$"))
    expect(page.get_by_role("heading", name=re.compile("^Claim DEMO-PCN-0002"))).to_be_visible()
    shot("after-login")


# --- 6. admin ---------------------------------------------------------------------------------


def test_admin_lands_on_admin_and_cannot_read_cases(page: Page, shot: Shots) -> None:
    """An admin's home is /admin (users; payer rules on /admin/payer-rules); case pages
    answer 403."""
    sign_in(page, "ada", shot)
    expect(page).to_have_url(re.compile("/admin$"))
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    users = page.locator("section[aria-labelledby=users-h] tbody tr td:first-child")
    assert sorted(users.all_inner_texts()) == ["ada", "alice", "bob", "drew", "sam"]
    roles = dict(
        zip(
            users.all_inner_texts(),
            page.locator(
                "section[aria-labelledby=users-h] tbody tr td:nth-child(3)"
            ).all_inner_texts(),
            strict=True,
        )
    )
    assert roles == {
        "ada": "admin",
        "alice": "biller",
        "bob": "biller",
        "drew": "physician",
        "sam": "supervisor",
    }
    nav = page.get_by_role("navigation", name="Main").get_by_role("link")
    assert nav.all_inner_texts() == ["Admin", "API"]
    shot("admin")
    page.goto("/admin/payer-rules")
    expect(page.locator("section[aria-labelledby=rules-h] tbody")).to_contain_text(
        "commercial-erisa"
    )

    response = page.goto("/cases")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Your role (admin) cannot open this page")
    shot("cases-403")


# --- 7. keyboard and labels -------------------------------------------------------------------


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def focused_text(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.innerText"))


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => {
    const named = (el.labels && [...el.labels].some(l => l.innerText.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').trim()
      || (el.tagName === 'BUTTON' && el.innerText.trim());
    return !named;
  })
  .map(el => el.outerHTML.slice(0, 120))"""


def test_keyboard_sign_in_and_labelled_task_form(page: Page, shot: Shots) -> None:
    """Tab goes user id -> password -> Sign in on the login page (and signing in works by
    keyboard alone); every control of the case page has an accessible label."""
    page.goto("/login")
    page.locator("body").focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        if focused_id(page) == "username":
            break
    assert focused_id(page) == "username", "Tab never reached the user id field"
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    assert focused_id(page) == "password"
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    assert focused_text(page) == "Sign in"
    shot("login-focus-on-button")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/tasks$"))
    shot("tasks")

    page.goto("/cases/" + demo_case_id(page, "DEMO-PCN-0007"))
    expect(task_heading(page)).to_have_text("Confirm triage")
    form = page.locator("form.task-form")
    for label, control_id in [
        ("Category", "f-category"),
        ("Class", "f-denial_class"),
        ("Path", "f-path"),
        ("Notes", "f-notes"),
    ]:
        control = task_field(form, label)
        expect(control).to_have_count(1)
        expect(control).to_have_id(control_id)
    expect(page.get_by_label("Note", exact=True)).to_have_id("note-text")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    shot("case")


# --- 4. supervisor ----------------------------------------------------------------------------


def workload_of(page: Page, user_id: str) -> int:
    """Open tasks of `user_id` in the console's workload table (its row links to their tasks)."""
    row = page.locator("section[aria-labelledby=workload-h] tbody tr").filter(
        has=page.locator(f"a[href^='/supervisor?assignee={user_id}#']")
    )
    return int(row.locator("td").nth(2).inner_text())


BULK_CLAIMS = ["DEMO-PCN-0009", "DEMO-PCN-0005", "DEMO-PCN-0004"]


def test_supervisor_reassigns_and_marks_out_of_office(page: Page, shot: Shots) -> None:
    """Sam moves the escalated rejection's task to Bob from its case page, gives Bob three
    more from the console at once, then marks Bob out of office for a day."""
    sign_in(page, "sam", shot)
    expect(page).to_have_url(re.compile("/supervisor$"))
    escalated = page.locator("section[aria-labelledby=escalated-h]")
    expect(escalated.get_by_role("link", name="DEMO-PCN-0006", exact=True)).to_be_visible()
    expect(
        escalated.locator("tbody tr").filter(has_text="DEMO-PCN-0006").locator(".tag.escalated")
    ).to_have_text("escalated")
    assert_countdowns_coloured(page)
    bob_before = workload_of(page, "bob")
    alice_before = workload_of(page, "alice")
    shot("console")

    escalated.get_by_role("link", name="DEMO-PCN-0006", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Claim DEMO-PCN-0006"))).to_be_visible()
    page.get_by_label("Reassign the task to").select_option("bob")
    reassign_form = page.locator("form[action*='/reassign/']")
    reassign_form.get_by_label("Reason", exact=True).fill("Bob knows Cigna")
    page.get_by_role("button", name="Reassign", exact=True).click()
    expect(flash(page)).to_have_text("Task reassigned to bob")
    expect(page.locator("section[aria-labelledby=task-h] p.muted").first).to_contain_text(
        "Assigned to bob"
    )
    shot("case-reassigned")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Supervisor").click()
    assert workload_of(page, "bob") == bob_before + 1
    for claim_id in BULK_CLAIMS:
        page.get_by_label(f"select {claim_id} confirm triage", exact=True).check()
    page.get_by_label("Give the selected tasks to").select_option("bob")
    page.locator("#bulk-reason").fill("balancing the load")
    page.get_by_role("button", name="Reassign selected").click()
    expect(flash(page)).to_have_text("3 tasks reassigned to bob")
    assert workload_of(page, "bob") == bob_before + 4
    reassign = page.locator("section[aria-labelledby=reassign-h]")
    for claim_id in [*BULK_CLAIMS, "DEMO-PCN-0006"]:
        expect(
            reassign.locator("tbody tr").filter(has_text=claim_id).locator("td").nth(3)
        ).to_have_text("bob")
    shot("bulk-reassigned")

    page.locator("a[href^='/supervisor?assignee=bob#']").click()
    claims = reassign.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(claims) == sorted([*BULK_CLAIMS, "DEMO-PCN-0006"])
    shot("bobs-tasks")

    until = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    page.get_by_label("Biller", exact=True).select_option("bob")
    page.get_by_label("Until (UTC)").fill(until.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_label("give the tasks still open back on return")).to_be_checked()
    page.get_by_role("button", name="Mark out of office").click()
    expect(flash(page)).to_have_text(f"bob is out of office until {until:%Y-%m-%d %H:%M} UTC")
    absence = page.locator("section[aria-labelledby=away-h] li").filter(has_text="bob ·")
    expect(absence).to_have_count(1)
    expect(absence).to_contain_text(f"→ {until:%Y-%m-%d %H:%M} UTC")
    shot("out-of-office")
    # The absence starts at once (from = now): its workflow moves Bob's four open tasks to the
    # other biller, and the console shows it as active.
    for _ in range(40):
        if "· 4 moved" in absence.inner_text():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(absence).to_contain_text("· 4 moved")
    assert workload_of(page, "bob") == 0
    assert workload_of(page, "alice") == alice_before + 4
    shot("out-of-office-moved")
    expect(absence).to_contain_text("bob · active · ")
    shot("out-of-office-active")


# --- 5. ingest --------------------------------------------------------------------------------


def test_ingest_page_reports_cases_and_errors(page: Page, shot: Shots, tmp_path: Path) -> None:
    """Uploading a recent 835 with one denial and a garbage file: one case started, the
    garbage file's error shown, both files listed as received."""
    today = datetime.now(UTC).date()
    service = today - timedelta(days=20)
    claims: list[Claim835] = [
        denied_claim("WEB-PCN-0001", "16", 450, service),
        paid_claim("WEB-PCN-0002", 200, service),
    ]
    remit = tmp_path / "web-remit.835"
    remit.write_bytes(remittance_file(today, *claims, control=4242))
    garbage = tmp_path / "scanned-eob.txt"
    garbage.write_bytes(GARBAGE)

    sign_in(page, "sam", shot)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ingest").click()
    expect(page.get_by_role("heading", name="Ingest X12 files")).to_be_visible()
    shot("ingest")
    page.get_by_label("Files (835, 277CA, 999)").set_input_files([remit, garbage])
    page.get_by_role("button", name="Ingest", exact=True).click()

    result = page.locator("section[aria-labelledby=result-h]")
    expect(result).to_be_visible()
    totals = dict(
        zip(
            result.locator("dl.summary dt").all_inner_texts(),
            result.locator("dl.summary dd").all_inner_texts(),
            strict=True,
        )
    )
    assert {k: totals[k] for k in ("files", "claims", "denials", "cases started")} == {
        "files": "2",
        "claims": "2",
        "denials": "1",
        "cases started": "1",
    }
    assert int(totals["errors"]) >= 1
    ok = result.locator("article.report").filter(has_text="web-remit.835")
    expect(ok.locator(".tag").nth(1)).to_have_text("ingested")
    expect(ok.locator("p.muted").filter(has_text="claims")).to_contain_text("1 cases started")
    # The implementation-guide check runs beside the ingest and says where it is.
    expect(ok.locator("p.muted[role=status]")).to_contain_text("Implementation-guide check")
    failed = result.locator("article.report.failed").filter(has_text="scanned-eob.txt")
    expect(failed.locator(".tag").first).to_have_text("unreadable")
    expect(failed.locator("ul.problems.errors li").first).to_contain_text("not an X12 file")
    recent = page.locator("section[aria-labelledby=recent-h] tbody tr")
    by_name = {
        row.locator("td").nth(0).inner_text(): (
            row.locator("td").nth(1).inner_text(),
            row.locator("td").nth(2).inner_text(),
            row.locator("td").nth(3).inner_text(),
            row.locator("td").nth(5).inner_text(),
        )
        for row in recent.all()
    }
    assert by_name["web-remit.835"] == ("835", "ingested", "sam", "1")
    assert by_name["scanned-eob.txt"] == ("—", "failed", "sam", "0")
    shot("ingest-result")

    # The new case is a real case: it shows up in the case search, triaged.
    page.goto("/cases?q=WEB-PCN-0001")
    for _ in range(40):
        if (
            row_of(page, "WEB-PCN-0001").count()
            and "triaged" in row_of(page, "WEB-PCN-0001").inner_text()
        ):
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(row_of(page, "WEB-PCN-0001")).to_contain_text("triaged")
    shot("new-case-listed")


# --- 2. a biller works the top task to the payer ----------------------------------------------


def test_biller_works_top_task_to_awaiting_payer(page: Page, shot: Shots) -> None:
    """Alice claims the highest-priority task of the team queue, finds it in My tasks, and
    works the case through triage and root cause to a submission: awaiting the payer."""
    sign_in(page, "alice", shot)
    expect(page).to_have_url(re.compile("/tasks$"))
    mine_before = int(re.findall(r"\d+", page.locator("h1").inner_text())[0])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team queue").click()
    rows = page.locator("table.grid tbody tr")
    shown = risk_then_priority(rows)  # deadline risk first, then priority
    assert len(shown) >= 3 and shown == sorted(shown, reverse=True), shown
    top = rows.first
    claim_id = top.locator("td").nth(1).inner_text()
    assert top.locator("td").nth(5).inner_text().startswith("confirm triage")
    assert_countdowns_coloured(page)
    shot("queue")

    top.get_by_role("button", name="Claim").click()
    expect(flash(page)).to_have_text("Task claimed: it is in My tasks")
    expect(row_of(page, claim_id)).to_have_count(0)  # no longer unassigned
    shot("claimed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    expect(page.locator("h1")).to_have_text(f"My tasks ({mine_before + 1})")
    mine = row_of(page, claim_id)
    expect(mine).to_have_count(1)
    expect(mine.locator("td").nth(5)).to_contain_text("confirm triage")
    shot("my-tasks")

    mine.get_by_role("link", name=claim_id).click()
    expect(page.get_by_role("heading", name=re.compile(f"^Claim {claim_id}"))).to_be_visible()
    expect(page.locator("section[aria-labelledby=task-h] p.muted").first).to_contain_text(
        "Assigned to alice"
    )
    head_due = page.locator(".case-head span.due")
    expect(head_due).to_have_count(1)
    assert assert_countdowns_coloured(page) >= 2  # header, task panel, deadlines table
    shot("case")

    taken = work_to_submission(page, shot, "appeal" if has_appeal_rights(page) else None)
    shot("submission-form")
    if taken == "appeal":  # worked in the appeal task (tests/web/test_appeal_task_browser.py)
        page.get_by_role("link", name="Open the appeal task").click()
        expect(task_field(page, "Submitted on")).to_have_value(datetime.now(UTC).date().isoformat())
        finish_and_submit_appeal(page, "Authorization was on file: ref A-1.", "WEB-SUB-1")
        submitted = "Appeal submitted: the level 1 packet was sent"
    else:
        task_field(page, "Corrections made").fill("Fixed the billing provider NPI.")
        expect(task_field(page, "Submitted on")).to_have_value(datetime.now(UTC).date().isoformat())
        task_field(page, "Submission reference").fill("WEB-SUB-1")
        page.get_by_role("button", name="Record submission").click()
        submitted = "Done: submit the corrected claim"
    expect(flash(page)).to_have_text(submitted)
    expect(case_status(page)).to_have_text("awaiting payer")
    expect(task_heading(page)).to_have_text("Record the payer's response")
    done = page.locator("section[aria-labelledby=tasks-h] tbody tr").filter(has_text="completed by")
    assert done.locator("td:nth-child(2)").all_inner_texts() == ["completed by alice"] * 3
    shot("awaiting-payer")
    # The response task is due on the expected decision date the case races (not the day after).
    decision = page.locator("section[aria-labelledby=deadlines-h] tbody tr").filter(
        has_text="Expected payer decision"
    )
    decision_due = str(decision.locator("span.due").get_attribute("title"))
    expect(page.locator(".case-head span.due")).to_have_attribute("title", decision_due)
    task_due = page.locator("section[aria-labelledby=task-h] p.muted span.due")
    expect(task_due).to_have_attribute("title", decision_due, timeout=1000)


# --- 3. inline form errors --------------------------------------------------------------------


def test_required_field_error_shows_inline_and_keeps_values(page: Page, shot: Shots) -> None:
    """A submission form posted without its required text comes back 422 with the error next
    to the field (aria-invalid, described by the message) and everything typed kept."""
    sign_in(page, "alice", shot)
    page.goto("/cases/" + demo_case_id(page, "DEMO-PCN-0003"))
    taken = work_to_submission(page, shot, "corrected_claim")
    assert taken == "corrected claim"
    shot("form")

    corrections = task_field(page, "Corrections made")
    corrections.fill("something")
    corrections.fill("")  # cleared
    task_field(page, "Submission reference").fill("REF-422")
    task_field(page, "Notes").fill("payer portal was slow")
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    task_field(page, "Submitted on").fill(yesterday)
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/tasks/" in r.url
    ) as posted:
        page.get_by_role("button", name="Record submission").click()
    assert posted.value.status == 422
    page.wait_for_load_state()
    expect(case_status(page)).to_have_text("corrected claim")

    field = page.locator(".field").filter(has=page.locator("#f-corrections"))
    expect(field).to_have_class(re.compile(r"\binvalid\b"))
    expect(corrections).to_have_attribute("aria-invalid", "true")
    expect(corrections).to_have_attribute("aria-describedby", "f-corrections-error")
    error = field.locator("#f-corrections-error")
    expect(error).to_have_text("Corrections made is required")
    field_box, error_box = corrections.bounding_box(), error.bounding_box()
    assert field_box is not None and error_box is not None
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40, (field_box, error_box)
    assert page.locator(".field-error").count() == 1
    for name in ("submitted_on", "reference", "notes"):
        expect(page.locator(f"#f-{name}")).not_to_have_attribute("aria-invalid", "true")
    expect(task_field(page, "Submission reference")).to_have_value("REF-422")
    expect(task_field(page, "Notes")).to_have_value("payer portal was slow")
    expect(task_field(page, "Submitted on")).to_have_value(yesterday)
    expect(corrections).to_have_value("")
    shot("inline-error")

    corrections.fill("Added the missing referring provider.")
    page.get_by_role("button", name="Record submission").click()
    expect(flash(page)).to_have_text("Done: submit the corrected claim")
    expect(case_status(page)).to_have_text("awaiting payer")
    shot("submitted")


# --- the link to the workflow -----------------------------------------------------------------


def test_case_page_links_to_the_running_temporal_ui(page: Page, shot: Shots, stack: Stack) -> None:
    """ "Workflow in Temporal" opens the case's workflow in the Web UI of the dev server that
    `denials up` started (DENIALS_TEMPORAL_UI_PORT), not in a fixed port's; supervisors get
    the link (tests/web/test_biller_queue.py: billers do not)."""
    sign_in(page, "sam", shot)
    case_id = demo_case_id(page, "DEMO-PCN-0001")
    page.goto(f"/cases/{case_id}")
    link = page.get_by_role("link", name="Workflow in Temporal ↗")
    expect(link).to_have_attribute("target", "_blank")
    shot("case")
    expected = f"http://127.0.0.1:{stack.temporal_ui_port}/namespaces/default/workflows/{case_id}"
    assert link.get_attribute("href") == expected
    assert httpx.get(expected, timeout=10).status_code == 200


# --- 5. appeal letter, attestation, dashboard and prevention ---------------------------------


def appeal_case(stack: Stack) -> str:
    """A new Medicare medical-necessity denial (CO-50) worked through the API to its appeal:
    triage and root cause confirmed by alice."""
    alice = bearer(stack.base_url, "alice")
    today = datetime.now(UTC).date()
    record = make_record(
        today, billed=1800, payer_type=PayerType.MEDICARE, adjustments=[adj("CO-50", 1800)]
    )
    with httpx.Client(base_url=stack.base_url, headers=alice, timeout=30) as api:
        opened = api.post("/api/v1/cases", json=record.model_dump(mode="json"))
        assert opened.status_code == 201, opened.text
        case_id = str(opened.json()["case_id"])
        for task_type in ("confirm_triage", "confirm_root_cause"):
            task_id = wait_for_open_task(api, case_id, task_type)
            done = api.post(
                f"/api/v1/tasks/{task_id}/complete", json={"payload": {"type": task_type}}
            )
            assert done.status_code == 200, done.text
    return case_id


def wait_for_open_task(api: httpx.Client, case_id: str, task_type: str) -> str:
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while datetime.now(UTC) < deadline:
        response = api.get(f"/api/v1/cases/{case_id}")
        if response.status_code == 200:
            for task in response.json()["tasks"]:
                if task["type"] == task_type and task["status"] == "open":
                    return str(task["task_id"])
        time.sleep(0.1)
    raise AssertionError(f"no open {task_type} task on {case_id}")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("User id")).to_be_visible()


def test_appeal_letter_attestation_dashboard_and_prevention(
    page: Page, shot: Shots, stack: Stack
) -> None:
    """alice edits the generated appeal letter (a new version) and the packet downloads as a
    PDF; the physician drew finds the case among those awaiting an attestation and attests,
    which the letter page then shows; sam reads the dashboard and the prevention board."""
    case_id = appeal_case(stack)
    sign_in(page, "alice", shot)
    page.goto(f"/cases/{case_id}")
    page.get_by_role("link", name="Appeal letter").click()
    expect(page.locator("h1")).to_contain_text("Appeal, level 1")
    expect(page.locator("#attest-h")).to_have_text("Physician attestation")
    expect(page.get_by_label("Letter, up to the argument")).to_contain_text("CO-50")
    letter = page.get_by_label("Argument: why the claim should be paid")
    shot("appeal-letter")
    letter.fill(letter.input_value() + "\nThe enclosed notes document the failed therapy.")
    page.get_by_role("button", name="Save the letter").click()
    expect(letter).to_contain_text("the failed therapy")
    versions = page.locator("section[aria-labelledby=versions-h] tbody tr")
    expect(versions.first).to_contain_text("alice")
    shot("letter-saved")
    pdf = page.request.get(f"/api/v1/cases/{case_id}/appeal-letter/pdf")
    assert (pdf.status, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.body().startswith(b"%PDF")
    sign_out(page)

    sign_in(page, "drew", shot)
    page.goto("/attestations")
    page.locator(f"a[href='/cases/{case_id}/appeal-letter']").first.click()
    expect(page.get_by_label("Physician name")).not_to_have_value("")
    shot("attestation-form")
    page.get_by_role("button", name="Attest").click()
    expect(page.locator("section[aria-labelledby=attest-h]")).to_contain_text("Attested by")
    shot("attested")
    sign_out(page)

    sign_in(page, "sam", shot)
    page.goto("/dashboard")
    expect(page.locator("h1")).to_have_text("Denials dashboard")
    assert page.locator("svg").count() >= 3
    shot("dashboard")
    page.goto("/prevention")
    expect(page.locator("h1")).to_contain_text("Prevention")
    shot("prevention")
