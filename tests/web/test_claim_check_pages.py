"""The claim-check pages in-process: a biller uploads an 837, lands on its findings per claim
and line, filters them by severity, kind and payer, and exports the filtered ones as CSV; an
unreadable file comes back on the form naming segment and line; admins are refused."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from domain.claim_checks.findings import ClaimUnderCheck
from domain.rulebook import Rulebook
from testkit.claims837 import one_line_claim, write_claims_837
from tests.api.test_auth_sessions import Site, csrf_of, serve, web_login


def _claim(number: int, payer: str = "60054", **changes: object) -> ClaimUnderCheck:
    names = {"60054": "ACME", "87726": "UHC"}
    return one_line_claim(number, payer_id=payer, payer_name=names[payer], **changes)


FILE = write_claims_837(
    [
        _claim(1),
        _claim(2, frequency_code="7"),  # block: no REF*F8
        _claim(3, "87726", billing_npi="1234567890"),  # block: the NPI's check digit
        _claim(4, "87726"),
    ]
)


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        yield running


async def _upload(site: Site, content: str, submission_date: str = "2025-03-10") -> object:
    form = await site.http.get("/claim-checks")
    assert form.status_code == 200, form.text
    return await site.http.post(
        "/claim-checks",
        data={"csrf_token": csrf_of(form.text), "submission_date": submission_date},
        files={"file": ("batch.837", content.encode(), "application/edi-x12")},
    )


async def test_upload_filter_and_export(site: Site) -> None:
    assert (await web_login(site, "alice")).status_code == 303
    posted = await _upload(site, FILE)
    assert posted.status_code == 303, posted.text
    run_url = posted.headers["location"]
    page = (await site.http.get(run_url)).text
    assert 'Findings <span class="muted">(2)' in page
    assert "PCN2" in page and "PCN3" in page and "PCN1" not in page
    assert "No risk model was trained yet" in page
    only_uhc = (await site.http.get(run_url, params={"payer": "87726"})).text
    assert "PCN3" in only_uhc and "PCN2" not in only_uhc
    none = (await site.http.get(run_url, params={"severity": "warn"})).text
    assert "No finding matches these filters." in none
    assert "/claim-checks.csv" not in none and f"{run_url}.csv?severity=warn" in none
    exported = await site.http.get(f"{run_url}.csv", params={"kind": "rule", "payer": "60054"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["claim_id"], r["code"], r["line"]) for r in rows] == [
        ("PCN2", "frequency.original_reference_missing", "claim")
    ]
    listing = (await site.http.get("/claim-checks")).text
    assert run_url in listing


async def test_an_unreadable_file_comes_back_on_the_form(site: Site) -> None:
    assert (await web_login(site, "bob")).status_code == 303
    broken = FILE.replace("CLM*PCN3*100***11:B:1", "CLM*PCN3*100***11", 1)
    answered = await _upload(site, broken)
    assert answered.status_code == 422
    assert (
        "batch.837 was not checked: segment" in answered.text and "(CLM05), line" in answered.text
    )
    assert 'value="2025-03-10"' in answered.text  # what was typed is kept
    bad_date = await _upload(site, FILE, "10/03/2025")
    assert bad_date.status_code == 422 and "is not a date (YYYY-MM-DD)" in bad_date.text


async def test_admins_are_refused_and_unknown_runs_are_not_found(site: Site) -> None:
    assert (await web_login(site, "ada")).status_code == 303
    assert (await site.http.get("/claim-checks")).status_code == 403
    assert (await web_login(site, "alice")).status_code == 303
    assert (await site.http.get("/claim-checks/" + "0" * 32)).status_code == 404
    assert (await site.http.get("/claim-checks/not-a-run")).status_code == 404
