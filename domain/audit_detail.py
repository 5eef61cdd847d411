"""What of an audit entry's detail a reader may see. Supervisors, who work cases, see it all;
admins, who manage users and rules but never read cases, see only detail that cannot carry PHI
(ids, codes, counts, dates): free text (reasons, notes), search terms and file names may name a
patient, so they are withheld.
"""

from __future__ import annotations

from typing import Any

# Detail keys whose values are ids, codes, counts, flags, field names or dates, never free
# text (a user id, a Temporal client identity and a request path name no patient).
PHI_FREE_KEYS = frozenset(
    {
        "absence_id",
        "adjustment",
        "assignee",
        "away_override",
        "blocked_by",
        "cases_started",
        "condition",
        "count",
        "created",
        "csrf",
        "deadline",
        "decision",
        "detected_by",
        "document_id",
        "edit",
        "edit_id",
        "effective_from",
        "enabled",
        "ends_at",
        "fields",
        "filter_id",
        "kind",
        "level",
        "method",
        "namespace",
        "new_due",
        "owner",
        "ownership",
        "path",
        "payer_id",
        "payer_responses_matched",
        "permission",
        "prevention_task_id",
        "queue",
        "reconciles",
        "retry_after",
        "return_tasks",
        "role",
        "rule_id",
        "run_id",
        "scope",
        "severity",
        "sha256",
        "shown",
        "since",
        "starts_at",
        "status",
        "stopped_at",
        "stopped_by",
        "target",
        "task_id",
        "tasks",
        "throttled",
        "to",
        "type",
        "unassigned",
        "until",
        "uploaded",
        "user_id",
        "version",
        "view",
    }
)
# (blocked_by: the codes of the rules and edits that refused a claim; condition: an edit's
# condition on claim fields, as its author wrote it from a form of codes and ids.)
# Detail keys whose values are typed by a user or come from a file: a reason, a note's purpose,
# a search, a file name may each name a patient.
MAY_NAME_A_PATIENT = frozenset({"file", "filters", "reason", "why"})
WITHHELD = "[withheld: may name a patient]"


def visible_detail(detail: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """The detail as a reader sees it: all of it, or its PHI-free keys only."""
    if full:
        return detail
    return {key: value if key in PHI_FREE_KEYS else WITHHELD for key, value in detail.items()}
