"""The baseline workflow of the ingest benchmarks: starts and returns at once. Run as a module,
a worker for it in a process of its own, as `denials worker` runs the cases:

    python -m bench.trivial_workflow ADDRESS TASK_QUEUE   (payload keys: DENIALS_PAYLOAD_KEYS)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker


@workflow.defn
class TrivialWorkflow:
    @workflow.run
    async def run(self, number: int) -> int:
        return number


async def start_and_complete(
    client: Client, count: int, task_queue: str, *, concurrency: int = 32, timeout: float = 600.0
) -> float:
    """Seconds to start `count` trivial workflows, `concurrency` starts in flight at a time (as
    the ingest starts its cases, not waiting for one to finish before the next), and see every
    one completed; a result not there within `timeout` of the first start fails the run
    instead of hanging it."""
    start = time.perf_counter()
    numbers = iter(range(count))
    handles: list[WorkflowHandle[Any, int]] = []

    async def starter() -> None:
        for n in numbers:
            handles.append(
                await client.start_workflow(
                    TrivialWorkflow.run, n, id=f"trivial-{task_queue}-{n}", task_queue=task_queue
                )
            )

    async def checker(pending: Iterator[WorkflowHandle[Any, int]]) -> None:
        for handle in pending:
            left = timeout - (time.perf_counter() - start)
            await asyncio.wait_for(handle.result(), max(left, 0.1))

    lanes = min(concurrency, count)
    await asyncio.gather(*(starter() for _ in range(lanes)))
    pending = iter(handles)
    await asyncio.gather(*(checker(pending) for _ in range(lanes)))
    return time.perf_counter() - start


async def _serve(address: str, task_queue: str) -> None:
    from app.encryption import EncryptionCodec, Keyring
    from denials.temporal import connect

    keys = os.environ.get("DENIALS_PAYLOAD_KEYS")
    codec = EncryptionCodec(Keyring.parse(keys, source="bench")) if keys else None
    client = await connect(address, "default", codec=codec)
    async with Worker(client, task_queue=task_queue, workflows=[TrivialWorkflow]):
        await asyncio.Event().wait()  # until the bench stops the process


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
