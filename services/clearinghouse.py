"""Sending work to the payer: a clearinghouse adapter interface and the default outbox.

An adapter takes one package (an appeal packet PDF or an 837 file) and returns where it went
and when; that time is the proof of filing. Adapters must be idempotent per submission id:
the activity that calls them may run twice.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from services.documents import write_atomically


class SubmissionPackage(BaseModel):
    model_config = ConfigDict(frozen=True)

    submission_id: str
    case_id: str
    kind: str  # appeal | corrected_claim
    filename: str
    media_type: str
    content: bytes


class SentReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    adapter: str
    location: str
    sent_at: datetime


class ClearinghouseAdapter(Protocol):
    name: str

    def send(self, package: SubmissionPackage) -> SentReceipt: ...


class OutboxAdapter:
    """Writes each package to `<data_dir>/outbox/` for a clearinghouse's pickup (or a person
    with a portal): one file per submission id, never two."""

    name = "outbox"

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def path_for(self, package: SubmissionPackage) -> Path:
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", package.submission_id)
        return self.outbox / f"{safe_id}-{package.filename}"

    def send(self, package: SubmissionPackage) -> SentReceipt:
        path = self.path_for(package)
        if path.exists():
            if (
                hashlib.sha256(path.read_bytes()).digest()
                != hashlib.sha256(package.content).digest()
            ):
                raise ValueError(
                    f"outbox file {path.name} already holds different content for submission "
                    f"{package.submission_id}"
                )
            # Sent by an earlier attempt: its time is the time of filing.
            sent_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        else:
            write_atomically(path, package.content)
            sent_at = datetime.now(UTC)
        return SentReceipt(adapter=self.name, location=str(path), sent_at=sent_at)
