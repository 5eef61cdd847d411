"""Ingests the web form and the API hand over and do not wait for: a large upload would keep
the browser or client waiting for minutes, so its files are ingested here, one after another,
while the user follows their progress on the file's page or GET /api/v1/ingest/{sha256}
(services.ingest_progress).

Each file is stored and leased before the request answers (IngestService.receive), so its page
exists at once; if the process stops mid-way, the file stays "received", its lease runs out and
the next start resumes it (services.ingest_leases, services.ingest_resume).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.case import Actor
from services import ingest_validation as validation
from services.ingest import IngestService, Received, Upload
from services.ingest_report import FileReport

log = logging.getLogger(__name__)


class BackgroundIngests:
    """The ingests running in the background of one API process."""

    def __init__(self, engine: Engine, service_for: Callable[[Session], IngestService]) -> None:
        self._engine = engine
        self._service_for = service_for
        self._tasks: set[asyncio.Task[None]] = set()

    async def receive(
        self, service: IngestService, files: list[tuple[str, Upload]], actor: Actor
    ) -> list[FileReport | Received]:
        """Store and lease each file now (so its report exists at once), then ingest the ones
        received in the background; the others' answers (ingested before, or another ingest
        is working them) in their place."""
        outcomes = [await service.receive(name, file, actor) for name, file in files]
        handed = [
            (name, outcome)
            for (name, _), outcome in zip(files, outcomes, strict=True)
            if isinstance(outcome, Received)
        ]
        if handed:
            self.start(handed, actor)
        return outcomes

    def start(self, files: list[tuple[str, Received]], actor: Actor) -> None:
        """Ingest (name, received) files, each stored and leased by IngestService.receive."""
        task = asyncio.create_task(self._ingest(files, actor), name="background-ingest")
        self._tasks.add(task)  # keep a reference: the loop holds tasks weakly
        task.add_done_callback(self._tasks.discard)

    async def _ingest(self, files: list[tuple[str, Received]], actor: Actor) -> None:
        try:
            with Session(self._engine, expire_on_commit=False) as session:
                service = self._service_for(session)
                for name, (sha256, lease) in files:
                    await service.ingest_stored(name, sha256, actor, lease)
        except Exception as exc:  # nobody awaits this task: say it, and resume will finish
            # The type only: a message may name a file (PHI).
            log.warning("a background ingest stopped: %s", type(exc).__name__)

    async def stop(self) -> None:
        """Cancel what is running, implementation-guide checks included (its leases are
        released: the next start resumes it)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await validation.stop()
