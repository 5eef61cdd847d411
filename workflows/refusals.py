"""Why an Update was refused, as typed errors the API maps to HTTP statuses.

A refusal, not a rejection: a claim *rejected* by the payer (DenialKind.REJECTION) is another
thing. The type strings are unchanged: services.temporal_calls matches on them, and Updates
refused by their handler carry them in saved histories."""

from enum import StrEnum
from typing import NoReturn

from temporalio.exceptions import ApplicationError


class Refusal(StrEnum):
    NOT_FOUND = "NotFound"  # 404
    FORBIDDEN = "Forbidden"  # 403
    CONFLICT = "Conflict"  # 409: already completed or claimed, already there, case closed
    INVALID = "Invalid"  # 422: data that does not fit the case (dates, amounts, paths)
    # 502: the clearinghouse adapter did not send a submission (the failure is on the case).
    SUBMISSION_FAILED = "SubmissionFailed"
    UNAVAILABLE = "Unavailable"  # 503: a dependency failed; nothing changed, try again


def refuse(kind: Refusal, message: str) -> NoReturn:
    raise ApplicationError(message, type=kind.value, non_retryable=True)
