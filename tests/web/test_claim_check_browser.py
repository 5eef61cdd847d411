"""Issue 18 in Chromium against `denials up`: a biller checks an 837 before sending it, reads
the findings per claim and line, narrows them with the filters (htmx swaps the results and
the address keeps them), and sees an unreadable file named on the form; each state is checked
with axe-core and photographed."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from domain.claim_checks.findings import ClaimUnderCheck, LineUnderCheck
from testkit.claims837 import write_claims_837
from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.shared_stack]
SERVED = date(2025, 3, 3)


def checked(page: Page, shot: Shots, step: str) -> None:
    shot(step)
    assert_accessible(page, step)


def _claim(number: int, payer: str, **changes: object) -> ClaimUnderCheck:
    lines = tuple(
        LineUnderCheck(
            line_number=n,
            procedure_code=code,
            charge=Decimal(100),
            service_date=SERVED,
            place_of_service="11",
            diagnosis_codes=("M54.5",),
        )
        for n, code in enumerate(("99213", "97110"), start=1)
    )
    claim = ClaimUnderCheck(
        claim_id=f"PCN-B{number}",
        payer_id=payer,
        payer_name={"60054": "ACME HEALTH", "87726": "UNITEDHEALTHCARE"}[payer],
        filing_indicator="CI",
        billing_npi="1234567893",
        place_of_service="11",
        diagnosis_codes=("M54.5",),
        total_charge=Decimal(200),
        service_date_from=SERVED,
        service_date_to=SERVED,
        lines=lines,
    )
    return claim.model_copy(update=changes)


def test_biller_checks_a_file_and_filters_its_findings(
    page: Page, shot: Shots, tmp_path: Path
) -> None:
    claims = [
        _claim(1, "60054"),
        _claim(2, "60054", frequency_code="7"),  # no REF*F8
        _claim(3, "87726", billing_npi="1234567890"),  # check digit
        _claim(4, "87726", total_charge=Decimal(250)),  # lines sum to 200
    ]
    good = tmp_path / "batch.837"
    good.write_text(write_claims_837(claims))
    broken = tmp_path / "broken.837"
    broken.write_text(good.read_text().replace("SV1*HC:97110", "SV1*HC", 1))

    sign_in(page, "alice", shot)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Claim checks").click()
    expect(page.get_by_role("heading", name="Check claims before sending")).to_be_visible()
    checked(page, shot, "form")

    page.get_by_label("837 file").set_input_files(str(broken))
    page.get_by_label(re.compile("^Submission date")).fill("2025-03-10")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("alert")).to_contain_text("broken.837 was not checked: segment")
    expect(page.get_by_role("alert")).to_contain_text("(SV101), line")
    expect(page.get_by_label(re.compile("^Submission date"))).to_have_value("2025-03-10")
    checked(page, shot, "unreadable")

    page.get_by_label("837 file").set_input_files(str(good))
    page.get_by_role("button", name="Check").click()
    expect(page).to_have_url(re.compile(r"/claim-checks/[0-9a-f]{32}$"))
    results = page.locator("#results")
    expect(results.get_by_role("heading")).to_contain_text("Findings (3)")
    for text in ("PCN-B2", "PCN-B3", "PCN-B4", "REF*F8", "not a valid NPI", "not the sum"):
        expect(results).to_contain_text(text)
    expect(results).not_to_contain_text("PCN-B1")
    checked(page, shot, "findings")

    page.get_by_label("Payer").select_option("87726")
    expect(results.get_by_role("heading")).to_contain_text("Findings (2)")
    expect(page).to_have_url(re.compile(r"payer=87726"))
    expect(page.locator("#results")).not_to_contain_text("PCN-B2")
    link = page.get_by_role("link", name="Export these findings as CSV")
    expect(link).to_have_attribute("href", re.compile(r"\.csv\?payer=87726$"))
    page.get_by_label("Severity").select_option("warn")
    expect(page.locator("#results")).to_contain_text("No finding matches these filters.")
    checked(page, shot, "filtered")

    with page.expect_download() as download:
        page.get_by_label("Severity").select_option("")
        expect(page.locator("#results").get_by_role("heading")).to_contain_text("Findings (2)")
        page.get_by_role("link", name="Export these findings as CSV").click()
    exported = Path(download.value.path()).read_text()
    assert exported.splitlines()[0].startswith("claim_number,claim_id,payer_id")
    assert "PCN-B3" in exported and "PCN-B4" in exported and "PCN-B2" not in exported
