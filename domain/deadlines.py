"""Deadline arithmetic from payer rules: timely filing, corrected claims, appeal levels, decisions.

Every deadline carries the sentence that explains it, so users can check the arithmetic.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holidays.countries.united_states import UnitedStates
from pydantic import BaseModel, ConfigDict

from domain.models import Claim, ClaimType, DenialKind
from domain.payer_rules import PayerRule, Period


class DeadlineKind(StrEnum):
    TIMELY_FILING = "timely_filing"
    CORRECTED_CLAIM = "corrected_claim"
    APPEAL = "appeal"
    PAYER_DECISION = "payer_decision"


class Deadline(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DeadlineKind
    due: date
    level: int | None = None
    basis: str
    rule_id: str
    source: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.level}" if self.level else self.kind.value

    @property
    def label(self) -> str:
        names = {
            DeadlineKind.TIMELY_FILING: "Timely filing",
            DeadlineKind.CORRECTED_CLAIM: "Corrected claim",
            DeadlineKind.APPEAL: "Appeal",
            DeadlineKind.PAYER_DECISION: "Expected payer decision",
        }
        return f"{names[self.kind]} level {self.level}" if self.level else names[self.kind]


def add_months(start: date, months: int) -> date:
    """Calendar months, clamped to the target month's last day (29 Feb + 12 months = 28 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_period(start: date, period: Period) -> date:
    if period.months is not None:
        return add_months(start, period.months)
    assert period.days is not None
    return start + timedelta(days=period.days)


@cache
def time_zone(name: str) -> tzinfo:
    """The IANA time zone `name` (e.g. "America/Los_Angeles"); ValueError naming it if unknown."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as America/Los_Angeles"
        ) from exc


def deadline_instant(due: date, tz: tzinfo) -> datetime:
    """A deadline date lasts the whole day where the organisation works: it passes at the
    following midnight in its time zone `tz` (returned in UTC). Whether a deadline rolls over a
    weekend or holiday is settled before, in its due date (see `_filing_deadline`)."""
    return datetime.combine(due + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)


def due_day(at: datetime, tz: tzinfo) -> date:
    """The last day before an instant is due: the inverse of deadline_instant, so a task due at
    the midnight that ends a deadline day shows that day, not the next."""
    return (at.astimezone(tz) - timedelta(microseconds=1)).date()


def local_day(at: datetime, tz: tzinfo) -> date:
    """The organisation's calendar day at instant `at`: what "today" means for its deadlines."""
    return at.astimezone(tz).date()


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# US federal holidays as observed (one on a Saturday is observed the Friday before, one on a
# Sunday the Monday after), from the maintained `holidays` package rather than a hand-kept list
# that would go stale when a holiday is added (Juneteenth, 2021). Built once here, at import:
# the package reads its translations through the locale module, which the workflow sandbox
# refuses, and the workflow computes deadlines. 1990-2100 holds every real claim's deadlines.
_FEDERAL_HOLIDAYS: dict[date, str] = dict(UnitedStates(years=range(1990, 2101), language="en_US"))


def _closed_on(day: date) -> str | None:
    """Why `day` is no business day ("Saturday", "Friday (Christmas Day (observed))"); None
    when it is one."""
    weekday = _WEEKDAYS[day.weekday()]
    if day.weekday() >= 5:
        return weekday
    holiday = _FEDERAL_HOLIDAYS.get(day)
    return f"{weekday} ({holiday})" if holiday else None


def _filing_deadline(
    rule: PayerRule, kind: DeadlineKind, due: date, basis: str, level: int | None = None
) -> Deadline:
    """A deadline for filing with the payer. It stays on the day the payer's count gives, even
    a weekend or holiday, unless the rule says the payer takes on the next business day what
    falls due on one (`rolls_to_business_day`); the basis then says where it moved and why."""
    closed = _closed_on(due) if rule.rolls_to_business_day else None
    if closed is not None:
        moved = due + timedelta(days=1)
        while _closed_on(moved) is not None:
            moved += timedelta(days=1)
        basis = (
            f"{basis}: falls on {closed} {due.isoformat()}; this payer's rule moves it to "
            f"{_WEEKDAYS[moved.weekday()]} {moved.isoformat()}"
        )
        due = moved
    return Deadline(
        kind=kind, due=due, level=level, basis=basis, rule_id=rule.id, source=rule.source
    )


def timely_filing_deadline(
    rule: PayerRule, claim: Claim, *, rejected: bool = False, service_date_known: bool = True
) -> Deadline:
    """The payer's filing limit counted from the date of service (through date for an
    institutional claim). A rejected claim was never filed, so its clock keeps running from the
    date of service too, not from the rejection.

    Without a known date of service (a 999 names none) the claim's service date holds the
    report's date, after the real one: the deadline counted from it is the latest the real one
    can be. It is not moved earlier: the real deadline may be any day from the report's date on,
    and a guess before it would let the case be lost to a deadline that has not passed; the
    basis says the date is an upper bound until the 837 is linked or the service date entered.
    """
    period = rule.timely_filing.describe()
    if not service_date_known:
        start = claim.service_date_from
        basis = (
            f"service date unknown: {period} from the acknowledgment date {start.isoformat()}, "
            f"so the real deadline ({period} from the date of service) is earlier; link the 837 "
            "or enter the service date"
        )
    else:
        if claim.claim_type is ClaimType.INSTITUTIONAL:
            start, start_name = claim.service_through, "service through date"
        else:
            start, start_name = claim.service_date_from, "service from date"
        basis = f"{period} from the {start_name} {start.isoformat()}"
        if rejected:
            basis += " (a rejected claim is not filed: the clock runs from the date of service)"
    return _filing_deadline(
        rule, DeadlineKind.TIMELY_FILING, add_period(start, rule.timely_filing), basis
    )


