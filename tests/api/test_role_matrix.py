"""The role matrix over every API endpoint: who may call what.

One explicit table says, for each (method, path template) of the app's /api/v1 routes plus the
health probes, which callers may use it: anonymous, the biller alice, the other biller bob, the
supervisor sam and the admin ada. The table must cover exactly the routes the app serves, so a
new route without an entry fails. Each endpoint is then called by every caller with a valid
request on real resources (cases, tasks, an ingested file, an absence, a prevention task) and
the status pinned: anonymous 401; a role lacking the permission 403 with one "access.refused"
audit row naming the user, method and path; an allowed caller its exact 2xx (or the 409 the
resource's state makes right, e.g. claiming a task someone already claimed). Bob acting on a
task assigned to alice passes the role check and is refused by the workflow (403 naming alice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import temporalio.client
from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.http import create_app
from app.settings import Settings
from db.models import AuditEventRow, PreventionCaseLink
from domain.models import DenialRecord
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind
from services.users import UserService
from testkit.claims837 import random_claims, write_claims_837
from testkit.records import make_record
from tests.api.conftest import Api, Json, as_user
from tests.documents import pdf_bytes
from tests.ingest_helpers import GARBAGE

ANONYMOUS = "anonymous"
USERS = ("alice", "bob", "sam", "ada")
# Refused callers go first so that a change made by an allowed caller cannot hide a refusal;
# bob goes before alice so that he meets alice's tasks while they are still open.
CALLERS = (ANONYMOUS, "ada", "bob", "alice", "sam")
ROLES = {"alice": "biller", "bob": "biller", "sam": "supervisor", "ada": "admin"}


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint, and the permission the others lack (None: no role check)."""

    callers: frozenset[str]
    permission: str | None


def _access(permission: str | None, *callers: str) -> Access:
    return Access(frozenset(callers), permission)


PUBLIC = _access(None, ANONYMOUS, *USERS)
SIGNED_IN = _access(None, *USERS)
VIEW_CASES = _access("view_cases", "alice", "bob", "sam")
WORK_TASKS = _access("work_tasks", "alice", "bob", "sam")
INGEST = _access("ingest_files", "alice", "bob", "sam")
RESUME_INGESTS = _access("resume_ingests", "sam")
SUPERVISE = _access("supervise", "sam")
RESTART_WORKFLOWS = _access("restart_workflows", "sam")
VIEW_AUDIT = _access("view_audit", "sam", "ada")
VIEW_RULES = _access("view_rules", "alice", "bob", "sam", "ada")
MANAGE_RULES = _access("manage_rules", "ada")
MANAGE_USERS = _access("manage_users", "ada")
WRITE_PREVENTION_EDITS = _access("write_prevention_edits", "sam")
CHECK_CLAIMS = _access("check_claims", "alice", "bob", "sam")
ATTEST = _access("attest")  # physicians only: none of the callers here
PREVENTION_EDIT = {
    "severity": "warn",
    "fix": "Add modifier GP",
    "condition": {"procedure_codes": ["97110"], "modifier_missing": "GP"},
}
CODEC_SIGNED_OUT = (
    "sign in to the case manager first (the Temporal Web UI must include credentials)"
)


# --- The resources the calls act on ---------------------------------------------------------


@dataclass
class World:
    """Real resources, opened through the API before the matrix is walked (those an area does
    not use stay empty)."""

    today: date
    main_record: DenialRecord
    main_case: str  # triaged; its confirm_triage task is unassigned
    main_task: str
    appeal_due: date  # the main case's first-level appeal deadline
    cancel_case: str = ""  # triaged, for sam to cancel
    alice_complete: str = ""  # confirm_triage task claimed by alice
    sam_complete: str = ""  # confirm_triage task, unassigned
    alice_release: str = ""  # claimed by alice
    sam_release: str = ""  # claimed by bob
    reassign_task: str = ""  # unassigned
    ingested_sha: str = ""
    claim_check_run: str = ""  # an 837 alice checked
    absence_id: str = ""  # alice, away in a month
    prevention_task: str = ""
    prevention_edit: str = ""  # an edit on prevention_task, written by sam
    document_id: str = ""  # the main case's appeal packet
    spare_tokens: dict[str, str] = field(default_factory=dict)  # for logging out
    saved_filters: dict[str, int] = field(default_factory=dict)  # each case reader's own


@dataclass(frozen=True)
class Call:
    """One concrete request: URL and httpx keyword arguments (headers replace the caller's)."""

    url: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] | None = None


Builder = Callable[[World, str], Call]


