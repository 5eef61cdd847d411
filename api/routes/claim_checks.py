"""Check 837 claims before they are sent, and read a stored check back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field, computed_field
from starlette.concurrency import run_in_threadpool

from api.errors import ERROR_RESPONSES
from app.deps import SessionDep, SettingsDep, require
from app.upload_limits import MAX_FILE_BYTES
from db.claim_checks import ClaimCheckRunRow, get_run, run_results
from domain.case import Actor
from domain.claim_checks.findings import ClaimCheckResult
from domain.deadlines import local_day
from domain.permissions import Permission
from edi.claims837 import Claims837Error
from services.claim_checks import CheckRun, check_file
from services.errors import Invalid, NotFound
from services.payer_rules import PayerRuleStore

router = APIRouter(prefix="/api/v1/claim-checks", tags=["claim checks"], responses=ERROR_RESPONSES)
Checker = Annotated[Actor, Depends(require(Permission.CHECK_CLAIMS))]


class ClaimResultOut(ClaimCheckResult):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def blocked(self) -> bool:
        return super().blocked


class CheckRunOut(BaseModel):
    run_id: str
    file_sha256: str
    checked_at: datetime
    submission_date: date
    claims: int
    lines: int
    blocked: int = Field(description="Claims with a blocking finding: not to be sent as they are")
    warned: int = Field(description="Claims whose worst finding is a warning")
    findings: int
    model_version: str | None = Field(
        description="The risk model that scored the claims; null "
        "when none is trained yet (rules and edits still run)"
    )
    results: list[ClaimResultOut] = Field(description="Every claim, in file order")

    @classmethod
    def of(cls, run: ClaimCheckRunRow, results: list[ClaimCheckResult]) -> CheckRunOut:
        return cls(
            **run.model_dump(exclude={"checked_by", "file_size", "source"}),
            results=[ClaimResultOut(**r.model_dump()) for r in results],
        )


def _store(request: Request) -> PayerRuleStore:
    return request.app.state.rule_store  # type: ignore[no-any-return]


@router.post("", status_code=201)
async def check_claims(
    request: Request,
    file: Annotated[UploadFile, File(description="An 837P or 837I file of one or more claims")],
    session: SessionDep,
    settings: SettingsDep,
    actor: Checker,
    submission_date: Annotated[
        date | None, Form(description="When the claims are to be sent (default: today)")
    ] = None,
) -> CheckRunOut:
    """Check every claim (rule checks, prevention edits, the active risk model) as if sent on
    the submission date; the run is stored and answered with every claim's findings. A file
    that cannot be read is refused (422) naming the segment and line, and nothing is stored."""
    raw = await file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise Invalid(f"{file.filename}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
    day = submission_date or local_day(datetime.now(UTC), settings.tz)
    registry = _store(request).registry()

    def check() -> CheckRun:
        return check_file(
            session, raw, registry=registry, submitted=day, checked_by=actor.user_id, source="api"
        )

    try:
        checked = await run_in_threadpool(check)
    except Claims837Error as exc:
        raise Invalid(f"{file.filename or 'the file'}: {exc}") from exc
    return CheckRunOut.of(checked.run, checked.results)


@router.get("/{run_id}")
def read_check(run_id: str, session: SessionDep, actor: Checker) -> CheckRunOut:
    """A stored check with every claim's findings."""
    run = get_run(session, run_id)
    if run is None:
        raise NotFound(f"no claim check {run_id}")
    return CheckRunOut.of(run, list(run_results(session, run)))
