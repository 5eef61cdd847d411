"""Which files `denials parse` and `denials ingest` take: every file named, and the X12 files
found in a folder named. A folder usually holds other files too (a README, a scanned letter):
those are skipped and listed rather than stored as failed ingests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# As edi.tokenizer reads a file: after a byte-order mark and whitespace, an interchange starts
# with ISA, a file without envelope with ST and its element separator.
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
_HEAD_BYTES = 4096


def looks_like_x12(head: bytes) -> bool:
    """Whether a file starting with `head` is X12 by content (its name says nothing)."""
    body = head.removeprefix(_BOM).lstrip(_WHITESPACE)
    if body.startswith(b"ISA"):
        return True
    return body.startswith(b"ST") and len(body) > 2 and not body[2:3].isalnum()


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(_HEAD_BYTES)
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


@dataclass
class Selection:
    files: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # found in a folder, not X12


def select_files(paths: list[Path]) -> Selection:
    """Files as named; a folder stands for the X12 files below it, in name order. A missing or
    unreadable path is a ValueError naming it."""
    chosen = Selection()
    for path in paths:
        if path.is_dir():
            for found in sorted(p for p in path.rglob("*") if p.is_file()):
                (chosen.files if looks_like_x12(_head(found)) else chosen.skipped).append(found)
        elif path.is_file():
            chosen.files.append(path)  # named on purpose: read, and refused if not X12
        else:
            raise ValueError(f"{path}: no such file or directory")
    return chosen
