"""The scale-out layout as real processes on one machine: one `temporal` dev server, and any
number of `denials worker` and `denials api` processes sharing its address, one read model
database and one payload key, each logging to a file of its own."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from app.encryption import EncryptionCodec, Keyring
from denials.embedded import DevServer
from testkit.processes import DENIALS, free_port
from workflows.messages import TASK_QUEUE

STARTUP_SECONDS = 120
STOP_SECONDS = 60

Command = Literal["worker", "api"]


def wait_ready(
    base_url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = STARTUP_SECONDS
) -> None:
    """Wait for an HTTP server's /readyz; fail with its log if it exits or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base_url} not ready after {seconds:.0f} s:\n{log.read_text()}")


class Cluster:
    """Start with `start_server`, then `start` processes by name; `stop` ends them all with
    SIGTERM and answers each one's exit code."""

    def __init__(
        self, root: Path, database_url: str, settings: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.database_url = database_url
        self.settings = settings or {}  # more environment for every process
        # Separate processes share a configured key (none makes a key file of its own).
        self.keys = Keyring.new_entry("e2e")
        self.codec = EncryptionCodec(Keyring.parse(self.keys, source="test"))
        self.server = DevServer(
            db_file=root / "temporal.db",
            port=free_port(),
            ui_port=free_port(),
            namespace="default",
            log_file=root / "temporal.log",
        )
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.urls: dict[str, str] = {}
        self._server_started = False

    def start_server(self) -> None:
        self.server.start()
        self._server_started = True

    async def client(self) -> Client:
        """A client of the dev server (once it answers) that reads the encrypted payloads."""
        return await self.server.wait_ready("default", self.codec)

    def start(self, name: str, command: Command) -> None:
        """Start `denials <command>` as `name`; an API gets a port of its own (see `urls`)."""
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": self.server.address,
            "DATABASE_URL": self.database_url,
            "DENIALS_DATA_DIR": str(self.root),
            "DENIALS_PAYLOAD_KEYS": self.keys,
            **self.settings,
        }
        if command == "api":
            port = free_port()
            env["DENIALS_HTTP_PORT"] = str(port)
            self.urls[name] = f"http://127.0.0.1:{port}"
        self.logs[name] = self.root / f"{name}.log"
        with self.logs[name].open("wb") as out:
            self.processes[name] = subprocess.Popen(
                [DENIALS, command], env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self, name: str, seconds: float = STARTUP_SECONDS) -> str:
        """The API's base URL once it answers ready."""
        wait_ready(self.urls[name], self.processes[name], self.logs[name], seconds)
        return self.urls[name]

    async def wait_polling(
        self, client: Client, names: Sequence[str], seconds: float = STARTUP_SECONDS
    ) -> None:
        """Wait until each named worker polls the task queue for workflow tasks (Temporal lists
        its pollers by identity, the SDK's `pid@host`)."""
        request = DescribeTaskQueueRequest(
            namespace="default",
            task_queue=TaskQueue(name=TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        deadline = time.monotonic() + seconds
        while True:
            pollers = (await client.workflow_service.describe_task_queue(request)).pollers
            polling = {poller.identity.split("@")[0] for poller in pollers}
            waiting = [name for name in names if str(self.processes[name].pid) not in polling]
            if not waiting:
                return
            for name in waiting:
                if self.processes[name].poll() is not None:
                    raise AssertionError(f"{name} exited:\n{self.logs[name].read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{waiting} not polling after {seconds:.0f} s")
            await asyncio.sleep(0.5)

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        process = self.processes[name]
        assert process.poll() is None, f"{name} exited by itself:\n{self.logs[name].read_text()}"
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> dict[str, int]:
        """SIGTERM to every process still running, then the dev server; each one's exit code
        (a process that does not stop within a minute is killed and answers its signal)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        if self._server_started:
            self.server.stop()
        return codes

    def log_text(self) -> str:
        """Every process's log, to attach to a failure."""
        return "\n".join(f"--- {name} ---\n{log.read_text()}" for name, log in self.logs.items())

    def log_tails(self, lines: int = 60) -> str:
        """The end of every process's log (the dev server's too)."""
        logs = {"temporal": self.root / "temporal.log", **self.logs}
        return "\n".join(
            f"--- {name}: {log} ---\n" + "\n".join(log.read_text().splitlines()[-lines:])
            for name, log in logs.items()
            if log.exists()
        )
