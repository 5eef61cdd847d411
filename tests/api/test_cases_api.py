"""The HTTP API and web pages over the real workflow: opening cases, reading and searching the
read model, task and case actions (Updates answer after the read model shows them), the payer
response Signal, health probes, and a Temporal that cannot be reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import temporalio.client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from app.http import create_app
from app.settings import Settings
from domain.case import PayerDecision, TaskType
from domain.identity import case_id_for
from domain.models import PayerType
from domain.rulebook import Rulebook
from testkit.records import adj, make_record
from tests.api.conftest import Api, Json, as_user, problem
from tests.harness import CaseHarness
from tests.login_form import post_login
from tests.workflows.case_flow import submit_corrected_claim, to_path
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import PayerResponseEntry

UNREACHABLE = "the workflow service (Temporal) is unreachable; try again shortly"
ALICE, BOB, SAM, ADA = as_user("alice"), as_user("bob"), as_user("sam"), as_user("ada")


def claim_ids(page: Json) -> list[str]:
    return [item["claim_id"] for item in page["items"]]


async def list_cases(api: Api, **params: object) -> Json:
    response = await api.http.get("/api/v1/cases", params=params, headers=ALICE)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def complete(api: Api, task_id: str, payload: Json, user: str = "alice") -> httpx.Response:
    return await api.http.post(
        f"/api/v1/tasks/{task_id}/complete", json={"payload": payload}, headers=as_user(user)
    )


# --- Opening cases ------------------------------------------------------------------------


async def test_open_case_creates_once_and_dedupes(api: Api, harness: CaseHarness) -> None:
    """POST opens a case (201); the same denial again answers 200 created=false on the same
    workflow run, both while triage runs and once the read model has the case."""
    record = make_record(await harness.today())
    body = record.model_dump(mode="json")
    expected_id = case_id_for(record)

    first = await api.http.post("/api/v1/cases", json=body, headers=ALICE)
    assert first.status_code == 201
    assert first.json() == {"case_id": expected_id, "created": True}
    run_id = (await harness.client.get_workflow_handle(expected_id).describe()).run_id

    racing = await api.http.post("/api/v1/cases", json=body, headers=BOB)
    assert racing.status_code == 200
    assert racing.json() == {"case_id": expected_id, "created": False}

    await api.wait_status(expected_id, "triaged")
    again = await api.http.post("/api/v1/cases", json=body, headers=ALICE)
    assert again.status_code == 200
    assert again.json() == {"case_id": expected_id, "created": False}

    assert (await harness.client.get_workflow_handle(expected_id).describe()).run_id == run_id
    detail = await api.detail(expected_id)
    assert [e["type"] for e in detail["timeline"]].count("received") == 1
    assert (await list_cases(api, q=record.claim.claim_id))["total"] == 1


async def test_non_denial_is_refused_with_reason(api: Api, harness: CaseHarness) -> None:
    """A remittance whose only adjustment is CO-45 (fee schedule) is not a denial: 422 naming
    why, and no workflow is started."""
    record = make_record(
        await harness.today(), adjustments=[adj("CO-45", 100)], paid=900, status="1"
    )
    response = await api.http.post(
        "/api/v1/cases", json=record.model_dump(mode="json"), headers=ALICE
    )
    assert problem(response) == (
        "not a denial: CO-45 (Charges exceed your contracted/legislated fee "
        "arrangement.) is not a denial"
    )
    case_id = case_id_for(record)
    assert (await api.http.get(f"/api/v1/cases/{case_id}", headers=ALICE)).status_code == 404
    with pytest.raises(RPCError):
        await harness.client.get_workflow_handle(case_id).describe()


async def test_invalid_body_names_field_locations(api: Api, harness: CaseHarness) -> None:
    """A DenialRecord that does not validate answers 422 with the failing fields' locations;
    a body that is not JSON at all answers 422 json_invalid."""
    body = make_record(await harness.today()).model_dump(mode="json")
    body["claim"]["billed_amount"] = "lots"
    del body["claim"]["payer"]
    response = await api.http.post("/api/v1/cases", json=body, headers=ALICE)
    assert response.status_code == 422
    locations = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert ("body", "claim", "billed_amount") in locations
    assert ("body", "claim", "payer") in locations

    broken = await api.http.post(
        "/api/v1/cases",
        content=b'{"kind": "denial", ',
        headers={**ALICE, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    [error] = broken.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"


async def test_signing_in_is_required(api: Api, harness: CaseHarness) -> None:
    """Without a token, or with a token nobody issued, the API answers 401 and does nothing."""
    record = make_record(await harness.today())
    body = record.model_dump(mode="json")
    missing = await api.http.post("/api/v1/cases", json=body)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "sign in first: no valid bearer token or session"}
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = {"Authorization": "Bearer not-a-token"}
    unknown = await api.http.post("/api/v1/cases", json=body, headers=forged)
    assert unknown.status_code == 401
    assert unknown.json() == {"detail": "the bearer token is invalid or has expired: sign in again"}
    assert (await api.http.get("/api/v1/cases")).status_code == 401
    assert (await api.http.get("/api/v1/tasks/mine", headers=forged)).status_code == 401
    with pytest.raises(RPCError):
        await harness.client.get_workflow_handle(case_id_for(record)).describe()


# --- Reading ------------------------------------------------------------------------------


async def test_triaged_case_detail(api: Api, harness: CaseHarness) -> None:
    """Once triaged, the detail shows the classified summary, the state with its deadlines, one
    open unassigned confirm_triage task in the biller queue, and the timeline."""
    today = await harness.today()
    record = make_record(today, billed=1000)
    case_id, detail = await api.opened_triaged(record)

    summary = detail["summary"]
    assert summary["case_id"] == case_id
    assert summary["claim_id"] == record.claim.claim_id
    assert summary["payer_id"] == "COM-TEST"
    assert summary["category"] == "medical_necessity"
    assert summary["denial_class"] == "hard"
    assert Decimal(summary["denied_amount"]) == Decimal(1000)
    # A commercial first-level appeal: 180 days from the remittance (5 days ago).
    assert summary["next_deadline"] == (today + timedelta(days=175)).isoformat()
    assert summary["next_deadline_kind"] == "appeal:1"
    assert summary["outcome"] is None

    state = detail["state"]
    assert state["status"] == "triaged"
    assert state["suggested_path"] == "appeal"
    assert {(d["kind"], d["level"]) for d in state["deadlines"]} >= {("appeal", 1)}

    [task] = detail["tasks"]
    assert task["type"] == "confirm_triage"
    assert task["status"] == "open"
    assert task["queue"] == "biller"
    assert task["assignee"] is None
    assert task["task_id"] == f"{case_id}-t1"

    types = [event["type"] for event in detail["timeline"]]
    assert types[:3] == ["received", "triaged", "task_created"]
    assert [event["seq"] for event in detail["timeline"]] == list(range(1, len(types) + 1))


async def test_unknown_case_is_404(api: Api) -> None:
    """Reading, or acting on, a case the read model does not have answers 404."""
    response = await api.http.get("/api/v1/cases/unknown", headers=ALICE)
    assert response.status_code == 404
    assert response.json() == {"detail": "no case unknown"}
    note = await api.http.post("/api/v1/cases/unknown/notes", json={"text": "hi"}, headers=ALICE)
    assert note.status_code == 404
    live = await api.http.get("/api/v1/cases/unknown/live", headers=ALICE)
    assert live.status_code == 404


async def test_case_list_filters_sorting_and_pages(api: Api, harness: CaseHarness) -> None:
    """GET /api/v1/cases filters by status, category, payer, claim number, open and escalated
    cases, sorts by amount, deadline and priority either way, and pages with a total."""
    today = await harness.today()
    small = make_record(today, adjustments=[adj("CO-16", 300)], billed=300)
    medium = make_record(today, billed=1000)
    large = make_record(today, payer_type=PayerType.MEDICARE, billed=2000)
    # Appeal due 180 days after a remittance 175 days ago: 5 days left, so escalated (T-7).
    urgent = make_record(today, billed=700, remit_days_ago=175, dos_days_ago=200)
    records = {"small": small, "medium": medium, "large": large, "urgent": urgent}
    ids = {name: (await api.opened_triaged(record))[0] for name, record in records.items()}
    claim = {name: record.claim.claim_id for name, record in records.items()}
    everyone = set(claim.values())

    page = await list_cases(api)
    assert page["total"] == 4 and set(claim_ids(page)) == everyone
    assert set(claim_ids(await list_cases(api, status="triaged"))) == everyone
    assert (await list_cases(api, status="root_cause"))["total"] == 0
    assert set(claim_ids(await list_cases(api, category="medical_necessity"))) == {
        claim["medium"],
        claim["large"],
        claim["urgent"],
    }
    assert claim_ids(await list_cases(api, category="missing_information")) == [claim["small"]]
    assert claim_ids(await list_cases(api, payer_id="MCR-TEST")) == [claim["large"]]
    assert claim_ids(await list_cases(api, q=claim["medium"])) == [claim["medium"]]
    number = claim["medium"].removeprefix("PCN")
    assert claim_ids(await list_cases(api, q=f"ICN{number}")) == [claim["medium"]]
    assert (await list_cases(api, q="no-such-claim"))["total"] == 0
    assert (await list_cases(api, q="   "))["total"] == 4  # blank: no claim filter
    assert (await list_cases(api, q="\U0010ffff"))["total"] == 0  # no successor character
    assert claim_ids(await list_cases(api, escalated=True)) == [claim["urgent"]]
    assert set(claim_ids(await list_cases(api, escalated=False))) == everyone - {claim["urgent"]}

    by_amount = [claim["small"], claim["urgent"], claim["medium"], claim["large"]]
    assert claim_ids(await list_cases(api, sort="amount", descending=False)) == by_amount
    assert claim_ids(await list_cases(api, sort="amount", descending=True)) == by_amount[::-1]
    by_priority = await list_cases(api, sort="priority", descending=True)
    scores = [item["priority"] for item in by_priority["items"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    ascending = await list_cases(api, sort="priority", descending=False)
    assert claim_ids(ascending) == claim_ids(by_priority)[::-1]

    first = await list_cases(api, sort="amount", descending=False, limit=3, offset=0)
    second = await list_cases(api, sort="amount", descending=False, limit=3, offset=3)
    assert (first["total"], first["limit"], first["offset"]) == (4, 3, 0)
    assert claim_ids(first) == by_amount[:3]
    assert (second["total"], claim_ids(second)) == (4, by_amount[3:])
    assert claim_ids(await list_cases(api, limit=2, offset=4)) == []
    bad = await api.http.get("/api/v1/cases", params={"limit": 0}, headers=ALICE)
    assert bad.status_code == 422
    bad_sort = await api.http.get("/api/v1/cases", params={"sort": "colour"}, headers=ALICE)
    assert bad_sort.status_code == 422

    # Pages by cursor: the next page starts after the last case shown, in the same sort.
    amount_order = {"sort": "amount", "descending": False, "limit": 3}
    assert first["next_cursor"] is not None and first["prev_cursor"] is None
    after = await list_cases(api, **amount_order, cursor=first["next_cursor"])
    assert claim_ids(after) == by_amount[3:] and after["next_cursor"] is None
    back = await list_cases(api, **amount_order, cursor=after["prev_cursor"])
    assert claim_ids(back) == by_amount[:3]
    for cursor, sort in ((first["next_cursor"], "priority"), ("eyJzIjoiYW1vdW50", "amount")):
        refused = await api.http.get(
            "/api/v1/cases", params={"cursor": cursor, "sort": sort}, headers=ALICE
        )
        assert refused.status_code == 422
        assert "page link is damaged or out of date" in refused.text

    # A closed case drops out of open_only, and (no deadline left) sorts last either way.
    cancel = await api.http.post(
        f"/api/v1/cases/{ids['large']}/cancel", json={"reason": "entered twice"}, headers=SAM
    )
    assert cancel.status_code == 200
    assert set(claim_ids(await list_cases(api, open_only=True))) == everyone - {claim["large"]}
    assert claim_ids(await list_cases(api, status="closed")) == [claim["large"]]
    both = await list_cases(api, status=["closed", "triaged"])
    assert both["total"] == 4
    soonest = await list_cases(api, sort="deadline", descending=False)
    assert claim_ids(soonest)[0] == claim["urgent"]
    assert claim_ids(soonest)[-1] == claim["large"]
    latest = await list_cases(api, sort="deadline", descending=True)
    assert claim_ids(latest)[-1] == claim["large"]
    deadlines = [item["next_deadline"] for item in soonest["items"][:-1]]
    assert deadlines == sorted(deadlines)


# --- Tasks --------------------------------------------------------------------------------


async def test_task_worklists(api: Api, harness: CaseHarness) -> None:
    """GET /api/v1/tasks lists open tasks with their case (filters: case, queue, unassigned,
    assignee); /tasks/mine lists the acting user's."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today(), billed=800))
    task_id = api.open_task(detail, "confirm_triage")["task_id"]

    response = await api.http.get("/api/v1/tasks", params={"case_id": case_id}, headers=ALICE)
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 1
    [item] = page["items"]
    assert item["task_id"] == task_id and item["type"] == "confirm_triage"
    assert item["claim_id"] == detail["summary"]["claim_id"]
    assert item["category"] == "medical_necessity"
    assert Decimal(item["denied_amount"]) == Decimal(800)

    queued = await api.http.get(
        "/api/v1/tasks", params={"queue": "biller", "unassigned": True}, headers=ALICE
    )
    assert [t["task_id"] for t in queued.json()["items"]] == [task_id]
    supervisors = await api.http.get("/api/v1/tasks", params={"queue": "supervisor"}, headers=SAM)
    assert supervisors.json()["total"] == 0
    mine = await api.http.get("/api/v1/tasks/mine", headers=ALICE)
    assert mine.json()["total"] == 0

    claimed = await api.http.post(f"/api/v1/tasks/{task_id}/claim", headers=ALICE)
    assert claimed.status_code == 200
    mine = (await api.http.get("/api/v1/tasks/mine", headers=ALICE)).json()
    assert [t["task_id"] for t in mine["items"]] == [task_id]
    assert (await api.http.get("/api/v1/tasks/mine", headers=BOB)).json()["total"] == 0
    by_assignee = await api.http.get("/api/v1/tasks", params={"assignee": "alice"}, headers=SAM)
    assert [t["task_id"] for t in by_assignee.json()["items"]] == [task_id]
    unassigned = await api.http.get("/api/v1/tasks", params={"unassigned": True}, headers=ALICE)
    assert unassigned.json()["total"] == 0


