"""Deadline arithmetic per payer type, computed from the shipped payer rules registry."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from domain.case import next_appeal_problem
from domain.deadlines import (
    Deadline,
    DeadlineExtension,
    DeadlineKind,
    add_months,
    appeal_deadline,
    apply_extensions,
    corrected_claim_deadline,
    deadline_instant,
    due_day,
    expected_decision,
    initial_deadlines,
    local_day,
    time_zone,
    timely_filing_deadline,
)
from domain.models import Claim, ClaimType, DenialKind, Payer, PayerType
from domain.payer_rules import PayerRule, PayerRuleRegistry, load_registry
from domain.rulebook import Rulebook
from edi.parser import parse_bytes

AS_OF = date(2025, 6, 1)
X12 = Path(__file__).resolve().parents[1] / "data" / "x12"


@pytest.fixture(scope="module")
def registry() -> PayerRuleRegistry:
    return load_registry()


def rule(registry: PayerRuleRegistry, payer_type: PayerType, payer_id: str = "ANY") -> PayerRule:
    return registry.rule_for(payer_id, payer_type, AS_OF)


def make_claim(
    *,
    payer_type: PayerType = PayerType.MEDICARE,
    claim_type: ClaimType = ClaimType.PROFESSIONAL,
    dos_from: date = date(2025, 3, 10),
    dos_to: date | None = None,
    remittance: date | None = date(2025, 4, 1),
) -> Claim:
    return Claim(
        claim_id="PCN-DEADLINE",
        payer=Payer(payer_id="P-TEST", type=payer_type),
        claim_type=claim_type,
        service_date_from=dos_from,
        service_date_to=dos_to,
        billed_amount=Decimal(500),
        remittance_date=remittance,
    )


# --- timely filing ----------------------------------------------------------------------------


def test_medicare_timely_filing_professional_counts_from_the_from_date(
    registry: PayerRuleRegistry,
) -> None:
    """Medicare: 12 months from the service from-date for a professional claim."""
    claim = make_claim(dos_from=date(2025, 3, 10), dos_to=date(2025, 3, 20))
    deadline = timely_filing_deadline(rule(registry, PayerType.MEDICARE), claim)
    assert deadline.kind is DeadlineKind.TIMELY_FILING
    assert deadline.due == date(2026, 3, 10)
    assert deadline.basis == "12 months from the service from date 2025-03-10"
    assert deadline.rule_id == "medicare-ffs"


def test_medicare_timely_filing_institutional_counts_from_the_through_date(
    registry: PayerRuleRegistry,
) -> None:
    """Medicare: 12 months from the service through-date for an institutional claim."""
    claim = make_claim(
        claim_type=ClaimType.INSTITUTIONAL, dos_from=date(2025, 3, 10), dos_to=date(2025, 3, 20)
    )
    deadline = timely_filing_deadline(rule(registry, PayerType.MEDICARE), claim)
    assert deadline.due == date(2026, 3, 20)
    assert deadline.basis == "12 months from the service through date 2025-03-20"


def test_institutional_without_through_date_uses_the_from_date(
    registry: PayerRuleRegistry,
) -> None:
    """An institutional claim with a single date of service counts from it."""
    claim = make_claim(claim_type=ClaimType.INSTITUTIONAL, dos_from=date(2025, 3, 10))
    assert timely_filing_deadline(rule(registry, PayerType.MEDICARE), claim).due == date(
        2026, 3, 10
    )


def test_leap_day_plus_twelve_months_is_feb_28(registry: PayerRuleRegistry) -> None:
    """29 Feb 2024 + 12 months = 28 Feb 2025 (clamped, not 1 March)."""
    claim = make_claim(dos_from=date(2024, 2, 29))
    assert timely_filing_deadline(rule(registry, PayerType.MEDICARE), claim).due == date(
        2025, 2, 28
    )


def test_commercial_timely_filing_is_90_days(registry: PayerRuleRegistry) -> None:
    """Commercial default: 90 days from the date of service."""
    claim = make_claim(payer_type=PayerType.COMMERCIAL, dos_from=date(2025, 3, 10))
    deadline = timely_filing_deadline(rule(registry, PayerType.COMMERCIAL), claim)
    assert deadline.due == date(2025, 6, 8)
    assert deadline.basis == "90 days from the service from date 2025-03-10"


# --- appeal level 1 per payer type --------------------------------------------------------------


@pytest.mark.parametrize(
    ("remittance", "due"),
    [
        (date(2024, 1, 20), date(2024, 5, 24)),  # crosses 29 Feb 2024
        (date(2023, 1, 20), date(2023, 5, 25)),  # same dates, no leap day
    ],
    ids=["leap-2024", "common-2023"],
)
def test_medicare_level_1_is_remittance_plus_5_plus_120_days(
    remittance: date, due: date, registry: PayerRuleRegistry
) -> None:
    """Medicare redetermination: 120 days from presumed receipt (remittance + 5 days)."""
    deadline = appeal_deadline(rule(registry, PayerType.MEDICARE), 1, remittance)
    assert deadline is not None
    assert deadline.kind is DeadlineKind.APPEAL
    assert deadline.level == 1
    assert deadline.due == due
    assert deadline.basis == (
        f"120 days from the remittance {remittance.isoformat()} + 5 days presumed receipt"
    )
    assert deadline.key == "appeal:1"
    assert deadline.label == "Appeal level 1"


def test_medicare_advantage_level_1_is_60_days(registry: PayerRuleRegistry) -> None:
    """Medicare Advantage plan reconsideration: 60 days (shipped with 5 days presumed receipt)."""
    ma = rule(registry, PayerType.MEDICARE_ADVANTAGE)
    assert ma.appeal_level(1) is not None
    assert ma.appeal_level(1).filing_days == 60  # type: ignore[union-attr]
    deadline = appeal_deadline(ma, 1, date(2025, 3, 1))
    assert deadline is not None
    assert deadline.due == date(2025, 5, 5)  # 1 Mar + 5 = 6 Mar, + 60 days


def test_medicaid_level_1_is_60_days_without_presumed_receipt(
    registry: PayerRuleRegistry,
) -> None:
    """Medicaid: 60 days counted from the remittance date itself."""
    deadline = appeal_deadline(rule(registry, PayerType.MEDICAID), 1, date(2025, 3, 1))
    assert deadline is not None
    assert deadline.due == date(2025, 4, 30)
    assert deadline.basis == "60 days from the remittance 2025-03-01"


def test_commercial_level_1_is_180_days(registry: PayerRuleRegistry) -> None:
    """Commercial default (ERISA): 180 days from the remittance."""
    deadline = appeal_deadline(rule(registry, PayerType.COMMERCIAL), 1, date(2025, 3, 1))
    assert deadline is not None
    assert deadline.due == date(2025, 8, 28)
    assert deadline.rule_id == "commercial-erisa"


def test_unitedhealthcare_override_is_65_days_and_inherits_timely_filing(
    registry: PayerRuleRegistry,
) -> None:
    """Payer id 87726 uses its own 65-day window; based_on keeps the commercial 90-day filing."""
    uhc = registry.rule_for("87726", PayerType.COMMERCIAL, AS_OF)
    assert uhc.id == "unitedhealthcare"
    deadline = appeal_deadline(uhc, 1, date(2025, 3, 1))
    assert deadline is not None
    assert deadline.due == date(2025, 5, 5)
    assert deadline.basis == "65 days from the remittance 2025-03-01"
    claim = make_claim(payer_type=PayerType.COMMERCIAL, dos_from=date(2025, 3, 10))
    assert timely_filing_deadline(uhc, claim).due == date(2025, 6, 8)
    assert uhc.timely_filing.days == 90
    assert corrected_claim_deadline(uhc, date(2025, 3, 1)).due == date(2025, 8, 28)


# --- the Medicare appeal chain ------------------------------------------------------------------


def test_medicare_five_level_chain_counts_from_each_previous_decision(
    registry: PayerRuleRegistry,
) -> None:
    """Each level's filing deadline counts from the previous decision (+5 days receipt)."""
    medicare = rule(registry, PayerType.MEDICARE)
    disputed = Decimal(5000)
    notices = {
        1: date(2025, 1, 10),  # remittance
        2: date(2025, 4, 1),  # level 1 decision
        3: date(2025, 8, 1),  # level 2 decision
        4: date(2025, 11, 3),  # level 3 decision
        5: date(2026, 2, 2),  # level 4 decision
    }
    expected = {
        1: date(2025, 5, 15),  # 15 Jan + 120
        2: date(2025, 10, 3),  # 6 Apr + 180
        3: date(2025, 10, 5),  # 6 Aug + 60
        4: date(2026, 1, 7),  # 8 Nov + 60
        5: date(2026, 4, 8),  # 7 Feb + 60
    }
    for level, notice in notices.items():
        deadline = appeal_deadline(medicare, level, notice)
        assert deadline is not None
        assert deadline.due == expected[level], level
        if level > 1:
            assert f"from the level {level - 1} decision {notice.isoformat()}" in deadline.basis
            assert next_appeal_problem(medicare, level, disputed, notice, notice) is None


