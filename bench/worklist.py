"""The worklist list endpoint (GET /api/v1/cases) with 100,000 cases in the read model, on SQLite
and on PostgreSQL, over HTTP (uvicorn on a real socket, a bearer token for the supervisor sam),
beside the baseline measured in the same run: the very statements each request ran (the
bounded count and the page's), with its parameters, executed again on a DBAPI cursor.

Target: p95 <= 25 ms per query shape, >= 200 samples each; each line gives the median and p95
of both, their ratio and MET or MISSES, and the load average before and after (the machine may
be shared). The read model is filled with bulk inserts of realistic rows (statuses,
categories, payers, assignees, deadlines, priorities, a ~5.5 kB state document per case, 1-2
open tasks per open case), after the migrations and then ANALYZE / VACUUM. Every shape's query
plans follow (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL). The PostgreSQL
database is a temporary one on 127.0.0.1:5432 (user postgres), dropped afterwards; SQLite is a
temporary file.

Then the task worklists (My tasks, the team queue) on the same rows: bench/task_lists.py.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.http import create_app
from app.settings import Settings
from bench.databases import scratch_postgres
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
from db.case_search import CaseSearchRow
from db.engine import make_engine, migrate
from db.models import CaseRow, TaskRow
from denials.temporal import connect
from domain.case import (
    CasePolicy,
    CaseState,
    CaseStatus,
    Role,
    Task,
    TaskType,
    case_deadlines,
    path_deadline_key,
)
from domain.deadlines import days_left, deadline_instant
from domain.models import Category, PayerType
from domain.priority import priority_score
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind
from services.case_list import SORT_COLUMNS, cursor_at, page_statements
from services.case_search import named_users
from services.schemas import CaseFilters, CaseSort
from services.users import UserService
from testkit.records import adj, make_record

# A CARC per category: its real triaged state (classification, rule, deadlines, priority) is
# the template of the state document stored with every case of that category.
CATEGORY_CARCS = {
    Category.ELIGIBILITY: ("CO-27", 15),
    Category.MISSING_INFORMATION: ("CO-16", 15),
    Category.AUTHORIZATION: ("CO-197", 12),
    Category.CODING: ("CO-4", 12),
    Category.MEDICAL_NECESSITY: ("CO-50", 10),
    Category.COORDINATION_OF_BENEFITS: ("CO-22", 6),
    Category.DUPLICATE: ("CO-18", 6),
    Category.NON_COVERED: ("CO-96", 6),
    Category.TIMELY_FILING: ("CO-29", 5),
    Category.BUNDLING: ("CO-97", 5),
    Category.OTHER: ("CO-45", 3),
}
OPEN_STATUSES = {  # share of all cases; the rest (35 %) are closed
    CaseStatus.RECEIVED: 1,
    CaseStatus.TRIAGED: 15,
    CaseStatus.ROOT_CAUSE: 10,
    CaseStatus.CORRECTED_CLAIM: 8,
    CaseStatus.APPEAL: 10,
    CaseStatus.DUPLICATE_CHECK: 2,
    CaseStatus.WRITE_OFF_REVIEW: 4,
    CaseStatus.AWAITING_PAYER: 15,
}
CLOSED_SHARE = 35
OUTCOMES = {
    "recovered": 40,
    "partially_recovered": 10,
    "written_off": 22,
    "lost_to_deadline": 3,
    "closed_duplicate": 7,
    "transferred_to_patient": 12,
    "cancelled": 6,
}
# The open task(s) of a case in each status, after the completed ones before it.
STAGE_TASKS = {
    CaseStatus.RECEIVED: ([], []),
    CaseStatus.TRIAGED: ([], [TaskType.CONFIRM_TRIAGE]),
    CaseStatus.ROOT_CAUSE: ([TaskType.CONFIRM_TRIAGE], [TaskType.CONFIRM_ROOT_CAUSE]),
    CaseStatus.CORRECTED_CLAIM: (
        [TaskType.CONFIRM_TRIAGE, TaskType.CONFIRM_ROOT_CAUSE],
        [TaskType.PREPARE_CORRECTED_CLAIM],
    ),
    CaseStatus.APPEAL: (
        [TaskType.CONFIRM_TRIAGE, TaskType.CONFIRM_ROOT_CAUSE],
        [TaskType.PREPARE_APPEAL],
    ),
    CaseStatus.DUPLICATE_CHECK: (
        [TaskType.CONFIRM_TRIAGE, TaskType.CONFIRM_ROOT_CAUSE],
        [TaskType.RESOLVE_DUPLICATE],
    ),
    CaseStatus.WRITE_OFF_REVIEW: (
        [TaskType.CONFIRM_TRIAGE, TaskType.CONFIRM_ROOT_CAUSE],
        [TaskType.APPROVE_WRITE_OFF],
    ),
    CaseStatus.AWAITING_PAYER: (
        [TaskType.CONFIRM_TRIAGE, TaskType.CONFIRM_ROOT_CAUSE, TaskType.PREPARE_APPEAL],
        [TaskType.RECORD_PAYER_RESPONSE],
    ),
    CaseStatus.CLOSED: (
        [TaskType.CONFIRM_TRIAGE, TaskType.CONFIRM_ROOT_CAUSE, TaskType.PREPARE_APPEAL],
        [],
    ),
}
BILLERS = ["alice", "bob", *(f"biller{n:02d}" for n in range(3, 26))]


# --- Realistic rows -------------------------------------------------------------------------


def state_templates(rulebook: Rulebook, now: datetime) -> dict[Category, dict[str, Any]]:
    """The projected state document of a freshly triaged case, one per category."""
    today = now.date()
    templates = {}
    for category, (code, _) in CATEGORY_CARCS.items():
        record = make_record(today, adjustments=[adj(code, 800)], billed=800)
        found = rulebook.classify(record)
        assert found.is_denial and found.category is category, (code, found.category)
        rule = rulebook.rule_for(record, today)
        state = CaseState(
            case_id="case-" + "0" * 24,
            record=record,
            policy=CasePolicy(),
            status=CaseStatus.TRIAGED,
            classification=found,
            category=found.category,
            denial_class=found.denial_class,
            suggested_path=found.suggested_path,
            rule=rule,
            priority_params=rulebook.priority_params,
            suggested_root_cause=rulebook.suggested_root_cause(found),
            created_at=now,
            updated_at=now,
        )
        state.deadlines = case_deadlines(state, rule)
        key = path_deadline_key(state.kind, found.suggested_path, 0, found.appeal_rights)
        deadline = state.deadline(key)
        state.priority = priority_score(
            denied_amount=state.denied_amount,
            category=found.category,
            path=found.suggested_path,
            days_left=days_left(deadline.due, today) if deadline else None,
            params=rulebook.priority_params,
        )
        state.tasks.append(
            Task(
                task_id=f"{state.case_id}-t1",
                type=TaskType.CONFIRM_TRIAGE,
                queue=Role.BILLER,
                created_at=now,
                due_at=deadline_instant(deadline.due, UTC) if deadline else now,
                deadline_key=deadline.key if deadline else None,
                last_touched_at=now,
            )
        )
        templates[category] = state.model_dump(mode="json", exclude={"events"})
    return templates


def staged_state(template: dict[str, Any], status: CaseStatus) -> dict[str, Any]:
    """The template grown by the tasks a case in `status` has had (the document gets longer)."""
    done, open_ = STAGE_TASKS[status]
    first = template["tasks"][0]
    tasks = [
        {**first, "task_id": f"t{n}", "type": t.value, "status": "completed", "assignee": "alice"}
        for n, t in enumerate(done, 1)
    ]
    tasks += [{**first, "task_id": f"t{len(tasks) + 1}", "type": t.value} for t in open_]
    return {**template, "status": status.value, "tasks": tasks}


@dataclass
class Payer:
    payer_id: str
    name: str
    type: PayerType


def payers(rng: random.Random) -> tuple[list[Payer], list[float]]:
    types = [PayerType.MEDICARE] * 3 + [PayerType.MEDICAID] * 5 + [PayerType.MEDICARE_ADVANTAGE] * 8
    types += [PayerType.COMMERCIAL] * 20 + [PayerType.OTHER] * 4
    found = [Payer(f"PYR{n:03d}", f"Payer {n:03d} Health Plan", t) for n, t in enumerate(types)]
    rng.shuffle(found)
    return found, [1 / (rank + 1) ** 0.9 for rank in range(len(found))]  # Zipf-like volumes


@dataclass
class Generated:
    cases: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (category, payer) of open cases
    search: list[dict[str, Any]] = field(default_factory=list)  # case_search rows
    patients: list[tuple[str, str]] = field(default_factory=list)  # (name, member id) per case


def generate(count: int, rulebook: Rulebook, now: datetime, seed: int = 1) -> Generated:
    rng = random.Random(seed)
    today = now.date()
    templates = state_templates(rulebook, now)
    staged = {
        (category, status): staged_state(template, status)
        for category, template in templates.items()
        for status in STAGE_TASKS
    }
    all_payers, payer_weights = payers(rng)
    categories = list(CATEGORY_CARCS)
    category_weights = [weight for _, weight in CATEGORY_CARCS.values()]
    statuses = [*OPEN_STATUSES, CaseStatus.CLOSED]
    status_weights = [*OPEN_STATUSES.values(), CLOSED_SHARE]
    biller_weights = [1.0 + rng.random() for _ in BILLERS]
    outcomes, outcome_weights = list(OUTCOMES), list(OUTCOMES.values())
    profiles = rulebook.priority_params.expected_recovery
    out = Generated()
    for _ in range(count):
        case_id = "case-" + uuid.UUID(int=rng.getrandbits(128)).hex[:24]
        category = rng.choices(categories, category_weights)[0]
        status = rng.choices(statuses, status_weights)[0]
        payer = rng.choices(all_payers, payer_weights)[0]
        created = now - timedelta(days=rng.uniform(0, 365), seconds=rng.randrange(86400))
        updated = min(now, created + timedelta(days=rng.uniform(0, 60)))
        denied = Decimal(round(min(rng.lognormvariate(5.7, 1.2), 250_000), 2)).quantize(
            Decimal("0.01")
        )
        paid = Decimal(0) if rng.random() < 0.85 else (denied / 3).quantize(Decimal("0.01"))
        closed = status is CaseStatus.CLOSED
        deadline: date | None = None
        if not closed and status is not CaseStatus.RECEIVED and rng.random() > 0.05:
            spread = (-10, 60) if status is CaseStatus.AWAITING_PAYER else (-3, 180)
            deadline = today + timedelta(days=rng.randint(*spread))
        left = days_left(deadline, today) if deadline else None
        escalation = (
            0 if left is None else 3 if left <= 2 else 2 if left <= 7 else 1 if left <= 14 else 0
        )
        urgency = 1.0 if left is None else 3.0 if left <= 7 else 2.0 if left <= 30 else 1.0
        priority = round(float(denied) * profiles.get(category, 0.3) * urgency / 2.0, 4)
        owner = None
        if status not in (CaseStatus.RECEIVED, CaseStatus.TRIAGED):
            owner = rng.choices(BILLERS, biller_weights)[0]
        done, open_types = STAGE_TASKS[status]
        if status is CaseStatus.AWAITING_PAYER and rng.random() < 0.4:
            open_types = [*open_types, TaskType.FOLLOW_UP_WITH_PAYER]
        supervisor_queue = escalation == 3 or (
            status is CaseStatus.WRITE_OFF_REVIEW and denied > 500
        )
        assignee = None if supervisor_queue or rng.random() < 0.08 else owner
        claim_id = f"PCN{rng.randrange(10**8):08d}"
        kind = rng.choices(["denial", "rejection", "reversal", "recoupment"], [88, 8, 2, 2])[0]
        out.claim_ids.append(claim_id)
        if not closed:
            out.pairs.append((category.value, payer.payer_id))
        out.cases.append(
            {
                "case_id": case_id,
                "version": rng.randint(3, 40),
                "kind": kind,
                "sequence": 1,
                "status": status.value,
                "outcome": rng.choices(outcomes, outcome_weights)[0] if closed else None,
                "category": category.value,
                "denial_class": "soft" if rng.random() < 0.8 else "hard",
                "path": None if status in (CaseStatus.RECEIVED, CaseStatus.TRIAGED) else "appeal",
                "payer_id": payer.payer_id,
                "payer_name": payer.name,
                "payer_type": payer.type.value,
                "claim_id": claim_id,
                "payer_claim_control_number": ""
                if kind == "rejection"
                else f"{rng.randrange(10**13):013d}",
                "provider_npi": f"1{rng.randrange(10**9):09d}",
                "service_date_from": created.date() - timedelta(days=rng.randint(20, 120)),
                "service_date_to": None,
                "remittance_date": created.date(),
                "denied_on": created.date(),  # as projected: the remittance date
                "billed_amount": denied + paid,
                "paid_amount": paid,
                "denied_amount": denied,
                "recovered_amount": denied if closed and rng.random() < 0.4 else Decimal(0),
                "appeal_level": 1
                if status in (CaseStatus.APPEAL, CaseStatus.AWAITING_PAYER)
                else 0,
                "next_deadline": deadline,
                "next_deadline_kind": "appeal:1" if deadline else None,
                "priority": priority,
                "assignee": assignee,
                "owner": owner,
                "escalation": escalation,
                "stalled": not closed and rng.random() < 0.05,
                "source": f"remit-{created.date().isoformat()}.835",
                "created_at": created,
                "updated_at": updated,
                "closed_at": updated if closed else None,
                "state": staged[category, status],
            }
        )
        for number, task_type in enumerate([*done, *open_types], 1):
            is_open = number > len(done)
            out.tasks.append(
                {
                    "task_id": f"{case_id}-t{number}",
                    "case_id": case_id,
                    "case_version": 1,
                    "type": task_type.value,
                    "status": "open" if is_open else "completed",
                    "queue": "supervisor" if is_open and supervisor_queue else "biller",
                    "assignee": assignee if is_open else None,
                    "priority": priority,
                    "appeal_level": None,
                    "deadline_key": "appeal:1" if deadline else None,
                    "deadline_due": deadline,
                    "escalation": escalation if is_open else 0,
                    "stalled": False,
                    "created_at": created,
                    "due_at": deadline_instant(deadline, UTC)
                    if deadline
                    else created + timedelta(7),
                    "last_touched_at": updated,
                    "completed_at": None if is_open else updated,
                    "completed_by": None if is_open else owner or "alice",
                }
            )
    return out


def fill(engine: Engine, data: Generated, batch: int = 2000) -> None:
    """Bulk inserts (executemany / insertmanyvalues), one transaction per table."""
    for model, rows in ((CaseRow, data.cases), (TaskRow, data.tasks), (CaseSearchRow, data.search)):
        table = model.__table__  # type: ignore[attr-defined]
        with engine.begin() as connection:
            for start in range(0, len(rows), batch):
                connection.execute(insert(table), rows[start : start + batch])


def maintain(engine: Engine) -> None:
    """What a DBA runs after a bulk load: statistics for the planner, and VACUUM."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "sqlite":
            connection.execute(text("VACUUM"))
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("VACUUM (ANALYZE)"))


