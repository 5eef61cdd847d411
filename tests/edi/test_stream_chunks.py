"""A file read a chunk at a time (edi.tokenizer.stream_pieces, edi.stream with a chunked source)
reads as it does whole: the same delimiters, segments and offsets, problems, claims and cases,
wherever the chunks split it (inside the ISA, a segment, a CR LF, a UTF-8 character or the BOM),
whatever its delimiters and encoding."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from domain.rulebook import Rulebook
from edi.problems import X12Error
from edi.stream import parts, scan
from edi.tokenizer import decode, decode_chunks, encoding_of, stream_pieces, tokenize
from testkit.x12 import build_file, random_remittance
from tests.edi.test_stream import _claims

REMITTANCE = build_file(random_remittance(40, seed=5))
TEXT = REMITTANCE.decode()
HEADERLESS = TEXT[TEXT.index("ST*") : TEXT.index("GE*")]
FILES = {
    "plain": REMITTANCE,
    "bom": b"\xef\xbb\xbf" + REMITTANCE,
    "crlf": TEXT.replace("~", "~\r\n").encode(),
    "crlf terminator": TEXT.replace("~", "\r\n").encode(),
    "unusual delimiters": TEXT.replace("*", "|").replace("~", "'").replace(":", "}").encode(),
    "indented": ("\n\n   " + TEXT.replace("~", "~\n    ")).encode(),
    "headerless": HEADERLESS.encode(),
    "headerless crlf": HEADERLESS.replace("~", "\r\n").encode(),
    "utf-8 name": TEXT.replace("NM1*QC*1*", "NM1*QC*1*Müller", 1).encode(),
    # UTF-8 early, then a byte UTF-8 cannot read: the whole file is Latin-1, as decode() says.
    "latin-1 late": TEXT.replace("NM1*QC*1*", "NM1*QC*1*Müller", 1).encode()[:-30]
    + b"\xff"
    + REMITTANCE[-30:],
    "truncated in the isa": REMITTANCE[:60],
    "empty": b" \r\n ",
    "not x12": b"hello world, this is not an X12 file",
}
SIZES = [1, 2, 3, 7, 64, 105, 106, 107, 4095, 4097, 1 << 20]


def _chunked(raw: bytes, size: int) -> Callable[[], Iterator[bytes]]:
    return lambda: (raw[start : start + size] for start in range(0, len(raw), size))


def _segments(segments: object) -> list[tuple[str, list[str], int, int]]:
    return [(s.id, s.elements, s.number, s.offset) for s in segments]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("size", SIZES)
def test_pieces_split_as_the_whole_text(name: str, size: int) -> None:
    raw = FILES[name]
    encoding = encoding_of(_chunked(raw, size)())
    pieces = decode_chunks(_chunked(raw, size)(), encoding)
    try:
        whole = tokenize(decode(raw))
    except X12Error as error:
        with pytest.raises(X12Error) as streamed:
            stream_pieces(pieces)
        assert streamed.value.problem == error.problem
        return
    delimiters, has_envelope, segments = stream_pieces(pieces)
    assert (delimiters, has_envelope) == (whole.delimiters, whole.has_envelope)
    assert _segments(segments) == _segments(whole.segments)


def test_the_encoding_is_the_whole_files() -> None:
    assert encoding_of(_chunked(FILES["utf-8 name"], 1)()) == "utf-8"
    assert encoding_of(_chunked(FILES["latin-1 late"], 3)()) == "latin-1"
    assert "".join(decode_chunks(_chunked(FILES["latin-1 late"], 5)(), "latin-1")) == decode(
        FILES["latin-1 late"]
    )
    assert "".join(decode_chunks(_chunked(FILES["bom"], 1)(), "utf-8")) == TEXT


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("size", [3, 106, 4097])
def test_a_chunked_source_scans_and_parts_as_the_bytes(
    name: str, size: int, rulebook: Rulebook
) -> None:
    raw = FILES[name]
    whole = scan(name, raw, rulebook)
    chunked = scan(name, _chunked(raw, size), rulebook)
    assert (chunked.problems.kept, chunked.problems.omitted) == (
        whole.problems.kept,
        whole.problems.omitted,
    )
    chunked.problems = whole.problems
    assert chunked == whole
    if whole.ok:
        read = [
            (p.first_adjudicated, _claims(p), p.cases, p.sha256, p.kind)
            for p in parts(name, _chunked(raw, size), rulebook, size=9)
        ]
        assert read == [
            (p.first_adjudicated, _claims(p), p.cases, p.sha256, p.kind)
            for p in parts(name, raw, rulebook, size=9)
        ]
        assert sum(len(claims) for _, claims, *_ in read) == whole.claims


@pytest.mark.parametrize("name", ["plain", "latin-1 late"])
def test_parts_given_the_scan_read_the_file_once_more_only(name: str, rulebook: Rulebook) -> None:
    """The SHA-256 and encoding scan() found are not worked out again: one pass, the same parts."""
    raw = FILES[name]
    reads: list[int] = []

    def counted() -> Iterator[bytes]:
        reads.append(1)
        return _chunked(raw, 64)()

    scanned = scan(name, raw, rulebook)
    given = [
        (p.first_adjudicated, _claims(p), p.cases, p.sha256)
        for p in parts(name, counted, rulebook, size=9, scanned=scanned)
    ]
    assert len(reads) == 1
    assert given == [
        (p.first_adjudicated, _claims(p), p.cases, p.sha256)
        for p in parts(name, raw, rulebook, size=9)
    ]