@dataclass(frozen=True)
class Endpoint:
    access: Access
    build: Builder
    ok: int | Mapping[str, int] = 200  # status of each allowed caller
    # Callers whom the role allows but the workflow refuses (403), with the detail expected.
    workflow_refusal: Callable[[World], Mapping[str, str]] | None = None
    signed_out: str = "sign in first: no valid bearer token or session"  # anonymous's 401

    def expected_ok(self, caller: str) -> int:
        return self.ok if isinstance(self.ok, int) else self.ok[caller]


def _get(url: str, **params: Any) -> Builder:
    return lambda w, who: Call(url.format(w=w), {"params": params} if params else {})


def _post(url: str, body: Json | None = None) -> Builder:
    return lambda w, who: Call(url.format(w=w), {"json": body} if body is not None else {})


def _case_record(w: World, who: str) -> Call:
    return Call("/api/v1/cases", {"json": w.main_record.model_dump(mode="json")})


def _extension(w: World, who: str) -> Call:
    later = w.appeal_due + timedelta(days={"bob": 10, "alice": 20, "sam": 30}.get(who, 40))
    body = {"kind": "appeal", "level": 1, "new_due": later.isoformat(), "reason": f"by {who}"}
    return Call(f"/api/v1/cases/{w.main_case}/extensions", {"json": body})


def _upheld(w: World, who: str) -> Call:
    body = {"decision": "upheld", "decision_date": w.today.isoformat(), "reference": f"ref-{who}"}
    return Call(f"/api/v1/cases/{w.main_case}/payer-responses", {"json": body})


def _follow_up(w: World, who: str) -> Call:
    body = {"follow_up_on": (w.today + timedelta(days=5)).isoformat(), "reason": f"by {who}"}
    return Call(f"/api/v1/cases/{w.main_case}/follow-up", {"json": body})


def _complete(w: World, who: str) -> Call:
    task = w.sam_complete if who == "sam" else w.alice_complete
    return Call(f"/api/v1/tasks/{task}/complete", {"json": {"payload": {"type": "confirm_triage"}}})


def _release(w: World, who: str) -> Call:
    task = w.sam_release if who == "sam" else w.alice_release
    return Call(f"/api/v1/tasks/{task}/release")


def _token(w: World, who: str) -> Call:
    username = "alice" if who == ANONYMOUS else who
    return Call("/api/v1/auth/token", {"data": {"username": username, "password": "demo"}})


def _logout(w: World, who: str) -> Call:
    token = w.spare_tokens.get(who)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return Call("/api/v1/auth/logout", headers=headers)


def _ingest(w: World, who: str) -> Call:
    files = [("files", (f"{who}.txt", GARBAGE + who.encode(), "text/plain"))]
    return Call("/api/v1/ingest", {"files": files})


def _claim_check(w: World, who: str) -> Call:
    files = {"file": (f"{who}.837", write_claims_837(random_claims(2)).encode(), "text/plain")}
    return Call("/api/v1/claim-checks", {"files": files})


def _away(w: World, who: str) -> Call:
    starts = datetime.now(UTC) + timedelta(days=60)
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(days=2)).isoformat(),
        "return_tasks": True,
    }
    return Call("/api/v1/users/bob/absences", {"json": body})


def _new_rule(w: World, who: str) -> Call:
    rule = {
        "id": f"acme-{who}",
        "payer_id": "ACME1",
        "based_on": "commercial-erisa",
        "effective_from": "2027-01-01",
        "source": "ACME provider manual 2027, section 9",
        "appeal_levels": [
            {"level": 1, "name": "Reconsideration", "filing_days": 90, "decision_days": 30}
        ],
    }
    return Call("/api/v1/payer-rules", {"json": rule})


def _rule_preview(w: World, who: str) -> Call:
    return Call("/api/v1/payer-rules/preview", _new_rule(w, who).kwargs)


def _new_user(w: World, who: str) -> Call:
    body = {
        "user_id": f"carol-{who}",
        "display_name": "Carol",
        "role": "biller",
        "password": "correct horse battery",
    }
    return Call("/api/v1/users", {"json": body})


def _upload_attestation(w: World, who: str) -> Call:
    form = {"physician_name": "Dr. Lee", "statement": f"uploaded by {who}"}
    files = {"file": ("signed.pdf", pdf_bytes("signed"), "application/pdf")}
    return Call(f"/api/v1/cases/{w.main_case}/attestation/upload", {"data": form, "files": files})


def _attach_enclosure(w: World, who: str) -> Call:
    form = {"enclosure": "Copy of the claim as billed"}
    files = {"file": (f"claim-{who}.pdf", pdf_bytes(f"claim copy by {who}"), "application/pdf")}
    return Call(
        f"/api/v1/cases/{w.main_case}/appeal-letter/enclosures", {"data": form, "files": files}
    )


