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


def _result_json(result: Any) -> dict[str, Any]:
    return {
        **result.model_dump(mode="json", exclude={"findings"}),
        "blocked": result.blocked,
        "findings": [finding.model_dump(mode="json") for finding in result.findings],
    }


def _print_run(path: Path, checked: Any) -> None:
    """A header per file, then per claim with findings its number, claim id and risk, and a
    row per finding: line, severity, kind, message, why and fix. Plain text written at once: a
    rich table of thousands of rows took seconds to lay out."""
    run = checked.run
    model = f"risk model {run.model_version}" if run.model_version else "no risk model trained yet"
    out = [
        f"{path.name}: {run.claims:,} claims, {run.lines:,} lines checked for "
        f"{run.submission_date.isoformat()}; {run.blocked:,} blocked, {run.warned:,} with "
        f"warnings, {model} (run {run.run_id})",
    ]
    flagged = [(n, r) for n, r in enumerate(checked.results, start=1) if r.findings]
    if flagged:
        out.append(f"{'#':>6}  {'line':<5} {'severity':<8} {'kind':<15} finding")
    for number, result in flagged:
        risk = (
            f" (denial risk {result.denial_probability:.0%})"
            if result.denial_probability is not None
            else ""
        )
        out.append(f"{number:>6}  claim {result.claim_id}{risk}")
        for finding in result.findings:
            line = str(finding.line_number or "claim")
            kind = KIND_WORDS[finding.kind.value]
            out.append(
                f"{'':>6}  {line:<5} {finding.severity.value:<8} {kind:<15} {finding.message}"
            )
            out.append(f"{'':>38}why: {finding.evidence}")
            out.append(f"{'':>38}fix: {finding.fix}")
    typer.echo("\n".join(out))


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
    from sqlmodel import Session

    from app.settings import Settings
    from denials.bootstrap import prepare_database
    from domain.deadlines import local_day
    from edi.claims837 import Claims837Error
    from services.claim_checks import check_file
    from services.payer_rules import PayerRuleStore

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
                        typer.echo(f"{path}: not checked: {exc}", err=True)
                    continue
            blocked = blocked or checked.blocked
            if as_json:
                run = checked.run.model_dump(mode="json", exclude={"checked_by"})
                results = [_result_json(result) for result in checked.results]
                typer.echo(json.dumps({"file": str(path), **run, "results": results}))
            else:
                _print_run(path, checked)
    finally:
        engine.dispose()
    if unreadable:
        raise typer.Exit(2)
    if blocked:
        raise typer.Exit(1)
