"""The whole product as users run it (`denials up`: Temporal dev server + worker + web) for the
browser tests, and the Chromium they drive (Debian's, never a downloaded one)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from testkit.processes import DENIALS, free_port, processes_mentioning

STARTUP_SECONDS = 120
DEMO_TRIAGED_CASES = 9

# A system browser, never a downloaded one: Debian's unless DENIALS_TEST_CHROMIUM names another.
CHROMIUM = os.environ.get("DENIALS_TEST_CHROMIUM") or "/usr/bin/chromium"
MISSING_CHROMIUM = (
    f"the browser tests need Chromium at {CHROMIUM}: `make test` installs Debian's chromium "
    "package (apt-get, as root or through sudo); elsewhere install Chromium or Chrome and set "
    "DENIALS_TEST_CHROMIUM to its path"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def bearer(base_url: str, user: str) -> dict[str, str]:
    """An API bearer token for a demo user (password "demo")."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": user, "password": "demo"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass
class Stack:
    """A running `denials up` on free ports with its own data directory."""

    base_url: str
    temporal_ui_port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"denials up exited {self.process.returncode}:\n{self.log_text()}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"not ready after {STARTUP_SECONDS}s:\n{self.log_text()}")

    def wait_for_demo_cases(self) -> None:
        """The demo cases reach the read model once the worker has triaged them."""
        headers = bearer(self.base_url, "sam")
        deadline = time.monotonic() + 60
        total = 0
        while time.monotonic() < deadline:
            page = httpx.get(
                f"{self.base_url}/api/v1/cases?status=triaged", headers=headers, timeout=10
            )
            total = int(page.json()["total"])
            if total >= DEMO_TRIAGED_CASES:
                return
            time.sleep(0.25)
        raise AssertionError(f"only {total} demo cases triaged:\n{self.log_text()}")

    def stop(self) -> int:
        """Ctrl-C, as a user would; the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise


def start_stack(root: Path) -> Stack:
    """`denials up` with demo data in `root`, ready and with the demo cases triaged."""
    http_port, ui_port = free_port(), free_port()
    env = {
        **os.environ,
        "DENIALS_DATA_DIR": str(root / "data"),
        "DENIALS_HTTP_PORT": str(http_port),
        "DENIALS_TEMPORAL_PORT": str(free_port()),
        "DENIALS_TEMPORAL_UI_PORT": str(ui_port),
    }
    env.pop("TEMPORAL_ADDRESS", None)
    env.pop("DATABASE_URL", None)
    log = root / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([DENIALS, "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    stack = Stack(f"http://127.0.0.1:{http_port}", ui_port, root / "data", log, process)
    try:
        stack.wait_ready()
        stack.wait_for_demo_cases()
    except BaseException:
        stack.stop()
        raise
    return stack


@contextmanager
def stack_in(folder: Path) -> Iterator[Stack]:
    """`denials up` in `folder` for a module's tests; it must stop cleanly, leaving no
    `temporal` process behind."""
    running = start_stack(folder)
    try:
        yield running
    finally:
        returncode = running.stop()
    assert returncode == 0, running.log_text()
    assert processes_mentioning(str(running.data_dir)) == [], "no orphan temporal process"
