"""Reading a large X12 file in bounded memory: its segments streamed, never all held.

An ingest reads a file twice. scan() checks its structure whole (the envelope, every claim; not
pyx12's implementation-guide check, which runs beside the ingest in another process:
services.ingest_validation) and keeps only its problems (the first PROBLEM_LIMIT of each
severity, the rest counted) and its counts: a file with errors starts nothing. parts() then
reads its claims again, a part of about PART_CLAIMS claims at a time, each a ParsedFile the
caller records and acts on before taking the next. Memory is then about one part's claims, not
the file's (a parsed claim weighs tens of times its bytes).

A part's claims keep their place in the whole file (first_adjudicated, first_acknowledged):
answers are named by it. 277CA and 999 transaction sets are read whole, as parse_bytes reads
them (their files are small); an 835's claims stream.

The file itself is never held whole either: both read it from a Source, its bytes or a function
giving them again a chunk at a time (a stored file's chunks, db.ingest_chunks), decoded and
split into segments as they come (edi.tokenizer.stream_pieces). scan() takes a first pass for
the file's SHA-256 and encoding (UTF-8 only if all of it is), which parts() reuses when given
the scan (on its own, it takes that pass too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from domain.models import DenialKind
from domain.rulebook import Rulebook
from edi.acknowledgments import ClaimAcknowledgmentParser, FunctionalAcknowledgmentParser
from edi.envelope import Envelope, TransactionSet, Walker
from edi.parser import kind_in_file
from edi.problems import ProblemLog, ProblemSink, X12Error
from edi.remittance import RemittanceParser, RemittanceReading
from edi.results import (
    SUPPORTED_VERSIONS,
    AcknowledgedClaim,
    AdjudicatedClaim,
    CaseRecord,
    FileKind,
    ParsedFile,
)
from edi.tokenizer import Delimiters, Segment, decode_chunks, encoding_of, stream_pieces

PART_CLAIMS = 2000
PROBLEM_LIMIT = 500
CHUNK_BYTES = 1 << 20  # a file given as bytes is read this much at a time, as a stored one
# A file's bytes, or a function giving them (again at each call) a chunk at a time.
Source = bytes | Callable[[], Iterable[bytes]]


def chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, bytes):
        view = memoryview(source)
        for start in range(0, len(source), CHUNK_BYTES):
            yield bytes(view[start : start + CHUNK_BYTES])
    else:
        yield from source()


def survey(source: Source) -> tuple[str, str]:
    """The file's SHA-256 and the encoding its text is read in, in one pass."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for chunk in chunks(source):
            digest.update(chunk)
            yield chunk

    read = hashed()
    encoding = encoding_of(read)  # stops at the first byte UTF-8 cannot read
    for _ in read:  # the rest hashed
        pass
    return digest.hexdigest(), encoding


@dataclass
class Scan:
    """What the first read of a file found: its problems and counts, no claims."""

    file: str
    sha256: str
    encoding: str  # what its text was read in: parts() reads it again the same way
    problems: ProblemLog
    kind: FileKind | None = None
    version: str | None = None
    claims: int = 0
    denials: int = 0
    rejections: int = 0
    reversals: int = 0

    @property
    def ok(self) -> bool:
        return self.problems.errors == 0

    def problems_json(self) -> dict[str, list[dict[str, object]]]:
        """The problems kept, as ParsedFile.problems_json gives them."""
        return ParsedFile(
            file=self.file, sha256=self.sha256, problems=self.problems.kept
        ).problems_json()


@dataclass
class _Claims:
    """What the transaction sets read so far yielded, until taken."""

    adjudicated: list[AdjudicatedClaim] = field(default_factory=list)
    acknowledged: list[AcknowledgedClaim] = field(default_factory=list)
    cases: list[CaseRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.adjudicated) + len(self.acknowledged)

    @property
    def empty(self) -> bool:
        return not (self.adjudicated or self.acknowledged or self.cases)


