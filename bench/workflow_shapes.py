"""What the shape of a case's first workflow task costs on its own, with no work in it: the
trivial workflow of the ingest benchmarks (bench/trivial_workflow.py) against a workflow that
does what a new case does (DenialCaseWorkflow: triage, then a projection, each a local activity
on a thread of the worker's pool; one search-attribute upsert; a timer) with activities that
return at once, on the same stack (bench/ingest_stack.py), the same number of each, in turns.
A real case also records three patch markers at its start (each with an upsert of
TemporalChangeVersion, which the SDK adds), not counted here.

The ingest benchmarks hold the whole ingest to 1.2x of the trivial baseline; this one says how
much of that the shape takes before any triage or projection is done (issue 20).

    .venv/bin/python -m bench.workflow_shapes [--count 1000] [--runs 2]

A worker of the shaped workflow runs as a module:

    python -m bench.workflow_shapes --serve ADDRESS TASK_QUEUE   (keys: DENIALS_PAYLOAD_KEYS)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from bench.trivial_workflow import start_and_complete

# As DenialCaseWorkflow upserts it (workflows/search_attributes.py).
CASE_STATUS = SearchAttributeKey.for_keyword("CaseStatus")
CASE_TIMER = timedelta(days=3)  # a case waits days for its next escalation or follow-up


@activity.defn(name="shape_step")
def step(number: int) -> int:
    """A local activity that does nothing: what is left is the SDK's cost of one."""
    return number


@workflow.defn
class CaseShapedWorkflow:
    """A new case's first workflow task without its work: two local activities in turn, an
    upsert, a timer started; it then completes (as the trivial workflow does, so the two differ
    by the shape alone)."""

    @workflow.run
    async def run(self, number: int) -> int:
        for _ in range(2):  # triage, then the projection
            await workflow.execute_local_activity(
                step, number, start_to_close_timeout=timedelta(seconds=30)
            )
        workflow.upsert_search_attributes([CASE_STATUS.value_set("triaged")])
        asyncio.create_task(asyncio.sleep(CASE_TIMER.total_seconds()))  # noqa: RUF006
        await asyncio.sleep(0)  # the timer's command goes out with this task
        return number


async def _serve(address: str, task_queue: str) -> None:
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from app.encryption import EncryptionCodec, Keyring
    from denials.temporal import connect

    keys = os.environ.get("DENIALS_PAYLOAD_KEYS")
    codec = EncryptionCodec(Keyring.parse(keys, source="bench")) if keys else None
    client = await connect(address, "default", codec=codec)
    with ThreadPoolExecutor(16) as executor:  # as `denials worker` (worker_activity_threads)
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[CaseShapedWorkflow],
            activities=[step],
            activity_executor=executor,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            await asyncio.Event().wait()  # until the bench stops the process


async def _shaped(client: Client, count: int, task_queue: str) -> float:
    """Seconds to start and complete `count` shaped workflows, 32 starts in flight."""
    start = time.perf_counter()
    numbers = iter(range(count))
    handles = []

    async def starter() -> None:
        for n in numbers:
            handles.append(
                await client.start_workflow(
                    CaseShapedWorkflow.run, n, id=f"shaped-{task_queue}-{n}", task_queue=task_queue
                )
            )

    await asyncio.gather(*(starter() for _ in range(min(32, count))))
    await asyncio.gather(*(handle.result() for handle in handles))
    return time.perf_counter() - start


async def run(count: int, runs: int) -> None:
    from bench.ingest_stack import (
        cpu_seconds,
        load,
        running,
        spawn_trivial_worker,
        stop,
    )

    print(f"{count:,} workflows of each shape, {runs} run(s)", flush=True)
    ratios: list[float] = []
    for number in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            async with running(Path(folder)) as stack:
                figures: dict[str, tuple[float, float, float]] = {}
                for shape in ("trivial", "case-shaped"):
                    queue = f"{shape}-{number}"
                    if shape == "trivial":
                        worker = spawn_trivial_worker(stack, queue)
                    else:
                        args = [sys.executable, "-m", "bench.workflow_shapes", "--serve"]
                        worker = stack.spawn([*args, stack.server.address, queue], queue, "w.log")
                    log = "trivial.log" if shape == "trivial" else "w.log"
                    try:
                        await stack.until_polled(queue, worker, log)
                        own, server = cpu_seconds(worker.pid), cpu_seconds(stack.server_pid)
                        if shape == "trivial":
                            seconds = await start_and_complete(stack.client, count, queue)
                        else:
                            seconds = await _shaped(stack.client, count, queue)
                        figures[shape] = (
                            seconds,
                            cpu_seconds(worker.pid) - own,
                            cpu_seconds(stack.server_pid) - server,
                        )
                    finally:
                        stop(worker)
        ratios.append(figures["case-shaped"][0] / figures["trivial"][0])
        each = "; ".join(
            f"{shape} {s:.1f} s, worker {1000 * w / count:.1f} ms and Temporal "
            f"{1000 * t / count:.1f} ms of CPU each"
            for shape, (s, w, t) in figures.items()
        )
        print(f"  run {number + 1}: {each}; ratio {ratios[-1]:.2f}x; {load()}", flush=True)
    print(f"  case-shaped / trivial, median: {statistics.median(ratios):.2f}x")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--count", type=int, default=1000)
    options.add_argument("--runs", type=int, default=2)
    options.add_argument("--serve", nargs=2, metavar=("ADDRESS", "TASK_QUEUE"))
    arguments = options.parse_args()
    if arguments.serve:
        asyncio.run(_serve(*arguments.serve))
    else:
        asyncio.run(run(arguments.count, arguments.runs))


if __name__ == "__main__":
    main()
