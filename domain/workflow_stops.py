"""A case whose workflow ended without the case closing it: terminated, failed, timed out or
cancelled through Temporal (its CLI, Web UI or API), or gone from it altogether. The read model
would show such a case open forever while every change to it is refused; these rules say which
runs count, how the sweep finds them, and how the product words it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum


class StopStatus(StrEnum):
    TERMINATED = "terminated"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"
    # Describing the workflow finds nothing: deleted, or removed after the namespace's
    # retention period while nobody looked.
    MISSING = "missing"


class DetectedBy(StrEnum):
    SWEEP = "sweep"  # the periodic reconciler
    ACTION = "action"  # a change to the case came back "workflow already completed"
    RESTART = "restart"  # a supervisor asked to restart it before anything else noticed


# Temporal's WorkflowExecutionStatus member names of the runs that stopped a case.
_BY_EXECUTION_STATUS = {
    "TERMINATED": StopStatus.TERMINATED,
    "FAILED": StopStatus.FAILED,
    "TIMED_OUT": StopStatus.TIMED_OUT,
    "CANCELED": StopStatus.CANCELED,
}
# The same statuses as the visibility query language spells them.
_VISIBILITY_NAMES = {
    StopStatus.TERMINATED: "Terminated",
    StopStatus.FAILED: "Failed",
    StopStatus.TIMED_OUT: "TimedOut",
    StopStatus.CANCELED: "Canceled",
}
_WHAT_HAPPENED = {
    StopStatus.TERMINATED: "was terminated in Temporal",
    StopStatus.FAILED: "failed in Temporal",
    StopStatus.TIMED_OUT: "timed out in Temporal",
    StopStatus.CANCELED: "was cancelled in Temporal",
    StopStatus.MISSING: "no longer exists in Temporal",
}
_HOW_NOTICED = {
    DetectedBy.SWEEP: "by the periodic check of case workflows",
    DetectedBy.ACTION: "when a change to the case was refused",
    DetectedBy.RESTART: "when a supervisor asked to restart it",
}

# Visibility may list a closed run a little after it closed (Elasticsearch refreshes, a busy
# server): each sweep reads back this far before the previous one started. Reading a run twice
# is harmless, the writes being idempotent.
VISIBILITY_LAG = timedelta(minutes=5)
# Comparing every open case with the running workflows (what finds a workflow that is gone)
# costs a listing of them all: hourly, not at every sweep.
FULL_SWEEP_EVERY = timedelta(hours=1)


def stop_status(execution_status: str | None) -> StopStatus | None:
    """What a latest run's status (a WorkflowExecutionStatus name; None when no run exists)
    means for its case: running, completed or continued as new stop nothing."""
    if execution_status is None:
        return StopStatus.MISSING
    return _BY_EXECUTION_STATUS.get(execution_status)


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stopped_runs_query(workflow_type: str, closed_since: datetime | None) -> str:
    """The visibility query listing the runs of `workflow_type` that stopped (not completed)
    since `closed_since` (all of them the first time)."""
    statuses = ", ".join(f"'{name}'" for name in _VISIBILITY_NAMES.values())
    query = f"WorkflowType = '{workflow_type}' AND ExecutionStatus IN ({statuses})"
    if closed_since is not None:
        query += f" AND CloseTime >= '{_rfc3339(closed_since)}'"
    return query


def listable(workflow_id: str) -> bool:
    """Whether the id can be named in a visibility query as it is (no quoting needed)."""
    return "'" not in workflow_id and "\\" not in workflow_id


def running_query(workflow_type: str, among: list[str] | None = None) -> str:
    """The visibility query listing the running workflows of `workflow_type` (of these ids
    only, when given: each must be listable)."""
    query = f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'"
    if among is not None:
        if not all(map(listable, among)):
            raise ValueError("a workflow id to list may not hold a quote or a backslash")
        query += " AND WorkflowId IN (" + ", ".join(f"'{i}'" for i in among) + ")"
    return query


def next_closed_since(sweep_started: datetime) -> datetime:
    """Where the next sweep starts reading: before this one started, by the visibility lag."""
    return sweep_started - VISIBILITY_LAG


def full_sweep_due(last: datetime | None, now: datetime) -> bool:
    return last is None or now - last >= FULL_SWEEP_EVERY


def _when(at: datetime | None) -> str:
    return "" if at is None else f" on {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def what_happened(status: StopStatus) -> str:
    """ "was terminated in Temporal", "no longer exists in Temporal"...: after "its workflow"."""
    return _WHAT_HAPPENED[status]


def how_noticed(detected_by: DetectedBy) -> str:
    return _HOW_NOTICED[detected_by]


def refusal(case_id: str, status: StopStatus, stopped_at: datetime | None) -> str:
    """Why a change to a stopped case is refused (HTTP 409), with what to do about it."""
    return (
        f"case {case_id} cannot change: its workflow {_WHAT_HAPPENED[status]}"
        f"{_when(stopped_at)}, outside the case manager. Nothing can change the case until a "
        "supervisor restarts its workflow (the Restart button on the case page)"
    )
