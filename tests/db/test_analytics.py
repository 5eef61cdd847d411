"""KPIs, breakdowns, root cause patterns and prevention effectiveness over a seeded read model,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from activities.triage import TriageActivities
from db.models import PreventionTaskRow
from db.patterns import category_denials, pattern_tallies
from domain.case import Actor, Role
from domain.models import DenialRecord, Payer, PayerType
from domain.root_cause import DenialFact, PatternTally, PatternThresholds
from domain.rulebook import Rulebook
from services.analytics import AnalyticsService, Dashboard, Period, Section
from services.audit import AuditService
from services.payer_rules import PayerRuleStore
from services.prevention import PreventionService
from testkit.records import adj, make_claim
from tests.analytics_history import (
    History,
    period,
    seed_known_history,
    seed_remittance_history,
)
from workflows.messages import TriageRequest

SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
TODAY = datetime.now(UTC).date()


def dashboard(engine: Engine, year: int) -> Dashboard:
    since, until = period(year)
    with Session(engine) as session:
        return AnalyticsService(session, AuditService(session)).dashboard(
            Period(since=since, until=until), SAM
        )


def test_seeded_history_gives_exact_kpis(engine: Engine) -> None:
    history = seed_known_history(engine, TODAY, 2001)
    board = dashboard(engine, 2001)
    kpis = {kpi.name: kpi for kpi in board.kpis}

    rate = kpis["initial_denial_rate"]
    assert (rate.numerator, rate.denominator) == (5, 30)
    assert rate.value == pytest.approx(5 / 30) and rate.target == 0.05 and rate.met is False
    overturn = kpis["overturn_rate"]
    assert (overturn.numerator, overturn.denominator) == (2, 3) and overturn.met is True
    write_off = kpis["write_off_rate"]  # 1000 + (800 - 300) + 600 given up of 25,000 charged
    assert (write_off.numerator, write_off.denominator) == (2100, 25000)
    assert write_off.value == pytest.approx(0.084) and write_off.met is False
    assert kpis["days_to_first_action"].value == pytest.approx(5.0)  # median of 2, 4, 6, 10
    assert kpis["days_to_first_action"].met is True
    assert kpis["days_to_resolution"].value == pytest.approx(45.0)  # of 30, 40, 50, 60
    assert kpis["days_to_resolution"].met is None  # no published target

    assert [(r.key, r.denials, r.dollars) for r in board.by_category] == [
        ("authorization", 3, Decimal(2400)),
        ("coding", 1, Decimal(800)),
        ("eligibility", 1, Decimal(600)),
    ]
    assert [round(r.cumulative_share, 4) for r in board.by_category] == [0.6316, 0.8421, 1.0]
    assert [r.key for r in board.by_carc] == ["CO-197", "CO-4", "CO-27"]
    a, b = history.payer("ACME"), history.payer("BETA")
    assert [(r.key, r.month, r.claims, r.denials, r.dollars) for r in board.by_payer_month] == [
        (a, "2001-03", 20, 4, Decimal(3400)),
        (b, "2001-04", 10, 1, Decimal(400)),
    ]
    assert board.by_payer_month[0].denial_rate == pytest.approx(0.2)
    providers = {r.key: (r.denials, r.dollars) for r in board.by_provider}
    assert providers["1111111111"] == (0, Decimal(2000))  # the claims carry no NPI here
    assert providers["2222222222"] == (0, Decimal(1400))
    open_buckets = {r.bucket: r for r in board.at_risk}
    assert open_buckets["0-7 days"].cases >= 1  # the shared database may hold other open cases


def at_risk(engine: Engine) -> dict[str, tuple[int, Decimal]]:
    return {row.bucket: (row.cases, row.dollars) for row in dashboard(engine, 2003).at_risk}


def test_kpis_of_remittances_as_payers_send_them(engine: Engine) -> None:
    """A remittance sent twice, a reversal, late payments after write-offs, a transfer to the
    patient, an appeal closed "recovered" with nothing paid, a demo case, and open cases past
    their deadlines: each KPI figure as computed by hand (see seed_remittance_history)."""
    before = at_risk(engine)  # the shared database may hold other open cases
    seed_remittance_history(engine, TODAY, 2003)
    board = dashboard(engine, 2003)
    kpis = {kpi.name: kpi for kpi in board.kpis}

    # T1 counted once: A1-A5, both A6; T2: A4 again (not its reversal), B1, B2.
    rate = kpis["initial_denial_rate"]
    assert (rate.numerator, rate.denominator, rate.measure) == (6, 10, "count")
    assert rate.value == pytest.approx(0.6)
    # Appealed and closed: A1 (paid), A3 (to the patient), A6 ("recovered", nothing paid).
    overturn = kpis["overturn_rate"]
    assert (overturn.numerator, overturn.denominator) == (1, 3)
    # Given up: A2 800 - 300 paid late, B2 500 lost; A4 was paid in full late; the demo
    # case's 900 is not against these charges: 3600 (T1) + 1900 (T2).
    write_off = kpis["write_off_rate"]
    assert (write_off.numerator, write_off.denominator, write_off.measure) == (
        1000,
        5500,
        "dollars",
    )
    assert write_off.value == pytest.approx(1000 / 5500) and write_off.met is False
    assert kpis["days_to_first_action"].value == pytest.approx(6.0)  # of 1, 3, 5, 7, 9, 11
    assert kpis["days_to_resolution"].value == pytest.approx(50.0)  # of 20, 30, ..., 80

    after = at_risk(engine)
    added = {
        bucket: (after[bucket][0] - cases, after[bucket][1] - dollars)
        for bucket, (cases, dollars) in before.items()
    }
    assert added == {
        "overdue": (2, Decimal(320)),
        "0-7 days": (1, Decimal(200)),
        "8-14 days": (1, Decimal(60)),
        "15-30 days": (0, Decimal(0)),
        "31-60 days": (0, Decimal(0)),
        "over 60 days": (0, Decimal(0)),
        "no deadline": (1, Decimal(150)),
    }


def test_csv_export_has_a_header_and_one_line_per_row(engine: Engine) -> None:
    seed_known_history(engine, TODAY, 2002)
    since, until = period(2002)
    with Session(engine) as session:
        text = AnalyticsService(session, AuditService(session)).csv(
            Period(since=since, until=until), Section.BY_CATEGORY, SAM
        )
    lines = text.splitlines()
    assert lines[0] == "key,denials,dollars,share,cumulative_share"
    assert lines[1].startswith("authorization,3,2400.00,0.63")
    assert len(lines) == 4


def triage(engine: Engine, rulebook: Rulebook, payer_id: str, on: date) -> object:
    activities = TriageActivities(
        rulebook,
        PayerRuleStore(engine, rulebook.payer_rules_file),
        engine,
        PatternThresholds(window_days=90, payer_carc=5, provider_carc=3, procedure_payer=4),
    )
    payer = Payer(payer_id=payer_id, name="Pattern Payer", type=PayerType.COMMERCIAL)
    claim = make_claim(on, payer=payer, adjustments=[adj("CO-197", 1000)], remit_days_ago=0)
    claim = claim.model_copy(update={"provider_npi": "9999999999"})
    result = activities.triage_case(TriageRequest(record=DenialRecord(claim=claim), received_on=on))
    return result.suggested_root_cause


def test_pattern_above_threshold_is_detected_and_below_is_not(
    engine: Engine, rulebook: Rulebook
) -> None:
    history = History(engine)
    often, rarely = history.payer("OFTEN"), history.payer("RARELY")
    on = date(2011, 6, 1)  # a year no other history uses
    for n in range(4):  # with the new denial: 5, the payer + CARC threshold
        history.case(n, often, on - timedelta(days=10 * n), "100", npi=f"{n}", procedure=f"P{n}")
    history.case(9, often, on - timedelta(days=120), "100", npi="9", procedure="P9")  # too old
    for n in range(10, 13):  # 4 with the new denial
        history.case(n, rarely, on - timedelta(days=5), "100", npi=f"{n}", procedure=f"P{n}")

    found = triage(engine, rulebook, often, on)
    assert found.pattern is True
    assert found.pattern_key == f"payer_carc|{often}|CO-197"
    assert found.evidence.startswith("pattern: 5 denials in 90 days for payer")
    alone = triage(engine, rulebook, rarely, on)
    assert alone.pattern is False and alone.pattern_key is None
    assert alone.evidence.startswith("one-off")


def test_pattern_tallies_count_only_the_window_and_the_pattern(engine: Engine) -> None:
    """The database counts, per candidate pattern, the other denials reported in the window:
    not the current case itself, not one reported later, not a cancelled case, not another
    payer's (for the payer patterns), with their dollars."""
    history = History(engine)
    payer, other = history.payer("TALLY"), history.payer("ELSEWHERE")
    on = date(2013, 3, 1)  # a year no other history uses
    history.case(0, payer, on, "100")  # the current case, already projected
    history.case(1, payer, on - timedelta(days=1), "150")
    history.case(2, payer, on - timedelta(days=89), "250", npi="2222222222", procedure="1")
    history.case(3, payer, on + timedelta(days=1), "999")  # reported after the current one
    history.case(4, payer, on - timedelta(days=3), "999", outcome="cancelled")
    history.case(5, other, on - timedelta(days=2), "75")  # same NPI + CARC, other payer
    current = DenialFact(
        case_id=f"case-{history.tag}-0",
        payer_id=payer,
        provider_npi="1111111111",
        carc="CO-197",
        procedure_code="70553",
        denied_amount=Decimal(100),
        denied_on=on,
    )
    with Session(engine) as session:
        tallies = pattern_tallies(session, current, on - timedelta(days=90), on)
    assert tallies == {
        f"procedure_payer|70553|{payer}": PatternTally(count=1, dollars=Decimal(150)),
        "provider_carc|1111111111|CO-197": PatternTally(count=2, dollars=Decimal(225)),
        f"payer_carc|{payer}|CO-197": PatternTally(count=2, dollars=Decimal(400)),
    }


