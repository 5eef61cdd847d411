"""What the list benchmarks share: the app served by uvicorn on a real socket (the path users
take: HTTP, the auth dependency, JSON), called by a client in another process
(bench/http_client.py), the SQL each request ran captured so that the same statements with the
same parameters run again straight on a DBAPI cursor (the baseline, no ORM), medians and p95,
the machine's load, and a verdict against the target."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Engine

TARGET_MS = 25.0
MIN_SAMPLES = 200
# The floor: a signed-in request that reads no list (the bearer token's session, the JSON).
FLOOR_PATH = "/api/v1/auth/me"


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app on 127.0.0.1 (uvicorn in a thread of this process); yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    config.access_log = False
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass(frozen=True)
class Answer:
    status_code: int
    ms: float  # as the client timed it: request sent to answer read
    text: str  # the body, when the status is not 200
    cpu_ms: float  # CPU this process (the server) used meanwhile: the load does not inflate it


class RemoteClient:
    """GETs made by bench/http_client.py in a process of its own, one at a time."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.headers = headers or {}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.http_client", base],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def get(
        self, path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        assert self.process.stdin is not None and self.process.stdout is not None
        asked = {"path": path, "params": params or {}, "headers": headers or self.headers}
        cpu = time.process_time()
        self.process.stdin.write(json.dumps(asked) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        cpu_ms = (time.process_time() - cpu) * 1000
        return Answer(answer["status"], answer["ms"], answer["body"], cpu_ms)

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *_: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Captured:
    """The SELECTs an engine runs whose text `picks` (statement and parameters exactly as
    given to the driver), to run them again raw."""

    def __init__(self, engine: Engine, picks: Callable[[str], bool]) -> None:
        self.engine = engine
        self.picks = picks
        self.selects: list[tuple[str, Any]] = []

    def __enter__(self) -> Captured:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and self.picks(statement):
            self.selects.append((statement, parameters))


class RawRunner:
    """Statements on one DBAPI connection taken from the engine's pool, no ORM, no Core."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        self.dialect = engine.dialect.name

    def run(self, selects: list[tuple[str, Any]]) -> float:
        """Milliseconds to execute and fetch every statement."""
        cursor = self.connection.cursor()
        start = time.perf_counter()
        for statement, parameters in selects:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        elapsed = (time.perf_counter() - start) * 1000
        cursor.close()
        self.connection.rollback()  # PostgreSQL opened a transaction: end it, outside the time
        return elapsed

    def explain(self, selects: list[tuple[str, Any]]) -> list[str]:
        """Each statement's plan: EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL."""
        cursor = self.connection.cursor()
        lines = []
        for statement, parameters in selects:
            if self.dialect == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                lines += [f"    {'  ' * (row[1] > 0)}{row[3]}" for row in cursor.fetchall()]
            else:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                lines += [f"    {row[0]}" for row in cursor.fetchall() if "Planning" not in row[0]]
            lines.append("    --")
        cursor.close()
        self.connection.rollback()
        return lines

    def close(self) -> None:
        self.connection.close()


@dataclass
class Figures:
    api: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the server's CPU per request

    def add(self, answer: Answer, raw_ms: float) -> None:
        self.api.append(answer.ms)
        self.cpu.append(answer.cpu_ms)
        self.raw.append(raw_ms)


def median_p95(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def report(name: str, results: dict[str, Figures], floor: list[Answer]) -> list[str]:
    """A line per shape: API median and p95, the server's CPU per request (median), beside the
    raw SQL's median and p95, their ratio, the target and MET or MISSES; then the floor
    (FLOOR_PATH) measured between them; the shapes that miss."""
    print(
        f"  {'shape':40} {'HTTP p50':>8} {'p95':>6} {'CPU p50':>7}   {'SQL p50':>7} {'p95':>6}  "
        f"{'p95 ratio':>9}  target (ms)"
    )
    missed = []
    for shape, figures in results.items():
        assert len(figures.api) >= MIN_SAMPLES, f"{shape}: {len(figures.api)} samples"
        api = median_p95(figures.api)
        raw = median_p95(figures.raw)
        cpu = statistics.median(figures.cpu)
        verdict = "MET" if api[1] <= TARGET_MS else "MISSES"
        print(
            f"  {shape:40} {api[0]:8.1f} {api[1]:6.1f} {cpu:7.1f}   {raw[0]:7.1f} {raw[1]:6.1f}  "
            f"{api[1] / raw[1]:8.1f}x  <= {TARGET_MS:.0f}: {verdict}"
        )
        if verdict == "MISSES":
            missed.append(shape)
    low = median_p95([answer.ms for answer in floor])
    low_cpu = statistics.median(answer.cpu_ms for answer in floor)
    print(
        f"  {'floor: GET ' + FLOOR_PATH + ' (no list)':40} {low[0]:8.1f} {low[1]:6.1f} "
        f"{low_cpu:7.1f}"
    )
    samples = len(next(iter(results.values())).api)
    verdict = "MET" if not missed else f"MISSES ({', '.join(missed)})"
    print(f"  every shape p95 <= {TARGET_MS:.0f} ms on {name} ({samples} samples each): {verdict}")
    return missed
