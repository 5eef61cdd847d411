"""Which runs stop a case, how the sweep asks visibility for them, and how a refusal reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.workflow_stops import (
    FULL_SWEEP_EVERY,
    VISIBILITY_LAG,
    StopStatus,
    full_sweep_due,
    next_closed_since,
    refusal,
    running_query,
    stop_status,
    stopped_runs_query,
)

AT = datetime(2026, 12, 4, 16, 26, 34, 304299, tzinfo=UTC)


@pytest.mark.parametrize(
    ("execution_status", "expected"),
    [
        ("TERMINATED", StopStatus.TERMINATED),
        ("FAILED", StopStatus.FAILED),
        ("TIMED_OUT", StopStatus.TIMED_OUT),
        ("CANCELED", StopStatus.CANCELED),
        (None, StopStatus.MISSING),
        ("RUNNING", None),
        ("COMPLETED", None),  # the case closed itself
        ("CONTINUED_AS_NEW", None),
        ("UNSPECIFIED", None),
    ],
)
def test_a_latest_run_stops_its_case_unless_it_runs_or_completed(
    execution_status: str | None, expected: StopStatus | None
) -> None:
    assert stop_status(execution_status) is expected


def test_the_sweep_lists_stopped_runs_of_case_workflows_closed_since_its_mark() -> None:
    assert stopped_runs_query("DenialCaseWorkflow", None) == (
        "WorkflowType = 'DenialCaseWorkflow' AND ExecutionStatus IN "
        "('Terminated', 'Failed', 'TimedOut', 'Canceled')"
    )
    new_york = AT.astimezone(timezone(timedelta(hours=-5)))  # any offset: the query is in UTC
    assert stopped_runs_query("DenialCaseWorkflow", new_york).endswith(
        " AND CloseTime >= '2026-12-04T16:26:34.304299Z'"
    )
    assert running_query("DenialCaseWorkflow") == (
        "WorkflowType = 'DenialCaseWorkflow' AND ExecutionStatus = 'Running'"
    )
    assert running_query("DenialCaseWorkflow", among=["case-1", "case-2"]).endswith(
        "ExecutionStatus = 'Running' AND WorkflowId IN ('case-1', 'case-2')"
    )
    with pytest.raises(ValueError):
        running_query("DenialCaseWorkflow", among=["case-1' OR 'x' = 'x"])


def test_the_next_sweep_reads_back_over_the_visibility_lag() -> None:
    assert next_closed_since(AT) == AT - VISIBILITY_LAG


def test_the_full_comparison_runs_first_then_hourly() -> None:
    assert full_sweep_due(None, AT)
    assert not full_sweep_due(AT - FULL_SWEEP_EVERY + timedelta(seconds=1), AT)
    assert full_sweep_due(AT - FULL_SWEEP_EVERY, AT)


def test_a_refusal_says_what_happened_when_and_who_can_undo_it() -> None:
    assert refusal("case-1", StopStatus.TERMINATED, AT) == (
        "case case-1 cannot change: its workflow was terminated in Temporal on 2026-12-04 "
        "16:26 UTC, outside the case manager. Nothing can change the case until a supervisor "
        "restarts its workflow (the Restart button on the case page)"
    )
    assert refusal("case-1", StopStatus.MISSING, None).startswith(
        "case case-1 cannot change: its workflow no longer exists in Temporal, outside"
    )
