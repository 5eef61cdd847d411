"""A case workflow stopped outside the product, on the Temporal dev server (schedules and
visibility queries, which the time-skipping server lacks): terminated with the Temporal client
as the CLI or the Web UI would, or deleted. The sweep its schedule starts records it; the read
model, the case page, the case list, the supervisor console and /metrics show it; a change to
it answers a 409 that says what happened; a supervisor restarts it and the case works again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, ScheduleOverlapPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.deps import SESSION_COOKIE
from db.models import AuditEventRow, CaseRow, CaseWorkflowStopRow
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from domain.case import CaseState
from domain.workflow_stops import StopStatus, refusal
from services.auth import AuthService, SessionKind
from services.stopped_cases import latest_run
from services.users import UserService
from testkit.records import make_record
from tests.api.conftest import Api, as_user
from tests.harness import CaseHarness
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import CaseInput
from workflows.stopped_case_sweep import (
    SCHEDULE_ID,
    StoppedCaseSweepWorkflow,
    ensure_sweep_schedule,
)

ALICE = as_user("alice")
SAM = as_user("sam")
BANNER = "nothing can change it until a supervisor restarts it"


@pytest.fixture
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server in place of the time-skipping server the other API tests use."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(installed_binary("temporal")),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await ensure_search_attributes(env.client, "default")
        yield env


async def sweep_now(client: Client, task_queue: str) -> dict[str, object]:
    """Start a sweep through the schedule the worker keeps, and wait for its report."""
    assert await ensure_sweep_schedule(client, task_queue)
    schedule = client.get_schedule_handle(SCHEDULE_ID)
    asked = datetime.now(UTC) - timedelta(seconds=1)
    await schedule.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        recent = (await schedule.describe()).info.recent_actions
        started = [a.action for a in recent if a.started_at >= asked]
        if started:
            break
        assert loop.time() < deadline, "the schedule started no sweep"
        await asyncio.sleep(0.1)
    action = started[-1]
    assert isinstance(action, ScheduleActionExecutionStartWorkflow)
    handle = client.get_workflow_handle_for(
        StoppedCaseSweepWorkflow.run, action.workflow_id, run_id=action.first_execution_run_id
    )
    return (await handle.result()).model_dump()


def stops_of(harness: CaseHarness, case_id: str) -> list[CaseWorkflowStopRow]:
    with Session(harness.engine) as session:
        return list(
            session.exec(
                select(CaseWorkflowStopRow)
                .where(CaseWorkflowStopRow.case_id == case_id)
                .order_by(col(CaseWorkflowStopRow.id))
            )
        )


def audit_of(harness: CaseHarness, case_id: str, action: str) -> list[AuditEventRow]:
    with Session(harness.engine) as session:
        return list(
            session.exec(
                select(AuditEventRow).where(
                    AuditEventRow.case_id == case_id, AuditEventRow.action == action
                )
            )
        )


def sign_in_page(api: Api, harness: CaseHarness, user_id: str) -> str:
    """The web client signed in as `user_id` (a session cookie); its CSRF token."""
    with Session(harness.engine, expire_on_commit=False) as session:
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        token, row = auth.open_session(UserService(session).get(user_id), SessionKind.COOKIE)
    api.http.cookies.clear()
    api.http.cookies.set(SESSION_COOKIE, token)
    return row.csrf_token


async def complete_triage(api: Api, case_id: str, user: str = "alice") -> int:
    detail = await api.detail(case_id)
    task = api.open_task(detail, "confirm_triage")
    done = await api.http.post(
        f"/api/v1/tasks/{task['task_id']}/complete",
        json={"payload": {"type": "confirm_triage"}},
        headers=as_user(user),
    )
    return done.status_code


async def test_the_sweep_finds_a_terminated_case_that_a_supervisor_restarts(
    api: Api, harness: CaseHarness
) -> None:
    record = make_record(await harness.today())
    case_id, _ = await api.opened_triaged(record)
    running = await api.opened_triaged(make_record(await harness.today()))
    stopped = harness.client.get_workflow_handle(case_id)
    first_run = (await stopped.describe()).run_id
    await stopped.terminate(reason="looked stuck")  # free text: never copied to the case

    report = await sweep_now(harness.client, harness.task_queue)
    assert report["recorded"] == 1 and report["full"] is True
    (stop,) = stops_of(harness, case_id)
    closed_at = (await stopped.describe()).close_time
    assert (stop.status, stop.run_id, stop.stopped_at, stop.detected_by) == (
        "terminated",
        first_run,
        closed_at,
        "sweep",
    )
    assert stop.stopped_by  # the terminating client's identity
    assert stops_of(harness, running[0]) == []
    (noticed,) = audit_of(harness, case_id, "case.workflow_stopped")
    assert (noticed.user_id, noticed.detail["status"]) == ("system", "terminated")
    assert "looked stuck" not in str(noticed.detail)
    # The next sweep finds nothing new.
    assert (await sweep_now(harness.client, harness.task_queue))["recorded"] == 0

    listed = await api.http.get("/api/v1/stopped-cases", headers=SAM)
    assert listed.status_code == 200, listed.text
    (shown,) = listed.json()
    assert (shown["case_id"], shown["status"], shown["claim_id"]) == (
        case_id,
        "terminated",
        record.claim.claim_id,
    )
    metrics = (await api.http.get("/metrics")).text
    assert 'denials_stopped_case_workflows{status="terminated"} 1.0' in metrics
    assert 'denials_stopped_case_workflows{status="failed"} 0.0' in metrics

    # Everyone reading the case sees why nothing moves; only a supervisor gets the button.
    sign_in_page(api, harness, "alice")
    page = (await api.http.get(f"/cases/{case_id}")).text
    assert "This case's workflow was terminated in Temporal on " in page and BANNER in page
    assert "Ask a supervisor to restart it." in page
    assert "/restart-workflow" not in page and f'action="/cases/{case_id}/tasks/' not in page
    sign_in_page(api, harness, "sam")
    page = (await api.http.get(f"/cases/{case_id}")).text
    assert f'action="/cases/{case_id}/restart-workflow"' in page
    cases = (await api.http.get("/cases", params={"open_only": "true"})).text
    assert "1 case cannot change: its workflow was stopped in Temporal" in cases
    assert cases.count("workflow stopped</span>") == 1
    console = (await api.http.get("/supervisor")).text
    assert "Workflows stopped outside the case manager" in console
    assert f'<a href="/cases/{case_id}">{record.claim.claim_id}</a>' in console

    restarted = await api.http.post(f"/api/v1/cases/{case_id}/restart", headers=SAM)
    assert restarted.status_code == 200, restarted.text
    assert restarted.json()["status"] == "triaged" and restarted.json()["was"] == "terminated"
    (stop,) = stops_of(harness, case_id)
    assert (stop.cleared_by, stop.new_run_id) == ("sam", restarted.json()["run_id"])
    assert (await stopped.describe()).run_id == restarted.json()["run_id"] != first_run
    again = await api.http.post(f"/api/v1/cases/{case_id}/restart", headers=SAM)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"case {case_id}'s workflow is running: there is nothing to restart"
    )
    restarts = audit_of(harness, case_id, "case.restart_workflow")
    assert [(a.user_id, a.outcome) for a in restarts] == [("sam", "ok"), ("sam", "refused")]

    # The case works again, from where it stopped: its task is completed and the next appears.
    assert await complete_triage(api, case_id) == 200
    await api.wait_status(case_id, "root_cause")
    assert (await sweep_now(harness.client, harness.task_queue))["recorded"] == 0
    assert [s.cleared_at is not None for s in stops_of(harness, case_id)] == [True]


async def test_a_change_to_a_terminated_case_answers_a_409_saying_so(
    api: Api, harness: CaseHarness
) -> None:
    case_id, _ = await api.opened_triaged(make_record(await harness.today()))
    handle = harness.client.get_workflow_handle(case_id)
    await handle.terminate()
    expected = refusal(case_id, StopStatus.TERMINATED, (await handle.describe()).close_time)

    refused = await api.http.post(
        f"/api/v1/cases/{case_id}/notes", json={"text": "called the payer"}, headers=ALICE
    )
    assert (refused.status_code, refused.json()) == (409, {"detail": expected})
    (stop,) = stops_of(harness, case_id)
    assert (stop.status, stop.detected_by) == ("terminated", "action")
    assert await complete_triage(api, case_id) == 409  # tasks too; still recorded once
    assert len(stops_of(harness, case_id)) == 1
    (note,) = audit_of(harness, case_id, "case.note")
    assert (note.outcome, note.detail["reason"]) == ("refused", expected)
    assert len(audit_of(harness, case_id, "case.workflow_stopped")) == 1

    # Someone starts the case again in Temporal, not through the product: the sweep sees it
    # running and clears the stop.
    state = CaseState.model_validate((await api.detail(case_id))["state"])
    await harness.client.start_workflow(
        DenialCaseWorkflow.run,
        CaseInput(case_id=case_id, record=state.record, policy=state.policy, resume=state),
        id=case_id,
        task_queue=harness.task_queue,
    )
    report = await sweep_now(harness.client, harness.task_queue)
    assert (report["cleared"], report["recorded"]) == (1, 0)
    (stop,) = stops_of(harness, case_id)
    assert stop.cleared_by == "temporal"
    (running,) = audit_of(harness, case_id, "case.workflow_running_again")
    assert running.user_id == "system"
    assert await complete_triage(api, case_id) == 200


async def test_a_deleted_case_workflow_is_found_and_restarted_from_the_case_page(
    api: Api, harness: CaseHarness
) -> None:
    case_id, _ = await api.opened_triaged(make_record(await harness.today()))
    await harness.client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=harness.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=case_id),
        )
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while (await latest_run(harness.client, case_id)).run_id is not None:
        assert loop.time() < deadline, "the server never deleted the workflow"
        await asyncio.sleep(0.2)  # it deletes in the background
    report = await sweep_now(harness.client, harness.task_queue)
    assert (report["recorded"], report["full"]) == (1, True)
    (stop,) = stops_of(harness, case_id)
    assert (stop.status, stop.run_id, stop.stopped_at) == ("missing", None, None)

    csrf = sign_in_page(api, harness, "alice")
    page = (await api.http.get(f"/cases/{case_id}")).text
    assert "This case's workflow no longer exists in Temporal; " + BANNER in page
    denied = await api.http.post(f"/cases/{case_id}/restart-workflow", data={"csrf_token": csrf})
    assert denied.status_code == 403  # billers cannot restart

    csrf = sign_in_page(api, harness, "sam")
    done = await api.http.post(f"/cases/{case_id}/restart-workflow", data={"csrf_token": csrf})
    assert (done.status_code, done.headers["location"]) == (303, f"/cases/{case_id}")
    page = (await api.http.get(f"/cases/{case_id}")).text
    assert "Workflow restarted: the case carries on from where it stopped" in page
    assert BANNER not in page
    assert await complete_triage(api, case_id, "sam") == 200
    await api.wait_status(case_id, "root_cause")


async def test_a_restart_carries_on_from_what_the_stopped_run_held_beyond_its_projection(
    api: Api, harness: CaseHarness
) -> None:
    """The stopped run took a change its projection never wrote (the read model lags): the
    restart asks the stopped run for its state and carries on from there, not from the older
    projection, so the completed triage is neither lost nor asked for again."""
    case_id, _ = await api.opened_triaged(make_record(await harness.today()))
    with Session(harness.engine) as session:
        triaged = session.get(CaseRow, case_id)
        assert triaged is not None
        lagging = (triaged.status, triaged.state)
    assert await complete_triage(api, case_id) == 200
    await api.wait_status(case_id, "root_cause")
    handle = harness.client.get_workflow_handle(case_id)
    held = await handle.query(DenialCaseWorkflow.state)
    with Session(harness.engine) as session:  # as if the last projection never landed
        row = session.get(CaseRow, case_id)
        assert row is not None
        row.status, row.state = lagging
        session.add(row)
        session.commit()
    await handle.terminate()

    restarted = await api.http.post(f"/api/v1/cases/{case_id}/restart", headers=SAM)
    assert restarted.status_code == 200, restarted.text
    assert (restarted.json()["status"], restarted.json()["version"]) == (
        "root_cause",
        held.version,
    )
    state = await harness.client.get_workflow_handle(case_id).query(DenialCaseWorkflow.state)
    assert state.status == "root_cause"
    assert [t.type for t in state.tasks if t.status == "open"] == [
        t.type for t in held.tasks if t.status == "open"
    ]
