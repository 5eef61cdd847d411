"""Who may read or change an appeal letter, and when an attestation can still be recorded."""

from __future__ import annotations

from domain.appeals.attestation import ATTESTATION_REQUIRED
from domain.case import Actor, CaseState, CaseStatus, TaskType
from domain.permissions import Permission, allows, work_permission_problem


def letter_view_problem(actor: Actor, state: CaseState) -> str | None:
    """Those who attest but do not read cases (physicians) see only the open appeals that
    need their attestation; those who read cases see every one (the route checks that)."""
    attests_only = allows(actor.role, Permission.ATTEST) and not allows(
        actor.role, Permission.VIEW_CASES
    )
    if attests_only and (
        state.category not in ATTESTATION_REQUIRED or state.status is CaseStatus.CLOSED
    ):
        return "physicians see only the open appeals that need their attestation"
    return None


def letter_edit_problem(actor: Actor, state: CaseState) -> str | None:
    """The letter (and a signed attestation's upload) belongs to whoever works the appeal:
    the open appeal task's assignee under the task rules; before that task, the case's owner
    (any biller while nobody owns it) or a supervisor."""
    appeal_tasks = [t for t in state.open_tasks if t.type is TaskType.PREPARE_APPEAL]
    if appeal_tasks:
        return work_permission_problem(actor, appeal_tasks[0])
    if not allows(actor.role, Permission.WORK_TASKS):
        return f"role '{actor.role.value}' cannot work appeal letters"
    if allows(actor.role, Permission.WORK_ANY_TASK) or state.owner in (None, actor.user_id):
        return None
    return f"only the case's owner ({state.owner}) or a supervisor works its appeal letter"


def attestation_refusal(state: CaseState) -> tuple[bool, str] | None:
    """Why no attestation can be recorded on the case now, as (is a conflict, reason); None
    when one can."""
    if state.status is CaseStatus.CLOSED:
        return True, "case is closed"
    if state.category not in ATTESTATION_REQUIRED:
        category = state.category.value if state.category else "not yet triaged"
        return False, f"this case needs no physician attestation (category: {category})"
    if state.attestation is not None:
        recorded = state.policy.today(state.attestation.recorded_at).isoformat()
        return True, f"already attested by {state.attestation.physician_name} on {recorded}"
    return None
