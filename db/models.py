"""Read model tables. The workflow is the source of truth for a case; these rows are its
projection (for worklists and search), the audit log of its events, and the user store."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Numeric, text
from sqlmodel import Field, SQLModel

import db.case_search  # (its tables join the same metadata)
import db.check_outcomes  # (its tables join the same metadata)
import db.claim_checks  # (its tables join the same metadata)
import db.notifications  # (its tables join the same metadata)
import db.prevention_edits  # (its tables join the same metadata)
import db.risk_models  # (its tables join the same metadata)
import db.summary_tables  # (its tables join the same metadata)
import db.work_management  # noqa: F401  (its tables join the same metadata)
from db.types import UTCDateTime

MONEY = Numeric(14, 2)


def _utc_column(**kwargs: Any) -> Column[Any]:
    return Column(UTCDateTime(), **kwargs)


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        # The case list pages by keyset on (sort key, case id): an index per sort, with the
        # status the common filter reads (migration 0020).
        Index("ix_cases_status_priority", "status", "priority", "case_id"),
        Index("ix_cases_assignee_priority", "assignee", "priority", "case_id"),
        Index("ix_cases_priority_order", "priority", "case_id", "status"),
        Index("ix_cases_deadline_order", "next_deadline", "case_id", "status"),
        Index("ix_cases_amount_order", "denied_amount", "case_id", "status"),
        Index("ix_cases_age_order", "created_at", "case_id", "status"),
        Index("ix_cases_payer_category_priority", "payer_id", "category", "priority", "case_id"),
        # Root cause patterns are counted at every triage: outcome, amount and id ride along so
        # that the counts are read from these indexes alone (migration 0006).
        Index(
            "ix_cases_payer_carc_denied_on",
            "payer_id",
            "carc",
            "denied_on",
            "outcome",
            "denied_amount",
            "case_id",
        ),
        Index(
            "ix_cases_npi_carc_denied_on",
            "provider_npi",
            "carc",
            "denied_on",
            "outcome",
            "denied_amount",
            "case_id",
        ),
        Index(
            "ix_cases_procedure_payer_denied_on",
            "procedure_code",
            "payer_id",
            "denied_on",
            "outcome",
            "denied_amount",
            "case_id",
        ),
    )

    case_id: str = Field(primary_key=True, max_length=64)
    version: int
    kind: str = Field(max_length=16)
    sequence: int = 1
    status: str = Field(max_length=32, index=True)
    outcome: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=40, index=True)
    denial_class: str | None = Field(default=None, max_length=8)
    path: str | None = Field(default=None, max_length=32)
    payer_id: str = Field(max_length=80, index=True)
    payer_name: str = Field(default="", max_length=200)
    payer_type: str = Field(max_length=32)
    claim_id: str = Field(max_length=80, index=True)
    payer_claim_control_number: str = Field(default="", max_length=80, index=True)
    provider_npi: str = Field(default="", max_length=10)
    service_date_from: date
    service_date_to: date | None = None
    remittance_date: date | None = None
    # What root cause analysis counts: the primary denial CARC, the denied procedure and the
    # day the denial was reported (the remittance date, else the day the case was received).
    carc: str = Field(default="", max_length=8)
    procedure_code: str = Field(default="", max_length=16)
    denied_on: date | None = Field(default=None, index=True)
    billed_amount: Decimal = Field(sa_type=MONEY)
    paid_amount: Decimal = Field(sa_type=MONEY)
    denied_amount: Decimal = Field(sa_type=MONEY)
    recovered_amount: Decimal = Field(sa_type=MONEY)
    appeal_level: int = 0
    next_deadline: date | None = Field(default=None, index=True)
    next_deadline_kind: str | None = Field(default=None, max_length=40)
    priority: float = Field(default=0.0)
    assignee: str | None = Field(default=None, max_length=80)
    owner: str | None = Field(default=None, max_length=80)
    escalation: int = 0
    stalled: bool = False
    source: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class TaskRow(SQLModel, table=True):
    __tablename__ = "tasks"

    task_id: str = Field(primary_key=True, max_length=80)
    case_id: str = Field(foreign_key="cases.case_id", index=True, max_length=64)
    case_version: int
    type: str = Field(max_length=40)
    status: str = Field(max_length=16)
    queue: str = Field(max_length=16)
    assignee: str | None = Field(default=None, max_length=80)
    priority: float = 0.0
    appeal_level: int | None = None
    deadline_key: str | None = Field(default=None, max_length=40)
    deadline_due: date | None = None
    escalation: int = 0
    stalled: bool = False
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    due_at: datetime = Field(sa_column=_utc_column(nullable=False))
    last_touched_at: datetime = Field(sa_column=_utc_column(nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    completed_by: str | None = Field(default=None, max_length=80)


# The worklists (My tasks, the team queue) read this index alone: what they filter on, sort by
# in their order (deadline risk: escalation and priority descending, then the due time) and the
# case a follow-up date is looked up for (migrations 0018, 0022).
_tasks = TaskRow.__table__.c  # type: ignore[attr-defined]
Index(
    "ix_tasks_worklist",
    _tasks.status,
    _tasks.assignee,
    _tasks.queue,
    _tasks.escalation.desc(),
    _tasks.priority.desc(),
    _tasks.due_at,
    _tasks.task_id,
    _tasks.type,
    _tasks.case_id,
)
# All open tasks (a supervisor's list) in the same order, whoever holds them.
Index(
    "ix_tasks_open_order",
    _tasks.status,
    _tasks.escalation.desc(),
    _tasks.priority.desc(),
    _tasks.due_at,
    _tasks.task_id,
)


class CaseEventRow(SQLModel, table=True):
    """The case timeline, which is also its audit trail of state changes."""

    __tablename__ = "case_events"

    event_id: str = Field(primary_key=True, max_length=80)
    case_id: str = Field(foreign_key="cases.case_id", index=True, max_length=64)
    seq: int
    at: datetime = Field(sa_column=_utc_column(nullable=False))
    type: str = Field(max_length=40)
    actor: str = Field(max_length=80)
    message: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The Update that made it: an audit entry left 'unknown' for that Update is reconciled.
    update_id: str | None = Field(default=None, max_length=64, index=True)


class PreventionTaskRow(SQLModel, table=True):
    """One open item per pattern (payer + category + root cause), listing its cases."""

    __tablename__ = "prevention_tasks"
    __table_args__ = (
        Index(
            "uq_prevention_open_pattern",
            "pattern_key",
            unique=True,
            sqlite_where=text("status != 'done'"),
            postgresql_where=text("status != 'done'"),
        ),
    )

    prevention_task_id: str = Field(primary_key=True, max_length=40)
    pattern_key: str = Field(max_length=400)
    payer_id: str = Field(max_length=80, index=True)
    payer_name: str = Field(default="", max_length=200)
    category: str | None = Field(default=None, max_length=40)
    root_cause: str = Field(max_length=200)
    owning_team: str = Field(max_length=40)
    recommended_action: str
    status: str = Field(default="open", max_length=16)
    owner: str | None = Field(default=None, max_length=80)
    notes: str = ""
    case_count: int = 0
    dollars_at_stake: Decimal = Field(default=Decimal(0), sa_type=MONEY)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # When it was marked done: its effectiveness compares the windows before and after.
    completed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class PreventionCaseLink(SQLModel, table=True):
    """A case feeds exactly one prevention item: the primary key makes a retry a no-op."""

    __tablename__ = "prevention_case_links"

    case_id: str = Field(primary_key=True, max_length=64)
    prevention_task_id: str = Field(
        foreign_key="prevention_tasks.prevention_task_id", index=True, max_length=40
    )
    denied_amount: Decimal = Field(sa_type=MONEY)
    outcome: str = Field(max_length=32)
    linked_at: datetime = Field(sa_column=_utc_column(nullable=False))


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    user_id: str = Field(primary_key=True, max_length=80)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=200)
    # Where notifications are e-mailed; none means in the app only.
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))


class SessionRow(SQLModel, table=True):
    """A signed-in session: a bearer token for API clients or a cookie for the web UI.
    Only the token's SHA-256 is stored."""

    __tablename__ = "sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.user_id", index=True, max_length=80)
    kind: str = Field(max_length=8)  # bearer | cookie
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    last_seen_at: datetime = Field(sa_column=_utc_column(nullable=False))
    expires_at: datetime = Field(sa_column=_utc_column(nullable=False))


