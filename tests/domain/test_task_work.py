"""What a task's entered work must fit (triage, submissions, next paths, follow-ups), and what
an approved write-off closes as: the rules the case workflow's task Update applies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.case import CaseOutcome, CasePolicy, CaseState, Role, Task, TaskType
from domain.deadlines import Deadline, DeadlineKind
from domain.models import Category, DenialKind, WorkPath
from domain.task_work import (
    expected_decision_problem,
    next_path_problem,
    submission_problem,
    triage_problem,
    write_off_outcome,
)
from testkit.records import make_record

TODAY = date(2026, 5, 4)
AT = datetime(2026, 5, 4, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def deadline(kind: DeadlineKind, due: date, level: int | None = None) -> Deadline:
    return Deadline(kind=kind, due=due, level=level, basis="test", rule_id="r", source="test")


def case(kind: DenialKind = DenialKind.DENIAL, **changes: object) -> CaseState:
    state = CaseState(
        case_id="case-1",
        record=make_record(TODAY, kind=kind)
        if kind is DenialKind.REJECTION
        else make_record(TODAY, remit_days_ago=10),
        policy=CasePolicy(),
        created_at=AT,
        updated_at=AT,
        suggested_path=WorkPath.APPEAL,
        deadlines=[
            deadline(DeadlineKind.APPEAL, TODAY + 30 * DAY, level=1),
            deadline(DeadlineKind.CORRECTED_CLAIM, TODAY - DAY),
            deadline(DeadlineKind.TIMELY_FILING, TODAY + 60 * DAY),
        ],
    )
    return state.model_copy(update=changes)


def task(type: TaskType, deadline_key: str | None, level: int | None = None) -> Task:
    return Task(
        task_id="case-1-t3",
        type=type,
        queue=Role.BILLER,
        created_at=AT,
        due_at=AT + 30 * DAY,
        deadline_key=deadline_key,
        appeal_level=level,
        last_touched_at=AT,
    )


def test_triage_keeps_rejections_and_denials_apart_and_takes_an_open_path() -> None:
    denial, rejection = case(), case(DenialKind.REJECTION)
    assert triage_problem(denial, None, None, TODAY) is None  # the suggested appeal is open
    assert triage_problem(denial, Category.CODING, WorkPath.APPEAL, TODAY) is None
    assert triage_problem(denial, Category.REJECTION, None, TODAY) == (
        "the rejection category is for claims rejected before adjudication"
    )
    assert triage_problem(rejection, Category.CODING, WorkPath.CORRECTED_CLAIM, TODAY) == (
        "a rejection keeps the rejection category"
    )
    assert triage_problem(rejection, Category.REJECTION, WorkPath.CORRECTED_CLAIM, TODAY) is None
    assert triage_problem(denial, None, WorkPath.CORRECTED_CLAIM, TODAY) == (
        "cannot take the corrected_claim path: the corrected claim deadline passed on "
        f"{(TODAY - DAY).isoformat()}"
    )


def test_a_submission_is_dated_between_the_denial_and_its_deadline_by_its_own_task() -> None:
    state = case()
    appeal = task(TaskType.PREPARE_APPEAL, "appeal:1", level=1)
    remitted = TODAY - 10 * DAY
    assert submission_problem(state, appeal, TODAY, TODAY, 1) is None
    assert submission_problem(state, appeal, remitted, TODAY, 1) is None
    assert submission_problem(state, appeal, TODAY, TODAY, 2) == (
        "this task prepares the level 1 appeal, not level 2"
    )
    assert submission_problem(state, appeal, TODAY + DAY, TODAY, 1) == (
        f"submitted_on {(TODAY + DAY).isoformat()} is in the future"
    )
    assert submission_problem(state, appeal, remitted - DAY, TODAY, 1) == (
        f"submitted_on {(remitted - DAY).isoformat()} is before the remittance "
        f"{remitted.isoformat()} that denied the claim"
    )
    # A corrected claim has no level to compare; after its window it is refused.
    corrected = task(TaskType.PREPARE_CORRECTED_CLAIM, "corrected_claim")
    assert submission_problem(state, corrected, TODAY, TODAY) == (
        f"submitted_on {TODAY.isoformat()} is after the corrected claim deadline "
        f"{(TODAY - DAY).isoformat()}"
    )
    assert submission_problem(state, corrected, TODAY - DAY, TODAY) is None
    # A rejection was never remitted: any day up to today and its deadline will do.
    rejection = case(DenialKind.REJECTION)
    resubmit = task(TaskType.PREPARE_CORRECTED_CLAIM, "timely_filing")
    assert submission_problem(rejection, resubmit, TODAY - 400 * DAY, TODAY) is None


def test_work_done_instead_names_a_path_that_does_the_work_and_is_open() -> None:
    state = case()
    what = "refusing a write-off"
    assert next_path_problem(state, WorkPath.APPEAL, TODAY, what) is None
    assert next_path_problem(state, WorkPath.TRANSFER_TO_PATIENT, TODAY, what) is None
    assert next_path_problem(state, None, TODAY, what) == (
        "refusing a write-off needs next_path: how the case is worked instead"
    )
    for path in (WorkPath.WRITE_OFF_REVIEW, WorkPath.DUPLICATE_CHECK):
        assert next_path_problem(state, path, TODAY, what) == (
            f"next_path cannot be {path.value} for refusing a write-off"
        )
    assert str(next_path_problem(state, WorkPath.CORRECTED_CLAIM, TODAY, what)).startswith(
        "cannot take the corrected_claim path: the corrected claim deadline passed"
    )
    rejection = case(DenialKind.REJECTION)
    assert next_path_problem(rejection, WorkPath.APPEAL, TODAY, what) == (
        "cannot take the appeal path: a rejection can only be corrected and resubmitted, "
        "or written off"
    )


def test_a_follow_up_expects_the_decision_today_or_later() -> None:
    assert expected_decision_problem(None, TODAY) is None
    assert expected_decision_problem(TODAY, TODAY) is None
    assert expected_decision_problem(TODAY - DAY, TODAY) == "expected_decision_date is in the past"


def test_an_approved_write_off_closes_as_what_was_given_up() -> None:
    assert write_off_outcome(case()) is CaseOutcome.WRITTEN_OFF
    assert write_off_outcome(case(lost_to_deadline=True)) is CaseOutcome.LOST_TO_DEADLINE
    # Anything recovered makes it a partial recovery, even when the deadline was lost.
    partly = case(lost_to_deadline=True, recovered_amount=Decimal("0.01"))
    assert write_off_outcome(partly) is CaseOutcome.PARTIALLY_RECOVERED
