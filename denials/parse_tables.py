"""`denials parse` without --json: a table per file and its problems, with rich (imported only
for this output: --json need not load it)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edi.problems import Problem
from edi.results import ParsedFile

console = Console()

NOT_CHECKED = (
    "implementation guide not checked: --validate also checks it with pyx12 (in another "
    "process, about fifteen times slower than the parse)"
)


def file_table(parsed: ParsedFile) -> Table:
    """One row per case the file would open; ids never wrap, so it reads at 80 columns."""
    kind = parsed.kind.value if parsed.kind else "unreadable"
    table = Table(
        title=f"{parsed.file}: {kind}, {parsed.claims_total} claims, {len(parsed.cases)} cases",
        title_justify="left",
    )
    table.add_column("claim / payer claim #", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("denied", justify="right", no_wrap=True)
    table.add_column("category", overflow="fold")
    table.add_column("codes", overflow="fold")
    for case in parsed.cases:
        claim, classification = case.record.claim, case.classification
        table.add_row(
            f"{claim.claim_id}\n{claim.payer_claim_control_number}",
            f"{case.record.kind.value}\n{classification.level.value}",
            f"{classification.denied_amount:,.2f}",
            f"{classification.category.value}\n{classification.denial_class.value}",
            " ".join([a.code for a in classification.denial_adjustments] + claim.all_rarcs()),
        )
    return table


def print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        style = "red" if problem.severity.value == "error" else "yellow"
        console.print(f"  [{style}]{escape(str(problem))}[/{style}]")


def print_findings(path: str, findings: list[Problem]) -> None:
    """pyx12's findings on a file, after the tables."""
    console.print(escape(f"{path}: implementation guide (pyx12), {len(findings)} findings"))
    print_problems(findings)
