"""Reading a stored X12 file's row: its report and status (its bytes: db.ingest_chunks)."""

from __future__ import annotations

from sqlmodel import Session

from db.models import IngestFileRow


def ingested_file(session: Session, sha256: str) -> IngestFileRow | None:
    return session.get(IngestFileRow, sha256)
