"""Deactivating a user hands her work back: her open tasks return to their queues (each case
audited) and she no longer owns her cases, so their new tasks go to the queue too."""

from __future__ import annotations

from sqlmodel import Session, col, select

from db.models import AuditEventRow
from tests.api.conftest import Api, Json, as_user
from tests.api.polling import eventually
from tests.harness import CaseHarness

ALICE, ADA, BOB = as_user("alice"), as_user("ada"), as_user("bob")


async def test_deactivating_a_user_returns_her_tasks_and_cases_to_the_queue(
    api: Api, harness: CaseHarness
) -> None:
    cases = [await api.alice_owns_root_cause_task() for _ in range(2)]
    off = await api.http.patch("/api/v1/users/alice", json={"active": False}, headers=ADA)
    assert (off.status_code, off.json()["active"]) == (200, False)

    async def details() -> list[Json]:
        return [await api.detail(case_id, user="bob") for case_id, _ in cases]

    def handed_back(found: list[Json]) -> bool:
        return all(d["summary"]["owner"] is None for d in found)

    for detail, (_case_id, task_id) in zip(
        await eventually(details, handed_back, what="alice's work handed back"),
        cases,
        strict=True,
    ):
        task = next(t for t in detail["tasks"] if t["task_id"] == task_id)
        assert (task["status"], task["assignee"], task["queue"]) == ("open", None, "biller")
        returned = [e for e in detail["timeline"] if e["type"] == "task_returned"]
        assert [(e["actor"], e["data"]["from"]) for e in returned] == [("ada", "alice")]
        assert "alice was deactivated by ada" in returned[0]["message"]
        assert detail["timeline"][-1]["type"] == "owner_cleared"

    with Session(harness.engine) as session:
        audited = session.exec(
            select(AuditEventRow).where(col(AuditEventRow.action) == "user.work_returned")
        ).all()
    assert sorted((a.case_id, a.user_id, a.detail["target"]) for a in audited) == sorted(
        (case_id, "ada", "alice") for case_id, _ in cases
    )

    # Her cases' next tasks go to the queue: bob confirms a root cause, the appeal is his.
    case_id, task_id = cases[0]
    done = await api.http.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"payload": {"type": "confirm_root_cause"}},
        headers=BOB,
    )
    assert done.status_code == 200, done.text
    detail = await api.detail(case_id, user="bob")
    assert detail["summary"]["owner"] == "bob"
    assert api.open_task(detail, "prepare_appeal")["assignee"] == "bob"


async def test_deactivating_a_user_without_work_needs_no_workflow(
    api: Api, harness: CaseHarness
) -> None:
    """Nothing to hand back: the answer does not depend on the workflow service."""
    off = await api.http.patch("/api/v1/users/bob", json={"active": False}, headers=ADA)
    assert (off.status_code, off.json()["active"]) == (200, False)
    with Session(harness.engine) as session:
        actions = session.exec(select(AuditEventRow.action)).all()
    assert "user.hand_back" not in actions
