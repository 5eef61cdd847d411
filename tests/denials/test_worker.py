"""The worker the product runs against the worker the tests run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from app.settings import Settings
from denials.worker import build_worker
from domain.rulebook import Rulebook


async def test_tests_sandbox_the_workflows_and_the_product_worker_follows_its_setting(
    workflow_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    rulebook: Rulebook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queues = iter(range(3))

    def runner(**options: bool) -> object:
        queue = f"queue-{next(queues)}"  # one worker per queue and client
        with ThreadPoolExecutor(1) as executor:
            worker = build_worker(
                workflow_env.client, queue, sqlite_engine, rulebook, executor, **options
            )
        return worker.config()["workflow_runner"]

    # The harness of every workflow test builds its worker with the defaults.
    assert isinstance(runner(), SandboxedWorkflowRunner)
    monkeypatch.delenv("DENIALS_WORKFLOW_SANDBOX", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert isinstance(runner(sandboxed=settings.workflow_sandbox), UnsandboxedWorkflowRunner)
    monkeypatch.setenv("DENIALS_WORKFLOW_SANDBOX", "true")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert isinstance(runner(sandboxed=settings.workflow_sandbox), SandboxedWorkflowRunner)