class SignInFailureRow(SQLModel, table=True):
    """A failed sign-in, counted per user id and per client address to throttle password
    guessing (domain.sign_in). In the database so that every API process sees the same counts;
    rows older than the counting window are pruned. Never holds the password."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_user_at", "user_id", "at"),
        Index("ix_sign_in_failures_address_at", "client_ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))
    user_id: str = Field(max_length=80)  # as typed: unknown ids are throttled the same way
    client_ip: str = Field(max_length=64)


class Outcome(StrEnum):
    """How an audited request ended."""

    OK = "ok"
    REFUSED = "refused"  # not allowed, or not valid
    FAILED = "failed"  # allowed, but not done (e.g. Temporal unreachable)
    # Sent, but no answer came in time: it may still apply. When the workflow applies it, an
    # 'ok' entry naming this one (detail 'reconciles') and the same update id is added.
    UNKNOWN = "unknown"


class AuditEventRow(SQLModel, table=True):
    """Who did or saw what, when (HIPAA audit controls): every case view and every change,
    refused ones included."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_at", "case_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))
    user_id: str = Field(max_length=80, index=True)
    role: str = Field(max_length=16)
    action: str = Field(max_length=40, index=True)
    outcome: str = Field(max_length=16)  # Outcome
    case_id: str | None = Field(default=None, max_length=64)
    task_id: str | None = Field(default=None, max_length=80)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    client_ip: str = Field(default="", max_length=64)
    update_id: str | None = Field(default=None, max_length=64, index=True)  # the Update sent