def _notice_received(rule: PayerRule, notice_date: date) -> tuple[date, str]:
    if rule.presumed_receipt_days:
        received = notice_date + timedelta(days=rule.presumed_receipt_days)
        return received, (
            f"{notice_date.isoformat()} + {rule.presumed_receipt_days} days presumed receipt"
        )
    return notice_date, notice_date.isoformat()


def corrected_claim_deadline(rule: PayerRule, remittance_date: date) -> Deadline:
    return _filing_deadline(
        rule,
        DeadlineKind.CORRECTED_CLAIM,
        add_period(remittance_date, rule.corrected_claim),
        f"{rule.corrected_claim.describe()} from the remittance {remittance_date.isoformat()}",
    )


def appeal_deadline(rule: PayerRule, level: int, notice_date: date) -> Deadline | None:
    """Filing deadline for appeal `level`, counted from the notice that gives the right to it:
    the remittance for level 1, the previous level's decision for later levels.
    None when the payer has no such level."""
    level_rule = rule.appeal_level(level)
    if level_rule is None:
        return None
    received, received_text = _notice_received(rule, notice_date)
    notice = "remittance" if level == 1 else f"level {level - 1} decision"
    return _filing_deadline(
        rule,
        DeadlineKind.APPEAL,
        received + timedelta(days=level_rule.filing_days),
        f"{level_rule.filing_days} days from the {notice} {received_text}",
        level,
    )


def expected_decision(
    rule: PayerRule, submitted_on: date, appeal_level: int | None = None
) -> Deadline | None:
    """When the payer should answer a corrected claim or an appeal level; None if no time frame."""
    if appeal_level is None:
        days, what = rule.corrected_claim.decision_days, "corrected claim"
    else:
        level_rule = rule.appeal_level(appeal_level)
        if level_rule is None or level_rule.decision_days is None:
            return None
        days, what = level_rule.decision_days, f"level {appeal_level} appeal"
    return Deadline(
        kind=DeadlineKind.PAYER_DECISION,
        level=appeal_level,
        due=submitted_on + timedelta(days=days),
        basis=f"{days} days from submission of the {what} on {submitted_on.isoformat()}",
        rule_id=rule.id,
        source=rule.source,
    )


def initial_deadlines(
    rule: PayerRule,
    claim: Claim,
    kind: DenialKind,
    received_on: date,
    appeal_rights: bool,
    service_date_known: bool = True,
) -> list[Deadline]:
    """Deadlines known when a case opens.

    A rejected claim was never filed, so only timely filing governs it. A denial also gets its
    corrected-claim window and, when it carries appeal rights, the level-1 appeal deadline.
    `received_on` stands in for the remittance date when the record has none.
    `service_date_known` is False while the claim's service date stands in for an unknown one.
    """
    rejected = kind is DenialKind.REJECTION
    deadlines = [
        timely_filing_deadline(
            rule, claim, rejected=rejected, service_date_known=service_date_known
        )
    ]
    if rejected:
        return deadlines
    notice_date = claim.remittance_date or received_on
    deadlines.append(corrected_claim_deadline(rule, notice_date))
    if appeal_rights:
        level_one = appeal_deadline(rule, 1, notice_date)
        assert level_one is not None  # every rule has a level 1
        deadlines.append(level_one)
    return deadlines


class DeadlineExtension(BaseModel):
    """A recorded extension (payer agreement, good cause) that replaces one deadline's date."""

    model_config = ConfigDict(frozen=True)

    kind: DeadlineKind
    level: int | None = None
    new_due: date
    reason: str
    recorded_by: str


def apply_extensions(
    deadlines: list[Deadline], extensions: list[DeadlineExtension]
) -> list[Deadline]:
    """The latest extension recorded for a deadline wins; deadlines without one are unchanged."""
    result = []
    for deadline in deadlines:
        matching = [e for e in extensions if (e.kind, e.level) == (deadline.kind, deadline.level)]
        if matching:
            extension = matching[-1]
            deadline = deadline.model_copy(
                update={
                    "due": extension.new_due,
                    "basis": f"extended to {extension.new_due.isoformat()}: {extension.reason} "
                    f"(was {deadline.due.isoformat()}, {deadline.basis})",
                }
            )
        result.append(deadline)
    return result


def find_deadline(
    deadlines: list[Deadline], kind: DeadlineKind, level: int | None = None
) -> Deadline | None:
    return next((d for d in deadlines if d.kind is kind and d.level == level), None)


def days_left(due: date, today: date) -> int:
    return (due - today).days
