"""The case list's pages by cursor (services.case_list), on SQLite and PostgreSQL: every case
exactly once across the pages of each sort either way, ties included, and back again with
Previous; cases changing between two page requests; damaged cursors refused in words; a
cursor that carries no claim number or name; the count bounded."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
import temporalio.client
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models import CaseRow
from domain.case import Actor, CasePolicy, Role
from domain.rulebook import Rulebook
from services import case_list
from services.audit import AuditService
from services.cases import CaseService
from services.schemas import CaseFilters, CaseSort, CaseSummary, Page

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
SORT_KEYS = {
    CaseSort.PRIORITY: "priority",
    CaseSort.DEADLINE: "next_deadline",
    CaseSort.AMOUNT: "denied_amount",
    CaseSort.AGE: "created_at",
}


@dataclass
class Desk:
    """A supervisor's case list on one session; each test's cases under a payer of its own
    (PostgreSQL's database is shared by the tests)."""

    session: Session
    cases: CaseService
    actor: Actor
    payer_id: str

    def add(
        self,
        priority: float,
        deadline: date | None,
        amount: str,
        created: datetime,
        claim_id: str = "PCN0000001",
    ) -> str:
        case_id = f"case-{uuid.uuid4().hex[:24]}"
        self.session.add(
            CaseRow(
                case_id=case_id,
                version=1,
                kind="denial",
                status="triaged",
                category="coding",
                payer_id=self.payer_id,
                payer_name="Payer",
                payer_type="commercial",
                claim_id=claim_id,
                service_date_from=NOW.date() - timedelta(days=40),
                billed_amount=Decimal(amount),
                paid_amount=Decimal(0),
                denied_amount=Decimal(amount),
                recovered_amount=Decimal(0),
                next_deadline=deadline,
                priority=priority,
                created_at=created,
                updated_at=created,
                state={},
            )
        )
        self.session.commit()
        return case_id

    def page(self, **filters: Any) -> Page[CaseSummary]:
        return self.cases.list_cases(CaseFilters(payer_id=self.payer_id, **filters), self.actor)


@pytest_asyncio.fixture
async def desk(engine: Engine, rulebook: Rulebook) -> AsyncIterator[Desk]:
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)  # never called
    with Session(engine, expire_on_commit=False) as session:
        audit = AuditService(session)
        cases = CaseService(session, client, rulebook, CasePolicy(), "cases", audit)
        actor = Actor(user_id="sam", role=Role.SUPERVISOR)
        yield Desk(session, cases, actor, f"PYR-{uuid.uuid4().hex[:10]}")


def tied_cases(desk: Desk) -> None:
    """23 cases whose sort values repeat (three priorities, deadlines with some missing,
    four amounts, two instants), so that whole pages are ties broken by the case id."""
    for n in range(23):
        desk.add(
            priority=float(n % 3) * 12.5,
            deadline=None if n % 4 == 0 else NOW.date() + timedelta(days=n % 5),
            amount=f"{100 + 50 * (n % 4)}.25",
            created=NOW - timedelta(hours=n % 2),
        )


def expected_order(desk: Desk, sort: CaseSort, descending: bool) -> list[str]:
    """The list's order worked out here: the sort key, then the case id, the same way; cases
    with no deadline last either way."""
    rows = desk.page(limit=500).items
    key = SORT_KEYS[sort]
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: (getattr(r, key), r.case_id), reverse=descending)
    missing.sort(key=lambda r: r.case_id, reverse=descending)
    return [r.case_id for r in present + missing]


def walk(
    desk: Desk, cursor: str | None = None, **filters: Any
) -> tuple[list[list[str]], Page[CaseSummary]]:
    """Every page by next_cursor from the first (or the cursor's); their ids, the last page."""
    pages = []
    page = desk.page(cursor=cursor, **filters)
    pages.append([c.case_id for c in page.items])
    while page.next_cursor is not None:
        page = desk.page(cursor=page.next_cursor, **filters)
        pages.append([c.case_id for c in page.items])
        assert len(pages) < 50, "the cursors go round in circles"
    return pages, page


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("sort", list(CaseSort))
def test_every_case_once_across_the_pages_and_back(
    desk: Desk, sort: CaseSort, descending: bool
) -> None:
    tied_cases(desk)
    order = dict(sort=sort, descending=descending, limit=5)
    pages, last = walk(desk, **order)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert list(itertools.chain.from_iterable(pages)) == expected_order(desk, sort, descending)
    assert last.total == 23 and not last.total_capped
    assert desk.page(**order).prev_cursor is None  # the first page has none before it
    back = []
    page = last
    while page.prev_cursor is not None:
        page = desk.page(cursor=page.prev_cursor, **order)
        back.append([c.case_id for c in page.items])
    assert back == pages[-2::-1]  # Previous shows the same pages, in the same order


