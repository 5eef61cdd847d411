"""`denials up` says where it serves only once it does, after the worker has said which task
queue it polls (issue 16, item 5): a user who opens the address at once finds it ready."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from testkit.processes import DENIALS, free_port, processes_mentioning

pytestmark = pytest.mark.e2e  # runs the `denials` command as a process

STARTUP_SECONDS = 120


def test_the_banner_comes_once_everything_is_ready(tmp_path: Path) -> None:
    http_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DENIALS_")}
    env.pop("TEMPORAL_ADDRESS", None)
    env.pop("DATABASE_URL", None)
    env |= {
        "DENIALS_DATA_DIR": str(tmp_path / "data"),
        "DENIALS_HTTP_PORT": str(http_port),
        "DENIALS_TEMPORAL_PORT": str(temporal_port),
        "DENIALS_TEMPORAL_UI_PORT": str(ui_port),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [DENIALS, "up", "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout])  # type: ignore[union-attr]
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not any(line.startswith("Denials case manager on") for line in seen):
            assert process.poll() is None, "".join(seen)
            assert time.monotonic() < deadline, "".join(seen)
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        # Asked the moment the banner shows: both servers answer.
        ready = httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert httpx.get(f"http://127.0.0.1:{ui_port}/", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(60)
        reader.join(10)
    log = "".join(seen)
    assert returncode == 0, log
    banner = seen[-1]
    assert banner == (
        f"Denials case manager on http://127.0.0.1:{http_port} "
        f"(Temporal Web UI http://127.0.0.1:{ui_port}); Ctrl-C stops everything.\n"
    )
    polling = (
        f"worker polling task queue 'denial-cases' of namespace 'default' at "
        f"127.0.0.1:{temporal_port}"
    )
    assert polling in log, log
    for port in (http_port, ui_port):
        assert f"Uvicorn running on http://127.0.0.1:{port}" in log, log
    assert processes_mentioning(str(tmp_path / "data")) == []
