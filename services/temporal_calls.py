"""Calls to Temporal: bounded in time, their errors turned into service errors with clear
messages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlmodel import Session
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.errors import (
    Busy,
    Conflict,
    Forbidden,
    Invalid,
    NoAnswer,
    NotFound,
    ServiceError,
    SubmissionFailed,
    Unavailable,
)
from workflows.refusals import Refusal

_BY_REJECTION: dict[str, type[ServiceError]] = {
    Refusal.NOT_FOUND.value: NotFound,
    Refusal.FORBIDDEN.value: Forbidden,
    Refusal.CONFLICT.value: Conflict,
    Refusal.INVALID.value: Invalid,
    Refusal.SUBMISSION_FAILED.value: SubmissionFailed,
    Refusal.UNAVAILABLE.value: Unavailable,
}

UNREACHABLE = "the workflow service (Temporal) is unreachable; try again shortly"
# An Update waits for a worker to run it, and the client would wait forever: a stopped worker
# must not leave a biller's request hanging.
ANSWER_SECONDS = 20.0


def no_answer(case_id: str) -> str:
    return (
        f"case {case_id} did not answer within {ANSWER_SECONDS:g} s: Temporal or its worker "
        "is stopped or busy. A change may still be applied: reload the case before trying again"
    )


def new_update_id() -> str:
    """The id a change is sent as: audited before the answer, so an unanswered change is
    reconciled when the workflow reports applying it (db.audit_outcomes)."""
    return str(uuid.uuid4())


def release_connection(session: Session) -> None:
    """End the session's transaction before waiting on Temporal, so its database connection
    goes back to the pool meanwhile: a case's change finishes with a read-model write by the
    worker, which must never wait for a connection held by a request waiting on it."""
    session.commit()


@asynccontextmanager
async def temporal_errors(
    case_id: str, when_gone: Callable[[], Awaitable[ServiceError]] | None = None
) -> AsyncIterator[None]:
    """Bound the calls made inside to ANSWER_SECONDS and raise ServiceErrors for failures.
    `when_gone` says why a workflow that has finished refused the call (closed, or stopped
    outside the product: services.stopped_cases)."""
    deadline = asyncio.timeout(ANSWER_SECONDS)
    try:
        async with deadline:
            yield
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        # Cancelled by the deadline, the client raises its own error for an Update.
        if deadline.expired():
            raise NoAnswer(no_answer(case_id)) from exc
        if isinstance(exc, TimeoutError):
            raise
        raise Unavailable(UNREACHABLE) from exc
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in _BY_REJECTION:
            raise _BY_REJECTION[cause.type](cause.message) from exc
        raise Conflict(f"case {case_id} refused the change: {cause}") from exc
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            # Callers found the case in the read model first, so its workflow has finished.
            if when_gone is not None:
                raise await when_gone() from exc
            raise Conflict(f"case {case_id} is closed") from exc
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise Unavailable(UNREACHABLE) from exc
        if exc.status is RPCStatusCode.RESOURCE_EXHAUSTED:
            raise Busy(
                f"Temporal is taking too much at once (for case {case_id}, or in all); this "
                "change was not applied: try again in a moment"
            ) from exc
        raise
    except RuntimeError as exc:  # a lazy client that cannot connect
        if "connect" in str(exc).lower():
            raise Unavailable(UNREACHABLE) from exc
        raise