async def test_complete_task_returns_after_projection(api: Api, harness: CaseHarness) -> None:
    """Completing confirm_triage answers 200 with the state at root_cause, and a GET straight
    after already shows it; completing it again is 409, an unknown task 404."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today()))
    task_id = api.open_task(detail, "confirm_triage")["task_id"]

    response = await complete(api, task_id, {"type": "confirm_triage"})
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["case_id"], receipt["status"]) == (case_id, "root_cause")
    assert receipt["changes"] == ["triage_confirmed", "task_created"]

    after = await api.detail(case_id)  # no polling: the Update returned after projection
    assert after["state"]["version"] >= receipt["version"]
    assert receipt["open_task_ids"] == [api.open_task(after, "confirm_root_cause")["task_id"]]
    assert after["summary"]["status"] == "root_cause"
    assert after["summary"]["owner"] == "alice"
    done = next(t for t in after["tasks"] if t["task_id"] == task_id)
    assert (done["status"], done["completed_by"]) == ("completed", "alice")
    root = api.open_task(after, "confirm_root_cause")
    assert root["assignee"] == "alice"
    assert "triage_confirmed" in [e["type"] for e in after["timeline"]]

    again = await complete(api, task_id, {"type": "confirm_triage"})
    assert again.status_code == 409
    assert again.json() == {"detail": f"task {task_id} is already completed by alice"}

    unknown = await complete(api, "no-such-task", {"type": "confirm_triage"})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "no task no-such-task"}


async def test_complete_task_refusals(api: Api, harness: CaseHarness) -> None:
    """A biller cannot complete another biller's task (403); a payload of another task type is
    422 from the workflow, an unknown payload type 422 from validation."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today()))
    triage = api.open_task(detail, "confirm_triage")["task_id"]
    assert (await api.http.post(f"/api/v1/tasks/{triage}/claim", headers=ALICE)).status_code == 200

    stolen = await complete(api, triage, {"type": "confirm_triage"}, user="bob")
    assert stolen.status_code == 403
    assert stolen.json() == {"detail": f"task {triage} is assigned to alice, not to bob"}

    wrong = await complete(api, triage, {"type": "confirm_root_cause"})
    assert problem(wrong) == f"task {triage} is a confirm_triage task, not confirm_root_cause"
    bogus = await complete(api, triage, {"type": "sing_a_song"})
    assert bogus.status_code == 422
    assert bogus.json()["detail"][0]["loc"][:2] == ["body", "payload"]
    admin = await complete(api, triage, {"type": "confirm_triage"}, user="ada")
    assert admin.status_code == 403

    after = await api.detail(case_id)
    assert after["summary"]["status"] == "triaged"
    assert api.open_task(after, "confirm_triage")["assignee"] == "alice"


