"""Errors and warnings found in a file, each naming what is wrong and where."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from edi.tokenizer import Segment


class Severity(StrEnum):
    ERROR = "error"  # the file is not ingested
    WARNING = "warning"  # reported; the file is still ingested


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment_number: int | None = None
    segment_id: str | None = None
    element: int | None = None
    line: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.segment_number is not None:
            parts.append(f"segment {self.segment_number}")
        if self.segment_id:
            where = self.segment_id + (f"{self.element:02d}" if self.element is not None else "")
            parts.append(f"({where})")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return " ".join(parts) or "file"


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.severity.value} at {self.location}: {self.message}"


class ProblemSink(Protocol):
    """Where problems go: a list, or a ProblemLog."""

    def append(self, problem: Problem, /) -> None: ...


class ProblemLog:
    """The problems of a file read as a stream: the first `limit` of each severity kept (all
    if None), the rest counted (a large file may have a warning on every claim)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.kept: list[Problem] = []
        self.omitted = {Severity.ERROR: 0, Severity.WARNING: 0}
        self._counts = {Severity.ERROR: 0, Severity.WARNING: 0}

    def append(self, problem: Problem) -> None:
        if self.limit is None or self._counts[problem.severity] < self.limit:
            self._counts[problem.severity] += 1
            self.kept.append(problem)
        else:
            self.omitted[problem.severity] += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def absorb(self, other: ProblemLog) -> None:
        """Append what `other` kept, and count what it left out."""
        self.extend(other.kept)
        for severity, count in other.omitted.items():
            self.omitted[severity] += count

    @property
    def errors(self) -> int:
        return self._counts[Severity.ERROR] + self.omitted[Severity.ERROR]


def absorb(into: ProblemSink, late: ProblemLog) -> None:
    """Append the problems kept aside (to keep a list's order) to `into`."""
    if isinstance(into, ProblemLog):
        into.absorb(late)
    else:
        for problem in late.kept:
            into.append(problem)


class SegmentProblems:
    """Collects the errors and warnings a reader finds, each located at a segment element."""

    def __init__(self, problems: ProblemSink) -> None:
        self.list = problems

    def error(self, segment: Segment, element: int | None, message: str) -> None:
        self.list.append(
            Problem(severity=Severity.ERROR, message=message, location=segment.location(element))
        )

    def warning(self, segment: Segment, element: int | None, message: str) -> None:
        self.list.append(
            Problem(severity=Severity.WARNING, message=message, location=segment.location(element))
        )

    def finite_decimal(self, segment: Segment, index: int, text: str) -> Decimal | None:
        """`text`, the element at `index`, as an amount; None, and an error, when it is not a
        finite number."""
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.error(segment, index, f"{segment.id}{index:02d} {text!r} is not an amount")
            return None
        return value


class X12Error(Exception):
    """A problem that stops parsing the file."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(f"{location}: {message}")
        self.problem = Problem(severity=Severity.ERROR, message=message, location=location)
