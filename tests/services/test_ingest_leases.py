"""A file's lease is judged by the database's clock, and an ingest that lost its lease does not
store its report over the one of the ingest that took the file over."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, update

from db.models import IngestFileRow
from domain.rulebook import Rulebook
from services import ingest as ingest_module
from services import ingest_leases as leases
from tests.harness import ALICE, CaseHarness
from tests.ingest_helpers import denied_claim, remittance_file
from tests.services.test_ingest_resume import left_received, stored


def test_a_lease_runs_out_by_the_databases_clock(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process whose clock runs an hour fast neither takes a file another holds nor hands
    out leases that outlive the database's LEASE."""
    raw = f"skew {datetime.now(UTC).isoformat()} {engine.url.drivername}".encode()
    sha256 = left_received(engine, raw)
    with Session(engine) as session:
        assert leases.claim(session, sha256, "holder", leases.UNFINISHED)
    held_until = stored(engine, sha256).lease_until
    assert held_until is not None
    assert abs(held_until - (datetime.now(UTC) + leases.LEASE)) < timedelta(seconds=30)

    fast = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr(leases, "_now", lambda: fast, raising=False)
    with Session(engine) as session:
        assert not leases.claim(session, sha256, "fast-clock", leases.UNFINISHED)
        assert sha256 not in leases.claimable(session, datetime.now(UTC))
    assert stored(engine, sha256).lease_owner == "holder"

    with Session(engine) as session:  # past its end by the database's clock: free
        session.exec(
            update(IngestFileRow)
            .where(IngestFileRow.sha256 == sha256)  # type: ignore[arg-type]
            .values(lease_until=leases.DbTime(-1))
        )
        session.commit()
        assert sha256 in leases.claimable(session, datetime.now(UTC))
        assert leases.claim(session, sha256, "next", leases.UNFINISHED)


async def test_an_overtaken_ingest_does_not_store_its_report(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its lease taken over mid-way (its process stalled past LEASE), an ingest leaves the file
    to the one that took it: the row keeps that one's status, and this one says so."""
    entered, go_on = threading.Event(), threading.Event()
    real = ingest_module.scan

    def held_scan(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert go_on.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "scan", held_scan)
    today = await harness.today()
    raw = remittance_file(today, denied_claim("PCNL1", "50", 300, today), control=71)
    with Session(harness.engine, expire_on_commit=False) as session:
        service = harness.ingest_service(session, rulebook)
        running = asyncio.create_task(service.ingest("late.835", raw, ALICE))
        assert await asyncio.to_thread(entered.wait, 30)
        sha256 = hashlib.sha256(raw).hexdigest()
        with Session(harness.engine) as other:
            other.exec(
                update(IngestFileRow)
                .where(IngestFileRow.sha256 == sha256)  # type: ignore[arg-type]
                .values(lease_owner="the-other-ingest")
            )
            other.commit()
        go_on.set()
        report = await running
    assert report.status == "ingested"  # what it did is done (idempotent starts)
    assert "another ingest took the file over" in report.warnings[-1]["message"]
    row = stored(harness.engine, sha256)
    assert (row.status, row.lease_owner) == ("received", "the-other-ingest")
    assert "cases_started" not in (row.report or {})
