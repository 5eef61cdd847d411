"""A busy case on the real Temporal dev server: where the workflow used to be terminated for
its history (note 158 of 4,000 characters under `denials up`), it keeps running, small; and a
server that suggests continuing as new is obeyed, with Updates in flight."""

from __future__ import annotations

import asyncio
import tempfile

import httpx
from sqlmodel import Session
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, migrate
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from domain.case import Actor, CasePolicy, Role
from domain.rulebook import Rulebook
from testkit.records import make_record
from tests.conftest import running_harness
from tests.e2e.test_processes import sign_in, wait_for_demo_cases
from tests.workflows.history_limits import MB, runs_of

NOTES_OVER_HTTP = 300
NOTE_CHARS = 4000


def note_text(number: int) -> str:
    head = f"note {number:03d}: "
    return head + "n" * (NOTE_CHARS - len(head))


async def test_300_notes_of_4000_characters_over_http_keep_the_case_running(
    running_stack: tuple[str, str],
) -> None:
    base_url, temporal_address = running_stack
    assert wait_for_demo_cases(base_url) >= 1
    alice = sign_in(base_url, "alice")
    async with httpx.AsyncClient(base_url=base_url, headers=alice, timeout=30) as http:
        page = (await http.get("/api/v1/cases", params={"status": "triaged"})).json()
        case_id = page["items"][0]["case_id"]
        for number in range(NOTES_OVER_HTTP):
            answer = await http.post(
                f"/api/v1/cases/{case_id}/notes", json={"text": note_text(number)}
            )
            assert answer.status_code == 200, f"note {number}: {answer.text}"
            assert answer.json()["changes"] == ["note"]
        detail = (await http.get(f"/api/v1/cases/{case_id}")).json()
        notes = [e["message"] for e in detail["timeline"] if e["type"] == "note"]
        assert notes == [note_text(n) for n in range(NOTES_OVER_HTTP)]

        client = await Client.connect(temporal_address)
        description = await client.get_workflow_handle(case_id).describe()
        assert description.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
        history = await client.get_workflow_handle(case_id).fetch_history()
        size = sum(event.ByteSize() for event in history.events)
        assert size < 10 * MB, f"current run {size / MB:.1f} MB"

        # Still a working case: its task is completed as usual.
        (task,) = [t for t in detail["tasks"] if t["status"] == "open"]
        done = await http.post(
            f"/api/v1/tasks/{task['task_id']}/complete",
            json={"payload": {"type": "confirm_triage"}},
        )
        assert done.status_code == 200, done.text


async def test_a_suggestion_to_continue_as_new_is_obeyed_with_updates_in_flight() -> None:
    """The dev server, told to suggest continuing as new at 300 events, gets a case 150 notes
    at a time five at once: each run stays near that size, no Update is lost."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(installed_binary("temporal")),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=300",
        ],
        data_converter=pydantic_data_converter,
    )
    async with env:
        await ensure_search_attributes(env.client, "default")
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/denials.db")
            migrate(engine)
            async with running_harness(env, engine, Rulebook.load(), CasePolicy()) as harness:
                handle, _ = await harness.triaged(make_record(await harness.today()))
                with Session(engine) as session:
                    cases = harness.case_service(session, Rulebook.load())
                    alice = Actor(user_id="alice", role=Role.BILLER)
                    for start in range(0, 150, 5):
                        await asyncio.gather(
                            *(
                                cases.add_note(handle.id, note_text(n), alice)
                                for n in range(start, start + 5)
                            )
                        )
                runs = await runs_of(env.client, handle.id, handle.result_run_id or "")
                assert len(runs) >= 2
                assert all(len(run.events) < 400 for run in runs)
                notes = [r.message for r in harness.event_rows(handle.id) if r.type == "note"]
                assert sorted(notes) == [note_text(n) for n in range(150)]
            engine.dispose()
