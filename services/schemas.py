"""What the service layer returns: read-model views of cases and tasks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.case import CaseState
from services.cursors import DAMAGED, MAX_CURSOR_CHARS, decode_cursor


class CaseSort(StrEnum):
    PRIORITY = "priority"
    DEADLINE = "deadline"
    AMOUNT = "amount"
    AGE = "age"


def drop_empty(values: Any) -> Any:
    """Web forms send empty fields as "": read them as not given."""
    if not isinstance(values, dict):
        return values
    cleaned = {}
    for key, value in values.items():
        if isinstance(value, list):
            value = [item for item in value if item != ""]
        if value != "":
            cleaned[key] = value
    return cleaned


MAX_OFFSET = 10_000_000  # deeper than anyone pages; beyond a database's integer range breaks
# The case list pages deeper by cursor: an OFFSET reads every row it skips.
MAX_CASE_OFFSET = 10_000
# The type of each case sort's key, as a page cursor carries it (services.cursors).
CASE_SORT_KEYS: dict[str, tuple[type, ...]] = {
    CaseSort.PRIORITY: (float,),
    CaseSort.DEADLINE: (date,),
    CaseSort.AMOUNT: (Decimal,),
    CaseSort.AGE: (datetime,),
}


class CaseFilters(BaseModel):
    _empty_is_missing = model_validator(mode="before")(drop_empty)

    status: list[str] = Field(default_factory=list)
    open_only: bool = Field(default=False, description="Exclude closed cases")
    category: str | None = None
    payer_id: str | None = None
    assignee: str | None = None
    deadline_after: date | None = Field(default=None, description="Next deadline on or after")
    deadline_before: date | None = Field(default=None, description="Next deadline on or before")
    denied_from: date | None = Field(default=None, description="Denied (reported) on or after")
    denied_to: date | None = Field(default=None, description="Denied (reported) on or before")
    remitted_from: date | None = Field(default=None, description="Remittance date on or after")
    remitted_to: date | None = Field(default=None, description="Remittance date on or before")
    stalled: bool | None = None
    escalated: bool | None = None
    q: str | None = Field(
        default=None,
        max_length=80,
        description="Words each found in the claim number (CLP01 or CLP07, any part), patient "
        "name, member id, payer name or id, or the assignee's name or id; case-insensitive",
    )
    sort: CaseSort = CaseSort.PRIORITY
    descending: bool = True
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(
        default=0,
        ge=0,
        le=MAX_CASE_OFFSET,
        description="Rows to skip (kept for older clients); page with `cursor` instead",
    )
    cursor: str | None = Field(
        default=None,
        description="A page's next_cursor or prev_cursor: the page after (or before) it, in "
        f"the same filters and sort (at most {MAX_CURSOR_CHARS} characters)",
    )

    @field_validator("cursor")
    @classmethod
    def _readable(cls, cursor: str | None) -> str | None:
        if cursor is not None:
            decode_cursor(cursor, CASE_SORT_KEYS)
        return cursor

    @model_validator(mode="after")
    def _same_sort(self) -> CaseFilters:
        if self.cursor is not None:
            found = decode_cursor(self.cursor, CASE_SORT_KEYS)
            if (found.sort, found.descending) != (self.sort.value, self.descending):
                raise ValueError(f"cursor: {DAMAGED} (it was made for another sort)")
            if self.offset:
                raise ValueError("give either a cursor or an offset, not both")
        return self


class CaseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: str
    kind: str
    status: str
    outcome: str | None
    category: str | None
    denial_class: str | None
    path: str | None
    payer_id: str
    payer_name: str
    payer_type: str
    claim_id: str
    payer_claim_control_number: str
    billed_amount: Decimal
    denied_amount: Decimal
    recovered_amount: Decimal
    appeal_level: int
    next_deadline: date | None
    next_deadline_kind: str | None
    priority: float
    assignee: str | None
    owner: str | None
    escalation: int
    stalled: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class TaskSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    task_id: str
    case_id: str
    type: str
    status: str
    queue: str
    assignee: str | None
    priority: float
    appeal_level: int | None
    deadline_key: str | None
    deadline_due: date | None
    escalation: int
    stalled: bool
    created_at: datetime
    due_at: datetime
    last_touched_at: datetime
    completed_at: datetime | None
    completed_by: str | None


class TaskWithCase(TaskSummary):
    claim_id: str
    payer_claim_control_number: str
    payer_name: str
    category: str | None
    denied_amount: Decimal
    case_status: str
    waiting_on_payer: bool = Field(
        default=False, description="Nothing to do until the payer answers (due_at: expected)"
    )
    follow_up_on: date | None = Field(
        default=None, description="The case's follow-up date, if one is set"
    )
    parked: bool = Field(default=False, description="The follow-up date is still ahead")


class EventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    type: str
    actor: str
    message: str
    data: dict[str, Any]


class CaseDetail(BaseModel):
    summary: CaseSummary
    state: CaseState
    tasks: list[TaskSummary]
    timeline: list[EventView]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(
        description="Matching rows; a list counted only up to a bound says so "
        "with total_capped (total is then the bound: 'more than')"
    )
    limit: int
    offset: int
    total_capped: bool = Field(default=False, description="There are more than `total`")
    next_cursor: str | None = Field(default=None, description="The page after this one")
    prev_cursor: str | None = Field(default=None, description="The page before this one")


class OpenedCase(BaseModel):
    case_id: str
    created: bool = Field(description="False when the same denial already had a case")
