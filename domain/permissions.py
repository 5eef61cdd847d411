"""Who may do what: the role matrix, in one place.

Billers work cases; supervisors also steer them (reassign, out of office, write-off approval,
priority, restarting a case workflow stopped in Temporal) and read the audit trail; admins
manage users and payer rules and read the audit trail, but do not work or read cases (least
privilege over PHI).
"""

from __future__ import annotations

from enum import StrEnum

from domain.case import Role


class Permission(StrEnum):
    VIEW_CASES = "view_cases"
    WORK_TASKS = "work_tasks"
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
    ATTEST = "attest"
    # Set what a 999 left unknown (payer, date of service): billers, and the ingest when a
    # later file from the payer names them.
    IDENTIFY_CLAIMS = "identify_claims"
    # Start a new run of a case workflow stopped outside the product (terminated in Temporal).
    RESTART_WORKFLOWS = "restart_workflows"
    # Be shown the link to the Temporal Web UI: it has no sign-in of its own and lists every
    # case's workflow, so it is for those who operate the product, never billers.
    OPEN_TEMPORAL_UI = "open_temporal_ui"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.BILLER: frozenset(
        {
            Permission.VIEW_CASES,
            Permission.WORK_TASKS,
            Permission.INGEST_FILES,
            Permission.VIEW_RULES,
            Permission.IDENTIFY_CLAIMS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Permission.VIEW_CASES,
            Permission.WORK_TASKS,
            Permission.IDENTIFY_CLAIMS,
            Permission.INGEST_FILES,
            Permission.RESUME_INGESTS,
            Permission.SUPERVISE,
            Permission.RESTART_WORKFLOWS,
            Permission.OPEN_TEMPORAL_UI,
            Permission.VIEW_AUDIT,
            Permission.VIEW_AUDIT_DETAIL,
            Permission.VIEW_RULES,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.VIEW_AUDIT,
            Permission.VIEW_RULES,
            Permission.MANAGE_RULES,
            Permission.MANAGE_USERS,
            Permission.OPEN_TEMPORAL_UI,
        }
    ),
    # Physicians see only the appeals awaiting their attestation (services.appeals checks the
    # case); they neither read other cases nor work billing tasks.
    Role.PHYSICIAN: frozenset({Permission.ATTEST}),
    Role.SYSTEM: frozenset({Permission.IDENTIFY_CLAIMS}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
