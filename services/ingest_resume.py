"""Finishing, when an API process starts, the ingests a stopped one left unfinished.

A process killed mid-ingest leaves its file "received" (or "incomplete" if Temporal was away).
Each API process resumes such files in the background as it starts, after the migrations, so
start-up is not held up. Several processes starting at once share the work through the files'
leases (services.ingest_leases): each file is worked once. A file still leased at start-up is
held either by a live process (which finishes it) or by one that died: its lease runs out
within LEASE of its last renewal, so the resumer looks again when the soonest such lease
runs out, until none that was renewed before start-up is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.case import SYSTEM_ACTOR
from services import ingest_leases as leases
from services.ingest import IngestService
from services.ingest_report import FileReport, IngestSummary

log = logging.getLogger(__name__)
# A file leased at start-up is looked at again this many times at most (a live process keeps
# renewing its lease past the bound, so the loop ends; this only stops a pathological race).
MAX_PASSES = 5
# Past its lease's end, give the other process's clock and the database a moment.
MARGIN = timedelta(seconds=1)


async def resume_at_start(
    engine: Engine,
    service_for: Callable[[Session], IngestService],
    lease: timedelta = leases.LEASE,
) -> IngestSummary:
    """Ingest again every unfinished file whose lease is free, then those whose lease (taken
    before this start) runs out. Never raises for a file or the database: it logs and stops."""
    bound = datetime.now(UTC) + lease + MARGIN
    reports: list[FileReport] = []
    try:
        with Session(engine, expire_on_commit=False) as session:
            service = service_for(session)
            for _ in range(MAX_PASSES):
                # Any age: a file being worked now holds a lease, so only abandoned ones match.
                done = await service.resume_unfinished(SYSTEM_ACTOR, timedelta(0))
                reports.extend(done.reports)
                expiry = leases.next_expiry(session, bound)
                if expiry is None:
                    break
                wait = (expiry + MARGIN - datetime.now(UTC)).total_seconds()
                await asyncio.sleep(max(0.0, wait))
    except Exception as exc:  # a background task: say it, never crash the process
        # The type only: a message may name a file (PHI).
        log.warning("resuming unfinished ingests at start-up stopped: %s", type(exc).__name__)
    summary = IngestSummary.of(reports)
    if reports:
        statuses = [report.status for report in reports]
        log.info(
            "resumed %d unfinished ingest(s) at start-up: %d ingested, %d incomplete, %d failed",
            len(reports),
            statuses.count("ingested"),
            statuses.count("incomplete"),
            statuses.count("failed"),
        )
    return summary
