"""Fixtures for the end-to-end tests: the environment of a `denials up` on free ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port


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
