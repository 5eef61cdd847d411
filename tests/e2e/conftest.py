"""Fixtures for the end-to-end tests: the environment of a `denials up` on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.processes import DENIALS, free_port
from tests.e2e.cluster import wait_ready


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], str, Path]]:
    http_port = free_port()
    env = {
        **os.environ,
        "DENIALS_DATA_DIR": str(tmp_path / "data"),
        "DENIALS_HTTP_PORT": str(http_port),
        "DENIALS_TEMPORAL_PORT": str(free_port()),
        "DENIALS_TEMPORAL_UI_PORT": str(free_port()),
    }
    env.pop("TEMPORAL_ADDRESS", None)
    env.pop("DATABASE_URL", None)
    yield env, f"http://127.0.0.1:{http_port}", tmp_path


@pytest.fixture
def running_stack(
    stack_env: tuple[dict[str, str], str, Path],
) -> Iterator[tuple[str, str]]:
    """`denials up` with demo data: (base URL, Temporal address)."""
    env, base_url, tmp_path = stack_env
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([DENIALS, "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(base_url, process, log)
        yield base_url, f"127.0.0.1:{env['DENIALS_TEMPORAL_PORT']}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
