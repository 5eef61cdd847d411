"""An Update's refusal travels as an ApplicationError type string: services.temporal_calls maps
each to an HTTP status, and refusals raised by handlers are in saved histories. Renaming the
concept (from Rejection) kept the strings."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from workflows.refusals import Refusal, refuse


def test_the_refusal_types_on_the_wire_stay_as_recorded() -> None:
    assert {kind.name: kind.value for kind in Refusal} == {
        "NOT_FOUND": "NotFound",
        "FORBIDDEN": "Forbidden",
        "CONFLICT": "Conflict",
        "INVALID": "Invalid",
        "SUBMISSION_FAILED": "SubmissionFailed",
        "UNAVAILABLE": "Unavailable",
    }


def test_a_refusal_is_final_and_says_why() -> None:
    with pytest.raises(ApplicationError) as raised:
        refuse(Refusal.CONFLICT, "case is closed")
    assert (raised.value.type, raised.value.non_retryable) == ("Conflict", True)
    assert raised.value.message == "case is closed"