def test_medicare_level_3_needs_190_in_dispute(registry: PayerRuleRegistry) -> None:
    """ALJ hearing: at least $190 in dispute."""
    medicare = rule(registry, PayerType.MEDICARE)
    decided = date(2025, 8, 1)
    problem = next_appeal_problem(medicare, 3, Decimal("189.99"), decided, decided)
    assert problem == (
        "level 3 (ALJ hearing) needs at least $190 in dispute; this case has $189.99"
    )
    assert next_appeal_problem(medicare, 3, Decimal(190), decided, decided) is None


def test_medicare_level_5_needs_1900_in_dispute(registry: PayerRuleRegistry) -> None:
    """Federal court: at least $1,900 in dispute."""
    medicare = rule(registry, PayerType.MEDICARE)
    decided = date(2026, 2, 2)
    problem = next_appeal_problem(medicare, 5, Decimal(1899), decided, decided)
    assert problem is not None
    assert "needs at least $1900 in dispute" in problem
    assert next_appeal_problem(medicare, 5, Decimal(1900), decided, decided) is None


def test_medicare_has_no_level_6(registry: PayerRuleRegistry) -> None:
    """After federal court the appeals are exhausted."""
    medicare = rule(registry, PayerType.MEDICARE)
    assert appeal_deadline(medicare, 6, date(2026, 5, 1)) is None
    assert next_appeal_problem(medicare, 6, Decimal(10**6), date(2026, 5, 1), date(2026, 5, 1)) == (
        "no appeal level 6 for this payer (medicare-ffs): appeals exhausted"
    )


