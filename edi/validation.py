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
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from edi.problems import Location, Problem, Severity, X12Error
from edi.tokenizer import Segment, decode, tokenize

_ISA_LENGTH = 106  # the fixed-width ISA segment, terminator included
_REASON_LENGTH = 160

_logger = logging.getLogger("pyx12")
_logger.addHandler(logging.NullHandler())
_logger.propagate = False
_logger.setLevel(logging.CRITICAL + 1)


def validate(raw: bytes) -> list[Problem]:
    """Every implementation-guide finding of pyx12 as a warning."""
    try:
        return _validate(raw)
    except Exception as exc:  # pyx12 must never stop a parse
        return [_could_not_run(f"{type(exc).__name__}: {exc}")]


def _could_not_run(reason: str) -> Problem:
    reason = " ".join(reason.split())
    if len(reason) > _REASON_LENGTH:
        reason = reason[: _REASON_LENGTH - 3] + "..."
    return Problem(
        severity=Severity.WARNING,
        message=f"implementation guide validation could not run: {reason}",
        location=Location(),
    )


class _Lines:
    """Segment position in the file -> our segment and its text line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newline = "\n" if "\n" in text else "\r"
        try:
            tokenized = tokenize(text)
        except X12Error:
            self.segments: dict[int, Segment] = {}
            self.terminator = "~"
        else:
            self.segments = {s.number: s for s in tokenized.segments}
            self.terminator = tokenized.delimiters.segment

    def segment_id(self, number: int | None) -> str | None:
        segment = self.segments.get(number) if number is not None else None
        return segment.id if segment is not None else None

    def line(self, number: int | None) -> int | None:
        segment = self.segments.get(number) if number is not None else None
        if segment is None:
            return None
        return self.text.count(self.newline, 0, segment.offset) + 1

    def isa_length(self) -> int | None:
        body = self.text.lstrip(" \t\r\n")
        if not body.startswith("ISA"):
            return None
        end = body.find(self.terminator)
        return end + 1 if end >= 0 else None


def _validate(raw: bytes) -> list[Problem]:
    text = decode(raw)  # drops a UTF-8 BOM; pyx12 wants the ISA as the very first characters
    lines = _Lines(text)
    body = text.lstrip(" \t\r\n")
    try:
        pyx12.x12file.X12Reader(io.StringIO(body)).close()
    except pyx12.errors.X12Error as exc:
        reason = str(exc)
        length = lines.isa_length()
        if length is not None and length != _ISA_LENGTH:
            reason = (
                f"its ISA segment is {length} characters long, not the fixed {_ISA_LENGTH} "
                "pyx12 requires (padding collapsed)"
            )
        return [_could_not_run(reason)]
    report = io.StringIO()
    pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(body), None, None, fd_json=report
    )
    if not report.getvalue():
        return [_could_not_run("pyx12 produced no report")]
    return list(_problems(json.loads(report.getvalue()), lines))


def _problems(document: dict[str, Any], lines: _Lines) -> list[Problem]:
    found: list[Problem] = []

    def add(message: str, number: int | None, segment_id: str | None, element: int | None) -> None:
        found.append(
            Problem(
                severity=Severity.WARNING,
                message=f"implementation guide: {message}",
                location=Location(
                    segment_number=number,
                    segment_id=segment_id,
                    element=element,
                    line=lines.line(number),
                ),
            )
        )

    def envelope(node: dict[str, Any], fallback_id: str) -> None:
        number = node.get("cur_line")
        for error in node.get("errors", []):
            add(error.get("err_str", ""), number, lines.segment_id(number) or fallback_id, None)

    for interchange in document.get("interchanges", []):
        envelope(interchange, "ISA")
        for group in interchange.get("groups", []):
            envelope(group, "GS")
            for transaction in group.get("transactions", []):
                envelope(transaction, "ST")
                for segment in transaction.get("segments", []):
                    number = segment.get("cur_line")
                    segment_id = segment.get("seg_id") or lines.segment_id(number)
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
    found.sort(key=lambda p: p.location.segment_number or 0)
    return found
