"""Every detail the product writes into the audit trail is classified: PHI-free (admins see
it) or possibly naming a patient (withheld from admins). A new key fails here until someone
decides which it is."""

from __future__ import annotations

import ast
from pathlib import Path

from domain.audit_detail import MAY_NAME_A_PATIENT, PHI_FREE_KEYS, WITHHELD, visible_detail

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("activities", "api", "db", "denials", "services", "web", "workflows")
# Calls whose keyword arguments become an entry's detail (services.audit.AuditService.record
# and record_unanswered; the case and task services pass theirs through _change and _act).
RECORDING_CALLS = {"record", "record_unanswered", "_change", "_act"}
# Keywords that are columns of the entry, or parameters of the calls, not detail.
COLUMNS = {"case_id", "task_id", "update_id", "sent"}


def recorded_detail_keys() -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in RECORDING_CALLS
                ):
                    for keyword in node.keywords:
                        if keyword.arg and keyword.arg not in COLUMNS:
                            keys.setdefault(keyword.arg, set()).add(str(path.relative_to(ROOT)))
    return keys


def test_every_recorded_detail_key_is_classified() -> None:
    keys = recorded_detail_keys()
    assert {"reason", "why", "filters", "decision", "sha256"} <= set(keys)  # the scan works
    unclassified = {
        key: sorted(where)
        for key, where in keys.items()
        if key not in PHI_FREE_KEYS | MAY_NAME_A_PATIENT
    }
    assert unclassified == {}, "classify these in domain/audit_detail.py"
    assert PHI_FREE_KEYS.isdisjoint(MAY_NAME_A_PATIENT)


def test_admins_see_phi_free_detail_and_nothing_else() -> None:
    detail = {"reason": "Mrs Q called", "decision": "paid", "something_new": "x"}
    assert visible_detail(detail, full=True) == detail
    assert visible_detail(detail, full=False) == {
        "reason": WITHHELD,
        "decision": "paid",
        "something_new": WITHHELD,  # unknown keys are withheld until classified
    }