def test_next_level_filing_deadline_passed(registry: PayerRuleRegistry) -> None:
    """An upheld decision answered after the next level's window cannot go on."""
    medicare = rule(registry, PayerType.MEDICARE)
    decided = date(2025, 4, 1)  # level 2 due 2025-10-03
    assert next_appeal_problem(medicare, 2, Decimal(0), decided, date(2025, 10, 3)) is None
    assert next_appeal_problem(medicare, 2, Decimal(0), decided, date(2025, 10, 4)) == (
        "the level 2 filing deadline passed on 2025-10-03"
    )


@pytest.mark.parametrize(
    ("level", "days"),
    [(None, 30), (1, 60), (2, 60), (3, 90), (4, 90), (5, None), (6, None)],
)
def test_medicare_expected_decision_per_level(
    level: int | None, days: int | None, registry: PayerRuleRegistry
) -> None:
    """Decision time frames: corrected claim 30, levels 1-2 60, levels 3-4 90, court none."""
    submitted = date(2025, 5, 1)
    decision = expected_decision(rule(registry, PayerType.MEDICARE), submitted, level)
    if days is None:
        assert decision is None
        return
    assert decision is not None
    assert decision.kind is DeadlineKind.PAYER_DECISION
    assert decision.level == level
    assert (decision.due - submitted).days == days
    what = "corrected claim" if level is None else f"level {level} appeal"
    assert decision.basis == f"{days} days from submission of the {what} on 2025-05-01"


# --- deadlines when a case opens ----------------------------------------------------------------


def test_initial_deadlines_for_a_rejection_is_timely_filing_only(
    registry: PayerRuleRegistry,
) -> None:
    """A rejected claim was never filed: only timely filing governs it."""
    claim = make_claim(payer_type=PayerType.COMMERCIAL, remittance=None)
    deadlines = initial_deadlines(
        rule(registry, PayerType.COMMERCIAL), claim, DenialKind.REJECTION, date(2025, 4, 1), False
    )
    assert [(d.kind, d.due) for d in deadlines] == [(DeadlineKind.TIMELY_FILING, date(2025, 6, 8))]