class _Reader:
    """The envelope walker's reader: each supported transaction set read as it streams."""

    def __init__(
        self, name: str, rulebook: Rulebook, delimiters: Delimiters, problems: ProblemSink
    ) -> None:
        self._name, self._rulebook, self._delimiters = name, rulebook, delimiters
        self._problems = problems
        self.kind: FileKind | None = None
        self.version: str | None = None
        self.claims = _Claims()
        self._reading: RemittanceReading | None = None
        self._whole: FileKind | None = None  # a 277CA or 999 set, collected to be read whole

    def opened(self, transaction: TransactionSet) -> None:
        self._reading, self._whole = None, None
        kind = kind_in_file(self.kind, transaction, self._problems)
        if kind is None:
            return
        if self.kind is None:
            self.kind, self.version = kind, transaction.version or SUPPORTED_VERSIONS[kind]
        if kind is FileKind.REMITTANCE:
            parser = RemittanceParser(self._rulebook, self._delimiters, self._name)
            self._reading = parser.reading(transaction, self._problems)
        else:
            self._whole = kind

    def segment(self, transaction: TransactionSet, segment: Segment) -> None:
        if self._reading is not None:
            self._reading.feed(segment)
            self._take()
        elif self._whole is not None:
            transaction.body.append(segment)

    def closed(self, transaction: TransactionSet) -> None:
        if self._reading is not None:
            self._reading.finish()
            self._take()
        elif self._whole is not None:
            parser = (
                ClaimAcknowledgmentParser(self._rulebook, self._delimiters, self._name)
                if self._whole is FileKind.CLAIM_ACKNOWLEDGMENT
                else FunctionalAcknowledgmentParser(self._rulebook, self._delimiters, self._name)
            )
            acknowledged, cases = parser.parse(transaction, self._problems)
            transaction.body.clear()
            self.claims.acknowledged.extend(acknowledged)
            self.claims.cases.extend(cases)
        self._reading, self._whole = None, None

    def _take(self) -> None:
        reading = self._reading
        assert reading is not None
        if reading.adjudicated:
            self.claims.adjudicated.extend(reading.adjudicated)
            reading.adjudicated.clear()
        if reading.cases:
            self.claims.cases.extend(reading.cases)
            reading.cases.clear()


def _walk(
    name: str, source: Source, encoding: str, rulebook: Rulebook, problems: ProblemSink
) -> Iterator[tuple[_Reader, Envelope | None]]:
    """Walk the file, yielding after each segment (envelope None) and once at the end with the
    envelope's findings; nothing when the file cannot be split into segments."""
    try:
        delimiters, has_envelope, segments = stream_pieces(decode_chunks(chunks(source), encoding))
    except X12Error as exc:
        problems.append(exc.problem)
        return
    reader = _Reader(name, rulebook, delimiters, problems)
    walker = Walker(reader)
    walker.begin(has_envelope)
    for segment in segments:
        if not walker.step(segment):
            yield reader, walker.finish(stop=True)
            return
        yield reader, None
    yield reader, walker.finish()


def scan(name: str, source: Source, rulebook: Rulebook, *, limit: int = PROBLEM_LIMIT) -> Scan:
    """The file checked as parse_bytes(validate_guide=False) checks it, its claims counted and
    let go."""
    sha256, encoding = survey(source)
    result = Scan(file=name, sha256=sha256, encoding=encoding, problems=ProblemLog(limit))
    # Parsers' problems count only if the envelope is whole (parse_bytes reads no set then).
    parsing = ProblemLog(limit)
    for reader, envelope in _walk(name, source, encoding, rulebook, parsing):
        claims = reader.claims
        if envelope is None:
            if not claims.empty:
                _count(result, claims)
            continue
        _count(result, claims)
        result.problems.extend(envelope.problems)
        if not envelope.ok:  # parse_bytes reads no set then: nothing counted, no kind
            result.claims = result.denials = result.rejections = result.reversals = 0
            return result
        result.problems.absorb(parsing)
        result.kind, result.version = reader.kind, reader.version
        return result
    result.problems.absorb(parsing)  # the file could not be split into segments
    return result


def _count(result: Scan, claims: _Claims) -> None:
    result.claims += len(claims)
    for case in claims.cases:
        kind = case.record.kind
        if kind is DenialKind.DENIAL:
            result.denials += 1
        elif kind is DenialKind.REJECTION:
            result.rejections += 1
        else:
            result.reversals += 1
    claims.adjudicated.clear()
    claims.acknowledged.clear()
    claims.cases.clear()


def parts(
    name: str,
    source: Source,
    rulebook: Rulebook,
    size: int = PART_CLAIMS,
    *,
    scanned: Scan | None = None,
) -> Iterator[ParsedFile]:
    """The file's claims a part at a time (read again: scan() has checked it, so problems are
    not kept), each part its claims' place in the file with them. Given the file's `scanned`,
    its SHA-256 and encoding are taken from it instead of another pass over the file."""
    sha256, encoding = (scanned.sha256, scanned.encoding) if scanned else survey(source)
    adjudicated = acknowledged = 0
    for reader, envelope in _walk(name, source, encoding, rulebook, ProblemLog(0)):
        claims = reader.claims
        if (envelope is None and len(claims) < size) or claims.empty:
            continue
        part = ParsedFile(
            file=name,
            sha256=sha256,
            kind=reader.kind,
            version=reader.version,
            adjudicated=claims.adjudicated,
            acknowledged=claims.acknowledged,
            cases=claims.cases,
            first_adjudicated=adjudicated,
            first_acknowledged=acknowledged,
        )
        adjudicated += len(claims.adjudicated)
        acknowledged += len(claims.acknowledged)
        reader.claims = _Claims()
        yield part
