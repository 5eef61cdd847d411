"""Service errors, each with the HTTP status the API answers with."""


class ServiceError(Exception):
    status_code = 400
    retry_after: int | None = None  # seconds, for the Retry-After header of a 429 or 503

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    status_code = 422


class Unfinished(Invalid):
    """An appeal whose letter or enclosures are not finished: every missing part, listed."""

    def __init__(self, parts: list[str]) -> None:
        super().__init__(f"the appeal is not ready to send: {'; '.join(parts)}")
        self.parts = parts


class Busy(ServiceError):
    """Too much at once (a case taking more changes in parallel than Temporal admits): the
    change was not applied; try again in a moment."""

    status_code = 429
    retry_after = 2


class SubmissionFailed(ServiceError):
    """The clearinghouse adapter did not send a submission; the case records the failure."""

    status_code = 502


class Unavailable(ServiceError):
    """Temporal (or the database) cannot be reached: try again later."""

    status_code = 503
    retry_after = 5


class NoAnswer(Unavailable):
    """A change was sent but not answered in time: it may still be applied (the audit trail
    records its outcome as unknown until the workflow reports it)."""
