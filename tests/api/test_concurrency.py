"""Racing requests on one task, through HTTP. The workflow serialises Updates: each one is
validated against the state left by the ones before it (the Python SDK runs a validator and
then its handler up to the handler's first await, and the handlers validate again), so two
people can never both complete or both claim a task, and the loser is told who won. Two
reassignments to different people are both legitimate, so both apply, one after the other."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session, col, select
from temporalio.worker import Worker

from db.models import AuditEventRow, UserRow
from denials.worker import build_worker
from domain.case import Role
from domain.identity import case_id_for
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind, hash_password
from testkit.records import make_record
from tests.api.conftest import Api, as_user
from tests.harness import CaseHarness
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import CaseInput

ROUNDS = 5


async def triaged_cases(api: Api, harness: CaseHarness, count: int) -> list[tuple[str, str]]:
    """`count` triaged cases, each with its confirm_triage task unassigned in the biller queue."""
    today = await harness.today()
    opened = await asyncio.gather(*(api.opened_triaged(make_record(today)) for _ in range(count)))
    tasks = []
    for case_id, detail in opened:
        task = api.open_task(detail, "confirm_triage")
        assert (task["assignee"], task["queue"]) == (None, "biller")
        tasks.append((case_id, task["task_id"]))
    return tasks


def audit_rows(api: Api, task_id: str, action: str) -> list[tuple[str, str]]:
    with Session(api.harness.engine) as session:
        rows = session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.task_id == task_id, AuditEventRow.action == action)
            .order_by(col(AuditEventRow.id))
        )
        return sorted((row.user_id, row.outcome) for row in rows)


async def test_two_billers_complete_the_same_task(api: Api, harness: CaseHarness) -> None:
    """alice and bob complete the same unassigned confirm_triage task at the same moment
    (five fresh cases): exactly one gets 200, the other 409 naming the winner; the case has one
    triage_confirmed event, the root-cause task belongs to the winner, and the audit trail has
    one success and one refusal."""
    winners = []
    for case_id, task_id in await triaged_cases(api, harness, ROUNDS):
        url = f"/api/v1/tasks/{task_id}/complete"
        body = {"payload": {"type": "confirm_triage"}}
        responses: list[httpx.Response] = await asyncio.gather(
            *(api.http.post(url, json=body, headers=as_user(u)) for u in ("alice", "bob"))
        )
        by_user = dict(zip(("alice", "bob"), responses, strict=True))
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [(u, r.status_code, r.text) for u, r in by_user.items()]
        winner = next(u for u, r in by_user.items() if r.status_code == 200)
        loser = "bob" if winner == "alice" else "alice"
        winners.append(winner)
        assert by_user[loser].json() == {
            "detail": f"task {task_id} is already completed by {winner}"
        }

        events = [e.type for e in harness.event_rows(case_id)]
        assert events.count("triage_confirmed") == 1, events
        live = await harness.client.get_workflow_handle(case_id).query("state")
        assert (live["pending_events"], live["event_seq"]) == ([], len(events))
        detail = await api.detail(case_id)
        done = next(t for t in detail["tasks"] if t["task_id"] == task_id)
        assert (done["status"], done["completed_by"]) == ("completed", winner)
        root = api.open_task(detail, "confirm_root_cause")
        assert root["assignee"] == winner
        assert detail["summary"]["status"] == "root_cause"
        assert audit_rows(api, task_id, "task.complete") == sorted(
            [(winner, "ok"), (loser, "refused")]
        )
    assert len(winners) == ROUNDS


async def test_completions_queued_for_a_stopped_worker(
    api: Api, harness: CaseHarness, rulebook: Rulebook
) -> None:
    """The tightest race: both completions are sent while the case's worker is down, so they
    reach the workflow together when a worker comes back. Still one 200 and one 409 naming
    the winner, and one triage_confirmed event."""
    queue = f"race-{uuid.uuid4().hex[:8]}"
    record = make_record(await harness.today())
    case_id = case_id_for(record)
    with ThreadPoolExecutor(4) as executor:

        def worker() -> Worker:
            # No cache, so no sticky queue: the restarted worker gets the next task at once.
            return build_worker(
                harness.client, queue, harness.engine, rulebook, executor, max_cached_workflows=0
            )

        async with worker():
            await harness.client.start_workflow(
                DenialCaseWorkflow.run,
                CaseInput(case_id=case_id, record=record, policy=harness.policy),
                id=case_id,
                task_queue=queue,
            )
            detail = await api.wait_status(case_id, "triaged")
        task_id = api.open_task(detail, "confirm_triage")["task_id"]
        url = f"/api/v1/tasks/{task_id}/complete"
        body = {"payload": {"type": "confirm_triage"}}
        calls = [
            asyncio.create_task(api.http.post(url, json=body, headers=as_user(user)))
            for user in ("alice", "bob")
        ]
        await asyncio.sleep(0.3)  # both Updates are now waiting for a worker
        assert not any(call.done() for call in calls)
        async with worker():
            alice, bob = await asyncio.gather(*calls)
    assert sorted((alice.status_code, bob.status_code)) == [200, 409], (alice.text, bob.text)
    winner, loser = (alice, bob) if alice.status_code == 200 else (bob, alice)
    winner_id = "alice" if winner is alice else "bob"
    assert loser.json() == {"detail": f"task {task_id} is already completed by {winner_id}"}
    events = [e.type for e in harness.event_rows(case_id)]
    assert events.count("triage_confirmed") == 1, events


async def test_two_billers_claim_the_same_task(api: Api, harness: CaseHarness) -> None:
    """Claims race the same way: one 200, one 409 "already claimed by" the winner, who is the
    assignee afterwards."""
    for case_id, task_id in await triaged_cases(api, harness, 3):
        url = f"/api/v1/tasks/{task_id}/claim"
        responses = await asyncio.gather(
            *(api.http.post(url, headers=as_user(u)) for u in ("alice", "bob"))
        )
        by_user = dict(zip(("alice", "bob"), responses, strict=True))
        assert sorted(r.status_code for r in responses) == [200, 409]
        winner = next(u for u, r in by_user.items() if r.status_code == 200)
        loser = "bob" if winner == "alice" else "alice"
        assert by_user[loser].json() == {"detail": f"task {task_id} is already claimed by {winner}"}
        claimed = api.open_task(await api.detail(case_id), "confirm_triage")
        assert claimed["assignee"] == winner
        types = [e.type for e in harness.event_rows(case_id)]
        assert types.count("task_claimed") == 1, types


def second_supervisor(api: Api) -> dict[str, str]:
    """Sue, a second supervisor, signed in with a bearer token."""
    with Session(api.harness.engine, expire_on_commit=False) as session:
        sue = UserRow(
            user_id="sue",
            display_name="Sue Park",
            role=Role.SUPERVISOR.value,
            password_hash=hash_password("sue's long password"),
            created_at=datetime.now(UTC),
        )
        session.add(sue)
        session.commit()
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        token, _ = auth.open_session(sue, SessionKind.BEARER)
    return {"Authorization": f"Bearer {token}"}


async def test_two_supervisors_reassign_the_same_task(api: Api, harness: CaseHarness) -> None:
    """sam sends a task to alice while sue sends it to bob. Both are valid whatever the order
    (neither target is the current assignee when its handler runs), so the workflow applies
    both, one after the other: two 200s, exactly two task_reassigned events chained (the
    second moves it from the first's target), and the final assignee, in the workflow and the
    read model, is the later event's target."""
    sue = second_supervisor(api)
    for case_id, task_id in await triaged_cases(api, harness, 3):
        url = f"/api/v1/tasks/{task_id}/reassign"
        sam_call = api.http.post(url, json={"assignee": "alice"}, headers=as_user("sam"))
        sue_call = api.http.post(url, json={"assignee": "bob"}, headers=sue)
        by_sam, by_sue = await asyncio.gather(sam_call, sue_call)
        assert (by_sam.status_code, by_sue.status_code) == (200, 200), (by_sam.text, by_sue.text)
        # Each answer is the receipt of its own change.
        assert by_sam.json()["changes"] == by_sue.json()["changes"] == ["task_reassigned"]

        events = [e for e in harness.event_rows(case_id) if e.type == "task_reassigned"]
        assert len(events) == 2, [e.message for e in events]
        first, second = (e.data for e in events)
        assert {first["to"], second["to"]} == {"alice", "bob"}
        assert (first["from"], second["from"]) == ("biller queue", first["to"])
        assert {e.actor for e in events} == {"sam", "sue"}
        final = second["to"]
        live = await harness.client.get_workflow_handle(case_id).query("state")
        [task] = [t for t in live["tasks"] if t["task_id"] == task_id]
        assert (task["assignee"], task["queue"]) == (final, "biller")
        assert live["owner"] == final
        detail = await api.detail(case_id)
        assert api.open_task(detail, "confirm_triage")["assignee"] == final
        assert detail["summary"]["assignee"] == final
        assert audit_rows(api, task_id, "task.reassign") == [("sam", "ok"), ("sue", "ok")]


async def test_many_changes_at_once_all_answer_promptly(api: Api, harness: CaseHarness) -> None:
    """Forty notes posted at the same moment (more than the database pool holds): no request
    keeps a database connection while its case works, so the worker, which writes through the
    same pool, finishes each change and every request answers 200, each note once."""
    [(case_id, _)] = await triaged_cases(api, harness, 1)
    url = f"/api/v1/cases/{case_id}/notes"
    answers = await asyncio.wait_for(
        asyncio.gather(
            *(
                api.http.post(url, json={"text": f"note {n}"}, headers=as_user("bob"))
                for n in range(40)
            )
        ),
        timeout=60,
    )
    assert [a.status_code for a in answers] == [200] * 40
    notes = [e.message for e in harness.event_rows(case_id) if e.type == "note"]
    assert sorted(notes) == sorted(f"note {n}" for n in range(40))
