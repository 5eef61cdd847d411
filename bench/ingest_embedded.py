"""Ingest of an 835 with 1,000 denials on the embedded stack, until every case is triaged and
visible in the worklist, against starting 1,000 trivial workflows on the same server.

Target: <= 30 s. The embedded stack is what `make run` starts: the Temporal dev server binary
(SQLite), one worker process-in-process, the SQLite read model. The ingest runs twice: with the
worker as `make run` configures it (workflows unsandboxed) and, for comparison, with the
workflows in Temporal's sandbox as the tests run them.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, func, select
from temporalio.client import Client
from temporalio.worker import Worker

from app.encryption import EncryptionCodec, Keyring
from app.settings import Settings
from bench.embedded import start_dev_server
from bench.trivial_workflow import TrivialWorkflow
from db.engine import make_engine, migrate
from db.models import CaseRow
from denials.temporal import ensure_search_attributes
from denials.worker import build_worker
from domain.case import Actor, CasePolicy, CaseStatus, Role
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.ingest import IngestService
from testkit.x12 import Claim835, Line835, Remittance835, build_file

TARGET_SECONDS = 30.0


def denials_835(count: int, prefix: str = "BENCH") -> bytes:
    today = datetime.now(UTC).date()
    claims = [
        Claim835(
            f"{prefix}{number:06d}",
            status="4",
            lines=[
                Line835(
                    procedure="99214",
                    billed="250",
                    paid="0",
                    cas=[("CO", "197" if number % 2 else "16", "250")],
                    service_date=today - timedelta(days=30),
                )
            ],
        )
        for number in range(count)
    ]
    return build_file(Remittance835(claims=claims, payment_date=today, production_date=today))


async def wait_until_visible(session: Session, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        visible = session.exec(
            select(func.count())
            .select_from(CaseRow)
            .where(col(CaseRow.status) == CaseStatus.TRIAGED)
        ).one()
        if visible >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {visible} of {count} cases triaged after {timeout:.0f} s")
        session.expire_all()
        await asyncio.sleep(0.2)


async def ingest_until_triaged(
    client: Client, data: Path, count: int, rulebook: Rulebook, *, sandboxed: bool
) -> tuple[float, float]:
    """Seconds until the 835 is ingested, and until every case is triaged, on a fresh read
    model and task queue."""
    label = "sandboxed" if sandboxed else "unsandboxed"
    engine = make_engine(f"sqlite:///{data / f'denials-{label}.db'}")
    try:
        migrate(engine)
        raw = denials_835(count, prefix=label[:5].upper())
        queue = f"bench-cases-{label}"
        with ThreadPoolExecutor(16) as executor:
            async with build_worker(client, queue, engine, rulebook, executor, sandboxed=sandboxed):
                with Session(engine, expire_on_commit=False) as session:
                    audit = AuditService(session)
                    cases = CaseService(session, client, rulebook, CasePolicy(), queue, audit)
                    start = time.perf_counter()
                    report = await IngestService(session, cases, rulebook, audit).ingest(
                        f"{label}.835", raw, Actor(user_id="bench", role=Role.SYSTEM)
                    )
                    ingested = time.perf_counter() - start
                    assert report.cases_started == count, report
                    await wait_until_visible(session, count, timeout=300)
                    return ingested, time.perf_counter() - start
    finally:
        engine.dispose()


async def run(count: int) -> None:
    production_sandboxed = Settings().workflow_sandbox
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        server = start_dev_server(data)
        try:
            # Payloads encrypted, as `make run` does.
            codec = EncryptionCodec(Keyring.parse(Keyring.new_entry("bench"), source="bench"))
            client = await server.wait_ready("default", codec)
            await ensure_search_attributes(client, "default")
            rulebook = Rulebook.load()
            async with Worker(client, task_queue="bench-trivial", workflows=[TrivialWorkflow]):
                start = time.perf_counter()
                handles = await asyncio.gather(
                    *(
                        client.start_workflow(
                            TrivialWorkflow.run, n, id=f"trivial-{n}", task_queue="bench-trivial"
                        )
                        for n in range(count)
                    )
                )
                await asyncio.gather(*(handle.result() for handle in handles))
                trivial = time.perf_counter() - start
            ingested, visible = await ingest_until_triaged(
                client, data, count, rulebook, sandboxed=production_sandboxed
            )
            _, visible_other = await ingest_until_triaged(
                client, data, count, rulebook, sandboxed=not production_sandboxed
            )
        finally:
            server.stop()
    other = "sandboxed" if not production_sandboxed else "unsandboxed"
    print(f"ingest of an 835 with {count:,} denials on the embedded stack")
    print(f"  {count:,} trivial workflows started and completed: {trivial:6.1f} s")
    print(f"  ingest (parse, store, start {count:,} cases):      {ingested:6.1f} s")
    print(
        f"  until every case is triaged in the worklist:     {visible:6.1f} s "
        f"({visible / trivial:.1f}x the trivial baseline)"
    )
    print(f"  the same with the workflows {other + ':':<13}        {visible_other:6.1f} s")
    verdict = "meets" if visible <= TARGET_SECONDS else "MISSES"
    print(f"  target <= {TARGET_SECONDS:.0f} s: {verdict}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--denials", type=int, default=1000)
    asyncio.run(run(options.parse_args().denials))


if __name__ == "__main__":
    main()
