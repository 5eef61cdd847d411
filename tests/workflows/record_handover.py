"""Record a case that a worker on older code continued as new and today's code took over: the
histories that prove a running case crosses a deploy (its old run replays, its next run
resumes from the state the old code carried, its whole timeline included).

    .venv/bin/python -m tests.workflows.record_handover OLD_COMMIT OLD_VERSION NEW_VERSION

A worker on OLD_COMMIT (a git worktree, in a subprocess) runs the case on the dev server,
told to suggest continuing as new early; notes fill its history and a payer's Signal wakes
it, so the old code continues as new. That worker stops, today's takes over and works the
case to its end. Saved: handover.<OLD_VERSION>.run1.json (old code) and
handover.<NEW_VERSION>.run2.json (today's).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, migrate
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from denials.worker import build_worker
from domain.case import CasePolicy, PayerDecision, PayerResponse
from domain.rulebook import Rulebook
from testkit.records import adj, make_record
from tests.harness import ALICE, SAM, CaseHarness
from tests.workflows.case_flow import appeal_and_get_paid
from tests.workflows.history_limits import runs_of
from tests.workflows.record_histories import HISTORIES
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AddNote,
    CaseInput,
    ChangePriority,
    ClaimTask,
    ReleaseTask,
)

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "handover"
SUGGEST_AT = 100  # the old run passes it with its notes; the new one ends below it
OLD_WORKER = """
import asyncio, sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from db.engine import make_engine
from denials.worker import build_worker
from domain.rulebook import Rulebook

async def main(address, queue, database, data):
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    with ThreadPoolExecutor(8) as executor:
        engine = make_engine(database)
        async with build_worker(
            client, queue, engine, Rulebook.load(), executor, data_dir=Path(data)
        ):
            print("ready", flush=True)
            await asyncio.Event().wait()

asyncio.run(main(*sys.argv[1:]))
"""


async def _untyped_update(handle: Any, name: str, request: Any) -> None:
    """An Update whose result the old code shapes differently (the whole case): not read."""
    await handle.execute_update(name, request)


@contextlib.contextmanager
def worktree(commit: str) -> Iterator[tuple[Path, Path]]:
    """(a checkout of `commit`, a scratch folder), both removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
            check=True,
            capture_output=True,
        )
        try:
            yield tree, Path(folder)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
            )


def start_old_worker(
    tree: Path, address: str, database: str, data: Path
) -> subprocess.Popen[bytes]:
    worker = subprocess.Popen(
        [sys.executable, "-c", OLD_WORKER, address, QUEUE, database, str(data)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        stdout=subprocess.PIPE,
    )
    assert worker.stdout is not None and worker.stdout.readline().strip() == b"ready"
    return worker


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    worker.wait(30)


async def record(tree: Path, folder: Path, old_version: str, new_version: str) -> None:
    database = f"sqlite:///{folder}/handover.db"
    engine = make_engine(database)
    migrate(engine)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(installed_binary("temporal")),
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_AT}",
        ],
        data_converter=pydantic_data_converter,
    )
    try:
        async with env:
            await ensure_search_attributes(env.client, "default")
            address = env.client.service_client.config.target_host
            old = await asyncio.to_thread(start_old_worker, tree, address, database, folder)
            try:
                handle = await _old_run(env)
            finally:
                await asyncio.to_thread(stop, old)
            await _new_run(env, engine, handle.id)
            runs = await runs_of(env.client, handle.id, handle.result_run_id or "")
            assert len(runs) == 2, f"{len(runs)} runs"
            for number, version in ((1, old_version), (2, new_version)):
                history = await env.client.get_workflow_handle(
                    handle.id, run_id=runs[number - 1].run_id
                ).fetch_history()
                path = HISTORIES / f"handover.{version}.run{number}.json"
                path.write_text(history.to_json())
                print(f"recorded {path.name}: {len(history.events)} events")
    finally:
        engine.dispose()


async def _old_run(env: WorkflowEnvironment) -> Any:
    """On the old code: triage, supervision, notes past the suggestion, then a payer's
    answer that nothing awaits wakes the case with no Update in flight: it continues."""
    today = (await env.get_current_time()).date()
    record = make_record(today, adjustments=[adj("CO-197", 650)], billed=650)
    handle = await env.client.start_workflow(
        DenialCaseWorkflow.run,
        CaseInput(case_id="case-handover", record=record, policy=CasePolicy()),
        id="case-handover",
        task_queue=QUEUE,
    )
    for _ in range(200):
        state = await handle.query("state")
        if state["status"] == "triaged":
            break
        await asyncio.sleep(0.1)
    triage = next(t["task_id"] for t in state["tasks"] if t["status"] == "open")
    await _untyped_update(handle, "claim_task", ClaimTask(actor=ALICE, task_id=triage))
    await _untyped_update(handle, "release_task", ReleaseTask(actor=ALICE, task_id=triage))
    await _untyped_update(
        handle, "change_priority", ChangePriority(actor=SAM, adjustment=2, reason="big payer")
    )
    first_run = (await handle.describe()).run_id
    for number in range(40):
        await _untyped_update(handle, "add_note", AddNote(actor=ALICE, text=f"note {number}"))
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(decision=PayerDecision.UPHELD, decision_date=today, source="835"),
    )
    for _ in range(200):
        if (await handle.describe()).run_id != first_run:
            return handle
        await asyncio.sleep(0.1)
    raise AssertionError("the old code never continued as new")


async def _new_run(env: WorkflowEnvironment, engine: Any, case_id: str) -> None:
    """Today's worker takes the continued case over and works it to its end."""
    with tempfile.TemporaryDirectory() as data, ThreadPoolExecutor(8) as executor:
        async with build_worker(
            env.client, QUEUE, engine, Rulebook.load(), executor, data_dir=Path(data)
        ):
            harness = CaseHarness(env, engine, QUEUE, CasePolicy(), Path(data))
            handle = env.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
            today = await harness.today()
            await handle.execute_update(
                DenialCaseWorkflow.add_note, AddNote(actor=ALICE, text="after the deploy")
            )
            await appeal_and_get_paid(harness, handle, Decimal(650), today)
            await handle.result()


def main(old_commit: str, old_version: str, new_version: str) -> None:
    with worktree(old_commit) as (tree, folder):
        asyncio.run(record(tree, folder, old_version, new_version))


if __name__ == "__main__":
    main(*sys.argv[1:4])