def _assigned_to_alice(w: World) -> Mapping[str, str]:
    return {"bob": f"task {w.alice_complete} is assigned to alice, not to bob"}


def _released_by_alice_only(w: World) -> Mapping[str, str]:
    return {"bob": f"task {w.alice_release} is assigned to alice"}


MATRIX: dict[tuple[str, str], Endpoint] = {
    # Health probes and signing in: no role.
    ("GET", "/healthz"): Endpoint(PUBLIC, _get("/healthz")),
    ("GET", "/readyz"): Endpoint(PUBLIC, _get("/readyz")),
    ("POST", "/api/v1/auth/token"): Endpoint(PUBLIC, _token),
    ("GET", "/api/v1/auth/me"): Endpoint(SIGNED_IN, _get("/api/v1/auth/me")),
    ("POST", "/api/v1/auth/logout"): Endpoint(SIGNED_IN, _logout, ok=204),
    # Notifications: everyone's own (none here, so marking one is 404 for every caller).
    ("GET", "/api/v1/notifications"): Endpoint(SIGNED_IN, _get("/api/v1/notifications")),
    ("POST", "/api/v1/notifications/read-all"): Endpoint(
        SIGNED_IN, _post("/api/v1/notifications/read-all")
    ),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Endpoint(
        SIGNED_IN,
        _post("/api/v1/notifications/999999/read"),
        ok={"alice": 404, "bob": 404, "sam": 404, "ada": 404},
    ),
    ("GET", "/api/v1/notifications/preferences"): Endpoint(
        SIGNED_IN, _get("/api/v1/notifications/preferences")
    ),
    ("PUT", "/api/v1/notifications/preferences"): Endpoint(
        SIGNED_IN,
        lambda w, who: Call("/api/v1/notifications/preferences", {"json": {"email_digest": False}}),
    ),
    # Cases.
    ("POST", "/api/v1/cases"): Endpoint(WORK_TASKS, _case_record),  # the same denial: 200
    ("GET", "/api/v1/cases"): Endpoint(VIEW_CASES, _get("/api/v1/cases")),
    ("GET", "/api/v1/cases/{case_id}"): Endpoint(VIEW_CASES, _get("/api/v1/cases/{w.main_case}")),
    ("GET", "/api/v1/cases/{case_id}/live"): Endpoint(
        VIEW_CASES, _get("/api/v1/cases/{w.main_case}/live")
    ),
    ("POST", "/api/v1/cases/{case_id}/notes"): Endpoint(
        WORK_TASKS, _post("/api/v1/cases/{w.main_case}/notes", {"text": "called the payer"})
    ),
    ("POST", "/api/v1/cases/{case_id}/cancel"): Endpoint(
        SUPERVISE, _post("/api/v1/cases/{w.cancel_case}/cancel", {"reason": "not ours"})
    ),
    ("POST", "/api/v1/cases/{case_id}/priority"): Endpoint(
        SUPERVISE,
        _post("/api/v1/cases/{w.main_case}/priority", {"adjustment": 2, "reason": "big payer"}),
    ),
    ("POST", "/api/v1/cases/{case_id}/extensions"): Endpoint(WORK_TASKS, _extension),
    ("POST", "/api/v1/cases/{case_id}/refresh-rules"): Endpoint(
        SUPERVISE, _post("/api/v1/cases/{w.main_case}/refresh-rules")
    ),
    # Workflows stopped in Temporal: the main case's runs, so restarting it is refused (409).
    ("GET", "/api/v1/stopped-cases"): Endpoint(SUPERVISE, _get("/api/v1/stopped-cases")),
    # Learned-risk models: none is stored in the matrix's world, so putting one back is a 404.
    ("GET", "/api/v1/risk-models"): Endpoint(SUPERVISE, _get("/api/v1/risk-models")),
    ("POST", "/api/v1/risk-models/retrain"): Endpoint(
        SUPERVISE, _post("/api/v1/risk-models/retrain"), ok=202
    ),
    ("POST", "/api/v1/risk-models/{version}/activate"): Endpoint(
        SUPERVISE, _post("/api/v1/risk-models/risk-v1/activate"), ok={"sam": 404}
    ),
    ("POST", "/api/v1/cases/{case_id}/restart"): Endpoint(
        RESTART_WORKFLOWS, _post("/api/v1/cases/{w.main_case}/restart"), ok={"sam": 409}
    ),
    ("POST", "/api/v1/cases/{case_id}/payer-responses"): Endpoint(WORK_TASKS, _upheld, ok=202),
    # Follow-up dates: each allowed caller parks the main case (replacing the date before);
    # bob then clears it, and nothing is left for alice and sam to clear.
    ("GET", "/api/v1/cases/{case_id}/follow-up"): Endpoint(
        VIEW_CASES, _get("/api/v1/cases/{w.main_case}/follow-up")
    ),
    ("PUT", "/api/v1/cases/{case_id}/follow-up"): Endpoint(WORK_TASKS, _follow_up),
    ("DELETE", "/api/v1/cases/{case_id}/follow-up"): Endpoint(
        WORK_TASKS,
        lambda w, who: Call(f"/api/v1/cases/{w.main_case}/follow-up"),
        ok={"bob": 204, "alice": 404, "sam": 404},
    ),
    # Saved filters: each case reader saves, reads and deletes their own (set up per user).
    ("GET", "/api/v1/case-filters"): Endpoint(VIEW_CASES, _get("/api/v1/case-filters")),
    ("POST", "/api/v1/case-filters"): Endpoint(
        VIEW_CASES,
        lambda w, who: Call(
            "/api/v1/case-filters", {"json": {"name": f"by {who}", "filters": {"q": "0007"}}}
        ),
        ok=201,
    ),
    ("GET", "/api/v1/case-filters/{filter_id}"): Endpoint(
        VIEW_CASES, lambda w, who: Call(f"/api/v1/case-filters/{w.saved_filters.get(who, 1)}")
    ),
    ("DELETE", "/api/v1/case-filters/{filter_id}"): Endpoint(
        VIEW_CASES,
        lambda w, who: Call(f"/api/v1/case-filters/{w.saved_filters.get(who, 1)}"),
        ok=204,
    ),
    # The main case's 835 named its payer and dates: every allowed caller is refused the change.
    ("POST", "/api/v1/cases/{case_id}/claim-identity"): Endpoint(
        WORK_TASKS,
        _post(
            "/api/v1/cases/{w.main_case}/claim-identity",
            {"payer": {"payer_id": "87726", "name": "UHC"}, "service_date_from": "2026-01-02"},
        ),
        ok={"alice": 422, "bob": 422, "sam": 422},
    ),
    # Appeal letters, attestation and documents.
    ("GET", "/api/v1/cases/{case_id}/appeal-letter"): Endpoint(
        VIEW_CASES, _get("/api/v1/cases/{w.main_case}/appeal-letter")
    ),
    ("POST", "/api/v1/cases/{case_id}/appeal-letter"): Endpoint(
        WORK_TASKS, _post("/api/v1/cases/{w.main_case}/appeal-letter", {"body": "edited"}), ok=201
    ),
    ("POST", "/api/v1/cases/{case_id}/appeal-letter/enclosures"): Endpoint(
        WORK_TASKS, _attach_enclosure, ok=201
    ),
    # The packet is no enclosure of the letter: every allowed caller is told so.
    ("DELETE", "/api/v1/cases/{case_id}/appeal-letter/enclosures/{document_id}"): Endpoint(
        WORK_TASKS,
        lambda w, who: Call(
            f"/api/v1/cases/{w.main_case}/appeal-letter/enclosures/{w.document_id}"
        ),
        ok={"alice": 404, "bob": 404, "sam": 404},
    ),
    ("GET", "/api/v1/cases/{case_id}/appeal-letter/pdf"): Endpoint(
        VIEW_CASES, _get("/api/v1/cases/{w.main_case}/appeal-letter/pdf")
    ),
    ("POST", "/api/v1/cases/{case_id}/attestation"): Endpoint(
        ATTEST,
        _post(
            "/api/v1/cases/{w.main_case}/attestation",
            {"physician_name": "Dr. Lee", "statement": "necessary"},
        ),
    ),
    # bob's upload records the attestation; then the case has one.
    ("POST", "/api/v1/cases/{case_id}/attestation/upload"): Endpoint(
        WORK_TASKS, _upload_attestation, ok={"bob": 200, "alice": 409, "sam": 409}
    ),
    ("GET", "/api/v1/cases/{case_id}/documents"): Endpoint(
        VIEW_CASES, _get("/api/v1/cases/{w.main_case}/documents")
    ),
    ("GET", "/api/v1/cases/{case_id}/documents/{document_id}"): Endpoint(
        VIEW_CASES, _get("/api/v1/cases/{w.main_case}/documents/{w.document_id}")
    ),
    # Tasks.
    ("GET", "/api/v1/tasks"): Endpoint(WORK_TASKS, _get("/api/v1/tasks")),
    ("GET", "/api/v1/tasks/mine"): Endpoint(WORK_TASKS, _get("/api/v1/tasks/mine")),
    ("GET", "/api/v1/tasks/queue"): Endpoint(WORK_TASKS, _get("/api/v1/tasks/queue")),
    ("GET", "/api/v1/tasks/next"): Endpoint(WORK_TASKS, _get("/api/v1/tasks/next")),
    ("GET", "/api/v1/tasks/preferences"): Endpoint(WORK_TASKS, _get("/api/v1/tasks/preferences")),
    ("PUT", "/api/v1/tasks/preferences"): Endpoint(
        WORK_TASKS, _post("/api/v1/tasks/preferences", {"continue_to_next_task": True})
    ),
    ("POST", "/api/v1/tasks/{task_id}/complete"): Endpoint(
        WORK_TASKS, _complete, workflow_refusal=_assigned_to_alice
    ),
    # bob claims the unassigned task first; then it is no longer free for alice nor sam.
    ("POST", "/api/v1/tasks/{task_id}/claim"): Endpoint(
        WORK_TASKS,
        _post("/api/v1/tasks/{w.main_task}/claim"),
        ok={"bob": 200, "alice": 409, "sam": 409},
    ),
    ("POST", "/api/v1/tasks/{task_id}/release"): Endpoint(
        WORK_TASKS, _release, workflow_refusal=_released_by_alice_only
    ),
    ("POST", "/api/v1/tasks/{task_id}/reassign"): Endpoint(
        SUPERVISE, _post("/api/v1/tasks/{w.reassign_task}/reassign", {"assignee": "alice"})
    ),
    ("POST", "/api/v1/tasks/reassign"): Endpoint(
        SUPERVISE,
        lambda w, who: Call(
            "/api/v1/tasks/reassign",
            {"json": {"task_ids": [w.reassign_task], "assignee": "bob", "reason": "bulk"}},
        ),
    ),
    # Ingest.
    ("POST", "/api/v1/ingest"): Endpoint(INGEST, _ingest),
    ("GET", "/api/v1/ingest"): Endpoint(INGEST, _get("/api/v1/ingest")),
    ("POST", "/api/v1/claim-checks"): Endpoint(CHECK_CLAIMS, _claim_check, ok=201),
    ("GET", "/api/v1/claim-checks/{run_id}"): Endpoint(
        CHECK_CLAIMS, _get("/api/v1/claim-checks/{w.claim_check_run}")
    ),
    ("POST", "/api/v1/ingest/resume"): Endpoint(RESUME_INGESTS, _post("/api/v1/ingest/resume")),
    ("GET", "/api/v1/ingest/{sha256}"): Endpoint(INGEST, _get("/api/v1/ingest/{w.ingested_sha}")),
    ("GET", "/api/v1/ingest/{sha256}/raw"): Endpoint(
        INGEST, _get("/api/v1/ingest/{w.ingested_sha}/raw")
    ),
    # Audit trail.
    ("GET", "/api/v1/audit"): Endpoint(VIEW_AUDIT, _get("/api/v1/audit")),
    ("GET", "/api/v1/audit.csv"): Endpoint(VIEW_AUDIT, _get("/api/v1/audit.csv")),
    ("GET", "/api/v1/cases/{case_id}/audit"): Endpoint(
        VIEW_AUDIT, _get("/api/v1/cases/{w.main_case}/audit")
    ),
    # Payer rules.
    ("GET", "/api/v1/payer-rules"): Endpoint(VIEW_RULES, _get("/api/v1/payer-rules")),
    ("POST", "/api/v1/payer-rules"): Endpoint(MANAGE_RULES, _new_rule, ok=201),
    ("POST", "/api/v1/payer-rules/preview"): Endpoint(MANAGE_RULES, _rule_preview),
    # Users and out of office.
    ("GET", "/api/v1/users"): Endpoint(MANAGE_USERS, _get("/api/v1/users")),
    ("POST", "/api/v1/users"): Endpoint(MANAGE_USERS, _new_user, ok=201),
    ("PATCH", "/api/v1/users/{user_id}"): Endpoint(
        MANAGE_USERS,
        lambda w, who: Call("/api/v1/users/bob", {"json": {"display_name": "Bob O."}}),
    ),
    ("GET", "/api/v1/users/workload"): Endpoint(SUPERVISE, _get("/api/v1/users/workload")),
    ("GET", "/api/v1/absences"): Endpoint(SUPERVISE, _get("/api/v1/absences")),
    ("POST", "/api/v1/users/{user_id}/absences"): Endpoint(SUPERVISE, _away, ok=201),
    ("POST", "/api/v1/absences/{absence_id}/end"): Endpoint(
        SUPERVISE, _post("/api/v1/absences/{w.absence_id}/end")
    ),
    # Prevention.
    ("GET", "/api/v1/prevention"): Endpoint(VIEW_CASES, _get("/api/v1/prevention")),
    ("GET", "/api/v1/prevention/{prevention_task_id}"): Endpoint(
        VIEW_CASES, _get("/api/v1/prevention/{w.prevention_task}")
    ),
    ("PATCH", "/api/v1/prevention/{prevention_task_id}"): Endpoint(
        SUPERVISE,
        lambda w, who: Call(
            f"/api/v1/prevention/{w.prevention_task}",
            {"json": {"status": "in_progress", "owner": "front desk"}},
        ),
    ),
    ("GET", "/api/v1/prevention/{prevention_task_id}/edits"): Endpoint(
        VIEW_CASES, _get("/api/v1/prevention/{w.prevention_task}/edits")
    ),
    ("POST", "/api/v1/prevention/{prevention_task_id}/edits"): Endpoint(
        WRITE_PREVENTION_EDITS,
        _post("/api/v1/prevention/{w.prevention_task}/edits", PREVENTION_EDIT),
        ok=201,
    ),
    ("PUT", "/api/v1/prevention/{prevention_task_id}/edits/{edit_id}"): Endpoint(
        WRITE_PREVENTION_EDITS,
        lambda w, who: Call(
            f"/api/v1/prevention/{w.prevention_task}/edits/{w.prevention_edit}",
            {"json": PREVENTION_EDIT},
        ),
    ),
    ("PATCH", "/api/v1/prevention/{prevention_task_id}/edits/{edit_id}"): Endpoint(
        WRITE_PREVENTION_EDITS,
        lambda w, who: Call(
            f"/api/v1/prevention/{w.prevention_task}/edits/{w.prevention_edit}",
            {"json": {"enabled": False}},
        ),
    ),
    # The Temporal Web UI's codec: the matrix's app runs without payload encryption, so an
    # allowed caller gets past the role check to a 404 naming that (tests/api/test_codec_api.py
    # covers it with encryption on).
    ("POST", "/api/v1/codec/decode"): Endpoint(
        VIEW_CASES,
        lambda w, who: Call("/api/v1/codec/decode", {"json": {"payloads": []}}),
        ok={"alice": 404, "bob": 404, "sam": 404},
        signed_out=CODEC_SIGNED_OUT,
    ),
    # Denial KPIs.
    ("GET", "/api/v1/metrics"): Endpoint(VIEW_CASES, _get("/api/v1/metrics")),
    ("GET", "/api/v1/metrics/prevention-loop"): Endpoint(
        VIEW_CASES, _get("/api/v1/metrics/prevention-loop")
    ),
    ("GET", "/api/v1/metrics/{section}.csv"): Endpoint(
        VIEW_CASES, _get("/api/v1/metrics/by_carc.csv")
    ),
}

