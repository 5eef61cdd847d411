"""The claim's service lines in a real browser (Debian's Chromium) against `denials up`: a biller
reads a line-level denial on the case page, corrects the denied lines in the corrected-claim
form (two mistakes shown at once, then fixed), and corrects the billing provider NPI of a claim
a 277CA rejected. Each page is checked with axe-core (no serious or critical violation) and
screenshot at 390 px and on a desktop (the Shots fixture fails on sideways scrolling); what
the product sent is read back from the outbox.

Cases come from real samples moved to recent dates (tests/recent_samples.py), uploaded as a
biller would. The tests share one stack and run in file order: the second works the case the
first reads.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from edi.claim837 import ClaimFile, read_837
from edi.validation import validate
from tests.recent_samples import (
    LINE_DENIAL_ICN,
    REJECTED_CLAIM_ID,
    recent_emedny_835,
    recent_rejected_277ca,
)
from tests.web.conftest import VIEWPORT, Shots
from tests.web.stack import Stack, bearer
from tests.web.test_browser import case_status, flash, row_of, sign_in, task_heading

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.shared_stack]

PHONE = {"width": 390, "height": 844}


def upload(stack: Stack, name: str, raw: bytes) -> None:
    """The file as alice's ingest would take it (the ingest page is tested elsewhere)."""
    response = httpx.post(
        f"{stack.base_url}/api/v1/ingest",
        files=[("files", (name, raw, "application/edi-x12"))],
        headers=bearer(stack.base_url, "alice"),
        timeout=60,
    )
    assert response.status_code == 200, response.text


def open_case(page: Page, number: str) -> str:
    """Find the case by a claim number in the case list (once projected) and open it."""
    for _ in range(80):
        page.goto(f"/cases?q={number}")
        if page.locator("table.grid tbody tr a[href^='/cases/case-']").count():
            break
        page.wait_for_timeout(250)
    link = page.locator("table.grid tbody tr a[href^='/cases/case-']").first
    href = str(link.get_attribute("href"))
    link.click()
    expect(page.locator(".case-head h1")).to_be_visible()
    return href.removeprefix("/cases/")


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def both_widths(page: Page, shot: Shots, step: str, scroll_to: Locator | None = None) -> None:
    """Screenshots on a phone (390 px) and a desktop, each checked with axe-core."""
    for name, size in (("phone", PHONE), ("desktop", VIEWPORT)):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        if scroll_to is not None:
            scroll_to.scroll_into_view_if_needed()
        assert serious_violations(page) == [], name
        shot(f"{step}-{name}")


def lines_table(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=lines-h] table.lines")


def line_group(page: Page, number: int) -> Locator:
    return page.get_by_role("group", name=re.compile(f"^Line {number}\\b"))


def sent_837(stack: Stack, case_id: str) -> tuple[str, ClaimFile]:
    (sent,) = (stack.data_dir / "outbox").glob(f"{case_id}-*")
    text = sent.read_text()
    assert validate(text.encode()) == []
    return text, read_837(text)


def to_corrected_claim(page: Page, shot: Shots) -> None:
    """Confirm triage on the corrected-claim path, then the root cause."""
    expect(task_heading(page)).to_have_text("Confirm triage")
    page.locator("#f-path").select_option("corrected_claim")
    page.get_by_role("button", name="Confirm triage").click()
    expect(flash(page)).to_have_text("Done: confirm triage")
    page.get_by_role("button", name="Confirm root cause").click()
    expect(flash(page)).to_have_text("Done: confirm root cause")
    expect(task_heading(page)).to_have_text("Submit the corrected claim")
    expect(case_status(page)).to_have_text("corrected claim")


