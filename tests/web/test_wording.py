"""What the pages say (issue 15, item 12): validation errors in plain words, snake_case terms
and internal ids named as people name them; which page a form belongs to; which deadlines
are done (item 15)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.projection import write_case_projection
from domain.case import CaseStatus, Submission, SubmissionKind, TaskType
from domain.deadlines import Deadline, DeadlineKind
from services.prevention import PreventionChange
from tests.db.test_projection import build_state, task
from web.deadline_marks import deadline_marks
from web.forms import parse_task_form
from web.session import form_page
from web.wording import located_errors, name_ids, plain_terms

CASE = "case-" + "7f10" * 6


def test_task_form_errors_are_plain_words() -> None:
    _, errors = parse_task_form(
        TaskType.RECORD_PAYER_RESPONSE,
        {"decision": "paid", "paid_amount": "abc", "decision_date": "2026-13-01"},
    )
    assert errors == {
        "paid_amount": "give an amount in numbers, such as 120.00",
        "decision_date": "give a date as YYYY-MM-DD",
    }
    _, errors = parse_task_form(
        TaskType.PREPARE_APPEAL, {"level": "two", "argument": "x", "submitted_on": "2026-01-05"}
    )
    assert errors == {"level": "give a whole number, such as 2"}
    _, errors = parse_task_form(TaskType.APPROVE_WRITE_OFF, {"approve": "maybe", "reason": "x"})
    assert errors == {"approve": "choose one of the options"}


def test_refused_values_are_named_by_their_label() -> None:
    with pytest.raises(ValidationError) as refused:
        PreventionChange.model_validate({"status": "sideways", "owner": "x" * 81})
    words = located_errors(refused.value.errors())
    assert words == (
        "Status: choose one of: open, in progress or done; Owner: is too long: at most 80 "
        "characters"
    )
    assert "Input should" not in words and "Value error" not in words


def test_product_terms_become_words_and_nothing_else_changes() -> None:
    message = "Task confirm_triage in the biller queue; suggested path corrected_claim"
    assert plain_terms(message) == (
        "Task confirm triage in the biller queue; suggested path corrected claim"
    )
    assert plain_terms("paid_amount must be at least 0") == "paid amount must be at least 0"
    assert plain_terms("claim PCN_0001 by j_doe") == "claim PCN_0001 by j_doe"


def test_ids_are_named_as_claims(sqlite_engine: Engine) -> None:
    state = build_state(CASE, 1, CaseStatus.TRIAGED, [task(CASE, 1, TaskType.CONFIRM_TRIAGE)], [])
    with Session(sqlite_engine) as session:
        write_case_projection(session, state, [])
        session.commit()
        claim = state.record.claim.claim_id
        assert name_ids(f"case {CASE} is closed", session) == f"the case of claim {claim} is closed"
        assert name_ids(f"task {CASE}-t1 is assigned to bob", session) == (
            f"the confirm triage task of claim {claim} is assigned to bob"
        )
        assert name_ids(f"{CASE}-t1: not moved", session) == (
            f"the confirm triage task of claim {claim}: not moved"
        )
        unknown = "case-" + "0" * 24
        assert name_ids(f"no case {unknown}", session) == "no such case"
        assert name_ids(f"no task {unknown}-t3", session) == "no such task"


@pytest.mark.parametrize(
    ("posted_to", "page"),
    [
        (f"/cases/{CASE}/notes", f"/cases/{CASE}"),
        (f"/cases/{CASE}/tasks/{CASE}-t2", f"/cases/{CASE}?task={CASE}-t2"),
        (f"/cases/{CASE}/attestation", f"/cases/{CASE}/appeal-letter"),
        ("/tasks/x-t1/claim", "/queue"),
        ("/supervisor/absences/a1/end", "/supervisor"),
        ("/prevention/PV-1", "/prevention/PV-1"),
        ("/ingest", "/ingest"),
        ("/logout", "/"),
        ("/cases/\\evil.example/notes", "/cases/%5Cevil.example"),
    ],
)
def test_a_form_belongs_to_a_page(posted_to: str, page: str) -> None:
    assert form_page(posted_to) == page


def _deadline(kind: DeadlineKind, due: date, level: int | None = None) -> Deadline:
    return Deadline(kind=kind, due=due, level=level, basis="", rule_id="r", source="s")


def test_a_decided_appeal_level_has_its_deadlines_done() -> None:
    """Level 1 was sent and answered (level 2 is open): its filing deadline and expected
    decision are done; level 2's deadline runs; nothing is done yet on an open case."""
    state = build_state(CASE, 3, CaseStatus.APPEAL, [], [])
    state.deadlines = [
        _deadline(DeadlineKind.TIMELY_FILING, date(2027, 1, 1)),
        _deadline(DeadlineKind.APPEAL, date(2026, 5, 1), 1),
        _deadline(DeadlineKind.PAYER_DECISION, date(2026, 6, 1), 1),
        _deadline(DeadlineKind.APPEAL, date(2026, 9, 1), 2),
    ]
    assert deadline_marks(state) == {"payer_decision:1": "done"}
    state.submissions = [
        Submission(
            kind=SubmissionKind.APPEAL,
            appeal_level=1,
            submitted_on=date(2026, 4, 20),
            summary="level 1",
            submitted_by="alice",
        )
    ]
    assert deadline_marks(state) == {
        "appeal:1": "done: sent 2026-04-20",
        "payer_decision:1": "done",
    }
    state.status = CaseStatus.AWAITING_PAYER  # level 1's answer is awaited: it runs
    assert deadline_marks(state) == {"appeal:1": "done: sent 2026-04-20"}
    state.status = CaseStatus.CLOSED
    assert deadline_marks(state) == {
        "timely_filing": "case closed",
        "appeal:1": "done: sent 2026-04-20",
        "payer_decision:1": "case closed",
        "appeal:2": "case closed",
    }
