"""What the 277CA and 999 readers share: their problem report with its element readers, dates
and the last check of built models."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import TypeVar

from pydantic import ValidationError

from domain.classification import classify
from domain.models import Claim, DenialKind, DenialRecord
from domain.rulebook import Rulebook
from edi.claim_values import Source, refusal
from edi.envelope import TransactionSet
from edi.problems import Location, SegmentProblems
from edi.results import CaseRecord
from edi.tokenizer import Segment

_T = TypeVar("_T")


class AckReport(SegmentProblems):
    """Problems of a 277CA or 999, with its element readers."""

    def amount(self, segment: Segment, index: int) -> Decimal | None:
        text = segment.get(index).strip()
        if not text:
            return None
        return self.finite_decimal(segment, index, text)


def ccyymmdd(text: str) -> date | None:
    """A CCYYMMDD date, or None when it is not one (years before 1900 are not plausible)."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        value = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return value if value.year >= 1900 else None


def envelope_date(transaction: TransactionSet) -> date | None:
    """GS04 (CCYYMMDD), else ISA09 (YYMMDD, read as 20YY)."""
    if transaction.group is not None:
        found = ccyymmdd(transaction.group.date)
        if found is not None:
            return found
    if transaction.interchange is not None and len(transaction.interchange.date) == 6:
        return ccyymmdd("20" + transaction.interchange.date)
    return None


def build_checked(
    report: AckReport,
    at: Segment,
    what: str,
    build: Callable[[], _T],
    sources: Mapping[str, Source] | None = None,
) -> _T | None:
    """Build models with validation, the last check of values read: a value the models refuse
    is an error in words, at the segment element it was read from (`sources`, by field path)
    or else at `at`."""
    try:
        return build()
    except ValidationError as exc:
        path, message = refusal(exc, sources or {})
        source = (sources or {}).get(path) or Source(at, None)
        report.error(source.segment, source.element, f"{what}: {message}")
        return None


# --- 277CA ------------------------------------------------------------------------------------


def rejection_case(
    claim: Claim, details: list[str], source: str, rulebook: Rulebook, location: Location
) -> CaseRecord:
    """The case a rejected claim opens: a rejection, classified by the rulebook."""
    record = DenialRecord(
        kind=DenialKind.REJECTION, claim=claim, sequence=1, details=details, source=source
    )
    classification = classify(claim, DenialKind.REJECTION, rulebook.table, rulebook.profiles)
    return CaseRecord(record=record, classification=classification, location=location)
