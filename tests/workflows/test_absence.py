"""Out of office: an absent biller's open tasks go to the least-loaded billers, come back at
the end when the supervisor chose so, and stay when not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from domain.case import TaskType
from domain.workload import distribute
from services.absences import AbsenceIn, AbsenceService
from services.audit import AuditService
from services.users import UserService
from testkit.records import make_record
from tests.harness import ALICE, BOB, SAM, CaseHarness
from workflows.absence_workflow import AbsenceWorkflow
from workflows.messages import ConfirmTriage


def test_distribute_goes_to_the_lightest_load_first() -> None:
    assert distribute(["t1", "t2", "t3", "t4"], {"bob": 2, "carol": 0, "dan": 1}) == {
        "t1": "carol",
        "t2": "carol",
        "t3": "dan",
        "t4": "bob",
    }
    assert distribute(["t1"], {}) == {}


async def alice_owns_cases(harness: CaseHarness, count: int) -> list[str]:
    """Cases whose open root-cause task is assigned to alice."""
    today = await harness.today()
    case_ids = []
    for _ in range(count):
        handle, _ = await harness.triaged(make_record(today, remit_days_ago=10))
        await harness.complete(handle, TaskType.CONFIRM_TRIAGE, ConfirmTriage(), ALICE)
        case_ids.append(handle.id)
    return case_ids


async def assignees(harness: CaseHarness, case_ids: list[str]) -> list[str | None]:
    return [(await harness.state(harness.client.get_workflow_handle(c))).assignee for c in case_ids]


@pytest.mark.parametrize("return_tasks", [True, False])
async def test_tasks_move_away_and_back(harness: CaseHarness, return_tasks: bool) -> None:
    case_ids = await alice_owns_cases(harness, 2)
    with Session(harness.engine, expire_on_commit=False) as session:
        UserService(session).ensure_demo_users()
        absences = AbsenceService(
            session, harness.client, harness.task_queue, AuditService(session)
        )
        now = await harness.now()
        absence = await absences.mark_away(
            "alice",
            AbsenceIn(starts_at=now, ends_at=now + timedelta(days=3), return_tasks=return_tasks),
            SAM,
        )
        handle = harness.client.get_workflow_handle_for(
            AbsenceWorkflow.run, f"absence-{absence.absence_id}"
        )
        await harness.wait_for(
            harness.client.get_workflow_handle(case_ids[-1]), lambda s: s.assignee == BOB.user_id
        )
        assert await assignees(harness, case_ids) == ["bob", "bob"]  # the only other biller
        await harness.sleep(timedelta(hours=1))  # the activity has finished recording by then
        assert absences.list("alice")[0].tasks_moved == 2
        await harness.sleep(timedelta(days=3))
        assert await handle.result() == "ended"
        expected = "alice" if return_tasks else "bob"
        assert await assignees(harness, case_ids) == [expected, expected]
        session.expire_all()
        assert absences.list("alice")[0].status == "ended"