def test_biller_reads_a_line_level_denial(page: Page, shot: Shots, stack: Stack) -> None:
    today = datetime.now(UTC).date()
    upload(stack, "emedny.835", recent_emedny_835(today))
    sign_in(page, "alice", shot)
    open_case(page, LINE_DENIAL_ICN)

    section = page.locator("section[aria-labelledby=lines-h]")
    expect(section.get_by_role("heading", name="Remittance detail")).to_be_visible()
    facts = section.locator("dl.remit-facts")
    for term, value in (
        ("Payer claim #", LINE_DENIAL_ICN),
        ("Claim status", "2 (processed as secondary)"),
        ("Check / EFT trace #", "10100000000"),
        ("Payment", "EFT (ACH)"),
        ("Billed", "$34.25"),
        ("Paid", "$11.50"),
    ):
        expect(facts.locator(f"dt:text-is('{term}') + dd")).to_have_text(value)

    table = lines_table(page)
    expect(table.locator("caption")).to_have_text("Service lines: line 3, 4 denied")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(table.locator("tbody tr.denied")).to_have_count(2)
    third = rows.nth(2)
    expect(third).to_have_class("denied")
    expect(third.locator("th")).to_have_text("3 denied")
    expect(third.locator("td[data-label=Procedure]")).to_contain_text("V2700 modifiers RB")
    expect(third.locator("td[data-label=Paid]")).to_have_text("$0.00")
    adjustment = third.locator("td[data-label=Adjustments]")
    expect(adjustment).to_contain_text("CO-251 $2.75")
    expect(adjustment).to_contain_text(
        "Contractual obligation: The attachment/other documentation that was received was "
        "incomplete or deficient."
    )
    expect(third.locator("td[data-label=Remarks]")).to_contain_text("N206")
    first = rows.nth(0)
    expect(first).not_to_have_class("denied")
    expect(first.locator("td[data-label=Allowed]")).to_have_text("$6.00")
    expect(first.locator("td[data-label=Adjustments]")).to_have_text("—")
    section.scroll_into_view_if_needed()
    both_widths(page, shot, "line-denial", section)

    # On a phone each line is a block: the denied line's values sit under their names.
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    paid_box = third.locator("td[data-label=Paid]").bounding_box()
    section_box = section.bounding_box()
    assert paid_box is not None and section_box is not None
    assert paid_box["x"] + paid_box["width"] <= section_box["x"] + section_box["width"]
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]


def test_biller_corrects_denied_lines_two_errors_at_once(
    page: Page, shot: Shots, stack: Stack
) -> None:
    sign_in(page, "alice", shot)
    case_id = open_case(page, LINE_DENIAL_ICN)
    to_corrected_claim(page, shot)

    # The form is the claim: each line prefilled, the denied ones marked.
    third, fourth = line_group(page, 3), line_group(page, 4)
    expect(third.locator("legend")).to_have_text("Line 3 denied: CO-251")
    expect(third.get_by_label("Procedure code")).to_have_value("V2700")
    expect(third.get_by_label("Modifiers")).to_have_value("RB")
    expect(third.get_by_label("Units")).to_have_value("0")  # as the 835 reported it
    expect(line_group(page, 1).get_by_label("Charge")).to_have_value("6.00")
    expect(page.get_by_label("Billing provider NPI")).to_have_value("9999999995")
    both_widths(page, shot, "form", page.locator("#task-h"))

    # Two mistakes: a one-letter modifier and a pointer to a third diagnosis of two.
    page.get_by_label("Diagnosis codes (ICD-10)").fill("H52.13, H52.4")
    third.get_by_label("Units").fill("1")
    third.get_by_label("Modifiers").fill("RB, L")
    fourth.get_by_label("Units").fill("1")
    fourth.get_by_label("Diagnosis pointers").fill("3")
    page.get_by_label("Corrections made").fill("Units were missing on the lenses lines.")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Record submission").click()
    assert posted.value.status == 422

    summary = page.locator(".error-summary")
    expect(summary.locator("li")).to_have_count(2)
    expect(summary).to_contain_text("2 things to fix before the claim can be sent")
    expect(summary.locator("li").nth(0)).to_have_text(
        "Line 3 modifiers: modifiers are two letters or digits, not L"
    )
    expect(summary.locator("li").nth(1)).to_have_text(
        "Line 4 diagnosis pointers: diagnosis pointer 3 points past the 2 diagnosis codes given"
    )
    modifiers, pointers = third.get_by_label("Modifiers"), fourth.get_by_label("Diagnosis pointers")
    for control, message in (
        (modifiers, "modifiers are two letters or digits, not L"),
        (pointers, "diagnosis pointer 3 points past the 2 diagnosis codes given"),
    ):
        expect(control).to_have_attribute("aria-invalid", "true")
        described = str(control.get_attribute("aria-describedby"))
        expect(page.locator(f"#{described.split()[0]}")).to_have_text(message)
    # Everything typed is kept.
    expect(modifiers).to_have_value("RB, L")
    expect(pointers).to_have_value("3")
    expect(third.get_by_label("Units")).to_have_value("1")
    expect(page.get_by_label("Diagnosis codes (ICD-10)")).to_have_value("H52.13, H52.4")
    expect(page.get_by_label("Corrections made")).to_have_value(
        "Units were missing on the lenses lines."
    )
    summary.locator("a").first.click()  # the summary's link takes the focus to the field
    expect(modifiers).to_be_focused()
    both_widths(page, shot, "two-errors", summary)

    modifiers.fill("RB, LT")
    pointers.fill("2")
    page.get_by_role("button", name="Record submission").click()
    expect(flash(page)).to_have_text("Done: submit the corrected claim")
    expect(case_status(page)).to_have_text("awaiting payer")
    shot("sent")

    _, claim = sent_837(stack, case_id)
    assert (claim.frequency_code, claim.payer_claim_control_number) == ("7", LINE_DENIAL_ICN)
    assert claim.diagnosis_codes == ["H5213", "H524"]
    assert [
        (line.procedure_code, line.modifiers, line.units, line.diagnosis_pointers)
        for line in claim.lines
    ] == [
        ("V2020", ["RB"], Decimal(1), [1, 2]),
        ("V2103", ["RB"], Decimal(1), [1, 2]),
        ("V2700", ["RB", "LT"], Decimal(1), [1, 2]),
        ("S0580", [], Decimal(1), [2]),
    ]


