"""The appeal task (the letter, its enclosures and their files, what is missing, notes for the
biller, submission), the physician's attestation, and the physician's list of cases awaiting
an attestation."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from app.deps import AppealServiceDep, AuditDep, SessionDep, TaskServiceDep
from db.case_names import open_cases_in_categories
from domain.appeals.attestation import ATTESTATION_REQUIRED
from domain.appeals.finishing import MAX_LETTER_CHARS, join_letter, split_letter
from domain.case import CaseState, CaseStatus
from domain.permissions import Permission, allows, work_permission_problem
from services.appeal_letters import MAX_ENCLOSURE_BYTES
from services.appeals import MAX_ATTESTATION_BYTES
from services.auth import SignedIn
from services.errors import Invalid, ServiceError, SubmissionFailed, Unfinished
from web.session import LetterPage, PostedForm, TaskWorkerPage
from web.templating import redirect_with_flash, render
from workflows.messages import AppealSubmitted

router = APIRouter(include_in_schema=False)


def _editor(
    request: Request,
    case_id: str,
    appeals: AppealServiceDep,
    user: SignedIn,
    *,
    error: str | None = None,
    refused: bool = False,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor = user.actor
    letter = appeals.letter(case_id, actor)
    state = appeals.state(case_id)
    task = next((t for t in state.open_tasks if t.task_id == letter.task_id), None)
    blocked = "Submitting waits for the appeal task, which opens once the appeal path is taken."
    if task is not None:
        blocked = work_permission_problem(actor, task) or ""
        blocked = f"Only the task's worker submits it ({blocked})." if blocked else ""
    return render(
        request,
        "appeal_letter.html",
        {
            "user": user,
            "letter": letter,
            "parts": split_letter(letter.current),
            "task": task,
            "can_submit": not blocked,
            "submit_blocked": blocked,
            "today": state.policy.today(datetime.now(UTC)).isoformat(),
            "values": values or {},
            "max_mib": MAX_ENCLOSURE_BYTES // 2**20,
            "error": error,
            "refused": refused,
            "attests": allows(actor.role, Permission.ATTEST),
            "can_edit": allows(actor.role, Permission.WORK_TASKS) and letter.editable,
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}/appeal-letter", response_class=HTMLResponse)
def appeal_letter_page(
    request: Request, case_id: str, appeals: AppealServiceDep, user: LetterPage
) -> HTMLResponse:
    return _editor(request, case_id, appeals, user)


async def _apply(form: FormData, case_id: str, appeals: AppealServiceDep, user: SignedIn) -> str:
    """Save what the form changed: the letter and the ticks, then each file attached and the
    file removed. Returns what was done, for the flash."""
    body = join_letter(
        str(form.get("opening") or ""),
        str(form.get("argument") or ""),
        str(form.get("closing") or ""),
    )
    if len(body) > MAX_LETTER_CHARS:
        raise Invalid(f"the letter is longer than {MAX_LETTER_CHARS:,} characters")
    names = {
        key.removeprefix("enclosure-"): str(value)
        for key, value in form.items()
        if key.startswith("enclosure-")
    }
    ticks = {name: form.get(f"include-{i}") == "on" for i, name in names.items()}
    saved = appeals.save_letter(case_id, body, user.actor, included=ticks, unless_unchanged=True)
    done = f"Letter saved as version {saved.version}" if saved else "Nothing changed"
    for i, name in names.items():
        upload = form.get(f"file-{i}")
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read(MAX_ENCLOSURE_BYTES + 1)  # more is refused
            appeals.attach_enclosure(case_id, name, upload.filename, content, user.actor)
            done = f"{upload.filename} attached to {name}"
    detach = str(form.get("detach") or "")
    if detach:
        appeals.detach_enclosure(case_id, detach, user.actor)
        done = "File removed from the enclosures"
    return done


@router.post("/cases/{case_id}/appeal-letter", response_model=None)
async def save_appeal_letter(
    request: Request,
    case_id: str,
    form: PostedForm,
    appeals: AppealServiceDep,
    tasks: TaskServiceDep,
    user: TaskWorkerPage,
) -> Response:
    """The appeal task: save the letter and its enclosures, then, when asked, submit them."""
    values = {key: str(form.get(key) or "") for key in ("submitted_on", "reference", "notes")}
    try:
        done = await _apply(form, case_id, appeals, user)
    except Invalid as exc:
        return _editor(request, case_id, appeals, user, error=exc.message, status_code=422)
    if form.get("action") != "submit" or form.get("detach"):
        return redirect_with_flash(f"/cases/{case_id}/appeal-letter", done)
    letter = appeals.letter(case_id, user.actor)
    if letter.missing or letter.task_id is None:
        error = None if letter.missing else "There is no open appeal task to submit."
        return _editor(
            request,
            case_id,
            appeals,
            user,
            error=error,
            refused=True,
            values=values,
            status_code=422,
        )
    try:
        payload = AppealSubmitted(
            level=letter.appeal_level,
            argument=split_letter(letter.current).argument,
            submitted_on=values["submitted_on"] or None,  # type: ignore[arg-type]
            reference=values["reference"],
            notes=values["notes"],
        )
        await tasks.complete(letter.task_id, payload, user.actor)
    except ValidationError as exc:
        error = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _editor(request, case_id, appeals, user, error=error, values=values, status_code=422)
    except (Invalid, SubmissionFailed) as exc:
        return _editor(
            request,
            case_id,
            appeals,
            user,
            error=exc.message,
            refused=isinstance(exc, Unfinished),
            values=values,
            status_code=exc.status_code,
        )
    return redirect_with_flash(
        f"/cases/{case_id}", f"Appeal submitted: the level {letter.appeal_level} packet was sent"
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
        if allows(user.actor.role, Permission.ATTEST):
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
    rows = open_cases_in_categories(
        session, [c.value for c in ATTESTATION_REQUIRED], CaseStatus.CLOSED.value, limit=200
    )
    waiting = [row for row in rows if CaseState.model_validate(row.state).attestation is None]
    audit.record(user.actor, "case.list", view="attestations", shown=len(waiting))
    return render(request, "attestations.html", {"user": user, "cases": waiting})
