"""Resuming unfinished ingests (issue 14, item 9): each stored file is leased to one ingest at a
time (services.ingest_leases), so concurrent resumers in any process take a file once; an API
starting resumes in the background the files a stopped process left "received"; a lease left
by a process that died is taken once it runs out; a cancelled ingest lets its file go."""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.http import create_app
from app.settings import Settings
from db import ingest_chunks
from db.models import AuditEventRow, IngestFileRow
from domain.rulebook import Rulebook
from services import ingest as ingest_module
from services import ingest_leases as leases
from services.ingest import IngestService
from services.ingest_resume import resume_at_start
from tests.harness import ALICE, CaseHarness
from tests.ingest_helpers import denied_claim, remittance_file


def left_received(engine: Engine, raw: bytes, **lease: Any) -> str:
    """A file stored by a process that stopped before acting on it (optionally still leased)."""
    sha256 = hashlib.sha256(raw).hexdigest()
    with Session(engine) as session:
        session.add(
            IngestFileRow(
                sha256=sha256,
                filename="cut-short.835",
                size=len(raw),
                status="received",
                received_by="alice",
                received_at=datetime.now(UTC) - timedelta(minutes=30),
                **lease,
            )
        )
        session.flush()
        ingest_chunks.store(session, sha256, io.BytesIO(raw))
        session.commit()
    return sha256


def stored(engine: Engine, sha256: str) -> IngestFileRow:
    with Session(engine) as session:
        row = session.get(IngestFileRow, sha256)
        assert row is not None
        return row


def ingest_audits(engine: Engine, sha256: str) -> list[str]:
    """The status of each ingest of the file in the audit trail."""
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.action == "ingest.file")
            .order_by(col(AuditEventRow.id))
        ).all()
    return [row.detail["status"] for row in rows if row.detail.get("sha256") == sha256]


async def one_denial(harness: CaseHarness, claim_id: str, control: int) -> bytes:
    today = await harness.today()
    return remittance_file(today, denied_claim(claim_id, "50", 300, today), control=control)


class HeldParse:
    """Parsing blocks until released: an ingest caught mid-way, as a kill would find it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.go_on = threading.Event()
        real = ingest_module.scan

        def parse(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            assert self.go_on.wait(30), "the test never let the parse go on"
            return real(*args, **kwargs)

        monkeypatch.setattr(ingest_module, "scan", parse)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30), "the ingest never started parsing"


async def wait_status(engine: Engine, sha256: str, status: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while stored(engine, sha256).status != status:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"file still {stored(engine, sha256).status}, not {status}")
        await asyncio.sleep(0.05)


def test_one_claimer_wins_a_race_for_a_file(engine: Engine) -> None:
    """Eight threads, each on its own connection, claim one file at the same instant: the
    conditional UPDATE lets exactly one through, on SQLite and PostgreSQL. Released, the
    file can be claimed again; a lease past its end is free."""
    raw = f"race {datetime.now(UTC).isoformat()} {engine.url.drivername}".encode()
    sha256 = left_received(engine, raw)
    start = threading.Barrier(8)

    def claim(owner: str) -> bool:
        with Session(engine) as session:
            start.wait()
            return leases.claim(session, sha256, owner, leases.UNFINISHED)

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(claim, [f"owner-{n}" for n in range(8)]))
    assert won.count(True) == 1
    winner = f"owner-{won.index(True)}"
    assert stored(engine, sha256).lease_owner == winner

    with Session(engine) as session:
        assert not leases.claim(session, sha256, "late", leases.UNFINISHED)
        leases.release(engine, sha256, "someone-else")  # not theirs to free
        assert stored(engine, sha256).lease_owner == winner
        leases.release(engine, sha256, winner)
        assert leases.claim(session, sha256, "next", leases.UNFINISHED)
        row = session.get(IngestFileRow, sha256)
        assert row is not None
        row.lease_until = datetime.now(UTC) - timedelta(seconds=1)  # "next" died long ago
        session.add(row)
        session.commit()
        assert leases.claim(session, sha256, "after-expiry", leases.UNFINISHED)
        session.delete(row)  # PostgreSQL's database outlives the test: leave nothing to resume
        session.commit()


async def test_two_concurrent_resumers_take_a_file_once(
    any_db_harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two resumers (two API processes starting at once) both read the file as unfinished
    before either claims it: one ingests it, the other leaves it; its case starts once."""
    harness = any_db_harness
    sha256 = left_received(harness.engine, await one_denial(harness, "PCNTWO", 411))
    with Session(harness.engine) as session:
        both_saw = [s for s in leases.claimable(session, datetime.now(UTC)) if s == sha256]
    assert both_saw == [sha256]
    monkeypatch.setattr(leases, "claimable", lambda session, before: both_saw)

    with (
        Session(harness.engine, expire_on_commit=False) as first,
        Session(harness.engine, expire_on_commit=False) as second,
    ):
        summaries = await asyncio.gather(
            harness.ingest_service(first, rulebook).resume_unfinished(ALICE, timedelta(0)),
            harness.ingest_service(second, rulebook).resume_unfinished(ALICE, timedelta(0)),
        )
    reports = [report for summary in summaries for report in summary.reports]
    assert [(r.sha256, r.status, r.cases_started) for r in reports] == [(sha256, "ingested", 1)]
    assert ingest_audits(harness.engine, sha256) == ["ingested"]
    row = stored(harness.engine, sha256)
    assert (row.status, row.lease_owner, row.lease_until) == ("ingested", None, None)


