"""Cases: open from JSON, search the read model, read one, and case-level actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from api.errors import ERROR_RESPONSES
from api.json_responses import json_answer
from app.deps import CaseReader, CaseServiceDep, FollowUpServiceDep, Supervisor, TaskWorker
from domain.case import CaseState, PayerResponse
from domain.deadlines import DeadlineKind
from domain.models import MAX_NOTE_CHARS, DenialRecord, Payer
from services.follow_ups import FollowUpIn, FollowUpView
from services.schemas import CaseDetail, CaseFilters, CaseSummary, OpenedCase, Page
from workflows.messages import CaseChange

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=ERROR_RESPONSES)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class PriorityIn(BaseModel):
    adjustment: float = Field(gt=0, le=10)
    reason: str = Field(min_length=1, max_length=2000)


class ClaimIdentityIn(BaseModel):
    payer: Payer | None = Field(default=None, description="Unless the file named the payer")
    service_date_from: date
    service_date_to: date | None = None
    billed_amount: Decimal | None = Field(default=None, gt=0, decimal_places=2)


class ExtensionIn(BaseModel):
    kind: DeadlineKind
    level: int | None = Field(default=None, ge=1)
    new_due: date
    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": OpenedCase, "description": "The denial already has this case"}},
)
async def open_case(
    record: DenialRecord, cases: CaseServiceDep, actor: TaskWorker, response: Response
) -> OpenedCase:
    """Open a case for a denial given as JSON; the same denial again returns its case (200)."""
    opened = await cases.open_case(record, actor)
    if not opened.created:
        response.status_code = status.HTTP_200_OK
    return opened


@router.get("", response_model=Page[CaseSummary])
def list_cases(
    filters: Annotated[CaseFilters, Query()], cases: CaseServiceDep, actor: CaseReader
) -> Response:
    """A page of cases. Page on with `cursor` = the page's `next_cursor` (or back with its
    `prev_cursor`): each page starts right after the last case shown, in the same sort, ties
    broken by case id, so however deep, a page costs about the same. A damaged cursor, or one
    made for another sort, is a 422. `offset` still works up to 10,000.

    `total` is counted up to 10,000: beyond, it is 10,000 with `total_capped` true ("10,000+"),
    so that the count of a long list costs no more than reading 10,000 index entries."""
    return json_answer(cases.list_cases(filters, actor))


@router.get("/{case_id}", response_model=CaseDetail)
def get_case(case_id: str, cases: CaseServiceDep, actor: CaseReader) -> Response:
    """State, deadlines, tasks, priority breakdown and timeline, from the read model."""
    return json_answer(cases.get_case(case_id, actor))


@router.get("/{case_id}/live")
async def get_live_case(case_id: str, cases: CaseServiceDep, actor: CaseReader) -> CaseState:
    """The case as the workflow holds it now (a Query: the source of truth)."""
    return await cases.live_case(case_id, actor)


@router.post("/{case_id}/notes")
async def add_note(
    case_id: str, note: NoteIn, cases: CaseServiceDep, actor: TaskWorker
) -> CaseChange:
    return await cases.add_note(case_id, note.text, actor)


@router.post("/{case_id}/cancel")
async def cancel_case(
    case_id: str, body: CancelIn, cases: CaseServiceDep, actor: Supervisor
) -> CaseChange:
    return await cases.cancel_case(case_id, body.reason, actor)


@router.post("/{case_id}/priority")
async def change_priority(
    case_id: str, body: PriorityIn, cases: CaseServiceDep, actor: Supervisor
) -> CaseChange:
    return await cases.change_priority(case_id, body.adjustment, body.reason, actor)


@router.post("/{case_id}/extensions")
async def record_extension(
    case_id: str, body: ExtensionIn, cases: CaseServiceDep, actor: TaskWorker
) -> CaseChange:
    return await cases.record_extension(
        case_id, body.kind, body.level, body.new_due, body.reason, actor
    )


@router.post("/{case_id}/refresh-rules")
async def refresh_rules(case_id: str, cases: CaseServiceDep, actor: Supervisor) -> CaseChange:
    """Recompute the case's deadlines from the payer rules in effect now."""
    return await cases.refresh_rules(case_id, actor)


@router.post("/{case_id}/claim-identity")
async def identify_claim(
    case_id: str, body: ClaimIdentityIn, cases: CaseServiceDep, actor: TaskWorker
) -> CaseChange:
    """Set what the file that opened the case left unknown (a 999 names no payer and no date
    of service): the payer the claim was sent to and its dates; deadlines are counted again."""
    served = (body.service_date_from, body.service_date_to)
    return await cases.identify_claim(case_id, body.payer, served, body.billed_amount, actor)


@router.post("/{case_id}/payer-responses", status_code=status.HTTP_202_ACCEPTED)
async def payer_response(
    case_id: str, body: PayerResponse, cases: CaseServiceDep, actor: TaskWorker
) -> dict[str, str]:
    """Deliver a payer's answer as the 835 ingest does (a Signal): applied asynchronously."""
    await cases.signal_payer_response(case_id, body, actor)
    return {"case_id": case_id, "status": "accepted"}


@router.get("/{case_id}/follow-up")
def get_follow_up(
    case_id: str, follow_ups: FollowUpServiceDep, actor: CaseReader
) -> FollowUpView | None:
    """The case's open follow-up date (null when none): parked until then, due from then."""
    return follow_ups.get(case_id)


@router.put("/{case_id}/follow-up")
def set_follow_up(
    case_id: str, body: FollowUpIn, follow_ups: FollowUpServiceDep, actor: TaskWorker
) -> FollowUpView:
    """Park the case until `follow_up_on` (after today, not after the deadline its open work
    races), replacing any date it had; its tasks leave the actionable worklists until then."""
    return follow_ups.set(case_id, body.follow_up_on, body.reason, actor)


@router.delete("/{case_id}/follow-up", status_code=status.HTTP_204_NO_CONTENT)
def clear_follow_up(case_id: str, follow_ups: FollowUpServiceDep, actor: TaskWorker) -> Response:
    """Bring the case back to the worklists now."""
    follow_ups.clear(case_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
