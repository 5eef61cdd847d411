"""The task worklists (GET /api/v1/tasks/mine, /tasks/queue, /tasks) with 100,000 cases in the
read model, on SQLite and on PostgreSQL, through the real FastAPI app in-process, against the
raw time of the same SELECTs (captured from the endpoint's own run, then executed on the
connection as they were sent) measured in the same run.

The rows are bench/worklist.py's (1-2 open tasks per open case, a third of them assigned to
one of 25 billers), and about 3 % of the open cases carry a follow-up date that parks them
(some in the past: those cases are back). Target: p95 <= 50 ms per query shape, as for the
case list. Run by bench/worklist.py after the case list; alone: python -m bench.task_lists.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.main import create_app
from bench.worklist import (
    Figures,
    Generated,
    generate,
    maintain,
    postgres_engine,
    report,
    sqlite_engine,
)
from db.engine import migrate
from db.models import CaseRow, TaskRow
from db.work_management import CaseFollowUpRow
from denials.config import Settings
from denials.temporal import connect
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind
from services.users import UserService

PARKED_SHARE = 0.03


@dataclass(frozen=True)
class Shape:
    name: str
    user: str
    path: str
    params: dict[str, str]


SHAPES = [
    Shape("mine (alice), actionable", "alice", "/api/v1/tasks/mine", {}),
    Shape("mine (alice), waiting", "alice", "/api/v1/tasks/mine", {"view": "waiting"}),
    Shape("mine (alice), parked", "alice", "/api/v1/tasks/mine", {"view": "parked"}),
    Shape("queue (biller, unassigned)", "alice", "/api/v1/tasks/queue", {}),
    Shape("all open tasks (sam)", "sam", "/api/v1/tasks", {}),
    Shape("all open, offset=20,000", "sam", "/api/v1/tasks", {"offset": "20000"}),
]


def follow_ups(data: Generated, now: datetime, seed: int = 3) -> list[dict[str, Any]]:
    """Follow-up dates on a few open cases: most ahead (parked), some already reached."""
    rng = random.Random(seed)
    rows = []
    for case in data.cases:
        if case["status"] == "closed" or rng.random() >= PARKED_SHARE:
            continue
        rows.append(
            {
                "case_id": case["case_id"],
                "follow_up_on": now.date() + timedelta(days=rng.randint(-5, 20)),
                "reason": "payer asked to call back",
                "set_by": case["owner"] or "alice",
                "set_at": now - timedelta(days=rng.randint(0, 10)),
            }
        )
    return rows


def fill(engine: Engine, data: Generated, parked: list[dict[str, Any]]) -> None:
    for model, rows in ((CaseRow, data.cases), (TaskRow, data.tasks), (CaseFollowUpRow, parked)):
        table = model.__table__  # type: ignore[attr-defined]
        with engine.begin() as connection:
            for start in range(0, len(rows), 2000):
                connection.execute(insert(table), rows[start : start + 2000])


class Captured:
    """The SELECTs an engine runs (statement and parameters), to run them again raw."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.selects: list[tuple[str, Any]] = []

    def __enter__(self) -> Captured:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        listed = " tasks " in statement or "FROM tasks" in statement
        if statement.lstrip().upper().startswith("SELECT") and listed:
            self.selects.append((statement, parameters))


def run_raw(engine: Engine, selects: list[tuple[str, Any]]) -> None:
    with engine.connect() as connection:
        for statement, parameters in selects:
            connection.exec_driver_sql(statement, parameters).all()


async def measure(
    engine: Engine, rulebook: Rulebook, folder: Path, requests: int
) -> dict[str, Figures]:
    with Session(engine, expire_on_commit=False) as session:
        users = UserService(session)
        users.ensure_demo_users()
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        tokens = {
            user: auth.open_session(users.get(user), SessionKind.BEARER)[0]
            for user in ("alice", "sam")
        }
    client = await connect("127.0.0.1:1", "default", codec=None, lazy=True)  # never called
    app = create_app(
        Settings(task_queue="bench-cases", data_dir=folder),
        engine=engine,
        client=client,
        rulebook=rulebook,
    )
    results = {shape.name: Figures() for shape in SHAPES}
    selects: dict[str, list[tuple[str, Any]]] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

        async def call(shape: Shape) -> None:
            headers = {"Authorization": f"Bearer {tokens[shape.user]}"}
            response = await http.get(shape.path, params=shape.params, headers=headers)
            assert response.status_code == 200, response.text

        for shape in SHAPES:  # warm up, and capture the SQL the endpoint runs
            with Captured(engine) as captured:
                await call(shape)
            assert captured.selects, f"{shape.name}: no SELECT on tasks seen"
            selects[shape.name] = captured.selects
            for _ in range(3):
                await call(shape)
                run_raw(engine, captured.selects)
        for _ in range(requests):  # interleaved, so drift hits both the same
            for shape in SHAPES:
                start = time.perf_counter()
                await call(shape)
                results[shape.name].api.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                run_raw(engine, selects[shape.name])
                results[shape.name].raw.append((time.perf_counter() - start) * 1000)
    return results


async def bench_database(
    name: str,
    engines: Callable[[Path], Any],
    data: Generated,
    parked: list[dict[str, Any]],
    rulebook: Rulebook,
    requests: int,
) -> None:
    with tempfile.TemporaryDirectory() as tmp, engines(Path(tmp)) as engine:
        migrate(engine)
        start = time.perf_counter()
        fill(engine, data, parked)
        maintain(engine)
        open_tasks = sum(1 for task in data.tasks if task["status"] == "open")
        mine = sum(1 for t in data.tasks if t["status"] == "open" and t["assignee"] == "alice")
        print(
            f"{name}: {len(data.cases):,} cases, {open_tasks:,} open tasks ({mine:,} alice's), "
            f"{len(parked):,} follow-up dates; loaded in {time.perf_counter() - start:.0f} s; "
            f"{requests} requests per shape"
        )
        report(name, await measure(engine, rulebook, Path(tmp), requests))


def run(data: Generated, rulebook: Rulebook, database: str, requests: int) -> None:
    parked = follow_ups(data, datetime.now(UTC))
    databases = {"sqlite": sqlite_engine, "postgresql": postgres_engine}
    for name, engines in databases.items():
        if database in (name, "both"):
            asyncio.run(bench_database(name, engines, data, parked, rulebook, requests))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--cases", type=int, default=100_000)
    options.add_argument("--requests", type=int, default=100, help="per query shape")
    options.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = options.parse_args()
    logging.disable(logging.CRITICAL)
    rulebook = Rulebook.load()
    data = generate(args.cases, rulebook, datetime.now(UTC))
    print("task worklists GET /api/v1/tasks/mine, /tasks/queue, /tasks")
    run(data, rulebook, args.database, args.requests)


if __name__ == "__main__":
    main()
