"""`denials parse`: the structural result of each file at the parser's speed.

What the parse finds (the envelope, every claim, what each claim's codes mean, anything that
stops the file) is printed as soon as the file is read. pyx12's implementation-guide check is
about fifteen times slower, so it runs only with --validate, in another process, while the
files are parsed: the JSON object of a file then waits for its findings (one object per file,
as without them); the tables are printed at once and the findings after them, as they come.

Imports are only what the parse needs: the ingest's (database, Temporal) would take longer to
load than a small file takes to parse; rich (the tables) and pyx12 (--validate) only when
asked for.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from domain.rulebook import Rulebook
from edi.parser import enveloped, parse_bytes
from edi.results import ParsedFile

if TYPE_CHECKING:
    from denials.guide_check import GuideChecks


# The last file's objects are left for the process's end (`denials.cli.main` ends it without
# freeing anything): freeing a large file's objects one by one takes a tenth of its parse.
_left_for_exit: list[object] = []


def _read(path: Path, rulebook: Rulebook) -> tuple[ParsedFile, bool]:
    """The file parsed without pyx12, and whether its findings belong in its result (as
    parse_bytes adds them: to a file with an envelope, of a kind we read). The previous
    file's objects go first. The parse's are frozen out of the garbage collector's sight (see
    edi.parser) until the next file or the command's end: else every collection while the
    result is printed would rescan them all."""
    _let_go()
    raw = path.read_bytes()
    parsed = parse_bytes(str(path), raw, rulebook, validate_guide=False, freeze=True)
    return parsed, parsed.kind is not None and enveloped(raw)


def _keep(*results: object) -> None:
    _left_for_exit.extend(results)


def _let_go() -> None:
    _left_for_exit.clear()
    gc.unfreeze()


@contextmanager
def _collection_paused() -> Iterator[None]:
    """While a file's result is printed: what that makes is kept until the next file or the
    exit, so collections would only rescan it as it grows (on 7,000 cases, more time than
    building the JSON)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_command(files: list[Path], rulebook: Rulebook, *, as_json: bool, validate: bool) -> None:
    """Print each file's result; exit 1 if any file has an error (pyx12's findings are
    warnings: they never make a file fail)."""
    if validate:
        from denials.guide_check import GuideChecks
    with GuideChecks(files) if validate else nullcontext() as checks:
        show = _print_json if as_json else _print_tables
        try:
            failed = show(files, rulebook, checks)
        finally:
            gc.unfreeze()  # for a caller that goes on (a test); the objects stay for the exit
    if failed:
        raise typer.Exit(1)


def _print_json(files: list[Path], rulebook: Rulebook, checks: GuideChecks | None) -> bool:
    failed = False
    for path in files:
        parsed, takes_findings = _read(path, rulebook)
        failed |= not parsed.ok
        findings = checks.take() if checks is not None else []
        with _collection_paused():
            line = parsed.summary_json(
                findings if takes_findings else (),
                implementation_guide_checked=checks is not None and takes_findings,
            )
        typer.echo(line)
        _keep(parsed)
    return failed


def _print_tables(files: list[Path], rulebook: Rulebook, checks: GuideChecks | None) -> bool:
    from denials import parse_tables as tables

    failed = False
    checked: list[tuple[Path, bool]] = []
    for path in files:
        parsed, takes_findings = _read(path, rulebook)
        failed |= not parsed.ok
        with _collection_paused():
            tables.console.print(tables.file_table(parsed))
            tables.print_problems(parsed.problems)
        _keep(parsed)
        checked.append((path, takes_findings))
    if checks is None:
        tables.console.print(f"[dim]{tables.NOT_CHECKED}[/dim]")
        return failed
    for path, takes_findings in checked:
        findings = checks.take()
        if takes_findings:
            tables.print_findings(str(path), findings)
    return failed
