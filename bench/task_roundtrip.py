"""Task completion round trip on the embedded stack: POST /api/v1/tasks/{id}/complete
(confirm_triage) until it returns and GET /api/v1/cases/{id} right after shows the new status,
against a no-op workflow Update on the same server, measured in the same run.

Target (issue 20): p95 <= 25 ms for complete + read, over at least 200 cases, printed with the
median, the same-run baselines and the machine's load, and MET or MISSES. The stack is what
`make run` starts: the Temporal dev server binary (temporary SQLite file), the worker
in-process, the FastAPI app served by uvicorn over real HTTP on a free port, the SQLite read
model. A second baseline, a no-op Update that awaits one no-op local activity, shows what
waiting for the projection (a local activity) costs by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from app.encryption import EncryptionCodec, Keyring
from app.http import create_app
from app.settings import Settings
from bench.embedded import free_port, start_dev_server
from bench.http_bench import load
from bench.noop_workflow import NoopUpdateWorkflow, noop_activity
from db.engine import make_engine, migrate
from denials.temporal import ensure_search_attributes
from denials.worker import build_worker
from domain.models import PayerType
from domain.rulebook import Rulebook
from services.users import UserService
from testkit.records import adj, make_record

TARGET_MS = 25.0
MIN_SAMPLES = 200
TASK_QUEUE = "bench-cases"
NOOP_QUEUE = "bench-noop"
WARM_UP = 5
# Denials that triage to a confirm_triage task, on different paths and payers.
DENIALS = [
    ("CO-197", PayerType.COMMERCIAL),
    ("CO-16", PayerType.MEDICARE),
    ("CO-50", PayerType.MEDICARE_ADVANTAGE),
    ("CO-4", PayerType.MEDICAID),
]


class _Server(uvicorn.Server):
    """Uvicorn without its signal handlers (as the product's stack runs it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def summary(samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=100, method="inclusive")[94]
    return f"p50 {statistics.median(samples):6.1f}  p95 {p95:6.1f}  max {max(samples):6.1f} ms"


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await work()
    return (time.perf_counter() - start) * 1000


class Api:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, dict[str, str]] = {}

    async def sign_in(self, user: str) -> None:
        response = await self.http.post(
            "/api/v1/auth/token", data={"username": user, "password": "demo"}
        )
        assert response.status_code == 200, response.text
        self.headers[user] = {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def get(self, path: str, user: str = "alice", **params: Any) -> Any:
        response = await self.http.get(path, params=params, headers=self.headers[user])
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, body: Any, user: str = "alice") -> Any:
        response = await self.http.post(path, json=body, headers=self.headers[user])
        assert response.status_code in (200, 201), response.text
        return response.json()


async def open_triaged_cases(api: Api, count: int) -> list[tuple[str, str]]:
    """(case id, confirm_triage task id) of `count` new cases, once all are triaged."""
    today = datetime.now(UTC).date()
    case_ids = []
    for number in range(count):
        code, payer_type = DENIALS[number % len(DENIALS)]
        amount = 300 + 37 * number
        record = make_record(
            today, adjustments=[adj(code, amount)], billed=amount, payer_type=payer_type
        )
        opened = await api.post("/api/v1/cases", record.model_dump(mode="json"))
        case_ids.append(opened["case_id"])
    deadline = time.monotonic() + 120
    while (await api.get("/api/v1/cases", "sam", status="triaged", limit=1))["total"] < count:
        assert time.monotonic() < deadline, "cases not triaged after 120 s"
        await asyncio.sleep(0.2)
    found = []
    for case_id in case_ids:
        detail = await api.get(f"/api/v1/cases/{case_id}")
        (task,) = [t for t in detail["tasks"] if t["status"] == "open"]
        assert task["type"] == "confirm_triage", task
        found.append((case_id, task["task_id"]))
    return found


