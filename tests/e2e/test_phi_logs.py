"""A PHI-laden session on `denials up` (text and JSON logs) leaves no patient name, member id,
birth date or claim number in anything the product logs: its own output and the Temporal dev
server's log. The session searches by name and claim number, opens a case, writes notes naming
the patient, ingests an 835 with those claims, fails sign-ins with a patient's name as the user
id, sends invalid bodies quoting them, and asks for pages and files that do not exist."""

from __future__ import annotations

import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from testkit.processes import DENIALS
from testkit.records import make_record
from testkit.x12 import Claim835, Line835
from tests.e2e.test_processes import sign_in, wait_for_demo_cases, wait_ready
from tests.ingest_helpers import remittance_file

NAME_LAST, NAME_FIRST = "QUILLFEATHER", "ZEBEDEE"
NAME = f"{NAME_FIRST} {NAME_LAST}"
MEMBER_ID = "MQZ99887766"
BIRTH = date(1941, 7, 23)
CASE_CLAIM = "CLMQZ4455667"
FILE_CLAIM = "CLMQZ7788990"
PHI = [
    NAME_LAST,
    NAME_FIRST,
    MEMBER_ID,
    CASE_CLAIM,
    FILE_CLAIM,
    BIRTH.isoformat(),
    BIRTH.strftime("%Y%m%d"),
]


def _phi_session(base_url: str) -> None:
    today = date.today()
    alice = sign_in(base_url, "alice")
    with httpx.Client(base_url=base_url, headers=alice, timeout=60) as http:
        record = make_record(today, number="0000001").model_dump(mode="json")
        record["claim"]["claim_id"] = CASE_CLAIM
        patient = {"name": NAME, "member_id": MEMBER_ID, "birth_date": str(BIRTH)}
        record["claim"]["patient"] = patient
        opened = http.post("/api/v1/cases", json=record)
        assert opened.status_code in (200, 201), opened.text
        case_id = opened.json()["case_id"]
        for term in (NAME, NAME_LAST, MEMBER_ID, CASE_CLAIM, CASE_CLAIM[-4:]):
            assert http.get("/api/v1/cases", params={"q": term}).status_code == 200
            assert http.get("/cases", params={"q": term}).status_code in (200, 303)
        note = http.post(f"/api/v1/cases/{case_id}/notes", json={"text": f"called {NAME}"})
        assert note.status_code == 200, note.text
        invalid = http.post(f"/api/v1/cases/{case_id}/notes", json={"text": NAME, "x": [MEMBER_ID]})
        assert invalid.status_code in (200, 422)
        bad = http.post("/api/v1/cases", json={"claim": {"claim_id": CASE_CLAIM, "name": NAME}})
        assert bad.status_code == 422
        assert http.get(f"/api/v1/cases/{CASE_CLAIM}").status_code == 404
        assert http.get(f"/cases/{NAME_LAST}").status_code in (303, 404)

        served = today - timedelta(days=20)
        line = Line835(billed=120, paid=0, cas=[("CO", "50", 120)], service_date=served)
        claims = [
            Claim835(
                claim_id,
                status="4",
                lines=[line],
                patient_last=NAME_LAST,
                patient_first=NAME_FIRST,
                member_id=MEMBER_ID,
            )
            for claim_id in (FILE_CLAIM, CASE_CLAIM)
        ]
        upload = http.post(
            "/api/v1/ingest",
            files={"files": (f"{NAME_LAST}.835", remittance_file(today, *claims), "text/plain")},
        )
        assert upload.status_code == 200, upload.text
    for guess in range(3):
        refused = httpx.post(
            f"{base_url}/api/v1/auth/token",
            data={"username": NAME, "password": f"{MEMBER_ID}-{guess}"},
            timeout=30,
        )
        assert refused.status_code in (401, 429)


@pytest.mark.parametrize("json_logs", [False, True], ids=["text-logs", "json-logs"])
def test_a_phi_laden_session_leaves_no_phi_in_the_logs(
    stack_env: tuple[dict[str, str], str, Path], json_logs: bool
) -> None:
    env, base_url, tmp_path = stack_env
    env = {**env, "DENIALS_JSON_LOGS": "true" if json_logs else "false"}
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([DENIALS, "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(base_url, process, log)
        assert wait_for_demo_cases(base_url) >= 1
        _phi_session(base_url)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    logs = [log, Path(env["DENIALS_DATA_DIR"]) / "temporal.log"]
    text = "\n".join(path.read_text(errors="replace") for path in logs if path.exists())
    assert "GET /api/v1/cases" in text  # the access log is there, by route template
    found = {item: line for item in PHI for line in text.splitlines() if item in line}
    assert found == {}, f"PHI in the logs: {found}"
