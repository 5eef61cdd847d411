"""The appeal task over the API: an appeal whose letter still has a prompt, or an enclosure
ticked without a file, is refused with every missing part listed and nothing reaches the
outbox; once finished, the packet in the outbox carries the argument merged into the letter,
no internal note, and the attached files."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from tests.api.conftest import Api, as_user, problem
from tests.api.test_appeals_api import complete, on_appeal_path
from tests.documents import pdf_bytes, png_bytes

ALICE, BOB = as_user("alice"), as_user("bob")
# The authorisation template's prompt around its own "[date]", as the task shows it.
OUTER_PROMPT = "If no authorisation applied: the services were urgent/emerg"
ARGUMENT = "Authorisation A-778 was issued on January 5 for the services billed."


def outbox(api: Api) -> list[Path]:
    assert api.harness.data_dir is not None
    folder = api.harness.data_dir / "outbox"
    return sorted(folder.iterdir()) if folder.exists() else []


async def attach(api: Api, case_id: str, enclosure: str, name: str, content: bytes) -> object:
    return await api.http.post(
        f"/api/v1/cases/{case_id}/appeal-letter/enclosures",
        data={"enclosure": enclosure},
        files={"file": (name, content, "application/octet-stream")},
        headers=ALICE,
    )


async def test_unfinished_appeal_refused_finished_one_sent_with_its_files(api: Api) -> None:
    case_id = await on_appeal_path(api, "CO-197")  # authorization: no attestation needed
    url = f"/api/v1/cases/{case_id}/appeal-letter"
    task = api.open_task(await api.detail(case_id), "prepare_appeal")
    today = (await api.harness.today()).isoformat()

    # The task shows what is missing and the biller's notes, which the letter never prints.
    view = (await api.http.get(url, headers=ALICE)).json()
    assert 'Fill in or remove "[number]" (in the argument)' in view["missing"]
    assert 'Attach "Authorisation record", or untick it if it is not enclosed' in view["missing"]
    (note,) = view["notes_for_biller"]
    assert "Verify per contract" in note and "commercial-erisa" in note
    assert (
        "Verify per contract" not in view["as_sent"] and "commercial-erisa" not in view["as_sent"]
    )

    # Submitted as is, with an argument that still holds a prompt: refused, all at once.
    unfinished = {
        "type": "prepare_appeal",
        "level": 1,
        "argument": "Authorisation [number] was on file.",
        "submitted_on": today,
    }
    refused = await complete(api, task["task_id"], unfinished)
    assert problem(refused).split("; ") == [
        'payload.letter: Fill in or remove "[number]" (in the argument)',
        *[
            f'payload.letter: Attach "{name}", or untick it if it is not enclosed'
            for name in (
                "Copy of the claim as billed",
                "Remittance advice (835) showing the denial",
                "Authorisation record",
                "Clinical notes",
            )
        ],
    ]
    assert outbox(api) == []
    assert (await api.detail(case_id))["state"]["submissions"] == []
    assert (await api.http.get(url, headers=ALICE)).json()["versions"] == []  # nothing kept

    # Files: only PDF, PNG or JPEG that open, on an enclosure the letter has; bob's is not his.
    text = await attach(api, case_id, "Authorisation record", "auth.txt", b"approved")
    assert problem(text) == "file 'auth.txt' is not a PDF, PNG or JPEG"
    torn = await attach(api, case_id, "Authorisation record", "auth.pdf", b"%PDF-1.7 torn")
    assert problem(torn) == "file 'auth.pdf' is damaged: it does not open as a pdf"
    unknown = await attach(api, case_id, "Pizza menu", "menu.pdf", pdf_bytes("menu"))
    assert problem(unknown) == "enclosure: the letter has no enclosure 'Pizza menu' to attach to"
    by_bob = await api.http.post(
        f"{url}/enclosures",
        data={"enclosure": "Clinical notes"},
        files={"file": ("notes.png", png_bytes(), "image/png")},
        headers=BOB,
    )
    assert by_bob.status_code == 403

    auth_pdf = pdf_bytes("AUTH-778 approved", pages=2)
    for enclosure, name, content in (
        ("Authorisation record", "auth-778.pdf", auth_pdf),
        ("Clinical notes", "notes-scan.png", png_bytes()),
    ):
        attached = await attach(api, case_id, enclosure, name, content)
        assert attached.status_code == 201, attached.text  # type: ignore[attr-defined]
    untick = {
        "body": (await api.http.get(url, headers=ALICE)).json()["current"],
        "enclosures": [
            {"name": "Copy of the claim as billed", "included": False},
            {"name": "Remittance advice (835) showing the denial", "included": False},
        ],
    }
    assert (await api.http.post(url, json=untick, headers=ALICE)).status_code == 201
    view = (await api.http.get(url, headers=ALICE)).json()
    prompts = ("date", "services and dates", f"{OUTER_PROMPT}…", "date")
    assert view["missing"] == [
        'Fill in or remove "[number]" (in the argument)',
        *[f'Fill in or remove "[{prompt}]" (in the argument)' for prompt in prompts],
    ]

    # The argument typed with the submission replaces the template's: it is sent.
    finished = {**unfinished, "argument": ARGUMENT, "reference": "WEB-778"}
    sent = await complete(api, task["task_id"], finished)
    assert sent.status_code == 200, sent.text
    (packet,) = outbox(api)
    reader = pypdf.PdfReader(io.BytesIO(packet.read_bytes()))
    pages = [page.extract_text() for page in reader.pages]
    letter = "\n".join(pages[:-3])  # then the contents page, 2 PDF pages, 1 image page
    assert f"WHY THE CLAIM SHOULD BE PAID\n{ARGUMENT}" in letter
    assert "[" not in letter and "Verify per" not in letter and "commercial-erisa" not in letter
    assert "Enclosures (2):\n- Authorisation record\n- Clinical notes" in letter
    assert "1. Authorisation record: auth-778.pdf (2 pages)" in pages[-4]
    assert "2. Clinical notes: notes-scan.png (1 page)" in pages[-4]
    assert "AUTH-778 approved (page 1)" in pages[-3] and "(page 2)" in pages[-2]
    assert "Enclosure 2: Clinical notes (notes-scan.png)" in pages[-1]
    assert len(reader.pages[-1].images) == 1
    assert case_id not in "\n".join(pages) and "alice" not in "\n".join(pages)  # internals

    # What was sent is the task's newest version, and the timeline's argument is the letter's.
    view = (await api.http.get(url, headers=ALICE)).json()
    assert view["editable"] is False and view["argument"] == ARGUMENT
    (submission,) = (await api.detail(case_id))["state"]["submissions"]
    assert submission["summary"] == ARGUMENT and submission["reference"] == "WEB-778"
