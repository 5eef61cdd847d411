"""The dashboard's per-case facts and what each adds to the summary rows the projection keeps
(db.dashboard_summary), so that the dashboard reads a few small sums instead of every case."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from domain.kpis import GIVEN_UP, UNKNOWN_PROVIDER


class CaseFact(BaseModel):
    """One denial case as the read model has it."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    category: str | None = None
    carc: str = ""
    payer_id: str
    payer_name: str = ""
    provider_npi: str = ""
    claim_id: str = ""
    status: str
    outcome: str | None = None
    appealed: bool = False  # an appeal was submitted
    denied_amount: Decimal
    recovered_amount: Decimal = Decimal(0)
    denied_on: date
    created_at: datetime
    first_action_at: datetime | None = None
    closed_at: datetime | None = None
    next_deadline: date | None = None
    deadlines: tuple[date, ...] = ()  # all of its deadlines (read only when it races none)
    # An 835 adjudicated its claim (same payer) on the day its denial was reported.
    adjudicated_that_day: bool = False


def _cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)


def _microseconds(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else (end - start) // timedelta(microseconds=1)


class DashboardFact(BaseModel):
    """What one case adds to the dashboard, kept beside its summaries: a change of case moves
    it from the old fact's summary rows to the new one's."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    counted: bool  # a denial: not cancelled as none (or by a supervisor)
    denied_on: date
    payer_id: str
    payer_name: str
    category: str
    carc: str
    provider: str
    claim_id: str
    denied_cents: int
    unrecovered_cents: int  # denied less recovered, never below 0
    appealed_closed: bool
    # Overturned is money back, whatever the outcome says (a transfer to the patient or a
    # "recovered" with nothing paid is not).
    overturned: bool
    # A written-off case paid late shows as (partially) recovered, with what was paid: what it
    # gives up is always its unrecovered amount.
    gives_up: bool
    # Its claim adjudicated on its denial day, so by any period that counts the case: its
    # write-off counts without looking for the claim among the period's 835s. False is always
    # safe (the claim is then looked for), so a claim recorded or removed later may leave it
    # false until the next projection, never true wrongly (migration 0027's triggers).
    adjudicated_that_day: bool
    to_first_action_us: int | None  # received -> first human action
    to_close_us: int | None  # received -> closed, for a counted case
    is_open: bool
    next_deadline: date | None
    deadlines: tuple[date, ...]  # only for an open case racing no deadline (read one by one)

    @classmethod
    def of(cls, case: CaseFact) -> DashboardFact:
        is_open = case.status != "closed"
        counted = case.outcome != "cancelled"
        return cls(
            case_id=case.case_id,
            counted=counted,
            denied_on=case.denied_on,
            payer_id=case.payer_id,
            payer_name=case.payer_name,
            category=case.category or "unknown",
            carc=case.carc or "none",
            provider=case.provider_npi or UNKNOWN_PROVIDER,
            claim_id=case.claim_id,
            denied_cents=_cents(case.denied_amount),
            unrecovered_cents=max(_cents(case.denied_amount - case.recovered_amount), 0),
            appealed_closed=case.appealed and not is_open,
            overturned=case.appealed and not is_open and case.recovered_amount > 0,
            gives_up=case.outcome in GIVEN_UP,
            adjudicated_that_day=case.adjudicated_that_day,
            to_first_action_us=_microseconds(case.created_at, case.first_action_at),
            to_close_us=_microseconds(case.created_at, case.closed_at) if counted else None,
            is_open=is_open,
            next_deadline=case.next_deadline if is_open else None,
            deadlines=case.deadlines if is_open and case.next_deadline is None else (),
        )


class Tally(NamedTuple):
    """What summary rows add up: cases, their dollars (in cents), and for the overturn rate the
    appealed cases closed and those overturned."""

    cases: int
    cents: int
    appealed_closed: int = 0
    overturned: int = 0

    def __add__(self, other: object) -> Tally:  # type: ignore[override]
        assert isinstance(other, Tally)
        return Tally(*(a + b for a, b in zip(self, other, strict=True)))

    def __neg__(self) -> Tally:
        return Tally(*(-a for a in self))


# Summary dimensions. The denial ones count a case on the day its denial was reported, and
# again in their monthly twin (monthly()) on the first of that month; the at-risk one on the
# deadline its open work races (at_risk_by_deadline buckets it by today).
CATEGORY, CARC, PAYER, PROVIDER, DEADLINE = "category", "carc", "payer", "provider", "deadline"
# The durations the medians take, counted by duration_bucket (the key) on the denial day: the
# median's rank is found among the buckets' counts, and only its bucket's values are sorted.
TO_ACTION, TO_CLOSE = "to_action", "to_close"
SummaryKey = tuple[str, date, str]  # dimension, day, key
_MINUTE_US = 60_000_000


def duration_bucket(microseconds: int) -> int:
    """Which bucket a duration falls in: 0 under a minute (or negative), then whole minutes up
    to 7, then four buckets per doubling (each 1/8 to 1/4 of its start wide), in order."""
    minutes = microseconds // _MINUTE_US
    if minutes < 1:
        return 0
    shift = max(minutes.bit_length() - 3, 0)
    return 4 * shift + (minutes >> shift)


def bucket_bounds(bucket: int) -> tuple[int | None, int]:
    """The durations (microseconds) in a bucket: from (None: no lower bound), until (excluded)."""
    if bucket == 0:
        return None, _MINUTE_US
    shift = 0 if bucket < 8 else (bucket - 4) // 4
    top = bucket - 4 * shift
    return (top << shift) * _MINUTE_US, ((top + 1) << shift) * _MINUTE_US


def bucket_key(bucket: int) -> str:
    return f"{bucket:03d}"  # (keys sort as the buckets do)


class MiddleRead(NamedTuple):
    """Read `limit` values of `bucket`, in order, after skipping `offset` of them."""

    bucket: int
    offset: int
    limit: int


def middle_reads(counts: dict[int, int]) -> list[MiddleRead]:
    """Where the median's one (odd count) or two (even) middle values are, given how many
    values each bucket holds."""
    total = sum(counts.values())
    if not total:
        return []
    ranks = [(total - 1) // 2] if total % 2 else [total // 2 - 1, total // 2]
    reads: list[MiddleRead] = []
    before = 0
    for bucket in sorted(counts):
        inside = [rank - before for rank in ranks if before <= rank < before + counts[bucket]]
        if inside:
            reads.append(MiddleRead(bucket, inside[0], len(inside)))
        before += counts[bucket]
    return reads


def monthly(dimension: str) -> str:
    """The dimension whose rows sum a whole month (dated the first): a period reads its whole
    months there and only its other days day by day."""
    return f"{dimension}/m"


def month_start(day: date) -> date:
    return day.replace(day=1)


class Spans(NamedTuple):
    """A period as the summary rows read it: whole months from the monthly rows (first to
    last month's first day, None when it has no whole month) and the other days day by day."""

    days: list[tuple[date, date]]  # inclusive ranges
    months: tuple[date, date] | None


def spans(since: date, until: date) -> Spans:
    first = since if since.day == 1 else month_start(since + timedelta(days=31 - since.day + 1))
    after = until + timedelta(days=1)
    end = after if after.day == 1 else month_start(until)  # the day after the whole months
    if first >= end:
        return Spans([(since, until)], None)
    days = [(start, stop) for start, stop in ((since, first - timedelta(days=1)), (end, until))]
    last_month = month_start(end - timedelta(days=1))
    return Spans([(start, stop) for start, stop in days if start <= stop], (first, last_month))


def contributions(fact: DashboardFact) -> dict[SummaryKey, Tally]:
    """The summary rows a case counts in, and what it adds to each."""
    rows: dict[SummaryKey, Tally] = {}
    if fact.counted:
        denial = Tally(1, fact.denied_cents)
        category = Tally(1, fact.denied_cents, int(fact.appealed_closed), int(fact.overturned))
        for dimension, key, tally in (
            (CATEGORY, fact.category, category),
            (CARC, fact.carc, denial),
            (PAYER, fact.payer_id, denial),
            (PROVIDER, fact.provider, denial),
        ):
            rows[(dimension, fact.denied_on, key)] = tally
            rows[(monthly(dimension), month_start(fact.denied_on), key)] = tally
        for dimension, duration in (
            (TO_ACTION, fact.to_first_action_us),
            (TO_CLOSE, fact.to_close_us),
        ):
            if duration is not None:
                key = bucket_key(duration_bucket(duration))
                rows[(dimension, fact.denied_on, key)] = Tally(1, 0)
                rows[(monthly(dimension), month_start(fact.denied_on), key)] = Tally(1, 0)
    if fact.next_deadline is not None:
        rows[(DEADLINE, fact.next_deadline, "")] = Tally(1, fact.unrecovered_cents)
    return rows


def summary_changes(old: DashboardFact | None, new: DashboardFact) -> dict[SummaryKey, Tally]:
    """What to add to each summary row when a case's fact goes from `old` to `new`: the old
    rows lose it, the new ones gain it (rows it stays in see the difference only)."""
    changes = contributions(new)
    for key, tally in (contributions(old) if old else {}).items():
        changes[key] = changes.get(key, Tally(0, 0)) + -tally
    return {key: tally for key, tally in changes.items() if any(tally)}
