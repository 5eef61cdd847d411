"""Denial KPIs and breakdowns, computed from plain read-model rows.

Definitions (see ../shared/reference/denials-domain.md, "Benchmarks that users track"):
- initial denial rate: denied claims / claims adjudicated on the 835s, each adjudicated claim
  counted once per payer + remittance trace (TRN02) + claim, however many files repeat it;
- overturn rate: appealed cases closed with money recovered / appealed cases closed;
- write-off rate: denied dollars given up (written off, lost to a deadline, or the unrecovered
  rest of a partial recovery) on the claims adjudicated in the period / those claims' total
  charges: a case whose claim no 835 of the period adjudicated adds to neither;
- days to work: case received -> first human action, and -> closed.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, MutableMapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from domain.case import GIVEN_UP_OUTCOMES
from domain.data_files import read_data_text

# A written-off case paid late shows as (partially) recovered, with what was paid: what it
# gives up is always its denied amount less the recovered amount.
GIVEN_UP = frozenset(outcome.value for outcome in GIVEN_UP_OUTCOMES)


class AdjudicationRef(NamedTuple):
    """Where an adjudicated claim (CLP loop) was reported."""

    transaction: int  # which remittance of the file (e.g. its TRN's position)
    payer_id: str
    trace: str  # TRN02: the check or EFT trace number of the remittance, "" when absent
    claim_id: str  # CLP01
    payer_claim_control_number: str  # CLP07
    fallback: str  # the id when the remittance has no trace: file and position


def adjudication_ids(
    refs: Iterable[AdjudicationRef],
    seen: MutableMapping[tuple[int, str, str, str, str], int] | None = None,
) -> list[str]:
    """One id per adjudicated claim, the same whichever file (interchange) brings the
    remittance again: payer + trace + claim numbers. A claim adjudicated twice in one remittance
    (a repeated CLP01 and CLP07) is told apart by its rank there. `seen`: the counts so far, for
    a file given a part at a time (a missing key must read as 0)."""
    if seen is None:
        seen = defaultdict(int)
    ids = []
    for ref in refs:
        if not ref.trace:
            ids.append(ref.fallback)
            continue
        claim = (ref.payer_id, ref.trace, ref.claim_id, ref.payer_claim_control_number)
        rank = seen[(ref.transaction, *claim)]
        seen[(ref.transaction, *claim)] += 1
        ids.append(hashlib.sha256("\x1f".join((*claim, str(rank))).encode()).hexdigest())
    return ids


class ClaimFact(BaseModel):
    """Claims the 835s adjudicated, alike in what a breakdown looks at: `count` of them, with
    their total charges (the read model groups them by payer and month, or by provider)."""

    model_config = ConfigDict(frozen=True)

    payer_id: str = ""
    payer_name: str = ""
    provider_npi: str = ""
    is_denial: bool
    day: date | None = None  # in the month they were reported (remittance, else service date)
    count: int = 1
    billed_amount: Decimal


UNKNOWN_PROVIDER = "unknown"


def dollars(cents: int) -> Decimal:
    """Cents as the read model's two-decimal dollars."""
    return Decimal(cents).scaleb(-2)


class DenialGroup(NamedTuple):
    """Denial cases alike in one breakdown's key (and month, for the payer trend)."""

    key: str
    label: str
    denials: int
    dollars: Decimal
    month: str | None = None


class CaseTotals(BaseModel):
    """What the KPIs take from the period's denial cases."""

    appealed_closed: int  # appealed cases closed
    overturned: int  # of those, closed with money back
    given_up: Decimal  # dollars given up on the claims the period's 835s adjudicated
    days_to_first_action: float | None  # medians, None when no case got there
    days_to_resolution: float | None


def days(microseconds: int) -> float:
    return timedelta(microseconds=microseconds).total_seconds() / 86400


def median_of_middle(middle: list[float]) -> float | None:
    """The median, given the one middle value of an odd count or the two of an even one."""
    if not middle:
        return None
    return middle[0] if len(middle) == 1 else (middle[0] + middle[1]) / 2


class Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    unit: Literal["percent", "days"]
    direction: Literal["below", "above"]
    target: float | None = None
    note: str = ""


def load_targets() -> dict[str, Target]:
    raw = tomllib.loads(read_data_text("kpi_targets.toml"))
    return {name: Target(**values) for name, values in raw.items()}


class Kpi(BaseModel):
    name: str
    label: str
    unit: Literal["percent", "days"]
    value: float | None = Field(description="None when there is nothing to measure yet")
    numerator: float | None = None
    denominator: float | None = None
    measure: Literal["count", "dollars"] = Field(
        default="count", description="What the numerator and denominator count"
    )
    target: float | None
    direction: Literal["below", "above"]
    met: bool | None
    note: str


def _kpi(
    name: str,
    targets: dict[str, Target],
    value: float | None,
    numerator: float | None = None,
    denominator: float | None = None,
    measure: Literal["count", "dollars"] = "count",
) -> Kpi:
    target = targets[name]
    met: bool | None = None
    if value is not None and target.target is not None:
        met = value <= target.target if target.direction == "below" else value >= target.target
    return Kpi(
        name=name,
        label=target.label,
        unit=target.unit,
        value=value,
        numerator=numerator,
        denominator=denominator,
        measure=measure,
        target=target.target,
        direction=target.direction,
        met=met,
        note=target.note,
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def kpis(claims: Iterable[ClaimFact], totals: CaseTotals, targets: dict[str, Target]) -> list[Kpi]:
    claims = list(claims)
    adjudicated = sum(claim.count for claim in claims)
    denied = sum(claim.count for claim in claims if claim.is_denial)
    charges = sum((claim.billed_amount for claim in claims), Decimal(0))
    closed, overturned = totals.appealed_closed, totals.overturned
    return [
        _kpi("initial_denial_rate", targets, _ratio(denied, adjudicated), denied, adjudicated),
        _kpi("overturn_rate", targets, _ratio(overturned, closed), overturned, closed),
        _kpi(
            "write_off_rate",
            targets,
            _ratio(float(totals.given_up), float(charges)),
            float(totals.given_up),
            float(charges),
            measure="dollars",
        ),
        _kpi("days_to_first_action", targets, totals.days_to_first_action),
        _kpi("days_to_resolution", targets, totals.days_to_resolution),
    ]


class ParetoRow(BaseModel):
    key: str
    label: str
    denials: int
    dollars: Decimal
    share: float = Field(description="Share of the denied dollars")
    cumulative_share: float


def pareto(groups: Iterable[DenialGroup]) -> list[ParetoRow]:
    """Denials and dollars per key, most dollars first, with the running share of dollars."""
    groups = list(groups)
    total = sum((group.dollars for group in groups), Decimal(0))
    rows: list[ParetoRow] = []
    running = Decimal(0)
    for group in sorted(groups, key=lambda g: (-g.dollars, -g.denials, g.key)):
        running += group.dollars
        rows.append(
            ParetoRow(
                key=group.key,
                label=group.key,
                denials=group.denials,
                dollars=group.dollars,
                share=float(group.dollars / total) if total else 0.0,
                cumulative_share=float(running / total) if total else 0.0,
            )
        )
    return rows


class RateRow(BaseModel):
    """Denials against adjudicated claims for one payer (in one month) or one provider."""

    key: str
    label: str
    month: str | None = None
    claims: int
    denials: int
    denial_rate: float | None
    dollars: Decimal


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _rates(
    claims: Iterable[ClaimFact],
    groups: Iterable[DenialGroup],
    claim_key: Callable[[ClaimFact], tuple[str, str, str | None]],
) -> list[RateRow]:
    claim_counts: dict[tuple[str, str | None], int] = defaultdict(int)
    denial_counts: dict[tuple[str, str | None], int] = defaultdict(int)
    dollars: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    labels: dict[str, str] = {}
    for claim in claims:
        key, label, month = claim_key(claim)
        claim_counts[(key, month)] += claim.count
        denial_counts[(key, month)] += claim.count if claim.is_denial else 0
        labels[key] = labels.get(key) or label
    for group in groups:
        dollars[(group.key, group.month)] += group.dollars
        labels[group.key] = labels.get(group.key) or group.label
    rows = [
        RateRow(
            key=key,
            label=labels[key] or key,
            month=month,
            claims=claim_counts.get((key, month), 0),
            denials=denial_counts.get((key, month), 0),
            denial_rate=_ratio(
                denial_counts.get((key, month), 0), claim_counts.get((key, month), 0)
            ),
            dollars=dollars.get((key, month), Decimal(0)),
        )
        for key, month in set(claim_counts) | set(dollars)
    ]
    return sorted(rows, key=lambda row: (row.key, row.month or "", -row.dollars))


def by_payer_month(claims: Iterable[ClaimFact], groups: Iterable[DenialGroup]) -> list[RateRow]:
    """The trend: each payer's denial rate and denied dollars per month (groups keyed by payer
    and month, labelled with the payer's name)."""
    return _rates(
        claims,
        groups,
        lambda claim: (
            claim.payer_id,
            claim.payer_name,
            month_of(claim.day) if claim.day else None,
        ),
    )


def by_provider(claims: Iterable[ClaimFact], groups: Iterable[DenialGroup]) -> list[RateRow]:
    """Groups keyed by provider NPI ("unknown" when the claim has none)."""
    rows = _rates(
        claims,
        groups,
        lambda claim: (claim.provider_npi or UNKNOWN_PROVIDER, claim.provider_npi, None),
    )
    return sorted(rows, key=lambda row: (-row.dollars, -row.denials, row.key))


# Days left to the governing deadline -> bucket; the last bucket has no upper bound.
DEADLINE_BUCKETS: list[tuple[str, int | None]] = [
    ("overdue", -1),
    ("0-7 days", 7),
    ("8-14 days", 14),
    ("15-30 days", 30),
    ("31-60 days", 60),
    ("over 60 days", None),
]
NO_DEADLINE = "no deadline"


class OpenCase(BaseModel):
    """What open cases alike in their deadlines put at risk (one case, or `cases` racing the
    same next deadline), and by when."""

    model_config = ConfigDict(frozen=True)

    next_deadline: date | None  # the deadline its open work races, if any
    deadlines: tuple[date, ...] = ()  # all of its deadlines, read when it races none
    cases: int = 1
    unrecovered: Decimal  # denied less recovered, never below 0, summed over the cases

    def deadline(self, today: date) -> date | None:
        """The deadline its dollars are at risk by: the one its work races, else the next one
        to come, else (all passed, e.g. lost to a deadline) the last one that passed; None only
        when it has no deadline at all."""
        if self.next_deadline is not None:
            return self.next_deadline
        coming = [due for due in self.deadlines if due >= today]
        return min(coming) if coming else max(self.deadlines, default=None)


class BucketRow(BaseModel):
    bucket: str
    cases: int
    dollars: Decimal


def at_risk_by_deadline(cases: Iterable[OpenCase], today: date) -> list[BucketRow]:
    """Open cases' unrecovered dollars by how close their deadline is (OpenCase.deadline)."""
    names = [name for name, _ in DEADLINE_BUCKETS] + [NO_DEADLINE]
    counts = dict.fromkeys(names, 0)
    dollars = dict.fromkeys(names, Decimal(0))
    for case in cases:
        bucket = NO_DEADLINE
        deadline = case.deadline(today)
        if deadline is not None:
            days_left = (deadline - today).days
            bucket = next(
                name for name, upper in DEADLINE_BUCKETS if upper is None or days_left <= upper
            )
        counts[bucket] += case.cases
        dollars[bucket] += case.unrecovered
    return [BucketRow(bucket=name, cases=counts[name], dollars=dollars[name]) for name in names]
