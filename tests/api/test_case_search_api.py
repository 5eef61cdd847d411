"""The case search and saved filters over HTTP (GET /api/v1/cases?q=..., /api/v1/case-filters),
and reassignment refusing a biller out of office unless the supervisor overrides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from db.models import AbsenceRow, AuditEventRow
from domain.models import Patient
from testkit.records import make_record
from tests.api.conftest import Api, Json, as_user

ALICE, BOB, SAM = as_user("alice"), as_user("bob"), as_user("sam")


async def search(api: Api, **params: str) -> set[str]:
    response = await api.http.get("/api/v1/cases", params=params, headers=ALICE)
    assert response.status_code == 200, response.text
    return {case["claim_id"] for case in response.json()["items"]}


async def test_search_and_saved_filters(api: Api) -> None:
    today = await api.harness.today()
    tag = uuid.uuid4().hex[:5].upper()
    numbers = {}
    for n, patient in ((7, "DOE, JANE"), (8, "ROE, RICHARD")):
        record = make_record(today, number=f"{tag}{n:07d}")
        claim = record.claim.model_copy(
            update={"patient": Patient(name=patient, member_id=f"M{tag}{n}")}
        )
        await api.opened_triaged(record.model_copy(update={"claim": claim}))
        numbers[n] = claim.claim_id
    assert await search(api, q=f"{tag}0000007") == {numbers[7]}
    assert await search(api, q=f"{tag.lower()} jane") == {numbers[7]}  # claim part + name
    assert await search(api, q=f"m{tag.lower()}8") == {numbers[8]}  # member id
    assert await search(api, q=f"{tag} doe richard") == set()
    # The payer is 'Commercial Payer' for both; dates bound the denial.
    assert await search(api, q=tag, denied_to=(today - timedelta(days=100)).isoformat()) == set()
    assert await search(api, q=tag, denied_from=(today - timedelta(days=30)).isoformat()) == set(
        numbers.values()
    )

    saved = await api.http.post(
        "/api/v1/case-filters",
        json={"name": "Jane", "filters": {"q": f"{tag} jane", "open_only": True}},
        headers=ALICE,
    )
    assert saved.status_code == 201, saved.text
    body: Json = saved.json()
    listed = (await api.http.get("/api/v1/case-filters", headers=ALICE)).json()
    assert [f["name"] for f in listed if f["filter_id"] == body["filter_id"]] == ["Jane"]
    kept = body["filters"]
    assert (kept["q"], kept["open_only"]) == (f"{tag} jane", True)
    assert await search(api, q=kept["q"], open_only="true") == {numbers[7]}
    other = await api.http.get(f"/api/v1/case-filters/{body['filter_id']}", headers=BOB)
    assert other.status_code == 404  # bob's own filters only
    gone = await api.http.delete(f"/api/v1/case-filters/{body['filter_id']}", headers=ALICE)
    assert gone.status_code == 204
    empty = await api.http.post(
        "/api/v1/case-filters", json={"name": "x", "filters": {}}, headers=ALICE
    )
    assert empty.status_code == 422


async def test_reassigning_to_a_biller_out_of_office(api: Api) -> None:
    """bob is away (an absence in progress): reassigning alice's task to him is refused (409,
    naming until when, audited refused) and nothing moves; with override_absence it moves
    (audited with away_override). The bulk reassignment refuses the same way."""
    case_id, task_id = await api.alice_owns_root_cause_task()
    now = datetime.now(UTC)
    with Session(api.harness.engine) as session:
        session.add(
            AbsenceRow(
                absence_id=uuid.uuid4().hex,
                user_id="bob",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=3),
                return_tasks=False,
                status="active",
                created_by="sam",
                created_at=now,
            )
        )
        session.commit()
    url = f"/api/v1/tasks/{task_id}/reassign"
    refused = await api.http.post(url, json={"assignee": "bob"}, headers=SAM)
    assert refused.status_code == 409, refused.text
    assert "'bob' is out of office until" in refused.json()["detail"]
    bulk = await api.http.post(
        "/api/v1/tasks/reassign", json={"assignee": "bob", "task_ids": [task_id]}, headers=SAM
    )
    assert bulk.status_code == 409, bulk.text
    detail = await api.detail(case_id, user="sam")
    assert Api.open_task(detail, "confirm_root_cause")["assignee"] == "alice"

    moved = await api.http.post(
        url, json={"assignee": "bob", "override_absence": True}, headers=SAM
    )
    assert moved.status_code == 200, moved.text
    detail = await api.detail(case_id, user="sam")
    assert Api.open_task(detail, "confirm_root_cause")["assignee"] == "bob"
    with Session(api.harness.engine) as session:
        rows = session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.task_id == task_id, AuditEventRow.action == "task.reassign")
            .order_by(col(AuditEventRow.id))
        ).all()
    assert [(r.outcome, r.detail.get("away_override")) for r in rows] == [
        ("refused", None),
        ("ok", True),
    ]
