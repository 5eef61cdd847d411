"""Issue 15 (item 9) in Chromium against `denials up` with the demo data: an admin adds a user
(every problem shown at once first), changes their role, resets their password, deactivates
them after the confirmation page (their sessions end) and reactivates them, and cannot
deactivate herself; she adds a payer rule version for UnitedHealthcare after its preview, whose
dates are those a supervisor's recount then gives; a version typed before her session ended is
back in the form after she signs in again. Every page and state is checked with
axe-core (no serious or critical violation) and photographed."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.stack import Stack, bearer
from tests.web.test_browser import flash, sign_in
from tests.web.test_pages_for_people import end_sessions, sign_in_again

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PASSWORD = "tulip harbour violin 1987"
NEW_PASSWORD = "orange lantern seventy 33"


def checked(page: Page, shot: Shots, step: str) -> None:
    shot(step)
    assert_accessible(page, step)


def token_for(stack: Stack, user: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/api/v1/auth/token",
        data={"username": user, "password": password},
        timeout=30,
    )


def test_admin_manages_a_user(page: Page, shot: Shots, stack: Stack) -> None:
    sign_in(page, "ada", shot)
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.locator("tr", has_text="alice")).to_contain_text("alice@example.org")
    checked(page, shot, "users")

    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("User id", exact=True).fill("Kim Lee")
    page.get_by_label("E-mail", exact=True).fill("kim at example")
    page.get_by_label("Initial password", exact=True).fill("kimlee")
    page.get_by_role("button", name="Add the user").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("4 things to fix")
    for field in ("User id", "Name", "E-mail", "Initial password"):
        expect(summary.get_by_role("link", name=re.compile(f"^{field}:"))).to_be_visible()
    expect(page.get_by_label("User id", exact=True)).to_have_value("Kim Lee")
    expect(page.get_by_label("Initial password", exact=True)).to_have_value("")
    checked(page, shot, "new-user-errors")

    page.get_by_label("User id", exact=True).fill("kim")
    page.get_by_label("Name", exact=True).fill("Kim Lee")
    page.get_by_label("Role", exact=True).select_option("biller")
    page.get_by_label("E-mail", exact=True).fill("kim@example.org")
    page.get_by_label("Initial password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Add the user").click()
    expect(flash(page)).to_contain_text("User kim added as biller")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kim Lee")
    checked(page, shot, "user-added")
    assert token_for(stack, "kim", PASSWORD).status_code == 200

    page.get_by_label("Role", exact=True).select_option("supervisor")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(flash(page)).to_have_text("Saved")
    expect(page.get_by_label("Role", exact=True)).to_have_value("supervisor")

    page.get_by_label("New password", exact=True).fill("kim")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator("#a-password-error")).to_be_visible()
    checked(page, shot, "password-refused")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    expect(flash(page)).to_contain_text("New password set")
    assert token_for(stack, "kim", PASSWORD).status_code == 401
    kim_token = token_for(stack, "kim", NEW_PASSWORD)
    assert kim_token.status_code == 200
    kim = {"Authorization": f"Bearer {kim_token.json()['access_token']}"}
    me = httpx.get(f"{stack.base_url}/api/v1/auth/me", headers=kim, timeout=30)
    assert me.json()["role"] == "supervisor"

    page.get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate Kim Lee (kim)?")
    expect(page.locator("main")).to_contain_text("They hold no open work.")
    checked(page, shot, "deactivate-confirm")
    page.get_by_role("button", name="Yes, deactivate kim").click()
    expect(flash(page)).to_contain_text("Deactivated")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    checked(page, shot, "deactivated")
    gone = httpx.get(f"{stack.base_url}/api/v1/auth/me", headers=kim, timeout=30)
    assert gone.status_code == 401  # signed out everywhere
    page.get_by_role("button", name="Reactivate").click()
    expect(flash(page)).to_contain_text("Reactivated")
    assert token_for(stack, "kim", NEW_PASSWORD).status_code == 200

    page.goto("/admin")
    expect(page.locator("tr", has_text="Kim Lee")).to_contain_text("supervisor")
    page.goto("/admin/users/ada/deactivate")
    expect(page.get_by_role("heading", name="You cannot deactivate yourself")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Yes, deactivate"))).to_have_count(0)
    checked(page, shot, "deactivate-self")


def test_admin_adds_a_rule_version_after_its_preview(page: Page, shot: Shots, stack: Stack) -> None:
    """A UnitedHealthcare version with a 20-day first appeal: the preview lists the open UHC
    cases whose appeal deadline would move (case ids, no claim numbers); saved, it is in force,
    and a supervisor's recount of one case gives the previewed date."""
    sam = bearer(stack.base_url, "sam")
    cases = httpx.get(
        f"{stack.base_url}/api/v1/cases",
        params={"open_only": "true", "limit": "100"},
        headers=sam,
        timeout=30,
    ).json()["items"]
    uhc = [c for c in cases if c["payer_id"] == "87726" and c["status"] != "received"]
    assert uhc, "the demo has open UnitedHealthcare cases"

    sign_in(page, "ada", shot)
    page.goto("/admin")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Payer rules"
    ).click()
    row = page.locator("tr", has_text="unitedhealthcare")
    expect(row).to_contain_text("65 d")
    checked(page, shot, "rules")

    row.get_by_role("link", name=re.compile("^New version")).click()
    expect(page.get_by_label("Payer id", exact=True)).to_have_value("87726")
    expect(page.get_by_label("Based on", exact=True)).to_have_value("unitedhealthcare")
    checked(page, shot, "rule-form")
    page.get_by_label("Version id", exact=True).fill("uhc-short")
    page.get_by_label("Level 1 name", exact=True).fill("Reconsideration")
    page.get_by_label("Level 1 days to file", exact=True).fill("0")
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.locator("#a-level_1_filing_days-error")).to_have_text("must be at least 1")
    checked(page, shot, "rule-refused")

    page.get_by_label("Level 1 days to file", exact=True).fill("20")
    page.get_by_role("button", name="Preview the changes").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Saving changes no open case's deadlines by itself.")
    table = preview.locator("table")
    for case in uhc:
        expect(table).to_contain_text(case["case_id"])
    expect(preview).not_to_contain_text(uhc[0]["claim_id"])
    checked(page, shot, "rule-preview")
    first = table.locator("tbody tr", has_text="Appeal level 1").first
    case_id = first.locator("code").inner_text()
    new_due = first.locator("td").nth(4).locator(".muted").inner_text()

    page.get_by_role("button", name="Save this version").click()
    expect(flash(page)).to_contain_text("Rule version uhc-short saved")
    expect(page.locator("tr", has_text="uhc-short")).to_contain_text("Reconsideration: 20 d")
    checked(page, shot, "rule-saved")

    time.sleep(2.5)  # workers look for added versions every 2 s
    url = f"{stack.base_url}/api/v1/cases/{case_id}"
    assert httpx.post(f"{url}/refresh-rules", headers=sam, timeout=30).status_code == 200
    state = httpx.get(url, headers=sam, timeout=30).json()["state"]
    [appeal] = [d for d in state["deadlines"] if d["kind"] == "appeal" and d["level"] == 1]
    assert (state["rule"]["id"], appeal["due"]) == ("uhc-short", new_due)


