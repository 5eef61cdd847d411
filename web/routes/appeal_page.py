"""The appeal letter editor (versions, packet PDF, attestation) and the physician's list of
cases awaiting an attestation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select
from starlette.datastructures import UploadFile

from api.deps import AppealServiceDep, AuditDep, SessionDep
from db.models import CaseRow
from domain.appeals.attestation import ATTESTATION_REQUIRED
from domain.case import CaseState, CaseStatus, Role
from services.appeals import MAX_ATTESTATION_BYTES
from services.auth import SignedIn
from services.errors import Invalid, ServiceError
from web.session import LetterPage, PostedForm, TaskWorkerPage
from web.templating import redirect_with_flash, render

router = APIRouter(include_in_schema=False)


def _editor(
    request: Request,
    case_id: str,
    appeals: AppealServiceDep,
    user: SignedIn,
    *,
    body: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor = user.actor
    letter = appeals.letter(case_id, actor)
    return render(
        request,
        "appeal_letter.html",
        {
            "user": user,
            "letter": letter,
            "body": body if body is not None else letter.current,
            "error": error,
            "is_physician": actor.role is Role.PHYSICIAN,
            "can_edit": actor.role in (Role.BILLER, Role.SUPERVISOR) and letter.editable,
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}/appeal-letter", response_class=HTMLResponse)
def appeal_letter_page(
    request: Request, case_id: str, appeals: AppealServiceDep, user: LetterPage
) -> HTMLResponse:
    return _editor(request, case_id, appeals, user)


@router.post("/cases/{case_id}/appeal-letter", response_model=None)
def save_appeal_letter(
    request: Request,
    case_id: str,
    form: PostedForm,
    appeals: AppealServiceDep,
    user: TaskWorkerPage,
) -> Response:
    body = str(form.get("body") or "")
    if not body.strip():
        error = "The letter is empty"
        return _editor(request, case_id, appeals, user, body=body, error=error, status_code=422)
    if len(body) > 50_000:
        error = "The letter is longer than 50,000 characters"
        return _editor(request, case_id, appeals, user, body=body, error=error, status_code=422)
    try:
        saved = appeals.save_letter(case_id, body, user.actor)
    except ServiceError as exc:
        return _editor(
            request,
            case_id,
            appeals,
            user,
            body=body,
            error=exc.message,
            status_code=exc.status_code,
        )
    return redirect_with_flash(
        f"/cases/{case_id}/appeal-letter", f"Letter saved as version {saved.version}"
    )


@router.post("/cases/{case_id}/attestation", response_model=None)
async def attest(
    request: Request,
    case_id: str,
    form: PostedForm,
    appeals: AppealServiceDep,
    user: LetterPage,
) -> Response:
    """A physician attests in the app, or a biller uploads the signed attestation."""
    name = str(form.get("physician_name") or "").strip()
    statement = str(form.get("statement") or "").strip()
    upload = form.get("file")
    try:
        if not name or not statement:
            raise Invalid("give the physician's name and the attestation statement")
        if user.actor.role is Role.PHYSICIAN:
            await appeals.attest(case_id, name, statement, user.actor)
        elif isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read(MAX_ATTESTATION_BYTES + 1)  # more is refused
            await appeals.upload_attestation(
                case_id, name, statement, upload.filename, content, user.actor
            )
        else:
            raise Invalid("attach the physician's signed attestation (PDF, PNG or JPEG)")
    except ServiceError as exc:
        return _editor(
            request, case_id, appeals, user, error=exc.message, status_code=exc.status_code
        )
    return redirect_with_flash(f"/cases/{case_id}/appeal-letter", "Attestation recorded")


@router.get("/attestations", response_class=HTMLResponse)
def attestations(
    request: Request, session: SessionDep, audit: AuditDep, user: LetterPage
) -> HTMLResponse:
    """Open cases whose category needs a physician attestation and have none yet."""
    rows = session.exec(
        select(CaseRow)
        .where(
            col(CaseRow.category).in_([c.value for c in ATTESTATION_REQUIRED]),
            col(CaseRow.status) != CaseStatus.CLOSED.value,
        )
        .order_by(col(CaseRow.next_deadline).nulls_last(), col(CaseRow.case_id))
        .limit(200)
    ).all()
    waiting = [row for row in rows if CaseState.model_validate(row.state).attestation is None]
    audit.record(user.actor, "case.list", view="attestations", shown=len(waiting))
    return render(request, "attestations.html", {"user": user, "cases": waiting})
