"""Errors and warnings found in a file, each naming what is wrong and where."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

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


class SegmentProblems:
    """Collects the errors and warnings a reader finds, each located at a segment element."""

    def __init__(self, problems: list[Problem]) -> None:
        self.list = problems

    def error(self, segment: Segment, element: int | None, message: str) -> None:
        self.list.append(
            Problem(severity=Severity.ERROR, message=message, location=segment.location(element))
        )

    def warning(self, segment: Segment, element: int | None, message: str) -> None:
        self.list.append(
            Problem(severity=Severity.WARNING, message=message, location=segment.location(element))
        )


class X12Error(Exception):
    """A problem that stops parsing the file."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(f"{location}: {message}")
        self.problem = Problem(severity=Severity.ERROR, message=message, location=location)