# --- Query shapes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    name: str
    params: Callable[[random.Random], dict[str, str]]


def deep_cursor(engine: Engine, sort: CaseSort, descending: bool, depth: int) -> str:
    """The cursor of the page `depth` open cases into a sort (its first run: cases with a key),
    as a user paging on with Next would hold it."""
    key = SORT_COLUMNS[sort]
    ordering = [key.desc(), col(CaseRow.case_id).desc()] if descending else [key, CaseRow.case_id]
    with Session(engine) as session:
        row = session.exec(
            select(CaseRow)
            .where(col(CaseRow.status) != "closed", key.is_not(None))
            .order_by(*ordering)
            .offset(depth)
            .limit(1)
        ).one()
        filters = CaseFilters(sort=sort, descending=descending)
        return cursor_at(filters, row, before=False)


def shapes(engine: Engine, data: Generated, depth: int, search: bool) -> list[Shape]:
    from bench import case_search  # it imports this module

    by_priority = deep_cursor(engine, CaseSort.PRIORITY, True, depth)
    by_deadline = deep_cursor(engine, CaseSort.DEADLINE, False, depth)
    deadline = {"sort": "deadline", "descending": "false"}
    return [
        Shape("open_only, priority desc", lambda r: {"open_only": "true"}),
        Shape("assignee=alice", lambda r: {"assignee": "alice"}),
        Shape(
            "category + payer_id",
            lambda r: dict(zip(("category", "payer_id"), r.choice(data.pairs), strict=True)),
        ),
        Shape("q=claim number start", lambda r: {"q": r.choice(data.claim_ids)[:8]}),
        Shape("open_only, deadline asc", lambda r: {"open_only": "true", **deadline}),
        Shape(
            f"open_only, priority, cursor {depth:,} in",
            lambda r: {"open_only": "true", "cursor": by_priority},
        ),
        Shape(
            f"open_only, deadline, cursor {depth:,} in",
            lambda r: {"open_only": "true", "cursor": by_deadline, **deadline},
        ),
        *(case_search.shapes(data) if search else []),
    ]


