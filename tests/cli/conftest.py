"""The CLI runs as a subprocess that encrypts its payloads: the harness here does too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.encrypted_env import start_encrypted_env


@pytest.fixture
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_encrypted_env() as env:
        yield env