def test_biller_corrects_the_npi_a_277ca_rejected(page: Page, shot: Shots, stack: Stack) -> None:
    today = datetime.now(UTC).date()
    upload(stack, "rejected.277", recent_rejected_277ca(today))
    sign_in(page, "alice", shot)
    page.goto(f"/cases?q={REJECTED_CLAIM_ID}")
    for _ in range(80):
        if row_of(page, REJECTED_CLAIM_ID).count():
            break
        page.wait_for_timeout(250)
        page.reload()
    case_id = open_case(page, REJECTED_CLAIM_ID)
    section = page.locator("section[aria-labelledby=lines-h]")
    expect(
        section.get_by_role("heading", name="Claim as the payer acknowledged it")
    ).to_be_visible()
    expect(section).to_contain_text("The file that rejected the claim listed no service lines.")
    expect(page.locator("section[aria-labelledby=triage-h]")).to_contain_text("277CA STC A7:562:85")
    to_corrected_claim(page, shot)

    npi = page.get_by_label("Billing provider NPI")
    expect(npi).to_have_value("")  # the 277CA's '123456789' was not an NPI
    expect(page.get_by_text("Rejected, never adjudicated")).to_be_visible()
    row = line_group(page, 1)
    expect(row.get_by_label("Charge")).to_have_value("199.14")  # the 277CA's total charge
    expect(row.get_by_label("Revenue code")).to_have_value("")  # bill type 731: institutional
    both_widths(page, shot, "rejected-form", page.locator("#task-h"))

    # A second row, for a claim billed on two lines; left empty, it is ignored.
    row.get_by_label("Procedure code").fill("99213")
    page.get_by_role("button", name="Add a line").click()
    expect(line_group(page, 2)).to_be_visible()
    expect(row.get_by_label("Procedure code")).to_have_value("99213")

    npi.fill("1234567890")  # one digit mistyped
    page.get_by_label("Diagnosis codes (ICD-10)").fill("R69")
    page.get_by_label("Corrections made").fill("Billing provider NPI corrected.")
    page.get_by_role("button", name="Record submission").click()
    summary = page.locator(".error-summary")
    expect(summary.locator("li")).to_have_count(2)
    expect(summary.locator("li").nth(0)).to_have_text(
        "Billing provider NPI: fails the NPI check digit (a digit is mistyped)"
    )
    expect(summary.locator("li").nth(1)).to_have_text(
        "Line 1 revenue code: an institutional claim needs the line's revenue code"
    )
    expect(npi).to_have_value("1234567890")
    both_widths(page, shot, "npi-error", summary)

    npi.fill("1234567893")
    line_group(page, 1).get_by_label("Revenue code").fill("0510")
    page.get_by_role("button", name="Record submission").click()
    expect(flash(page)).to_have_text("Done: submit the corrected claim")
    expect(case_status(page)).to_have_text("awaiting payer")
    shot("sent")

    text, claim = sent_837(stack, case_id)
    assert "NM1*85*2*BILLING OFFICE*****XX*1234567893~" in text
    assert (claim.claim_id, claim.provider_npi, claim.frequency_code) == (
        REJECTED_CLAIM_ID,
        "1234567893",
        "1",
    )
    assert [
        (line.revenue_code, line.procedure_code, line.billed_amount) for line in claim.lines
    ] == [("0510", "99213", Decimal("199.14"))]