def list_sql(engine: Engine, filters: CaseFilters) -> list[str]:
    """The statements the list may run for these filters, as the driver gets them."""
    with Session(engine) as session:
        count, pages = page_statements(filters, named_users(session, filters))
    return [
        str(statement.compile(engine, compile_kwargs={"render_postcompile": True}))
        for statement in (count, *pages)
    ]


def reads_cases(statement: str) -> bool:
    return "FROM cases" in statement


def measure(
    engine: Engine, rulebook: Rulebook, folder: Path, shape_list: list[Shape], requests: int
) -> tuple[dict[str, Figures], dict[str, list[str]], list[Answer]]:
    """HTTP p50/p95 per shape beside the same statements on a DBAPI cursor, interleaved so
    that the machine's load hits both alike; and each shape's query plans."""
    with Session(engine, expire_on_commit=False) as session:
        users = UserService(session)
        users.ensure_demo_users()
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        token, _ = auth.open_session(users.get("sam"), SessionKind.BEARER)
    # Never called: the list reads the database only.
    client = asyncio.run(connect("127.0.0.1:1", "default", codec=None, lazy=True))
    settings = Settings(task_queue="bench-cases", data_dir=folder)
    app = create_app(
        settings, engine=engine, client=client, rulebook=rulebook, resume_ingests=False
    )
    headers = {"Authorization": f"Bearer {token}"}
    results = {shape.name: Figures() for shape in shape_list}
    plans: dict[str, list[str]] = {}
    floor: list[Answer] = []
    rng = random.Random(7)
    raw = RawRunner(engine)
    with served(app) as base, RemoteClient(base, headers) as http:

        def call(params: dict[str, str], captured: Captured) -> Answer:
            captured.selects.clear()
            response = http.get("/api/v1/cases", params=params)
            assert response.status_code == 200, response.text
            return response

        with Captured(engine, reads_cases) as captured:
            for shape in shape_list:  # warm up; the baseline is the endpoint's own SQL
                params = shape.params(rng)
                call(params, captured)
                expected = list_sql(engine, CaseFilters.model_validate(params))
                for statement, _ in captured.selects:
                    assert statement in expected, f"{shape.name}: unexpected SQL\n{statement}"
                plans[shape.name] = raw.explain(captured.selects)
                for _ in range(3):
                    call(params, captured)
                    raw.run(captured.selects)
            for _ in range(requests):
                for shape in shape_list:
                    answer = call(shape.params(rng), captured)
                    results[shape.name].add(answer, raw.run(captured.selects))
                answer = http.get(FLOOR_PATH)
                assert answer.status_code == 200, answer.text
                floor.append(answer)
    raw.close()
    return results, plans, floor


