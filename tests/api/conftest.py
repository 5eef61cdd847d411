"""Fixtures for the HTTP API tests: the FastAPI app on the harness's worker and read model,
driven in-process through httpx, with the demo users seeded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.http import create_app
from app.settings import Settings
from domain.models import DenialRecord
from domain.rulebook import Rulebook
from services.auth import AuthService, SessionKind
from services.users import DEMO_USERS, UserService
from testkit.records import make_record
from tests.harness import CaseHarness

Json = dict[str, Any]


_TOKENS: dict[str, str] = {}  # user id -> bearer token of the running test's app


class _SignedInHeaders(Mapping[str, str]):
    """The Authorization header of a demo user, read when a request is sent (so module-level
    constants like ALICE work although each test's app issues new tokens)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id

    def __getitem__(self, key: str) -> str:
        if key != "Authorization":
            raise KeyError(key)
        return f"Bearer {_TOKENS[self.user_id]}"

    def __iter__(self) -> Iterator[str]:
        return iter(("Authorization",))

    def __len__(self) -> int:
        return 1


def problem(response: httpx.Response) -> str:
    """A 422 answer's messages as "field: message" (or just the message for the whole body),
    joined by "; ", after checking the answer has FastAPI's validation-error shape."""
    assert response.status_code == 422, response.text
    described = []
    for error in response.json()["detail"]:
        field = ".".join(str(part) for part in error["loc"][1:])
        described.append(f"{field}: {error['msg']}" if field else error["msg"])
    return "; ".join(described)


def as_user(user_id: str) -> Mapping[str, str]:
    """Headers signing the request in as a demo user (alice, bob, sam or ada)."""
    return _SignedInHeaders(user_id)


class Api:
    """The app under test, plus helpers to open cases and wait for the read model."""

    def __init__(self, http: httpx.AsyncClient, harness: CaseHarness) -> None:
        self.http = http
        self.harness = harness

    async def open_case(self, record: DenialRecord, user: str = "alice") -> str:
        response = await self.http.post(
            "/api/v1/cases", json=record.model_dump(mode="json"), headers=as_user(user)
        )
        assert response.status_code == 201, response.text
        case_id: str = response.json()["case_id"]
        return case_id

    async def detail(self, case_id: str, user: str = "alice") -> Json:
        response = await self.http.get(f"/api/v1/cases/{case_id}", headers=as_user(user))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def wait_status(self, case_id: str, status: str, timeout: float = 15.0) -> Json:
        """Poll GET /api/v1/cases/{id} until the read model shows `status` (real time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Json | str = "no row yet"
        while True:
            response = await self.http.get(f"/api/v1/cases/{case_id}", headers=as_user("alice"))
            if response.status_code == 200:
                last = response.json()
                if last["summary"]["status"] == status:
                    return last
            elif response.status_code != 404:
                raise AssertionError(f"GET case answered {response.status_code}: {response.text}")
            if loop.time() > deadline:
                shown = last["summary"]["status"] if isinstance(last, dict) else last
                raise AssertionError(f"timed out waiting for {status}; case is {shown}")
            await asyncio.sleep(0.05)

    async def opened_triaged(self, record: DenialRecord) -> tuple[str, Json]:
        case_id = await self.open_case(record)
        return case_id, await self.wait_status(case_id, "triaged")

    async def alice_owns_root_cause_task(self) -> tuple[str, str]:
        """A case whose open confirm_root_cause task is assigned to alice (she owns the case):
        (case id, task id)."""
        case_id, detail = await self.opened_triaged(make_record(await self.harness.today()))
        triage = self.open_task(detail, "confirm_triage")["task_id"]
        done = await self.http.post(
            f"/api/v1/tasks/{triage}/complete",
            json={"payload": {"type": "confirm_triage"}},
            headers=as_user("alice"),
        )
        assert done.status_code == 200, done.text
        task = self.open_task(await self.detail(case_id), "confirm_root_cause")
        assert task["assignee"] == "alice"
        return case_id, task["task_id"]

    @staticmethod
    def open_task(detail: Json, task_type: str) -> Json:
        matches = [t for t in detail["tasks"] if t["type"] == task_type and t["status"] == "open"]
        shown = [(t["type"], t["status"]) for t in detail["tasks"]]
        assert len(matches) == 1, f"tasks: {shown}"
        return matches[0]

    async def to_corrected_claim_task(self, case_id: str, detail: Json) -> str:
        """Alice confirms a triaged case down the corrected-claim path: its prepare task."""
        for task_type, payload in (
            ("confirm_triage", {"type": "confirm_triage", "path": "corrected_claim"}),
            ("confirm_root_cause", {"type": "confirm_root_cause"}),
        ):
            task_id = self.open_task(detail, task_type)["task_id"]
            done = await self.http.post(
                f"/api/v1/tasks/{task_id}/complete",
                json={"payload": payload},
                headers=as_user("alice"),
            )
            assert done.status_code == 200, done.text
            detail = await self.detail(case_id)
        return str(self.open_task(detail, "prepare_corrected_claim")["task_id"])


@pytest.fixture
async def api(harness: CaseHarness, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Api]:
    """The app on the harness (worker on harness.task_queue, SQLite read model)."""
    settings = Settings(task_queue=harness.task_queue, data_dir=tmp_path)
    with Session(harness.engine, expire_on_commit=False) as session:
        users = UserService(session)
        users.ensure_demo_users()
        auth = AuthService(session, idle=timedelta(hours=1), lifetime=timedelta(hours=1))
        for user_id, *_ in DEMO_USERS:
            _TOKENS[user_id], _ = auth.open_session(users.get(user_id), SessionKind.BEARER)
    app = create_app(settings, engine=harness.engine, client=harness.client, rulebook=rulebook)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Api(http, harness)
