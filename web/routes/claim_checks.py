"""Claim checks: upload an 837 to check before sending it, then its findings per claim and line,
filtered by severity, kind and payer, and exported as CSV.

The filters are a GET form: it works without script, and htmx swaps only the results when one
changes. A run is named in URLs by its random id, never by anything of the claims."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.deps import SessionDep, SettingsDep
from app.upload_limits import MAX_FILE_BYTES
from db.claim_checks import ClaimCheckRunRow, get_run, recent_runs, run_results
from domain.claim_checks.findings import FindingKind, Severity
from domain.deadlines import local_day
from domain.permissions import Permission
from edi.claims837 import Claims837Error
from services.auth import SignedIn
from services.claim_checks import check_file, finding_rows, payers_of, rows_csv
from services.errors import NotFound
from services.payer_rules import PayerRuleStore
from web.session import PostedForm, page_permission
from web.templating import render

router = APIRouter(include_in_schema=False)
CheckerPage = Annotated[SignedIn, Depends(page_permission(Permission.CHECK_CLAIMS))]
SHOWN = 500  # rows on the page; the CSV has them all
_RUN_ID = re.compile(r"[0-9a-f]{32}")
KIND_WORDS = {
    FindingKind.RULE.value: "Rule check",
    FindingKind.PREVENTION_EDIT.value: "Prevention edit",
    FindingKind.LEARNED_RISK.value: "Learned risk",
}
SEVERITIES = [severity.value for severity in Severity]


def _form_page(
    request: Request, session: SessionDep, user: CheckerPage, **context: object
) -> dict[str, object]:
    return {"user": user, "recent": recent_runs(session), **context}


@router.get("/claim-checks", response_class=HTMLResponse)
def claim_checks_page(request: Request, session: SessionDep, user: CheckerPage) -> HTMLResponse:
    return render(request, "claim_checks.html", _form_page(request, session, user))


@router.post("/claim-checks", response_model=None)
async def check_upload(
    request: Request,
    form: PostedForm,
    session: SessionDep,
    settings: SettingsDep,
    user: CheckerPage,
) -> Response:
    upload = form.get("file")
    typed_date = str(form.get("submission_date") or "")

    def again(error: str) -> Response:
        context = _form_page(request, session, user, error=error, typed_date=typed_date)
        return render(request, "claim_checks.html", context, status_code=422)

    if not isinstance(upload, UploadFile) or not upload.filename:
        return again("Choose an 837 file to check")
    try:
        submitted = date.fromisoformat(typed_date) if typed_date else None
    except ValueError:
        return again(f"Submission date '{typed_date}' is not a date (YYYY-MM-DD)")
    raw = await upload.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:  # app.upload_limits refused it as it came; a backstop
        return again(f"{upload.filename}: larger than {MAX_FILE_BYTES // 2**20} MiB")
    store: PayerRuleStore = request.app.state.rule_store
    day = submitted or local_day(datetime.now(UTC), settings.tz)

    def check() -> str:
        checked = check_file(
            session,
            raw,
            registry=store.registry(),
            submitted=day,
            checked_by=user.actor.user_id,
            source="web",
        )
        return checked.run.run_id

    try:
        run_id = await run_in_threadpool(check)
    except Claims837Error as exc:
        return again(f"{upload.filename} was not checked: {exc}")
    return RedirectResponse(f"/claim-checks/{run_id}", status_code=303)


def _run(session: SessionDep, run_id: str) -> ClaimCheckRunRow:
    run = get_run(session, run_id) if _RUN_ID.fullmatch(run_id) else None
    if run is None:
        raise NotFound(f"no claim check {run_id}")
    return run


def _choice(value: str | None, allowed: list[str] | dict[str, str]) -> str | None:
    """A filter's value, or None when empty or not one it takes (a hand-edited URL)."""
    return value if value and value in allowed else None


Filter = Annotated[str | None, Query()]


@router.get("/claim-checks/{run_id}.csv", response_class=Response)
def check_csv(
    run_id: str,
    session: SessionDep,
    user: CheckerPage,
    severity: Filter = None,
    kind: Filter = None,
    payer: Filter = None,
) -> Response:
    run = _run(session, run_id)
    claims = run_results(session, run)
    rows = finding_rows(
        claims,
        severity=_choice(severity, SEVERITIES),
        kind=_choice(kind, KIND_WORDS),
        payer=payer or None,
    )
    return Response(
        rows_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="claim-check-{run.run_id[:12]}.csv"'
        },
    )


@router.get("/claim-checks/{run_id}", response_class=HTMLResponse)
def check_results(
    request: Request,
    run_id: str,
    session: SessionDep,
    user: CheckerPage,
    severity: Filter = None,
    kind: Filter = None,
    payer: Filter = None,
) -> HTMLResponse:
    run = _run(session, run_id)
    claims = run_results(session, run)
    chosen = {
        "severity": _choice(severity, SEVERITIES),
        "kind": _choice(kind, KIND_WORDS),
        "payer": payer or None,
    }
    rows = finding_rows(claims, **chosen)
    query = urlencode([(name, value) for name, value in chosen.items() if value])
    return render(
        request,
        "claim_check.html",
        {
            "user": user,
            "run": run,
            "rows": rows[:SHOWN],
            "total_rows": len(rows),
            "clean": sum(1 for claim in claims if not claim.findings),
            "payers": payers_of(claims),
            "chosen": chosen,
            "severities": SEVERITIES,
            "kinds": KIND_WORDS,
            "csv_url": f"/claim-checks/{run.run_id}.csv" + (f"?{query}" if query else ""),
        },
    )