# --- Databases ----------------------------------------------------------------------------------


@contextmanager
def sqlite_engine(folder: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{folder / 'denials.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def postgres_engine(_: Path) -> Iterator[Engine]:
    with scratch_postgres() as engine:
        yield engine


def bench_database(
    name: str,
    engines: Callable[[Path], AbstractContextManager[Engine]],
    data: Generated,
    rulebook: Rulebook,
    args: argparse.Namespace,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with engines(folder) as engine:
            migrate(engine)
            start = time.perf_counter()
            fill(engine, data)
            filled = time.perf_counter() - start
            start = time.perf_counter()
            maintain(engine)
            maintained = time.perf_counter() - start
            open_cases = sum(1 for row in data.cases if row["status"] != "closed")
            print(
                f"{name}: {len(data.cases):,} cases ({open_cases:,} open), {len(data.tasks):,} "
                f"tasks; bulk insert {filled:.0f} s, VACUUM + ANALYZE {maintained:.0f} s; "
                f"{args.requests} requests per shape over HTTP; {load()}"
            )
            shape_list = shapes(engine, data, args.depth, args.search)
            results, plans, floor = measure(engine, rulebook, folder, shape_list, args.requests)
            print(f"  measured; {load()}")
            report(name, results, floor)
            if args.explain:
                for shape in shape_list:
                    print(f"  plan of '{shape.name}':")
                    print("\n".join(plans[shape.name]))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--cases", type=int, default=100_000)
    options.add_argument("--requests", type=int, default=MIN_SAMPLES, help="per query shape")
    options.add_argument("--depth", type=int, default=30_000, help="rows in, for the cursors")
    options.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    options.add_argument("--search", action="store_true", help="the case search's shapes too")
    options.add_argument("--no-explain", dest="explain", action="store_false")
    options.add_argument("--no-tasks", dest="tasks", action="store_false")
    args = options.parse_args()
    logging.disable(logging.CRITICAL)
    rulebook = Rulebook.load()
    start = time.perf_counter()
    data = generate(args.cases, rulebook, datetime.now(UTC))
    from bench.case_search import add_search_rows  # it imports this module

    add_search_rows(data)
    print(f"worklist GET /api/v1/cases; rows generated in {time.perf_counter() - start:.0f} s")
    databases = {"sqlite": sqlite_engine, "postgresql": postgres_engine}
    for name, engines in databases.items():
        if args.database in (name, "both"):
            bench_database(name, engines, data, rulebook, args)
    if args.tasks:  # the task worklists (My tasks, the team queue) on the same rows
        from bench import task_lists  # it imports this module

        print("task worklists GET /api/v1/tasks/mine, /tasks/queue, /tasks")
        task_lists.run(data, rulebook, args.database, args.requests)


if __name__ == "__main__":
    main()
