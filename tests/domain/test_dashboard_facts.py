from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.dashboard_facts import (
    CARC,
    CATEGORY,
    DEADLINE,
    PAYER,
    PROVIDER,
    TO_ACTION,
    TO_CLOSE,
    CaseFact,
    DashboardFact,
    MiddleRead,
    Spans,
    Tally,
    bucket_bounds,
    bucket_key,
    contributions,
    duration_bucket,
    middle_reads,
    monthly,
    spans,
    summary_changes,
)

DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fact(**changes: object) -> DashboardFact:
    values: dict[str, object] = {
        "case_id": "c1",
        "category": "coding",
        "carc": "CO-4",
        "payer_id": "P",
        "payer_name": "Payer",
        "provider_npi": "1111111111",
        "claim_id": "C1",
        "status": "closed",
        "outcome": "written_off",
        "denied_amount": Decimal("100.10"),
        "denied_on": DAY,
        "created_at": AT,
    }
    return DashboardFact.of(CaseFact.model_validate({**values, **changes}))


def test_overturn_and_write_off_follow_the_money() -> None:
    recovered = fact(outcome="recovered", recovered_amount=Decimal(100), appealed=True)
    assert recovered.overturned and recovered.appealed_closed and not recovered.gives_up
    nothing_paid = fact(outcome="recovered", appealed=True)  # "recovered" with nothing paid
    assert nothing_paid.appealed_closed and not nothing_paid.overturned
    partly = fact(outcome="partially_recovered", recovered_amount=Decimal("40.05"))
    assert partly.gives_up and partly.unrecovered_cents == 6005
    assert fact(outcome="transferred_to_patient", appealed=True).gives_up is False
    overpaid = fact(outcome="recovered", recovered_amount=Decimal(200))
    assert overpaid.unrecovered_cents == 0  # never below nothing
    still_open = fact(status="appeal", outcome=None, appealed=True)
    assert not still_open.appealed_closed and still_open.is_open


def test_durations_are_exact_and_a_cancelled_case_is_not_a_denial() -> None:
    worked = fact(
        first_action_at=AT + timedelta(days=2, microseconds=7),
        closed_at=AT + timedelta(days=30),
    )
    assert worked.to_first_action_us == 2 * 86_400_000_000 + 7
    assert worked.to_close_us == 30 * 86_400_000_000
    cancelled = fact(outcome="cancelled", closed_at=AT + timedelta(days=1))
    assert not cancelled.counted and cancelled.to_close_us is None
    assert contributions(cancelled) == {}


def test_a_case_counts_once_in_each_dimension_and_open_by_its_deadline() -> None:
    due = DAY + timedelta(days=20)
    open_case = fact(
        status="appeal", outcome=None, category=None, carc="", provider_npi="", next_deadline=due
    )
    rows = contributions(open_case)
    month = date(2026, 3, 1)
    assert rows == {
        (CATEGORY, DAY, "unknown"): Tally(1, 10010),
        (CARC, DAY, "none"): Tally(1, 10010),
        (PAYER, DAY, "P"): Tally(1, 10010),
        (PROVIDER, DAY, "unknown"): Tally(1, 10010),
        (monthly(CATEGORY), month, "unknown"): Tally(1, 10010),
        (monthly(CARC), month, "none"): Tally(1, 10010),
        (monthly(PAYER), month, "P"): Tally(1, 10010),
        (monthly(PROVIDER), month, "unknown"): Tally(1, 10010),
        (DEADLINE, due, ""): Tally(1, 10010),
    }
    # Racing no deadline: read one by one by its own deadlines, in no deadline row.
    own = fact(status="appeal", outcome=None, deadlines=(due,))
    assert own.deadlines == (due,) and (DEADLINE, due, "") not in contributions(own)
    assert fact(deadlines=(due,)).deadlines == ()  # closed: not at risk


