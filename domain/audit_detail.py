"""What of an audit entry's detail a reader may see. Supervisors, who work cases, see it all;
admins, who manage users and rules but never read cases, see only detail that cannot carry PHI
(ids, codes, counts, dates): free text (reasons, notes), search terms and file names may name a
patient, so they are withheld.
"""

from __future__ import annotations

from typing import Any

# Detail keys whose values are ids, codes, counts, flags or dates, never free text.
PHI_FREE_KEYS = frozenset(
    {
        "absence_id",
        "adjustment",
        "cases_started",
        "created",
        "deadline",
        "decision",
        "document_id",
        "kind",
        "level",
        "new_due",
        "path",
        "payer_id",
        "payer_responses_matched",
        "prevention_task_id",
        "retry_after",
        "role",
        "scope",
        "sha256",
        "shown",
        "status",
        "target",
        "task_id",
        "throttled",
        "uploaded",
        "user_id",
        "view",
    }
)
WITHHELD = "[withheld: may name a patient]"


def visible_detail(detail: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """The detail as a reader sees it: all of it, or its PHI-free keys only."""
    if full:
        return detail
    return {key: value if key in PHI_FREE_KEYS else WITHHELD for key, value in detail.items()}