def test_initial_deadlines_for_a_denial(registry: PayerRuleRegistry) -> None:
    """A denial: timely filing, corrected-claim window and level-1 appeal from the remittance."""
    claim = make_claim(dos_from=date(2025, 3, 10), remittance=date(2025, 4, 1))
    deadlines = initial_deadlines(
        rule(registry, PayerType.MEDICARE), claim, DenialKind.DENIAL, date(2025, 4, 20), True
    )
    assert [(d.key, d.due) for d in deadlines] == [
        ("timely_filing", date(2026, 3, 10)),
        ("corrected_claim", date(2026, 4, 1)),
        ("appeal:1", date(2025, 8, 4)),  # 6 Apr + 120
    ]


def test_initial_deadlines_without_appeal_rights_or_remittance(
    registry: PayerRuleRegistry,
) -> None:
    """No appeal rights -> no appeal deadline; no remittance date -> counted from received_on."""
    claim = make_claim(payer_type=PayerType.MEDICAID, remittance=None)
    deadlines = initial_deadlines(
        rule(registry, PayerType.MEDICAID), claim, DenialKind.DENIAL, date(2025, 4, 20), False
    )
    assert [(d.key, d.due) for d in deadlines] == [
        ("timely_filing", date(2026, 3, 10)),
        ("corrected_claim", date(2025, 10, 17)),  # 20 Apr + 180 days
    ]


def test_rejection_timely_filing_counts_from_the_date_of_service_and_says_why(
    registry: PayerRuleRegistry,
) -> None:
    """A rejected claim is not filed (IOM 100-04 ch.1 s.70): its clock runs from the date of
    service, not from the rejection, and the basis says so."""
    claim = make_claim(dos_from=date(2025, 3, 10), remittance=date(2025, 9, 1))
    [deadline] = initial_deadlines(
        rule(registry, PayerType.MEDICARE), claim, DenialKind.REJECTION, date(2025, 9, 2), False
    )
    assert deadline.due == date(2026, 3, 10)
    assert deadline.basis == (
        "12 months from the service from date 2025-03-10 (a rejected claim is not filed: the "
        "clock runs from the date of service)"
    )


def test_rejection_with_unknown_service_date_says_its_deadline_is_later_than_the_real_one(
    registry: PayerRuleRegistry,
) -> None:
    """A 999 names no date of service: its date stands in, so the deadline counted from it is
    the latest the real one can be. The date stays (an earlier guess could lose the case to a
    deadline not passed); the basis says it is later than the real one and what fixes it."""
    ack_date = date(2026, 3, 2)
    claim = make_claim(payer_type=PayerType.OTHER, dos_from=ack_date, remittance=ack_date)
    [deadline] = initial_deadlines(
        rule(registry, PayerType.OTHER),
        claim,
        DenialKind.REJECTION,
        ack_date,
        False,
        service_date_known=False,
    )
    assert deadline.due == date(2026, 5, 31)
    assert deadline.basis == (
        "service date unknown: 90 days from the acknowledgment date 2026-03-02, so the real "
        "deadline (90 days from the date of service) is earlier; link the 837 or enter the "
        "service date"
    )


def test_277ca_rejection_counts_from_the_service_date_it_reports(rulebook: Rulebook) -> None:
    """A 277CA carries the service date (DTP*472): its rejection's timely filing counts from it
    (2009-03-11), not from the 277CA's date (2011-03-11)."""
    raw = (X12 / "imsweb__x12_277CA_rejected.277").read_bytes()
    [case] = parse_bytes("rejected.277", raw, rulebook).cases
    claim = case.record.claim
    payer_rule = rulebook.rule_for(case.record, claim.remittance_date or AS_OF)
    [deadline] = initial_deadlines(
        payer_rule, claim, case.record.kind, date(2011, 3, 14), case.classification.appeal_rights
    )
    assert (claim.service_date_from, claim.remittance_date) == (
        date(2009, 3, 11),
        date(2011, 3, 11),
    )
    assert deadline.due == date(2009, 6, 9)  # 90 days (payer type other)
    assert deadline.basis.startswith("90 days from the service through date 2009-03-11 (a rejected")


