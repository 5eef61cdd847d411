"""Where a file's ingest is, while it runs: kept in its row's report (`report.progress`) for
the ingest page and GET /api/v1/ingest/{sha256}, until the finished report replaces it.

A large 835 takes minutes (one workflow start per denial), so the user sees the stage and the
counts so far instead of a request that hangs. Writes are small UPDATEs on a connection of
their own, never on the event loop, and at most every FLUSH_EVERY seconds while cases are being
started.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import col

from db.models import IngestFileRow

FLUSH_EVERY = 1.0
log = logging.getLogger(__name__)


class IngestStage(StrEnum):
    STORED = "stored"
    PARSING = "parsing"  # reading and classifying the claims
    RECORDING = "recording"  # a part's adjudicated claims, for the denial rate
    ACTING = "acting"  # opening cases and answering open ones, a part at a time

    @property
    def words(self) -> str:
        return {
            IngestStage.STORED: "stored, about to be read",
            IngestStage.PARSING: "reading the claims",
            IngestStage.RECORDING: "recording the adjudicated claims",
            IngestStage.ACTING: "opening and answering cases",
        }[self]


def describe(progress: dict[str, Any]) -> str:
    """A row's progress in words, e.g. "opening and answering cases: 1,200 of 40,311"."""
    try:
        words = IngestStage(progress.get("stage")).words
    except ValueError:
        return "received"
    claims, read = progress.get("claims"), progress.get("claims_read")
    partly = claims is not None and read is not None and read < claims
    if progress.get("actions_total"):
        # Read a part at a time, a large file's actions are known as its parts are read.
        so_far = " so far" if partly else ""
        words += f": {progress.get('actions_done', 0):,} of {progress['actions_total']:,}{so_far}"
    if partly:
        words += f" ({read:,} of {claims:,} claims read, {progress.get('cases', 0):,} cases)"
    elif claims:
        words += f" ({claims:,} claims, {progress.get('cases', 0):,} cases)"
    return words


class ProgressLog:
    """One file's progress, written to its row while its status is "received" (a file worked
    again after failing keeps its last report until the new one is stored)."""

    def __init__(self, engine: Engine, sha256: str) -> None:
        self._engine = engine
        self._sha256 = sha256
        self._state: dict[str, Any] = {}
        self._written: dict[str, Any] = {}

    def stage(self, stage: IngestStage, **counts: int) -> None:
        """A new stage (from a worker thread: a blocking write)."""
        self._state = {**self._state, **counts, "stage": stage.value}
        self._write()

    def actions(self, done: int, total: int) -> None:
        """Cases started and answers sent so far (on the event loop: no write here)."""
        self._state = {**self._state, "actions_done": done, "actions_total": total}

    async def flush_until(self, stop: asyncio.Event) -> None:
        """Write the action counts every FLUSH_EVERY seconds until `stop` is set. Awaited to
        the end (not cancelled), so that no write lands after the file's report."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), FLUSH_EVERY)
            except TimeoutError:
                await asyncio.to_thread(self._write)

    def _write(self) -> None:
        if self._state == self._written:
            return
        self._written = dict(self._state)
        state = {**self._state, "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(IngestFileRow)
                    .where(
                        col(IngestFileRow.sha256) == self._sha256,
                        col(IngestFileRow.status) == "received",
                    )
                    .values(report={"progress": state})
                )
        except (OperationalError, InterfaceError) as exc:
            # Progress is for the eyes only: the ingest goes on without it.
            log.warning("could not record an ingest's progress: %s", type(exc).__name__)
