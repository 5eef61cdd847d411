"""The task worklists page by cursor (services.task_order, services.keyset), on SQLite and
PostgreSQL: in every view's order, ties included, each task exactly once across the pages and
the same pages back with Previous; a damaged cursor, or one of another view, is refused."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from domain.worklist import WorkView
from services.errors import Invalid
from services.schemas import Page, TaskWithCase
from tests.services import test_worklist
from tests.services.test_worklist import Desk

desk = test_worklist.desk  # the worklist tests' fixture: a biller's services on one session


def ids(page: Page[TaskWithCase]) -> list[str]:
    return [task.task_id for task in page.items]


def tied_tasks(desk: Desk) -> None:
    """14 tasks of each kind whose escalation, priority and due day repeat (ties on every key
    but the task id); half of the cases parked until one of two days."""
    for n in range(14):
        for kind in ("confirm_triage", "record_payer_response"):
            case_id, _ = desk.add(
                kind, priority=float(n % 3), due_in=5 + n % 2, escalation=n % 2, status="triaged"
            )
            if kind == "confirm_triage" and n % 2:
                back_on = desk.office.today + timedelta(days=1 + n % 4 // 2)
                desk.follow_ups.set(case_id, back_on, "payer asked to call back", desk.biller)


def pages_of(desk: Desk, **options: Any) -> tuple[list[list[str]], Page[TaskWithCase]]:
    listing = {"assignee": desk.biller.user_id, "limit": 4, **options}
    page = desk.tasks.list_tasks(desk.biller, **listing)
    pages = [ids(page)]
    while page.next_cursor is not None:
        page = desk.tasks.list_tasks(desk.biller, cursor=page.next_cursor, **listing)
        pages.append(ids(page))
        assert len(pages) < 20, "the cursors go round in circles"
    return pages, page


@pytest.mark.parametrize(
    "options",
    [
        {"view": WorkView.ACTIONABLE},
        {"view": WorkView.ACTIONABLE, "by_deadline": True},
        {"view": WorkView.WAITING},
        {"view": WorkView.PARKED},
        {"view": WorkView.ALL},
    ],
)
def test_every_task_once_across_the_pages_and_back(desk: Desk, options: dict[str, Any]) -> None:
    tied_tasks(desk)
    whole = desk.tasks.list_tasks(desk.biller, assignee=desk.biller.user_id, limit=500, **options)
    pages, last = pages_of(desk, **options)
    assert list(itertools.chain.from_iterable(pages)) == ids(whole)
    assert len(ids(whole)) == len(set(ids(whole))) >= 7
    back = []
    page = last
    while page.prev_cursor is not None:
        page = desk.tasks.list_tasks(
            desk.biller, assignee=desk.biller.user_id, limit=4, cursor=page.prev_cursor, **options
        )
        back.append(ids(page))
    assert back == pages[-2::-1]


def test_a_damaged_cursor_or_one_of_another_view_is_refused(desk: Desk) -> None:
    tied_tasks(desk)
    mine = {"assignee": desk.biller.user_id, "limit": 4}
    waiting = desk.tasks.list_tasks(desk.biller, view=WorkView.WAITING, **mine).next_cursor
    with pytest.raises(Invalid, match="made for another view"):
        desk.tasks.list_tasks(desk.biller, view=WorkView.ACTIONABLE, cursor=waiting, **mine)
    with pytest.raises(Invalid, match="page link is damaged or out of date"):
        desk.tasks.list_tasks(desk.biller, cursor="eyJzIjoicmlzayJ9", **mine)