AREAS = {
    "auth_health_cases": (
        "/healthz",
        "/readyz",
        "/api/v1/auth",
        "/api/v1/cases",
        "/api/v1/stopped-cases",
        "/api/v1/case-filters",
    ),
    "tasks_ingest": (
        "/api/v1/tasks",
        "/api/v1/ingest",
        "/api/v1/notifications",
        "/api/v1/claim-checks",
    ),
    "audit_rules_users_prevention": (
        "/api/v1/audit",
        "/api/v1/payer-rules",
        "/api/v1/users",
        "/api/v1/absences",
        "/api/v1/prevention",
        "/api/v1/metrics",
        "/api/v1/codec",
        "/api/v1/risk-models",
    ),
}


def _area(path: str) -> str:
    if path == "/api/v1/cases/{case_id}/audit":
        return "audit_rules_users_prevention"
    for area, prefixes in AREAS.items():
        if path.startswith(prefixes):
            return area
    raise AssertionError(f"no area for {path}")


# --- The table covers the app ---------------------------------------------------------------


def _route_paths(app: FastAPI) -> Iterator[tuple[str, str]]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers
        routes: Any = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    for route in routes:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or set()
        if path is None:
            continue
        for method in methods - {"HEAD", "OPTIONS"}:
            yield method, path


