"""`denials check FILE.837...`: the pre-submission check from the command line.

Each file is checked as if sent on the submission date (today in the office's time zone unless
--date), stored as a run, and its findings printed per claim and line (severity, kind, message,
fix), or one JSON object per file with --json. Exit 1 when any claim is blocked, 2 when a file
cannot be read (the others are still checked)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

KIND_WORDS = {"learned_risk": "learned risk", "prevention_edit": "prevention edit", "rule": "rule"}
SEVERITY_STYLE = {"block": "bold red", "warn": "yellow", "info": "cyan"}


def _result_json(result: Any) -> dict[str, Any]:
    return {
        **result.model_dump(mode="json", exclude={"findings"}),
        "blocked": result.blocked,
        "findings": [finding.model_dump(mode="json") for finding in result.findings],
    }


def _print_run(console: Any, path: Path, checked: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    run = checked.run
    model = f"risk model {run.model_version}" if run.model_version else "no risk model trained yet"
    console.print(
        f"[bold]{escape(path.name)}[/bold]: {run.claims:,} claims, {run.lines:,} lines checked "
        f"for {run.submission_date.isoformat()}; [red]{run.blocked:,} blocked[/red], "
        f"[yellow]{run.warned:,} with warnings[/yellow], {model} (run {run.run_id})"
    )
    flagged = [(n, r) for n, r in enumerate(checked.results, start=1) if r.findings]
    if not flagged:
        return
    table = Table(show_lines=False, pad_edge=False, expand=False)
    for name in ("#", "claim", "line", "severity", "kind", "message", "fix"):
        table.add_column(name, overflow="fold")
    for number, result in flagged:
        risk = (
            f" ({result.denial_probability:.0%})" if result.denial_probability is not None else ""
        )
        for index, finding in enumerate(result.findings):
            style = SEVERITY_STYLE[finding.severity.value]
            table.add_row(
                str(number) if index == 0 else "",
                escape(result.claim_id) + risk if index == 0 else "",
                str(finding.line_number or "claim"),
                f"[{style}]{finding.severity.value}[/{style}]",
                KIND_WORDS[finding.kind.value],
                escape(f"{finding.message} {finding.evidence}"),
                escape(finding.fix),
            )
    console.print(table)


def check(
    files: Annotated[list[Path], typer.Argument(help="837P / 837I files", exists=True)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file")] = False,
    submitted: Annotated[
        datetime | None,
        typer.Option(
            "--date", formats=["%Y-%m-%d"], help="Submission date (default: today, office time)"
        ),
    ] = None,
    user: Annotated[str, typer.Option(help="Recorded as who ran the check")] = "cli",
) -> None:
    """Check 837 claims before they are sent: rule checks, prevention edits and the learned
    risk; exit 1 if any claim is blocked, 2 if a file cannot be read."""
    from rich.console import Console
    from rich.markup import escape
    from sqlmodel import Session

    from app.settings import Settings
    from denials.bootstrap import prepare_database
    from domain.deadlines import local_day
    from edi.claims837 import Claims837Error
    from services.claim_checks import check_file
    from services.payer_rules import PayerRuleStore

    console = Console(highlight=False)
    settings = Settings()
    day: date = submitted.date() if submitted else local_day(datetime.now(UTC), settings.tz)
    engine = prepare_database(settings)
    blocked = unreadable = False
    try:
        registry = PayerRuleStore(engine, settings.payer_rules_file).registry()
        for path in files:
            with Session(engine, expire_on_commit=False) as session:
                try:
                    checked = check_file(
                        session,
                        path.read_bytes(),
                        registry=registry,
                        submitted=day,
                        checked_by=user,
                        source="cli",
                    )
                except (Claims837Error, OSError) as exc:
                    unreadable = True
                    if as_json:
                        typer.echo(json.dumps({"file": str(path), "error": str(exc)}))
                    else:
                        console.print(f"[red]{escape(str(path))}: not checked: {escape(str(exc))}")
                    continue
            blocked = blocked or checked.blocked
            if as_json:
                run = checked.run.model_dump(mode="json", exclude={"checked_by"})
                results = [_result_json(result) for result in checked.results]
                typer.echo(json.dumps({"file": str(path), **run, "results": results}))
            else:
                _print_run(console, path, checked)
    finally:
        engine.dispose()
    if unreadable:
        raise typer.Exit(2)
    if blocked:
        raise typer.Exit(1)
