"""POST /api/v1/claim-checks: an 837 checked before it is sent, per claim and line, stored as
a run read back by GET; billers and supervisors only; an unreadable file refused naming where."""

from __future__ import annotations

from domain.claim_checks.findings import ClaimUnderCheck
from testkit.claims837 import one_line_claim, write_claims_837
from tests.api.conftest import Api, as_user


def _claim(number: int, **changes: object) -> ClaimUnderCheck:
    return one_line_claim(number, **changes)


async def test_a_file_is_checked_and_read_back(api: Api) -> None:
    text = write_claims_837([_claim(1), _claim(2, frequency_code="8")])
    response = await api.http.post(
        "/api/v1/claim-checks",
        files={"file": ("batch.837", text.encode(), "application/edi-x12")},
        data={"submission_date": "2025-03-10"},
        headers=as_user("alice"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["claims"], body["blocked"], body["model_version"]) == (2, 1, None)
    assert body["submission_date"] == "2025-03-10"
    clean, void = body["results"]
    assert (clean["claim_id"], clean["blocked"], clean["findings"]) == ("PCN1", False, [])
    assert void["blocked"] and void["findings"][0]["code"] == "frequency.original_reference_missing"
    again = await api.http.get(f"/api/v1/claim-checks/{body['run_id']}", headers=as_user("sam"))
    assert again.status_code == 200 and again.json() == body


async def test_admins_may_not_check_claims_and_bad_files_are_named(api: Api) -> None:
    text = write_claims_837([_claim(1)])
    files = {"file": ("batch.837", text.encode(), "application/edi-x12")}
    refused = await api.http.post("/api/v1/claim-checks", files=files, headers=as_user("ada"))
    assert refused.status_code == 403 and "check_claims" in refused.text
    broken = text.replace("SV1*HC:99213", "SV1*HC").encode()
    bad = await api.http.post(
        "/api/v1/claim-checks",
        files={"file": ("broken.837", broken, "application/edi-x12")},
        headers=as_user("alice"),
    )
    assert bad.status_code == 422, bad.text
    assert "broken.837: segment" in bad.text and "(SV101), line" in bad.text
    missing = await api.http.get("/api/v1/claim-checks/nosuchrun", headers=as_user("alice"))
    assert missing.status_code == 404