async def test_matrix_covers_exactly_the_api_routes(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook
) -> None:
    """Every /api/v1 route and both probes have a matrix entry, and every entry is a route: a new
    endpoint without a decision on who may call it fails here."""
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(
        Settings(data_dir=tmp_path), engine=sqlite_engine, client=client, rulebook=rulebook
    )
    served = {
        (method, path)
        for method, path in _route_paths(app)
        if path.startswith("/api/v1/") or path in ("/healthz", "/readyz")
    }
    assert len(served) >= 40, sorted(served)  # the enumeration itself works
    assert sorted(served - MATRIX.keys()) == [], "routes without a matrix entry"
    assert sorted(MATRIX.keys() - served) == [], "matrix entries that are no route"
    assert {_area(path) for _, path in MATRIX} == set(AREAS)


def test_only_supervisors_and_admins_are_linked_to_the_temporal_web_ui() -> None:
    """The case page links to the Temporal Web UI, which has no sign-in of its own, for the
    roles the matrix gives OPEN_TEMPORAL_UI (tests/web/test_biller_queue.py shows the page)."""
    from domain.case import Role
    from domain.permissions import Permission, allows

    linked = {role for role in Role if allows(role, Permission.OPEN_TEMPORAL_UI)}
    assert linked == {Role.SUPERVISOR, Role.ADMIN}


