"""Interchange (ISA/IEA), functional group (GS/GE) and transaction set (ST/SE) structure.

Missing trailers mean a truncated file: an error, nothing is ingested. Count and control-number
mismatches are reported as warnings: the content is still whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from edi.problems import Location, Problem, Severity
from edi.tokenizer import Segment, Tokenized

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")


@dataclass(frozen=True)
class Interchange:
    control_number: str
    sender_id: str
    receiver_id: str
    date: str  # YYMMDD


@dataclass(frozen=True)
class Group:
    functional_id: str  # GS01: HP (835), HN (277), FA (999)
    sender_code: str
    receiver_code: str
    date: str  # CCYYMMDD
    control_number: str
    version: str  # GS08, e.g. 005010X221A1
    segment_number: int  # where the GS stands in the file


@dataclass
class TransactionSet:
    st: Segment
    group: Group | None
    interchange: Interchange | None
    body: list[Segment] = field(default_factory=list)  # between ST and SE (if collected)
    size: int = 0  # segments between ST and SE, whether collected or streamed

    @property
    def id(self) -> str:
        return self.st.get(1)

    @property
    def control_number(self) -> str:
        return self.st.get(2)

    @property
    def version(self) -> str:
        """GS08, else ST03 (5010 repeats the version there), else ''."""
        return self.group.version if self.group else self.st.get(3)


@dataclass
class Envelope:
    transaction_sets: list[TransactionSet]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


class Reader(Protocol):
    """What is done with each transaction set's segments as the envelope is walked."""

    def opened(self, transaction: TransactionSet) -> None: ...
    def segment(self, transaction: TransactionSet, segment: Segment) -> None: ...
    def closed(self, transaction: TransactionSet) -> None: ...


class _Collect:
    """Each transaction set keeps its segments (its body) for a parser to read whole."""

    def opened(self, transaction: TransactionSet) -> None:
        pass

    def segment(self, transaction: TransactionSet, segment: Segment) -> None:
        transaction.body.append(segment)

    def closed(self, transaction: TransactionSet) -> None:
        pass


