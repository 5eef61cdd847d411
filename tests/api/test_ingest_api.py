"""POST /api/v1/ingest and the ingest history: several files per request, one summary with a
report per file, failed files kept byte for byte, re-sent files recognised as duplicates."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlmodel import Session, col, select

from api.routes import ingest as ingest_route
from db.models import AuditEventRow
from domain.case import CaseStatus
from domain.rulebook import Rulebook
from services import ingest_validation as validation
from tests.api.conftest import Api, Json, as_user
from tests.harness import CaseHarness
from tests.ingest_helpers import GARBAGE, case_ids_of, two_denials_835, with_findings

ALICE, BOB = as_user("alice"), as_user("bob")
INGEST = "/api/v1/ingest"


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


async def post_files(api: Api, files: list[tuple[str, bytes]], user: str = "alice") -> Json:
    response = await api.http.post(
        INGEST,
        files=[("files", (name, raw, "application/octet-stream")) for name, raw in files],
        headers=as_user(user),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_two_files_ingested_then_the_same_835_is_a_duplicate(
    api: Api, harness: CaseHarness, rulebook: Rulebook
) -> None:
    """One request, two files: the 835 opens its two denials, the garbage file fails with its
    error in the summary; posting the 835 again starts nothing and counts both as skipped."""
    remit = two_denials_835(await harness.today())
    summary = await post_files(api, [("remit.835", remit), ("letter.txt", GARBAGE)])

    totals = {
        key: summary[key]
        for key in ("files", "claims", "denials", "rejections", "reversals", "cases_started")
    }
    assert totals == {
        "files": 2,
        "claims": 3,
        "denials": 2,
        "rejections": 0,
        "reversals": 0,
        "cases_started": 2,
    }
    assert (summary["duplicates_skipped"], summary["payer_responses_matched"]) == (0, 0)
    assert summary["errors"] >= 1
    first, second = summary["reports"]
    assert (first["file"], first["sha256"], first["kind"], first["status"]) == (
        "remit.835",
        sha(remit),
        "835",
        "ingested",
    )
    assert (first["claims"], first["denials"], first["cases_started"], first["errors"]) == (
        3,
        2,
        2,
        [],
    )
    assert (second["file"], second["sha256"], second["kind"], second["status"]) == (
        "letter.txt",
        sha(GARBAGE),
        None,
        "failed",
    )
    assert second["cases_started"] == 0 and second["claims"] == 0
    assert summary["errors"] == len(second["errors"])
    assert "not an X12 file" in second["errors"][0]["message"]
    for case_id in case_ids_of(remit, rulebook):
        await api.wait_status(case_id, CaseStatus.TRIAGED.value)

    again = await post_files(api, [("remit-again.835", remit)], user="bob")
    (report,) = again["reports"]
    assert (report["file"], report["status"], report["cases_started"]) == (
        "remit-again.835",
        "duplicate",
        0,
    )
    assert (report["duplicates_skipped"], report["denials"]) == (2, 2)
    assert (again["files"], again["cases_started"], again["duplicates_skipped"]) == (1, 0, 2)
    assert again["errors"] == 0

    # The history: both files once, newest first, each as first received.
    listed = await api.http.get(INGEST, headers=BOB)
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert [(r["sha256"], r["filename"], r["status"], r["kind"]) for r in rows] == [
        (sha(GARBAGE), "letter.txt", "failed", None),
        (sha(remit), "remit.835", "ingested", "835"),
    ]
    assert [(r["size"], r["received_by"]) for r in rows] == [
        (len(GARBAGE), "alice"),
        (len(remit), "alice"),
    ]
    assert rows[0]["received_at"] >= rows[1]["received_at"]
    assert all(r["finished_at"] is not None for r in rows)

    stored = await api.http.get(f"{INGEST}/{sha(remit)}", headers=ALICE)
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert (body["status"], body["filename"], body["kind"]) == ("ingested", "remit.835", "835")
    # The report as first produced, not the duplicate's; where the implementation-guide check
    # stands is its own field, read from the row.
    assert first["validation"] == "pending" and second["validation"] == "not run"
    assert body["report"] == {k: v for k, v in first.items() if k != "validation"}
    assert body["validation"]["status"] in ("pending", "running", "done")

    failed = await api.http.get(f"{INGEST}/{sha(GARBAGE)}", headers=ALICE)
    assert failed.status_code == 200, failed.text
    assert failed.json()["status"] == "failed"
    assert failed.json()["report"] == {k: v for k, v in second.items() if k != "validation"}
    assert failed.json()["validation"] is None  # not X12: nothing for pyx12 to read

    for raw, name in ((remit, "remit.835"), (GARBAGE, "letter.txt")):
        response = await api.http.get(f"{INGEST}/{sha(raw)}/raw", headers=ALICE)
        assert response.status_code == 200
        assert response.content == raw
        assert name in response.headers["content-disposition"]

    # Each file ingested and each download of raw content (PHI) is in the audit trail.
    with Session(harness.engine) as session:
        events = session.exec(select(AuditEventRow).order_by(col(AuditEventRow.id))).all()
    ingest_events = [
        (e.user_id, e.action, e.outcome, e.detail["sha256"], e.detail["status"])
        for e in events
        if e.action == "ingest.file"
    ]
    assert ingest_events == [
        ("alice", "ingest.file", "ok", sha(remit), "ingested"),
        ("alice", "ingest.file", "refused", sha(GARBAGE), "failed"),
        ("bob", "ingest.file", "ok", sha(remit), "duplicate"),
    ]
    downloads = [(e.user_id, e.detail["sha256"]) for e in events if e.action == "ingest.download"]
    assert downloads == [("alice", sha(remit)), ("alice", sha(GARBAGE))]


async def test_a_page_of_the_history(api: Api, harness: CaseHarness) -> None:
    """limit / offset page the history, newest first."""
    remit = two_denials_835(await harness.today())
    await post_files(api, [("a.835", remit), ("b.txt", GARBAGE), ("c.txt", b"nope")])
    response = await api.http.get(INGEST, params={"limit": 2, "offset": 1}, headers=ALICE)
    assert response.status_code == 200, response.text
    assert [r["filename"] for r in response.json()] == ["b.txt", "a.835"]


async def test_unknown_file_is_404(api: Api) -> None:
    unknown = "0" * 64
    for path in (f"{INGEST}/{unknown}", f"{INGEST}/{unknown}/raw"):
        response = await api.http.get(path, headers=ALICE)
        assert response.status_code == 404, path
        assert response.json() == {"detail": f"no ingested file {unknown}"}


async def test_ingest_needs_a_signed_in_user_allowed_to_ingest(api: Api) -> None:
    """No credentials (or a bad token) is 401 on every ingest route; an admin (no ingest
    permission) is 403; in neither case is the file stored."""
    files = [("files", ("letter.txt", GARBAGE, "text/plain"))]
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await api.http.post(INGEST, files=files, headers=headers)
        assert response.status_code == 401, response.text
    for path in (INGEST, f"{INGEST}/{sha(GARBAGE)}", f"{INGEST}/{sha(GARBAGE)}/raw"):
        assert (await api.http.get(path)).status_code == 401, path
    refused = await api.http.post(INGEST, files=files, headers=as_user("ada"))
    assert refused.status_code == 403, refused.text
    listed = await api.http.get(INGEST, headers=ALICE)
    assert listed.json() == []


async def test_no_files_is_422(api: Api) -> None:
    response = await api.http.post(INGEST, headers=ALICE)
    assert response.status_code == 422, response.text
    response = await api.http.post(INGEST, data={"other": "x"}, headers=ALICE)
    assert response.status_code == 422, response.text
    assert (await api.http.get(INGEST, headers=ALICE)).json() == []


async def test_a_file_named_in_any_script_downloads_under_its_name(api: Api) -> None:
    """Upload names are the users' own: a non-Latin-1 one downloads (ASCII fallback plus the
    exact name in filename*) instead of failing with 500."""
    name = "Überweisung-支払.835"
    upload = await api.http.post(
        INGEST, files={"files": (name, GARBAGE, "application/octet-stream")}, headers=ALICE
    )
    assert upload.status_code in (200, 207, 422), upload.text
    response = await api.http.get(f"{INGEST}/{sha(GARBAGE)}/raw", headers=ALICE)
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert 'filename="_berweisung-__.835"' in disposition
    assert "filename*=UTF-8''%C3%9Cberweisung-%E6%94%AF%E6%89%95.835" in disposition


async def test_the_implementation_guide_findings_arrive_in_the_file_when_done(
    api: Api, harness: CaseHarness
) -> None:
    """The upload answers once the cases are started, its check pending; the check's findings
    are at GET /api/v1/ingest/{sha256} when its process is done."""
    raw = with_findings(await harness.today())
    summary = await post_files(api, [("remit.835", raw)])
    (report,) = summary["reports"]
    assert (report["status"], report["cases_started"], report["validation"]) == (
        "ingested",
        2,
        "pending",
    )
    assert not [w for w in report["warnings"] if "implementation guide" in w["message"]]
    await asyncio.wait_for(validation.settle(), 60)
    body = (await api.http.get(f"{INGEST}/{sha(raw)}", headers=ALICE)).json()
    check = body["validation"]
    assert (check["status"], check["findings_omitted"], check["message"]) == ("done", 0, None)
    (finding,) = check["findings"]
    assert "(CI) is not a valid code for Claim Filing Indicator Code (CLP06)" in finding["message"]
    assert finding["location"]["segment_id"] == "CLP" and finding["location"]["element"] == 6


async def test_a_large_upload_is_answered_at_once_and_ingested_in_the_background(
    api: Api, harness: CaseHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over LARGE_UPLOAD_BYTES in all (5 MiB; lowered here): 202 at once with each file's
    sha256, status and report URL; the report URL shows the ingest's progress, then its
    report. Sent again, the file is a duplicate; its bytes download as they were sent."""
    monkeypatch.setattr(ingest_route, "LARGE_UPLOAD_BYTES", 100)
    raw = two_denials_835(await harness.today())
    response = await api.http.post(
        INGEST, files=[("files", ("big.835", raw, "application/octet-stream"))], headers=ALICE
    )
    assert response.status_code == 202, response.text
    assert response.json() == {
        "files": [
            {
                "file": "big.835",
                "sha256": sha(raw),
                "status": "received",
                "report_url": f"{INGEST}/{sha(raw)}",
            }
        ]
    }
    deadline = asyncio.get_running_loop().time() + 60
    while (file := (await api.http.get(f"{INGEST}/{sha(raw)}", headers=ALICE)).json())[
        "status"
    ] == "received":
        assert asyncio.get_running_loop().time() < deadline, file
        await asyncio.sleep(0.1)
    assert (file["status"], file["report"]["cases_started"]) == ("ingested", 2)
    again = await api.http.post(
        INGEST, files=[("files", ("again.835", raw, "application/octet-stream"))], headers=ALICE
    )
    assert (again.status_code, again.json()["files"][0]["status"]) == (202, "duplicate")
    download = await api.http.get(f"{INGEST}/{sha(raw)}/raw", headers=ALICE)
    assert download.content == raw
    assert download.headers["content-length"] == str(len(raw))
