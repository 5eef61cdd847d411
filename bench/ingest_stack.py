"""The stack the ingest benchmarks measure, each part a process of its own as deployed: the
Temporal dev server `make run` starts (SQLite), a `denials worker`, the SQLite read model, and a
worker of trivial workflows for the same-run baseline. Also the realistic 835 they ingest and
the CPU each process spends."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, func, select
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from app.encryption import EncryptionCodec, Keyring
from bench.embedded import start_dev_server
from bench.trivial_workflow import start_and_complete
from db.engine import make_engine, migrate
from db.models import CaseRow
from denials.embedded import DevServer
from denials.temporal import ensure_search_attributes
from domain.rulebook import Rulebook
from edi.stream import parts
from testkit.x12 import Claim835, Remittance835, build_file, random_claim

TICKS = os.sysconf("SC_CLK_TCK")
RATIO_TARGET = 1.2  # issue 20: the whole ingest within 1.2x of as many trivial workflows
TIMEOUT = 900.0  # seconds a run may take before it fails instead of hanging


def _is_denial(claim: Claim835) -> bool:
    return claim.status == "4" or any(Decimal(str(line.paid)) == 0 for line in claim.lines)


def realistic_835(claims: int, denial_share: float = 0.1, seed: int = 0) -> bytes:
    """An 835 of `claims` plausible claims (testkit.x12.random_claim), one in 1/denial_share
    denied (at claim or line level, CARCs of ten kinds), the rest paid; dated today so every
    denial is counted in the pattern windows."""
    rng = random.Random(seed)
    every = round(1 / denial_share)
    chosen: list[Claim835] = []
    for number in range(1, claims + 1):
        want_denial = number % every == 0
        while True:
            claim = random_claim(rng, number)
            if claim.status != "22" and _is_denial(claim) == want_denial:
                break
        chosen.append(claim)
    today = date.today()
    return build_file(Remittance835(claims=chosen, payment_date=today, production_date=today))


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Stack:
    folder: Path
    server: DevServer
    client: Client
    keys: str
    database_url: str

    @property
    def server_pid(self) -> int:
        process = self.server._process  # the bench reads its CPU
        assert process is not None
        return process.pid

    def env(self, task_queue: str) -> dict[str, str]:
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": self.server.address,
            "DATABASE_URL": self.database_url,
            "DENIALS_TASK_QUEUE": task_queue,
            "DENIALS_PAYLOAD_KEYS": self.keys,
            "DENIALS_DATA_DIR": str(self.folder),
        }

    def spawn(self, args: list[str], task_queue: str, log: str) -> subprocess.Popen[bytes]:
        with (self.folder / log).open("ab") as out:
            return subprocess.Popen(
                args, env=self.env(task_queue), stdout=out, stderr=subprocess.STDOUT
            )

    async def until_polled(
        self, task_queue: str, process: subprocess.Popen[bytes], log: str
    ) -> None:
        """Wait until a worker polls the queue (it has connected and started)."""
        request = DescribeTaskQueueRequest(
            namespace="default", task_queue=TaskQueue(name=task_queue)
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                said = (self.folder / log).read_text()[-3000:]
                raise RuntimeError(f"the worker exited ({process.returncode}):\n{said}")
            described = await self.client.workflow_service.describe_task_queue(request)
            if described.pollers:
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"no worker polled {task_queue} within 120 s")


@asynccontextmanager
async def running(folder: Path) -> AsyncIterator[Stack]:
    """A fresh dev server and read model in `folder`."""
    keys = Keyring.new_entry("bench")
    database_url = f"sqlite:///{folder / 'denials.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    server = start_dev_server(folder)
    try:
        codec = EncryptionCodec(Keyring.parse(keys, source="bench"))  # payloads as `make run`
        client = await server.wait_ready("default", codec)
        await ensure_search_attributes(client, "default")
        yield Stack(folder, server, client, keys, database_url)
    finally:
        server.stop()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def spawn_case_worker(stack: Stack, task_queue: str) -> subprocess.Popen[bytes]:
    return stack.spawn(
        [str(Path(sys.executable).parent / "denials"), "worker"], task_queue, "worker.log"
    )


def spawn_trivial_worker(stack: Stack, task_queue: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bench.trivial_workflow", stack.server.address, task_queue]
    return stack.spawn(args, task_queue, "trivial.log")


def cases_in_read_model(session: Session) -> int:
    """Cases projected: a case's first projection follows its triage."""
    session.expire_all()
    return session.exec(select(func.count()).select_from(CaseRow)).one()


# Runs the ingest of a file on the stack to its end; the CPU seconds it used.
Ingest = Callable[[Stack, Path, str], Awaitable[float]]


