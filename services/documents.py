"""Files kept with a case under the data folder: written once, named by content, with a row
(and its SHA-256) in the read model so the bytes sent can be proven later."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from db.models import CaseDocumentRow
from services.errors import NotFound


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` so a reader never sees half a file; an identical file already
    there is left alone (a retried activity must not create a second copy)."""
    if path.exists() and path.read_bytes() == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class DocumentStore:
    """Case documents under `<data_dir>/cases/<case_id>/`."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "cases"

    def save(
        self,
        session: Session,
        *,
        case_id: str,
        kind: str,
        filename: str,
        media_type: str,
        content: bytes,
        created_by: str,
        created_at: datetime,
        detail: dict[str, object] | None = None,
    ) -> CaseDocumentRow:
        """Store a document; the same bytes of the same kind for a case are one document."""
        sha256 = hashlib.sha256(content).hexdigest()
        document_id = hashlib.sha256(f"{case_id}|{kind}|{sha256}".encode()).hexdigest()[:32]
        existing = session.get(CaseDocumentRow, document_id)
        if existing is not None:
            return existing
        path = self.root / case_id / f"{sha256[:12]}-{filename}"
        write_atomically(path, content)
        row = CaseDocumentRow(
            document_id=document_id,
            case_id=case_id,
            kind=kind,
            filename=filename,
            media_type=media_type,
            path=str(path),
            sha256=sha256,
            size=len(content),
            created_by=created_by,
            created_at=created_at,
            detail=dict(detail or {}),
        )
        session.add(row)
        session.flush()
        return row

    def list(self, session: Session, case_id: str) -> list[CaseDocumentRow]:
        statement = (
            select(CaseDocumentRow)
            .where(CaseDocumentRow.case_id == case_id)
            .order_by(col(CaseDocumentRow.created_at))
        )
        return list(session.exec(statement).all())

    def read(
        self, session: Session, case_id: str, document_id: str
    ) -> tuple[CaseDocumentRow, bytes]:
        row = session.get(CaseDocumentRow, document_id)
        if row is None or row.case_id != case_id:
            raise NotFound(f"no document {document_id} in case {case_id}")
        try:
            content = Path(row.path).read_bytes()
        except FileNotFoundError:
            raise NotFound(
                f"document {document_id} is missing from the data folder (is it shared by "
                "the API and the workers?)"
            ) from None
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise NotFound(f"document {document_id} on disk no longer matches its SHA-256")
        return row, content
