"""Rules for the work done on a case's tasks: whether what a biller or supervisor entered fits
the case as it stands, and what an approved write-off closes as. Pure: the workflow maps each
task's payload onto these checks and refuses the Update with the reason they give."""

from __future__ import annotations

from datetime import date

from domain.case import CaseOutcome, CaseState, Task, path_problem
from domain.models import Category, DenialKind, WorkPath


def triage_problem(
    state: CaseState, category: Category | None, path: WorkPath | None, today: date
) -> str | None:
    """Why triage cannot be confirmed with this category and path (None: the suggested one)."""
    if state.kind is DenialKind.REJECTION and category not in (None, Category.REJECTION):
        return "a rejection keeps the rejection category"
    if state.kind is DenialKind.DENIAL and category is Category.REJECTION:
        return "the rejection category is for claims rejected before adjudication"
    path = path or state.suggested_path
    assert path is not None
    problem = path_problem(state, path, today)
    return f"cannot take the {path.value} path: {problem}" if problem else None


def submission_problem(
    state: CaseState, task: Task, submitted_on: date, today: date, appeal_level: int | None = None
) -> str | None:
    """Why a corrected claim or an appeal (`appeal_level` given) cannot be recorded as
    submitted on that day by this task: another level's appeal, a day in the future, before
    the remittance that denied the claim, or after the deadline the task races."""
    if appeal_level is not None and appeal_level != task.appeal_level:
        return f"this task prepares the level {task.appeal_level} appeal, not level {appeal_level}"
    if submitted_on > today:
        return f"submitted_on {submitted_on.isoformat()} is in the future"
    notice = state.record.claim.remittance_date
    if notice is not None and submitted_on < notice:
        return (
            f"submitted_on {submitted_on.isoformat()} is before the remittance "
            f"{notice.isoformat()} that denied the claim"
        )
    deadline = state.deadline(task.deadline_key)
    if deadline is not None and submitted_on > deadline.due:
        return (
            f"submitted_on {submitted_on.isoformat()} is after the "
            f"{deadline.label.lower()} deadline {deadline.due.isoformat()}"
        )
    return None


def next_path_problem(
    state: CaseState, path: WorkPath | None, today: date, what: str
) -> str | None:
    """Why the case cannot be worked on `path` instead of `what` (a refused write-off, a claim
    that is not a duplicate): it must name a path that does the work, and one open now."""
    if path is None:
        return f"{what} needs next_path: how the case is worked instead"
    if path in (WorkPath.WRITE_OFF_REVIEW, WorkPath.DUPLICATE_CHECK):
        return f"next_path cannot be {path.value} for {what}"
    problem = path_problem(state, path, today)
    return f"cannot take the {path.value} path: {problem}" if problem else None


def expected_decision_problem(expected: date | None, today: date) -> str | None:
    """A follow-up's expected decision date, if given, is not in the past."""
    if expected is not None and expected < today:
        return "expected_decision_date is in the past"
    return None


def write_off_outcome(state: CaseState) -> CaseOutcome:
    """What an approved write-off closes the case as: partly recovered once anything was
    paid, lost to the deadline when that is why it was written off, else written off."""
    if state.recovered_amount > 0:
        return CaseOutcome.PARTIALLY_RECOVERED
    if state.lost_to_deadline:
        return CaseOutcome.LOST_TO_DEADLINE
    return CaseOutcome.WRITTEN_OFF