def test_a_change_moves_the_case_between_rows() -> None:
    old = fact(outcome="recovered", recovered_amount=Decimal(100), appealed=True)
    new = fact(outcome="recovered", recovered_amount=Decimal(100), appealed=True, carc="CO-16")
    month = date(2026, 3, 1)
    assert summary_changes(old, new) == {
        (CARC, DAY, "CO-4"): Tally(-1, -10010),
        (CARC, DAY, "CO-16"): Tally(1, 10010),
        (monthly(CARC), month, "CO-4"): Tally(-1, -10010),
        (monthly(CARC), month, "CO-16"): Tally(1, 10010),
    }
    assert summary_changes(new, new) == {}
    moved_day = fact(denied_on=DAY + timedelta(days=1))
    changes = summary_changes(fact(), moved_day)
    assert changes[(CATEGORY, DAY, "coding")] == Tally(-1, -10010)
    assert len(changes) == 8  # its days' rows only: the month's stay as they were
    next_month = summary_changes(fact(), fact(denied_on=date(2026, 4, 2)))
    assert next_month[(monthly(PAYER), month, "P")] == Tally(-1, -10010)
    assert next_month[(monthly(PAYER), date(2026, 4, 1), "P")] == Tally(1, 10010)
    assert summary_changes(None, fact())[(PAYER, DAY, "P")] == Tally(1, 10010)


def test_a_period_reads_its_whole_months_a_row_each_and_its_other_days_one_by_one() -> None:
    def d(month: int, day: int, year: int = 2026) -> date:
        return date(year, month, day)

    assert spans(d(9, 6), d(12, 4)) == Spans([(d(9, 6), d(9, 30)), (d(12, 1), d(12, 4))],
                                             (d(10, 1), d(11, 1)))  # fmt: skip
    assert spans(d(1, 1), d(12, 31)) == Spans([], (d(1, 1), d(12, 1)))
    assert spans(d(3, 1), d(3, 31)) == Spans([], (d(3, 1), d(3, 1)))
    assert spans(d(3, 2), d(4, 29)) == Spans([(d(3, 2), d(4, 29))], None)  # no whole month
    assert spans(d(6, 15), d(6, 15)) == Spans([(d(6, 15), d(6, 15))], None)
    assert spans(d(12, 5, 2003), d(2, 29, 2004)) == Spans(
        [(d(12, 5, 2003), d(12, 31, 2003))], (d(1, 1, 2004), d(2, 1, 2004))
    )


def test_durations_count_in_ordered_buckets_that_cover_every_duration_once() -> None:
    minute = 60_000_000
    assert duration_bucket(-5 * minute) == duration_bucket(minute - 1) == 0
    assert bucket_bounds(0) == (None, minute)
    previous = 0
    for minutes in [*range(1, 600), 10_000, 100_000, 525_600]:
        bucket = duration_bucket(minutes * minute)
        low, high = bucket_bounds(bucket)
        assert low is not None and low <= minutes * minute < high
        assert bucket >= previous and bucket_bounds(bucket + 1)[0] == high  # contiguous
        previous = bucket
    assert bucket_key(7) < bucket_key(12) < bucket_key(100)
    worked = fact(first_action_at=AT + timedelta(hours=2), closed_at=AT + timedelta(days=9))
    rows = contributions(worked)
    action = bucket_key(duration_bucket(2 * 60 * minute))
    assert rows[(TO_ACTION, DAY, action)] == Tally(1, 0)
    assert rows[(monthly(TO_ACTION), date(2026, 3, 1), action)] == Tally(1, 0)
    assert (TO_CLOSE, DAY, bucket_key(duration_bucket(9 * 1440 * minute))) in rows


def test_the_middle_values_are_found_by_the_buckets_counts() -> None:
    assert middle_reads({}) == []
    assert middle_reads({2: 3}) == [MiddleRead(2, 1, 1)]  # the 2nd of 3
    assert middle_reads({0: 1, 3: 2, 5: 1}) == [MiddleRead(3, 0, 2)]  # 2nd and 3rd of 4
    assert middle_reads({1: 1, 4: 1}) == [MiddleRead(1, 0, 1), MiddleRead(4, 0, 1)]
    assert middle_reads({1: 2, 4: 5, 9: 4}) == [MiddleRead(4, 3, 1)]  # the 6th of 11
