"""pyx12's implementation-guide check for `denials parse --validate`, in another process.

pyx12 takes about fifteen times as long as our parser on a large file, so it never sits on the
parse's path: one child process checks the files one after the other, in the order given, while
the parse goes on; the caller takes each file's findings when it wants them.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType

from edi.parser import enveloped
from edi.problems import Problem
from edi.validation import could_not_run, validate

_STOP_WAIT = 5.0  # seconds for the child to end once told to


def _check_files(paths: list[str], results: Connection) -> None:
    """The child: each file's findings sent in order ([] for a file without envelope, which
    pyx12 cannot read; the parse says what is wrong with a file it cannot open)."""
    for path in paths:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            results.send([could_not_run(f"the file cannot be read ({exc.strerror or exc})")])
            continue
        results.send(validate(raw) if enveloped(raw) else [])
    results.close()


def _start_deaf_to_ctrl_c(process: BaseProcess) -> None:
    """Ctrl-C is the parent's to handle (it ends the child on its way out): the child starts
    with SIGINT ignored, which a new interpreter keeps (Python then sets no KeyboardInterrupt
    handler), so a Ctrl-C at any moment prints no traceback of the child's."""
    if threading.current_thread() is not threading.main_thread():  # only it may set handlers
        process.start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process.start()
    finally:
        signal.signal(signal.SIGINT, previous)


class GuideChecks:
    """The findings of `files`, checked in another process: `take()` gives the next file's,
    waiting for them if need be. Use it as a context manager: leaving ends the process."""

    def __init__(self, files: list[Path]) -> None:
        # spawn: a fresh interpreter, whatever threads the parent runs.
        context = multiprocessing.get_context("spawn")
        self._results, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_check_files,
            args=([str(path) for path in files], sending),
            name="denials-pyx12",
            daemon=True,
        )
        _start_deaf_to_ctrl_c(self._process)
        sending.close()  # the child holds the only writing end: its end is our EOF
        self._lost: str | None = None

    def take(self) -> list[Problem]:
        """The next file's findings, in the order the files were given."""
        if self._lost is None:
            try:
                findings: list[Problem] = self._results.recv()
                return findings
            except (EOFError, OSError):
                self._process.join(_STOP_WAIT)
                code = self._process.exitcode
                self._lost = f"its process ended before this file (exit status {code})" + (
                    ", killed: out of memory?" if code == -signal.SIGKILL else ""
                )
        return [could_not_run(self._lost)]

    def close(self) -> None:
        self._results.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(_STOP_WAIT)

    def __enter__(self) -> GuideChecks:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