def test_matrix_agrees_with_the_permission_table() -> None:
    """The table's caller sets are those domain/permissions.py gives each role (so the table
    and the code cannot drift apart silently)."""
    from domain.case import Role
    from domain.permissions import Permission, allows

    for key, endpoint in MATRIX.items():
        permission = endpoint.access.permission
        if permission is None:
            continue
        allowed = {u for u in USERS if allows(Role(ROLES[u]), Permission(permission))}
        assert allowed == set(endpoint.access.callers), key


# --- Walking the matrix ---------------------------------------------------------------------


async def _open(api: Api, record: DenialRecord) -> tuple[str, str]:
    case_id, detail = await api.opened_triaged(record)
    return case_id, api.open_task(detail, "confirm_triage")["task_id"]


async def _claim(api: Api, task_id: str, user: str) -> None:
    response = await api.http.post(f"/api/v1/tasks/{task_id}/claim", headers=as_user(user))
    assert response.status_code == 200, response.text


async def _prevention_task_of(api: Api, case_id: str) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        with Session(api.harness.engine) as session:
            link = session.exec(
                select(PreventionCaseLink).where(PreventionCaseLink.case_id == case_id)
            ).first()
        if link is not None:
            return link.prevention_task_id
        assert loop.time() < deadline, "the cancelled case never got its prevention task"
        await asyncio.sleep(0.05)