def test_done_prevention_item_shows_the_recurrence_change(engine: Engine) -> None:
    history = History(engine)
    payer = history.payer("FIXED")
    done_on = date(2012, 6, 1)  # a year no other history uses
    # Before: 4 of 10 claims denied with the pattern; after: 1 of 10.
    history.claims(payer, done_on - timedelta(days=30), 10, 4, "100")
    history.claims(payer, done_on + timedelta(days=30), 10, 1, "100")
    for n in range(4):
        history.case(n, payer, done_on - timedelta(days=30), "100")
    history.case(4, payer, done_on + timedelta(days=30), "100")
    history.case(5, payer, done_on + timedelta(days=30), "100", carc="CO-16")  # other pattern
    now = datetime(2012, 5, 1, tzinfo=UTC)
    item_id = f"PV-{history.tag}"
    with Session(engine) as session:
        session.add(
            PreventionTaskRow(
                prevention_task_id=item_id,
                pattern_key=f"payer_carc|{payer}|CO-197",
                payer_id=payer,
                payer_name="FIXED",
                category="authorization",
                root_cause="CO-197: auth absent",
                owning_team="prior_authorization",
                recommended_action="Add it to the checklist.",
                status="done",
                created_at=now,
                updated_at=now,
                completed_at=datetime(2012, 6, 1, 9, tzinfo=UTC),
            )
        )
        session.commit()
        item = PreventionService(session, AuditService(session), window_days=90).get(item_id, SAM)

    assert item.pattern == "payer FIXED denying with CO-197"
    result = item.effectiveness
    assert result is not None
    assert (result.before.denials, result.before.claims) == (4, 10)
    assert (result.after.denials, result.after.claims) == (1, 10)
    assert result.before_rate == pytest.approx(0.4) and result.after_rate == pytest.approx(0.1)
    assert result.verdict == "improved"
    assert result.before.start == date(2012, 3, 3) and result.after.end == date(2012, 8, 29)


def test_category_denials_of_an_uncategorised_grouping(engine: Engine) -> None:
    """A prevention item grouped without a category measures the payer's uncategorised
    denials (not none at all, which would never give a verdict)."""
    history = History(engine)
    payer = history.payer("NOCAT")
    on = date(2014, 5, 1)  # a year no other history uses
    history.case(1, payer, on, "100", category=None)
    history.case(2, payer, on, "100", category="coding")
    with Session(engine) as session:
        counted = category_denials(session, payer, None, on - timedelta(days=1), on)
    assert counted == 1