async def measure(api: Api, client: Client, count: int) -> dict[str, list[float]]:
    cases = await open_triaged_cases(api, count + WARM_UP)
    noop = [
        await client.start_workflow(
            NoopUpdateWorkflow.run, id=f"noop-{number}", task_queue=NOOP_QUEUE
        )
        for number in range(count + WARM_UP)
    ]
    figures: dict[str, list[float]] = {
        "complete": [],
        "complete + GET": [],
        "noop": [],
        "noop + local activity": [],
    }
    for number, ((case_id, task_id), handle) in enumerate(zip(cases, noop, strict=True)):
        # Interleaved, so that any drift of the server hits every figure alike.
        noop_ms = await timed(partial(handle.execute_update, NoopUpdateWorkflow.touch, number))
        local_ms = await timed(
            partial(handle.execute_update, NoopUpdateWorkflow.touch_after_local_activity, number)
        )
        start = time.perf_counter()
        state = await api.post(
            f"/api/v1/tasks/{task_id}/complete", {"payload": {"type": "confirm_triage"}}
        )
        completed = time.perf_counter()
        detail = await api.get(f"/api/v1/cases/{case_id}")
        seen = time.perf_counter()
        assert state["status"] == "root_cause", state["status"]
        summary_now = detail["summary"]
        assert (summary_now["status"], summary_now["owner"]) == ("root_cause", "alice"), (
            f"the read model is behind the Update: {summary_now['status']}"
        )
        if number >= WARM_UP:
            figures["complete"].append((completed - start) * 1000)
            figures["complete + GET"].append((seen - start) * 1000)
            figures["noop"].append(noop_ms)
            figures["noop + local activity"].append(local_ms)
    for handle in noop:
        await handle.signal(NoopUpdateWorkflow.finish)
    return figures


async def run(count: int) -> None:
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        server = start_dev_server(data)
        engine = make_engine(f"sqlite:///{data / 'denials.db'}")
        try:
            migrate(engine)
            with Session(engine) as session:
                UserService(session).ensure_demo_users()
            # Payloads encrypted, as `make run` does.
            codec = EncryptionCodec(Keyring.parse(Keyring.new_entry("bench"), source="bench"))
            client = await server.wait_ready("default", codec)
            await ensure_search_attributes(client, "default")
            rulebook = Rulebook.load()
            port = free_port()
            settings = Settings(task_queue=TASK_QUEUE, data_dir=data, http_port=port)
            app = create_app(settings, engine=engine, client=client, rulebook=rulebook)
            http_server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port))
            with ThreadPoolExecutor(16) as executor:
                async with (
                    build_worker(
                        client,
                        TASK_QUEUE,
                        engine,
                        rulebook,
                        executor,
                        sandboxed=settings.workflow_sandbox,
                    ),
                    Worker(
                        client,
                        task_queue=NOOP_QUEUE,
                        workflows=[NoopUpdateWorkflow],
                        activities=[noop_activity],
                        activity_executor=executor,
                    ),
                ):
                    serving = asyncio.create_task(http_server.serve())
                    try:
                        while not http_server.started:
                            assert not serving.done(), "uvicorn did not start"
                            await asyncio.sleep(0.05)
                        base_url = f"http://127.0.0.1:{port}"
                        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                            api = Api(http)
                            for user in ("alice", "sam"):
                                await api.sign_in(user)
                            figures = await measure(api, client, count)
                    finally:
                        http_server.should_exit = True
                        await serving
        finally:
            engine.dispose()
            server.stop()
    print(
        f"task completion round trip on the embedded stack, {count} cases (+{WARM_UP} warm-up); "
        f"{load()}"
    )
    rows = [
        ("no-op workflow Update", "noop"),
        ("no-op Update awaiting a no-op local activity", "noop + local activity"),
        ("POST .../complete (confirm_triage)", "complete"),
        ("POST .../complete + GET case (root_cause)", "complete + GET"),
    ]
    for title, key in rows:
        print(f"  {title + ':':46}{summary(figures[key])}")
    p95 = statistics.quantiles(figures["complete + GET"], n=100, method="inclusive")[94]
    ratio = p95 / statistics.quantiles(figures["noop"], n=100, method="inclusive")[94]
    verdict = "MET" if p95 <= TARGET_MS else "MISSES"
    print(
        f"  complete + GET p95 <= {TARGET_MS:.0f} ms: {verdict} ({ratio:.1f}x the no-op Update's "
        f"p95); {load()}"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--cases", type=int, default=MIN_SAMPLES)
    count = options.parse_args().cases
    if count < MIN_SAMPLES:
        options.error(f"--cases: at least {MIN_SAMPLES}, for a p95 of that many samples")
    asyncio.run(run(count))


if __name__ == "__main__":
    main()
