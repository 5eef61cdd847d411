from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.effectiveness import RecurrenceWindow, comparison_windows, effectiveness
from domain.kpis import (
    AdjudicationRef,
    CaseTotals,
    ClaimFact,
    DenialGroup,
    OpenCase,
    adjudication_ids,
    at_risk_by_deadline,
    days,
    kpis,
    load_targets,
    median_of_middle,
    pareto,
)

TODAY = date(2026, 11, 1)


def case(
    deadline_in: int | None,
    denied: str = "100",
    recovered: str = "0",
    deadlines_in: tuple[int, ...] = (),
) -> OpenCase:
    return OpenCase(
        next_deadline=TODAY + timedelta(days=deadline_in) if deadline_in is not None else None,
        deadlines=tuple(TODAY + timedelta(days=days) for days in deadlines_in),
        unrecovered=Decimal(denied) - Decimal(recovered),
    )


def test_dollars_at_risk_fall_in_their_deadline_bucket() -> None:
    cases = [case(-1), case(0), case(7, recovered="40"), case(8), case(30), case(61, "250")]
    cases.append(case(None))
    buckets = {row.bucket: (row.cases, row.dollars) for row in at_risk_by_deadline(cases, TODAY)}
    assert buckets == {
        "overdue": (1, Decimal(100)),
        "0-7 days": (2, Decimal(160)),
        "8-14 days": (1, Decimal(100)),
        "15-30 days": (1, Decimal(100)),
        "31-60 days": (0, Decimal(0)),
        "over 60 days": (1, Decimal(250)),
        "no deadline": (1, Decimal(100)),
    }


def test_a_case_past_all_its_deadlines_is_overdue_not_without_deadline() -> None:
    """A case racing no deadline (next_deadline None) is at risk by its own deadlines: the
    next to come, else (all passed) overdue; "no deadline" only when it has none."""
    cases = [
        case(None, "250", deadlines_in=(-30, -10)),
        case(None, "100", recovered="40", deadlines_in=(-5, 10, 40)),
        case(None, "150"),
    ]
    buckets = {row.bucket: (row.cases, row.dollars) for row in at_risk_by_deadline(cases, TODAY)}
    assert buckets["overdue"] == (1, Decimal(250))
    assert buckets["8-14 days"] == (1, Decimal(60))
    assert buckets["no deadline"] == (1, Decimal(150))
    assert case(None, deadlines_in=(-1, 0)).deadline(TODAY) == TODAY  # due today: not passed
    assert case(3, deadlines_in=(-9,)).deadline(TODAY) == TODAY + timedelta(days=3)


def test_cases_racing_one_deadline_count_together() -> None:
    same_day = OpenCase(next_deadline=TODAY, cases=3, unrecovered=Decimal("12.50"))
    buckets = {
        row.bucket: (row.cases, row.dollars) for row in at_risk_by_deadline([same_day], TODAY)
    }
    assert buckets["0-7 days"] == (3, Decimal("12.50")) and buckets["overdue"] == (0, 0)


def test_kpis_take_the_case_totals_and_count_the_claims() -> None:
    claims = [ClaimFact(is_denial=False, count=9, billed_amount=Decimal(8000))]
    claims.append(ClaimFact(is_denial=True, count=1, billed_amount=Decimal(2000)))
    totals = CaseTotals(
        appealed_closed=4, overturned=1, given_up=Decimal(1300), days_to_first_action=2.5,
        days_to_resolution=None,
    )  # fmt: skip
    found = {kpi.name: kpi for kpi in kpis(claims, totals, load_targets())}
    assert (found["initial_denial_rate"].numerator, found["initial_denial_rate"].denominator) == (
        1,
        10,
    )
    overturn = found["overturn_rate"]
    assert (overturn.numerator, overturn.denominator, overturn.value) == (1, 4, 0.25)
    write_off = found["write_off_rate"]
    assert (write_off.numerator, write_off.denominator) == (1300, 10000)
    assert write_off.measure == "dollars" and found["initial_denial_rate"].measure == "count"
    assert found["days_to_first_action"].value == 2.5 and found["days_to_resolution"].value is None


