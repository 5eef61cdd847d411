"""The orders of the task worklists, each ending with the task id so that ties keep one order,
and the page cursors (services.cursors) that page through them without OFFSET."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import col, select

from db.models import TaskRow
from db.work_management import CaseFollowUpRow
from domain.worklist import WorkView
from services.cursors import DAMAGED, Cursor, SortKey, decode_cursor, encode_cursor
from services.errors import Invalid
from services.follow_ups import open_follow_up
from services.keyset import Order

# The types of each order's keys before the task id, as a cursor carries them.
ORDER_KEYS: dict[str, tuple[type, ...]] = {
    "risk": (int, float, datetime),
    "deadline": (datetime, float),
    "waiting": (datetime,),
    "parked": (date, float),
}


def task_order(view: WorkView, by_deadline: bool) -> tuple[str, Order]:
    """The order's name and its keys: by deadline risk (urgent, escalated, reminded) then
    priority; or by the deadline; the payer's answers expected soonest first; parked tasks
    back soonest first."""
    task_id = (col(TaskRow.task_id), False)
    if by_deadline:
        return "deadline", [(col(TaskRow.due_at), False), (col(TaskRow.priority), True), task_id]
    if view is WorkView.WAITING:
        return "waiting", [(col(TaskRow.due_at), False), task_id]
    if view is WorkView.PARKED:
        back_on = (
            select(CaseFollowUpRow.follow_up_on)
            .where(*open_follow_up(col(TaskRow.case_id)))
            .scalar_subquery()
        )
        return "parked", [(back_on, False), (col(TaskRow.priority), True), task_id]
    return "risk", [
        (col(TaskRow.escalation), True),
        (col(TaskRow.priority), True),
        (col(TaskRow.due_at), False),
        task_id,
    ]


def cursor_keys(name: str, task: TaskRow, back_on: date | None) -> tuple[SortKey, ...]:
    if name == "deadline":
        return (task.due_at, task.priority)
    if name == "waiting":
        return (task.due_at,)
    if name == "parked":
        return (back_on, task.priority)
    return (task.escalation, task.priority, task.due_at)


def task_cursor(name: str, task: TaskRow, back_on: date | None, *, before: bool) -> str:
    keys = cursor_keys(name, task, back_on)
    cursor = Cursor(sort=name, descending=False, keys=keys, id=task.task_id, before=before)
    return encode_cursor(cursor)


def read_cursor(text: str, name: str) -> Cursor:
    """The cursor of a page of the `name` order; Invalid (a 422) when damaged or made for
    another list's order."""
    try:
        found = decode_cursor(text, ORDER_KEYS)
    except ValueError as exc:
        raise Invalid(f"cursor: {exc}") from exc
    if found.sort != name:
        raise Invalid(f"cursor: {DAMAGED} (it was made for another view)")
    return found
