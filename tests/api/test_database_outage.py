"""A read-model database that cannot be reached answers 503 with a clear message, on the API,
the pages, sign-in and /metrics (issue 14, item 4), never a bare 500."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.http import create_app, unreachable
from app.settings import Settings
from db.engine import make_engine
from domain.rulebook import Rulebook
from services.errors import Unavailable
from tests.harness import ALICE, CaseHarness
from tests.ingest_helpers import two_denials_835
from tests.login_form import post_login

BEARER = {"Authorization": "Bearer any-token"}  # checking it needs the database
NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"


@pytest.fixture
async def down(
    harness: CaseHarness, tmp_path: Path, rulebook: Rulebook
) -> AsyncIterator[httpx.AsyncClient]:
    engine = make_engine(NOWHERE)
    settings = Settings(task_queue=harness.task_queue, data_dir=tmp_path)
    app = create_app(settings, engine=engine, client=harness.client, rulebook=rulebook)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    engine.dispose()


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/v1/cases", {"headers": BEARER}),
        ("GET", "/api/v1/tasks", {"headers": BEARER}),
        ("POST", "/api/v1/auth/token", {"data": {"username": "alice", "password": "demo"}}),
        ("GET", "/metrics", {}),
    ],
)
async def test_the_api_answers_503_with_what_to_do(
    down: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, object]
) -> None:
    response = await down.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 503, (path, response.status_code, response.text)
    assert "case database cannot be reached" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"


async def test_sign_in_page_answers_503_in_words(down: httpx.AsyncClient) -> None:
    response = await post_login(down, {"username": "alice", "password": "demo"})
    assert response.status_code == 503
    assert "case database cannot be reached" in response.text


async def test_an_ingest_cut_short_by_the_database_says_what_it_did(
    harness: CaseHarness, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away after the cases started: the answer says how many started and
    to ingest again, instead of a bare 500."""
    raw = two_denials_835(await harness.today())
    with Session(harness.engine, expire_on_commit=False) as session:
        service = harness.ingest_service(session, rulebook)
        commit, execute = session.commit, session.exec
        reporting = False

        def watching_exec(statement: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal reporting
            text = str(statement)
            reporting = reporting or (
                text.startswith("UPDATE ingest_files") and "finished_at" in text
            )
            return execute(statement, *args, **kwargs)

        def failing_commit() -> None:  # down by the time the file's report is written
            if reporting:
                raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
            commit()

        monkeypatch.setattr(session, "exec", watching_exec)
        monkeypatch.setattr(session, "commit", failing_commit)
        with pytest.raises(Unavailable, match="2 cases started") as info:
            await service.ingest("two.835", raw, ALICE)
    assert "ingest the file again" in info.value.message


def test_only_a_database_out_of_reach_is_a_503() -> None:
    """A missing table or a deadlock is a bug or a conflict, not an outage: it stays a 500
    (and is logged), so an unmigrated database is not reported as unreachable."""

    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__("server said no")
            self.sqlstate = sqlstate

    def error(orig: Exception, invalidated: bool = False) -> OperationalError:
        return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)

    assert unreachable(error(PgError("08006")))  # connection failure
    assert unreachable(error(PgError("57P01")))  # the server is shutting down
    assert unreachable(error(sqlite3.OperationalError("unable to open database file")))
    assert unreachable(error(PgError("40P01"), invalidated=True))
    assert not unreachable(error(sqlite3.OperationalError("no such table: cases")))
    assert not unreachable(error(PgError("40P01")))  # a deadlock
    assert not unreachable(error(PgError("57014")))  # a statement timeout