def test_pareto_orders_by_dollars_then_denials_then_key() -> None:
    groups = [
        DenialGroup("b", "b", 1, Decimal(100)),
        DenialGroup("a", "a", 2, Decimal(100)),
        DenialGroup("c", "c", 5, Decimal(300)),
        DenialGroup("d", "d", 1, Decimal(100)),
    ]
    rows = pareto(groups)
    assert [row.key for row in rows] == ["c", "a", "b", "d"]
    assert [row.cumulative_share for row in rows] == [0.5, 4 / 6, 5 / 6, 1.0]


def test_median_of_the_middle_values() -> None:
    assert median_of_middle([]) is None
    assert median_of_middle([3.0]) == 3.0
    assert median_of_middle([2.0, 5.0]) == 3.5
    assert days(86_400_000_000 + 43_200_000_000) == 1.5


def ref(
    transaction: int, trace: str, claim: str, number: str, fallback: str = ""
) -> AdjudicationRef:
    return AdjudicationRef(transaction, "P", trace, claim, number, fallback)


def test_an_adjudicated_claim_is_one_per_payer_trace_and_claim() -> None:
    """The same remittance in another file (another interchange: other positions) gives the
    same ids; another trace, payer claim number or payer gives others; the same claim twice in
    one remittance stays two."""
    sent = adjudication_ids([ref(5, "T1", "A", "X"), ref(5, "T1", "A", "Y"), ref(5, "T1", "B", "")])
    again = adjudication_ids(
        [ref(9, "T1", "A", "X"), ref(9, "T1", "A", "Y"), ref(9, "T1", "B", "")]
    )
    assert sent == again and len(set(sent)) == 3
    others = adjudication_ids([ref(5, "T2", "A", "X"), AdjudicationRef(5, "Q", "T1", "A", "X", "")])
    assert len(set(others) | set(sent)) == 5
    twice = adjudication_ids([ref(5, "T1", "A", "X"), ref(5, "T1", "A", "X")])
    assert twice[0] == sent[0] and twice[1] != twice[0]
    # One file holding the remittance twice: the same ids again.
    assert adjudication_ids([ref(5, "T1", "A", "X"), ref(9, "T1", "A", "X")]) == [sent[0]] * 2
    assert adjudication_ids([ref(5, "", "A", "X", "file:0")]) == ["file:0"]  # no trace


def test_nothing_measured_gives_no_value_and_no_verdict() -> None:
    nothing = CaseTotals(
        appealed_closed=0, overturned=0, given_up=Decimal(0), days_to_first_action=None,
        days_to_resolution=None,
    )  # fmt: skip
    for kpi in kpis([], nothing, load_targets()):
        assert kpi.value is None and kpi.met is None
    assert pareto([]) == []


def test_targets_come_from_the_reference() -> None:
    targets = load_targets()
    assert targets["initial_denial_rate"].target == 0.05
    assert targets["overturn_rate"].target == 0.65
    assert targets["overturn_rate"].direction == "above"
    assert targets["write_off_rate"].target == 0.03


def window(start: date, end: date, denials: int, claims: int) -> RecurrenceWindow:
    return RecurrenceWindow(start=start, end=end, denials=denials, claims=claims)


def test_comparison_windows_are_cut_at_today() -> None:
    before, after = comparison_windows(date(2026, 10, 1), 90, TODAY)
    assert (before.start, before.end) == (date(2026, 7, 3), date(2026, 9, 30))
    assert (after.start, after.end) == (date(2026, 10, 1), TODAY)


def test_effectiveness_verdicts() -> None:
    day = date(2026, 1, 1)
    assert (
        effectiveness(day, window(day, day, 4, 10), window(day, day, 1, 10)).verdict == "improved"
    )
    assert effectiveness(day, window(day, day, 1, 10), window(day, day, 3, 10)).verdict == "worse"
    assert effectiveness(day, window(day, day, 2, 10), window(day, day, 4, 20)).verdict == (
        "unchanged"
    )
    assert effectiveness(day, window(day, day, 2, 10), window(day, day, 0, 0)).verdict == (
        "too_early"
    )
    assert effectiveness(day, window(day, day, 0, 0), window(day, day, 1, 5)).verdict == (
        "no_baseline"
    )
