"""Corrected claims over the API, checked by what reaches the outbox: the 837 file the
clearinghouse adapter wrote must carry the corrected values (what leaves the building is the
test, not the receipt). Cases opened by ingesting real samples moved to recent dates."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from edi.claim837 import read_837
from edi.validation import validate
from tests.api.conftest import Api, Json, as_user, problem
from tests.recent_samples import (
    LINE_DENIAL_ICN,
    REJECTED_CLAIM_ID,
    recent_emedny_835,
    recent_rejected_277ca,
)

ALICE = as_user("alice")


async def _ingested_case(api: Api, name: str, raw: bytes, number: str) -> tuple[str, Json]:
    """Ingest `raw`; the case of claim number `number` once triaged."""
    sent = await api.http.post(
        "/api/v1/ingest", files=[("files", (name, raw, "application/edi-x12"))], headers=ALICE
    )
    assert sent.status_code == 200, sent.text
    for _ in range(300):  # the read model shows the case once the workflow projected it
        listed = (await api.http.get(f"/api/v1/cases?q={number}", headers=ALICE)).json()
        if listed["items"]:
            break
        await asyncio.sleep(0.05)
    (case,) = listed["items"]
    return case["case_id"], await api.wait_status(case["case_id"], "triaged")


async def _submit(api: Api, task_id: str, corrections: dict[str, Any], today: str) -> Any:
    payload = {
        "type": "prepare_corrected_claim",
        "corrections": "billing provider NPI corrected",
        "submitted_on": today,
        "claim_corrections": corrections,
    }
    return await api.http.post(
        f"/api/v1/tasks/{task_id}/complete", json={"payload": payload}, headers=ALICE
    )


def _outbox(api: Api, case_id: str) -> str:
    (sent,) = (api.harness.data_dir / "outbox").glob(f"{case_id}-*")
    return Path(sent).read_text()


async def test_a_277ca_npi_rejection_is_resent_with_the_corrected_npi(api: Api) -> None:
    today = await api.harness.today()
    case_id, detail = await _ingested_case(
        api, "rejected.277", recent_rejected_277ca(today), REJECTED_CLAIM_ID
    )
    assert detail["state"]["record"]["claim"]["service_lines"] == []
    task_id = await api.to_corrected_claim_task(case_id, detail)

    # Nothing to correct with: both reasons at once (no NPI on the claim, no lines).
    refused = await _submit(api, task_id, {"diagnosis_codes": ["R69"]}, today.isoformat())
    assert problem(refused) == (
        "claim_corrections: the claim's billing provider NPI is missing: give the right one; "
        "the file that reported the claim listed no service lines: give the claim's lines as "
        "they were billed"
    )
    # A mistyped NPI is refused before anything is sent.
    mistyped = {"diagnosis_codes": ["R69"], "billing_provider_npi": "1234567890"}
    refused = await _submit(api, task_id, mistyped, today.isoformat())
    assert problem(refused) == (
        "payload.prepare_corrected_claim.claim_corrections.billing_provider_npi: Value error, "
        "the billing provider NPI fails the NPI check digit (a digit is mistyped)"
    )
    assert not (api.harness.data_dir / "outbox").exists()

    corrected = {
        "diagnosis_codes": ["R69"],
        "billing_provider_npi": "1234567893",
        "lines": [
            {
                "line_number": 1,
                "procedure_code": "99213",
                "billed_amount": "199.14",
                "revenue_code": "0510",  # bill type 731: an institutional claim
            }
        ],
    }
    sent = await _submit(api, task_id, corrected, today.isoformat())
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "awaiting_payer"

    text = _outbox(api, case_id)
    assert validate(text.encode()) == []
    claim = read_837(text)
    assert (claim.claim_id, claim.provider_npi, claim.frequency_code) == (
        REJECTED_CLAIM_ID,
        "1234567893",
        "1",  # never adjudicated: sent again as an original
    )
    assert "NM1*85*2*BILLING OFFICE*****XX*1234567893~" in text
    assert [
        (line.revenue_code, line.procedure_code, line.billed_amount) for line in claim.lines
    ] == [("0510", "99213", Decimal("199.14"))]


async def test_a_line_level_denial_is_replaced_with_the_corrected_lines(api: Api) -> None:
    today = await api.harness.today()
    case_id, detail = await _ingested_case(
        api, "emedny.835", recent_emedny_835(today), LINE_DENIAL_ICN
    )
    lines = detail["state"]["record"]["claim"]["service_lines"]
    assert [(line["procedure_code"], line["paid_amount"]) for line in lines] == [
        ("V2020", "6"),
        ("V2103", "5.5"),
        ("V2700", "0"),
        ("S0580", "0"),
    ]
    task_id = await api.to_corrected_claim_task(case_id, detail)
    corrected = {
        "diagnosis_codes": ["H52.13", "H52.4"],
        "lines": [
            {"line_number": 3, "units": "1", "modifiers": ["RB", "LT"]},
            {"line_number": 4, "units": "2", "diagnosis_pointers": [2]},
        ],
    }
    sent = await _submit(api, task_id, corrected, today.isoformat())
    assert sent.status_code == 200, sent.text

    text = _outbox(api, case_id)
    assert validate(text.encode()) == []
    claim = read_837(text)
    assert (claim.frequency_code, claim.payer_claim_control_number) == ("7", LINE_DENIAL_ICN)
    assert claim.provider_npi == "9999999995"  # the payee's, unchanged
    assert claim.diagnosis_codes == ["H5213", "H524"]
    assert [
        (line.procedure_code, line.modifiers, line.units, line.diagnosis_pointers)
        for line in claim.lines
    ] == [
        ("V2020", ["RB"], Decimal(1), [1, 2]),
        ("V2103", ["RB"], Decimal(1), [1, 2]),
        ("V2700", ["RB", "LT"], Decimal(1), [1, 2]),
        ("S0580", [], Decimal(2), [2]),
    ]
    assert claim.billed_amount == Decimal("34.25")
