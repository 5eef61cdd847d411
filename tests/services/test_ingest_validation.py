"""The implementation-guide check beside the ingest (issue 20, services.ingest_validation): cases
start without waiting for it, its findings join the file's row when done, a file whose
structure cannot be read is still refused, and a check whose process stopped is run again or
said to be interrupted."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db import ingest_chunks
from db.models import CaseRow, IngestFileRow
from domain.rulebook import Rulebook
from edi.results import ParsedFile
from edi.validation import validate_first
from services import ingest_validation as validation
from services.cases import CaseService
from services.ingest_report import PROBLEM_LIMIT
from testkit.processes import processes_mentioning
from testkit.x12 import build_file, random_remittance
from tests.harness import ALICE, CaseHarness
from tests.ingest_helpers import with_findings

ROOT = Path(__file__).resolve().parents[2]


def stored(engine: Engine, sha256: str) -> IngestFileRow:
    with Session(engine) as session:
        row = session.get(IngestFileRow, sha256)
        assert row is not None
        return row


def expected_findings(raw: bytes) -> list[dict[str, Any]]:
    findings, omitted = validate_first(raw, PROBLEM_LIMIT)
    assert findings and omitted == 0
    return ParsedFile(file="", sha256="", problems=findings).problems_json()["warnings"]


@pytest.fixture(autouse=True)
async def no_check_left_running() -> Any:
    yield
    await validation.stop()


async def test_the_first_case_starts_before_the_check_ends(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check cannot end until a case has started: an ingest that waited for it would
    never start one (the wait below would time out)."""
    raw = with_findings(await harness.today())
    case_started, order = asyncio.Event(), []
    real_start = CaseService.start_case

    async def start_case(self: CaseService, record: Any) -> Any:
        order.append("case started")
        case_started.set()
        return await real_start(self, record)

    async def check_after_a_case(engine: Engine, sha256: str) -> dict[str, Any]:
        await case_started.wait()
        order.append("check ended")
        return {"findings": [], "findings_omitted": 0}

    monkeypatch.setattr(CaseService, "start_case", start_case)
    monkeypatch.setattr(validation, "_child", check_after_a_case)
    with Session(harness.engine, expire_on_commit=False) as session:
        report = await harness.ingest_service(session, rulebook).ingest("remit.835", raw, ALICE)
    assert (report.status, report.cases_started, report.validation) == ("ingested", 2, "pending")
    await asyncio.wait_for(validation.settle(), 30)
    assert order[0] == "case started" and "check ended" in order
    assert stored(harness.engine, report.sha256).validation["status"] == "done"  # type: ignore[index]


async def test_the_findings_join_the_file_when_the_check_is_done(
    harness: CaseHarness, rulebook: Rulebook
) -> None:
    """The real child process: it reads the file from the database, and its findings are
    pyx12's (as warnings, the report's shape); the report itself is not rewritten."""
    raw = with_findings(await harness.today())
    with Session(harness.engine, expire_on_commit=False) as session:
        report = await harness.ingest_service(session, rulebook).ingest("remit.835", raw, ALICE)
    assert report.validation == "pending"
    await asyncio.wait_for(validation.settle(), 60)
    row = stored(harness.engine, report.sha256)
    assert row.validation is not None
    assert row.validation["status"] == "done", row.validation
    assert row.validation["findings"] == expected_findings(raw)
    assert "CLP06" in row.validation["findings"][0]["message"]
    assert row.validation["findings_omitted"] == 0
    assert (row.validation_owner, row.validation_until) == (None, None)
    assert row.status == "ingested" and "validation" not in row.report
    assert not [w for w in row.report["warnings"] if "implementation guide" in w["message"]]


