"""Splitting an X12 file into segments, whatever its delimiters and layout.

Real files: a UTF-8 BOM, CR/LF or indentation between segments, everything on one line, any
element / repetition / component separator and segment terminator the ISA declares, ISA
padding collapsed by a careless translator, or no envelope at all (starts at ST).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from edi.problems import Location, X12Error

_WHITESPACE = " \t\r\n"
# Candidates when a file without an ISA leaves the component separator to be guessed.
_COMPONENT_CANDIDATES = ":>^|\\"


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str


class Segment:
    """One segment: its id, its elements (index 1 is the first data element) and position.

    A plain slotted class: a large remittance has hundreds of thousands of them."""

    __slots__ = ("elements", "id", "number", "offset")

    def __init__(self, id: str, elements: list[str], number: int, offset: int) -> None:
        self.id = id
        self.elements = elements
        self.number = number  # 1-based position in the file
        self.offset = offset  # character offset of the segment in the decoded text

    def __repr__(self) -> str:
        return f"Segment({self.number}: {'*'.join(self.elements)})"

    def get(self, index: int) -> str:
        """Element `index` (1-based, like SVC01), or '' when absent."""
        return self.elements[index] if index < len(self.elements) else ""

    def location(self, element: int | None = None) -> Location:
        return Location(segment_number=self.number, segment_id=self.id, element=element)


@dataclass(frozen=True)
class Tokenized:
    delimiters: Delimiters
    segments: list[Segment]
    has_envelope: bool


_BOM = b"\xef\xbb\xbf"


def decode(raw: bytes) -> str:
    """X12 is ASCII in practice; accept UTF-8 (with or without BOM), else Latin-1."""
    if raw.startswith(_BOM):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def encoding_of(chunks: Iterable[bytes]) -> str:
    """The encoding decode() would choose for these bytes, read a chunk at a time: a file is
    UTF-8 only if the whole of it is, so the choice needs a pass of its own."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            if decoder.getstate()[0] or not chunk.isascii():
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def decode_chunks(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    """The text decode() gives (in `encoding`, from encoding_of), a piece per chunk."""
    decoder = codecs.getincrementaldecoder(encoding)()
    head = b""
    pending = iter(chunks)
    for chunk in pending:  # the BOM may itself be split
        head += chunk
        if len(head) >= len(_BOM):
            break
    yield decoder.decode(head[3:] if head.startswith(_BOM) else head)
    del head
    for chunk in pending:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _terminator(text: str, index: int) -> str:
    """The segment terminator at `index`. CR LF counts as one: split on LF, the CR is then
    stripped as whitespace. A bare CR is the terminator itself (classic Mac line ends)."""
    found = text[index]
    return "\n" if found == "\r" and text[index + 1 : index + 2] == "\n" else found


# Far more than an ISA segment takes, even padded with spaces beyond its fixed width.
_ISA_PREFIX = 4096


def _isa_delimiters(text: str) -> Delimiters:
    """Read the separators the ISA declares, tolerating collapsed fixed-width padding."""
    element = text[3]
    # The ISA's first characters only: split whole, its last part would copy the file (twice).
    parts = text[:_ISA_PREFIX].split(element, 16)
    if len(parts) < 17 or not parts[16]:
        raise X12Error(
            "ISA segment is incomplete: expected 16 elements",
            Location(segment_number=1, segment_id="ISA", element=len(parts) - 1),
        )
    component = parts[16][0]
    after = parts[16][1:].lstrip(" ")
    if not after:
        raise X12Error(
            "file ends inside the ISA segment",
            Location(segment_number=1, segment_id="ISA", element=16),
        )
    segment = _terminator(after, 0)
    repetition = parts[11] if parts[12][:5] >= "00402" and len(parts[11]) == 1 else None
    if element.isalnum() or component.isalnum() or segment.isalnum():
        raise X12Error(
            f"ISA declares letters or digits as separators (element {element!r}, component "
            f"{component!r}, segment {segment!r})",
            Location(segment_number=1, segment_id="ISA", element=16),
        )
    return Delimiters(element, component, repetition, segment)


class _Undecided(Exception):
    """The start of a file read so far does not yet say its delimiters: read more."""


def _headerless_delimiters(text: str, final: bool = True) -> Delimiters:
    """A file starting at ST: the element separator follows 'ST'; the terminator is the first
    character after the ST control number that is neither data nor a separator. `final`:
    `text` is the whole file, else only its start (_Undecided when that is not enough)."""
    element = text[2]
    index = 3
    for _ in range(2):  # ST01 and ST02
        while index < len(text) and (text[index].isalnum() or text[index] == " "):
            index += 1
        if index < len(text) and text[index] == element:
            index += 1
    while index < len(text) and (text[index].isalnum() or text[index] in ". "):
        index += 1
    if not final and index + 1 >= len(text):
        raise _Undecided
    if index >= len(text):
        raise X12Error(
            "file ends inside the ST segment", Location(segment_number=1, segment_id="ST")
        )
    segment = _terminator(text, index)
    component = ":"
    svc = re.search(
        rf"{re.escape(segment)}\s*SVC{re.escape(element)}([^{re.escape(element)}]*)", text
    )
    if not final and (svc is None or svc.end() >= len(text)):
        raise _Undecided  # the first SVC may be further on, or its first element go on
    if svc is not None:
        first = svc.group(1)
        component = next((c for c in first if c in _COMPONENT_CANDIDATES and c != element), ":")
    return Delimiters(element, component, None, segment)


def _delimiters(text: str) -> tuple[Delimiters, bool, str, int]:
    """The file's delimiters, whether it has an envelope, and its body from the first segment
    on with that body's offset in `text`."""
    body = text.lstrip(_WHITESPACE)
    start = len(text) - len(body)
    if not body:
        raise X12Error("empty file: no X12 data", Location())
    if body.startswith("ISA"):
        if len(body) < 4:
            raise X12Error(
                "file ends inside the ISA segment", Location(segment_number=1, segment_id="ISA")
            )
        delimiters, has_envelope = _isa_delimiters(body), True
    elif body.startswith("ST") and len(body) > 2 and not body[2].isalnum():
        delimiters, has_envelope = _headerless_delimiters(body), False
    else:
        shown = body[:20].encode("unicode_escape").decode("ascii")
        raise X12Error(
            f"not an X12 file: expected it to start with 'ISA' (or 'ST'), found {shown!r}",
            Location(),
        )
    return delimiters, has_envelope, body, start


def delimiters_of(text: str) -> Delimiters:
    return _delimiters(text)[0]


def tokenize(text: str) -> Tokenized:
    delimiters, has_envelope, body, start = _delimiters(text)
    return Tokenized(delimiters, list(_split(delimiters, body, start, iter(()))), has_envelope)


def stream(text: str) -> tuple[Delimiters, bool, Iterator[Segment]]:
    """The file's delimiters, whether it has an envelope, and its segments one at a time (as
    tokenize numbers them): a large file's segments all at once weigh many times the file."""
    delimiters, has_envelope, body, start = _delimiters(text)
    return delimiters, has_envelope, _split(delimiters, body, start, iter(()))


def stream_pieces(pieces: Iterable[str]) -> tuple[Delimiters, bool, Iterator[Segment]]:
    """stream() of the text these pieces make up (decode_chunks), never holding it whole: the
    delimiters are read from its start, its segments split as the pieces come (a segment or
    the ISA may span pieces). Segments and offsets are the ones stream() gives the whole text.
    (A file without an ISA whose component separator has to be guessed is read up to its first
    SVC for that.)"""
    more = iter(pieces)
    head = ""
    for piece in more:
        head += piece
        if _decided(head):
            break
    delimiters, has_envelope, body, start = _delimiters(head)
    return delimiters, has_envelope, _split(delimiters, body, start, more)


def _decided(head: str) -> bool:
    """Whether the start of a file says its delimiters as the whole file would."""
    body = head.lstrip(_WHITESPACE)
    if len(body) < _ISA_PREFIX:
        return False  # the ISA's separators are read from its first _ISA_PREFIX characters
    if body.startswith("ST") and not body[2].isalnum():
        try:
            _headerless_delimiters(body, final=False)
        except _Undecided:
            return False
    return True


def _split(delimiters: Delimiters, body: str, start: int, more: Iterator[str]) -> Iterator[Segment]:
    """The segments of `body` (at offset `start` in the text) and of the pieces that follow
    it; the part after the last terminator waits for the next piece."""
    separator, element = delimiters.segment, delimiters.element
    step = len(separator)
    number = 0
    while True:
        piece = next(more, None)
        size = len(body)
        limit = size if piece is None else body.rfind(separator)
        find = body.find
        position = 0
        while position <= limit:
            end = find(separator, position)
            end = size if end < 0 else end
            chunk = body[position:end]
            lead = 0
            if chunk and (chunk[0] in _WHITESPACE or chunk[-1] in _WHITESPACE):
                stripped = chunk.strip(_WHITESPACE)
                lead = chunk.find(stripped[0]) if stripped else 0
                chunk = stripped
            if chunk:
                elements = chunk.split(element)
                number += 1
                yield Segment(elements[0], elements, number, start + position + lead)
            position = end + step
        if piece is None:
            return
        body = body[position:] + piece
        start += position


def segment_heads(text: str, numbers: set[int]) -> dict[int, tuple[str, int]]:
    """The id and character offset of the segments numbered `numbers` (as tokenize numbers
    them), found without holding every segment: validation names a few segments of a file
    that may hold millions."""
    delimiters, _, body, start = _delimiters(text)
    separator, element = delimiters.segment, delimiters.element
    step, last, size = len(separator), max(numbers, default=0), len(body)
    heads: dict[int, tuple[str, int]] = {}
    number = position = 0
    while position <= size and number < last:
        end = body.find(separator, position)
        end = size if end < 0 else end
        chunk = body[position:end]
        stripped = chunk.strip(_WHITESPACE)
        if stripped:
            number += 1
            if number in numbers:
                heads[number] = (
                    stripped.split(element, 1)[0],
                    start + position + chunk.find(stripped[0]),
                )
        position = end + step
    return heads
