"""A large file's ingest (issue 14, item 8): its blocking steps run off the event loop, and
its stage and counts so far are kept on its row while it runs (services.ingest_progress), until
the finished report replaces them."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from typing import Any

import pytest
from sqlmodel import Session

import services.ingest as ingest_module
from db.models import IngestFileRow
from db.remittance_claims import AdjudicatedRecorder
from domain.rulebook import Rulebook
from services.cases import CaseService
from services.ingest_actions import FileActions
from services.ingest_progress import describe
from tests.harness import ALICE, CaseHarness
from tests.ingest_helpers import two_denials_835


def progress_of(harness: CaseHarness, sha256: str) -> dict[str, Any]:
    with Session(harness.engine) as session:
        row = session.get(IngestFileRow, sha256)
        assert row is not None
        assert row.status == "received", row.status
        return dict(row.report["progress"])


class Gate:
    """Holds a step of the ingest until the test lets it go on (a thread waits on it, or a
    coroutine)."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.go_on = threading.Event()

    def hold(self) -> None:
        self.reached.set()
        assert self.go_on.wait(30), "the test never let the ingest go on"

    async def wait_reached(self) -> None:
        assert await asyncio.to_thread(self.reached.wait, 30), "the ingest never got there"


async def test_the_stage_and_counts_show_while_the_file_is_ingested(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = two_denials_835(await harness.today())
    sha256 = hashlib.sha256(raw).hexdigest()
    parsing, acting, go_on = Gate(), asyncio.Event(), asyncio.Event()
    real_scan, real_start = ingest_module.scan, CaseService.start_case

    def held_scan(*args: Any, **kwargs: Any) -> Any:
        parsing.hold()
        return real_scan(*args, **kwargs)

    async def held_start(self: CaseService, record: Any) -> Any:
        acting.set()
        await go_on.wait()
        return await real_start(self, record)

    monkeypatch.setattr(ingest_module, "scan", held_scan)
    monkeypatch.setattr(CaseService, "start_case", held_start)
    monkeypatch.setattr("services.ingest_progress.FLUSH_EVERY", 0.05)
    with Session(harness.engine, expire_on_commit=False) as session:
        service = harness.ingest_service(session, rulebook)
        running = asyncio.create_task(service.ingest("remit.835", raw, ALICE))

        await parsing.wait_reached()
        shown = progress_of(harness, sha256)
        assert shown["stage"] == "parsing"
        assert describe(shown) == "reading the claims"
        parsing.go_on.set()

        await asyncio.wait_for(acting.wait(), 30)
        await asyncio.sleep(0.2)  # a flush of the counts
        shown = progress_of(harness, sha256)
        assert (shown["stage"], shown["claims"], shown["cases"]) == ("acting", 3, 2)
        assert (shown["actions_done"], shown["actions_total"]) == (0, 2)
        assert describe(shown) == "opening and answering cases: 0 of 2 (3 claims, 2 cases)"
        go_on.set()
        report = await running
    assert (report.status, report.cases_started) == ("ingested", 2)
    with Session(harness.engine) as session:
        row = session.get(IngestFileRow, sha256)
        assert row is not None and row.status == "ingested"
        assert "progress" not in row.report and row.report["cases_started"] == 2


async def test_the_blocking_steps_run_off_the_event_loop(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing and storing, parsing, recording the claims, planning the actions and storing
    the report each take seconds on a large file: none runs on the event loop's thread."""
    loop_thread = threading.get_ident()
    seen: dict[str, bool] = {}

    def watch(name: str, real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            seen[name] = threading.get_ident() != loop_thread
            return real(*args, **kwargs)

        return run

    monkeypatch.setattr(ingest_module, "scan", watch("parse", ingest_module.scan))
    monkeypatch.setattr(AdjudicatedRecorder, "record", watch("record", AdjudicatedRecorder.record))
    monkeypatch.setattr(FileActions, "plan", watch("plan", FileActions.plan))
    real_store, real_finish = (
        ingest_module.IngestService._store,
        ingest_module.IngestService._finish,
    )
    monkeypatch.setattr(ingest_module.IngestService, "_store", watch("store", real_store))
    monkeypatch.setattr(ingest_module.IngestService, "_finish", watch("finish", real_finish))
    with Session(harness.engine, expire_on_commit=False) as session:
        report = await harness.ingest_service(session, rulebook).ingest(
            "remit.835", two_denials_835(await harness.today()), ALICE
        )
    assert report.status == "ingested"
    assert seen == dict.fromkeys(("store", "parse", "record", "plan", "finish"), True)


def test_a_file_read_in_parts_shows_the_claims_read_so_far() -> None:
    """A large file's actions are known a part at a time: the count says so, with how much of
    the file is read; once it is all read, the counts are the file's."""
    partly = {
        "stage": "acting",
        "claims": 242_000,
        "cases": 38_565,
        "claims_read": 4_000,
        "actions_done": 500,
        "actions_total": 640,
    }
    assert describe(partly) == (
        "opening and answering cases: 500 of 640 so far (4,000 of 242,000 claims read, "
        "38,565 cases)"
    )
    whole = {**partly, "claims_read": 242_000, "actions_done": 38_565, "actions_total": 38_565}
    assert describe(whole) == (
        "opening and answering cases: 38,565 of 38,565 (242,000 claims, 38,565 cases)"
    )
    assert describe({"stage": "recording", "claims": 10, "cases": 1, "claims_read": 2}) == (
        "recording the adjudicated claims (2 of 10 claims read, 1 cases)"
    )
