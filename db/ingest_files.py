"""Reading a stored X12 file's row: its report and status, and its bytes only when asked."""

from __future__ import annotations

from sqlalchemy.orm import defer
from sqlmodel import Session

from db.models import IngestFileRow


def ingested_file(session: Session, sha256: str, *, content: bool = False) -> IngestFileRow | None:
    # The stored bytes (up to 50 MiB) only for the download.
    options = [] if content else [defer(IngestFileRow.content)]
    return session.get(IngestFileRow, sha256, options=options)