def test_cases_changing_between_pages_are_not_shown_twice_nor_skipped(desk: Desk) -> None:
    """Between two requests a case is added ahead of the page shown and one behind it, one
    not yet seen closes its way out of the list, and one not yet seen jumps ahead: the next
    pages show every case that stayed where it was exactly once, and none twice."""
    tied_cases(desk)
    order = dict(sort=CaseSort.PRIORITY, descending=True, limit=5)
    first = desk.page(**order)
    seen = [c.case_id for c in first.items]
    rest = expected_order(desk, CaseSort.PRIORITY, True)[5:]
    desk.add(priority=99.0, deadline=None, amount="10.00", created=NOW)  # ahead: not shown
    behind = desk.add(priority=-1.0, deadline=None, amount="10.00", created=NOW)
    gone, jumper = rest[3], rest[7]
    desk.session.delete(desk.session.get(CaseRow, gone))
    desk.session.get(CaseRow, jumper).priority = 1000.0  # type: ignore[union-attr]
    desk.session.commit()
    pages, _ = walk(desk, cursor=first.next_cursor, **order)
    later = list(itertools.chain.from_iterable(pages))
    assert len(later) == len(set(later)) and not set(later) & set(seen)
    assert later == [case for case in rest if case not in (gone, jumper)] + [behind]


def test_a_page_by_offset_still_works_and_offers_cursors(desk: Desk) -> None:
    tied_cases(desk)
    order = dict(sort=CaseSort.AMOUNT, descending=False, limit=5)
    everything = expected_order(desk, CaseSort.AMOUNT, False)
    by_offset = desk.page(offset=10, **order)
    assert [c.case_id for c in by_offset.items] == everything[10:15]
    after = desk.page(cursor=by_offset.next_cursor, **order)
    assert [c.case_id for c in after.items] == everything[15:20]
    before = desk.page(cursor=by_offset.prev_cursor, **order)
    assert [c.case_id for c in before.items] == everything[5:10]


def test_the_cursor_carries_sort_values_and_the_case_id_only(desk: Desk) -> None:
    """It is in the page's URL: no claim number, patient or member id."""
    for n in range(3):
        desk.add(10.0 * n, None, "125.50", NOW, claim_id=f"PCN-SECRET-{n}")
    for sort in CaseSort:
        page = desk.page(sort=sort, limit=1)
        cursor = page.next_cursor
        assert cursor is not None
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        assert set(body) == {"s", "d", "k", "i", "b"}
        assert body["i"] == page.items[0].case_id
        assert "SECRET" not in json.dumps(body)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b'{"s":"priority"}').decode(),
        base64.urlsafe_b64encode(
            b'{"s":"priority","d":true,"k":["drop table"],"i":"case-1","b":false}'
        ).decode(),
        base64.urlsafe_b64encode(
            b'{"s":"deadline","d":true,"k":["2026-13-40"],"i":"case-1","b":false}'
        ).decode(),
        base64.urlsafe_b64encode(b'{"s":"size","d":true,"k":[1],"i":"case-1","b":false}').decode(),
        "x" * 400,
        # What a database would refuse rather than compare: out of range, not a number, a NUL.
        base64.urlsafe_b64encode(
            b'{"s":"amount","d":true,"k":["1e999"],"i":"case-1","b":false}'
        ).decode(),
        base64.urlsafe_b64encode(
            b'{"s":"priority","d":true,"k":[NaN],"i":"case-1","b":false}'
        ).decode(),
        base64.urlsafe_b64encode(
            b'{"s":"priority","d":true,"k":[1],"i":"case-\\u0000","b":false}'
        ).decode(),
    ],
)
def test_a_damaged_cursor_is_refused_in_words(cursor: str) -> None:
    with pytest.raises(ValidationError, match="page link is damaged or out of date"):
        CaseFilters(cursor=cursor)


def test_a_cursor_of_another_sort_or_with_an_offset_is_refused(desk: Desk) -> None:
    tied_cases(desk)
    cursor = desk.page(sort=CaseSort.AMOUNT, limit=5).next_cursor
    with pytest.raises(ValidationError, match="made for another sort"):
        CaseFilters(cursor=cursor, sort=CaseSort.AGE)
    with pytest.raises(ValidationError, match="made for another sort"):
        CaseFilters(cursor=cursor, sort=CaseSort.AMOUNT, descending=False)
    with pytest.raises(ValidationError, match="either a cursor or an offset"):
        CaseFilters(cursor=cursor, sort=CaseSort.AMOUNT, offset=5)
    with pytest.raises(ValidationError, match="less than or equal to 10000"):
        CaseFilters(offset=10_001)


def test_the_count_stops_at_its_bound(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    tied_cases(desk)
    monkeypatch.setattr(case_list, "COUNT_BOUND", 20)
    page = desk.page(limit=5)
    assert (page.total, page.total_capped) == (20, True)
    monkeypatch.setattr(case_list, "COUNT_BOUND", 23)
    page = desk.page(limit=5)
    assert (page.total, page.total_capped) == (23, False)