async def build_world(api: Api, area: str) -> World:
    """The resources the area's endpoints act on (only those: each area has its own app)."""
    harness = api.harness
    today = await harness.today()
    cases = {
        "auth_health_cases": ("main", "cancel"),
        "tasks_ingest": (
            *("main", "alice_complete", "sam_complete"),
            *("alice_release", "sam_release", "reassign_task"),
        ),
        "audit_rules_users_prevention": ("main", "prevented"),
    }[area]
    records = {name: make_record(today) for name in cases}
    opened = await asyncio.gather(*(_open(api, record) for record in records.values()))
    case_of = {name: case_id for name, (case_id, _) in zip(cases, opened, strict=True)}
    task_of = {name: task_id for name, (_, task_id) in zip(cases, opened, strict=True)}
    detail = await api.detail(case_of["main"])
    assert detail["summary"]["next_deadline_kind"] == "appeal:1"
    world = World(
        today=today,
        main_record=records["main"],
        main_case=case_of["main"],
        main_task=task_of["main"],
        appeal_due=date.fromisoformat(detail["summary"]["next_deadline"]),
        cancel_case=case_of.get("cancel", ""),
        alice_complete=task_of.get("alice_complete", ""),
        sam_complete=task_of.get("sam_complete", ""),
        alice_release=task_of.get("alice_release", ""),
        sam_release=task_of.get("sam_release", ""),
        reassign_task=task_of.get("reassign_task", ""),
    )

    if area == "auth_health_cases":
        with Session(harness.engine, expire_on_commit=False) as session:
            users = UserService(session)
            auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
            for user in USERS:
                world.spare_tokens[user], _ = auth.open_session(users.get(user), SessionKind.BEARER)
        packet = await api.http.get(
            f"/api/v1/cases/{world.main_case}/appeal-letter/pdf", headers=as_user("alice")
        )
        assert packet.status_code == 200, packet.text
        documents = await api.http.get(
            f"/api/v1/cases/{world.main_case}/documents", headers=as_user("alice")
        )
        world.document_id = documents.json()[0]["document_id"]
        for user in ("alice", "bob", "sam"):
            saved = await api.http.post(
                "/api/v1/case-filters",
                json={"name": "setup", "filters": {"open_only": True}},
                headers=as_user(user),
            )
            assert saved.status_code == 201, saved.text
            world.saved_filters[user] = saved.json()["filter_id"]
    elif area == "tasks_ingest":
        await asyncio.gather(
            _claim(api, world.alice_complete, "alice"),
            _claim(api, world.alice_release, "alice"),
            _claim(api, world.sam_release, "bob"),
        )
        ingested = await api.http.post(
            "/api/v1/ingest",
            files=[("files", ("letter.txt", GARBAGE, "text/plain"))],
            headers=as_user("alice"),
        )
        assert ingested.status_code == 200, ingested.text
        world.ingested_sha = ingested.json()["reports"][0]["sha256"]
        checked = await api.http.post(
            "/api/v1/claim-checks", **_claim_check(world, "setup").kwargs, headers=as_user("alice")
        )
        assert checked.status_code == 201, checked.text
        world.claim_check_run = checked.json()["run_id"]
    else:
        prevented = case_of["prevented"]
        cancelled = await api.http.post(
            f"/api/v1/cases/{prevented}/cancel", json={"reason": "setup"}, headers=as_user("sam")
        )
        assert cancelled.status_code == 200, cancelled.text
        starts = datetime.now(UTC) + timedelta(days=30)
        away = await api.http.post(
            "/api/v1/users/alice/absences",
            json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(days=1)).isoformat(),
                "return_tasks": True,
            },
            headers=as_user("sam"),
        )
        assert away.status_code == 201, away.text
        world.absence_id = away.json()["absence_id"]
        world.prevention_task = await _prevention_task_of(api, prevented)
        edit = await api.http.post(
            f"/api/v1/prevention/{world.prevention_task}/edits",
            json=PREVENTION_EDIT,
            headers=as_user("sam"),
        )
        assert edit.status_code == 201, edit.text
        world.prevention_edit = edit.json()["edit_id"]
    return world


