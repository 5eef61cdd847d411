"""Who may do what: the role matrix, in one place. The HTTP gate, the pages, the services and
the case workflow's validators all ask it (`allows`), so editing a role's row changes every
one of them, and the role-matrix test (tests/api/test_role_matrix.py) covers them all.

Billers work cases; supervisors also steer them (reassign, out of office, write-off approval,
priority, restarting a case workflow stopped in Temporal) and read the audit trail; admins
manage users and payer rules and read the audit trail, but do not work or read cases (least
privilege over PHI).

A workflow handler checks again what its validator checked: narrowing a role that running
cases have already seen act must keep the saved histories replaying (tests/workflows).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from domain.case import Actor, CasePolicy, Role, Task


class Permission(StrEnum):
    VIEW_CASES = "view_cases"
    # Work the tasks assigned to them or waiting in their role's queue; add notes, record
    # extensions; be given tasks.
    WORK_TASKS = "work_tasks"
    # Act on any task: whoever holds it, whichever queue it waits in.
    WORK_ANY_TASK = "work_any_task"
    # Write off more than the policy's approval threshold.
    APPROVE_WRITE_OFFS = "approve_write_offs"
    # Recount a case's deadlines under the payer rule in force today.
    RECOUNT_DEADLINES = "recount_deadlines"
    # Upload an attestation a physician signed outside the case manager.
    UPLOAD_ATTESTATIONS = "upload_attestations"
    # While out of office their open tasks are handed to colleagues of the same pool, and
    # they take colleagues' tasks (billers: a supervisor's work is the team's queue already).
    COVERED_WHEN_AWAY = "covered_when_away"
    INGEST_FILES = "ingest_files"
    # Ingest again every file a stopped process left unfinished (files anyone sent, so PHI
    # of every uploader): supervisors; the API also does it by itself at start-up.
    RESUME_INGESTS = "resume_ingests"
    SUPERVISE = "supervise"
    VIEW_AUDIT = "view_audit"
    # The audit trail's free text (reasons, search terms, file names): it may name patients.
    VIEW_AUDIT_DETAIL = "view_audit_detail"
    VIEW_RULES = "view_rules"
    MANAGE_RULES = "manage_rules"
    MANAGE_USERS = "manage_users"
    # Attest medical necessity in the case manager, signing as themselves.
    ATTEST = "attest"
    # Set what a 999 left unknown (payer, date of service): billers, and the ingest when a
    # later file from the payer names them.
    IDENTIFY_CLAIMS = "identify_claims"
    # Start a new run of a case workflow stopped outside the product (terminated in Temporal).
    RESTART_WORKFLOWS = "restart_workflows"
    # Be shown the link to the Temporal Web UI: it has no sign-in of its own and lists every
    # case's workflow, so it is for those who operate the product, never billers.
    OPEN_TEMPORAL_UI = "open_temporal_ui"
    # Check 837 claims before they are sent (the findings name claims and their codes): those
    # who send and correct claims.
    CHECK_CLAIMS = "check_claims"
    # Write, revise and switch off a prevention item's edits (conditions that warn about or
    # block the next claim of its pattern before it is sent): those who work the board.
    WRITE_PREVENTION_EDITS = "write_prevention_edits"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.BILLER: frozenset(
        {
            Permission.VIEW_CASES,
            Permission.WORK_TASKS,
            Permission.INGEST_FILES,
            Permission.VIEW_RULES,
            Permission.IDENTIFY_CLAIMS,
            Permission.UPLOAD_ATTESTATIONS,
            Permission.COVERED_WHEN_AWAY,
            Permission.CHECK_CLAIMS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Permission.VIEW_CASES,
            Permission.WORK_TASKS,
            Permission.WORK_ANY_TASK,
            Permission.APPROVE_WRITE_OFFS,
            Permission.RECOUNT_DEADLINES,
            Permission.UPLOAD_ATTESTATIONS,
            Permission.IDENTIFY_CLAIMS,
            Permission.INGEST_FILES,
            Permission.RESUME_INGESTS,
            Permission.SUPERVISE,
            Permission.RESTART_WORKFLOWS,
            Permission.OPEN_TEMPORAL_UI,
            Permission.CHECK_CLAIMS,
            Permission.VIEW_AUDIT,
            Permission.VIEW_AUDIT_DETAIL,
            Permission.VIEW_RULES,
            Permission.WRITE_PREVENTION_EDITS,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.VIEW_AUDIT,
            Permission.VIEW_RULES,
            Permission.MANAGE_RULES,
            Permission.MANAGE_USERS,
            Permission.RECOUNT_DEADLINES,
            Permission.OPEN_TEMPORAL_UI,
        }
    ),
    # Physicians see only the appeals awaiting their attestation (services.appeals checks the
    # case); they neither read other cases nor work billing tasks.
    Role.PHYSICIAN: frozenset({Permission.ATTEST, Permission.UPLOAD_ATTESTATIONS}),
    Role.SYSTEM: frozenset({Permission.IDENTIFY_CLAIMS}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def roles_allowed(permission: Permission) -> list[Role]:
    """The roles with `permission`, in the matrix's order (for queries over users)."""
    return [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]


def work_permission_problem(actor: Actor, task: Task) -> str | None:
    """Why `actor` may not work `task`, or None when they may: a task assigned to them or
    waiting unassigned in their role's queue, or any task with WORK_ANY_TASK."""
    if allows(actor.role, Permission.WORK_ANY_TASK):
        return None
    if not allows(actor.role, Permission.WORK_TASKS):
        return f"role '{actor.role.value}' cannot work case tasks"
    if task.assignee is not None and task.assignee != actor.user_id:
        return f"task {task.task_id} is assigned to {task.assignee}, not to {actor.user_id}"
    if task.assignee is None and task.queue is not actor.role:
        return f"task {task.task_id} is in the {task.queue.value} queue"
    return None


def write_off_approval_problem(actor: Actor, amount: Decimal, policy: CasePolicy) -> str | None:
    """Writing off more than the approval threshold takes a supervisor."""
    if amount > policy.write_off_approval_threshold and not allows(
        actor.role, Permission.APPROVE_WRITE_OFFS
    ):
        return (
            f"writing off ${amount} needs a supervisor "
            f"(above ${policy.write_off_approval_threshold})"
        )
    return None