class Walker:
    """Walks the envelope a segment at a time (begin, step, finish), or all at once (walk)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.problems: list[Problem] = []
        self.sets: list[TransactionSet] = []
        self.interchange: Interchange | None = None
        self.isa: Segment | None = None
        self.group: Group | None = None
        self.gs: Segment | None = None
        self.current: TransactionSet | None = None
        self.last: Segment | None = None
        self.groups_in_interchange = 0
        self.sets_in_group = 0

    def error(self, message: str, location: Location) -> None:
        self.problems.append(Problem(severity=Severity.ERROR, message=message, location=location))

    def warning(self, message: str, location: Location) -> None:
        self.problems.append(Problem(severity=Severity.WARNING, message=message, location=location))

    def walk(self, segments: Iterable[Segment], has_envelope: bool) -> Envelope:
        self.begin(has_envelope)
        for segment in segments:
            if not self.step(segment):
                return self.finish(stop=True)
        return self.finish()

    def begin(self, has_envelope: bool) -> None:
        if not has_envelope:
            self.warning(
                "no ISA/GS envelope: the file starts at ST; parsed without interchange checks "
                "or implementation-guide validation (pyx12 needs the envelope)",
                Location(segment_number=1, segment_id="ST"),
            )
        self.handlers = {
            "ISA": self.on_isa,
            "IEA": self.on_iea,
            "GS": self.on_gs,
            "GE": self.on_ge,
            "ST": self.on_st,
            "SE": self.on_se,
        }
        self.valid_ids: set[str] = set()

    def step(self, segment: Segment) -> bool:
        """Walk one segment; False when the file cannot be read further (finish(stop=True))."""
        self.last = segment
        if segment.id not in self.valid_ids:
            if not _SEGMENT_ID.match(segment.id):
                shown = segment.id[:12].encode("unicode_escape").decode("ascii")
                self.error(f"{shown!r} is not a segment id", segment.location())
                return False
            self.valid_ids.add(segment.id)
        handler = self.handlers.get(segment.id)
        if handler is not None:
            handler(segment)
        elif self.current is not None:
            self.current.size += 1
            self.reader.segment(self.current, segment)
        else:
            self.error(
                f"{segment.id} segment outside a transaction set (no open ST)", segment.location()
            )
        return True

    def on_isa(self, segment: Segment) -> None:
        if self.isa is not None:
            self.close_interchange(None, segment)
        self.isa = segment
        self.interchange = Interchange(
            control_number=segment.get(13).strip(),
            sender_id=segment.get(6).strip(),
            receiver_id=segment.get(8).strip(),
            date=segment.get(9).strip(),
        )
        self.groups_in_interchange = 0

    def on_gs(self, segment: Segment) -> None:
        if self.isa is None:
            self.error("GS segment without an ISA interchange header", segment.location())
        if self.gs is not None:
            self.close_group(None, segment)
        self.gs = segment
        self.group = Group(
            functional_id=segment.get(1),
            sender_code=segment.get(2).strip(),
            receiver_code=segment.get(3).strip(),
            date=segment.get(4),
            control_number=segment.get(6).strip(),
            version=segment.get(8).strip(),
            segment_number=segment.number,
        )
        self.sets_in_group = 0
        self.groups_in_interchange += 1

    def on_st(self, segment: Segment) -> None:
        if self.current is not None:
            self.error(
                f"transaction set {self.current.control_number} (ST at segment "
                f"{self.current.st.number}) has no SE before the next ST",
                segment.location(),
            )
        if self.isa is not None and self.interchange is not None and self.gs is None:
            # Without GS08 the version would be guessed from ST03 or the default.
            self.error(
                f"ST segment without a GS functional group header in interchange "
                f"{self.interchange.control_number} (ISA at segment {self.isa.number})",
                segment.location(),
            )
        self.current = TransactionSet(st=segment, group=self.group, interchange=self.interchange)
        self.sets_in_group += 1
        self.reader.opened(self.current)

    def on_se(self, segment: Segment) -> None:
        current = self.current
        if current is None:
            self.error("SE segment without an open ST", segment.location())
            return
        counted = current.size + 2
        if segment.get(1) != str(counted):
            self.warning(
                f"SE01 says {segment.get(1) or 'nothing'} segments, transaction set "
                f"{current.control_number} has {counted}",
                segment.location(1),
            )
        if segment.get(2) != current.control_number:
            self.warning(
                f"SE02 {segment.get(2)!r} does not match ST02 {current.control_number!r}",
                segment.location(2),
            )
        self.sets.append(current)
        self.current = None
        self.reader.closed(current)

    def on_ge(self, segment: Segment) -> None:
        self.close_group(segment, segment)

    def on_iea(self, segment: Segment) -> None:
        self.close_interchange(segment, segment)

    def close_group(self, ge: Segment | None, at: Segment) -> None:
        if self.gs is None or self.group is None:
            self.error("GE segment without an open GS", at.location())
            return
        self.close_set(at)
        if ge is None:
            self.error(
                f"functional group {self.group.control_number} (GS at segment {self.gs.number}) "
                "has no GE trailer",
                at.location(),
            )
        else:
            if ge.get(1) != str(self.sets_in_group):
                self.warning(
                    f"GE01 says {ge.get(1)} transaction sets, the group has {self.sets_in_group}",
                    ge.location(1),
                )
            if ge.get(2).strip() != self.group.control_number:
                self.warning(
                    f"GE02 {ge.get(2)!r} does not match GS06 {self.group.control_number!r}",
                    ge.location(2),
                )
        self.gs, self.group = None, None

    def close_interchange(self, iea: Segment | None, at: Segment) -> None:
        if self.isa is None or self.interchange is None:
            self.error("IEA segment without an open ISA", at.location())
            return
        if self.gs is not None:
            self.close_group(None, at)
        if iea is None:
            self.error(
                f"interchange {self.interchange.control_number} (ISA at segment "
                f"{self.isa.number}) has no IEA trailer",
                at.location(),
            )
        else:
            if iea.get(1) != str(self.groups_in_interchange):
                self.warning(
                    f"IEA01 says {iea.get(1)} groups, the interchange has "
                    f"{self.groups_in_interchange}",
                    iea.location(1),
                )
            if iea.get(2).strip() != self.interchange.control_number:
                self.warning(
                    f"IEA02 {iea.get(2)!r} does not match ISA13 "
                    f"{self.interchange.control_number!r}",
                    iea.location(2),
                )
        self.isa, self.interchange = None, None

    def close_set(self, at: Segment) -> None:
        if self.current is not None:
            self.error(
                f"transaction set {self.current.control_number} (ST at segment "
                f"{self.current.st.number}) has no SE trailer: the file is truncated",
                at.location(),
            )
            self.current = None

    def finish(self, stop: bool = False) -> Envelope:
        if not stop:
            last = self.last.location() if self.last is not None else Location()
            if self.current is not None:
                self.error(
                    f"file ends inside transaction set {self.current.control_number} (ST at "
                    f"segment {self.current.st.number}): missing SE, the file is truncated",
                    last,
                )
            if self.gs is not None and self.group is not None:
                self.error(
                    f"file ends inside functional group {self.group.control_number}: missing GE",
                    last,
                )
            if self.isa is not None and self.interchange is not None:
                self.error(
                    f"file ends inside interchange {self.interchange.control_number}: missing IEA",
                    last,
                )
            if not self.sets and not any(p.severity is Severity.ERROR for p in self.problems):
                self.error("no transaction set (ST ... SE) in the file", last)
        return Envelope(self.sets, self.problems)


def read_envelope(tokenized: Tokenized) -> Envelope:
    """The envelope checked, each transaction set holding its segments."""
    return Walker(_Collect()).walk(tokenized.segments, tokenized.has_envelope)


def walk_envelope(segments: Iterable[Segment], has_envelope: bool, reader: Reader) -> Envelope:
    """The envelope checked as the segments stream past, each transaction set's segments
    handed to `reader` (the sets keep none)."""
    return Walker(reader).walk(segments, has_envelope)