def _last_audit_id(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.coalesce(func.max(AuditEventRow.id), 0))).one())


def _audit_since(engine: Engine, after: int) -> list[AuditEventRow]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEventRow)
                .where(col(AuditEventRow.id) > after)
                .order_by(col(AuditEventRow.id))
            )
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


async def walk(api: Api, world: World, method: str, path: str, endpoint: Endpoint) -> list[str]:
    """Call one endpoint as every caller; the problems found (empty when all is as the table
    says)."""
    engine = api.harness.engine
    problems: list[str] = []
    refusals = endpoint.workflow_refusal(world) if endpoint.workflow_refusal else {}
    for caller in CALLERS:
        call = endpoint.build(world, caller)
        if call.headers is not None:
            headers: Mapping[str, str] = call.headers
        else:
            headers = {} if caller == ANONYMOUS else as_user(caller)
        before = _last_audit_id(engine)
        response = await api.http.request(method, call.url, headers=headers, **call.kwargs)
        where = f"{method} {path} as {caller}"
        got = (response.status_code, response.text[:200])
        if caller not in endpoint.access.callers:
            if caller == ANONYMOUS:
                signed_out = {"detail": endpoint.signed_out}
                if (response.status_code, _json(response)) != (401, signed_out):
                    problems.append(f"{where}: expected 401 {signed_out}, got {got}")
                continue
            detail = f"role '{ROLES[caller]}' lacks the '{endpoint.access.permission}' permission"
            if (response.status_code, _json(response)) != (403, {"detail": detail}):
                problems.append(f"{where}: expected 403 {detail!r}, got {got}")
                continue
            rows = [
                (r.user_id, r.role, r.action, r.outcome, r.detail)
                for r in _audit_since(engine, before)
            ]
            refusal = (
                caller,
                ROLES[caller],
                "access.refused",
                "refused",
                {"method": method, "path": call.url, "permission": endpoint.access.permission},
            )
            if rows != [refusal]:
                problems.append(f"{where}: expected audit rows {[refusal]}, got {rows}")
        elif caller in refusals:
            expected = (403, {"detail": refusals[caller]})
            if (response.status_code, _json(response)) != expected:
                problems.append(f"{where}: expected {expected}, got {got}")
            rows = [(r.user_id, r.action, r.outcome) for r in _audit_since(engine, before)]
            action = "task." + path.rsplit("/", 1)[-1]  # task.complete, task.release
            if rows != [(caller, action, "refused")]:
                problems.append(f"{where}: expected one {action} refused audit row, got {rows}")
        elif response.status_code != endpoint.expected_ok(caller):
            problems.append(f"{where}: expected {endpoint.expected_ok(caller)}, got {got}")
    return problems


@pytest.mark.parametrize("area", sorted(AREAS))
async def test_role_matrix(api: Api, area: str) -> None:
    """Each endpoint of the area, called by each caller, answers as the matrix says (all
    mismatches are reported at once)."""
    world = await build_world(api, area)
    problems: list[str] = []
    walked = 0
    for (method, path), endpoint in MATRIX.items():
        if _area(path) == area:
            problems += await walk(api, world, method, path, endpoint)
            walked += 1
    assert walked >= 10
    assert not problems, "\n".join(problems)
