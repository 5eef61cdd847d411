"""The life of a denial case: statuses, human tasks, events, and the rules that move them.

Everything here is pure: the workflow calls these functions with `workflow.now()` and its state,
so the same rules can be unit tested without Temporal.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.appeals.attestation import Attestation
from domain.categories import OwningTeam
from domain.classification import Classification
from domain.deadlines import (
    Deadline,
    DeadlineExtension,
    DeadlineKind,
    appeal_deadline,
    apply_extensions,
    expected_decision,
    initial_deadlines,
    local_day,
    time_zone,
)
from domain.models import (
    MAX_NOTE_CHARS,
    Category,
    DenialClass,
    DenialKind,
    DenialRecord,
    WorkPath,
)
from domain.payer_rules import PayerRule
from domain.priority import PriorityBreakdown, PriorityParams


class CaseStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    ROOT_CAUSE = "root_cause"
    CORRECTED_CLAIM = "corrected_claim"
    APPEAL = "appeal"
    WRITE_OFF_REVIEW = "write_off_review"
    TRANSFER_TO_PATIENT = "transfer_to_patient"
    DUPLICATE_CHECK = "duplicate_check"
    AWAITING_PAYER = "awaiting_payer"
    CLOSED = "closed"


class CaseOutcome(StrEnum):
    RECOVERED = "recovered"
    PARTIALLY_RECOVERED = "partially_recovered"
    WRITTEN_OFF = "written_off"
    LOST_TO_DEADLINE = "lost_to_deadline"
    CLOSED_DUPLICATE = "closed_duplicate"
    TRANSFERRED_TO_PATIENT = "transferred_to_patient"
    CANCELLED = "cancelled"


# Closed with money the payer still owes: written off in all or part. The write-off rate counts
# them; a payment arriving later is recorded on them (domain.payer_answers).
GIVEN_UP_OUTCOMES = frozenset(
    {CaseOutcome.WRITTEN_OFF, CaseOutcome.LOST_TO_DEADLINE, CaseOutcome.PARTIALLY_RECOVERED}
)


class Role(StrEnum):
    BILLER = "biller"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"
    # Attests medical necessity for appeals; reads cases, works no billing tasks.
    PHYSICIAN = "physician"


class Actor(BaseModel):
    """Who asks for a change. The API authenticates; the workflow checks the role again."""

    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1, max_length=80)
    role: Role


SYSTEM_ACTOR = Actor(user_id="system", role=Role.SYSTEM)


class TaskType(StrEnum):
    CONFIRM_TRIAGE = "confirm_triage"
    CONFIRM_ROOT_CAUSE = "confirm_root_cause"
    PREPARE_CORRECTED_CLAIM = "prepare_corrected_claim"
    PREPARE_APPEAL = "prepare_appeal"
    APPROVE_WRITE_OFF = "approve_write_off"
    RESOLVE_DUPLICATE = "resolve_duplicate"
    RECORD_PAYER_RESPONSE = "record_payer_response"
    FOLLOW_UP_WITH_PAYER = "follow_up_with_payer"
    # Raised to supervisors when the clearinghouse adapter could not send a submission.
    RESOLVE_SUBMISSION_FAILURE = "resolve_submission_failure"


# Tasks whose work must be submitted before the governing deadline; if it passes while one of
# them is open, the case is lost to the deadline.
PRE_SUBMISSION_TASKS = frozenset(
    {
        TaskType.CONFIRM_TRIAGE,
        TaskType.CONFIRM_ROOT_CAUSE,
        TaskType.PREPARE_CORRECTED_CLAIM,
        TaskType.PREPARE_APPEAL,
        TaskType.RESOLVE_DUPLICATE,
    }
)


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EscalationLevel(IntEnum):
    NONE = 0
    REMINDER = 1
    ESCALATED = 2
    URGENT = 3


class CasePolicy(BaseModel):
    """Tunable timings and thresholds, snapshotted into each workflow when it starts."""

    model_config = ConfigDict(frozen=True)

    reminder_days: int = Field(default=14, ge=0)
    escalate_days: int = Field(default=7, ge=0)
    urgent_days: int = Field(default=2, ge=0)
    stalled_after_days: int = Field(default=5, ge=1)
    write_off_approval_threshold: Decimal = Decimal(500)
    follow_up_interval_days: int = Field(default=14, ge=1)
    follow_up_due_days: int = Field(default=3, ge=1)
    untimed_task_due_days: int = Field(default=7, ge=1)
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of the billing office (e.g. America/Los_Angeles): a "
        "deadline day ends at its midnight",
    )

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        time_zone(value)
        return value

    @property
    def tz(self) -> tzinfo:
        return time_zone(self.timezone)

    def today(self, now: datetime) -> date:
        """The organisation's calendar day at `now`."""
        return local_day(now, self.tz)


