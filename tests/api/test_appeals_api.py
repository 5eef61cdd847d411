"""Appeal letters over the API: the draft, versions with who and when, the packet PDF, the
physician attestation gate on submission, uploads and case documents."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pypdf
from sqlmodel import Session

from app.deps import SESSION_COOKIE
from domain.appeals.letters import PENDING_ATTESTATION
from services.auth import AuthService, SessionKind
from services.users import UserService
from testkit.records import adj, make_record
from tests.api.conftest import Api, Json, as_user, problem
from tests.documents import pdf_bytes
from tests.harness import CaseHarness

ALICE, BOB, DREW = as_user("alice"), as_user("bob"), as_user("drew")
SAM = as_user("sam")


async def complete(api: Api, task_id: str, payload: Json, user: str = "alice") -> httpx.Response:
    return await api.http.post(
        f"/api/v1/tasks/{task_id}/complete", json={"payload": payload}, headers=as_user(user)
    )


async def on_appeal_path(api: Api, carc: str = "CO-50") -> str:
    today = await api.harness.today()
    case_id, _ = await api.opened_triaged(make_record(today, adjustments=[adj(carc, 640)]))
    for task_type, payload in (
        ("confirm_triage", {"type": "confirm_triage"}),
        ("confirm_root_cause", {"type": "confirm_root_cause"}),
    ):
        task = api.open_task(await api.detail(case_id), task_type)
        assert (await complete(api, task["task_id"], payload)).status_code == 200
    await api.wait_status(case_id, "appeal")
    return case_id


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


async def test_letter_versions_pdf_and_attestation_gate(api: Api, harness: CaseHarness) -> None:
    case_id = await on_appeal_path(api)
    url = f"/api/v1/cases/{case_id}/appeal-letter"

    letter = (await api.http.get(url, headers=ALICE)).json()
    assert letter["template"] == "default/medical_necessity.txt.j2"
    assert (letter["versions"], letter["editable"], letter["attestation_required"]) == (
        [],
        True,
        True,
    )
    assert letter["current"] == letter["draft"] and "CO-50" in letter["draft"]

    first = await api.http.post(url, json={"body": "Version one"}, headers=ALICE)
    assert first.status_code == 201, first.text
    # The appeal task is alice's: bob may read the letter, not change it; a supervisor may.
    by_bob = await api.http.post(url, json={"body": "Version by Bob"}, headers=BOB)
    assert by_bob.status_code == 403 and "assigned to alice, not to bob" in by_bob.text
    second = await api.http.post(url, json={"body": "Version two, by Sam"}, headers=SAM)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    letter = (await api.http.get(url, headers=BOB)).json()
    assert [(v["version"], v["created_by"]) for v in letter["versions"]] == [
        (1, "alice"),
        (2, "sam"),
    ]
    assert letter["current"] == "Version two, by Sam"
    empty = await api.http.post(url, json={"body": ""}, headers=ALICE)
    assert problem(empty) == "body: String should have at least 1 character"

    pdf = await api.http.get(f"{url}/pdf", headers=ALICE)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Version two, by Sam" in text
    assert "MISSING: required for a medical-necessity appeal" in text

    task = api.open_task(await api.detail(case_id), "prepare_appeal")
    today = (await harness.today()).isoformat()
    appeal = {"type": "prepare_appeal", "level": 1, "argument": "see letter", "submitted_on": today}
    refused = await complete(api, task["task_id"], appeal)
    assert "A medical-necessity appeal needs a physician attestation before submission" in (
        problem(refused)
    )

    attestation = {"physician_name": "Dr. Drew Okafor", "statement": "Necessary."}
    biller = await api.http.post(
        f"/api/v1/cases/{case_id}/attestation", json=attestation, headers=ALICE
    )
    assert biller.status_code == 403
    assert biller.json()["detail"] == "role 'biller' lacks the 'attest' permission"
    attested = await api.http.post(
        f"/api/v1/cases/{case_id}/attestation", json=attestation, headers=DREW
    )
    assert attested.status_code == 200, attested.text
    assert attested.json()["changes"] == ["attested"]
    assert (await api.detail(case_id))["state"]["attestation"]["attested_by"] == "drew"

    # Finished: a letter with its sections, and no enclosure left ticked without a file.
    finished = {
        "body": "DENIAL REASON\n- CO-50\n\nPOLICY AND DEADLINES\n- Due in 30 days.\n",
        "enclosures": [
            {"name": e["name"], "included": False}
            for e in (await api.http.get(url, headers=ALICE)).json()["enclosures"]
        ],
    }
    assert (await api.http.post(url, json=finished, headers=ALICE)).status_code == 201
    sent = await complete(api, task["task_id"], appeal)
    assert sent.status_code == 200, sent.text
    assert sent.json()["changes"][:2] == ["submission_sent", "appeal_submitted"]
    (submission,) = (await api.detail(case_id))["state"]["submissions"]
    documents = (await api.http.get(f"/api/v1/cases/{case_id}/documents", headers=ALICE)).json()
    packets = [d for d in documents if d["sha256"] == submission["sha256"]]
    assert [d["kind"] for d in packets] == ["appeal_packet"]
    download = await api.http.get(
        f"/api/v1/cases/{case_id}/documents/{packets[0]['document_id']}", headers=ALICE
    )
    assert download.headers["x-content-sha256"] == submission["sha256"]
    assert "Attested by Dr. Drew Okafor" in pdf_text(download.content)

    late = await api.http.post(url, json={"body": "Too late"}, headers=ALICE)
    assert late.status_code == 409
    assert "no longer being prepared" in late.json()["detail"]


async def test_a_letter_saved_before_the_attestation_goes_out_attested(api: Api) -> None:
    """Saved while the attestation was pending, the letter states the attestation recorded
    since, in the editor and in the packet; the saved version itself is kept as written."""
    case_id = await on_appeal_path(api)
    url = f"/api/v1/cases/{case_id}/appeal-letter"
    draft = (await api.http.get(url, headers=ALICE)).json()["draft"]
    assert PENDING_ATTESTATION in draft
    saved = await api.http.post(url, json={"body": f"Edited.\n{draft}"}, headers=ALICE)
    assert saved.status_code == 201, saved.text

    attestation = {"physician_name": "Dr. Drew Okafor", "statement": "Necessary."}
    attested = await api.http.post(
        f"/api/v1/cases/{case_id}/attestation", json=attestation, headers=DREW
    )
    assert attested.status_code == 200, attested.text

    letter = (await api.http.get(url, headers=ALICE)).json()
    assert letter["current"].startswith("Edited.")
    assert PENDING_ATTESTATION not in letter["current"]
    assert "Attested by Dr. Drew Okafor on " in letter["current"]
    assert PENDING_ATTESTATION in letter["versions"][0]["body"]
    pdf_lines = pdf_text((await api.http.get(f"{url}/pdf", headers=ALICE)).content)
    assert "Edited." in pdf_lines and "Attested by Dr. Drew Okafor" in pdf_lines
    assert "Pending: the treating physician" not in pdf_lines


async def test_uploaded_attestation(api: Api, harness: CaseHarness) -> None:
    case_id = await on_appeal_path(api)
    url = f"/api/v1/cases/{case_id}/attestation/upload"
    form = {"physician_name": "Dr. Lee", "statement": "Necessary."}
    not_signed = await api.http.post(
        url, data=form, files={"file": ("notes.txt", b"hello", "text/plain")}, headers=ALICE
    )
    assert problem(not_signed) == "file 'notes.txt' is not a PDF, PNG or JPEG"
    damaged = await api.http.post(
        url,
        data=form,
        files={"file": ("a.pdf", b"%PDF-1.4 torn", "application/pdf")},
        headers=ALICE,
    )
    assert problem(damaged) == "file 'a.pdf' is damaged: it does not open as a pdf"
    signed = pdf_bytes("Signed attestation")
    uploaded = await api.http.post(
        url, data=form, files={"file": ("signed.pdf", signed, "application/pdf")}, headers=ALICE
    )
    assert uploaded.status_code == 200, uploaded.text
    attestation = (await api.detail(case_id))["state"]["attestation"]
    assert (attestation["method"], attestation["attested_by"]) == ("uploaded", "alice")
    documents = (await api.http.get(f"/api/v1/cases/{case_id}/documents", headers=ALICE)).json()
    assert [(d["kind"], d["sha256"]) for d in documents] == [
        ("attestation", attestation["document_sha256"])
    ]


async def test_letter_of_an_unknown_case_and_level(api: Api, harness: CaseHarness) -> None:
    missing = await api.http.get("/api/v1/cases/nope/appeal-letter", headers=ALICE)
    assert missing.status_code == 404
    case_id = await on_appeal_path(api, "CO-197")
    beyond = await api.http.get(
        f"/api/v1/cases/{case_id}/appeal-letter", params={"level": 3}, headers=ALICE
    )
    assert beyond.status_code == 409
    assert "has no appeal level 3" in beyond.json()["detail"]


def cookie_session(harness: CaseHarness, user_id: str) -> tuple[dict[str, str], str]:
    """Cookies and CSRF token of a web session for a demo user."""
    with Session(harness.engine, expire_on_commit=False) as session:
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        token, row = auth.open_session(UserService(session).get(user_id), SessionKind.COOKIE)
    return {SESSION_COOKIE: token}, row.csrf_token


async def test_appeal_letter_page_saves_versions_and_takes_attestation(
    api: Api, harness: CaseHarness
) -> None:
    case_id = await on_appeal_path(api)
    cookies, csrf = cookie_session(harness, "alice")
    api.http.cookies.update(cookies)
    page = await api.http.get(f"/cases/{case_id}/appeal-letter")
    assert page.status_code == 200
    assert "Appeal, level 1" in page.text and "Required before this" in page.text

    saved = await api.http.post(
        f"/cases/{case_id}/appeal-letter",
        data={"csrf_token": csrf, "opening": "Edited on the page", "argument": "Necessary."},
    )
    assert saved.status_code == 303
    page = await api.http.get(f"/cases/{case_id}/appeal-letter")
    assert "Edited on the page" in page.text and "<td>alice</td>" in page.text

    no_file = await api.http.post(
        f"/cases/{case_id}/attestation",
        data={"csrf_token": csrf, "physician_name": "Dr. Lee", "statement": "Necessary."},
    )
    assert no_file.status_code == 422
    assert "attach the physician&#39;s signed attestation" in no_file.text

    api.http.cookies.clear()
    cookies, csrf = cookie_session(harness, "drew")
    api.http.cookies.update(cookies)
    home = await api.http.get("/")
    assert home.headers["location"] == "/attestations"
    listed = await api.http.get("/attestations")
    assert f"/cases/{case_id}/appeal-letter" in listed.text
    attested = await api.http.post(
        f"/cases/{case_id}/attestation",
        data={"csrf_token": csrf, "physician_name": "Dr. Drew Okafor", "statement": "Necessary."},
    )
    assert attested.status_code == 303
    listed = await api.http.get("/attestations")
    assert f"/cases/{case_id}/appeal-letter" not in listed.text


async def test_physicians_see_only_the_appeals_awaiting_their_attestation(
    api: Api, harness: CaseHarness
) -> None:
    """A physician reads the letter of an open medical-necessity appeal and attests with the
    name of their account (not a typed one); every other case, list or document is 403."""
    needing = await on_appeal_path(api)
    other = await on_appeal_path(api, carc="CO-197")  # authorization: no attestation
    assert (await api.http.get("/api/v1/cases", headers=DREW)).status_code == 403
    assert (await api.http.get(f"/api/v1/cases/{needing}", headers=DREW)).status_code == 403
    documents = await api.http.get(f"/api/v1/cases/{needing}/documents", headers=DREW)
    assert documents.status_code == 403
    readable = await api.http.get(f"/api/v1/cases/{needing}/appeal-letter", headers=DREW)
    assert readable.status_code == 200
    refused = await api.http.get(f"/api/v1/cases/{other}/appeal-letter", headers=DREW)
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "physicians see only the open appeals that need their attestation"},
    )
    attested = await api.http.post(
        f"/api/v1/cases/{needing}/attestation",
        json={"physician_name": "Dr. Somebody Else", "statement": "Necessary."},
        headers=DREW,
    )
    assert attested.status_code == 200, attested.text
    state = (await api.detail(needing))["state"]
    assert state["attestation"]["physician_name"] == "Dr. Drew Okafor"


async def test_a_refused_upload_keeps_no_file(api: Api, harness: CaseHarness) -> None:
    """Uploading an attestation to a case that needs none is refused before anything is
    stored: the case lists no document afterwards."""
    case_id = await on_appeal_path(api, carc="CO-197")
    upload = await api.http.post(
        f"/api/v1/cases/{case_id}/attestation/upload",
        data={"physician_name": "Dr. Lee", "statement": "Necessary."},
        files={"file": ("signed.pdf", pdf_bytes("Signed"), "application/pdf")},
        headers=ALICE,
    )
    assert problem(upload) == ("this case needs no physician attestation (category: authorization)")
    documents = await api.http.get(f"/api/v1/cases/{case_id}/documents", headers=ALICE)
    assert documents.json() == []
