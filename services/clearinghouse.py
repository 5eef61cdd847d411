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

from pydantic import BaseModel, ConfigDict, Field

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
    sha256: str = Field(description="Of the bytes actually sent")


class SubmissionRefused(Exception):
    """The clearinghouse refused the package for good (its content, an unknown payer):
    sending it again cannot help. Any other error an adapter raises counts as transient."""


class ClearinghouseAdapter(Protocol):
    name: str

    def send(self, package: SubmissionPackage) -> SentReceipt:
        """Send, or raise SubmissionRefused (permanent) or any other error (transient)."""
        ...


class OutboxAdapter:
    """Writes each package to `<data_dir>/outbox/` for a clearinghouse's pickup (or a person
    with a portal): one file per submission id, never two; a retry returns the first file."""

    name = "outbox"

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def _prefix(self, package: SubmissionPackage) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", package.submission_id) + "-"

    def send(self, package: SubmissionPackage) -> SentReceipt:
        prefix = self._prefix(package)
        earlier = sorted(self.outbox.glob(f"{prefix}*")) if self.outbox.exists() else []
        if earlier:
            # Sent by an earlier attempt (even if the letter changed since): what went out,
            # and when, is the filing.
            path = earlier[0]
        else:
            path = self.outbox / f"{prefix}{package.filename}"
            try:
                write_atomically(path, package.content)
            except OSError as exc:  # said without the server's paths
                raise OSError(f"the outbox could not be written ({exc.strerror or exc})") from None
        return SentReceipt(
            adapter=self.name,
            location=str(path),
            sent_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        )
