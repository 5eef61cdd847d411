"""Writing a case's projection: the case row, its tasks and its new timeline events.

Writes are versioned: a late or repeated write (an activity retried, or overtaken by a newer
one) never rolls a case back, and events are keyed by (case, sequence) so they land once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from db.audit_outcomes import reconcile_unknown
from db.case_search import CaseSearchRow
from db.dashboard_summary import refresh_dashboard
from db.models import CaseEventRow, CaseRow, TaskRow
from db.upsert import upsert
from domain.case import CaseEvent, CaseState, Task
from domain.case_search import search_text
from domain.root_cause import denial_carc, denial_procedure_code


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def case_row_values(state: CaseState) -> dict[str, Any]:
    claim = state.record.claim
    deadline = state.next_deadline
    return {
        "case_id": state.case_id,
        "version": state.version,
        "kind": state.kind.value,
        "sequence": state.record.sequence,
        "status": state.status.value,
        "outcome": state.outcome.value if state.outcome else None,
        "category": state.category.value if state.category else None,
        "denial_class": state.denial_class.value if state.denial_class else None,
        "path": state.path.value if state.path else None,
        "payer_id": claim.payer.payer_id,
        "payer_name": claim.payer.name,
        "payer_type": claim.payer.type.value,
        "claim_id": claim.claim_id,
        "payer_claim_control_number": claim.payer_claim_control_number,
        "provider_npi": claim.provider_npi,
        "service_date_from": claim.service_date_from,
        "service_date_to": claim.service_date_to,
        "remittance_date": claim.remittance_date,
        "carc": denial_carc(state.classification),
        "procedure_code": denial_procedure_code(claim, state.classification)[:16],
        "denied_on": claim.remittance_date or state.policy.today(state.created_at),
        "billed_amount": claim.billed_amount,
        "paid_amount": claim.paid_amount,
        "denied_amount": state.denied_amount,
        "recovered_amount": state.recovered_amount,
        "appeal_level": state.appeal_level,
        "next_deadline": deadline.due if deadline else None,
        "next_deadline_kind": deadline.key if deadline else None,
        "priority": state.priority.score if state.priority else 0.0,
        "assignee": state.assignee,
        "owner": state.owner,
        "escalation": int(state.escalation),
        "stalled": state.stalled,
        "source": state.record.source,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
        "closed_at": state.closed_at,
        "state": state.model_dump(mode="json", exclude={"pending_events"}),
    }


def task_row_values(state: CaseState, task: Task) -> dict[str, Any]:
    deadline = state.deadline(task.deadline_key)
    return {
        "task_id": task.task_id,
        "case_id": state.case_id,
        "case_version": state.version,
        "type": task.type.value,
        "status": task.status.value,
        "queue": task.queue.value,
        "assignee": task.assignee,
        "priority": task.priority,
        "appeal_level": task.appeal_level,
        "deadline_key": task.deadline_key,
        "deadline_due": deadline.due if deadline else None,
        "escalation": int(task.escalation),
        "stalled": task.stalled,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "last_touched_at": task.last_touched_at,
        "completed_at": task.completed_at,
        "completed_by": task.completed_by,
    }


def event_row_values(case_id: str, event: CaseEvent) -> dict[str, Any]:
    return {
        "event_id": f"{case_id}:{event.seq}",
        "case_id": case_id,
        "seq": event.seq,
        "at": event.at,
        "type": event.type,
        "actor": event.actor,
        "message": event.message,
        "data": event.data,
        "update_id": event.update_id,
    }


def write_case_projection(session: Session, state: CaseState, new_events: list[CaseEvent]) -> None:
    write_case_projections(session, [(state, new_events)])


def write_case_projections(
    session: Session, projections: Sequence[tuple[CaseState, list[CaseEvent]]]
) -> None:
    """Several cases' projections in one go: each table written by one statement for all of
    them (the worker groups the projections that wait at the same moment, see
    activities.projection)."""
    states = [state for state, _ in projections]
    events = [(state.case_id, event) for state, new in projections for event in new]
    upsert(
        session,
        _table(CaseRow),
        [case_row_values(state) for state in states],
        ["case_id"],
        version_column="version",
    )
    upsert(
        session,
        _table(CaseSearchRow),
        [
            {"case_id": s.case_id, "version": s.version, "text": search_text(s.record.claim)}
            for s in states
        ],
        ["case_id"],
        version_column="version",
    )
    upsert(
        session,
        _table(TaskRow),
        [task_row_values(state, task) for state in states for task in state.tasks],
        ["task_id"],
        version_column="case_version",
    )
    upsert(
        session,
        _table(CaseEventRow),
        [event_row_values(case_id, event) for case_id, event in events],
        ["event_id"],
        update=False,
    )
    reconcile_unknown(session, {e.update_id for _, e in events if e.update_id is not None})
    # From the rows just written (the version guard kept a stale write off the case row).
    refresh_dashboard(session, list(dict.fromkeys(state.case_id for state in states)))