class Placement(BaseModel):
    """Where a task was (queue and assignee) before urgency moved it to the supervisors."""

    model_config = ConfigDict(frozen=True)

    queue: Role
    assignee: str | None = None


class Task(BaseModel):
    task_id: str
    type: TaskType
    status: TaskStatus = TaskStatus.OPEN
    queue: Role
    assignee: str | None = None
    priority: float = 0.0
    created_at: datetime
    due_at: datetime
    deadline_key: str | None = Field(
        default=None, description="The deadline this task races (escalations count from it)"
    )
    appeal_level: int | None = None
    escalation: EscalationLevel = EscalationLevel.NONE
    placement_before_urgent: Placement | None = Field(
        default=None, description="Set while urgency holds the task in the supervisor queue"
    )
    stalled: bool = False
    last_touched_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is TaskStatus.OPEN


class CaseEvent(BaseModel):
    seq: int
    at: datetime
    type: str
    actor: str
    message: str
    data: dict[str, Any] = Field(default_factory=dict)
    # The Update that made it, so a request that went unanswered is reconciled when applied.
    update_id: str | None = None


class RootCause(BaseModel):
    model_config = ConfigDict(frozen=True)

    cause: str = Field(min_length=1, max_length=200)
    owning_team: OwningTeam
    pattern: bool = False
    notes: str = ""
    # Set when root cause analysis found a pattern: groups the case's prevention item by it.
    pattern_key: str | None = Field(default=None, max_length=400)
    evidence: str = Field(default="", description="Why the analysis says pattern or one-off")


class SubmissionKind(StrEnum):
    CORRECTED_CLAIM = "corrected_claim"
    APPEAL = "appeal"


