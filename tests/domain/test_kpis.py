from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.effectiveness import RecurrenceWindow, comparison_windows, effectiveness
from domain.kpis import (
    AdjudicationRef,
    CaseFact,
    ClaimFact,
    OpenCase,
    adjudication_ids,
    at_risk_by_deadline,
    kpis,
    load_targets,
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


def fact(
    n: int,
    denied: str,
    outcome: str | None,
    recovered: str = "0",
    *,
    appealed: bool = False,
    adjudicated: bool = True,
) -> CaseFact:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return CaseFact(
        case_id=f"c{n}",
        payer_id="P",
        status="closed" if outcome else "appeal",
        outcome=outcome,
        appealed=appealed,
        denied_amount=Decimal(denied),
        recovered_amount=Decimal(recovered),
        claim_adjudicated=adjudicated,
        denied_on=at.date(),
        created_at=at,
    )


def test_overturn_and_write_off_follow_the_money() -> None:
    claims = [ClaimFact(is_denial=False, count=9, billed_amount=Decimal(8000))]
    claims.append(ClaimFact(is_denial=True, count=1, billed_amount=Decimal(2000)))
    cases = [
        fact(1, "1000", "recovered", "1000", appealed=True),  # overturned
        fact(2, "800", "recovered", appealed=True),  # "recovered" with nothing paid: not
        fact(3, "600", "transferred_to_patient", appealed=True),  # neither
        fact(4, "500", "partially_recovered", "200"),  # written off, paid 200 late: 300
        fact(5, "400", "recovered", "400"),  # written off, paid in full late: nothing
        fact(6, "300", "written_off"),
        fact(7, "900", "written_off", adjudicated=False),  # a demo case: no claim, no charges
        fact(8, "700", "written_off", appealed=True),  # appealed, lost: not overturned
        fact(9, "50", None, appealed=True),  # still open
    ]
    found = {kpi.name: kpi for kpi in kpis(claims, cases, load_targets())}
    overturn = found["overturn_rate"]
    assert (overturn.numerator, overturn.denominator) == (1, 4)
    write_off = found["write_off_rate"]
    assert (write_off.numerator, write_off.denominator) == (300 + 300 + 700, 10000)
    assert write_off.measure == "dollars" and found["initial_denial_rate"].measure == "count"


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
