"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (schemathesis 4).

Every operation of the schema gets generated requests (valid ones, ones aimed at a real case
and task, and invalid ones), signed in as the supervisor sam and, in a second pass, as the
admin ada. The app runs in-process on the harness's worker and read model; no answer may be
a server error, and each must match the schema: a documented status (or one of the API's
error statuses 401/403/404/409), a documented content type, and a body valid against the
documented response schema.

Hypothesis is derandomised and bounded (FUZZ_EXAMPLES per operation), so CI sees the same
requests on every run.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import AsyncIterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from app.http import create_app
from app.settings import Settings
from domain.rulebook import Rulebook
from services.schemas import MAX_CASE_OFFSET, MAX_OFFSET
from testkit.records import make_record
from tests.api.conftest import Api, as_user
from tests.harness import CaseHarness

FUZZ_EXAMPLES = 15
REQUEST_TIMEOUT = 30.0
BASE_URL = "http://test"
# Logging out would end the fuzzing user's own session: every later request would be a 401.
SKIPPED = {("POST", "/api/v1/auth/logout")}
# Any route may answer these (services/errors.py, app/deps.py), documented or not; 400 is
# FastAPI's answer to a body it cannot decode at all.
ERROR_STATUSES = {400, 401, 403, 404, 409}


def documented_status(ctx: CheckContext, response: Response, case: Case) -> None:
    """The status is one the operation documents, or one of the API's error statuses."""
    documented = {int(code) for code in case.operation.responses.status_codes if code.isdigit()}
    allowed = documented | ERROR_STATUSES
    assert response.status_code in allowed, (
        f"{case.operation.label} answered {response.status_code}; "
        f"documented {sorted(documented)} (+ error statuses {sorted(ERROR_STATUSES)})"
    )


