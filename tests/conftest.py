"""Shared fixtures: the time-skipping Temporal server, databases, a worker per test."""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, migrate
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes
from denials.worker import build_worker
from domain.case import CasePolicy
from domain.rulebook import Rulebook
from services.clearinghouse import ClearinghouseAdapter
from tests.encrypted_env import start_encrypted_env
from tests.harness import CaseHarness
from tests.postgres_server import postgres_admin_url, scratch_database
from tests.workflows.clearinghouse import Clearinghouse

pytest_plugins = ["tests.markers"]  # browser, postgres, e2e and slow, from what a test uses

_exit_status = 0
ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "edi", "workflows", "activities", "db", "services", "api", "web", "denials")
MIDNIGHT_MARGIN_SECONDS = 30


@pytest.fixture(autouse=True)
def _not_across_midnight_utc() -> None:
    """Tests take "today" a moment before the code under test (and the Temporal test server)
    does: none starts in the last seconds of a UTC day, so both see the same date."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    left = (midnight - now).total_seconds()
    if left < MIDNIGHT_MARGIN_SECONDS:
        time.sleep(left + 0.5)


def pytest_configure(config: pytest.Config) -> None:
    # Bytecode compiled ahead, as `make run` does: where PYTHONDONTWRITEBYTECODE is set, every
    # `denials` process the tests start (and each workflow sandbox) would compile it again.
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=2)
    config.addinivalue_line(
        "markers",
        "shared_stack: the browser module runs on the `denials up` its package shares "
        "(tests/web/conftest.py), as it works only on data of its own",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    # The Temporal SDK's native threads can abort CPython's finalisation after a clean run
    # (temporalio/sdk-python#300); leave with pytest's own status once it has reported.
    os._exit(_exit_status)


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return Rulebook.load()


async def _start_test_server() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(installed_binary("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    await ensure_search_attributes(env.client, "default")
    return env


class _TestServers:
    """Starts the next test's time-skipping server while the current test runs, so no test
    waits the 0.15-0.3 s a start takes; each test still gets a fresh server of its own."""

    def __init__(self) -> None:
        self.next: asyncio.Task[WorkflowEnvironment] | None = None

    async def take(self) -> WorkflowEnvironment:
        started = self.next or asyncio.ensure_future(_start_test_server())
        self.next = asyncio.ensure_future(_start_test_server())
        return await started

    async def close(self) -> None:
        if self.next is not None:
            await (await self.next).shutdown()


@pytest.fixture(scope="session")
async def time_skipping_servers() -> AsyncIterator[_TestServers]:
    servers = _TestServers()
    yield servers
    await servers.close()


@pytest.fixture
async def workflow_env(time_skipping_servers: _TestServers) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test, started while the test before it ran.

    Not shared: the test server stops skipping time for good when a task of a workflow it
    still tracks is left in flight, so one test's leftovers could stall another's clock.
    """
    async with await time_skipping_servers.take() as env:
        yield env


@pytest.fixture
async def encrypted_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server whose clients encrypt and seal as the product's do."""
    async with await start_encrypted_env() as env:
        yield env


@pytest.fixture
async def encrypted(
    encrypted_env: WorkflowEnvironment, sqlite_engine: Engine, rulebook: Rulebook
) -> AsyncIterator[CaseHarness]:
    """A worker on the encrypted server: it refuses plain payloads and unsealed messages."""
    async with running_harness(encrypted_env, sqlite_engine, rulebook, CasePolicy()) as harness:
        yield harness


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated to head once per session: hundreds of tests need one, and
    a migration run costs half a second where a copy costs a millisecond."""
    path = tmp_path_factory.mktemp("sqlite-template") / "denials.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Engine]:
    """A test's own read model: a copy of the migrated database (the backup API copies what
    the template's write-ahead log may still hold)."""
    path = tmp_path / "denials.db"
    with (
        contextlib.closing(sqlite3.connect(migrated_sqlite)) as template,
        contextlib.closing(sqlite3.connect(path)) as copy,
    ):
        template.backup(copy)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    """The PostgreSQL server of this test session (tests/postgres_server.py)."""
    with postgres_admin_url() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(postgres_admin: str) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL server, dropped afterwards."""
    with scratch_database(postgres_admin) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The read model on each supported database."""
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def policy() -> CasePolicy:
    return CasePolicy()


@contextlib.asynccontextmanager
async def running_harness(
    env: WorkflowEnvironment,
    engine: Engine,
    rulebook: Rulebook,
    policy: CasePolicy,
    adapter: ClearinghouseAdapter | None = None,
) -> AsyncIterator[CaseHarness]:
    """A worker on a task queue of its own, writing to `engine`, its workflows sandboxed (the
    default) so that a non-deterministic call in workflow code fails the test. `adapter` sends
    submissions (default: the outbox in the worker's data folder)."""
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(8) as executor, tempfile.TemporaryDirectory() as data_dir:
        async with build_worker(
            env.client,
            task_queue,
            engine,
            rulebook,
            executor,
            data_dir=Path(data_dir),
            adapter=adapter,
        ):
            yield CaseHarness(env, engine, task_queue, policy, Path(data_dir))


@pytest.fixture
async def harness(
    workflow_env: WorkflowEnvironment, sqlite_engine: Engine, rulebook: Rulebook, policy: CasePolicy
) -> AsyncIterator[CaseHarness]:
    async with running_harness(workflow_env, sqlite_engine, rulebook, policy) as harness:
        yield harness


@pytest.fixture
def clearinghouse(tmp_path: Path) -> Clearinghouse:
    """A clearinghouse adapter that is down until a test brings it back."""
    return Clearinghouse(tmp_path / "outbox")


@pytest.fixture
async def clearinghouse_harness(
    workflow_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    rulebook: Rulebook,
    policy: CasePolicy,
    clearinghouse: Clearinghouse,
) -> AsyncIterator[CaseHarness]:
    """The harness, its submissions sent through `clearinghouse`."""
    async with running_harness(
        workflow_env, sqlite_engine, rulebook, policy, adapter=clearinghouse
    ) as harness:
        yield harness


@pytest.fixture
async def any_db_harness(
    workflow_env: WorkflowEnvironment, engine: Engine, rulebook: Rulebook, policy: CasePolicy
) -> AsyncIterator[CaseHarness]:
    """The harness on SQLite and on PostgreSQL."""
    async with running_harness(workflow_env, engine, rulebook, policy) as harness:
        yield harness
