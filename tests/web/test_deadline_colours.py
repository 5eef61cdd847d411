"""A deadline's colour is the escalation its tasks have reached, under the office's policy
(DENIALS_ESCALATE_DAYS, DENIALS_REMINDER_DAYS), not fixed 7 and 14-day bands (issue 17,
item 3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.case import CasePolicy
from web.templating import org_policy, urgency, use_policy


@pytest.fixture
def short_policy() -> Iterator[CasePolicy]:
    before = org_policy()
    policy = CasePolicy(reminder_days=5, escalate_days=3, urgent_days=1)
    use_policy(policy)
    yield policy
    use_policy(before)


def test_colours_follow_the_policy(short_policy: CasePolicy) -> None:
    today = datetime.now(UTC).date()
    colours = {days: urgency(today + timedelta(days=days)) for days in range(-1, 7)}
    # A day ends at midnight: with N days left its N-day escalation has not fired yet.
    assert colours == {
        -1: "overdue",
        0: "escalated",
        1: "escalated",
        2: "escalated",
        3: "reminder",
        4: "reminder",
        5: "later",
        6: "later",
    }
    assert urgency(None) == "none"
