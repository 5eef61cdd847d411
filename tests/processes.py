"""Running the product's own processes in tests: the `denials` command, free ports, and what
is left running afterwards."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

DENIALS = str(Path(sys.executable).parent / "denials")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions `text` (to find leftover children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found
