"""Worker memory with 10,000 open cases, and end-to-end throughput, on the embedded stack.

A `denials worker` process (as deployed: its own process, encrypted payloads) runs against the
Temporal dev server; an 835 with N denials is ingested and the bench waits until every case is
triaged in the read model (each case then stays open, waiting on its biller). The worker's
resident memory is read from /proc: idle (the baseline, same run), at the end, and its peak.

Target: worker RSS <= 1 GiB with 10,000 open cases. The worker keeps at most
`max_cached_workflows` cases in memory (denials/worker.py); others are replayed from their
history when they next get work, so memory is bounded by the cache, not by the open cases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, func, select

from app.encryption import EncryptionCodec, Keyring
from bench.embedded import start_dev_server
from bench.ingest_embedded import denials_835
from db.engine import make_engine, migrate
from db.models import CaseRow
from denials.temporal import ensure_search_attributes
from domain.case import Actor, CasePolicy, Role
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.ingest import IngestService

TARGET_BYTES = 1 << 30
TASK_QUEUE = "bench-memory"


def memory(pid: int) -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in bytes."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0]) * 1024
    return figures


def mib(size: int) -> str:
    return f"{size / (1 << 20):7.0f} MiB"


def spawn_worker(settings: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    """`denials worker` as deployed: a process of its own, configured by its environment."""
    with log_file.open("wb") as log:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "denials"), "worker"],
            env={**os.environ, **settings},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def settle(pid: int, seconds: float = 3.0) -> int:
    """RSS once the worker has been quiet a moment (allocations after startup settle)."""
    await asyncio.sleep(seconds)
    return memory(pid)["VmRSS"]


def triaged_cases(session: Session) -> int:
    session.expire_all()
    statement = select(func.count()).select_from(CaseRow).where(CaseRow.status == "triaged")
    return session.exec(statement).one()


async def triage_progress(session: Session, count: int, budget: float, pid: int) -> int:
    """Wait until every case is triaged or the time budget is spent, printing the progress and
    the worker's RSS each minute; the number of cases triaged."""
    start = time.monotonic()
    next_report = start + 60
    while (done := triaged_cases(session)) < count and time.monotonic() - start < budget:
        if time.monotonic() >= next_report:
            next_report += 60
            rss = mib(memory(pid)["VmRSS"]).strip()
            print(f"  ... {time.monotonic() - start:5.0f} s: {done:,} triaged, worker RSS {rss}")
        await asyncio.sleep(1)
    return done


async def run(count: int, budget: float) -> None:
    keys = Keyring.new_entry("bench")
    codec = EncryptionCodec(Keyring.parse(keys, source="bench"))
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        database_url = f"sqlite:///{data / 'denials.db'}"
        engine = make_engine(database_url)
        migrate(engine)
        server = start_dev_server(data)
        worker: subprocess.Popen[bytes] | None = None
        try:
            client = await server.wait_ready("default", codec)
            await ensure_search_attributes(client, "default")
            worker = spawn_worker(
                {
                    "TEMPORAL_ADDRESS": server.address,
                    "DATABASE_URL": database_url,
                    "DENIALS_TASK_QUEUE": TASK_QUEUE,
                    "DENIALS_PAYLOAD_KEYS": keys,
                    "DENIALS_DATA_DIR": str(data),
                },
                data / "worker.log",
            )
            idle = await settle(worker.pid, 8.0)

            rulebook = Rulebook.load()
            raw = denials_835(count)
            with Session(engine, expire_on_commit=False) as session:
                audit = AuditService(session)
                cases = CaseService(session, client, rulebook, CasePolicy(), TASK_QUEUE, audit)
                start = time.perf_counter()
                report = await IngestService(session, cases, rulebook, audit).ingest(
                    "bench.835", raw, Actor(user_id="bench", role=Role.SYSTEM)
                )
                ingested = time.perf_counter() - start
                assert report.cases_started == count, report
                triaged = await triage_progress(session, count, budget, worker.pid)
                visible = time.perf_counter() - start
            loaded = await settle(worker.pid)
            peak = memory(worker.pid)["VmHWM"]
            if worker.poll() is not None:
                raise RuntimeError((data / "worker.log").read_text())
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(60)
            engine.dispose()
            server.stop()

    print(f"worker memory with {count:,} open cases (embedded dev server, encrypted payloads)")
    print(f"  idle worker RSS (baseline):            {mib(idle)}")
    print(
        f"  worker RSS with {count:,} open cases:   {mib(loaded)} (+{mib(loaded - idle).strip()})"
    )
    print(f"  worker peak RSS during the run:        {mib(peak)}")
    verdict = "meets" if peak <= TARGET_BYTES else "MISSES"
    print(f"  target peak <= {mib(TARGET_BYTES).strip()}: {verdict}")
    print(f"end-to-end throughput, ingest of an 835 with {count:,} denials")
    print(f"  ingest (parse, store, start the cases): {ingested:7.1f} s")
    reached = "every case" if triaged == count else f"{triaged:,} of {count:,} cases (budget)"
    print(f"  until {reached} triaged: {visible:7.1f} s ({triaged / visible:.1f} cases/s)")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--cases", type=int, default=10_000)
    options.add_argument(
        "--budget", type=float, default=3600.0, help="seconds to wait for the triage of all"
    )
    arguments = options.parse_args()
    asyncio.run(run(arguments.cases, arguments.budget))


if __name__ == "__main__":
    main()
