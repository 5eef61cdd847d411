"""The biller's queue over HTTP, on real cases (the time-skipping server): My tasks and the
team queue show actionable work by default and the payer's answers apart, the next task is the
top of it, a follow-up date parks a case (PUT / GET / DELETE .../follow-up), a claimed task is
released back to the queue, and each user keeps their own next-task preference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from db.models import AuditEventRow
from testkit.records import adj, make_record
from tests.api.conftest import Api, as_user, problem
from tests.api.test_payer_responses_api import awaiting_payer
from tests.harness import CaseHarness

ALICE = as_user("alice")


async def ids(api: Api, url: str, user: str = "alice", **params: str) -> list[str]:
    response = await api.http.get(url, params=params, headers=as_user(user))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return [task["task_id"] for task in page["items"]]


async def test_my_tasks_leave_the_payers_answers_apart(api: Api, harness: CaseHarness) -> None:
    """A big corrected claim awaiting the payer (its record-payer-response task outranks any
    triage by priority) and a small medical-necessity triage alice claimed: My tasks, the next
    task and the queue show the triage; the payer's answer is under view=waiting, its expected
    day as due_at."""
    waiting_case = await awaiting_payer(api, harness, billed=40_000)
    answer = api.open_task(await api.detail(waiting_case), "record_payer_response")
    assert answer["assignee"] == "alice"
    today = await harness.today()
    _, detail = await api.opened_triaged(
        make_record(today, adjustments=[adj("CO-50", 300)], billed=300)
    )
    triage = api.open_task(detail, "confirm_triage")
    assert triage["priority"] < answer["priority"]
    assert await ids(api, "/api/v1/tasks/queue") == [triage["task_id"]]
    claimed = await api.http.post(f"/api/v1/tasks/{triage['task_id']}/claim", headers=ALICE)
    assert claimed.status_code == 200, claimed.text

    assert await ids(api, "/api/v1/tasks/mine") == [triage["task_id"]]
    assert await ids(api, "/api/v1/tasks/mine", view="waiting") == [answer["task_id"]]
    everything = await ids(api, "/api/v1/tasks/mine", view="all")
    assert sorted(everything) == sorted([triage["task_id"], answer["task_id"]])
    assert await ids(api, "/api/v1/tasks/queue") == []
    nxt = await api.http.get("/api/v1/tasks/next", headers=ALICE)
    assert nxt.json()["task"]["task_id"] == triage["task_id"]
    waiting = (await api.http.get("/api/v1/tasks/mine?view=waiting", headers=ALICE)).json()
    [item] = waiting["items"]
    assert item["waiting_on_payer"] and item["due_at"] == answer["due_at"]
    nothing = await api.http.get("/api/v1/tasks/next", headers=as_user("bob"))
    assert nothing.json() == {"task": None}
    assert "view" in problem(await api.http.get("/api/v1/tasks/mine?view=soon", headers=ALICE))


async def test_a_follow_up_date_parks_the_case_over_http(api: Api, harness: CaseHarness) -> None:
    """PUT parks the case (its task moves to view=parked, marked), GET shows it, DELETE brings
    it back; a date that is not ahead is refused with the reason (422) and audited."""
    case_id, task_id = await api.alice_owns_root_cause_task()
    url = f"/api/v1/cases/{case_id}/follow-up"
    assert (await api.http.get(url, headers=ALICE)).json() is None
    today = datetime.now(UTC).date()  # the office's day (DENIALS_TIMEZONE: UTC here)
    on = today + timedelta(days=4)

    parked = await api.http.put(
        url, json={"follow_up_on": on.isoformat(), "reason": "waiting on records"}, headers=ALICE
    )
    assert parked.status_code == 200, parked.text
    assert parked.json() | {"set_at": None} == {
        "case_id": case_id,
        "follow_up_on": on.isoformat(),
        "reason": "waiting on records",
        "set_by": "alice",
        "set_at": None,
        "parked": True,
    }
    assert (await api.http.get(url, headers=as_user("sam"))).json()["follow_up_on"] == str(on)
    assert task_id not in await ids(api, "/api/v1/tasks/mine")
    assert await ids(api, "/api/v1/tasks/mine", view="parked") == [task_id]
    parked_page = (await api.http.get("/api/v1/tasks/mine?view=parked", headers=ALICE)).json()
    assert parked_page["items"][0]["parked"] is True

    refused = await api.http.put(
        url, json={"follow_up_on": today.isoformat(), "reason": "now"}, headers=ALICE
    )
    assert problem(refused) == f"follow_up_on: must be after today ({today.isoformat()})"

    cleared = await api.http.delete(url, headers=ALICE)
    assert cleared.status_code == 204
    assert task_id in await ids(api, "/api/v1/tasks/mine")
    assert (await api.http.delete(url, headers=ALICE)).status_code == 404
    with Session(harness.engine) as session:
        actions = session.exec(
            select(AuditEventRow.action, AuditEventRow.outcome)
            .where(AuditEventRow.case_id == case_id)
            .where(col(AuditEventRow.action).startswith("case.follow_up"))
            .order_by(col(AuditEventRow.id))
        ).all()
    assert actions == [
        ("case.follow_up", "ok"),
        ("case.follow_up", "refused"),
        ("case.follow_up_cleared", "ok"),
        ("case.follow_up_cleared", "refused"),
    ]


async def test_a_released_task_goes_back_to_the_queue(api: Api, harness: CaseHarness) -> None:
    """Alice releases the root-cause task she holds: it leaves My tasks for the team queue,
    unassigned, and bob can claim it."""
    case_id, task_id = await api.alice_owns_root_cause_task()
    assert task_id in await ids(api, "/api/v1/tasks/mine")
    released = await api.http.post(f"/api/v1/tasks/{task_id}/release", headers=ALICE)
    assert released.status_code == 200, released.text
    assert task_id not in await ids(api, "/api/v1/tasks/mine")
    assert task_id in await ids(api, "/api/v1/tasks/queue", user="bob")
    assert api.open_task(await api.detail(case_id), "confirm_root_cause")["assignee"] is None
    taken = await api.http.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user("bob"))
    assert taken.status_code == 200, taken.text


async def test_the_next_task_preference_over_http(api: Api) -> None:
    url = "/api/v1/tasks/preferences"
    assert (await api.http.get(url, headers=ALICE)).json() == {"continue_to_next_task": False}
    chosen = await api.http.put(url, json={"continue_to_next_task": True}, headers=ALICE)
    assert chosen.json() == {"continue_to_next_task": True}
    assert (await api.http.get(url, headers=ALICE)).json() == {"continue_to_next_task": True}
    assert (await api.http.get(url, headers=as_user("bob"))).json() == {
        "continue_to_next_task": False
    }
