"""The dashboard from the summaries (the projection keeps the cases', triggers the claims')
equals, KPI by KPI, row by row and CSV byte by byte, the dashboard computed the old way from
every case and claim (tests/db/dashboard_oracle): after cases move between summary rows and
claims change or go, after stale and repeated projections, and after migration 0027 builds
a database projected before the summaries existed; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

import tests.analytics_history
from db.dashboard_summary import FACTS, SUMMARY, refresh_dashboard
from db.engine import alembic_config, migrate
from db.models import CaseEventRow, CaseRow, RemittanceClaimRow
from domain.case import Actor, Role
from services.analytics import AnalyticsService, Dashboard, Period, Section, to_csv
from services.audit import AuditService
from testkit.dashboard_oracle import old_dashboard
from tests.analytics_history import History
from tests.db.test_projection import root_cause_v4, triaged_v2, write

SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
TODAY = datetime.now(UTC).date()
YEAR = 2003
OUTCOMES = [None, None, None, "recovered", "partially_recovered", "written_off",
            "lost_to_deadline", "transferred_to_patient", "cancelled"]  # fmt: skip
CATEGORIES = [None, "authorization", "coding", "eligibility", "medical_necessity"]
CARCS = ["", "CO-197", "CO-4", "CO-27", "CO-50"]
NPIS = ["", "1111111111", "2222222222", "3333333333"]
PERIODS = [
    (date(YEAR, 3, 1), date(YEAR, 5, 29)),  # 90 days
    (date(YEAR, 1, 1), date(YEAR, 12, 31)),  # the whole year
    (date(YEAR, 6, 15), date(YEAR, 6, 15)),  # one day
    (date(YEAR, 2, 14), date(YEAR, 7, 9)),  # days, whole months, days
    (date(YEAR - 1, 1, 1), date(YEAR - 1, 3, 31)),  # nothing in it
]


def seed(engine: Engine, rng: random.Random, cases: int = 160) -> tuple[History, list[str]]:
    """Claims and cases of every kind: open and closed, each outcome, appealed or not, with
    and without a category, CARC, NPI, human action or deadline; claims adjudicated or not."""
    history = History(engine)
    payers = [history.payer(name) for name in ("ACME", "BETA", "GAMMA")]
    claim_ids: dict[str, list[str]] = {payer: [] for payer in payers}
    made = 0  # History numbers its claims C1, C2, ...
    for payer in payers:
        for month in range(1, 13):
            count = rng.randrange(1, 8)
            billed = f"{rng.randrange(50, 900)}.{rng.randrange(100):02d}"
            day = date(YEAR, month, rng.randrange(1, 28))
            history.claims(payer, day, count, rng.randrange(count + 1), billed, rng.choice(NPIS))
            claim_ids[payer] += [f"C{n}" for n in range(made + 1, made + count + 1)]
            made += count
    ids = []
    for n in range(cases):
        payer = rng.choice(payers)
        outcome = rng.choice(OUTCOMES)
        denied = Decimal(f"{rng.randrange(10, 3000)}.{rng.randrange(100):02d}")
        recovered = Decimal(0)
        if outcome in ("recovered", "partially_recovered"):
            recovered = rng.choice([denied, denied / 2, Decimal(0), denied + 5]).quantize(
                Decimal("0.01")
            )
        closes = outcome is not None
        racing = not closes and rng.random() < 0.6
        ids.append(
            history.case(
                n,
                payer,
                date(YEAR, 1, 1) + timedelta(days=rng.randrange(365)),
                str(denied),
                category=rng.choice(CATEGORIES),
                carc=rng.choice(CARCS),
                npi=rng.choice(NPIS),
                outcome=outcome,
                recovered=str(recovered),
                first_action_days=rng.choice([None, rng.random() * 20, 3.5]),
                closed_days=rng.random() * 90 if closes else None,
                appealed=rng.random() < 0.4,
                next_deadline=TODAY + timedelta(days=rng.randrange(-20, 90)) if racing else None,
                claim_id=rng.choice([*claim_ids[payer][:20], "NOT-ADJUDICATED"]),
                deadlines=[
                    TODAY + timedelta(days=rng.randrange(-40, 70)) for _ in range(rng.randrange(3))
                ]
                if not racing
                else (),
            )
        )
    return history, ids


def new_dashboard(engine: Engine, since: date, until: date) -> Dashboard:
    with Session(engine) as session:
        return AnalyticsService(session, AuditService(session)).dashboard(
            Period(since=since, until=until), SAM
        )


def assert_same_as_before(engine: Engine) -> None:
    for since, until in PERIODS:
        board = new_dashboard(engine, since, until)
        with Session(engine) as session:
            expected = old_dashboard(session, Period(since=since, until=until))
        assert board.model_dump() == expected.model_dump(), (since, until)
        for section in Section:
            with Session(engine) as session:
                service = AnalyticsService(session, AuditService(session))
                text = service.csv(Period(since=since, until=until), section, SAM)
            old = list(getattr(expected, section.value))
            columns = text.split("\r\n", 1)[0].split(",")
            assert text == to_csv(old, columns), (section, since, until)


def summary_rows(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as session:
        rows = session.execute(select(SUMMARY).order_by(*SUMMARY.primary_key.columns)).all()
    return [tuple(row) for row in rows if row.cases]


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    migrate(empty_engine)
    return empty_engine


def test_summaries_give_the_old_dashboard(engine: Engine) -> None:
    seed(engine, random.Random(20))
    board = new_dashboard(engine, *PERIODS[1])
    assert sum(row.denials for row in board.by_category) > 50  # the comparison is not empty
    assert all(kpi.value is not None for kpi in board.kpis)
    assert sum(row.cases for row in board.at_risk) > 10
    assert_same_as_before(engine)


def test_cases_moving_between_rows_leave_no_trace_in_the_old_ones(engine: Engine) -> None:
    rng = random.Random(21)
    _, ids = seed(engine, rng, cases=80)
    before = summary_rows(engine)
    refresh_dashboard_in(engine, ids)  # nothing changed: nothing moves
    assert summary_rows(engine) == before
    with Session(engine) as session:
        for case_id in rng.sample(ids, 40):
            change = rng.choice(
                [
                    {"category": rng.choice(CATEGORIES[1:])},
                    {"carc": "CO-96", "provider_npi": "4444444444"},
                    {"denied_on": date(YEAR, rng.randrange(1, 13), 3)},
                    {"denied_amount": Decimal("77.70")},
                    {
                        "status": "closed",
                        "outcome": "written_off",
                        "closed_at": datetime(YEAR + 1, 1, 1, tzinfo=UTC),
                    },
                    {"status": "closed", "outcome": "cancelled"},
                    {
                        "status": "awaiting_payer",
                        "outcome": None,
                        "closed_at": None,
                        "next_deadline": TODAY + timedelta(days=9),
                    },
                    {"recovered_amount": Decimal("5.00")},
                ]
            )
            session.execute(update(CaseRow).where(CaseRow.case_id == case_id).values(**change))
            if rng.random() < 0.3:  # an earlier human action, and an appeal
                for seq, kind in ((90, "note_added"), (91, "appeal_submitted")):
                    session.add(
                        CaseEventRow(
                            event_id=f"{case_id}:{seq}",
                            case_id=case_id,
                            seq=seq,
                            at=datetime(YEAR - 1, 12, 31, tzinfo=UTC),
                            type=kind,
                            actor="bob",
                            message=kind,
                        )
                    )
            session.flush()
            refresh_dashboard(session, [case_id])
        # Claims re-dated, turned denials (or back), and removed: their summary follows.
        claims = RemittanceClaimRow.claim_id
        session.execute(
            update(RemittanceClaimRow)
            .where(col(claims).in_(["C1", "C2", "C3"]))
            .values(is_denial=~col(RemittanceClaimRow.is_denial), remittance_date=date(YEAR, 4, 1))
        )
        session.execute(delete(RemittanceClaimRow).where(col(claims).in_(["C4", "C9"])))
        session.commit()
    assert_same_as_before(engine)
    after = summary_rows(engine)
    refresh_dashboard_in(engine, ids)  # again: idempotent
    assert summary_rows(engine) == after


def refresh_dashboard_in(engine: Engine, ids: list[str]) -> None:
    with Session(engine) as session:
        refresh_dashboard(session, ids)
        session.commit()


def test_stale_and_repeated_projections_count_a_case_once(engine: Engine) -> None:
    case_id = "dash-case-1"
    newer = root_cause_v4(case_id)
    write(engine, newer, newer.pending_events)
    counted = summary_rows(engine)
    write(engine, triaged_v2(case_id), triaged_v2(case_id).pending_events)  # late
    write(engine, newer, newer.pending_events)  # repeated
    assert summary_rows(engine) == counted
    assert sum(row[4] for row in counted if row[0] == "category") == 1  # type: ignore[misc]
    day = newer.record.claim.remittance_date or TODAY
    board = new_dashboard(engine, day, day)
    assert [(row.key, row.denials) for row in board.by_category] == [("medical_necessity", 1)]
    action = {kpi.name: kpi for kpi in board.kpis}["days_to_first_action"]
    assert action.value == pytest.approx(3 / 1440)  # alice confirmed triage 3 minutes in
    assert_same_as_before(engine)


def test_migration_backfills_cases_projected_before_it(
    empty_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cases projected without their facts and sums (as before migration 0021), seeded on
    # today's schema; then back to 0026 and up again: 0027 counts every case.
    migrate(empty_engine)
    monkeypatch.setattr(tests.analytics_history, "refresh_dashboard", lambda *_: None)
    seed(empty_engine, random.Random(22), cases=60)
    assert summary_rows(empty_engine) == []
    command.downgrade(alembic_config(empty_engine), "0026")
    migrate(empty_engine)
    assert sum(row.denials for row in new_dashboard(empty_engine, *PERIODS[1]).by_category) > 20
    assert_same_as_before(empty_engine)


def test_a_write_off_counts_by_its_claim_adjudicated_that_day_while_that_claim_stays(
    engine: Engine,
) -> None:
    """A case whose claim was adjudicated on its denial day counts its write-off without a
    look for the claim; when that claim is changed or removed it is looked for again, and a
    claim recorded after the case's projection is found by the look."""
    history = History(engine)
    payer = history.payer("ACME")
    day = date(YEAR, 4, 10)  # in PERIODS[0] and [1]
    late = history.case(4, payer, day, "100.00", outcome="written_off", closed_days=5,
                        claim_id="C4")  # fmt: skip
    history.claims(payer, day, 4, 4, "100.00")  # C1-C4, C4 after its case's projection
    ids = [
        history.case(
            n, payer, day, "100.00", outcome="written_off", closed_days=5, claim_id=f"C{n}"
        )
        for n in (1, 2, 3)
    ]

    def flags() -> list[bool]:
        with Session(engine) as session:
            rows = session.execute(
                select(FACTS.c.adjudicated_that_day).where(FACTS.c.case_id.in_([*ids, late]))
                .order_by(FACTS.c.case_id)
            )  # fmt: skip
            return [bool(flag) for flag in rows.scalars()]

    def written_off() -> float | None:
        kpi = {kpi.name: kpi for kpi in new_dashboard(engine, *PERIODS[0]).kpis}
        return kpi["write_off_rate"].numerator

    assert flags() == [True, True, True, False]
    assert written_off() == 400
    assert_same_as_before(engine)
    with Session(engine) as session:
        session.execute(delete(RemittanceClaimRow).where(RemittanceClaimRow.claim_id == "C1"))
        session.execute(
            update(RemittanceClaimRow)
            .where(RemittanceClaimRow.claim_id == "C2")
            .values(remittance_date=date(YEAR, 10, 27))  # out of PERIODS[0], in [1]
        )
        session.commit()
    assert flags() == [False, False, True, False]
    assert written_off() == 200
    assert_same_as_before(engine)