async def test_claim_and_release(api: Api, harness: CaseHarness) -> None:
    """Claiming assigns the task to the biller (409 when already claimed); only the assignee or
    a supervisor may release it back to the queue."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today()))
    task_id = api.open_task(detail, "confirm_triage")["task_id"]

    claimed = await api.http.post(f"/api/v1/tasks/{task_id}/claim", headers=ALICE)
    assert claimed.status_code == 200
    assert api.open_task(await api.detail(case_id), "confirm_triage")["assignee"] == "alice"
    assert (await api.detail(case_id))["summary"]["assignee"] == "alice"

    twice = await api.http.post(f"/api/v1/tasks/{task_id}/claim", headers=ALICE)
    assert twice.status_code == 409
    assert twice.json() == {"detail": f"task {task_id} is already yours"}
    taken = await api.http.post(f"/api/v1/tasks/{task_id}/claim", headers=BOB)
    assert taken.status_code == 409
    assert taken.json() == {"detail": f"task {task_id} is already claimed by alice"}
    not_bobs = await api.http.post(f"/api/v1/tasks/{task_id}/release", headers=BOB)
    assert not_bobs.status_code == 403

    released = await api.http.post(f"/api/v1/tasks/{task_id}/release", headers=ALICE)
    assert released.status_code == 200
    after = await api.detail(case_id)
    assert api.open_task(after, "confirm_triage")["assignee"] is None
    assert after["summary"]["assignee"] is None
    again = await api.http.post(f"/api/v1/tasks/{task_id}/release", headers=ALICE)
    assert (again.status_code, again.json()) == (409, {"detail": f"task {task_id} is not assigned"})
    missing = await api.http.post("/api/v1/tasks/no-such-task/claim", headers=ALICE)
    assert missing.status_code == 404


async def test_reassign(api: Api, harness: CaseHarness) -> None:
    """A supervisor reassigns a task to a biller (shown in the read model at once); a biller
    may not (403); an unknown or non-working user is 422; a queue without assignee works."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today()))
    task_id = api.open_task(detail, "confirm_triage")["task_id"]
    url = f"/api/v1/tasks/{task_id}/reassign"

    response = await api.http.post(url, json={"assignee": "bob", "reason": "cover"}, headers=SAM)
    assert response.status_code == 200, response.text
    assert response.json()["changes"] == ["task_reassigned"]
    after = await api.detail(case_id)
    moved = api.open_task(after, "confirm_triage")
    assert (moved["assignee"], moved["queue"]) == ("bob", "biller")
    assert after["summary"]["assignee"] == "bob"
    assert after["timeline"][-1]["type"] == "task_reassigned"
    assert after["timeline"][-1]["actor"] == "sam"

    by_biller = await api.http.post(url, json={"assignee": "alice"}, headers=ALICE)
    assert by_biller.status_code == 403
    assert by_biller.json() == {"detail": "role 'biller' lacks the 'supervise' permission"}
    nobody = await api.http.post(url, json={"assignee": "mallory"}, headers=SAM)
    assert problem(nobody) == "assignee: no active user 'mallory'"
    admin = await api.http.post(url, json={"assignee": "ada"}, headers=SAM)
    assert admin.status_code == 422
    neither = await api.http.post(url, json={}, headers=SAM)
    assert neither.status_code == 422
    same = await api.http.post(url, json={"assignee": "bob"}, headers=SAM)
    assert same.status_code == 409

    to_queue = await api.http.post(url, json={"queue": "supervisor"}, headers=SAM)
    assert to_queue.status_code == 200
    queued = api.open_task(await api.detail(case_id), "confirm_triage")
    assert (queued["assignee"], queued["queue"]) == (None, "supervisor")


