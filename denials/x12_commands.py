"""`denials ingest`: X12 files from the command line (`denials parse` is denials.parse_command)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.encryption import KeyConfigError
from app.settings import Settings
from db.models import IngestFileRow
from denials.bootstrap import load_rulebook, prepare_database
from denials.payload_keys import payload_codec
from denials.reachability import unreachable_message
from denials.temporal import connect
from domain.case import Actor, Role
from services import ingest_validation as validation
from services.audit import AuditService
from services.cases import CaseService
from services.errors import ServiceError
from services.ingest import IngestService
from services.ingest_report import IngestCounts, IngestSummary

console = Console()


WARNINGS_SHOWN = 20
# A younger unfinished file may still be under way in another process.
RESUME_AFTER = timedelta(minutes=10)


def _summary_table(summary: IngestSummary) -> Table:
    table = Table(title="Ingest summary", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    for name in ("files", *IngestCounts.model_fields, "errors"):
        table.add_row(name.replace("_", " "), str(getattr(summary, name)))
    return table


class TemporalUnreachable(Exception):
    """The connection failed after the quick check passed (the server went away, or what
    answers is not Temporal)."""


async def _ingest(
    files: list[Path], settings: Settings, received_by: str, *, resume: bool
) -> IngestSummary:
    codec = payload_codec(settings)
    try:
        client = await connect(settings.client_address, settings.temporal_namespace, codec=codec)
    except RuntimeError as exc:  # the SDK's connection error: raw transport words
        raise TemporalUnreachable(unreachable_message(settings, "the connection failed")) from exc
    engine = prepare_database(settings)
    rulebook = load_rulebook(settings)
    reports = []
    try:
        with (
            Session(engine, expire_on_commit=False) as session,
            Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
            ) as bar,
        ):
            audit = AuditService(session)
            cases = CaseService(
                session, client, rulebook, settings.case_policy(), settings.task_queue, audit
            )
            service = IngestService(session, cases, rulebook, audit)
            actor = Actor(user_id=received_by, role=Role.SYSTEM)
            if resume:
                resumed = await service.resume_unfinished(actor, RESUME_AFTER)
                reports.extend(resumed.reports)
            for path in files:
                task = bar.add_task(path.name, total=None)

                def advance(done: int, total: int, task: int = task) -> None:
                    bar.update(task, completed=done, total=total)

                with path.open("rb") as file:  # stored a chunk at a time, never read whole
                    report = await service.ingest(path.name, file, actor, advance)
                bar.update(task, description=f"{path.name}: {report.status}")
                reports.append(report)
        summary = IngestSummary.of(reports)
        _show(summary)
        await _guide_findings(engine, summary)
    finally:
        engine.dispose()
    return summary


async def _guide_findings(engine: Engine, summary: IngestSummary) -> None:
    """The implementation-guide checks run beside the ingest (another process): waited for,
    then their findings, the first few of each file (all at GET /api/v1/ingest/{sha256})."""
    if not validation.busy():  # (checks resumed by --resume are waited for too)
        return
    console.print(
        "checking against the implementation guide (pyx12, in another process; Ctrl-C stops "
        "it, and the API runs it again when it next starts)..."
    )
    await validation.settle()
    with Session(engine) as session:
        for report in summary.reports:
            row = session.get(IngestFileRow, report.sha256)
            check = row.validation if row is not None else None
            if report.validation != "pending" or check is None:
                continue
            findings = check.get("findings", [])
            total = len(findings) + check.get("findings_omitted", 0)
            outcome = escape(check["message"]) if check.get("message") else f"{total:,} findings"
            console.print(f"  {report.file}: implementation guide {check['status']}: {outcome}")
            for problem in findings[:WARNINGS_SHOWN]:
                text = escape(f"{report.file}: {problem['location']['text']}: {problem['message']}")
                console.print(f"  [yellow]{text}[/yellow]")
            if total > WARNINGS_SHOWN:
                console.print(
                    f"  [yellow]{report.file}: {total - WARNINGS_SHOWN:,} more findings: GET "
                    f"/api/v1/ingest/{report.sha256}[/yellow]"
                )


def ingest_command(
    files: list[Path], settings: Settings, received_by: str, *, resume: bool = False
) -> None:
    try:
        summary = asyncio.run(_ingest(files, settings, received_by, resume=resume))
    except (ServiceError, RuntimeError, KeyConfigError, TemporalUnreachable) as exc:
        console.print(f"[red]ingest failed: {escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    if summary.errors:
        raise typer.Exit(1)


def _show(summary: IngestSummary) -> None:
    console.print(_summary_table(summary))
    for report in summary.reports:
        for problem in report.errors:
            console.print(
                f"  [red]{report.file}: {problem['location']['text']}: {problem['message']}[/red]"
            )
        # What the ingest noticed (collisions, late payments, claims left unidentified): the
        # first few here, all in the file's report.
        for problem in report.warnings[:WARNINGS_SHOWN]:
            said = escape(f"{report.file}: {problem['location']['text']}: {problem['message']}")
            console.print(f"  [yellow]{said}[/yellow]")
        if len(report.warnings) > WARNINGS_SHOWN:
            more = len(report.warnings) - WARNINGS_SHOWN
            console.print(
                f"  [yellow]{report.file}: {more} more warnings: GET /api/v1/ingest/"
                f"{report.sha256}[/yellow]"
            )
