"""Ingesting X12 files: store, check whole, then open cases or answer open ones a part at a time.

The raw file is stored before anything else and kept whatever happens. A file whose structure
cannot be read (our own parser's errors) starts nothing. The implementation-guide check (pyx12,
nine tenths of a whole parse) does not hold cases back: it runs beside the ingest in another
process and its findings join the file's report when done (services.ingest_validation). A file
already ingested starts nothing (same SHA-256). Case ids are deterministic and payer answers
carry the file and claim they came from, so an ingest cut short (Temporal unreachable, or the
process stopped) can simply be run again. One ingest at a time works a file, in any process
(services.ingest_leases).

A file is never held whole: an upload is hashed and stored a chunk at a time from the file
Starlette spooled it to (db.ingest_chunks), and every read of it (the structure check, its
parts, a resumed ingest) streams the stored chunks (edi.stream)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from db import ingest_chunks as chunks
from db.models import IngestFileRow
from db.remittance_claims import AdjudicatedRecorder
from domain.case import Actor
from domain.rulebook import Rulebook
from edi.parser import enveloped
from edi.problems import Severity
from edi.results import ParsedFile
from edi.stream import PART_CLAIMS, Scan, Source, parts, scan
from services import claim_matching as matching
from services import ingest_leases as leases
from services import ingest_validation as validation
from services.audit import AuditService, Outcome
from services.cases import CaseService
from services.errors import Busy, Unavailable
from services.ingest_actions import Action, FileActions
from services.ingest_metrics import record_ingest
from services.ingest_progress import IngestStage, ProgressLog
from services.ingest_report import PROBLEM_LIMIT, FileReport, IngestSummary
from services.memory import give_back_freed
from services.temporal_calls import release_connection

Progress = Callable[[int, int], None]
UNFINISHED = leases.UNFINISHED
# An upload: its bytes, or a file holding them (read a chunk at a time, never whole).
Upload = bytes | BinaryIO


class Received(NamedTuple):
    """A file stored and leased for ingest_stored() to work (in the background)."""

    sha256: str
    lease: str


def _file(upload: Upload) -> BinaryIO:
    return io.BytesIO(upload) if isinstance(upload, bytes) else upload


class IngestService:
    part_claims = PART_CLAIMS  # claims read, recorded and acted on at a time

    def __init__(
        self,
        session: Session,
        cases: CaseService,
        rulebook: Rulebook,
        audit: AuditService,
        concurrency: int = 32,
    ) -> None:
        self._session = session
        self._cases = cases
        self._rulebook = rulebook
        self._audit = audit
        self._concurrency = concurrency

    async def ingest_many(
        self, files: list[tuple[str, Upload]], actor: Actor, progress: Progress | None = None
    ) -> IngestSummary:
        reports = [await self.ingest(name, raw, actor, progress) for name, raw in files]
        return IngestSummary.of(reports)

    async def resume_unfinished(self, actor: Actor, older_than: timedelta) -> IngestSummary:
        """Ingest again the files whose ingest did not finish: "received" (the process was
        stopped mid-way) or "incomplete" (Temporal was unreachable), received more than
        `older_than` ago, whose lease is free or past (a file another ingest is working on is
        left to it). Each file is claimed first, so concurrent resumers in any process take it
        once. Case ids are deterministic and answers carry their file and claim: nothing is
        started or counted twice. Implementation-guide checks left by a stopped process start
        again too."""
        reports = []
        for sha256 in leases.claimable(self._session, datetime.now(UTC) - older_than):
            owner = leases.new_owner()
            if not leases.claim(self._session, sha256, owner, leases.UNFINISHED):
                continue  # another resumer took it since the list was read
            row = self._session.get(IngestFileRow, sha256, populate_existing=True)
            assert row is not None
            reports.append(await self.ingest_stored(row.filename, sha256, actor, owner))
        # Implementation-guide checks whose process stopped: run again, in the background.
        await validation.resume_abandoned(self._engine)
        return IngestSummary.of(reports)

    async def ingest(
        self, name: str, raw: Upload, actor: Actor, progress: Progress | None = None
    ) -> FileReport:
        """Store, parse and act on one file; audited with the cases it opened."""
        started: list[str] = []
        report = await self._ingest(name, raw, actor, started, progress)
        self._done(name, report, actor, started)
        return report

    async def ingest_stored(
        self, name: str, sha256: str, actor: Actor, lease: str, progress: Progress | None = None
    ) -> FileReport:
        """ingest() of a file stored before, whose lease the caller holds under `lease` (a
        resumer, or receive() before)."""
        started: list[str] = []
        row = await asyncio.to_thread(self._session.get, IngestFileRow, sha256)
        assert row is not None  # a lease is only ever taken on a stored row
        async with leases.held(self._engine, sha256, lease):
            report = await self._work(row, name, started, progress, lease)
        self._done(name, report, actor, started)
        return report

    async def receive(self, name: str, raw: Upload, actor: Actor) -> FileReport | Received:
        """Store the file and take its lease, for ingest_stored() to work it later (in the
        background); the answer instead when there is nothing to do (ingested before, or
        another ingest is working it)."""
        prepared = await asyncio.to_thread(self._prepare, name, _file(raw), actor)
        if isinstance(prepared, FileReport):
            self._done(name, prepared, actor, [])
            return prepared
        row, lease = prepared
        return Received(row.sha256, lease)

    def _done(self, name: str, report: FileReport, actor: Actor, started: list[str]) -> None:
        """Counted and audited, however the file's ingest ended."""
        record_ingest(report.kind, report.status, len(report.errors), len(started))
        outcome = {
            "failed": Outcome.REFUSED,
            "incomplete": Outcome.FAILED,
            "received": Outcome.REFUSED,  # another ingest is working the file
        }.get(report.status, Outcome.OK)
        self._audit.record(
            actor,
            "ingest.file",
            outcome,
            file=name,
            sha256=report.sha256,
            status=report.status,
            cases_started=started or None,
            payer_responses_matched=report.payer_responses_matched or None,
        )

    async def _ingest(
        self,
        name: str,
        raw: Upload,
        actor: Actor,
        started: list[str],
        progress: Progress | None,
    ) -> FileReport:
        # Hashing and storing a large file take a while: not on the event loop.
        prepared = await asyncio.to_thread(self._prepare, name, _file(raw), actor)
        if isinstance(prepared, FileReport):
            return prepared
        row, lease = prepared
        async with leases.held(self._engine, row.sha256, lease):
            return await self._work(row, name, started, progress, lease)

    def _prepare(
        self, name: str, file: BinaryIO, actor: Actor
    ) -> FileReport | tuple[IngestFileRow, str]:
        """The stored row and the lease to work it under, or the answer when there is nothing
        to do (ingested before, or another ingest is working it)."""
        sha256, size = chunks.sha256_of(file)
        row = self._session.get(IngestFileRow, sha256)
        # A failed file is parsed again: a later version may read it.
        if row is not None and row.status == "ingested":
            return self._repeat(row, name)
        lease = leases.new_owner()
        row = self._store(sha256, name, file, size, actor, lease) if row is None else row
        if row.lease_owner != lease and not leases.claim(
            self._session, sha256, lease, leases.RETRYABLE
        ):
            # Held by another ingest, or finished by one since the row was read.
            self._session.refresh(row, ["kind", "status", "report"])
            return self._repeat(row, name) if row.status == "ingested" else self._busy(row, name)
        return row, lease

    def _store(
        self, sha256: str, name: str, file: BinaryIO, size: int, actor: Actor, lease: str
    ) -> IngestFileRow:
        """The file stored before anything else (its row and its bytes, a chunk at a time, in
        one transaction), leased to this ingest; the row another request stored at the same
        moment if there is one (its lease says who works it)."""
        now = datetime.now(UTC)
        row = IngestFileRow(
            sha256=sha256,
            filename=name,
            size=size,
            status="received",
            received_by=actor.user_id,
            received_at=now,
            lease_owner=lease,
            lease_until=leases.until(),
        )
        self._session.add(row)
        try:
            self._session.flush()
            chunks.store(self._session, sha256, file)
            self._session.commit()
        except IntegrityError:
            self._session.rollback()
            stored = self._session.get(IngestFileRow, sha256)
            assert stored is not None
            return stored
        return row

    def _busy(self, row: IngestFileRow, name: str) -> FileReport:
        """Another ingest is working this very file now: nothing done here, nothing twice."""
        return FileReport(
            file=name,
            sha256=row.sha256,
            kind=row.kind,
            status=row.status,
            errors=[
                matching.problem(
                    "this file is being ingested right now by another upload or process: its "
                    f"report will be at GET /api/v1/ingest/{row.sha256} (nothing is started "
                    "twice)"
                )
            ],
        )

    @property
    def _engine(self) -> Engine:
        return self._session.get_bind()  # type: ignore[return-value]

    async def _work(
        self,
        row: IngestFileRow,
        name: str,
        started: list[str],
        progress: Progress | None,
        lease: str,
    ) -> FileReport:
        """Start the implementation-guide check in another process, check the file's structure
        whole, then record and act on its claims a part at a time (memory: one part's claims,
        not the file's), the blocking parts in a worker thread: a large file takes minutes, and
        other requests must not wait on it. Its stage and counts are kept on its row meanwhile
        (services.ingest_progress)."""
        log = ProgressLog(self._engine, row.sha256)
        checking = await self._check_guide(row.sha256)
        scanned = await asyncio.to_thread(self._scan, name, self._stored(row.sha256), log)
        problems = scanned.problems_json()
        report = FileReport(
            file=name,
            sha256=row.sha256,
            kind=scanned.kind.value if scanned.kind else None,
            status="failed",
            claims=scanned.claims,
            denials=scanned.denials,
            rejections=scanned.rejections,
            reversals=scanned.reversals,
            errors=problems["errors"],
            warnings=problems["warnings"],
            errors_omitted=scanned.problems.omitted[Severity.ERROR],
            warnings_omitted=scanned.problems.omitted[Severity.WARNING],
            validation=checking,
        )
        if scanned.ok:
            try:
                undelivered = await self._act(
                    name, self._stored(row.sha256), scanned, report, started, progress, log
                )
                report.status = "incomplete" if undelivered else "ingested"
                report.errors.extend(undelivered)
            except (Unavailable, Busy) as exc:
                report.status = "incomplete"
                report.errors.append(
                    matching.problem(f"{exc.message}: ingest the file again to finish")
                )
        report.omissions_said()
        return await asyncio.to_thread(self._finish, row.sha256, lease, report)

    def _stored(self, sha256: str) -> Callable[[], Iterator[bytes]]:
        """The stored file, read again a chunk at a time each time it is called."""
        engine = self._engine
        return lambda: chunks.read(engine, sha256)

    async def _check_guide(self, sha256: str) -> str:
        """The implementation-guide check started in the background, unless the file had one
        (ingested again to finish) or has no envelope (pyx12 reads enveloped files only)."""
        first = await asyncio.to_thread(next, chunks.read(self._engine, sha256), b"")
        if not enveloped(first):
            return "not run"
        owner = await asyncio.to_thread(validation.begin, self._engine, sha256)
        if owner is None:
            return "started before"
        validation.start(self._engine, sha256, owner)
        return "pending"

    def _scan(self, name: str, source: Source, log: ProgressLog) -> Scan:
        log.stage(IngestStage.PARSING)
        return scan(name, source, self._rulebook, limit=PROBLEM_LIMIT)

    def _repeat(self, row: IngestFileRow, name: str) -> FileReport:
        """A file ingested before: nothing starts again."""
        previous = FileReport.model_validate(row.report)
        return previous.model_copy(
            update={
                "file": name,
                "status": "duplicate",
                "cases_started": 0,
                "started_cases": [],
                "started_cases_omitted": 0,
                "payer_responses_matched": 0,
                "duplicates_skipped": previous.denials + previous.rejections + previous.reversals,
            }
        )

    def _finish(self, sha256: str, lease: str, report: FileReport) -> FileReport:
        try:
            stored = leases.store_report(
                self._session,
                sha256,
                lease,
                {
                    "kind": report.kind,
                    "status": report.status,
                    # Where the check stands is read from its own column, not a copy.
                    "report": report.model_dump(mode="json", exclude={"validation"}),
                    "finished_at": datetime.now(UTC),
                },
            )
        except (OperationalError, InterfaceError) as exc:
            # What was done is done (the cases run in Temporal): say so, not a bare error.
            self._session.rollback()
            raise Unavailable(
                f"{report.file}: {report.cases_started} cases started, "
                f"{report.payer_responses_matched} payer answers sent and "
                f"{report.late_payments} late payments recorded, but the file's report could "
                "not be stored (the case database is unreachable): ingest the file again once "
                "it is back; nothing is started twice"
            ) from exc
        if not stored:
            report.warnings.append(
                matching.problem(
                    "this ingest took too long to renew its hold on the file and another "
                    "ingest took the file over: that one's report is stored, not this one "
                    f"(GET /api/v1/ingest/{sha256}); nothing is started twice"
                )
            )
        return report

    async def _act(
        self,
        name: str,
        source: Source,
        scanned: Scan,
        report: FileReport,
        started: list[str],
        progress: Progress | None,
        log: ProgressLog,
    ) -> list[dict[str, Any]]:
        """Each part of the file in turn: its claims recorded, its actions planned (reading
        the read model) and run. A part whose actions failed is the last: the file is left
        incomplete, and ingesting it again redoes nothing twice. The answers that could not
        reach their case (its workflow stopped outside the product) are returned: the file is
        left incomplete for them too, once every part is done."""
        planner = FileActions(self._session, self._cases, report, started)
        recorder = AdjudicatedRecorder(report.sha256)
        reading = parts(name, source, self._rulebook, self.part_claims, scanned=scanned)
        counts = {
            "claims": report.claims,
            "cases": report.denials + report.rejections + report.reversals,
        }
        done = total = read = 0

        def advance(finished: int) -> None:
            nonlocal done
            done += finished
            log.actions(done, total)
            if progress is not None:
                progress(done, total)

        def take(part: ParsedFile) -> list[Action]:
            log.stage(IngestStage.RECORDING, **counts, claims_read=read)
            recorder.record(self._session, part.adjudicated, part.first_adjudicated)
            actions = planner.plan(part)  # reads the read model for the part's claims
            release_connection(self._session)  # wait on Temporal without holding it
            log.stage(IngestStage.ACTING)
            return actions

        stop = asyncio.Event()
        flusher = asyncio.create_task(log.flush_until(stop))
        try:
            while (part := await asyncio.to_thread(next, reading, None)) is not None:
                read += part.claims_total
                actions = await asyncio.to_thread(take, part)
                del part  # the part's claims go once its actions hold what they need
                total += len(actions)
                advance(0)
                await self._run(actions, advance)
                del actions
                await asyncio.to_thread(give_back_freed)
        finally:
            stop.set()
            await flusher
        return planner.undelivered

    async def _run(self, actions: list[Action], progress: Callable[[int], None]) -> None:
        """Run the starts and signals concurrently, a bounded number at a time (a few workers
        taking the next action, not a task per action: a part has thousands). Every action
        runs; the first failure is raised once all are done."""
        pending = iter(actions)
        failures: list[BaseException] = []

        async def worker() -> None:
            for action in pending:
                try:
                    await action()
                except Exception as exc:
                    failures.append(exc)
                progress(1)

        await asyncio.gather(*(worker() for _ in range(min(self._concurrency, len(actions)))))
        if failures:
            raise failures[0]


def list_ingests(session: Session, limit: int = 50, offset: int = 0) -> list[IngestFileRow]:
    """The latest files first."""
    return list(
        session.exec(
            select(IngestFileRow)
            .order_by(col(IngestFileRow.received_at).desc())
            .offset(offset)
            .limit(limit)
        )
    )
