"""The case list's and My tasks' Previous and Next links page by cursor, keep the search, and
show each case or task once; a damaged page link says so in words, on the pages and in the
API (422). On SQLite and PostgreSQL, in-process."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest_asyncio
import temporalio.client
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.deps import SESSION_COOKIE
from app.http import create_app
from app.settings import Settings
from db.models import CaseRow, TaskRow
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind
from services.users import UserService

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
LINK = re.compile(r'<a href="([^"]+)" rel="(next|prev)">')
CLAIM = re.compile(r'<a href="/cases/case-[0-9a-f]+">([^<]+)</a>')
TASK = re.compile(r"task=(case-[0-9a-f]+-t1)")


@pytest_asyncio.fixture
async def site(
    engine: Engine, rulebook: Rulebook, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, signed in as the supervisor sam by the web session cookie."""
    with Session(engine, expire_on_commit=False) as session:
        users = UserService(session)
        users.ensure_demo_users()
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        token, _ = auth.open_session(users.get("sam"), SessionKind.COOKIE)
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)  # never called
    app = create_app(
        Settings(task_queue="pages", data_dir=tmp_path),
        engine=engine,
        client=client,
        rulebook=rulebook,
        resume_ingests=False,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        http.cookies.set(SESSION_COOKIE, token)
        yield http


def add_cases(engine: Engine, payer_id: str, count: int) -> list[str]:
    """Cases of one payer, every other one at the same priority; their claim numbers by
    priority then case id, highest first (the list's default order)."""
    rows = []
    with Session(engine) as session:
        for n in range(count):
            case_id = f"case-{uuid.uuid4().hex[:24]}"
            priority = float(n // 2)
            rows.append((priority, case_id, f"PCN-{payer_id[-6:]}-{n:02d}"))
            session.add(
                CaseRow(
                    case_id=case_id,
                    version=1,
                    kind="denial",
                    status="triaged",
                    category="coding",
                    payer_id=payer_id,
                    payer_name="Payer",
                    payer_type="commercial",
                    claim_id=rows[-1][2],
                    service_date_from=NOW.date() - timedelta(days=40),
                    billed_amount=Decimal(500),
                    paid_amount=Decimal(0),
                    denied_amount=Decimal(500),
                    recovered_amount=Decimal(0),
                    priority=priority,
                    created_at=NOW,
                    updated_at=NOW,
                    state={},
                )
            )
        session.commit()
    return [claim for *_, claim in sorted(rows, reverse=True)]


def shown(page: httpx.Response, found: re.Pattern[str] = CLAIM) -> tuple[list[str], dict[str, str]]:
    assert page.status_code == 200, page.text
    links = {rel: html.unescape(href) for href, rel in LINK.findall(page.text)}
    return list(dict.fromkeys(found.findall(page.text))), links


async def test_next_and_previous_links_walk_the_list_once_each_way(
    site: httpx.AsyncClient, engine: Engine
) -> None:
    payer_id = f"PYR-{uuid.uuid4().hex[:8]}"
    claims = add_cases(engine, payer_id, 7)
    first = await site.get("/cases", params={"payer_id": payer_id, "limit": 3})
    seen, links = shown(first)
    assert "prev" not in links and "(7)" in first.text
    pages = [seen]
    while "next" in links:
        assert f"payer_id={payer_id}" in links["next"] and "limit=3" in links["next"]
        seen, links = shown(await site.get(links["next"]))
        pages.append(seen)
    assert [claim for page in pages for claim in page] == claims
    assert [len(page) for page in pages] == [3, 3, 1]
    back = []
    while "prev" in links:
        seen, links = shown(await site.get(links["prev"]))
        back.append(seen)
    assert back == pages[-2::-1]


async def test_a_damaged_page_link_says_so(site: httpx.AsyncClient) -> None:
    page = await site.get("/cases", params={"cursor": "not-a-page-link"})
    assert page.status_code == 422
    assert "page link is damaged or out of date" in page.text
    for path in ("/api/v1/cases", "/api/v1/tasks/mine", "/api/v1/tasks/queue", "/tasks"):
        refused = await site.get(path, params={"cursor": "eyJzIjoicmlzayJ9"})
        assert refused.status_code == 422, path
        assert "page link is damaged or out of date" in refused.text, path


async def test_my_tasks_page_on_by_cursor(site: httpx.AsyncClient, engine: Engine) -> None:
    """60 open tasks of sam's more (pages of 50): Next walks them all once each, Previous
    comes back to the first page."""
    payer_id = f"PYR-{uuid.uuid4().hex[:8]}"
    add_cases(engine, payer_id, 60)
    with Session(engine) as session:
        cases = session.exec(select(CaseRow).where(CaseRow.payer_id == payer_id)).all()
        case_ids = [case.case_id for case in cases]
        for case in cases:
            session.add(
                TaskRow(
                    task_id=f"{case.case_id}-t1",
                    case_id=case.case_id,
                    case_version=1,
                    type="confirm_triage",
                    status="open",
                    queue="biller",
                    assignee="sam",
                    priority=case.priority,
                    created_at=NOW,
                    due_at=NOW + timedelta(days=30),
                    last_touched_at=NOW,
                )
            )
        session.commit()
    mine = {f"{case_id}-t1" for case_id in case_ids}
    first, links = shown(await site.get("/tasks"), TASK)
    assert len(first) == 50 and "prev" not in links
    pages = [first]
    while "next" in links:
        seen, links = shown(await site.get(links["next"]), TASK)
        pages.append(seen)
    every = [task for page in pages for task in page]
    assert len(every) == len(set(every)) and mine <= set(every)
    _, links = shown(await site.get("/tasks"), TASK)
    second, links = shown(await site.get(links["next"]), TASK)
    again, _ = shown(await site.get(links["prev"]), TASK)
    assert (second, again) == (pages[1], first)
    for path, heading in (("/queue?show=all", "Team queue"), ("/supervisor", "Escalated")):
        other = await site.get(path)  # the pages showing bounded counts
        assert other.status_code == 200 and heading in other.text
