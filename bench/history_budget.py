"""How much of Temporal's history budget a case spends: bytes and events per Update (a note)
and per follow-up cycle, and the size of the state the case carries, on today's code and on
the code before bounded runs (BASELINE_COMMIT, from a git worktree), measured in the same run.

Temporal terminates a run at 50 MB or 51,200 events. Targets: an Update's result at most
1 KB (a receipt, not the case), the carried state grows by less than one note however many
notes are added, and no run reaches 10 MB. The case is a commercial
CO-197 denial on the time-skipping test server: 150 notes of 400 characters (the baseline
returned the whole case on each; at 4,000 characters it is terminated near note 158), then
a level 1 appeal and 10 follow-up cycles (the follow-up falls due, a biller records it).

    .venv/bin/python -m bench.history_budget [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

BASELINE_COMMIT = "c637386"  # the last commit before bounded runs (patch bounded-run)
NOTES = 150
NOTE_CHARS = 400
FOLLOW_UPS = 10
RESULT_TARGET = 1024
RUN_TARGET = 10 * 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


async def _sizes(client: Any, workflow_id: str, first_run: str) -> tuple[int, int, int, int]:
    """(events, bytes, largest Update result, largest run's bytes) over every run of a
    workflow, following its continue-as-new chain."""
    from temporalio.api.enums.v1 import EventType

    events = size = largest = largest_run = 0
    run_id: str | None = first_run
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        run_id = None
        run_size = sum(e.ByteSize() for e in history.events)
        events, size, largest_run = events + len(history.events), size + run_size, run_size
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                outcome = event.workflow_execution_update_completed_event_attributes.outcome
                largest = max(largest, outcome.success.ByteSize())
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                attributes = event.workflow_execution_continued_as_new_event_attributes
                run_id = attributes.new_execution_run_id
        largest_run = max(largest_run, run_size)
    return events, size, largest, largest_run


async def measure() -> dict[str, float]:
    """Drive one case with the code on sys.path (today's, or a baseline worktree's)."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from db.engine import make_engine, migrate
    from denials.embedded import installed_binary
    from denials.temporal import ensure_search_attributes
    from denials.worker import build_worker
    from domain.case import Actor, CasePolicy, CaseStatus, Role, TaskType
    from domain.models import WorkPath
    from domain.rulebook import Rulebook
    from testkit.records import adj, finished_appeal, make_record
    from workflows.case_workflow import DenialCaseWorkflow
    from workflows.messages import (
        AddNote,
        CaseInput,
        CompleteTask,
        ConfirmRootCause,
        ConfirmTriage,
        FollowUpResult,
    )

    alice = Actor(user_id="alice", role=Role.BILLER)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(installed_binary("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(8) as executor:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        migrate(engine)
        async with env:
            await ensure_search_attributes(env.client, "default")
            worker = build_worker(
                env.client, "bench", engine, Rulebook.load(), executor, data_dir=Path(folder)
            )
            async with worker:
                today = (await env.get_current_time()).date()
                record = make_record(today, adjustments=[adj("CO-197", 900)])
                handle = await env.client.start_workflow(
                    DenialCaseWorkflow.run,
                    CaseInput(case_id="bench-case", record=record, policy=CasePolicy()),
                    id="bench-case",
                    task_queue="bench",
                )

                async def state() -> Any:
                    return await handle.query(DenialCaseWorkflow.state)

                async def complete(task_type: TaskType, payload: Any) -> None:
                    current = await state()
                    (task,) = [t for t in current.open_tasks if t.type is task_type]
                    await handle.execute_update(
                        DenialCaseWorkflow.complete_task,
                        CompleteTask(actor=alice, task_id=task.task_id, payload=payload),
                    )

                async def sizes() -> tuple[int, int, int, int]:
                    return await _sizes(env.client, handle.id, handle.result_run_id or "")

                while (await state()).status is not CaseStatus.TRIAGED:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                before = await sizes()
                state_before_notes = len((await state()).model_dump_json())
                for number in range(NOTES):
                    text = f"note {number}: " + "x" * NOTE_CHARS
                    await handle.execute_update(
                        DenialCaseWorkflow.add_note, AddNote(actor=alice, text=text[:NOTE_CHARS])
                    )
                after_notes = await sizes()
                state_after_notes = len((await state()).model_dump_json())

                await complete(TaskType.CONFIRM_TRIAGE, ConfirmTriage(path=WorkPath.APPEAL))
                await complete(TaskType.CONFIRM_ROOT_CAUSE, ConfirmRootCause())
                await complete(
                    TaskType.PREPARE_APPEAL,
                    finished_appeal(1, "criteria met", today),
                )
                cycles_start = await sizes()
                for _ in range(FOLLOW_UPS):
                    while not any(
                        t.type is TaskType.FOLLOW_UP_WITH_PAYER for t in (await state()).open_tasks
                    ):
                        await env.sleep(timedelta(days=1))
                    await complete(
                        TaskType.FOLLOW_UP_WITH_PAYER, FollowUpResult(contact_notes="in review")
                    )
                cycles_end = await sizes()
                final_state = len((await state()).model_dump_json())
        engine.dispose()
    return {
        "bytes_per_note": (after_notes[1] - before[1]) / NOTES,
        "events_per_note": (after_notes[0] - before[0]) / NOTES,
        "largest_update_result": after_notes[2],
        "bytes_per_follow_up": (cycles_end[1] - cycles_start[1]) / FOLLOW_UPS,
        "events_per_follow_up": (cycles_end[0] - cycles_start[0]) / FOLLOW_UPS,
        "state_before_notes": state_before_notes,
        "state_after_notes": state_after_notes,
        "state_at_end": final_state,
        "run_bytes": cycles_end[3],
        "runs_bytes": cycles_end[1],
    }


def measure_baseline(commit: str) -> dict[str, float] | str:
    """Run measure() on the code at `commit`: its figures, or why it could not run."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "baseline"
        added = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
            capture_output=True,
            text=True,
        )
        if added.returncode != 0:
            return f"no baseline: {added.stderr.strip() or 'git worktree failed'}"
        try:
            ran = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--measure"],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)},
                capture_output=True,
                text=True,
            )
            if ran.returncode != 0:
                return f"baseline failed: {ran.stderr.strip().splitlines()[-1:]}"
            return json.loads(ran.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
            )


ROWS = (
    ("bytes_per_note", "history bytes per note Update ({chars} chars)", "{:,.0f}"),
    ("events_per_note", "history events per note Update", "{:.1f}"),
    ("largest_update_result", "largest Update result, bytes", "{:,.0f}"),
    ("bytes_per_follow_up", "history bytes per follow-up cycle", "{:,.0f}"),
    ("events_per_follow_up", "history events per follow-up cycle", "{:.1f}"),
    ("state_before_notes", "state size before the notes, bytes", "{:,.0f}"),
    ("state_after_notes", "state size after the notes, bytes", "{:,.0f}"),
    ("state_at_end", "state size at the end, bytes", "{:,.0f}"),
    ("run_bytes", "largest run, bytes", "{:,.0f}"),
    ("runs_bytes", "all runs, bytes", "{:,.0f}"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="git commit to compare with")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure())))
        return
    today = asyncio.run(measure())
    baseline = measure_baseline(args.baseline)
    print(f"history budget of one case: {NOTES} notes, then {FOLLOW_UPS} follow-up cycles")
    print(f"  {'':46} {'today':>12} {'baseline ' + args.baseline:>18}")
    for key, label, shape in ROWS:
        before = shape.format(baseline[key]) if isinstance(baseline, dict) else "-"
        print(f"  {label.format(chars=NOTE_CHARS):46} {shape.format(today[key]):>12} {before:>18}")
    if isinstance(baseline, str):
        print(f"  ({baseline})")
    met = (
        today["largest_update_result"] <= RESULT_TARGET
        and today["state_after_notes"] - today["state_before_notes"] <= NOTE_CHARS
        and today["run_bytes"] <= RUN_TARGET
    )
    verdict = "meets" if met else "MISSES"
    print(
        f"target: Update results <= {RESULT_TARGET} B, state not growing with notes, "
        f"run <= {RUN_TARGET // 2**20} MB: {verdict}"
    )


if __name__ == "__main__":
    main()
