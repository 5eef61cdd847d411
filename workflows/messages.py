"""Everything that crosses the case workflow's boundary: its input, the human task payloads
(Updates), the payer response (Signal), and the activities' inputs and outputs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.appeals.corrections import ClaimCorrections
from domain.appeals.finishing import LetterToSend
from domain.case import (
    Actor,
    CaseEvent,
    CaseOutcome,
    CasePolicy,
    CaseState,
    CaseStatus,
    PayerDecision,
    PayerResponse,
    Role,
    RootCause,
    SubmissionKind,
)
from domain.categories import OwningTeam
from domain.classification import Classification
from domain.deadlines import DeadlineKind
from domain.models import (
    MAX_NOTE_CHARS,
    Category,
    DenialClass,
    DenialRecord,
    Payer,
    WorkPath,
)
from domain.payer_rules import PayerRule
from domain.priority import PriorityParams

TASK_QUEUE = "denial-cases"


class CaseInput(BaseModel):
    case_id: str
    record: DenialRecord
    policy: CasePolicy = CasePolicy()
    resume: CaseState | None = Field(
        default=None, description="Set when the workflow continues as new with its state"
    )
    late_payment: PayerResponse | None = Field(
        default=None,
        description="Set when a payment arrives after the case closed written off: a new run "
        "of the closed case (resume holds its state) records it and closes again",
    )


class CaseChange(BaseModel):
    """What an Update returns: a receipt, never the case. Temporal keeps every Update's result
    in the case's history, so it stays small; read the case from the read model (which shows
    the change once this returns) or the Query."""

    case_id: str
    version: int
    status: CaseStatus
    outcome: CaseOutcome | None = None
    changes: list[str] = Field(description="Types of the timeline events the change added")
    open_task_ids: list[str]


class CaseResult(BaseModel):
    case_id: str
    outcome: CaseOutcome
    recovered_amount: Decimal
    prevention_task_id: str
    late_payment_recorded: bool = Field(
        default=False, description="A run started for a late payment recorded it"
    )


# --- Activities -------------------------------------------------------------------------


class TriageRequest(BaseModel):
    record: DenialRecord
    received_on: date


class TriageResult(BaseModel):
    classification: Classification
    rule: PayerRule
    priority_params: PriorityParams
    suggested_root_cause: RootCause


class RulesRequest(BaseModel):
    record: DenialRecord
    as_of: date


class ProjectionRequest(BaseModel):
    """The case as it is now, with only the events not yet projected."""

    state: CaseState
    new_events: list[CaseEvent]


class SubmitRequest(BaseModel):
    """Send a submitted appeal or corrected claim through the clearinghouse adapter."""

    submission_id: str
    state: CaseState
    kind: SubmissionKind
    appeal_level: int | None = None
    claim_corrections: ClaimCorrections | None = None
    letter: LetterToSend | None = Field(
        default=None, description="The appeal letter submitted; None: the newest saved one"
    )
    submitted_by: str
    requested_at: datetime


class SubmissionReceipt(BaseModel):
    submission_id: str
    adapter: str
    location: str = Field(description="Where the adapter put it; empty when nothing was sent")
    sha256: str = ""
    sent_at: datetime
    document_id: str | None = None


class PreventionRequest(BaseModel):
    case_id: str
    pattern_key: str
    payer_id: str
    payer_name: str
    category: Category | None
    root_cause: str
    owning_team: OwningTeam
    denied_amount: Decimal
    outcome: CaseOutcome


# --- Human task payloads (one per task type) ---------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str = Field(default="", max_length=MAX_NOTE_CHARS)


class ConfirmTriage(_Payload):
    """Confirm the suggested triage, or override category, class and path."""

    type: Literal["confirm_triage"] = "confirm_triage"
    category: Category | None = None
    denial_class: DenialClass | None = None
    path: WorkPath | None = None


class ConfirmRootCause(_Payload):
    type: Literal["confirm_root_cause"] = "confirm_root_cause"
    cause: str | None = Field(default=None, max_length=200)
    owning_team: OwningTeam | None = None
    pattern: bool | None = None


class CorrectedClaimSubmitted(_Payload):
    type: Literal["prepare_corrected_claim"] = "prepare_corrected_claim"
    corrections: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    submitted_on: date
    reference: str = Field(default="", max_length=200)
    claim_corrections: ClaimCorrections | None = Field(
        default=None,
        description="Structured corrections: with them the replacement 837 is built and sent",
    )


class AppealSubmitted(_Payload):
    type: Literal["prepare_appeal"] = "prepare_appeal"
    level: int = Field(ge=1)
    argument: str = Field(min_length=1, max_length=20000)
    submitted_on: date
    reference: str = Field(default="", max_length=200)
    letter: LetterToSend | None = Field(
        default=None,
        description="The letter and enclosures sent, with the argument in it. The service "
        "fills it from the appeal task's newest letter, merging the argument; refused while "
        "anything in it is unfinished (older histories carry none)",
    )


class WriteOffDecision(_Payload):
    type: Literal["approve_write_off"] = "approve_write_off"
    approve: bool
    reason: str = Field(min_length=1, max_length=2000)
    next_path: WorkPath | None = Field(
        default=None, description="Required when the write-off is refused: how to work it instead"
    )


class DuplicateResolution(_Payload):
    type: Literal["resolve_duplicate"] = "resolve_duplicate"
    is_duplicate: bool
    original_claim_reference: str = Field(default="", max_length=200)
    next_path: WorkPath | None = Field(
        default=None, description="Required when the claim was not a duplicate"
    )


class PayerResponseEntry(_Payload):
    type: Literal["record_payer_response"] = "record_payer_response"
    decision: PayerDecision
    paid_amount: Decimal = Field(default=Decimal(0), ge=0)
    decision_date: date
    payer_claim_control_number: str = Field(default="", max_length=80)
    reference: str = Field(default="", max_length=200)


class FollowUpResult(_Payload):
    type: Literal["follow_up_with_payer"] = "follow_up_with_payer"
    contact_notes: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    reference: str = Field(default="", max_length=200)
    expected_decision_date: date | None = None


class SubmissionFailureReviewed(_Payload):
    """A supervisor has dealt with a failed submission (adapter fixed, sent another way)."""

    type: Literal["resolve_submission_failure"] = "resolve_submission_failure"
    notes: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


TaskPayload = Annotated[
    ConfirmTriage
    | ConfirmRootCause
    | CorrectedClaimSubmitted
    | AppealSubmitted
    | WriteOffDecision
    | DuplicateResolution
    | PayerResponseEntry
    | FollowUpResult
    | SubmissionFailureReviewed,
    Field(discriminator="type"),
]


# --- Update requests ---------------------------------------------------------------------


class _ActorRequest(BaseModel):
    actor: Actor


class CompleteTask(_ActorRequest):
    task_id: str
    payload: TaskPayload


class ClaimTask(_ActorRequest):
    task_id: str


class ReleaseTask(_ActorRequest):
    task_id: str


class ReassignTask(_ActorRequest):
    task_id: str
    assignee: str | None = Field(default=None, description="User to assign; None for a queue")
    assignee_role: Role = Field(
        default=Role.BILLER, description="The assignee's role, or the queue when unassigned"
    )
    reason: str = Field(default="", max_length=2000)


class ChangePriority(_ActorRequest):
    adjustment: float = Field(gt=0, le=10, description="Multiplier on the computed score")
    reason: str = Field(min_length=1, max_length=2000)


class AddNote(_ActorRequest):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class CancelCase(_ActorRequest):
    reason: str = Field(min_length=1, max_length=2000)


class RecordExtension(_ActorRequest):
    kind: DeadlineKind
    level: int | None = None
    new_due: date
    reason: str = Field(min_length=1, max_length=2000)


class RecordAttestation(_ActorRequest):
    """A physician attests medical necessity, or a biller records the uploaded signed one."""

    physician_name: str = Field(min_length=1, max_length=200)
    statement: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    document_sha256: str = Field(
        default="", pattern=r"^([0-9a-f]{64})?$", description="The uploaded signed attestation"
    )


class RefreshRules(_ActorRequest):
    """Recompute deadlines from the payer rules in effect now (after a rule override)."""


class IdentifyClaim(_ActorRequest):
    """What the file that rejected the claim did not say (a 999 names only its sender and no
    date of service): the payer the claim was sent to (unless the file named it), its dates of
    service and charge. Deadlines are counted again from them."""

    payer: Payer | None = None
    service_date_from: date
    service_date_to: date | None = None
    billed_amount: Decimal | None = Field(default=None, gt=0, decimal_places=2)


class ReturnUserWork(_ActorRequest):
    """Hand back what a deactivated user held: her open tasks go to their queue, and she is
    no longer the case's owner (who receives its new tasks)."""

    user_id: str = Field(min_length=1, max_length=80)
    reason: str = Field(min_length=1, max_length=2000)