# --- weekends and holidays ------------------------------------------------------------------------


def rolling(registry: PayerRuleRegistry, payer_type: PayerType = PayerType.COMMERCIAL) -> PayerRule:
    return rule(registry, payer_type).model_copy(update={"rolls_to_business_day": True})


def test_deadlines_do_not_roll_over_weekends_by_default(registry: PayerRuleRegistry) -> None:
    """No shipped rule rolls: 90 days from 4 Oct 2026 is Saturday 2 Jan 2027, due that day."""
    claim = make_claim(payer_type=PayerType.COMMERCIAL, dos_from=date(2026, 10, 4))
    assert [r.id for r in registry.rules if r.rolls_to_business_day] == []
    deadline = timely_filing_deadline(rule(registry, PayerType.COMMERCIAL), claim)
    assert deadline.due == date(2027, 1, 2)
    assert deadline.basis == "90 days from the service from date 2026-10-04"


def test_a_rule_that_rolls_moves_a_saturday_deadline_to_monday(
    registry: PayerRuleRegistry,
) -> None:
    claim = make_claim(payer_type=PayerType.COMMERCIAL, dos_from=date(2026, 10, 4))
    deadline = timely_filing_deadline(rolling(registry), claim)
    assert deadline.due == date(2027, 1, 4)
    assert deadline.basis == (
        "90 days from the service from date 2026-10-04: falls on Saturday 2027-01-02; this "
        "payer's rule moves it to Monday 2027-01-04"
    )


@pytest.mark.parametrize(
    ("due", "moved", "closed"),
    [
        (date(2026, 11, 26), date(2026, 11, 27), "Thursday (Thanksgiving Day)"),
        # Observed holidays count: New Year's Day 2028 is a Saturday, observed Friday 31 Dec.
        (date(2027, 12, 31), date(2028, 1, 3), "Friday (New Year's Day (observed))"),
        # Christmas 2027 is a Saturday, observed Friday 24 Dec: three closed days in a row.
        (date(2027, 12, 24), date(2027, 12, 27), "Friday (Christmas Day (observed))"),
        (date(2027, 1, 3), date(2027, 1, 4), "Sunday"),
    ],
)
def test_a_rule_that_rolls_skips_us_federal_holidays(
    due: date, moved: date, closed: str, registry: PayerRuleRegistry
) -> None:
    """Corrected-claim windows roll like every filing deadline (here 180 days commercial)."""
    deadline = corrected_claim_deadline(rolling(registry), due - timedelta(days=180))
    assert deadline.due == moved
    assert deadline.basis.endswith(
        f": falls on {closed} {due.isoformat()}; this payer's rule moves it to "
        f"{moved.strftime('%A')} {moved.isoformat()}"
    )


def test_a_rule_that_rolls_leaves_business_days_and_payer_decisions_alone(
    registry: PayerRuleRegistry,
) -> None:
    """A deadline on a business day stays; so does a payer's expected decision (when to
    follow up, not a filing), even on a Sunday."""
    rolls = rolling(registry, PayerType.MEDICAID)
    on_friday = appeal_deadline(rolls, 1, date(2026, 11, 27) - timedelta(days=60))
    assert on_friday is not None
    assert on_friday.due == date(2026, 11, 27)
    assert on_friday.basis == "60 days from the remittance 2026-09-28"
    decision = expected_decision(rolls, date(2027, 1, 3) - timedelta(days=30), 1)
    assert decision is not None
    assert decision.due == date(2027, 1, 3)  # a Sunday


def test_a_rule_that_rolls_moves_appeal_deadlines_after_presumed_receipt(
    registry: PayerRuleRegistry,
) -> None:
    """Medicare level 1: 2 Jan 2027 is remittance 30 Aug 2026 + 5 days receipt + 120 days."""
    deadline = appeal_deadline(rolling(registry, PayerType.MEDICARE), 1, date(2026, 8, 30))
    assert deadline is not None
    assert deadline.due == date(2027, 1, 4)
    assert deadline.basis == (
        "120 days from the remittance 2026-08-30 + 5 days presumed receipt: falls on Saturday "
        "2027-01-02; this payer's rule moves it to Monday 2027-01-04"
    )


# --- extensions, instants, months ---------------------------------------------------------------


