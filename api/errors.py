"""Error responses: one shape for 401/403/404/409/429/502/503, FastAPI's own for 422."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from services.errors import ServiceError, Unfinished

_FIELD = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$", re.DOTALL)


class ErrorOut(BaseModel):
    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not signed in, or the session has ended"},
    403: {"model": ErrorOut, "description": "The role, or the task's assignee, does not allow it"},
    404: {"model": ErrorOut, "description": "No such resource"},
    409: {"model": ErrorOut, "description": "Already done, claimed by someone else, or closed"},
    429: {"model": ErrorOut, "description": "The case is taking too many changes at once"},
    502: {"model": ErrorOut, "description": "The clearinghouse did not take a submission"},
    503: {"model": ErrorOut, "description": "Temporal is unreachable: try again shortly"},
}


def error_body(exc: ServiceError) -> dict[str, Any]:
    """A 422 from a service looks like FastAPI's own validation errors ("field: message"
    names the field); every other error is {"detail": message}."""
    if exc.status_code != 422:
        return {"detail": exc.message}
    if isinstance(exc, Unfinished):  # one error per missing part, all at once
        location = ["body", "payload", "letter"]
        return {
            "detail": [{"loc": location, "msg": part, "type": "unfinished"} for part in exc.parts]
        }
    named = _FIELD.match(exc.message)
    location = ["body", named.group(1)] if named else ["body"]
    message = named.group(2) if named else exc.message
    return {"detail": [{"loc": location, "msg": message, "type": "value_error"}]}
