"""Deadline arithmetic from payer rules: timely filing, corrected claims, appeal levels, decisions.

Every deadline carries the sentence that explains it, so users can check the arithmetic.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    following midnight in its time zone `tz` (returned in UTC). Deadlines do not roll over
    weekends or holidays: the payer's count of days is the count."""
    return datetime.combine(due + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)


def due_day(at: datetime, tz: tzinfo) -> date:
    """The last day before an instant is due: the inverse of deadline_instant, so a task due at
    the midnight that ends a deadline day shows that day, not the next."""
    return (at.astimezone(tz) - timedelta(microseconds=1)).date()


def local_day(at: datetime, tz: tzinfo) -> date:
    """The organisation's calendar day at instant `at`: what "today" means for its deadlines."""
    return at.astimezone(tz).date()


def timely_filing_deadline(rule: PayerRule, claim: Claim) -> Deadline:
    if claim.claim_type is ClaimType.INSTITUTIONAL:
        start, start_name = claim.service_through, "service through date"
    else:
        start, start_name = claim.service_date_from, "service from date"
    return Deadline(
        kind=DeadlineKind.TIMELY_FILING,
        due=add_period(start, rule.timely_filing),
        basis=f"{rule.timely_filing.describe()} from the {start_name} {start.isoformat()}",
        rule_id=rule.id,
        source=rule.source,
    )


def _notice_received(rule: PayerRule, notice_date: date) -> tuple[date, str]:
    if rule.presumed_receipt_days:
        received = notice_date + timedelta(days=rule.presumed_receipt_days)
        return received, (
            f"{notice_date.isoformat()} + {rule.presumed_receipt_days} days presumed receipt"
        )
    return notice_date, notice_date.isoformat()


def corrected_claim_deadline(rule: PayerRule, remittance_date: date) -> Deadline:
    return Deadline(
        kind=DeadlineKind.CORRECTED_CLAIM,
        due=add_period(remittance_date, rule.corrected_claim),
        basis=(
            f"{rule.corrected_claim.describe()} from the remittance {remittance_date.isoformat()}"
        ),
        rule_id=rule.id,
        source=rule.source,
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
    return Deadline(
        kind=DeadlineKind.APPEAL,
        level=level,
        due=received + timedelta(days=level_rule.filing_days),
        basis=f"{level_rule.filing_days} days from the {notice} {received_text}",
        rule_id=rule.id,
        source=rule.source,
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
    rule: PayerRule, claim: Claim, kind: DenialKind, received_on: date, appeal_rights: bool
) -> list[Deadline]:
    """Deadlines known when a case opens.

    A rejected claim was never filed, so only timely filing governs it. A denial also gets its
    corrected-claim window and, when it carries appeal rights, the level-1 appeal deadline.
    `received_on` stands in for the remittance date when the record has none.
    """
    deadlines = [timely_filing_deadline(rule, claim)]
    if kind is DenialKind.REJECTION:
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