# --- Case actions -------------------------------------------------------------------------


async def test_notes_priority_and_extensions(api: Api, harness: CaseHarness) -> None:
    """Notes appear in the timeline; only a supervisor changes priority (the score scales);
    an extension must move a deadline later (422 otherwise) and moves it in the read model."""
    today = await harness.today()
    case_id, detail = await api.opened_triaged(make_record(today))
    base = f"/api/v1/cases/{case_id}"

    note = await api.http.post(f"{base}/notes", json={"text": "called the payer"}, headers=BOB)
    assert note.status_code == 200
    assert note.json()["changes"] == ["note"]
    last = (await api.detail(case_id))["timeline"][-1]
    assert (last["type"], last["actor"], last["message"]) == ("note", "bob", "called the payer")
    empty = await api.http.post(f"{base}/notes", json={"text": ""}, headers=BOB)
    assert empty.status_code == 422
    by_admin = await api.http.post(f"{base}/notes", json={"text": "hello"}, headers=ADA)
    assert by_admin.status_code == 403

    before = detail["summary"]["priority"]
    assert before > 0
    refused = await api.http.post(
        f"{base}/priority", json={"adjustment": 2, "reason": "big payer"}, headers=ALICE
    )
    assert refused.status_code == 403
    raised = await api.http.post(
        f"{base}/priority", json={"adjustment": 2, "reason": "big payer"}, headers=SAM
    )
    assert (raised.status_code, raised.json()["changes"]) == (200, ["priority_changed"])
    assert (await api.detail(case_id))["state"]["priority_adjustment"] == 2.0
    assert (await api.detail(case_id))["summary"]["priority"] == pytest.approx(2 * before, abs=0.01)
    out_of_range = await api.http.post(
        f"{base}/priority", json={"adjustment": 0, "reason": "x"}, headers=SAM
    )
    assert out_of_range.status_code == 422

    due = today + timedelta(days=175)  # commercial first-level appeal
    assert detail["summary"]["next_deadline"] == due.isoformat()
    earlier = await api.http.post(
        f"{base}/extensions",
        json={"kind": "appeal", "level": 1, "new_due": str(due - timedelta(days=1)), "reason": "x"},
        headers=ALICE,
    )
    assert problem(earlier) == (
        f"new_due {due - timedelta(days=1)} is not after the current deadline {due}"
    )
    later = due + timedelta(days=30)
    extended = await api.http.post(
        f"{base}/extensions",
        json={"kind": "appeal", "level": 1, "new_due": str(later), "reason": "payer agreed"},
        headers=ALICE,
    )
    assert extended.status_code == 200, extended.text
    after = await api.detail(case_id)
    assert after["summary"]["next_deadline"] == later.isoformat()
    assert after["timeline"][-1]["type"] == "deadline_extended"
    no_such = await api.http.post(
        f"{base}/extensions",
        json={"kind": "appeal", "level": 3, "new_due": str(later), "reason": "x"},
        headers=ALICE,
    )
    assert no_such.status_code == 404


