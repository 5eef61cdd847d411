"""Ingest of an 835 of 10,000 claims with 1,000 denials (one claim in ten, the rest paid)
through the ingest service, as the API runs it, until every case is triaged; against as many
trivial workflows started and completed on the same stack in the same run.

The stack is what `make run` starts, each part a process of its own (bench/ingest_stack.py):
the Temporal dev server (SQLite), a `denials worker` (configured as deployed: workflows
unsandboxed, encrypted payloads), the SQLite read model. The ingest runs in this process, not
the worker's (as the API's does); bench/ingest_20k.py times the `denials ingest` CLI.

Target (issue 20): every case triaged within 1.2x of the trivial baseline (median of the runs).
A workflow of a new case's shape with no work in it already takes about 1.2x the trivial one
(bench/workflow_shapes.py: 1.05-1.29x, 2026-12-05 at load 9-11).

    .venv/bin/python -m bench.ingest_embedded [--claims 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from app.encryption import EncryptionCodec, Keyring
from bench.ingest_stack import Stack, report, runs
from db.engine import make_engine
from denials.temporal import connect
from domain.case import Actor, CasePolicy, Role
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.ingest import IngestService
from testkit.x12 import Claim835, Line835, Remittance835, build_file


def denials_835(count: int, prefix: str = "BENCH") -> bytes:
    """An 835 whose every claim is denied (bench/worker_memory.py's many open cases)."""
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


async def ingest_with_service(stack: Stack, file: Path, task_queue: str) -> float:
    """The ingest service in this process, on a client and engine of its own."""
    codec = EncryptionCodec(Keyring.parse(stack.keys, source="bench"))
    client = await connect(stack.server.address, "default", codec=codec)
    engine = make_engine(stack.database_url)
    rulebook = Rulebook.load()
    raw = await asyncio.to_thread(file.read_bytes)
    start = time.process_time()
    try:
        with Session(engine, expire_on_commit=False) as session:
            audit = AuditService(session)
            cases = CaseService(session, client, rulebook, CasePolicy(), task_queue, audit)
            await IngestService(session, cases, rulebook, audit).ingest(
                file.name, raw, Actor(user_id="bench", role=Role.SYSTEM)
            )
    finally:
        engine.dispose()
    return time.process_time() - start  # with the read model's polling, a little


async def run(claims: int, count: int) -> None:
    print(f"ingest service on an 835 of {claims:,} claims, one in ten denied", flush=True)
    cases, done = await runs(claims, count, ingest_with_service)
    report("ingest through the service (as the API runs it)", cases, done, None)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--claims", type=int, default=10_000)
    options.add_argument("--runs", type=int, default=3)
    arguments = options.parse_args()
    asyncio.run(run(arguments.claims, arguments.runs))


if __name__ == "__main__":
    main()
