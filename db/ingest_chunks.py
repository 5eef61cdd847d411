"""A stored X12 file's bytes, kept in chunks (ingest_file_chunks, one row per CHUNK_BYTES).

A file of up to 50 MiB is never one value: stored from the upload's spooled file a chunk at a
time, read back the same way for its ingest, a resumed ingest, the implementation-guide check
and the raw download. Stored in the same transaction as its ingest_files row, so a file is
there whole or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from db.models import IngestChunkRow

CHUNK_BYTES = 1 << 20


def pieces(file: BinaryIO, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """A file's bytes from where it stands, `size` at a time."""
    while chunk := file.read(size):
        yield chunk


def sha256_of(file: BinaryIO) -> tuple[str, int]:
    """The SHA-256 and size of a file read from the start, a chunk at a time; left at its start."""
    file.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in pieces(file):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def store(session: Session, sha256: str, file: BinaryIO) -> None:
    """The file's bytes added to the session's transaction (committed with the file's row)."""
    file.seek(0)
    table = IngestChunkRow.__table__  # type: ignore[attr-defined]
    for position, chunk in enumerate(pieces(file)):
        session.execute(insert(table).values(sha256=sha256, position=position, data=chunk))


def read(engine: Engine, sha256: str) -> Iterator[bytes]:
    """The stored file's bytes, a chunk at a time in order, each fetched on its own (a
    connection is held only as long as one chunk takes)."""
    position = 0
    while True:
        with engine.connect() as connection:
            data = connection.execute(
                select(IngestChunkRow.data).where(
                    col(IngestChunkRow.sha256) == sha256, col(IngestChunkRow.position) == position
                )
            ).scalar_one_or_none()
        if data is None:
            return
        yield data
        position += 1


def whole(engine: Engine, sha256: str) -> bytes:
    """The stored file's bytes at once: for pyx12, which reads a file whole, in its own process
    (services.ingest_validation), never in the API's."""
    return b"".join(read(engine, sha256))