async def test_cancel_case(api: Api, harness: CaseHarness) -> None:
    """Only a supervisor cancels (a biller gets 403): the case closes with outcome cancelled
    and its open tasks are cancelled, as the read model shows right after."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today()))
    url = f"/api/v1/cases/{case_id}/cancel"

    by_biller = await api.http.post(url, json={"reason": "not ours"}, headers=ALICE)
    assert by_biller.status_code == 403
    cancelled = await api.http.post(url, json={"reason": "not ours"}, headers=SAM)
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["outcome"]) == ("closed", "cancelled")

    after = await api.detail(case_id)
    assert (after["summary"]["status"], after["summary"]["outcome"]) == ("closed", "cancelled")
    assert after["summary"]["closed_at"] is not None
    assert [t["status"] for t in after["tasks"]] == ["cancelled"]

    assert after["tasks"][0]["task_id"] == api.open_task(detail, "confirm_triage")["task_id"]
    types = [e["type"] for e in after["timeline"]]
    closing = after["timeline"][types.index("closed")]
    assert closing["message"] == "Closed: cancelled: cancelled by sam: not ours"
    assert types.index("task_cancelled") < types.index("closed")


async def wait_finished(api: Api, case_id: str, timeout: float = 15.0) -> Json:
    """Poll until the read model shows the closed case's prevention task (the workflow's last
    step before it completes), then until the workflow itself has completed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        detail = await api.detail(case_id)
        if "prevention_task" in [e["type"] for e in detail["timeline"]]:
            break
        assert loop.time() < deadline, "the case never emitted its prevention task"
        await asyncio.sleep(0.05)
    await api.harness.client.get_workflow_handle(case_id).result()
    return detail


