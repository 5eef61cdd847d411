"""Running the product's own processes in tests: the `denials` command, free ports, and what
is left running afterwards."""

from __future__ import annotations

import random
import socket
import sys
from pathlib import Path

DENIALS = str(Path(sys.executable).parent / "denials")
EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def free_port() -> int:
    """A port free now and below the kernel's ephemeral range. A port from the ephemeral range
    (what binding port 0 gives) can be taken by any server binding port 0 before ours starts,
    and the Temporal dev server binds its internal services that way."""
    try:
        ephemeral_start = int(EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_start = 32768
    for _ in range(100):
        port = random.randrange(20000, ephemeral_start)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between 20000 and {ephemeral_start}")


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
