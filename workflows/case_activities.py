"""How the case workflow runs its activities: every call bounded, none retried forever.

A case's activities are short (a rule lookup, a read-model write) and run as local activities.
Local retries are recorded in the case's history once they back off, so they are bounded here:
a blip is absorbed in the worker; a dependency down for longer (the read model's database)
moves the call to the server, whose retries add nothing to the history while they wait, in
rounds of a day. A submission to the clearinghouse is a regular activity (its attempts may
take seconds, which a local activity would spend inside the workflow task) bounded tighter:
the biller is waiting for its answer (services.temporal_calls.ANSWER_SECONDS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    FailureError,
)
from temporalio.exceptions import TimeoutError as ActivityTimeout

T = TypeVar("T")
Activity = Callable[[Any, Any], Awaitable[T]] | Callable[[Any, Any], T]

# Since this patch the case's activities run as local activities: each is short (a rule
# lookup, a database write) and a round trip through the server for each would triple the
# server's work per case. Histories recorded before it keep their regular activities.
LOCAL_ACTIVITIES = "local-activities"

ATTEMPT_TIMEOUT = timedelta(seconds=30)
# Before bounded activities: retried without end, each backoff a timer in the history.
UNBOUNDED_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))

# In the worker: four attempts over about 4 s, all backoffs below the SDK's local retry
# threshold (1 min), so none becomes a timer in the history.
LOCAL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=4,
)
LOCAL_DEADLINE = timedelta(minutes=1)
# On the server: retried with backoff up to 10 min apart for a day, then another round.
SERVER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
SERVER_ROUND = timedelta(days=1)

# A submission: up to three attempts of 6 s within 15 s, inside the API's 20 s answer time.
SUBMIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=2),
    maximum_attempts=3,
    non_retryable_error_types=["SubmissionRefused"],
)
SUBMIT_ATTEMPT_TIMEOUT = timedelta(seconds=6)
SUBMIT_DEADLINE = timedelta(seconds=15)
# What the clearinghouse adapter itself said (activities.submission); any other failure is an
# error of ours, named by its type only.
ADAPTER_FAILURES = ("SubmissionRefused", "ClearinghouseUnavailable")


async def run_unbounded(activity: Activity[T], arg: Any) -> T:
    """How cases ran their activities before they were bounded (kept for their histories)."""
    if workflow.patched(LOCAL_ACTIVITIES):
        return await workflow.execute_local_activity_method(
            activity,  # type: ignore[arg-type]
            arg,
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            retry_policy=UNBOUNDED_RETRY,
        )
    return await workflow.execute_activity_method(
        activity,  # type: ignore[arg-type]
        arg,
        start_to_close_timeout=ATTEMPT_TIMEOUT,
        retry_policy=UNBOUNDED_RETRY,
    )


# How a spent activity fails: a regular one raises ActivityError with the failure as its cause;
# a local one raises the failure itself (ApplicationError, TimeoutError...).
ActivityFailed = FailureError


def _cause(error: FailureError) -> BaseException | None:
    return error.cause if isinstance(error, ActivityError) else error


def is_permanent(error: FailureError) -> bool:
    cause = _cause(error)
    return isinstance(cause, ApplicationError) and cause.non_retryable


def is_cancellation(error: FailureError) -> bool:
    """The workflow itself is being cancelled: not a failure to retry."""
    return isinstance(_cause(error), CancelledError)


def submission_failure_reason(error: FailureError) -> str:
    """Why a submission failed, in words fit for the biller, the timeline and the audit trail:
    the adapter's own message, a timeout, or the type of an internal error (whose text may
    quote the case)."""
    cause = _cause(error)
    if isinstance(cause, ApplicationError) and cause.type in ADAPTER_FAILURES:
        return cause.message[:500]
    if isinstance(cause, ActivityTimeout):
        return (
            "the clearinghouse did not confirm it in time (it may have been received: submitting "
            "again confirms it)"
        )
    return f"an internal error ({_kind(error)}) while preparing or sending it"


def _kind(error: FailureError) -> str:
    cause = _cause(error)
    return cause.type or "" if isinstance(cause, ApplicationError) else type(cause).__name__


def _raise_unless_transient(name: str, error: FailureError) -> None:
    """A cancellation goes on up; a permanent failure (a bug, not an outage) fails the
    workflow task, named by type only: the worker logs it, and an error's text may quote PHI."""
    if is_cancellation(error):
        raise error
    if is_permanent(error):
        raise RuntimeError(
            f"{name} failed permanently ({_kind(error)}); the case waits for a fix"
        ) from None


async def run_local(activity: Activity[T], arg: Any) -> T:
    """A bounded local call: raises ActivityFailed once its attempts are spent."""
    return await workflow.execute_local_activity_method(
        activity,  # type: ignore[arg-type]
        arg,
        start_to_close_timeout=ATTEMPT_TIMEOUT,
        schedule_to_close_timeout=LOCAL_DEADLINE,
        retry_policy=LOCAL_RETRY,
    )


async def run_until_done(
    activity: Activity[T], arg: Any, server_arg: Callable[[], Any] | None = None
) -> T:
    """Run work the case cannot go on without (triage, a read-model write, the prevention
    task) until it succeeds: in the worker first, then on the server, round after round.
    `server_arg`, when given, makes the argument of each round on the server when it starts
    (the local attempts took `arg` as it was when they were scheduled).

    A permanent failure (a bug, not an outage) fails the workflow task instead of the case:
    Temporal retries the task, and the case resumes where it was once the fix is deployed."""
    name = getattr(activity, "__name__", "activity")
    try:
        return await run_local(activity, arg)
    except ActivityFailed as error:
        _raise_unless_transient(name, error)
        # The type only: a database error's text may quote the claim it was writing.
        workflow.logger.warning(
            "%s failed in the worker (%s); retrying on the server", name, _kind(error)
        )
    while True:
        try:
            return await workflow.execute_activity_method(
                activity,  # type: ignore[arg-type]
                arg if server_arg is None else server_arg(),
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=SERVER_ROUND,
                retry_policy=SERVER_RETRY,
            )
        except ActivityFailed as error:
            _raise_unless_transient(name, error)
            workflow.logger.warning("%s still failing after a day; another round", name)


async def run_submission(activity: Activity[T], arg: Any) -> T:
    """Send one submission within the biller's wait; raises ActivityFailed when it failed."""
    return await workflow.execute_activity_method(
        activity,  # type: ignore[arg-type]
        arg,
        start_to_close_timeout=SUBMIT_ATTEMPT_TIMEOUT,
        schedule_to_close_timeout=SUBMIT_DEADLINE,
        retry_policy=SUBMIT_RETRY,
    )