class Submission(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: SubmissionKind
    appeal_level: int | None = None
    submitted_on: date
    reference: str = ""
    summary: str
    submitted_by: str
    # Filled in once the clearinghouse adapter sent it: the proof of filing against deadlines.
    submission_id: str = ""
    sent_at: datetime | None = None
    sent_to: str = ""
    sha256: str = ""


class PayerDecision(StrEnum):
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    UPHELD = "upheld"
    # A resubmitted rejection that the payer now accepts into adjudication (277CA A1/A2).
    ACCEPTED = "accepted"
    # The payer moved the balance to the patient (an 835 reprocessing the claim as PR-1
    # deductible, say): the case closes transferred to the patient, never recovered.
    PATIENT_RESPONSIBILITY = "patient_responsibility"


class PayerResponse(BaseModel):
    """The payer's answer to a corrected claim or appeal (from an 835, or entered by hand)."""

    model_config = ConfigDict(frozen=True)

    decision: PayerDecision
    paid_amount: Decimal = Field(default=Decimal(0), ge=0)
    claim_paid_total: Decimal | None = Field(
        default=None,
        ge=0,
        description="From an 835: what the claim is paid in all. The case counts the part it had "
        "not been paid when denied nor recovered since (paid_amount is the ingest's estimate)",
    )
    decision_date: date
    payer_claim_control_number: str = Field(default="", max_length=80)
    reference: str = Field(
        default="", max_length=200, description="Identifies the answer: a re-sent one is ignored"
    )
    notes: str = Field(default="", max_length=MAX_NOTE_CHARS)
    source: str = Field(default="manual", max_length=80)


class CaseState(BaseModel):
    """The case as its workflow carries it: what the Query returns and what the read model
    projects. Kept small whatever the case's age: the timeline (notes included) lives in the
    read model; the state holds only the events not yet written there."""

    case_id: str
    record: DenialRecord
    policy: CasePolicy
    status: CaseStatus = CaseStatus.RECEIVED
    outcome: CaseOutcome | None = None
    outcome_reason: str = ""
    # Triage: what the rules suggested, then what the biller confirmed.
    classification: Classification | None = None
    category: Category | None = None
    denial_class: DenialClass | None = None
    suggested_path: WorkPath | None = None
    path: WorkPath | None = None
    root_cause: RootCause | None = None
    suggested_root_cause: RootCause | None = None
    appeal_level: int = 0
    # Deadlines: computed from the payer rule, with recorded extensions applied.
    rule: PayerRule | None = None
    appeal_notice_dates: dict[int, date] = Field(
        default_factory=dict, description="Level -> date of the notice that opened it (level 2+)"
    )
    extensions: list[DeadlineExtension] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    # Priority.
    priority_params: PriorityParams | None = None
    priority: PriorityBreakdown | None = None
    priority_adjustment: float = 1.0
    priority_adjustment_reason: str = ""
    # Work.
    owner: str | None = None
    tasks: list[Task] = Field(default_factory=list)
    submissions: list[Submission] = Field(default_factory=list)
    attestation: Attestation | None = None
    payer_responses: list[PayerResponse] = Field(default_factory=list)
    next_follow_up_at: datetime | None = None
    recovered_amount: Decimal = Decimal(0)
    # Set when the case starts (workflow.patched): cases started earlier close on a partial
    # payment instead of reviewing the remainder, for the rest of their life.
    reviews_partial_payments: bool = False
    lost_to_deadline: bool = False
    prevention_task_id: str | None = None
    # Escalation belongs to the deadline: the level announced for each deadline key.
    deadline_escalations: dict[str, EscalationLevel] = Field(default_factory=dict)
    pending_events: list[CaseEvent] = Field(
        default_factory=list, description="Events not yet in the read model's timeline"
    )
    event_seq: int = Field(default=0, description="Sequence number of the latest event")
    version: int = 0
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_full_timeline(cls, data: Any) -> Any:
        """A state saved before the timeline moved out (the input of a run that continued as
        new) carries every event: keep them as pending (projecting them again is a no-op) and
        count on from the last."""
        if isinstance(data, dict) and "events" in data:
            data = dict(data)
            events = data.pop("events") or []
            data.setdefault("pending_events", events)
            last = events[-1] if events else None
            seq = (last.seq if isinstance(last, CaseEvent) else last["seq"]) if last else 0
            data.setdefault("event_seq", seq)
        return data

    @property
    def kind(self) -> DenialKind:
        return self.record.kind

    @property
    def denied_amount(self) -> Decimal:
        if self.classification is None:
            return self.record.claim.billed_amount - self.record.claim.paid_amount
        return self.classification.denied_amount

    @property
    def written_off_amount(self) -> Decimal:
        """What a closed case gave up: the outstanding amount of a given-up outcome."""
        return self.outstanding_amount if self.outcome in GIVEN_UP_OUTCOMES else Decimal(0)

    @property
    def outstanding_amount(self) -> Decimal:
        """What the payer still owes of the denied amount (all of it until a payment)."""
        return max(self.denied_amount - self.recovered_amount, Decimal(0))

    @property
    def open_tasks(self) -> list[Task]:
        return [task for task in self.tasks if task.is_open]

    def task(self, task_id: str) -> Task | None:
        return next((task for task in self.tasks if task.task_id == task_id), None)

    def deadline(self, key: str | None) -> Deadline | None:
        return next((d for d in self.deadlines if d.key == key), None) if key else None

    @property
    def next_deadline(self) -> Deadline | None:
        """The deadline the case is racing now: its open tasks' deadline, else the payer's
        expected decision while waiting."""
        racing = [self.deadline(t.deadline_key) for t in self.open_tasks]
        candidates = [d for d in racing if d is not None]
        if not candidates and self.status is CaseStatus.AWAITING_PAYER:
            decisions = [d for d in self.deadlines if d.kind is DeadlineKind.PAYER_DECISION]
            candidates = decisions[-1:]
        return min(candidates, key=lambda d: d.due) if candidates else None

    @property
    def escalation(self) -> EscalationLevel:
        return max((t.escalation for t in self.open_tasks), default=EscalationLevel.NONE)

    @property
    def stalled(self) -> bool:
        return any(t.stalled for t in self.open_tasks)

    @property
    def assignee(self) -> str | None:
        return next((t.assignee for t in self.open_tasks if t.assignee), None)


def response_applies(state: CaseState, response: PayerResponse) -> bool:
    """Whether a payer's answer moves the case. A payment or a move to the patient always does
    (the payer may reprocess on its own); an upheld denial only answers what the case awaits;
    an acceptance only a resubmitted rejection."""
    if response.decision in (
        PayerDecision.PAID,
        PayerDecision.PARTIALLY_PAID,
        PayerDecision.PATIENT_RESPONSIBILITY,
    ):
        return True
    if response.decision is PayerDecision.ACCEPTED and state.kind is not DenialKind.REJECTION:
        return False
    return state.status is CaseStatus.AWAITING_PAYER


def path_problem(state: CaseState, path: WorkPath, today: date) -> str | None:
    """Why the case cannot take `path` now, or None when it can."""
    if state.kind is DenialKind.REJECTION and path not in (
        WorkPath.CORRECTED_CLAIM,
        WorkPath.WRITE_OFF_REVIEW,
    ):
        return "a rejection can only be corrected and resubmitted, or written off"
    no_appeal_rights = state.classification is not None and not state.classification.appeal_rights
    if path is WorkPath.APPEAL and no_appeal_rights:
        assert state.classification is not None
        return state.classification.no_appeal_reason or (
            "the remittance says there are no appeal rights (e.g. RARC MA130): correct and resubmit"
        )
    if path not in (WorkPath.APPEAL, WorkPath.CORRECTED_CLAIM):
        return None
    key = path_deadline_key(state.kind, path, state.appeal_level)
    assert key is not None  # both paths race a deadline
    deadline = state.deadline(key)
    if deadline is None:
        return f"no {path.value.replace('_', ' ')} deadline is known for this case"
    if deadline.due < today:
        return f"the {deadline.label.lower()} deadline passed on {deadline.due.isoformat()}"
    return None


def decided_appeal_level_problem(state: CaseState) -> str | None:
    """Why the case cannot be appealed again at its current level: that level's appeal was
    submitted and answered (it is not the answer still awaited), and no further level was
    opened."""
    level = max(state.appeal_level, 1)
    submitted = any(
        s.kind is SubmissionKind.APPEAL and s.appeal_level == level for s in state.submissions
    )
    awaiting_its_answer = (
        state.status is CaseStatus.AWAITING_PAYER and state.path is WorkPath.APPEAL
    )
    if submitted and not awaiting_its_answer:
        return f"the level {level} appeal was already decided and no further level is open"
    return None


def path_deadline_key(
    kind: DenialKind, path: WorkPath | None, appeal_level: int, appeal_rights: bool = True
) -> str | None:
    """The deadline that governs work on `path`: timely filing for a rejection (it was never
    filed), the corrected-claim window or the appeal level's deadline for a denial. A duplicate
    check races the deadline of what follows it if the claim was not a duplicate."""
    if kind is DenialKind.REJECTION:
        return DeadlineKind.TIMELY_FILING.value
    if path is WorkPath.DUPLICATE_CHECK:
        path = WorkPath.APPEAL if appeal_rights else WorkPath.CORRECTED_CLAIM
    if path is WorkPath.CORRECTED_CLAIM:
        return DeadlineKind.CORRECTED_CLAIM.value
    if path is WorkPath.APPEAL:
        return f"{DeadlineKind.APPEAL.value}:{max(appeal_level, 1)}"
    return None


def prevention_pattern_key(payer_id: str, category: Category | None, cause: str) -> str:
    """Prevention items group cases by payer + category + root cause."""
    normalised = " ".join(cause.lower().split())
    return f"{payer_id}|{category.value if category else 'unknown'}|{normalised}"


def prevention_key(payer_id: str, category: Category | None, root: RootCause) -> str:
    """A case confirmed as part of a detected pattern joins that pattern's prevention item;
    any other case groups by payer + category + root cause."""
    if root.pattern and root.pattern_key:
        return root.pattern_key
    return prevention_pattern_key(payer_id, category, root.cause)


def case_deadlines(state: CaseState, rule: PayerRule) -> list[Deadline]:
    """Every deadline of the case, derived from its history and the payer rule, with recorded
    extensions applied. Recomputed whenever the history, the rule or an extension changes."""
    appeal_rights = state.classification.appeal_rights if state.classification else True
    deadlines = initial_deadlines(
        rule,
        state.record.claim,
        state.kind,
        state.policy.today(state.created_at),
        appeal_rights,
        service_date_known=state.record.service_date_known,
    )
    for level, notice_date in sorted(state.appeal_notice_dates.items()):
        later = appeal_deadline(rule, level, notice_date)
        if later is not None and level > 1:
            deadlines.append(later)
    decisions: dict[str, Deadline] = {}
    for submission in state.submissions:  # a resubmission replaces the earlier expectation
        decision = expected_decision(rule, submission.submitted_on, submission.appeal_level)
        if decision is not None:
            decisions[decision.key] = decision
    return apply_extensions([*deadlines, *decisions.values()], state.extensions)


def next_appeal_problem(
    rule: PayerRule, next_level: int, amount_in_dispute: Decimal, decision_date: date, today: date
) -> str | None:
    """Why an upheld appeal cannot go on to `next_level`, or None when it can."""
    level_rule = rule.appeal_level(next_level)
    if level_rule is None:
        return f"no appeal level {next_level} for this payer ({rule.id}): appeals exhausted"
    if amount_in_dispute < level_rule.minimum_in_dispute:
        return (
            f"level {next_level} ({level_rule.name}) needs at least "
            f"${level_rule.minimum_in_dispute} in dispute; this case has ${amount_in_dispute}"
        )
    deadline = appeal_deadline(rule, next_level, decision_date)
    assert deadline is not None
    if deadline.due < today:
        return f"the level {next_level} filing deadline passed on {deadline.due.isoformat()}"
    return None
