"""Parse one X12 file: delimiters, envelope, then each transaction set by its kind.

A file is parsed whole before anything is done with it: any error means nothing from it is
ingested, and the problems say what is wrong and where.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Protocol

from domain.rulebook import Rulebook
from edi.acknowledgments import ClaimAcknowledgmentParser, FunctionalAcknowledgmentParser
from edi.envelope import TransactionSet, read_envelope
from edi.problems import Location, Problem, ProblemSink, Severity, X12Error
from edi.remittance import RemittanceParser
from edi.results import SUPPORTED_VERSIONS, AcknowledgedClaim, CaseRecord, FileKind, ParsedFile
from edi.tokenizer import Delimiters, decode, tokenize

_KIND_BY_ST01 = {
    "835": FileKind.REMITTANCE,
    "277": FileKind.CLAIM_ACKNOWLEDGMENT,
    "999": FileKind.FUNCTIONAL_ACKNOWLEDGMENT,
}


class _AcknowledgmentParser(Protocol):
    def parse(
        self, transaction: TransactionSet, problems: ProblemSink
    ) -> tuple[list[AcknowledgedClaim], list[CaseRecord]]: ...


def kind_of(transaction: TransactionSet, problems: ProblemSink) -> FileKind | None:
    """The transaction set's kind if it is one we read in a supported version."""
    st = transaction.st
    kind = _KIND_BY_ST01.get(transaction.id)
    if kind is None:
        problems.append(
            Problem(
                severity=Severity.ERROR,
                message=f"unsupported transaction set {transaction.id!r}: expected 835, 277 or 999",
                location=st.location(1),
            )
        )
        return None
    expected = SUPPORTED_VERSIONS[kind]
    version = transaction.version
    if not version:
        problems.append(
            Problem(
                severity=Severity.WARNING,
                message=f"no version given (no GS08 or ST03): read as {expected}",
                location=st.location(3),
            )
        )
    elif version not in (expected, expected[:10]):  # with or without the errata suffix (A1)
        group = transaction.group
        problems.append(
            Problem(
                severity=Severity.ERROR,
                message=f"unsupported version {version} ({'GS08' if group else 'ST03'}) for a "
                f"{kind.value}: only {expected} is read",
                location=Location(segment_number=group.segment_number, segment_id="GS", element=8)
                if group
                else st.location(3),
            )
        )
        return None
    return kind


def kind_in_file(
    file_kind: FileKind | None, transaction: TransactionSet, problems: ProblemSink
) -> FileKind | None:
    """The transaction set's kind when the file can hold it (read, and of the file's kind so
    far); None, with the problem said, when it cannot."""
    kind = kind_of(transaction, problems)
    if kind is None or file_kind in (None, kind):
        return kind
    problems.append(
        Problem(
            severity=Severity.ERROR,
            message=f"a {kind.value} transaction set in a {file_kind.value} file",
            location=transaction.st.location(1),
        )
    )
    return None


@contextmanager
def _collection_paused(freeze: bool) -> Iterator[None]:
    """Parsing allocates hundreds of thousands of long-lived objects at once; the cyclic
    garbage collector would rescan them over and over (most of the time on a large file).
    `freeze`: then move them out of its sight (gc.freeze) for as long as the caller works with
    them: a full collection over millions of objects stops every thread for seconds. The
    caller calls gc.unfreeze() once it has let go of them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


class Stage(StrEnum):
    """What parse_bytes is doing, for a caller showing progress."""

    VALIDATING = "validating"  # pyx12 checks the implementation guide (the slow part)
    PARSING = "parsing"  # reading and classifying the claims


def enveloped(raw: bytes) -> bool:
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"ISA")


def parse_bytes(
    name: str,
    raw: bytes,
    rulebook: Rulebook,
    *,
    validate_guide: bool = True,
    on_stage: Callable[[Stage], None] | None = None,
    freeze: bool = False,
) -> ParsedFile:
    """The file parsed and classified, with pyx12's findings as warnings when it is a
    supported file with an envelope. pyx12 runs first: what it holds is freed before the
    parse builds the claims, so the two peaks do not add up on a large file. `freeze`: see
    _collection_paused."""
    findings: list[Problem] = []
    if validate_guide and enveloped(raw):
        from edi.validation import validate  # pyx12: not loaded for a parse without it

        if on_stage is not None:
            on_stage(Stage.VALIDATING)
        findings = validate(raw)
    if on_stage is not None:
        on_stage(Stage.PARSING)
    with _collection_paused(freeze):
        parsed, has_envelope = _parse(name, raw, rulebook)
    if validate_guide and has_envelope and parsed.kind is not None:
        parsed.problems.extend(findings)
    return parsed


def _parse(name: str, raw: bytes, rulebook: Rulebook) -> tuple[ParsedFile, bool]:
    parsed = ParsedFile(file=name, sha256=hashlib.sha256(raw).hexdigest())
    try:
        tokenized = tokenize(decode(raw))
    except X12Error as exc:
        parsed.problems.append(exc.problem)
        return parsed, False
    envelope = read_envelope(tokenized)
    delimiters, has_envelope = tokenized.delimiters, tokenized.has_envelope
    # From here the transaction sets hold the segments, and a parser lets each go once read:
    # a large file's segments weigh more than the claims read out of them.
    del tokenized
    parsed.problems.extend(envelope.problems)
    if not envelope.ok:
        return parsed, has_envelope
    for transaction in envelope.transaction_sets:
        kind = kind_in_file(parsed.kind, transaction, parsed.problems)
        if kind is None:
            continue
        if parsed.kind is None:
            parsed.kind, parsed.version = kind, transaction.version or SUPPORTED_VERSIONS[kind]
        _parse_transaction(parsed, kind, transaction, delimiters, rulebook, name)
    return parsed, has_envelope


def _parse_transaction(
    parsed: ParsedFile,
    kind: FileKind,
    transaction: TransactionSet,
    delimiters: Delimiters,
    rulebook: Rulebook,
    source: str,
) -> None:
    if kind is FileKind.REMITTANCE:
        adjudicated, cases = RemittanceParser(rulebook, delimiters, source).parse(
            transaction, parsed.problems
        )
        parsed.adjudicated.extend(adjudicated)
        parsed.cases.extend(cases)
        return
    parser: _AcknowledgmentParser = (
        ClaimAcknowledgmentParser(rulebook, delimiters, source)
        if kind is FileKind.CLAIM_ACKNOWLEDGMENT
        else FunctionalAcknowledgmentParser(rulebook, delimiters, source)
    )
    acknowledged, cases = parser.parse(transaction, parsed.problems)
    parsed.acknowledged.extend(acknowledged)
    parsed.cases.extend(cases)
