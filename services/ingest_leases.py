"""Leases on stored files: one ingest at a time works a file, whichever process it runs in.

An ingest takes a file's lease with one conditional UPDATE (only if the lease is free or past)
and renews it while it works; finishing, failing or being cancelled releases it. A process
killed mid-ingest renews nothing, so its lease runs out within LEASE and a resumer takes the
file. The database decides who won, so API processes need not know about each other; and its
clock says when a lease runs out, so processes whose clocks disagree do not take a file from
each other. The file's report is stored only while its lease is held (store_report).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel import Session, col, select

from db.models import IngestFileRow
from db.types import UTCDateTime

LEASE = timedelta(minutes=2)
RENEW_EVERY = timedelta(seconds=30)
# A file's ingest that did not finish: stopped mid-way, or Temporal was unreachable.
UNFINISHED = ("received", "incomplete")
# What an upload of the same bytes works again: unfinished, or failed (a newer version of the
# parser may read it). An ingested file is never worked again.
RETRYABLE = (*UNFINISHED, "failed")
log = logging.getLogger(__name__)


def new_owner() -> str:
    """An id for one ingest attempt (not a process: two attempts in one process differ too)."""
    return secrets.token_hex(16)


class DbTime(FunctionElement[datetime]):
    """The database's clock, `seconds` ahead: the same for every process, whatever its own."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, seconds: float = 0) -> None:
        super().__init__()
        self.seconds = float(seconds)


@compiles(DbTime, "sqlite")
def _sqlite_time(element: DbTime, compiler: SQLCompiler, **kw: Any) -> str:
    # As SQLAlchemy stores a datetime on SQLite (UTC, microseconds), so the two compare.
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now', '{element.seconds:+f} seconds') || '000')"


@compiles(DbTime)
def _sql_time(element: DbTime, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(statement_timestamp() + make_interval(secs => {element.seconds:f}))"


def until() -> DbTime:
    """When a lease taken or renewed now runs out, by the database's clock."""
    return DbTime(LEASE.total_seconds())


def _free() -> object:
    return or_(col(IngestFileRow.lease_until).is_(None), col(IngestFileRow.lease_until) < DbTime())


def claim(session: Session, sha256: str, owner: str, statuses: tuple[str, ...]) -> bool:
    """Take the file's lease if it is free or past and the file's status is one of `statuses`
    (a resumer: UNFINISHED; an upload: RETRYABLE); whether this attempt now holds it."""
    statement = (
        update(IngestFileRow)
        .where(
            col(IngestFileRow.sha256) == sha256,
            col(IngestFileRow.status).in_(statuses),
            _free(),  # type: ignore[arg-type]
        )
        .values(lease_owner=owner, lease_until=until())
    )
    taken = session.exec(statement).rowcount == 1  # type: ignore[call-overload]
    session.commit()
    return bool(taken)


def _renew(engine: Engine, sha256: str, owner: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(IngestFileRow)
            .where(col(IngestFileRow.sha256) == sha256, col(IngestFileRow.lease_owner) == owner)
            .values(lease_until=until())
        )


def store_report(session: Session, sha256: str, owner: str, values: dict[str, Any]) -> bool:
    """Write the file's outcome (status, report...) if this attempt still holds its lease;
    whether it did. An attempt whose lease ran out (its process stalled, the database away
    when it should have renewed) may have been overtaken: the file is the other's to report."""
    statement = (
        update(IngestFileRow)
        .where(col(IngestFileRow.sha256) == sha256, col(IngestFileRow.lease_owner) == owner)
        .values(**values)
    )
    stored = session.exec(statement).rowcount == 1  # type: ignore[call-overload]
    session.commit()
    return bool(stored)


def release(engine: Engine, sha256: str, owner: str) -> None:
    """Let the file go, if this attempt still holds it."""
    with engine.begin() as connection:
        connection.execute(
            update(IngestFileRow)
            .where(col(IngestFileRow.sha256) == sha256, col(IngestFileRow.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )


@contextlib.asynccontextmanager
async def held(engine: Engine, sha256: str, owner: str) -> AsyncIterator[None]:
    """Keep the lease renewed while the body works the file, and release it at the end,
    however the body ends (an error, or the task cancelled at shutdown)."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY.total_seconds())
            try:
                await asyncio.to_thread(_renew, engine, sha256, owner)
            except (OperationalError, InterfaceError) as exc:
                # The database is away: the lease may run out and a resumer redo the file,
                # which starts nothing twice. Keep working.
                log.warning("could not renew an ingest lease: %s", type(exc).__name__)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        # No await here: a cancellation arriving now must not come between the file's report
        # and its audit entry. A renewal still in flight matches no row once released.
        renewing.cancel()
        try:
            release(engine, sha256, owner)
        except (OperationalError, InterfaceError) as exc:
            log.warning("could not release an ingest lease (it runs out): %s", type(exc).__name__)


def claimable(session: Session, received_before: datetime) -> list[str]:
    """Unfinished files received before the cutoff whose lease is free or past, oldest first."""
    rows = session.exec(
        select(IngestFileRow.sha256)
        .where(
            col(IngestFileRow.status).in_(UNFINISHED),
            col(IngestFileRow.received_at) < received_before,
            _free(),
        )
        .order_by(col(IngestFileRow.received_at))
    ).all()
    session.commit()  # end the read: hold no transaction while the files are worked
    return list(rows)


def next_expiry(session: Session, until: datetime) -> datetime | None:
    """When the soonest lease on an unfinished file or on a running implementation-guide check
    runs out, if by `until` (else None): what a process that died held is free from then on."""
    ingest = session.exec(
        select(IngestFileRow.lease_until)
        .where(
            col(IngestFileRow.status).in_(UNFINISHED),
            col(IngestFileRow.lease_until).is_not(None),
            col(IngestFileRow.lease_until) <= until,
        )
        .order_by(col(IngestFileRow.lease_until))
        .limit(1)
    ).first()
    check = session.exec(
        select(IngestFileRow.validation_until)
        .where(
            col(IngestFileRow.validation_owner).is_not(None),
            col(IngestFileRow.validation_until).is_not(None),
            col(IngestFileRow.validation_until) <= until,
        )
        .order_by(col(IngestFileRow.validation_until))
        .limit(1)
    ).first()
    session.commit()
    return min((when for when in (ingest, check) if when is not None), default=None)
