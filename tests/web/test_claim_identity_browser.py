"""A 999 rejecting an 837 of a claim the product has no record of, in a real browser: the
rejection case opens with the 999's sender as payer and no date of service, the case page asks
the biller to identify the claim, and once alice sets the payer and the date of service the
page shows them and counts timely filing from that date; the panel is gone and a second
submission is refused. A malformed or future date is refused with a flash saying why."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.ingest_helpers import CLEARINGHOUSE, rejecting_999
from tests.web.conftest import Shots
from tests.web.test_browser import UNLABELLED_CONTROLS, flash, row_of, sign_in

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.shared_stack]


def identity_panel(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=identity-h]")


def claim_card(page: Page, term: str) -> Locator:
    """The value of `term` in the Claim card (e.g. "Payer", "Service")."""
    card = page.locator("section[aria-labelledby=claim-h] dl")
    return card.locator(f"dt:text-is('{term}') + dd")


def payer_detail(page: Page) -> Locator:
    """What the 999 reported, in the Triage card (a list, one line per detail)."""
    card = page.locator("section[aria-labelledby=triage-h] dl")
    return card.locator("dt:text-is('Payer detail') + dd")


def assert_labels_above_their_controls(scope: Locator) -> None:
    """Each control of the form sits right under its label, left-aligned with it, as in the
    task form (not label and control in separate columns of the grid)."""
    controls = scope.locator("input:not([type=hidden]), select")
    assert controls.count() == 6
    for index in range(controls.count()):
        control = controls.nth(index)
        control_id = str(control.get_attribute("id"))
        label, box = scope.locator(f"label[for='{control_id}']"), control.bounding_box()
        label_box = label.bounding_box()
        assert box is not None and label_box is not None, control_id
        assert abs(label_box["x"] - box["x"]) < 4, (control_id, label_box, box)
        assert 0 <= box["y"] - (label_box["y"] + label_box["height"]) < 12, (control_id,)


def timely_filing_row(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=deadlines-h] tbody tr").filter(
        has_text="Timely filing"
    )


def open_rejection_case(page: Page, claim_id: str) -> str:
    """The rejection case of `claim_id`, found by searching the case list once the read model
    has it; opens its page and returns its case id."""
    page.goto(f"/cases?q={claim_id}")
    for _ in range(60):
        if row_of(page, claim_id).count():
            break
        page.wait_for_timeout(250)
        page.reload()
    row = row_of(page, claim_id)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("rejection")
    link = row.get_by_role("link", name=claim_id, exact=True)
    href = str(link.get_attribute("href"))
    assert href.startswith("/cases/case-"), href
    link.click()
    expect(page.get_by_role("heading", name=re.compile(f"^Claim {claim_id}"))).to_be_visible()
    return href.removeprefix("/cases/")


def fill_identity(page: Page, served: str) -> None:
    panel = identity_panel(page)
    panel.get_by_label("Payer id").fill("60054")
    panel.get_by_label("Payer name").fill("AETNA")
    panel.get_by_label("Payer type").select_option("commercial")
    panel.get_by_label("First date of service").fill(served)


def test_biller_identifies_the_claim_a_999_rejected(
    page: Page, shot: Shots, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    served = today - timedelta(days=30)
    claim_id = f"WEB999-{uuid.uuid4().hex[:8].upper()}"
    ack = tmp_path / "rejected.999"
    ack.write_bytes(rejecting_999(today, claim_id))

    # alice uploads the 999 on the ingest page: one rejection, one case, and a warning saying
    # the payer and date of service are to be set on the case.
    sign_in(page, "alice", shot)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ingest").click()
    expect(page.get_by_role("heading", name="Ingest X12 files")).to_be_visible()
    page.get_by_label("Files (835, 277CA, 999)").set_input_files(ack)
    page.get_by_role("button", name="Ingest", exact=True).click()
    result = page.locator("section[aria-labelledby=result-h]")
    expect(result).to_be_visible()
    report = result.locator("article.report").filter(has_text="rejected.999")
    expect(report).to_contain_text("1 cases started")
    report.locator("details summary").first.click()
    expect(report.locator("ul.problems")).to_contain_text("set them on the case")
    shot("ingested")

    # The case: the sender stands in for the payer, no payer name, the panel asks for them.
    case_id = open_rejection_case(page, claim_id)
    expect(page.locator(".case-head .tag").first).to_have_text("rejection")
    expect(claim_card(page, "Payer")).to_contain_text(CLEARINGHOUSE)
    expect(claim_card(page, "Payer")).not_to_contain_text("AETNA")
    expect(claim_card(page, "Billed")).to_contain_text("unknown")  # a 999 carries no charge
    panel = identity_panel(page)
    expect(panel.get_by_role("heading", name="Identify the claim")).to_be_visible()
    expect(panel.locator("form")).to_have_attribute("action", f"/cases/{case_id}/claim-identity")
    service = claim_card(page, "Service")  # unknown: the 999's date stands in, and says so
    expect(service).to_contain_text("unknown")
    expect(service).to_contain_text(today.isoformat())
    expect(claim_card(page, "Payer")).to_contain_text("not named by the file")
    expect(payer_detail(page)).to_contain_text("service date unknown")
    basis_before = timely_filing_row(page).locator("td").nth(2)
    expect(basis_before).to_contain_text(
        f"service date unknown: 90 days from the acknowledgment date {today.isoformat()}"
    )
    expect(timely_filing_row(page).locator("td").nth(3)).to_have_text("other")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert_labels_above_their_controls(identity_panel(page))
    panel.scroll_into_view_if_needed()
    shot("identify-panel")

    # A date the browser would not let through (an old browser's text box): refused, with why.
    fill_identity(page, served.isoformat())
    page.locator("#id-from").evaluate("el => { el.type = 'text'; }")
    page.locator("#id-from").fill("2025-02-30")
    panel.get_by_role("button", name="Set payer and dates").click()
    expect(flash(page)).to_contain_text("Claim identity: give the payer id, name and type")
    expect(flash(page)).to_contain_text("YYYY-MM-DD")
    expect(identity_panel(page)).to_be_visible()
    shot("malformed-date")

    # A date of service in the future: refused by the case, the reason in the flash.
    tomorrow = (today + timedelta(days=1)).isoformat()
    page.locator("#id-from").evaluate("el => el.removeAttribute('max')")  # an old browser
    fill_identity(page, tomorrow)
    identity_panel(page).get_by_role("button", name="Set payer and dates").click()
    expect(flash(page)).to_contain_text("Claim identity not set")
    expect(flash(page)).to_contain_text(f"{tomorrow} is in the future")
    expect(identity_panel(page)).to_be_visible()
    expect(claim_card(page, "Payer")).not_to_contain_text("AETNA")
    shot("future-date")

    # The real identity: AETNA (60054, commercial), served 30 days ago, $250 billed.
    fill_identity(page, served.isoformat())
    identity_panel(page).get_by_label("Billed amount").fill("250.00")
    shot("identity-filled")
    identity_panel(page).get_by_role("button", name="Set payer and dates").click()
    expect(flash(page)).to_have_text("Payer and date of service set")
    correct = identity_panel(page).get_by_role("heading", name="Correct the claim's payer or dates")
    expect(correct).to_be_visible()
    expect(identity_panel(page).locator("details")).not_to_have_attribute("open", "")
    expect(page.locator(".case-head h1")).to_contain_text("AETNA")
    expect(claim_card(page, "Payer")).to_contain_text("AETNA")
    expect(claim_card(page, "Payer")).to_contain_text("60054")
    expect(claim_card(page, "Payer")).to_contain_text("commercial")
    expect(claim_card(page, "Service")).to_have_text(served.isoformat())
    expect(payer_detail(page)).not_to_contain_text("service date unknown")
    expect(claim_card(page, "Billed")).to_have_text("$250.00")
    expect(claim_card(page, "Denied")).to_have_text("$250.00")

    timely = timely_filing_row(page)
    expect(timely).to_have_count(1)
    basis = timely.locator("td").nth(2)
    expect(basis).not_to_contain_text("service date unknown")
    expect(basis).to_contain_text(f"from the service from date {served.isoformat()}")
    expect(timely.locator("td").nth(3)).to_have_text(re.compile(r"^commercial"))
    period = re.search(r"^(\d+) days from", basis.inner_text())
    assert period is not None, basis.inner_text()
    due = date.fromisoformat(str(timely.locator("span.due").get_attribute("title")))
    earliest = served + timedelta(days=int(period.group(1)))
    assert earliest <= due <= earliest + timedelta(days=3), (served, basis.inner_text(), due)
    timeline = page.locator("section[aria-labelledby=timeline-h] li").filter(
        has_text="Claim sent to AETNA (60054)"
    )
    expect(timeline).to_have_count(1)
    expect(timeline).to_contain_text(f"served {served.isoformat()}")
    expect(timeline).to_contain_text("alice")
    shot("identified")

    # What alice set can be corrected (a typo in the payer's name): the form comes prefilled.
    identity_panel(page).locator("summary").click()
    assert page.evaluate(UNLABELLED_CONTROLS) == []  # the correction form, open
    expect(identity_panel(page).get_by_label("Payer id")).to_have_value("60054")
    identity_panel(page).get_by_label("Payer name").fill("AETNA BETTER HEALTH")
    identity_panel(page).get_by_role("button", name="Correct payer and dates").click()
    expect(flash(page)).to_have_text("Payer and date of service set")
    expect(claim_card(page, "Payer")).to_contain_text("AETNA BETTER HEALTH")
    expect(claim_card(page, "Service")).to_have_text(served.isoformat())
    shot("corrected")