async def ingest_with_cli(stack: Stack, file: Path, task_queue: str) -> float:
    """`denials ingest FILE`, the path users take from a shell."""
    denials = str(Path(sys.executable).parent / "denials")
    process = stack.spawn(
        [denials, "ingest", str(file), "--user", "bench"], task_queue, "ingest.log"
    )
    _, status, usage = await asyncio.to_thread(os.wait4, process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        said = (stack.folder / "ingest.log").read_text()[-3000:]
        raise RuntimeError(f"denials ingest exited {process.returncode}:\n{said}")
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    load: str
    trivial: float  # seconds to start and complete as many trivial workflows as cases
    trivial_cpu: dict[str, float]  # CPU seconds of the baseline, by process
    first_case: float  # seconds from the ingest's start to the first case in the read model
    ingested: float  # ... to the ingest's end (every case started)
    triaged: float  # ... to every case triaged in the read model
    cpu: dict[str, float]  # CPU seconds of the ingest, by process

    @property
    def ratio(self) -> float:
        return self.triaged / self.trivial


async def measure(stack: Stack, file: Path, cases: int, ingest: Ingest, run: int) -> Run:
    """One run on a fresh stack: the trivial baseline, then the ingest until every case is
    triaged (the read model is polled four times a second)."""
    queue = f"trivial-{run}"
    worker = spawn_trivial_worker(stack, queue)
    try:
        await stack.until_polled(queue, worker, "trivial.log")
        server, own = cpu_seconds(stack.server_pid), cpu_seconds(worker.pid)
        mine = time.process_time()
        trivial = await start_and_complete(stack.client, cases, queue, timeout=TIMEOUT)
        trivial_cpu = {
            "worker": cpu_seconds(worker.pid) - own,
            "Temporal": cpu_seconds(stack.server_pid) - server,
            "starter": time.process_time() - mine,
        }
    finally:
        stop(worker)
    queue = f"cases-{run}"
    worker = spawn_case_worker(stack, queue)
    engine = make_engine(stack.database_url)
    try:
        await stack.until_polled(queue, worker, "worker.log")
        server, own = cpu_seconds(stack.server_pid), cpu_seconds(worker.pid)
        start = time.perf_counter()
        ingesting = asyncio.create_task(ingest(stack, file, queue))
        first: float | None = None
        ingested: float | None = None
        with Session(engine) as session:
            while (seen := cases_in_read_model(session)) < cases:
                now = time.perf_counter() - start
                if first is None and seen:
                    first = now
                if ingested is None and ingesting.done():
                    ingested = now
                if ingesting.done() and ingesting.exception() is not None:
                    raise RuntimeError("the ingest failed") from ingesting.exception()
                if worker.poll() is not None or now > TIMEOUT:
                    raise RuntimeError(f"{seen:,} of {cases:,} cases after {now:.0f} s")
                await asyncio.sleep(0.25)
        triaged = time.perf_counter() - start
        cpu = {
            "worker": cpu_seconds(worker.pid) - own,
            "Temporal": cpu_seconds(stack.server_pid) - server,
        }
        cpu["ingest"] = await ingesting
        return Run(
            load(), trivial, trivial_cpu, first or triaged, ingested or triaged, triaged, cpu
        )
    finally:
        stop(worker)
        engine.dispose()


def expected_cases(name: str, raw: bytes) -> int:
    """The cases the file opens (one per denial), as the parser reads it."""
    return sum(len(part.cases) for part in parts(name, raw, Rulebook.load()))


async def runs(claims: int, count: int, ingest: Ingest) -> tuple[int, list[Run]]:
    """`count` runs, each on a fresh stack; the number of cases and each run's figures."""
    raw = realistic_835(claims)
    cases = expected_cases("bench.835", raw)
    done = []
    for run in range(count):
        with tempfile.TemporaryDirectory() as folder:
            file = Path(folder) / "bench.835"
            file.write_bytes(raw)
            async with running(Path(folder)) as stack:
                done.append(await measure(stack, file, cases, ingest, run))
        print(f"  run {run + 1}: {describe(done[-1], cases)}", flush=True)
    return cases, done


def _per_case(cpu: dict[str, float], cases: int) -> str:
    each = ", ".join(f"{name} {1000 * s / cases:.1f}" for name, s in cpu.items())
    return f"{1000 * sum(cpu.values()) / cases:.1f} ms ({each})"


def describe(run: Run, cases: int) -> str:
    return (
        f"first case {run.first_case:.1f} s; ingest done {run.ingested:.1f} s; all triaged "
        f"{run.triaged:.1f} s; trivial {run.trivial:.1f} s ({run.ratio:.2f}x); "
        f"CPU per case {_per_case(run.cpu, cases)}, "
        f"per trivial workflow {_per_case(run.trivial_cpu, cases)}; {run.load}"
    )


def report(title: str, cases: int, done: list[Run], first_target: float | None) -> None:
    """The medians of the runs beside their baseline and targets, MET or MISSES."""
    ratio = statistics.median(r.ratio for r in done)
    first = statistics.median(r.first_case for r in done)
    trivial = statistics.median(r.trivial for r in done)
    triaged = statistics.median(r.triaged for r in done)
    print(title)
    print(f"  median of {len(done)} run(s), {cases:,} cases")
    print(f"  {cases:,} trivial workflows started and completed: {trivial:6.1f} s")
    print(f"  first case in the read model:                 {first:6.1f} s")
    print(f"  every case triaged:                           {triaged:6.1f} s")
    each = ", ".join(f"{r.ratio:.2f}" for r in done)
    print(f"  ratio to the trivial baseline: {ratio:.2f}x (runs: {each})")
    verdict = "MET" if ratio <= RATIO_TARGET else "MISSES"
    print(f"  target <= {RATIO_TARGET}x the trivial baseline: {verdict}")
    if first_target is not None:
        verdict = "MET" if first <= first_target else "MISSES"
        print(f"  target first case <= {first_target:.0f} s: {verdict}")