def _deadline(kind: DeadlineKind, due: date, level: int | None = None) -> Deadline:
    return Deadline(kind=kind, due=due, level=level, basis="base", rule_id="r", source="s")


def test_apply_extensions_latest_wins_and_explains() -> None:
    """The last extension recorded for a deadline replaces its date and says why and what was."""
    deadlines = [
        _deadline(DeadlineKind.APPEAL, date(2025, 5, 1), level=1),
        _deadline(DeadlineKind.CORRECTED_CLAIM, date(2025, 6, 1)),
    ]
    extensions = [
        DeadlineExtension(
            kind=DeadlineKind.APPEAL,
            level=1,
            new_due=date(2025, 5, 20),
            reason="payer agreed",
            recorded_by="sam",
        ),
        DeadlineExtension(
            kind=DeadlineKind.APPEAL,
            level=2,
            new_due=date(2025, 9, 1),
            reason="other level",
            recorded_by="sam",
        ),
        DeadlineExtension(
            kind=DeadlineKind.APPEAL,
            level=1,
            new_due=date(2025, 5, 15),
            reason="good cause",
            recorded_by="sam",
        ),
    ]
    appeal, corrected = apply_extensions(deadlines, extensions)
    assert appeal.due == date(2025, 5, 15)
    assert appeal.basis == "extended to 2025-05-15: good cause (was 2025-05-01, base)"
    assert corrected == deadlines[1]
    assert deadlines[0].due == date(2025, 5, 1)  # inputs are not mutated


def test_deadline_instant_is_midnight_utc_after_the_due_date() -> None:
    """A due date lasts the whole day and passes at the next midnight UTC."""
    assert deadline_instant(date(2025, 3, 10), UTC) == datetime(2025, 3, 11, tzinfo=UTC)
    assert deadline_instant(date(2024, 12, 31), UTC) == datetime(2025, 1, 1, tzinfo=UTC)
    assert deadline_instant(date(2024, 2, 28), UTC) == datetime(2024, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 5, 17), 0, date(2025, 5, 17)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    """Calendar months, clamped to the last day of the target month."""
    assert add_months(start, months) == expected


def test_due_day_is_the_inverse_of_deadline_instant() -> None:
    """A task due at the midnight that ends a deadline day is due on that day; an instant
    during a day is due on that day."""
    due = date(2026, 12, 28)
    assert due_day(deadline_instant(due, UTC), UTC) == due
    assert due_day(datetime(2026, 12, 28, 9, 30, tzinfo=UTC), UTC) == due
    five_behind = timezone(timedelta(hours=-5))
    assert due_day(datetime(2026, 12, 28, 23, 30, tzinfo=five_behind), UTC) == date(2026, 12, 29)
    assert due_day(datetime(2026, 12, 28, 23, 30, tzinfo=five_behind), five_behind) == due


LOS_ANGELES = time_zone("America/Los_Angeles")


@pytest.mark.parametrize(
    ("due", "ends_at_utc"),
    [
        (date(2026, 1, 15), datetime(2026, 1, 16, 8, tzinfo=UTC)),  # PST, UTC-8
        (date(2026, 7, 15), datetime(2026, 7, 16, 7, tzinfo=UTC)),  # PDT, UTC-7
        (date(2026, 3, 7), datetime(2026, 3, 8, 8, tzinfo=UTC)),  # the night clocks go forward
        (date(2026, 10, 31), datetime(2026, 11, 1, 7, tzinfo=UTC)),  # the night they go back
    ],
)
def test_a_deadline_day_ends_at_local_midnight(due: date, ends_at_utc: datetime) -> None:
    """In Los Angeles a deadline day ends at its midnight (07:00 or 08:00 UTC next day), not
    at 16:00-17:00 local when UTC's day ends."""
    assert deadline_instant(due, LOS_ANGELES) == ends_at_utc
    assert due_day(ends_at_utc, LOS_ANGELES) == due
    five_pm = datetime.combine(due, time(17), tzinfo=LOS_ANGELES)
    assert five_pm < deadline_instant(due, LOS_ANGELES)
    assert local_day(five_pm, LOS_ANGELES) == due
    assert local_day(five_pm, UTC) == due + timedelta(days=1)


def test_unknown_time_zone_is_named() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        time_zone("Mars/Olympus")
    assert time_zone("UTC") is UTC