async def test_a_file_ingested_again_is_not_checked_twice(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = with_findings(await harness.today())
    runs = []

    async def counted(engine: Engine, sha256: str) -> dict[str, Any]:
        runs.append(sha256)
        return {"findings": [], "findings_omitted": 0}

    monkeypatch.setattr(validation, "_child", counted)
    with Session(harness.engine, expire_on_commit=False) as session:
        service = harness.ingest_service(session, rulebook)
        first = await service.ingest("remit.835", raw, ALICE)
        await validation.settle()
        again = await service.ingest("remit.835", raw, ALICE)
    assert (first.validation, again.status, again.validation) == ("pending", "duplicate", None)
    assert len(runs) == 1


async def test_a_file_whose_structure_cannot_be_read_is_refused_and_kept(
    harness: CaseHarness, rulebook: Rulebook
) -> None:
    """Truncated mid-claim: refused with our parser's errors, nothing started, the bytes kept."""
    whole = with_findings(await harness.today())
    raw = whole[: whole.index(b"CLP*PCNV3")]
    with Session(harness.engine, expire_on_commit=False) as session:
        report = await harness.ingest_service(session, rulebook).ingest("cut.835", raw, ALICE)
        cases = session.exec(select(CaseRow)).all()
    assert (report.status, report.cases_started, report.started_cases) == ("failed", 0, [])
    assert report.errors and all(e["location"]["text"] for e in report.errors)
    assert not [c for c in cases if c.claim_id.startswith("PCNV")]
    row = stored(harness.engine, report.sha256)
    assert row.status == "failed"
    assert ingest_chunks.whole(harness.engine, report.sha256) == raw


async def test_a_check_whose_process_stopped_is_run_again(
    harness: CaseHarness, rulebook: Rulebook
) -> None:
    """Left running by a process that died (its lease past): a resumer runs it again."""
    raw = with_findings(await harness.today())
    sha256 = left_checking(harness.engine, raw, attempts=1)
    with Session(harness.engine, expire_on_commit=False) as session:
        await harness.ingest_service(session, rulebook).resume_unfinished(ALICE, timedelta(0))
    await asyncio.wait_for(validation.settle(), 60)
    row = stored(harness.engine, sha256)
    assert row.validation is not None and row.validation["status"] == "done"
    assert row.validation["attempts"] == 2
    assert row.validation["findings"] == expected_findings(raw)


async def test_a_check_stopped_twice_is_said_interrupted(harness: CaseHarness) -> None:
    raw = with_findings(await harness.today())
    sha256 = left_checking(harness.engine, raw, attempts=validation.MAX_ATTEMPTS)
    assert await validation.resume_abandoned(harness.engine) == [sha256]
    await asyncio.wait_for(validation.settle(), 30)
    row = stored(harness.engine, sha256)
    assert row.validation is not None and row.validation["status"] == "interrupted"
    assert "stopped 2 times with its process" in row.validation["message"]
    assert "cases are not affected" in row.validation["message"]
    assert row.validation_owner is None


async def test_a_check_held_by_a_live_process_is_left_to_it(harness: CaseHarness) -> None:
    raw = with_findings(await harness.today())
    sha256 = left_checking(
        harness.engine, raw, attempts=1, until=datetime.now(UTC) + timedelta(minutes=2)
    )
    assert await validation.resume_abandoned(harness.engine) == []
    assert stored(harness.engine, sha256).validation_owner == "dead"


def left_checking(engine: Engine, raw: bytes, attempts: int, until: datetime | None = None) -> str:
    """A file ingested, its check left running by a process that died."""
    sha256 = hashlib.sha256(raw).hexdigest()
    with Session(engine) as session:
        session.add(
            IngestFileRow(
                sha256=sha256,
                filename="left.835",
                size=len(raw),
                status="ingested",
                report={"file": "left.835", "sha256": sha256, "status": "ingested"},
                received_by="alice",
                received_at=datetime.now(UTC) - timedelta(minutes=5),
                validation={"status": "running", "attempts": attempts},
                validation_owner="dead",
                validation_until=until or datetime.now(UTC) - timedelta(seconds=5),
            )
        )
        session.flush()
        ingest_chunks.store(session, sha256, io.BytesIO(raw))
        session.commit()
    return sha256


PARENT = """
import asyncio, sys
from db.engine import make_engine
from services import ingest_validation
print("started", flush=True)
asyncio.run(ingest_validation._child(make_engine(sys.argv[1]), sys.argv[2]))
"""


def test_the_child_dies_with_its_parent(tmp_path: Path, sqlite_engine: Engine) -> None:
    """Killed with SIGKILL, the parent cannot clean up: its child ends by itself."""
    raw = build_file(random_remittance(20_000, seed=11))  # pyx12 takes seconds on it
    sha256 = left_checking(sqlite_engine, raw, attempts=1)
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT), str(sqlite_engine.url), sha256],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"started\n"
        deadline = time.monotonic() + 30
        children: list[int] = []
        while not children and time.monotonic() < deadline:
            children = [
                pid
                for pid in processes_mentioning("services.ingest_validation")
                if _parent_of(pid) == parent.pid
            ]
            time.sleep(0.1)
        assert children, "the parent never started its child"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children), "the child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
