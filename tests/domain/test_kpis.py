from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.effectiveness import RecurrenceWindow, comparison_windows, effectiveness
from domain.kpis import OpenCase, at_risk_by_deadline, kpis, load_targets, pareto

TODAY = date(2026, 11, 1)


def case(deadline_in: int | None, denied: str = "100", recovered: str = "0") -> OpenCase:
    return OpenCase(
        next_deadline=TODAY + timedelta(days=deadline_in) if deadline_in is not None else None,
        denied_amount=Decimal(denied),
        recovered_amount=Decimal(recovered),
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


def test_nothing_measured_gives_no_value_and_no_verdict() -> None:
    for kpi in kpis([], [], load_targets()):
        assert kpi.value is None and kpi.met is None
    assert pareto([], lambda c: c.carc) == []


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