async def test_actions_on_finished_case_conflict(api: Api, harness: CaseHarness) -> None:
    """Once a closed case's workflow has completed, acting on it (note, cancel, task, payer
    response) answers 409 "case ... is closed", never 404 for a case GET still shows."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today()))
    task_id = api.open_task(detail, "confirm_triage")["task_id"]
    cancel = await api.http.post(
        f"/api/v1/cases/{case_id}/cancel", json={"reason": "not ours"}, headers=SAM
    )
    assert cancel.status_code == 200
    await wait_finished(api, case_id)
    assert (await api.detail(case_id))["summary"]["status"] == "closed"

    closed = {"detail": f"case {case_id} is closed"}
    note = await api.http.post(f"/api/v1/cases/{case_id}/notes", json={"text": "x"}, headers=SAM)
    assert (note.status_code, note.json()) == (409, closed)
    again = await api.http.post(
        f"/api/v1/cases/{case_id}/cancel", json={"reason": "again"}, headers=SAM
    )
    assert (again.status_code, again.json()) == (409, closed)
    late = await complete(api, task_id, {"type": "confirm_triage"})
    assert (late.status_code, late.json()) == (409, closed)
    answer = await api.http.post(
        f"/api/v1/cases/{case_id}/payer-responses",
        json={"decision": "paid", "paid_amount": "1", "decision_date": "2020-01-02"},
        headers=ALICE,
    )
    assert (answer.status_code, answer.json()) == (409, closed)


async def test_live_returns_workflow_query_state(api: Api, harness: CaseHarness) -> None:
    """GET /cases/{id}/live is the workflow's Query: the state the workflow carries (its
    timeline is in the read model; settled, no event is pending)."""
    case_id, detail = await api.opened_triaged(make_record(await harness.today()))
    response = await api.http.get(f"/api/v1/cases/{case_id}/live", headers=ALICE)
    assert response.status_code == 200
    live = response.json()
    queried = await harness.client.get_workflow_handle(case_id).query("state")
    assert live["case_id"] == case_id
    assert live["status"] == "triaged"
    assert live["version"] == queried["version"]
    assert live["pending_events"] == []
    assert live["event_seq"] == detail["timeline"][-1]["seq"] == len(detail["timeline"])
    assert [t["task_id"] for t in live["tasks"]] == [t["task_id"] for t in detail["tasks"]]


# --- Health -------------------------------------------------------------------------------


async def test_health_probes(api: Api) -> None:
    """/healthz is always ok; /readyz checks the database and Temporal."""
    health = await api.http.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"database": "ok", "temporal": "ok"}}


@pytest.fixture
async def unreachable(
    api: Api, harness: CaseHarness, tmp_path: Path, rulebook: Rulebook
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same read model whose Temporal client points where nothing listens."""
    client = await temporalio.client.Client.connect(
        "127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter
    )
    settings = Settings(task_queue=harness.task_queue, data_dir=tmp_path)
    app = create_app(settings, engine=harness.engine, client=client, rulebook=rulebook)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_temporal_unreachable(
    api: Api, harness: CaseHarness, unreachable: httpx.AsyncClient
) -> None:
    """Without Temporal, opening a case and acting on one answer 503 with a clear message (no
    500, no traceback), reads of the read model still work, and /readyz is 503."""
    case_id, _ = await api.opened_triaged(make_record(await harness.today()))
    body = make_record(await harness.today()).model_dump(mode="json")

    opened = await unreachable.post("/api/v1/cases", json=body, headers=ALICE)
    assert (opened.status_code, opened.json()) == (503, {"detail": UNREACHABLE})
    assert "Traceback" not in opened.text
    note = await unreachable.post(
        f"/api/v1/cases/{case_id}/notes", json={"text": "x"}, headers=ALICE
    )
    assert (note.status_code, note.json()) == (503, {"detail": UNREACHABLE})
    assert note.headers["Retry-After"] == "5"
    live = await unreachable.get(f"/api/v1/cases/{case_id}/live", headers=ALICE)
    assert live.status_code == 503
    read = await unreachable.get(f"/api/v1/cases/{case_id}", headers=ALICE)
    assert read.status_code == 200

    ready = await unreachable.get("/readyz")
    assert ready.status_code == 503
    payload = ready.json()
    assert payload["ready"] is False
    assert payload["checks"]["database"] == "ok"
    assert payload["checks"]["temporal"].startswith("unreachable")


