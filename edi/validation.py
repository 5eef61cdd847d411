"""Implementation-guide validation with pyx12: required segments, code values, dates, loops.

Everything pyx12 finds is a warning: the file is still read by our own parser, which decides
what stops ingestion. Validation never raises: if pyx12 cannot read the file, one warning says
why.

Locations: pyx12's `cur_line` is the number of segments it has read, i.e. the segment's
position in the file (the same numbering as every other problem's `segment_number`); its
`seg_count` restarts at each ST, so it is not used. `line` is the text line of the segment
(1 for a file written on one line).
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any, NamedTuple, TextIO, cast

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from edi.problems import Location, Problem, Severity, X12Error
from edi.tokenizer import decode, delimiters_of, segment_heads

_ISA_LENGTH = 106  # the fixed-width ISA segment, terminator included
_REASON_LENGTH = 160

_logger = logging.getLogger("pyx12")
_logger.addHandler(logging.NullHandler())
_logger.propagate = False
_logger.setLevel(logging.CRITICAL + 1)


def validate(raw: bytes) -> list[Problem]:
    """Every implementation-guide finding of pyx12 as a warning."""
    return validate_first(raw, None)[0]


def validate_first(raw: bytes, limit: int | None) -> tuple[list[Problem], int]:
    """The first `limit` implementation-guide findings (in file order) as warnings, and how
    many more there are: a large file may have one on every tenth claim, each a model."""
    try:
        return _validate(raw, limit)
    except Exception as exc:  # pyx12 must never stop a parse
        return [could_not_run(f"{type(exc).__name__}: {exc}")], 0


def could_not_run(reason: str) -> Problem:
    """The one warning saying the check did not run, and why (shortened to a line)."""
    reason = " ".join(reason.split())
    if len(reason) > _REASON_LENGTH:
        reason = reason[: _REASON_LENGTH - 3] + "..."
    return Problem(
        severity=Severity.WARNING,
        message=f"implementation guide validation could not run: {reason}",
        location=Location(),
    )


class _Lines:
    """Segment position in the file -> its id and text line, for the positions pyx12 reported
    only: an index of every segment would hold a large file a second time."""

    def __init__(self, text: str, numbers: set[int]) -> None:
        self.text = text
        self.newline = "\n" if "\n" in text else "\r"
        try:
            self.terminator = delimiters_of(text).segment
            self.heads = segment_heads(text, numbers)
        except X12Error:
            self.terminator = "~"
            self.heads = {}
        # Lines counted in one pass in file order: counting from the start for each finding
        # rescans the file once per finding (thousands of them on a large file).
        self.lines: dict[int, int] = {}
        line, counted = 1, 0
        for number, (_, offset) in sorted(self.heads.items(), key=lambda head: head[1][1]):
            line += text.count(self.newline, counted, offset)
            counted = offset
            self.lines[number] = line

    def segment_id(self, number: int | None) -> str | None:
        head = self.heads.get(number) if number is not None else None
        return head[0] if head is not None else None

    def line(self, number: int | None) -> int | None:
        return self.lines.get(number) if number is not None else None

    def isa_length(self) -> int | None:
        body = self.text.lstrip(" \t\r\n")
        if not body.startswith("ISA"):
            return None
        end = body.find(self.terminator)
        return end + 1 if end >= 0 else None


class _TextReader:
    """The read() pyx12 uses, over the decoded text: io.StringIO would copy it at four bytes
    a character."""

    closed = False  # pyx12 tells a file object from a file name by this attribute

    def __init__(self, text: str) -> None:
        self._text = text
        self._position = 0

    def read(self, size: int = -1) -> str:
        end = len(self._text) if size < 0 else self._position + size
        chunk = self._text[self._position : end]
        self._position += len(chunk)
        return chunk

    def close(self) -> None:
        self._text, self.closed = "", True


def _reader(text: str) -> TextIO:
    return cast(TextIO, _TextReader(text))


def _validate(raw: bytes, limit: int | None) -> tuple[list[Problem], int]:
    text = decode(raw)  # drops a UTF-8 BOM; pyx12 wants the ISA as the very first characters
    body = text.lstrip(" \t\r\n")
    try:
        pyx12.x12file.X12Reader(_reader(body)).close()
    except pyx12.errors.X12Error as exc:
        reason = str(exc)
        length = _Lines(text, set()).isa_length()
        if length is not None and length != _ISA_LENGTH:
            reason = (
                f"its ISA segment is {length} characters long, not the fixed {_ISA_LENGTH} "
                "pyx12 requires (padding collapsed)"
            )
        return [could_not_run(reason)], 0
    report = io.StringIO()
    pyx12.x12n_document.x12n_document(
        pyx12.params.params(), _reader(body), None, None, fd_json=report
    )
    if not report.getvalue():
        return [could_not_run("pyx12 produced no report")], 0
    document = json.loads(report.getvalue())
    report.close()  # the text goes: the document holds what it said
    found = _findings(document)
    del document
    found.sort(key=lambda finding: finding.number or 0)
    kept = found if limit is None else found[:limit]
    lines = _Lines(text, {finding.number for finding in kept if finding.number is not None})
    return [finding.problem(lines) for finding in kept], len(found) - len(kept)


class _Finding(NamedTuple):
    """One of pyx12's findings, before it is made a Problem (only the ones listed are)."""

    message: str
    number: int | None
    segment_id: str | None
    fallback_id: str | None  # the envelope segment it is reported on, if no id is given
    element: int | None

    def problem(self, lines: _Lines) -> Problem:
        return Problem(
            severity=Severity.WARNING,
            message=f"implementation guide: {self.message}",
            location=Location(
                segment_number=self.number,
                segment_id=self.segment_id or lines.segment_id(self.number) or self.fallback_id,
                element=self.element,
                line=lines.line(self.number),
            ),
        )


def _findings(document: dict[str, Any]) -> list[_Finding]:
    found: list[_Finding] = []

    def add(message: str, number: int | None, segment_id: str | None, element: int | None) -> None:
        found.append(_Finding(message, number, segment_id, None, element))

    def envelope(node: dict[str, Any], fallback_id: str) -> None:
        number = node.get("cur_line")
        for error in node.get("errors", []):
            found.append(_Finding(error.get("err_str", ""), number, None, fallback_id, None))

    for interchange in document.get("interchanges", []):
        envelope(interchange, "ISA")
        for group in interchange.get("groups", []):
            envelope(group, "GS")
            for transaction in group.get("transactions", []):
                envelope(transaction, "ST")
                for segment in transaction.get("segments", []):
                    number = segment.get("cur_line")
                    segment_id = segment.get("seg_id")
                    for error in segment.get("errors", []):
                        add(error.get("err_str", ""), number, segment_id, None)
                    for element in segment.get("elements", []):
                        position = element.get("ele_pos")
                        for error in element.get("errors", []):
                            add(
                                error.get("err_str", ""),
                                number,
                                segment_id,
                                position if isinstance(position, int) else None,
                            )
    return found
