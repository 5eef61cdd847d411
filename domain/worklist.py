"""What a worklist shows by default: work that can be done today.

A task is *waiting on payer* when nothing can be done on it until the payer answers (the
*record payer response* task, open from the moment a submission is sent); a follow-up with a
payer that is late to answer is work, so it is actionable. A case with a **follow-up date**
is *parked*: its tasks leave the actionable list until that day (in the office's time zone)
and come back on it by themselves. Parking never hides deadline risk: an urgent task (T-2)
stays actionable, marked parked, and a follow-up date cannot fall after the deadline the
case's open work races.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from domain.case import EscalationLevel, TaskType


class WorkView(StrEnum):
    ACTIONABLE = "actionable"
    WAITING = "waiting"  # on the payer's answer
    PARKED = "parked"  # until the case's follow-up date
    ALL = "all"  # every open task, as the supervisors' lists show them


WAITING_ON_PAYER = frozenset({TaskType.RECORD_PAYER_RESPONSE})
# From this escalation level a task is shown as actionable even when its case is parked.
SHOWN_THOUGH_PARKED = EscalationLevel.URGENT
MAX_FOLLOW_UP_DAYS = 365
MAX_REASON_LENGTH = 500


def is_parked(follow_up_on: date | None, today: date) -> bool:
    """A follow-up date ahead parks the case; on the day itself the case is back."""
    return follow_up_on is not None and follow_up_on > today


def follow_up_problem(
    follow_up_on: date, reason: str, today: date, deadline: date | None
) -> str | None:
    """Why a follow-up date cannot be set, or None. `deadline` is the earliest deadline the
    case's open work races: parked past it the case would come back too late."""
    if not reason.strip():
        return "reason: say why the case waits (it is shown when the case comes back)"
    if len(reason) > MAX_REASON_LENGTH:
        return f"reason: at most {MAX_REASON_LENGTH} characters"
    if follow_up_on <= today:
        return f"follow_up_on: must be after today ({today.isoformat()})"
    if follow_up_on > today + timedelta(days=MAX_FOLLOW_UP_DAYS):
        return f"follow_up_on: at most {MAX_FOLLOW_UP_DAYS} days ahead"
    if deadline is not None and follow_up_on > deadline:
        return (
            f"follow_up_on: the case's work is due by {deadline.isoformat()}; "
            "a follow-up date cannot be later"
        )
    return None
