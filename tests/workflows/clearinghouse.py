"""A clearinghouse adapter for tests: sends to an outbox, or fails as told."""

from __future__ import annotations

import threading
from pathlib import Path

from services.clearinghouse import (
    OutboxAdapter,
    SentReceipt,
    SubmissionPackage,
    SubmissionRefused,
)


class Clearinghouse:
    """An adapter that fails (transiently, or refuses for good) until told to recover."""

    name = "test-clearinghouse"

    def __init__(self, outbox: Path, *, down: bool = True) -> None:
        self.outbox = OutboxAdapter(outbox)
        self.down = down
        self.refusing = False
        self.calls = 0
        self.sending = threading.Event()  # set once a send has started
        self.answer = threading.Event()  # cleared: a send waits until it is set
        self.answer.set()

    def send(self, package: SubmissionPackage) -> SentReceipt:
        self.calls += 1
        self.sending.set()
        self.answer.wait(timeout=5)
        if self.refusing:
            raise SubmissionRefused("payer id COM-TEST is not enrolled for electronic appeals")
        if self.down:
            raise ConnectionError("clearinghouse.example:443 connection refused")
        return self.outbox.send(package)
