"""The audit trail over HTTP: every case view and change (refused ones included) is recorded;
supervisors and admins search it (filters, total, paging), read one case's events and export
CSV oldest first; billers cannot; each search and export is itself audited."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from testkit.records import make_record
from tests.api.conftest import Api, Json, as_user
from tests.api.polling import eventually
from tests.harness import CaseHarness

ALICE, BOB, SAM, ADA = as_user("alice"), as_user("bob"), as_user("sam"), as_user("ada")
CSV_HEADER = "at,user_id,role,action,outcome,case_id,task_id,client_ip,detail"


@dataclass
class Story:
    case_id: str
    triage_task: str
    root_task: str


async def story(api: Api, harness: CaseHarness) -> Story:
    """alice opens a case, views it once and confirms triage; bob tries to complete alice's
    root-cause task (refused by the workflow) and to read the audit trail (refused by role).
    Triage is awaited in the read model directly, so no extra views are recorded."""
    case_id = await api.open_case(make_record(await harness.today()))

    async def status() -> str | None:
        row = harness.case_row(case_id)
        return row.status if row else None

    await eventually(status, lambda s: s == "triaged", what="triage")
    detail = await api.detail(case_id)  # the one case.view
    triage = api.open_task(detail, "confirm_triage")["task_id"]
    done = await api.http.post(
        f"/api/v1/tasks/{triage}/complete",
        json={"payload": {"type": "confirm_triage"}},
        headers=ALICE,
    )
    assert done.status_code == 200, done.text
    (root,) = done.json()["open_task_ids"]  # the confirm_root_cause task
    stolen = await api.http.post(
        f"/api/v1/tasks/{root}/complete",
        json={"payload": {"type": "confirm_root_cause"}},
        headers=BOB,
    )
    assert stolen.status_code == 403
    peek = await api.http.get("/api/v1/audit", headers=BOB)
    assert peek.status_code == 403
    return Story(case_id, triage, root)


async def search(api: Api, headers: Any = SAM, **params: Any) -> Json:
    response = await api.http.get("/api/v1/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def summary(events: list[Json]) -> list[tuple[str, str, str]]:
    return [(e["user_id"], e["action"], e["outcome"]) for e in events]


async def test_events_recorded_and_searched(api: Api, harness: CaseHarness) -> None:
    """The story's events are recorded newest first with role, case, task, detail and client
    address; user_id, case_id, action and outcome filter exactly."""
    s = await story(api, harness)
    page = await search(api)
    assert summary(page["items"]) == [
        ("bob", "access.refused", "refused"),
        ("bob", "task.complete", "refused"),
        ("alice", "task.complete", "ok"),
        ("alice", "case.view", "ok"),
        ("alice", "case.open", "ok"),
    ]
    assert (page["total"], page["limit"], page["offset"]) == (5, 100, 0)
    refused_role, refused_task, completed, viewed, opened = page["items"]
    assert refused_role["role"] == "biller" and refused_role["case_id"] is None
    assert refused_role["detail"] == {
        "method": "GET",
        "path": "/api/v1/audit",
        "permission": "view_audit",
    }
    assert (refused_task["case_id"], refused_task["task_id"]) == (s.case_id, s.root_task)
    assert refused_task["detail"] == {
        "reason": f"task {s.root_task} is assigned to alice, not to bob",
        "type": "confirm_root_cause",
    }
    assert (completed["case_id"], completed["task_id"]) == (s.case_id, s.triage_task)
    assert completed["detail"] == {"type": "confirm_triage"}
    assert (viewed["case_id"], viewed["task_id"], viewed["detail"]) == (s.case_id, None, {})
    assert opened["detail"] == {"created": True}
    assert {e["client_ip"] for e in page["items"]} == {"127.0.0.1"}
    ats = [datetime.fromisoformat(e["at"]) for e in page["items"]]
    assert ats == sorted(ats, reverse=True) and all(a.utcoffset() == timedelta(0) for a in ats)

    assert summary((await search(api, user_id="bob"))["items"]) == summary(page["items"][:2])
    by_case = await search(api, case_id=s.case_id)
    assert summary(by_case["items"]) == summary(page["items"][1:])
    assert by_case["total"] == 4
    views = await search(api, action="case.view")
    assert [e["id"] for e in views["items"]] == [viewed["id"]]
    refused = await search(api, outcome="refused")
    assert [e["id"] for e in refused["items"]] == [refused_role["id"], refused_task["id"]]
    both = await search(api, user_id="alice", action="task.complete", outcome="ok")
    assert [e["id"] for e in both["items"]] == [completed["id"]]
    assert (await search(api, user_id="nobody"))["total"] == 0
    bad = await api.http.get("/api/v1/audit", params={"outcome": "maybe"}, headers=SAM)
    assert bad.status_code == 422

    # A client can write any X-Forwarded-For: the audit keeps the address it connected from.
    forwarded = await api.http.get(
        f"/api/v1/cases/{s.case_id}",
        headers={**ALICE, "X-Forwarded-For": "203.0.113.7, 10.0.0.1"},
    )
    assert forwarded.status_code == 200
    [latest] = (await search(api, action="case.view", limit=1))["items"]
    assert latest["client_ip"] == "127.0.0.1"


async def test_time_window_and_paging(api: Api, harness: CaseHarness) -> None:
    """since is inclusive and until exclusive (any UTC offset); limit/offset page the newest-
    first list while total counts every match."""
    await story(api, harness)
    everything = (await search(api, limit=1000))["items"]
    oldest_first = list(reversed(everything))
    assert len(oldest_first) == 5  # the story's; this search is recorded after it ran
    pivot = oldest_first[2]
    pivot_at = datetime.fromisoformat(pivot["at"])

    since = (await search(api, since=pivot["at"], limit=1000))["items"]
    newer = since[0]  # recorded since `everything` was read: that search itself
    assert (newer["user_id"], newer["action"]) == ("sam", "audit.search")
    assert [e["id"] for e in since[1:]] == [e["id"] for e in everything[:3]]
    assert since[-1]["id"] == pivot["id"]
    until = await search(api, until=pivot["at"])
    assert [e["id"] for e in until["items"]] == [e["id"] for e in reversed(oldest_first[:2])]
    plus_two = pivot_at.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert "+02:00" in plus_two
    assert [e["id"] for e in (await search(api, until=plus_two))["items"]] == [
        e["id"] for e in until["items"]
    ]
    window = await search(api, since=oldest_first[1]["at"], until=oldest_first[3]["at"])
    assert [e["id"] for e in window["items"]] == [oldest_first[2]["id"], oldest_first[1]["id"]]
    future = (pivot_at + timedelta(days=1)).isoformat()
    assert (await search(api, since=future))["total"] == 0

    by_case = dict(case_id=oldest_first[0]["case_id"])
    first = await search(api, limit=2, offset=0, **by_case)
    second = await search(api, limit=2, offset=2, **by_case)
    third = await search(api, limit=2, offset=4, **by_case)
    assert (first["total"], first["limit"], first["offset"]) == (4, 2, 0)
    assert (second["total"], second["offset"]) == (4, 2)
    assert third["items"] == [] and third["total"] == 4
    paged = [e["id"] for e in first["items"] + second["items"]]
    assert paged == [e["id"] for e in (await search(api, **by_case))["items"]]
    assert len(set(paged)) == 4
    too_big = await api.http.get("/api/v1/audit", params={"limit": 1001}, headers=SAM)
    assert too_big.status_code == 422


async def test_case_audit_and_csv_export(api: Api, harness: CaseHarness) -> None:
    """/cases/{id}/audit lists that case's events (views included; it filters by action too);
    audit.csv streams text/csv with the header row and one row per matching event, oldest
    first, as an attachment. Admins may read both."""
    s = await story(api, harness)
    response = await api.http.get(f"/api/v1/cases/{s.case_id}/audit", headers=SAM)
    assert response.status_code == 200, response.text
    case_page = response.json()
    assert summary(case_page["items"]) == [
        ("bob", "task.complete", "refused"),
        ("alice", "task.complete", "ok"),
        ("alice", "case.view", "ok"),
        ("alice", "case.open", "ok"),
    ]
    assert case_page["total"] == 4
    assert {e["case_id"] for e in case_page["items"]} == {s.case_id}
    views = await api.http.get(
        f"/api/v1/cases/{s.case_id}/audit", params={"action": "case.view"}, headers=ADA
    )
    assert views.status_code == 200
    assert summary(views.json()["items"]) == [("alice", "case.view", "ok")]
    unknown = await api.http.get("/api/v1/cases/no-such-case/audit", headers=SAM)
    assert (unknown.status_code, unknown.json()["total"]) == (200, 0)

    export = await api.http.get("/api/v1/audit.csv", params={"case_id": s.case_id}, headers=SAM)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.headers["content-disposition"] == 'attachment; filename="audit.csv"'
    lines = export.text.splitlines()
    assert lines[0] == CSV_HEADER
    rows = list(csv.reader(io.StringIO(export.text)))[1:]
    expected = [
        [
            datetime.fromisoformat(e["at"]).isoformat(),
            e["user_id"],
            e["role"],
            e["action"],
            e["outcome"],
            e["case_id"] or "",
            e["task_id"] or "",
            e["client_ip"],
            ";".join(f"{k}={v}" for k, v in sorted(e["detail"].items())),
        ]
        for e in reversed(case_page["items"])
    ]
    assert rows == expected
    assert rows[2][-1] == "type=confirm_triage"
    assert rows[3][-1] == (
        f"reason=task {s.root_task} is assigned to alice, not to bob;type=confirm_root_cause"
    )

    total_before = (await search(api))["total"]  # this search is recorded after counting
    everything = await api.http.get("/api/v1/audit.csv", headers=ADA)
    assert everything.status_code == 200
    all_rows = list(csv.reader(io.StringIO(everything.text)))
    assert all_rows[0] == CSV_HEADER.split(",")
    assert len(all_rows) - 1 == total_before + 2  # + that search + this export itself
    assert all_rows[-1][1:5] == ["ada", "admin", "audit.export", "ok"]
    ats = [datetime.fromisoformat(row[0]) for row in all_rows[1:]]
    assert ats == sorted(ats)


async def test_billers_refused_and_reads_audited(api: Api, harness: CaseHarness) -> None:
    """Billers get 403 on every audit read (each refusal recorded); every search, case audit
    read and export by a supervisor or admin is itself recorded (audit.search / audit.export)
    with the filters it used."""
    s = await story(api, harness)
    for url in ("/api/v1/audit", "/api/v1/audit.csv", f"/api/v1/cases/{s.case_id}/audit"):
        refused = await api.http.get(url, headers=ALICE)
        assert refused.status_code == 403, url
        assert refused.json() == {"detail": "role 'biller' lacks the 'view_audit' permission"}

    await search(api, user_id="bob")
    await search(api, ADA, action="case.view", outcome="ok")
    assert (await api.http.get(f"/api/v1/cases/{s.case_id}/audit", headers=SAM)).is_success
    assert (
        await api.http.get("/api/v1/audit.csv", params={"user_id": "alice"}, headers=ADA)
    ).is_success

    refusals = await search(api, action="access.refused")
    assert sorted((e["user_id"], e["detail"]["path"]) for e in refusals["items"]) == sorted(
        [
            ("bob", "/api/v1/audit"),
            ("alice", "/api/v1/audit"),
            ("alice", "/api/v1/audit.csv"),
            ("alice", f"/api/v1/cases/{s.case_id}/audit"),
        ]
    )
    searches = (await search(api, action="audit.search"))["items"]
    assert [(e["user_id"], e["role"]) for e in reversed(searches)] == [
        ("sam", "supervisor"),
        ("ada", "admin"),
        ("sam", "supervisor"),
        ("sam", "supervisor"),  # the access.refused search just above
    ]
    first, by_admin, case_read, _ = reversed(searches)
    assert first["detail"] == {"filters": '{"user_id":"bob"}'}
    assert by_admin["detail"] == {"filters": '{"action":"case.view","outcome":"ok"}'}
    assert case_read["detail"] == {"filters": f'{{"case_id":"{s.case_id}"}}'}
    [exported] = (await search(api, action="audit.export"))["items"]
    assert (exported["user_id"], exported["detail"]) == ("ada", {"filters": '{"user_id":"alice"}'})


async def test_admins_read_the_audit_trail_without_phi(api: Api, harness: CaseHarness) -> None:
    """A name searched for and a reason typed by a supervisor are in the audit trail: the
    supervisor reads them, an admin (who never reads cases) sees them withheld, in the search,
    the case audit and the CSV export alike; ids, codes and outcomes stay visible to both."""
    case_id = await api.open_case(make_record(await harness.today()))
    await api.wait_status(case_id, "triaged")
    searched = await api.http.get("/api/v1/cases", params={"q": "JANE DOE"}, headers=ALICE)
    assert searched.status_code == 200
    cancel = await api.http.post(
        f"/api/v1/cases/{case_id}/cancel", json={"reason": "Jane Doe paid at the desk"}, headers=SAM
    )
    assert cancel.status_code == 200, cancel.text

    for who, sees_phi in ((SAM, True), (ADA, False)):
        found = await search(api, who, limit=1000)
        text = json.dumps(found)
        assert ("JANE DOE" in text and "Jane Doe paid" in text) is sees_phi
        if not sees_phi:
            [cancelled] = [e for e in found["items"] if e["action"] == "case.cancel"]
            assert cancelled["case_id"] == case_id  # an opaque id: shown
            assert cancelled["detail"]["why"].startswith("[withheld")
        case_audit = await api.http.get(f"/api/v1/cases/{case_id}/audit", headers=who)
        assert ("Jane Doe paid" in case_audit.text) is sees_phi
        export = await api.http.get("/api/v1/audit.csv", headers=who)
        assert ("JANE DOE" in export.text) is sees_phi