class AuditSettledUpdateRow(SQLModel, table=True):
    """An Update whose 'unknown' audit entries are settled: its key lets one writer only add
    the 'ok' entry when the projection and the request that went unanswered race."""

    __tablename__ = "audit_settled_updates"

    update_id: str = Field(primary_key=True, max_length=64)
    settled_at: datetime = Field(sa_column=_utc_column(nullable=False))


class PayerRuleVersionRow(SQLModel, table=True):
    """A payer rule version added by an admin, on top of the shipped rules."""

    __tablename__ = "payer_rule_versions"

    id: int | None = Field(default=None, primary_key=True)
    rule_id: str = Field(max_length=80, index=True)
    effective_from: date
    rule: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))


class AbsenceRow(SQLModel, table=True):
    """A user marked out of office by a supervisor, and what happens to their tasks."""

    __tablename__ = "absences"

    absence_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.user_id", index=True, max_length=80)
    starts_at: datetime = Field(sa_column=_utc_column(nullable=False))
    ends_at: datetime = Field(sa_column=_utc_column(nullable=False))
    return_tasks: bool
    status: str = Field(max_length=16)  # scheduled | active | ended | cancelled
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))


class AbsenceReassignmentRow(SQLModel, table=True):
    """A task moved away from an absent user (and back, if the supervisor chose)."""

    __tablename__ = "absence_reassignments"

    absence_id: str = Field(foreign_key="absences.absence_id", primary_key=True, max_length=64)
    task_id: str = Field(primary_key=True, max_length=80)
    case_id: str = Field(max_length=64)
    to_user: str = Field(max_length=80)
    returned: bool = False


