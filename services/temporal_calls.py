"""Turning Temporal client errors into service errors with clear messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Unavailable
from workflows.rejections import Rejection

_BY_REJECTION: dict[str, type[ServiceError]] = {
    Rejection.NOT_FOUND.value: NotFound,
    Rejection.FORBIDDEN.value: Forbidden,
    Rejection.CONFLICT.value: Conflict,
    Rejection.INVALID.value: Invalid,
}

UNREACHABLE = "the workflow service (Temporal) is unreachable; try again shortly"


@contextmanager
def temporal_errors(case_id: str) -> Iterator[None]:
    try:
        yield
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in _BY_REJECTION:
            raise _BY_REJECTION[cause.type](cause.message) from exc
        raise Conflict(f"case {case_id} refused the change: {cause}") from exc
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        raise Unavailable(UNREACHABLE) from exc
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            # Callers found the case in the read model first, so its workflow has finished.
            raise Conflict(f"case {case_id} is closed") from exc
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise Unavailable(UNREACHABLE) from exc
        raise
    except RuntimeError as exc:  # a lazy client that cannot connect
        if "connect" in str(exc).lower():
            raise Unavailable(UNREACHABLE) from exc
        raise