# --- Web pages ----------------------------------------------------------------------------


async def test_web_pages(api: Api, harness: CaseHarness) -> None:
    """/ redirects to /cases; the list shows the claim number linking to the case; the detail
    shows the deadlines and links to the workflow in the Temporal Web UI; unknown is 404."""
    record = make_record(await harness.today())
    case_id, detail = await api.opened_triaged(record)

    anonymous = await api.http.get("/cases")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fcases"
    signed_in = await post_login(
        api.http, {"username": "alice", "password": "demo", "next": "/cases"}
    )
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/cases")
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie

    home = await api.http.get("/")
    assert home.status_code in (302, 303, 307)
    assert home.headers["location"] == "/tasks"  # a biller's home

    listing = await api.http.get("/cases")
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("text/html")
    assert f'<a href="/cases/{case_id}">{record.claim.claim_id}</a>' in listing.text
    filtered = await api.http.get("/cases", params={"q": "no-such-claim"})
    assert record.claim.claim_id not in filtered.text and "No cases match." in filtered.text

    page = await api.http.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert ">Deadlines</h2>" in page.text
    for deadline in detail["state"]["deadlines"]:
        assert deadline["due"] in page.text
    # The Temporal Web UI is an admin tool: a biller's page does not link it (supervisors'
    # do: tests/api/test_role_matrix.py).
    assert f"/namespaces/default/workflows/{case_id}" not in page.text
    assert record.claim.claim_id in page.text

    missing = await api.http.get("/cases/unknown")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "No case unknown" in missing.text


async def test_case_page_shows_what_a_partial_payment_leaves_outstanding(
    api: Api, harness: CaseHarness
) -> None:
    today = await harness.today()
    case_id, _ = await api.opened_triaged(make_record(today, adjustments=[adj("CO-16", 1000)]))
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await to_path(harness, handle)
    await submit_corrected_claim(harness, handle, today)
    await harness.complete(
        handle,
        TaskType.RECORD_PAYER_RESPONSE,
        PayerResponseEntry(
            decision=PayerDecision.PARTIALLY_PAID, paid_amount=Decimal(400), decision_date=today
        ),
    )
    await api.wait_status(case_id, "write_off_review")
    await post_login(api.http, {"username": "alice", "password": "demo", "next": "/"})
    page = await api.http.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "<dt>Recovered</dt><dd>$400.00</dd>" in page.text
    assert "<dt>Outstanding</dt><dd><strong>$600.00</strong></dd>" in page.text
    assert "the remaining $600 is written off or worked further" in page.text
