"""The task worklists (GET /api/v1/tasks/mine, /tasks/queue, /tasks) with 100,000 cases in the
read model, on SQLite and on PostgreSQL, over HTTP (uvicorn on a real socket), beside the
same SELECTs each request ran (captured with their parameters) executed again on a DBAPI
cursor in the same run (bench/http_bench.py).

The rows are bench/worklist.py's (1-2 open tasks per open case, a third of them assigned to
one of 25 billers), and about 3 % of the open cases carry a follow-up date that parks them
(some in the past: those cases are back). Target: p95 <= 25 ms per query shape, >= 200
samples each, as for the case list. Run by bench/worklist.py after the case list; alone:
python -m bench.task_lists.
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

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.http import create_app
from app.settings import Settings
from bench.http_bench import (
    FLOOR_PATH,
    MIN_SAMPLES,
    Answer,
    Captured,
    Figures,
    RawRunner,
    RemoteClient,
    load,
    report,
    served,
)
from bench.worklist import Generated, generate, maintain, postgres_engine, sqlite_engine
from db.engine import migrate
from db.models import CaseRow, TaskRow
from db.work_management import CaseFollowUpRow
from denials.temporal import connect
from domain.rulebook import Rulebook
from domain.worklist import WorkView
from services.auth import AuthService, SessionKind
from services.keyset import ordering
from services.task_order import task_cursor, task_order
from services.users import UserService

PARKED_SHARE = 0.03


@dataclass(frozen=True)
class Shape:
    name: str
    user: str
    path: str
    params: dict[str, str]


def shapes(engine: Engine, depth: int) -> list[Shape]:
    """The worklists as billers and supervisors open them, and a page `depth` tasks into all
    open tasks (by cursor, as Next links hold it)."""
    _, order = task_order(WorkView.ALL, by_deadline=False)
    with Session(engine) as session:
        task = session.exec(
            select(TaskRow)
            .where(col(TaskRow.status) == "open")
            .order_by(*ordering(order))
            .offset(depth)
            .limit(1)
        ).one()
    deep = task_cursor("risk", task, None, before=False)
    return [
        Shape("mine (alice), actionable", "alice", "/api/v1/tasks/mine", {}),
        Shape("mine (alice), waiting", "alice", "/api/v1/tasks/mine", {"view": "waiting"}),
        Shape("mine (alice), parked", "alice", "/api/v1/tasks/mine", {"view": "parked"}),
        Shape("queue (biller, unassigned)", "alice", "/api/v1/tasks/queue", {}),
        Shape("all open tasks (sam)", "sam", "/api/v1/tasks", {}),
        Shape(f"all open, cursor {depth:,} in", "sam", "/api/v1/tasks", {"cursor": deep}),
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


def reads_tasks(statement: str) -> bool:
    return " tasks " in statement or "FROM tasks" in statement


def measure(
    engine: Engine, rulebook: Rulebook, folder: Path, shape_list: list[Shape], requests: int
) -> tuple[dict[str, Figures], list[Answer]]:
    with Session(engine, expire_on_commit=False) as session:
        users = UserService(session)
        users.ensure_demo_users()
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        tokens = {
            user: auth.open_session(users.get(user), SessionKind.BEARER)[0]
            for user in ("alice", "sam")
        }
    # Never called: the worklists read the database only.
    client = asyncio.run(connect("127.0.0.1:1", "default", codec=None, lazy=True))
    app = create_app(
        Settings(task_queue="bench-cases", data_dir=folder),
        engine=engine,
        client=client,
        rulebook=rulebook,
        resume_ingests=False,
    )
    results = {shape.name: Figures() for shape in shape_list}
    floor: list[Answer] = []
    raw = RawRunner(engine)
    with served(app) as base, RemoteClient(base) as http:

        def call(shape: Shape, captured: Captured) -> Answer:
            captured.selects.clear()
            headers = {"Authorization": f"Bearer {tokens[shape.user]}"}
            response = http.get(shape.path, params=shape.params, headers=headers)
            assert response.status_code == 200, response.text
            return response

        with Captured(engine, reads_tasks) as captured:
            for shape in shape_list:  # warm up
                for _ in range(4):
                    call(shape, captured)
                    assert captured.selects, f"{shape.name}: no SELECT on tasks seen"
                    raw.run(captured.selects)
            for _ in range(requests):  # interleaved, so drift hits both the same
                for shape in shape_list:
                    answer = call(shape, captured)
                    results[shape.name].add(answer, raw.run(captured.selects))
                headers = {"Authorization": f"Bearer {tokens['sam']}"}
                answer = http.get(FLOOR_PATH, headers=headers)
                assert answer.status_code == 200, answer.text
                floor.append(answer)
    raw.close()
    return results, floor


def bench_database(
    name: str,
    engines: Callable[[Path], Any],
    data: Generated,
    parked: list[dict[str, Any]],
    rulebook: Rulebook,
    requests: int,
    depth: int,
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
            f"{requests} requests per shape over HTTP; {load()}"
        )
        shape_list = shapes(engine, depth)
        results, floor = measure(engine, rulebook, Path(tmp), shape_list, requests)
        print(f"  measured; {load()}")
        report(name, results, floor)


def run(
    data: Generated, rulebook: Rulebook, database: str, requests: int, depth: int = 20_000
) -> None:
    parked = follow_ups(data, datetime.now(UTC))
    databases = {"sqlite": sqlite_engine, "postgresql": postgres_engine}
    for name, engines in databases.items():
        if database in (name, "both"):
            bench_database(name, engines, data, parked, rulebook, requests, depth)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--cases", type=int, default=100_000)
    options.add_argument("--requests", type=int, default=MIN_SAMPLES, help="per query shape")
    options.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    options.add_argument("--depth", type=int, default=20_000, help="tasks in, for the cursor")
    args = options.parse_args()
    logging.disable(logging.CRITICAL)
    rulebook = Rulebook.load()
    data = generate(args.cases, rulebook, datetime.now(UTC))
    print("task worklists GET /api/v1/tasks/mine, /tasks/queue, /tasks")
    run(data, rulebook, args.database, args.requests, args.depth)


if __name__ == "__main__":
    main()