def test_a_rule_version_typed_before_the_session_ended_is_kept(
    page: Page, shot: Shots, stack: Stack
) -> None:
    """Ada types a Medicaid version, her session ends, she asks for the preview: after
    signing in again the form is back with what she typed, and the preview then shows."""
    sign_in(page, "ada", shot)
    page.goto("/admin/payer-rules/new?based_on=medicaid")
    page.get_by_label("Version id", exact=True).fill("medicaid-2027")
    page.get_by_label("Source", exact=True).fill("State plan amendment 27-01")
    page.get_by_label("Timely filing", exact=True).fill("180")
    page.get_by_label("Timely filing in", exact=True).select_option("days")
    end_sessions(stack, "ada")
    page.get_by_role("button", name="Preview the changes").click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("#draft-notice")).to_contain_text("What you typed is kept in this tab")

    sign_in_again(page, "ada")
    expect(page).to_have_url(re.compile(r"/admin/payer-rules/new$"))
    expect(page.locator("#draft-notice")).to_contain_text("What you typed is back in the form")
    expect(page.get_by_label("Version id", exact=True)).to_have_value("medicaid-2027")
    expect(page.get_by_label("Timely filing", exact=True)).to_have_value("180")
    expect(page.get_by_label("Based on", exact=True)).to_have_value("medicaid")
    checked(page, shot, "rule-form-kept")
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.locator("#preview")).to_contain_text("timely filing 180 days")
    checked(page, shot, "rule-preview-after-sign-in")
