"""Out of office over HTTP: a supervisor marks a biller away; from the start their open tasks
go to the least-loaded other biller, and when the absence ends (here: ended early) the tasks
still open come back. Periods are validated; only billers can be marked away, not twice at
once, and only by supervisors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api.conftest import Api, Json, as_user, problem
from tests.api.polling import eventually
from tests.harness import CaseHarness

ALICE, BOB, SAM = as_user("alice"), as_user("bob"), as_user("sam")


def period(start: datetime, end: datetime, return_tasks: bool = True) -> Json:
    return {
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "return_tasks": return_tasks,
    }


async def absences(api: Api, **params: str) -> list[Json]:
    response = await api.http.get("/api/v1/absences", params=params, headers=SAM)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def assignee(api: Api, case_id: str, task_id: str) -> Any:
    detail = await api.detail(case_id, user="sam")
    return next(t["assignee"] for t in detail["tasks"] if t["task_id"] == task_id)


async def test_tasks_move_away_and_come_back(api: Api, harness: CaseHarness) -> None:
    """sam marks alice away from now for 2 days with return_tasks: 201; her open task moves to
    bob (the only other biller) and the absence lists as active with tasks_moved 1; ending it
    early gives the task back to alice and the absence ends. Both are audited."""
    case_id, task_id = await api.alice_owns_root_cause_task()
    now = await harness.now()
    response = await api.http.post(
        "/api/v1/users/alice/absences", json=period(now, now + timedelta(days=2)), headers=SAM
    )
    assert response.status_code == 201, response.text
    created = response.json()
    absence_id = created["absence_id"]
    assert (created["user_id"], created["created_by"], created["return_tasks"]) == (
        "alice",
        "sam",
        True,
    )
    assert datetime.fromisoformat(created["starts_at"]) == now
    assert datetime.fromisoformat(created["ends_at"]) == now + timedelta(days=2)

    await eventually(
        lambda: assignee(api, case_id, task_id), lambda a: a == "bob", what="the task at bob"
    )
    [listed] = await eventually(
        lambda: absences(api, user_id="alice"),
        lambda rows: rows[0]["tasks_moved"] == 1,
        what="tasks_moved 1",
    )
    assert listed["absence_id"] == absence_id
    status_while_away = listed["status"]  # asserted last, so the rest is checked either way
    assert await absences(api, user_id="bob") == []
    moved = (await api.detail(case_id))["timeline"][-1]
    assert (moved["type"], moved["actor"]) == ("task_reassigned", "sam")

    ended = await api.http.post(f"/api/v1/absences/{absence_id}/end", headers=SAM)
    assert ended.status_code == 200, ended.text
    assert ended.json()["absence_id"] == absence_id
    await eventually(
        lambda: assignee(api, case_id, task_id), lambda a: a == "alice", what="the task back"
    )
    [after] = await eventually(
        lambda: absences(api, user_id="alice"),
        lambda rows: rows[0]["status"] == "ended",
        what="the absence ended",
    )
    assert after["tasks_moved"] == 1
    again = await api.http.post(f"/api/v1/absences/{absence_id}/end", headers=SAM)
    assert again.status_code == 409
    assert again.json() == {"detail": f"absence {absence_id} is already ended"}

    trail = await api.http.get("/api/v1/audit", params={"user_id": "sam"}, headers=SAM)
    actions = [(e["action"], e["outcome"]) for e in reversed(trail.json()["items"])]
    assert ("user.away", "ok") in actions
    assert ("user.back", "ok") in actions
    assert actions.index(("user.away", "ok")) < actions.index(("user.back", "ok"))
    assert status_while_away == "active"


async def test_colleague_who_is_away_gets_no_tasks(api: Api, harness: CaseHarness) -> None:
    """With bob already away, marking alice away moves her task to nobody (bob is the only
    other biller and is away himself): it stays with alice rather than going to an absent
    colleague."""
    case_id, task_id = await api.alice_owns_root_cause_task()
    now = await harness.now()
    for user in ("bob", "alice"):
        response = await api.http.post(
            f"/api/v1/users/{user}/absences",
            json=period(now, now + timedelta(days=2)),
            headers=SAM,
        )
        assert response.status_code == 201, response.text
        if user == "bob":  # his absence has started before alice's is marked
            await harness.sleep(timedelta(minutes=30))
    await harness.sleep(timedelta(hours=1))  # alice's redistribution has finished by then
    assert await assignee(api, case_id, task_id) == "alice"
    assert [a["tasks_moved"] for a in await absences(api, user_id="alice")] == [0]


async def test_absence_validation(api: Api, harness: CaseHarness) -> None:
    """ends_at not after starts_at or naive datetimes: 422; a supervisor: 422; an unknown user:
    404; a second absence overlapping the first: 409; a biller calling: 403; ending an unknown
    absence: 404."""
    now = await harness.now()
    later = now + timedelta(days=2)
    url = "/api/v1/users/alice/absences"

    backwards = await api.http.post(url, json=period(later, now), headers=SAM)
    assert backwards.status_code == 422
    assert "ends_at must be after starts_at" in backwards.text
    naive = period(now.replace(tzinfo=None), later.replace(tzinfo=None))
    no_zone = await api.http.post(url, json=naive, headers=SAM)
    assert no_zone.status_code == 422
    assert "with a time zone" in no_zone.text
    over = await api.http.post(
        url, json=period(now - timedelta(days=3), now - timedelta(days=1)), headers=SAM
    )
    assert problem(over) == "ends_at: the absence is already over"

    supervisor = await api.http.post(
        "/api/v1/users/sam/absences", json=period(now, later), headers=SAM
    )
    assert problem(supervisor) == "user_id: 'sam' is a supervisor; out of office is for billers"
    nobody = await api.http.post(
        "/api/v1/users/mallory/absences", json=period(now, later), headers=SAM
    )
    assert (nobody.status_code, nobody.json()) == (404, {"detail": "no active user 'mallory'"})
    by_biller = await api.http.post(
        "/api/v1/users/bob/absences", json=period(now, later), headers=ALICE
    )
    assert by_biller.status_code == 403
    assert by_biller.json() == {"detail": "role 'biller' lacks the 'supervise' permission"}
    listing = await api.http.get("/api/v1/absences", headers=BOB)
    assert listing.status_code == 403

    first = await api.http.post(url, json=period(now, later), headers=SAM)
    assert first.status_code == 201, first.text
    overlapping = await api.http.post(
        url, json=period(now + timedelta(days=1), now + timedelta(days=4)), headers=SAM
    )
    assert overlapping.status_code == 409
    assert overlapping.json() == {
        "detail": f"'alice' is already away then (absence {first.json()['absence_id']})"
    }
    afterwards = await api.http.post(
        url, json=period(later, later + timedelta(days=1)), headers=SAM
    )
    assert afterwards.status_code == 201  # touching, not overlapping
    listed = await absences(api, user_id="alice")
    assert [a["absence_id"] for a in listed] == [  # latest start first
        afterwards.json()["absence_id"],
        first.json()["absence_id"],
    ]
    assert listed[0]["status"] == "scheduled"
    unknown = await api.http.post("/api/v1/absences/nope/end", headers=SAM)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "no absence nope"})
