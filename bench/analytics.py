"""Root cause pattern lookup at triage and the denial dashboard, on a large read model.

Fills a temporary SQLite file (or, with --postgres, a temporary PostgreSQL database on
127.0.0.1:5432) with --cases denial cases over a year (payers, CARCs, NPIs, procedures, outcomes)
and 3x as many adjudicated 835 claims, then measures:

- triage with the pattern lookup (TriageActivities.triage_case reading the read model) against
  triage without it (the same activity with no engine), over the same 200 denials;
- the dashboard (GET /api/v1/metrics' service call, 90 days) against the bare SELECTs it runs.

Targets: the pattern lookup adds <= 20 ms at p95 to triage; the dashboard answers in <= 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from activities.triage import TriageActivities
from bench.databases import scratch_postgres
from db.analytics import claims_by_payer_month, claims_by_provider, denial_case_facts, open_cases
from db.engine import make_engine, migrate
from db.models import CaseRow, IngestFileRow, RemittanceClaimRow
from domain.case import Actor, Role
from domain.models import DenialRecord, Payer, PayerType, ServiceLine
from domain.rulebook import Rulebook
from services.analytics import AnalyticsService, Period
from services.audit import AuditService
from services.payer_rules import PayerRuleStore
from tests.factories import adj, make_claim
from workflows.messages import TriageRequest

TODAY = datetime.now(UTC).date()
PAYERS = [f"PAYER{n:02d}" for n in range(30)]
CARCS = ["CO-197", "CO-16", "CO-50", "CO-4", "CO-27", "CO-97", "CO-18", "CO-29", "CO-96"]
CATEGORIES = dict(
    zip(
        CARCS,
        ["authorization", "missing_information", "medical_necessity", "coding", "eligibility",
         "bundling", "duplicate", "timely_filing", "non_covered"],
        strict=True,
    )
)  # fmt: skip
NPIS = [f"{n:010d}" for n in range(1, 201)]
PROCEDURES = [f"{n:05d}" for n in range(99201, 99601)]
OUTCOMES = [None, None, "recovered", "partially_recovered", "written_off", "lost_to_deadline"]


def fill(engine: Engine, cases: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    sha = uuid.uuid4().hex * 2
    with Session(engine) as session:
        session.add(
            IngestFileRow(
                sha256=sha, filename="bench.835", size=0, kind="835", status="ingested",
                content=b"", received_by="bench", received_at=now,
            )
        )  # fmt: skip
        session.commit()
    case_rows: list[dict[str, Any]] = []
    for n in range(cases):
        carc = rng.choice(CARCS)
        denied_on = TODAY - timedelta(days=rng.randrange(365))
        outcome = rng.choice(OUTCOMES)
        denied = Decimal(rng.randrange(50, 5000))
        case_rows.append(
            {
                "case_id": f"bench-{n}", "version": 1, "kind": "denial", "sequence": 1,
                "status": "closed" if outcome else "awaiting_payer", "outcome": outcome,
                "category": CATEGORIES[carc], "payer_id": rng.choice(PAYERS), "payer_name": "",
                "payer_type": "commercial", "claim_id": f"C{n}", "payer_claim_control_number": "",
                "provider_npi": rng.choice(NPIS), "service_date_from": denied_on,
                "remittance_date": denied_on, "carc": carc,
                "procedure_code": rng.choice(PROCEDURES), "denied_on": denied_on,
                "billed_amount": denied, "paid_amount": Decimal(0), "denied_amount": denied,
                "recovered_amount": denied if outcome == "recovered" else Decimal(0),
                "appeal_level": 0, "priority": 0.0, "escalation": 0, "stalled": False,
                "source": "bench", "created_at": now, "updated_at": now,
                "closed_at": now if outcome else None,
                "next_deadline": None if outcome else TODAY + timedelta(days=rng.randrange(-5, 90)),
                "state": {},
            }
        )  # fmt: skip
    claim_rows = [
        {
            "row_id": f"{sha}:{n}", "file_sha256": sha, "payer_id": rng.choice(PAYERS),
            "payer_name": "", "claim_id": f"R{n}", "payer_claim_control_number": "",
            "claim_status": "1", "provider_npi": rng.choice(NPIS),
            "billed_amount": Decimal(rng.randrange(50, 5000)), "paid_amount": Decimal(0),
            "denied_amount": Decimal(0), "is_denial": rng.random() < 0.1, "category": None,
            "service_date": TODAY - timedelta(days=rng.randrange(365)),
            "remittance_date": TODAY - timedelta(days=rng.randrange(365)),
        }
        for n in range(cases * 3)
    ]  # fmt: skip
    with engine.begin() as connection:
        for start in range(0, len(case_rows), 5000):
            connection.execute(insert(CaseRow.__table__), case_rows[start : start + 5000])  # type: ignore[arg-type]
        for start in range(0, len(claim_rows), 5000):
            connection.execute(
                insert(RemittanceClaimRow.__table__),  # type: ignore[arg-type]
                claim_rows[start : start + 5000],
            )
        connection.execute(text("ANALYZE"))


def timings(run: Callable[[], object], repeat: int) -> list[float]:
    spent = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def show(name: str, spent: list[float]) -> float:
    p95 = statistics.quantiles(spent, n=20)[-1] if len(spent) >= 20 else max(spent)
    print(f"  {name:<44} p50 {statistics.median(spent):8.2f} ms   p95 {p95:8.2f} ms")
    return p95


@contextmanager
def database(postgres: bool) -> Iterator[Engine]:
    if not postgres:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            yield engine
            engine.dispose()
        return
    with scratch_postgres() as engine:
        yield engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    rulebook = Rulebook.load()
    with database(args.postgres) as engine:
        migrate(engine)
        started = time.perf_counter()
        fill(engine, args.cases, rng)
        print(
            f"{engine.dialect.name}: {args.cases:,} cases, {args.cases * 3:,} adjudicated claims "
            f"(filled in {time.perf_counter() - started:.1f} s)"
        )
        store = PayerRuleStore(engine, rulebook.payer_rules_file)
        with_patterns = TriageActivities(rulebook, store, engine)
        without = TriageActivities(rulebook, store)
        requests = []
        for _ in range(200):
            payer = Payer(payer_id=rng.choice(PAYERS), type=PayerType.COMMERCIAL)
            carc = rng.choice(CARCS)
            line = ServiceLine(
                line_number=1, procedure_code=rng.choice(PROCEDURES),
                billed_amount=Decimal(500), adjustments=[adj(carc, 500)],
            )  # fmt: skip
            claim = make_claim(TODAY, payer=payer, adjustments=[], lines=[line], billed=500)
            claim = claim.model_copy(update={"provider_npi": rng.choice(NPIS)})
            requests.append(TriageRequest(record=DenialRecord(claim=claim), received_on=TODAY))
        found = sum(with_patterns.triage_case(r).suggested_root_cause.pattern for r in requests)
        print(f"triage of 200 denials ({found} found to be patterns):")
        baseline = show("without pattern lookup (baseline)", timings_each(without, requests))
        measured = show("with pattern lookup", timings_each(with_patterns, requests))
        print(f"  pattern lookup adds {measured - baseline:.2f} ms at p95 (target <= 20 ms)")

        sam = Actor(user_id="sam", role=Role.SUPERVISOR)
        period = Period.of(None, None, 90)

        def bare_selects() -> None:
            with Session(engine) as session:
                claims_by_payer_month(session, period.since, period.until)
                claims_by_provider(session, period.since, period.until)
                denial_case_facts(session, period.since, period.until)
                open_cases(session)

        def dashboard() -> None:
            with Session(engine) as session:
                AnalyticsService(session, AuditService(session)).dashboard(period, sam)

        print("dashboard, last 90 days:")
        show("the SELECTs alone (baseline)", timings(bare_selects, 5))
        p95 = show("whole dashboard", timings(dashboard, 5))
        print(f"  dashboard p95 {p95 / 1000:.2f} s (target <= 2 s)")


def timings_each(activities: TriageActivities, requests: list[TriageRequest]) -> list[float]:
    spent = []
    for request in requests:
        start = time.perf_counter()
        activities.triage_case(request)
        spent.append((time.perf_counter() - start) * 1000)
    return spent


if __name__ == "__main__":
    main()