async def test_the_api_resumes_a_file_left_received_when_it_starts(
    harness: CaseHarness, rulebook: Rulebook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served, the app resumes in the background: start-up is done while the file is still
    being parsed (leased to the resumer), and the file ends ingested with its case started."""
    sha256 = left_received(harness.engine, await one_denial(harness, "PCNBOOT", 412))
    parse = HeldParse(monkeypatch)
    settings = Settings(task_queue=harness.task_queue, data_dir=tmp_path)
    app = create_app(settings, engine=harness.engine, client=harness.client, rulebook=rulebook)
    async with app.router.lifespan_context(app):
        await parse.wait_entered()  # start-up finished first: the resume runs beside it
        during = stored(harness.engine, sha256)
        assert during.status == "received" and during.lease_owner is not None
        parse.go_on.set()
        await wait_status(harness.engine, sha256, "ingested")
    assert stored(harness.engine, sha256).report["cases_started"] == 1
    assert ingest_audits(harness.engine, sha256) == ["ingested"]


async def test_a_lease_left_by_a_dead_process_is_taken_when_it_runs_out(
    harness: CaseHarness, rulebook: Rulebook
) -> None:
    """At start-up a file is still leased by a process that died mid-ingest: the resumer leaves
    it while the lease runs, then takes it."""
    raw = await one_denial(harness, "PCNDEAD", 413)
    runs_out = datetime.now(UTC) + timedelta(seconds=1.5)
    sha256 = left_received(harness.engine, raw, lease_owner="dead", lease_until=runs_out)

    def service_for(session: Session) -> IngestService:
        return harness.ingest_service(session, rulebook)

    summary = await resume_at_start(harness.engine, service_for, lease=timedelta(seconds=2))
    assert datetime.now(UTC) >= runs_out
    assert [(r.sha256, r.status, r.cases_started) for r in summary.reports] == [
        (sha256, "ingested", 1)
    ]


async def test_a_file_being_ingested_is_left_to_its_ingest(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an upload works a file (its lease renewed), a resumer and a second upload of the
    same bytes leave it: the resumer skips it, the upload says it is under way; cancelled
    (the process stopping), the ingest releases its lease and a resumer finishes the file."""
    raw = await one_denial(harness, "PCNLIVE", 414)
    sha256 = hashlib.sha256(raw).hexdigest()
    parse = HeldParse(monkeypatch)
    with Session(harness.engine, expire_on_commit=False) as session:
        upload = asyncio.create_task(
            harness.ingest_service(session, rulebook).ingest("u.835", raw, ALICE)
        )
        await parse.wait_entered()
        with Session(harness.engine, expire_on_commit=False) as other:
            service = harness.ingest_service(other, rulebook)
            assert (await service.resume_unfinished(ALICE, timedelta(0))).files == 0
            again = await service.ingest("again.835", raw, ALICE)
        assert again.status == "received" and again.cases_started == 0
        assert "being ingested right now" in again.errors[0]["message"]
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
    parse.go_on.set()
    row = stored(harness.engine, sha256)
    assert (row.status, row.lease_owner) == ("received", None)
    with Session(harness.engine, expire_on_commit=False) as session:
        resumed = await harness.ingest_service(session, rulebook).resume_unfinished(
            ALICE, timedelta(0)
        )
    assert [(r.status, r.cases_started) for r in resumed.reports] == [("ingested", 1)]