CHECKS = [
    not_a_server_error,
    documented_status,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Fuzzer:
    """Sends schemathesis cases to the app through httpx on the test's event loop, from the
    thread Hypothesis runs in (the loop stays free to run the Temporal worker meanwhile)."""

    http: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    authorization: str
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def send(self, case: Case) -> httpx.Response | None:
        """The app's answer, or None (failure recorded) when it raised or never answered."""
        kwargs = case.as_transport_kwargs(base_url=BASE_URL)
        kwargs.pop("auth", None)
        generated = kwargs.pop("headers", None) or {}
        headers = {str(k): str(v) for k, v in generated.items() if k.lower() != "authorization"}
        headers["Authorization"] = self.authorization
        prepared = requests.Request(headers=headers, **kwargs).prepare()
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        shown = {k: v for k, v in prepared.headers.items() if k != "Authorization"}
        described = (
            f"{prepared.method} {prepared.url}\nheaders={shown!r}\nbody={(body or b'')[:2000]!r}"
        )
        request = self.http.request(
            prepared.method or "GET",
            prepared.url or BASE_URL,
            headers=dict(prepared.headers),
            content=body,
        )
        future = asyncio.run_coroutine_threadsafe(request, self.loop)
        try:
            response = future.result(timeout=REQUEST_TIMEOUT)
        except FutureTimeout:
            future.cancel()
            self.record(case, "no answer", f"no answer within {REQUEST_TIMEOUT}s to {described}")
            return None
        except Exception as exc:  # an exception the app did not handle: a 500
            trace = "".join(traceback.format_exception(exc))[-4000:]  # the app's own frames
            self.record(case, "unhandled exception (500)", f"{described}\n...{trace}")
            return None
        self.sent += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response

    def record(self, case: Case, kind: str, report: str) -> None:
        """Keep the first example of each kind of failure per operation."""
        self.failures.setdefault((case.operation.label, kind), report[:7000])

    def run(self, strategy: st.SearchStrategy[Case]) -> None:
        """Fuzz one operation, recording failures without stopping at the first."""

        @settings(
            max_examples=FUZZ_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def fuzz(case: Case) -> None:
            response = self.send(case)
            if response is None:
                return
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                for failure in group.exceptions:
                    self.record(case, failure.title, f"{failure.title}\n{group.args[0]}")

        fuzz()


def strategies(operation: Any, known: dict[str, str]) -> st.SearchStrategy[Case]:
    """Valid requests, valid requests aimed at the seeded case/task, and invalid requests."""
    options = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    aimed = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}
    if aimed:
        options.append(operation.as_strategy(path_parameters=aimed))
    inputs = (operation.path_parameters, operation.query, operation.headers, operation.body)
    if any(len(part) for part in inputs):  # else there is nothing to make invalid
        options.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return st.one_of(options)


@pytest.fixture
async def raw_http(
    api: Api, harness: CaseHarness, tmp_path: Path, rulebook: Rulebook
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """A second app on the same worker and read model (tokens from `api` are valid for it)
    whose unhandled exceptions reach the test with their traceback, and its schema."""
    settings_ = Settings(task_queue=harness.task_queue, data_dir=tmp_path)
    app = create_app(settings_, engine=harness.engine, client=harness.client, rulebook=rulebook)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http, app.openapi()


@pytest.mark.parametrize("user", ["sam", "ada"])
async def test_fuzz_openapi_schema(
    user: str,
    api: Api,
    harness: CaseHarness,
    raw_http: tuple[httpx.AsyncClient, dict[str, Any]],
) -> None:
    """No generated request makes the API fail (5xx or an unhandled exception), and every
    answer conforms to the OpenAPI schema (status, content type, headers, body)."""
    http, openapi = raw_http
    case_id, detail = await api.opened_triaged(make_record(await harness.today(), billed=900))
    task_id = api.open_task(detail, "confirm_triage")["task_id"]
    # Admins may not touch cases: aiming at a real one would only repeat the 403.
    known = {"case_id": case_id, "task_id": task_id} if user == "sam" else {}

    schema = schemathesis.openapi.from_dict(openapi)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40, [op.label for op in operations]
    fuzzer = Fuzzer(http, asyncio.get_running_loop(), as_user(user)["Authorization"])

    def fuzz_all() -> None:
        for operation in operations:
            if (operation.method.upper(), operation.path) not in SKIPPED:
                fuzzer.run(strategies(operation, known))

    await asyncio.to_thread(fuzz_all)
    assert fuzzer.sent >= 10 * len(operations), fuzzer.statuses
    report = "\n\n".join(
        f"== {op} -- {kind}\n{text}" for (op, kind), text in fuzzer.failures.items()
    )
    assert not fuzzer.failures, f"{len(fuzzer.failures)} failure(s) as {user}:\n\n{report}"


PAGED = [
    "/api/v1/cases",
    "/api/v1/tasks",
    "/api/v1/tasks/mine",
    "/api/v1/tasks/queue",
    "/api/v1/audit",
    "/api/v1/cases/any-case/audit",
    "/api/v1/ingest",
    "/api/v1/prevention",
]


async def test_offsets_beyond_the_database_range_are_not_server_errors(
    api: Api, raw_http: tuple[httpx.AsyncClient, dict[str, Any]]
) -> None:
    """Found by the fuzzer: an offset past 2**63 - 1 (the databases' integer range) gave a 500.
    Every paged list now refuses offsets above its bound with a 422 naming the offset, and
    answers the bound itself with an empty page (the case list's is MAX_CASE_OFFSET: deeper,
    it pages by cursor)."""
    http, _ = raw_http
    outcomes: dict[str, object] = {}
    for url in PAGED:
        try:
            response = await http.get(url, params={"offset": 2**63}, headers=as_user("sam"))
            outcomes[url] = (response.status_code, "offset" in response.text)
        except Exception as exc:  # unhandled in the app: a 500
            outcomes[url] = f"500 ({type(exc).__name__}: {exc})"
    assert outcomes == dict.fromkeys(PAGED, (422, True))
    for url, bound in (("/api/v1/cases", MAX_CASE_OFFSET), ("/api/v1/tasks", MAX_OFFSET)):
        deepest = await http.get(url, params={"offset": bound}, headers=as_user("sam"))
        assert (deepest.status_code, deepest.json()["items"]) == (200, []), url
        beyond = await http.get(url, params={"offset": bound + 1}, headers=as_user("sam"))
        assert beyond.status_code == 422, url
