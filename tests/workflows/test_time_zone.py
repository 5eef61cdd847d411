"""A deadline day ends at midnight where the billing office works (CasePolicy.timezone), not
at midnight UTC: in California that is 16:00-17:00 on the due day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from domain.case import CasePolicy, CaseStatus, EscalationLevel, TaskStatus, TaskType
from domain.deadlines import time_zone
from testkit.records import adj, make_record
from tests.harness import CaseHarness
from tests.workflows.case_flow import due, projected, sleep_until, task_of

LOS_ANGELES = "America/Los_Angeles"
IN_LOS_ANGELES = CasePolicy(timezone=LOS_ANGELES, stalled_after_days=365)


@pytest.mark.parametrize("policy", [IN_LOS_ANGELES], ids=["los-angeles"])
async def test_still_open_at_five_pm_on_the_due_day_lost_after_local_midnight(
    harness: CaseHarness,
) -> None:
    tz = time_zone(LOS_ANGELES)
    today = await harness.today()
    record = make_record(
        today, adjustments=[adj("CO-197", 900)], remit_days_ago=175, dos_days_ago=190
    )
    handle, state = await harness.triaged(record)
    triage = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    due_day = due(state, "appeal:1")
    local_midnight = datetime.combine(due_day + timedelta(days=1), time.min, tzinfo=tz)
    assert task_of(state, triage.task_id).due_at == local_midnight

    # 17:00 in Los Angeles on the due day is already the next day in UTC.
    five_pm = datetime.combine(due_day, time(17), tzinfo=tz)
    await sleep_until(harness, five_pm)
    state = await projected(harness, handle)
    assert state.status is CaseStatus.TRIAGED and not state.lost_to_deadline
    assert task_of(state, triage.task_id).status is TaskStatus.OPEN
    assert task_of(state, triage.task_id).escalation is EscalationLevel.URGENT
    row = harness.case_row(handle.id)
    assert row is not None and row.next_deadline == due_day

    await sleep_until(harness, local_midnight + timedelta(minutes=30))
    state = await harness.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    assert state.lost_to_deadline
    (missed,) = [e for e in harness.timeline(state) if e.type == "deadline_missed"]
    assert missed.at >= local_midnight
