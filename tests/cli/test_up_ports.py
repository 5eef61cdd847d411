"""`denials up` stops at once, saying which port and which setting, when a port it needs is
taken: another Temporal server on its gRPC port would otherwise answer in its place."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from testkit.processes import DENIALS, free_port

pytestmark = pytest.mark.e2e  # runs the `denials` command as a process

PORTS = {
    "DENIALS_HTTP_PORT": "the web app and API",
    "DENIALS_TEMPORAL_PORT": "the embedded Temporal server",
    "DENIALS_TEMPORAL_UI_PORT": "the Temporal Web UI",
}


@pytest.mark.parametrize("taken", list(PORTS))
def test_up_refuses_a_taken_port_before_starting_anything(taken: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "TEMPORAL_ADDRESS"}
    env |= {setting: str(free_port()) for setting in PORTS}
    env["DENIALS_DATA_DIR"] = str(tmp_path / "data")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", int(env[taken])))
        listener.listen()
        result = subprocess.run(
            [DENIALS, "up"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert f"port {env[taken]} ({PORTS[taken]}) is already in use" in result.stderr
    assert taken in result.stderr
    assert not (tmp_path / "data" / "temporal.log").exists()  # no server was started