class IngestFileRow(SQLModel, table=True):
    """Every file received, stored before it is processed, with what became of it."""

    __tablename__ = "ingest_files"

    sha256: str = Field(primary_key=True, max_length=64)
    filename: str = Field(max_length=500)
    size: int
    kind: str | None = Field(default=None, max_length=8)
    status: str = Field(max_length=16, index=True)  # received | failed | incomplete | ingested
    # Its bytes are in ingest_file_chunks (db.ingest_chunks), never one value: migration 0031.
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_by: str = Field(max_length=80)
    received_at: datetime = Field(sa_column=_utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    # The ingest working the file now, and until when (renewed while it works): an ingest in
    # any process takes a file only while this lease is free or past, so two resumers never
    # work one file, and a process that died holding it lets it go when the lease runs out.
    lease_owner: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    # The implementation-guide check, run beside the ingest in another process
    # (services.ingest_validation): its state and findings, and a lease like the ingest's, so
    # a run whose process was killed is taken over. NULL: never started.
    validation: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    validation_owner: str | None = Field(default=None, max_length=32)
    validation_until: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class IngestChunkRow(SQLModel, table=True):
    """A stored file's bytes, a chunk (db.ingest_chunks.CHUNK_BYTES) a row: a 50 MiB file is
    stored, read and downloaded a chunk at a time, never held whole, and PostgreSQL never binds
    it as one bytea value."""

    __tablename__ = "ingest_file_chunks"

    sha256: str = Field(
        foreign_key="ingest_files.sha256", ondelete="CASCADE", primary_key=True, max_length=64
    )
    position: int = Field(primary_key=True)  # 0, 1, ... in the file's order
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RemittanceClaimRow(SQLModel, table=True):
    """Every claim an 835 adjudicated, denied or not: the denominator of the denial rate."""

    __tablename__ = "remittance_claims"
    __table_args__ = (
        Index("ix_remittance_claims_payer_date", "payer_id", "remittance_date"),
        # The write-off rate asks, per case, whether an 835 of the period adjudicated its claim:
        # answered from the index alone, dates included (migration 0021). Claim first: led by
        # the payer, it would be picked to scan for the per-payer counts.
        Index(
            "ix_remittance_claims_claim_payer",
            "claim_id",
            "payer_id",
            "remittance_date",
            "service_date",
        ),
    )

    # Once per payer + remittance trace + claim (db.remittance_claims); file sha256 : claim
    # index for a remittance without a trace.
    row_id: str = Field(primary_key=True, max_length=80)
    file_sha256: str = Field(foreign_key="ingest_files.sha256", index=True, max_length=64)
    payer_id: str = Field(max_length=80)
    payer_name: str = Field(default="", max_length=200)
    payer_type: str = Field(default="other", max_length=32)  # from CLP06 (migration 0009)
    claim_id: str = Field(max_length=80)
    payer_claim_control_number: str = Field(default="", max_length=80)
    claim_status: str = Field(max_length=4)
    provider_npi: str = Field(default="", max_length=10)
    billed_amount: Decimal = Field(sa_type=MONEY)
    paid_amount: Decimal = Field(sa_type=MONEY)
    denied_amount: Decimal = Field(sa_type=MONEY)
    is_denial: bool
    category: str | None = Field(default=None, max_length=40)
    service_date: date
    remittance_date: date | None = None


class AppealLetterRow(SQLModel, table=True):
    """One version of a case's appeal letter for one level: the generated draft is version 1,
    each edit by a biller adds a version (kept, never overwritten)."""

    __tablename__ = "appeal_letters"
    __table_args__ = (
        Index(
            "ix_appeal_letters_case_level_version",
            "case_id",
            "appeal_level",
            "version",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.case_id", index=True, max_length=64)
    appeal_level: int
    version: int
    template: str = Field(max_length=120)
    body: str
    # Enclosures sent with this version (domain.appeals.finishing.EnclosureItem as JSON);
    # None on versions saved before they were kept: the category's, none attached.
    enclosures: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))


class CaseDocumentRow(SQLModel, table=True):
    """A file kept with a case under the data folder (appeal packet PDF, 837 replacement,
    signed attestation); the SHA-256 proves which bytes were sent."""

    __tablename__ = "case_documents"

    document_id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(foreign_key="cases.case_id", index=True, max_length=64)
    kind: str = Field(max_length=32)  # appeal_packet | corrected_claim_837 | attestation
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=80)
    path: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    size: int
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SubmissionRecordRow(SQLModel, table=True):
    """What a clearinghouse adapter sent, where, and when: the proof of filing against the
    deadlines. One row per submission id (the activity may run twice)."""

    __tablename__ = "submission_records"

    submission_id: str = Field(primary_key=True, max_length=120)
    case_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=24)  # appeal | corrected_claim
    appeal_level: int | None = None
    adapter: str = Field(max_length=40)
    location: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    submitted_at: datetime = Field(sa_column=_utc_column(nullable=False))
    submitted_by: str = Field(max_length=80)


class CaseWorkflowStopRow(SQLModel, table=True):
    """A case whose workflow ended outside the product (terminated, failed, timed out or
    cancelled in Temporal, or gone from it), as the sweep or an action on the case found it;
    cleared when the workflow runs again (a supervisor's restart, or a reset in Temporal).
    Codes, ids and times only: the operator's free-text reason is not copied here."""

    __tablename__ = "case_workflow_stops"
    __table_args__ = (
        # One open stop per case: the sweep and requests noticing it at once record it once.
        Index(
            "uq_case_workflow_stops_open",
            "case_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
        # A run recorded once, open or cleared, is never recorded again.
        Index("uq_case_workflow_stops_run", "case_id", "run_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.case_id", max_length=64)
    run_id: str | None = Field(default=None, max_length=64)  # None: the workflow is gone
    status: str = Field(max_length=16)  # domain.workflow_stops.StopStatus
    stopped_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    stopped_by: str | None = Field(default=None, max_length=200)  # Temporal client identity
    case_version: int  # the read model's version of the case when it was found
    detected_at: datetime = Field(sa_column=_utc_column(nullable=False))
    detected_by: str = Field(max_length=16)  # sweep | action | restart
    cleared_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    cleared_by: str | None = Field(default=None, max_length=80)
    new_run_id: str | None = Field(default=None, max_length=64)


class SweepMarkRow(SQLModel, table=True):
    """How far a periodic sweep has read, so the next one reads only what is newer."""

    __tablename__ = "sweep_marks"

    name: str = Field(primary_key=True, max_length=60)
    at: datetime = Field(sa_column=_utc_column(nullable=False))
