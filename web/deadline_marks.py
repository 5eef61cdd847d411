"""Which of a case's deadlines are done, and how to say it: a deadline already met or answered
(or any deadline of a closed case) shows no countdown, only what became of it."""

from __future__ import annotations

from domain.case import CaseState, CaseStatus, Submission, SubmissionKind
from domain.deadlines import Deadline, DeadlineKind


def _sent(submission: Submission) -> str:
    return f"done: sent {submission.submitted_on.isoformat()}"


def _submission_for(state: CaseState, deadline: Deadline) -> Submission | None:
    """The submission that met `deadline` (the first one made against it)."""
    if deadline.kind is DeadlineKind.APPEAL:
        wanted, level = SubmissionKind.APPEAL, deadline.level
    elif deadline.kind in (DeadlineKind.CORRECTED_CLAIM, DeadlineKind.TIMELY_FILING):
        # A rejection is not filed until corrected and resubmitted: that meets both.
        wanted, level = SubmissionKind.CORRECTED_CLAIM, None
    else:
        return None
    return next(
        (s for s in state.submissions if s.kind is wanted and s.appeal_level == level), None
    )


def deadline_marks(state: CaseState) -> dict[str, str]:
    """Deadline key -> what became of it, for the deadlines that are done: met by a
    submission, answered by the payer (a decided appeal level's expected decision), or
    ended with the case. Deadlines not listed are still running."""
    decisions = [d for d in state.deadlines if d.kind is DeadlineKind.PAYER_DECISION]
    # The payer's answer is awaited to the latest submission only: earlier ones were decided.
    awaited = decisions[-1].key if decisions and state.status is CaseStatus.AWAITING_PAYER else None
    marks: dict[str, str] = {}
    for deadline in state.deadlines:
        if deadline.kind is DeadlineKind.PAYER_DECISION:
            if deadline.key != awaited:
                ended = "case closed" if state.status is CaseStatus.CLOSED else "done"
                marks[deadline.key] = "done: answered" if state.payer_responses else ended
            continue
        submission = _submission_for(state, deadline)
        if submission is not None:
            marks[deadline.key] = _sent(submission)
        elif state.status is CaseStatus.CLOSED:
            marks[deadline.key] = "case closed"
    return marks
